/*!
Analytics rollups, maintained at write time: every figure of the analytics pages, the monthly
report and the KPI document is a sum over the `rollups` table, so its cost follows the number of
distinct (day, hour, category, grid unit, unit, channel, caller profile) combinations in the
period, not the number of cases.

How they stay right: a case's contribution (its *facts*: `received` on the day it came in,
`dispatched` to a unit, `signed` and `sign_late`, `replied` and `reply_late`, `returned`,
`closed`, `followed_up` with `satisfied` / `unsatisfied`, `redone`, `reopened`, `answered`,
`solved_on_spot` (a grid worker's report settled on the spot),
`transferred`, `urged`, and the `sign_time` / `close_time` duration buckets) is a pure function
of the case row and its timeline ([`derive`]). Every write that appends to a timeline calls
[`refresh`] in the same transaction (through `cases::append_events`): it subtracts the facts the
case contributed before (kept in `case_facts`) and adds the new ones, key by key. A change that
appends no event (an upgrade's rename of a code) is caught by [`sync`], which refreshes every
case whose stored key no longer matches its row; `migrate` and `m110 upgrade` run it, so an
install made before the rollups existed gets them on its first start. [`rebuild`] recomputes all
of it from the cases (`m110 analytics rebuild`).

Keys: the case's *current* category, grid unit and channel (a reclassified case moves with all
its facts); the unit of the event (the unit dispatched to, the unit that signed, replied,
returned); the caller profile as recorded when the case was taken (`received` only). Times are
bucketed by the event's Asia/Shanghai day and hour.
*/

use std::collections::BTreeMap;

use serde_json::Value;
use sqlx::AnyConnection;

use super::{Engine, Store, StoreError};

const DAY_MS: i64 = 86_400_000;
const HOUR_MS: i64 = 3_600_000;
const SHANGHAI_MS: i64 = 8 * HOUR_MS;

/// Upper bounds, in minutes, of the duration buckets of `sign_time` and `close_time`; bucket
/// `i` holds durations in `(BOUNDS[i-1], BOUNDS[i]]`, the last one everything longer. Medians
/// and 90th percentiles are read at this resolution.
pub const BOUNDS_MIN: [i64; 22] = [
    5, 10, 15, 30, 60, 120, 180, 240, 360, 480, 720, 1440, 2880, 4320, 7200, 10080, 14400, 21600,
    30240, 43200, 86400, 525600,
];

/// The duration bucket of `ms`.
pub fn bucket_of(ms: i64) -> i64 {
    let minutes = (ms.max(0) + 59_999) / 60_000;
    BOUNDS_MIN
        .iter()
        .position(|b| minutes <= *b)
        .unwrap_or(BOUNDS_MIN.len()) as i64
}

/// The upper bound of a bucket in minutes (`None` for the open last one).
pub fn bucket_bound(bucket: i64) -> Option<i64> {
    usize::try_from(bucket)
        .ok()
        .and_then(|i| BOUNDS_MIN.get(i))
        .copied()
}

/// The Asia/Shanghai day number (days since 1970-01-01) and hour of an epoch-ms instant.
pub fn day_hour(ms: i64) -> (i64, i64) {
    let local = ms + SHANGHAI_MS;
    (local.div_euclid(DAY_MS), local.rem_euclid(DAY_MS) / HOUR_MS)
}

/// The part of a rollup key that differs between a case's facts.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct FactKey {
    pub day: i64,
    pub hour: i64,
    pub unit: String,
    pub metric: String,
    pub bucket: i64,
}

/// A case's facts: key → count.
pub type Facts = BTreeMap<FactKey, i64>;

/// The part of a rollup key shared by all of a case's facts.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct CaseKey {
    pub category: String,
    pub grid: String,
    pub channel: String,
    pub gender: String,
    pub age_band: String,
    pub occupation: String,
}

