/*!
History import: the cases of a region's existing platform (the seed's third archetype — a region
that upgrades its platform instead of starting over) loaded as closed or open cases, so that
analytics and early warning have their past from day one.

Rows are checked first, all of them: an unknown category or grid code, a bad time, a closed row
without `closed_at` … each is reported with its line and field, and **nothing is written** while
any row is wrong. Then every row is written in **one transaction**. A row whose `external_id` is
already a case's is skipped, so re-running an import changes nothing.

Columns (`docs/import.md`): `received_at` (RFC 3339; required), `channel` (phone, web, grid, sms,
open311; default phone), `category` (a category code), `grid_code` or `lat`+`lon` or `address`
(located like any request), `content` (required), `external_id` (required: the id in the old
platform), `status` (`closed` or `open`; default closed), `closed_at` (RFC 3339; required when
closed), `satisfaction` (satisfied / mostly_satisfied / unsatisfied, or 满意 / 基本满意 / 不满意).
*/

use chrono::DateTime;
use serde::Serialize;

use super::intake::MAX_CONTENT_CHARS;
use super::region::RegionIndex;
use crate::model::{Channel, LatLon, Satisfaction};
use crate::store::imports::ImportedCase;
use crate::store::{Store, StoreError};

/// One row as read from the file (strings as given; `line` is the file's line number).
#[derive(Debug, Clone, Default)]
pub struct ImportRow {
    pub line: usize,
    pub received_at: Option<String>,
    pub channel: Option<String>,
    pub category: Option<String>,
    pub grid_code: Option<String>,
    pub lat: Option<String>,
    pub lon: Option<String>,
    pub address: Option<String>,
    pub content: Option<String>,
    pub external_id: Option<String>,
    pub status: Option<String>,
    pub closed_at: Option<String>,
    pub satisfaction: Option<String>,
}

/// A problem with one row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RowError {
    pub line: usize,
    pub field: &'static str,
    pub message: String,
}

/// What an import did (or would do, on a dry run).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ImportReport {
    pub rows: usize,
    /// Written (0 on a dry run).
    pub imported: usize,
    /// Already imported (same external id).
    pub skipped: usize,
    pub closed: usize,
    pub open: usize,
    /// Rows no place could be found for (routed region-wide).
    pub unlocated: usize,
    pub dry_run: bool,
}

