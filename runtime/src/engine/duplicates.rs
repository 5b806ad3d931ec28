/*!
一事多诉 — one problem, many callers: the open cases a case may repeat. A case's text is compared
with the open cases received within `early_warning.window_hours` of it (the same street light
reported five ways is one problem), near in place (`engine::warning::dedup`: the same grid unit
or a parent and child, or 500 m), shown on the case page and by
`GET /api/v1/cases/{id}/similar` so the call-taker sees the earlier case while the caller is on
the line. Only cases the reader may see are listed; never a case merged into another, nor one
the center dismissed as another problem (the center's decisions are [`super::merge`]).
*/

use std::sync::LazyLock;

use jieba_rs::Jieba;
use serde::Serialize;

use super::actions::can_see;
use super::region::RegionIndex;
use super::warning::dedup::{self, Candidate, DedupParams};
use crate::model::Principal;
use crate::store::cases::CaseRow;
use crate::store::{Store, StoreError};

/// Most candidates one check compares (the newest in the window).
const MAX_CANDIDATES: i64 = 500;

/// The segmenter, built once (loading its dictionary takes a moment).
static JIEBA: LazyLock<Jieba> = LazyLock::new(Jieba::new);

/// An open case the case may repeat.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Similar {
    pub id: String,
    pub similarity: f64,
    pub status: String,
    pub category: Option<String>,
    pub grid_code: Option<String>,
    pub created_at: i64,
}

/// The open cases `row` may repeat, most similar first, as `principal` may see them.
pub async fn similar(
    store: &Store,
    region: &RegionIndex,
    principal: &Principal,
    row: &CaseRow,
) -> Result<Vec<Similar>, StoreError> {
    // Settled: a case merged into another repeats nothing more (see `super::merge`).
    if store.merged_into(row.id).await?.is_some() {
        return Ok(Vec::new());
    }
    let window_ms = i64::from(region.early_warning.window_hours) * 3_600_000;
    let near = store
        .open_cases_between(
            row.id,
            row.created_at - window_ms,
            row.created_at + window_ms,
            MAX_CANDIDATES,
        )
        .await?;
    if near.is_empty() {
        return Ok(Vec::new());
    }
    let candidate = |id: i64,
                     text: &str,
                     at: i64,
                     latlon: Option<(f64, f64)>,
                     grid: Option<&str>,
                     cat: Option<&String>| Candidate {
        id,
        fingerprint: dedup::fingerprint(&JIEBA, text),
        at_ms: at,
        latlon,
        grid_path: grid.map(|g| region.lineage(g)).unwrap_or_default(),
        category: cat.cloned(),
    };
    let this = candidate(
        row.id,
        &row.content,
        row.created_at,
        row.lat.zip(row.lon),
        row.grid_code.as_deref(),
        row.category_code.as_ref(),
    );
    let others: Vec<Candidate> = near
        .iter()
        .map(|c| {
            candidate(
                c.id,
                &c.content,
                c.created_at,
                c.lat.zip(c.lon),
                c.grid_code.as_deref(),
                c.category_code.as_ref(),
            )
        })
        .collect();
    let params = DedupParams {
        window_hours: f64::from(region.early_warning.window_hours),
        ..DedupParams::default()
    };
    let mut out = Vec::new();
    for (id, similarity) in dedup::suggestions(&this, &others, &params) {
        let Some(c) = near.iter().find(|c| c.id == id) else {
            continue;
        };
        // Scope: a reader who may not see the other case does not learn it exists.
        let Ok(other) = store.case_by_public_id(&c.public_id).await else {
            continue;
        };
        if !can_see(principal, region, &other) {
            continue;
        }
        out.push(Similar {
            id: c.public_id.clone(),
            similarity: (similarity * 100.0).round() / 100.0,
            status: c.status.clone(),
            category: c.category_code.clone(),
            grid_code: c.grid_code.clone(),
            created_at: c.created_at,
        });
    }
    Ok(out)
}