/// What [`derive`] reads of a case.
#[derive(Debug, Clone, Default)]
pub struct FactCase {
    pub created_at: i64,
    pub unit: Option<String>,
}

/// One timeline event as [`derive`] reads it.
#[derive(Debug, Clone)]
pub struct FactEvent {
    pub kind: String,
    pub unit: Option<String>,
    pub at: i64,
    pub detail: Value,
}

fn due(detail: &Value, key: &str) -> Option<i64> {
    detail[key]
        .as_str()
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.timestamp_millis())
}

struct Assignment {
    unit: String,
    at: i64,
    sign_due: Option<i64>,
    close_due: Option<i64>,
    signed: bool,
}

/// The facts of a case: a pure fold over its timeline (see the module docs).
pub fn derive(case: &FactCase, events: &[FactEvent]) -> Facts {
    let mut facts = Facts::new();
    let mut add = |at: i64, unit: &str, metric: &str, bucket: i64| {
        let (day, hour) = day_hour(at);
        *facts
            .entry(FactKey {
                day,
                hour,
                unit: unit.to_string(),
                metric: metric.to_string(),
                bucket,
            })
            .or_insert(0) += 1;
    };
    add(
        case.created_at,
        case.unit.as_deref().unwrap_or(""),
        "received",
        0,
    );
    let mut cur: Option<Assignment> = None;
    // The unit that replied last: a follow-up is its outcome.
    let mut replier = String::new();
    for e in events {
        let unit_here = cur.as_ref().map(|a| a.unit.clone()).unwrap_or_default();
        match e.kind.as_str() {
            "dispatched" | "redispatched" | "rerouted" => {
                let Some(unit) = e.unit.clone() else {
                    continue;
                };
                let prev = cur.take();
                add(e.at, &unit, "dispatched", 0);
                cur = Some(Assignment {
                    sign_due: due(&e.detail, "sign_due").or(prev.as_ref().and_then(|p| p.sign_due)),
                    close_due: due(&e.detail, "close_due")
                        .or(prev.as_ref().and_then(|p| p.close_due)),
                    unit,
                    at: e.at,
                    signed: false,
                });
            }
            "signed" => {
                if let Some(a) = cur.as_mut().filter(|a| !a.signed) {
                    a.signed = true;
                    add(e.at, &a.unit, "signed", 0);
                    if a.sign_due.is_some_and(|d| e.at > d) {
                        add(e.at, &a.unit, "sign_late", 0);
                    }
                    add(e.at, &a.unit, "sign_time", bucket_of(e.at - a.at));
                }
            }
            "extension_granted" => {
                if let Some(a) = cur.as_mut()
                    && let Some(d) = due(&e.detail, "close_due")
                {
                    a.close_due = Some(d);
                }
            }
            "replied" => {
                add(e.at, &unit_here, "replied", 0);
                if let Some(a) = cur.as_mut() {
                    a.signed = true;
                    if a.close_due.is_some_and(|d| e.at > d) {
                        add(e.at, &a.unit, "reply_late", 0);
                    }
                }
                replier = unit_here;
            }
            // 一事多诉: a repeat merged into another case leaves its unit (no return counted).
            "merged" => cur = None,
            "returned" => {
                let unit = e.unit.clone().unwrap_or(unit_here);
                add(e.at, &unit, "returned", 0);
                cur = None;
            }
            "followed_up" => {
                add(e.at, &replier, "followed_up", 0);
                match e.detail["satisfaction"].as_str() {
                    Some("satisfied" | "mostly_satisfied") => add(e.at, &replier, "satisfied", 0),
                    Some("unsatisfied") => add(e.at, &replier, "unsatisfied", 0),
                    _ => {}
                }
            }
            // An unsatisfied 回访: the follow-up, its outcome and the redo, in one event.
            "redo" => {
                add(e.at, &replier, "followed_up", 0);
                add(e.at, &replier, "unsatisfied", 0);
                add(e.at, &replier, "redone", 0);
                if let Some(a) = cur.as_mut() {
                    a.signed = false;
                    a.at = e.at;
                    a.sign_due = due(&e.detail, "sign_due").or(a.sign_due);
                    a.close_due = due(&e.detail, "close_due").or(a.close_due);
                }
            }
            "closed" => {
                // An imported history's close carries its follow-up outcome (no 回访 event).
                if e.detail["imported"].as_bool() == Some(true)
                    && let Some(s) = e.detail["satisfaction"].as_str()
                {
                    add(e.at, "", "followed_up", 0);
                    let outcome = if s == "unsatisfied" {
                        "unsatisfied"
                    } else {
                        "satisfied"
                    };
                    add(e.at, "", outcome, 0);
                }
                add(e.at, &unit_here, "closed", 0);
                add(
                    e.at,
                    &unit_here,
                    "close_time",
                    bucket_of(e.at - case.created_at),
                );
            }
            "answered" => add(e.at, "", "answered", 0),
            "solved_on_spot" => add(e.at, "", "solved_on_spot", 0),
            "reopened" => add(e.at, &unit_here, "reopened", 0),
            "transferred_police" => add(e.at, "", "transferred", 0),
            "urged" => add(e.at, &unit_here, "urged", 0),
            _ => {}
        }
    }
    facts
}