/// Checks every row; the cases to write, or every problem found.
pub fn check(region: &RegionIndex, rows: &[ImportRow]) -> Result<Vec<ImportedCase>, Vec<RowError>> {
    let mut out = Vec::with_capacity(rows.len());
    let mut errors = Vec::new();
    let mut seen = std::collections::HashMap::new();
    for r in rows {
        let mut err = |field: &'static str, message: String| {
            errors.push(RowError {
                line: r.line,
                field,
                message,
            })
        };
        let text = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let received = match text(&r.received_at) {
            None => {
                err(
                    "received_at",
                    "required (RFC 3339, e.g. 2024-03-15T09:30:00+08:00)".into(),
                );
                None
            }
            Some(s) => match DateTime::parse_from_rfc3339(&s) {
                Ok(t) => Some(t.timestamp_millis()),
                Err(_) => {
                    err(
                        "received_at",
                        format!("`{s}` is not RFC 3339 (e.g. 2024-03-15T09:30:00+08:00)"),
                    );
                    None
                }
            },
        };
        let channel = match text(&r.channel).as_deref() {
            None => Some(Channel::Phone),
            Some(c) => match Channel::parse(c) {
                Some(ch) => Some(ch),
                None => {
                    err(
                        "channel",
                        format!("unknown channel `{c}` (phone, web, grid, sms, open311)"),
                    );
                    None
                }
            },
        };
        let category = match text(&r.category) {
            None => None,
            Some(c) if region.category(&c).is_some() => Some(c),
            Some(c) => {
                err(
                    "category",
                    format!("unknown category `{c}` (see `m110 plan` for the codes)"),
                );
                None
            }
        };
        let content = match text(&r.content) {
            None => {
                err("content", "required".into());
                None
            }
            Some(c) if c.chars().count() > MAX_CONTENT_CHARS => {
                err(
                    "content",
                    format!("longer than {MAX_CONTENT_CHARS} characters"),
                );
                None
            }
            Some(c) => Some(c),
        };
        let external_id = match text(&r.external_id) {
            None => {
                err(
                    "external_id",
                    "required: the request's id in the old platform (re-runs skip it)".into(),
                );
                None
            }
            Some(e) => {
                if let Some(first) = seen.insert(e.clone(), r.line) {
                    err("external_id", format!("`{e}` is also on line {first}"));
                }
                Some(e)
            }
        };
        let grid = text(&r.grid_code);
        if let Some(g) = &grid
            && !region.triage.has_grid(g)
        {
            err("grid_code", format!("unknown grid code `{g}`"));
        }
        let coord = |v: &Option<String>,
                     field: &'static str,
                     range: f64|
         -> Result<Option<f64>, RowError> {
            match text(v) {
                None => Ok(None),
                Some(s) => match s.parse::<f64>() {
                    Ok(x) if x.is_finite() && x.abs() <= range => Ok(Some(x)),
                    _ => Err(RowError {
                        line: r.line,
                        field,
                        message: format!("`{s}` is not a coordinate"),
                    }),
                },
            }
        };
        let lat = coord(&r.lat, "lat", 90.0);
        let lon = coord(&r.lon, "lon", 180.0);
        let (lat, lon) = match (lat, lon) {
            (Ok(a), Ok(b)) => (a, b),
            (a, b) => {
                for e in [a.err(), b.err()].into_iter().flatten() {
                    errors.push(e);
                }
                (None, None)
            }
        };
        let status = text(&r.status).unwrap_or_else(|| "closed".into());
        let closed_at = match status.as_str() {
            "closed" => match text(&r.closed_at) {
                None => {
                    errors.push(RowError {
                        line: r.line,
                        field: "closed_at",
                        message: "required for a closed case (RFC 3339)".into(),
                    });
                    None
                }
                Some(s) => match DateTime::parse_from_rfc3339(&s) {
                    Ok(t) if received.is_none_or(|rc| t.timestamp_millis() >= rc) => {
                        Some(t.timestamp_millis())
                    }
                    Ok(_) => {
                        errors.push(RowError {
                            line: r.line,
                            field: "closed_at",
                            message: "before received_at".into(),
                        });
                        None
                    }
                    Err(_) => {
                        errors.push(RowError {
                            line: r.line,
                            field: "closed_at",
                            message: format!("`{s}` is not RFC 3339"),
                        });
                        None
                    }
                },
            },
            "open" => None,
            other => {
                errors.push(RowError {
                    line: r.line,
                    field: "status",
                    message: format!("`{other}` is neither closed nor open"),
                });
                None
            }
        };
        let satisfaction = match text(&r.satisfaction).as_deref() {
            None => None,
            Some("满意") => Some(Satisfaction::Satisfied),
            Some("基本满意") => Some(Satisfaction::MostlySatisfied),
            Some("不满意") => Some(Satisfaction::Unsatisfied),
            Some(s) => match Satisfaction::parse(s) {
                Some(v) => Some(v),
                None => {
                    errors.push(RowError {
                        line: r.line,
                        field: "satisfaction",
                        message: format!("`{s}` is not satisfied, mostly_satisfied or unsatisfied"),
                    });
                    None
                }
            },
        };
        let (Some(received), Some(channel), Some(content), Some(external_id)) =
            (received, channel, content, external_id)
        else {
            continue;
        };
        let point = match (lat, lon) {
            (Some(lat), Some(lon)) => Some(LatLon { lat, lon }),
            _ => None,
        };
        let address = text(&r.address);
        let located = region.triage.locate(
            grid.as_deref(),
            &[address.as_deref().unwrap_or(""), content.as_str()],
            point,
        );
        out.push(ImportedCase {
            line: r.line,
            received_at: received,
            channel: channel.as_str().to_string(),
            category,
            grid_code: located.grid().map(str::to_string),
            address,
            lat,
            lon,
            content,
            external_id,
            closed_at,
            satisfaction: satisfaction.map(|s| s.as_str().to_string()),
        });
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Checks and, unless `dry_run`, writes the rows in one transaction.
pub async fn import(
    store: &Store,
    region: &RegionIndex,
    rows: &[ImportRow],
    dry_run: bool,
) -> Result<Result<ImportReport, Vec<RowError>>, StoreError> {
    let cases = match check(region, rows) {
        Ok(c) => c,
        Err(e) => return Ok(Err(e)),
    };
    let mut report = ImportReport {
        rows: rows.len(),
        dry_run,
        closed: cases.iter().filter(|c| c.closed_at.is_some()).count(),
        unlocated: cases.iter().filter(|c| c.grid_code.is_none()).count(),
        ..ImportReport::default()
    };
    report.open = cases.len() - report.closed;
    if dry_run {
        report.skipped = store.existing_external_ids(&cases).await?;
        return Ok(Ok(report));
    }
    let (imported, skipped) = store.import_cases(&region.code, &cases).await?;
    report.imported = imported;
    report.skipped = skipped;
    Ok(Ok(report))
}