/// A full rollup key with its count, as written.
pub(super) type Row = (CaseKey, FactKey, i64);

/// (category, grid, channel, unit, created_at, stored category, grid, channel, gender, age band,
/// occupation, facts JSON, caller gender, age band, occupation)
type CaseRead = (
    Option<String>,
    Option<String>,
    String,
    Option<String>,
    i64,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// A stored rollup row: its eleven key columns and its count.
type StoredRow = (
    i64,
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    i64,
);

/// (kind, unit, at, detail)
type EventRead = (String, Option<String>, i64, Option<String>);

/// Facts as `case_facts.facts` stores them (what [`parse_facts`] reads).
fn facts_json(facts: &Facts) -> Result<String, StoreError> {
    serde_json::to_string(&facts.iter().collect::<Vec<_>>())
        .map_err(|e| StoreError::Other(Box::new(e)))
}

fn parse_facts(json: &str) -> Facts {
    serde_json::from_str::<Vec<(FactKey, i64)>>(json)
        .map(|v| v.into_iter().collect())
        .unwrap_or_default()
}

fn to_events(rows: Vec<EventRead>) -> Vec<FactEvent> {
    rows.into_iter()
        .map(|(kind, unit, at, detail)| FactEvent {
            kind,
            unit,
            at,
            detail: detail
                .as_deref()
                .and_then(|d| serde_json::from_str(d).ok())
                .unwrap_or_default(),
        })
        .collect()
}

/// Adds `rows` (signed counts) to the rollups in one statement per 80 rows.
pub(super) async fn add_rows(conn: &mut AnyConnection, rows: &[Row]) -> Result<(), StoreError> {
    // A day that has margins and changes loses them until the job builds it again.
    super::margins::invalidate(conn, rows.iter().map(|(_, f, _)| f.day)).await?;
    for chunk in rows.chunks(80) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| {
                let b = i * 12;
                let cols: Vec<String> = (1..=12).map(|k| format!("${}", b + k)).collect();
                format!("({})", cols.join(", "))
            })
            .collect();
        let sql = format!(
            "INSERT INTO rollups (day, hour, category, grid, unit, channel, gender, age_band, \
             occupation, metric, bucket, n) VALUES {} \
             ON CONFLICT (day, hour, category, grid, unit, channel, gender, age_band, occupation, \
             metric, bucket) DO UPDATE SET n = rollups.n + excluded.n",
            values.join(", ")
        );
        let mut q = sqlx::query(&sql);
        for (c, f, n) in chunk {
            q = q
                .bind(f.day)
                .bind(f.hour)
                .bind(c.category.clone())
                .bind(c.grid.clone())
                .bind(f.unit.clone())
                .bind(c.channel.clone())
                .bind(if f.metric == "received" {
                    c.gender.clone()
                } else {
                    String::new()
                })
                .bind(if f.metric == "received" {
                    c.age_band.clone()
                } else {
                    String::new()
                })
                .bind(if f.metric == "received" {
                    c.occupation.clone()
                } else {
                    String::new()
                })
                .bind(f.metric.clone())
                .bind(f.bucket)
                .bind(*n);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

async fn write_facts(
    conn: &mut AnyConnection,
    case_id: i64,
    key: &CaseKey,
    facts: &Facts,
) -> Result<(), StoreError> {
    let json = facts_json(facts)?;
    sqlx::query(
        "INSERT INTO case_facts (case_id, category, grid, channel, gender, age_band, occupation, \
         facts) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (case_id) DO UPDATE SET category = excluded.category, grid = excluded.grid, \
         channel = excluded.channel, facts = excluded.facts",
    )
    .bind(case_id)
    .bind(key.category.clone())
    .bind(key.grid.clone())
    .bind(key.channel.clone())
    .bind(key.gender.clone())
    .bind(key.age_band.clone())
    .bind(key.occupation.clone())
    .bind(json)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Brings one case's contribution to the rollups up to date, in the caller's transaction.
pub async fn refresh(conn: &mut AnyConnection, case_id: i64) -> Result<(), StoreError> {
    let read: Option<CaseRead> = sqlx::query_as(
        "SELECT c.category_code, c.grid_code, c.channel, c.unit_id, c.created_at, \
         f.category, f.grid, f.channel, f.gender, f.age_band, f.occupation, f.facts, \
         p.gender, p.age_band, p.occupation \
         FROM cases c LEFT JOIN case_facts f ON f.case_id = c.id \
         LEFT JOIN callers p ON p.id = c.caller_id WHERE c.id = $1",
    )
    .bind(case_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(r) = read else {
        return Ok(());
    };
    let events: Vec<EventRead> = sqlx::query_as(
        "SELECT kind, unit_id, at, detail FROM case_events WHERE case_id = $1 ORDER BY seq",
    )
    .bind(case_id)
    .fetch_all(&mut *conn)
    .await?;
    let new_facts = derive(
        &FactCase {
            created_at: r.4,
            unit: r.3.clone(),
        },
        &to_events(events),
    );
    let stored = r.11.is_some();
    // The caller profile stays as it was when the case was first counted.
    let new_key = CaseKey {
        category: r.0.unwrap_or_default(),
        grid: r.1.unwrap_or_default(),
        channel: r.2,
        gender: if stored { r.8.clone() } else { r.12 }.unwrap_or_default(),
        age_band: if stored { r.9.clone() } else { r.13 }.unwrap_or_default(),
        occupation: if stored { r.10.clone() } else { r.14 }.unwrap_or_default(),
    };
    let old_key = CaseKey {
        category: r.5.unwrap_or_default(),
        grid: r.6.unwrap_or_default(),
        channel: r.7.unwrap_or_default(),
        gender: r.8.unwrap_or_default(),
        age_band: r.9.unwrap_or_default(),
        occupation: r.10.unwrap_or_default(),
    };
    let old_facts = r.11.as_deref().map(parse_facts).unwrap_or_default();
    if stored && old_key == new_key && old_facts == new_facts {
        return Ok(());
    }
    let rows = delta(&old_key, &old_facts, &new_key, &new_facts);
    add_rows(conn, &rows).await?;
    write_facts(conn, case_id, &new_key, &new_facts).await
}

/// A case created in a write transaction, with the facts it contributes: counted at COMMIT
/// ([`super::WriteTx::defer_new_facts`]).
#[derive(Debug, Clone)]
pub struct NewFacts {
    pub case_id: i64,
    pub key: CaseKey,
    pub facts: Facts,
}

impl NewFacts {
    /// The facts of a case just inserted with `events` (all at its creation): what [`refresh`]
    /// would find reading the rows back. `profile`: the caller's (gender, age band, occupation)
    /// as stored.
    pub fn of_new_case(
        case_id: i64,
        case: &super::cases::NewCase,
        profile: (Option<String>, Option<String>, Option<String>),
        events: &[super::cases::NewEvent],
        at: i64,
    ) -> NewFacts {
        let timeline: Vec<FactEvent> = events
            .iter()
            .map(|e| FactEvent {
                kind: e.kind.clone(),
                unit: e.unit_id.clone(),
                at,
                detail: e.detail.clone().unwrap_or_default(),
            })
            .collect();
        NewFacts {
            case_id,
            key: CaseKey {
                category: case.category_code.clone().unwrap_or_default(),
                grid: case.grid_code.clone().unwrap_or_default(),
                channel: case.channel.clone(),
                gender: profile.0.unwrap_or_default(),
                age_band: profile.1.unwrap_or_default(),
                occupation: profile.2.unwrap_or_default(),
            },
            facts: derive(
                &FactCase {
                    created_at: case.created_at,
                    unit: case.unit_id.clone(),
                },
                &timeline,
            ),
        }
    }
}

/// Counts new cases (none counted before): their rollup rows summed and written in key order,
/// their facts in one statement per 100 cases.
pub(super) async fn write_new(
    conn: &mut AnyConnection,
    cases: &[NewFacts],
) -> Result<(), StoreError> {
    let mut rows: BTreeMap<(CaseKey, FactKey), i64> = BTreeMap::new();
    let none = Facts::new();
    for c in cases {
        for (k, f, n) in delta(&CaseKey::default(), &none, &c.key, &c.facts) {
            *rows.entry((k, f)).or_insert(0) += n;
        }
    }
    let rows: Vec<Row> = rows.into_iter().map(|((k, f), n)| (k, f, n)).collect();
    add_rows(conn, &rows).await?;
    for chunk in cases.chunks(100) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| {
                let cols: Vec<String> = (1..=8).map(|k| format!("${}", i * 8 + k)).collect();
                format!("({})", cols.join(", "))
            })
            .collect();
        let sql = format!(
            "INSERT INTO case_facts (case_id, category, grid, channel, gender, age_band, \
             occupation, facts) VALUES {}",
            values.join(", ")
        );
        let mut q = sqlx::query(&sql);
        for c in chunk {
            let json = facts_json(&c.facts)?;
            q = q
                .bind(c.case_id)
                .bind(c.key.category.clone())
                .bind(c.key.grid.clone())
                .bind(c.key.channel.clone())
                .bind(c.key.gender.clone())
                .bind(c.key.age_band.clone())
                .bind(c.key.occupation.clone())
                .bind(json);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// The signed rows that turn `old` into `new`.
fn delta(old_key: &CaseKey, old: &Facts, new_key: &CaseKey, new: &Facts) -> Vec<Row> {
    let mut rows: BTreeMap<(CaseKey, FactKey), i64> = BTreeMap::new();
    let profiled = |k: &CaseKey, f: &FactKey| {
        if f.metric == "received" {
            k.clone()
        } else {
            CaseKey {
                gender: String::new(),
                age_band: String::new(),
                occupation: String::new(),
                ..k.clone()
            }
        }
    };
    for (f, n) in old {
        *rows.entry((profiled(old_key, f), f.clone())).or_insert(0) -= n;
    }
    for (f, n) in new {
        *rows.entry((profiled(new_key, f), f.clone())).or_insert(0) += n;
    }
    rows.into_iter()
        .filter(|(_, n)| *n != 0)
        .map(|((c, f), n)| (c, f, n))
        .collect()
}

/// Refreshes every case whose stored key no longer matches its row, or that has no facts yet
/// (an install from before the rollups, a renamed code). Returns how many it refreshed.
pub async fn sync(conn: &mut AnyConnection, engine: Engine) -> Result<u64, StoreError> {
    if engine == Engine::Postgres {
        // Several m110d may start at once on one database: one syncs, the others wait and
        // then find nothing to do.
        sqlx::query("SELECT pg_advisory_xact_lock(110110)")
            .execute(&mut *conn)
            .await?;
    }
    let stale: Vec<(i64,)> = sqlx::query_as(STALE_CASES).fetch_all(&mut *conn).await?;
    for (id,) in &stale {
        refresh(conn, *id).await?;
    }
    Ok(stale.len() as u64)
}

/// The cases [`sync`] refreshes: no facts yet, or facts keyed on codes the row no longer has.
/// It reads every case.
const STALE_CASES: &str = "SELECT c.id FROM cases c LEFT JOIN case_facts f ON f.case_id = c.id \
    WHERE f.case_id IS NULL OR f.category <> COALESCE(c.category_code, '') \
    OR f.grid <> COALESCE(c.grid_code, '') OR f.channel <> c.channel ORDER BY c.id";

/// Cases [`Store::sync_rollups`] refreshes per write transaction.
const SYNC_CHUNK: usize = 500;

/// Recomputes every rollup from the cases (keeping each case's recorded caller profile), in
/// one transaction: an interrupted rebuild leaves the rollups as they were. Returns the number
/// of cases and of rollup rows.
pub async fn rebuild(conn: &mut AnyConnection) -> Result<(u64, u64), StoreError> {
    sqlx::query("DELETE FROM rollups")
        .execute(&mut *conn)
        .await?;
    super::margins::forget_all(conn).await?;
    // Forget the facts but keep the recorded profile: each refresh then adds the case whole.
    sqlx::query("UPDATE case_facts SET facts = '[]'")
        .execute(&mut *conn)
        .await?;
    let ids: Vec<(i64,)> = sqlx::query_as("SELECT id FROM cases ORDER BY id")
        .fetch_all(&mut *conn)
        .await?;
    for (id,) in &ids {
        refresh(conn, *id).await?;
    }
    let (rows,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM rollups WHERE n <> 0")
        .fetch_one(&mut *conn)
        .await?;
    Ok((ids.len() as u64, rows as u64))
}

/// A breakdown dimension of [`Store::rollup_sums`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dim {
    Day,
    Hour,
    Category,
    Grid,
    Unit,
    Channel,
    Gender,
    AgeBand,
    Occupation,
}

impl Dim {
    /// The expression of this dimension in the rollups (a text).
    pub(super) fn column(self) -> &'static str {
        match self {
            Dim::Day => "CAST(day AS TEXT)",
            Dim::Hour => "CAST(hour AS TEXT)",
            Dim::Category => "category",
            Dim::Grid => "grid",
            Dim::Unit => "unit",
            Dim::Channel => "channel",
            Dim::Gender => "gender",
            Dim::AgeBand => "age_band",
            Dim::Occupation => "occupation",
        }
    }
}

/// Which rollups to sum: days `[from_day, to_day)`, and optional filters (`None`: all).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RollupFilter {
    pub from_day: i64,
    pub to_day: i64,
    pub categories: Option<Vec<String>>,
    pub grids: Option<Vec<String>>,
    pub unit: Option<String>,
    pub channel: Option<String>,
    /// Only these metrics (`None`: all).
    pub metrics: Option<Vec<String>>,
}

/// One summed cell: the dimension values (in the order asked), metric, bucket and total.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SumRow {
    pub keys: Vec<String>,
    pub metric: String,
    pub bucket: i64,
    pub n: i64,
}

impl Store {
    /// Sums the rollups matching `filter`, grouped by `dims`, metric and bucket (from the
    /// per-day margins where they answer it: [`super::margins`]).
    pub async fn rollup_sums(
        &self,
        filter: &RollupFilter,
        dims: &[Dim],
    ) -> Result<Vec<SumRow>, StoreError> {
        super::margins::sums(self, filter, dims).await
    }

    /// Every non-zero rollup row, sorted: what the rebuild test compares.
    pub async fn rollup_rows(&self) -> Result<Vec<(Vec<String>, i64)>, StoreError> {
        let rows: Vec<StoredRow> = sqlx::query_as(
            "SELECT day, hour, category, grid, unit, channel, gender, age_band, occupation, \
                 metric, bucket, n FROM rollups WHERE n <> 0",
        )
        .fetch_all(self.pool())
        .await?;
        let mut out: Vec<(Vec<String>, i64)> = rows
            .into_iter()
            .map(|r| {
                (
                    vec![
                        r.0.to_string(),
                        r.1.to_string(),
                        r.2,
                        r.3,
                        r.4,
                        r.5,
                        r.6,
                        r.7,
                        r.8,
                        r.9,
                        r.10.to_string(),
                    ],
                    r.11,
                )
            })
            .collect();
        out.sort();
        Ok(out)
    }

    /// [`rebuild`] in its own write transaction.
    pub async fn rebuild_rollups(&self) -> Result<(u64, u64), StoreError> {
        let mut tx = self.write().await?;
        let out = rebuild(&mut tx).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// What [`sync`] does, without holding the writer while looking: the stale cases are
    /// found on a read connection (the look reads every case: ≈ 1 s at a million), then
    /// refreshed [`SYNC_CHUNK`] at a time, each chunk in its own write transaction, so the
    /// writes of a running service wait at most one chunk. A case written meanwhile was
    /// refreshed by its own write, and [`refresh`] re-reads each case under the lock, so a
    /// chunk never counts a change twice. Returns how many cases were stale.
    pub async fn sync_rollups(&self) -> Result<u64, StoreError> {
        let stale: Vec<(i64,)> = sqlx::query_as(STALE_CASES).fetch_all(self.pool()).await?;
        for chunk in stale.chunks(SYNC_CHUNK) {
            let mut tx = self.write().await?;
            let engine = tx.engine();
            for (id,) in chunk {
                if engine == Engine::Postgres {
                    // Several m110d may sync at once, and a running one may be writing this
                    // case: its row lock makes each refresh see the facts the other left.
                    sqlx::query("SELECT id FROM cases WHERE id = $1 FOR UPDATE")
                        .bind(*id)
                        .execute(&mut *tx)
                        .await?;
                }
                refresh(&mut tx, *id).await?;
            }
            tx.commit().await?;
        }
        Ok(stale.len() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const H: i64 = HOUR_MS;
    // 2026-11-02 00:00 Asia/Shanghai.
    const T0: i64 = 1_793_548_800_000;

    fn ev(kind: &str, unit: Option<&str>, at: i64, detail: Value) -> FactEvent {
        FactEvent {
            kind: kind.into(),
            unit: unit.map(String::from),
            at,
            detail,
        }
    }

    fn count(f: &Facts, metric: &str) -> i64 {
        f.iter()
            .filter(|(k, _)| k.metric == metric)
            .map(|(_, n)| n)
            .sum()
    }

    #[test]
    fn buckets_cover_every_duration() {
        assert_eq!(bucket_of(0), 0);
        assert_eq!(bucket_of(5 * 60_000), 0);
        assert_eq!(bucket_of(5 * 60_000 + 1), 1);
        assert_eq!(bucket_of(3 * H), 6);
        assert_eq!(bucket_of(i64::MAX / 2), BOUNDS_MIN.len() as i64);
        assert_eq!(bucket_bound(6), Some(180));
        assert_eq!(bucket_bound(BOUNDS_MIN.len() as i64), None);
    }

    #[test]
    fn day_and_hour_follow_shanghai() {
        let (d, h) = day_hour(T0);
        assert_eq!(h, 0);
        assert_eq!(day_hour(T0 - 1), (d - 1, 23));
        assert_eq!(day_hour(T0 + 13 * H + 5), (d, 13));
    }

    #[test]
    fn a_full_timeline_yields_its_facts() {
        let due = |ms: i64| crate::model::time::render_time(ms);
        let events = vec![
            ev("received", None, T0, json!({})),
            ev(
                "dispatched",
                Some("water"),
                T0 + H,
                json!({"sign_due": due(T0 + 2 * H), "close_due": due(T0 + 10 * H)}),
            ),
            ev("signed", Some("water"), T0 + 3 * H, json!({})),
            ev("replied", Some("water"), T0 + 11 * H, json!({})),
            ev(
                "redo",
                None,
                T0 + 12 * H,
                json!({"sign_due": due(T0 + 14 * H), "close_due": due(T0 + 20 * H)}),
            ),
            ev("signed", Some("water"), T0 + 13 * H, json!({})),
            ev("replied", Some("water"), T0 + 14 * H, json!({})),
            ev(
                "followed_up",
                None,
                T0 + 15 * H,
                json!({"satisfaction": "satisfied"}),
            ),
            ev("closed", None, T0 + 15 * H, json!({})),
        ];
        let f = derive(
            &FactCase {
                created_at: T0,
                unit: Some("water".into()),
            },
            &events,
        );
        assert_eq!(count(&f, "received"), 1);
        assert_eq!(count(&f, "dispatched"), 1);
        assert_eq!(count(&f, "signed"), 2);
        assert_eq!(
            count(&f, "sign_late"),
            1,
            "the first sign came after its deadline"
        );
        assert_eq!(count(&f, "replied"), 2);
        assert_eq!(
            count(&f, "reply_late"),
            1,
            "the first reply came after its deadline"
        );
        assert_eq!(count(&f, "followed_up"), 2);
        assert_eq!(count(&f, "unsatisfied"), 1);
        assert_eq!(count(&f, "satisfied"), 1);
        assert_eq!(count(&f, "redone"), 1);
        assert_eq!(count(&f, "closed"), 1);
        // 15 h from intake to close: the (12 h, 24 h] bucket.
        let close = f.keys().find(|k| k.metric == "close_time").unwrap();
        assert_eq!(bucket_bound(close.bucket), Some(1440));
        // Every fact of the water unit's work names the unit.
        assert!(
            f.keys()
                .filter(|k| ["signed", "replied", "followed_up", "closed"].contains(&&*k.metric))
                .all(|k| k.unit == "water")
        );
    }

    #[test]
    fn an_extension_moves_the_close_deadline() {
        let due = |ms: i64| crate::model::time::render_time(ms);
        let events = vec![
            ev(
                "dispatched",
                Some("roads"),
                T0,
                json!({"close_due": due(T0 + H)}),
            ),
            ev(
                "extension_granted",
                None,
                T0 + H / 2,
                json!({"close_due": due(T0 + 5 * H)}),
            ),
            ev("replied", Some("roads"), T0 + 4 * H, json!({})),
        ];
        let f = derive(
            &FactCase {
                created_at: T0,
                unit: None,
            },
            &events,
        );
        assert_eq!(count(&f, "replied"), 1);
        assert_eq!(count(&f, "reply_late"), 0);
    }

    #[test]
    fn a_delta_moves_a_reclassified_case() {
        let f: Facts = [(
            FactKey {
                day: 1,
                hour: 2,
                unit: String::new(),
                metric: "received".into(),
                bucket: 0,
            },
            1,
        )]
        .into();
        let a = CaseKey {
            category: "a".into(),
            ..CaseKey::default()
        };
        let b = CaseKey {
            category: "b".into(),
            ..CaseKey::default()
        };
        let rows = delta(&a, &f, &b, &f);
        assert_eq!(rows.len(), 2);
        assert!(rows.iter().any(|(k, _, n)| k.category == "a" && *n == -1));
        assert!(rows.iter().any(|(k, _, n)| k.category == "b" && *n == 1));
        assert!(delta(&a, &f, &a, &f).is_empty());
    }
}
