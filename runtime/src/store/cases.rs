/*!
Cases, their events, follow-ups, callers and the outbox: the repository under intake, the
lifecycle actions and the deadline job.

Writes are building blocks that take an open transaction (`&mut AnyConnection` from
[`Store::write`]) so a service can put the status change, its event, a follow-up and an outbox
message in ONE transaction. Reads are `impl Store` methods on the pool.

- A case is locked for a read-modify-write with [`lock_case`]: `SELECT … FOR UPDATE` on
  PostgreSQL; on SQLite the `BEGIN IMMEDIATE` of [`Store::write`] already holds the write lock.
- [`update_case`] writes every mutable column with an optimistic version check
  (`WHERE version = $old`), bumping the version; a lost race is a `Conflict`.
- Event sequence numbers are `MAX(seq) + 1` under that lock, so a case's timeline is gap-free.
- Public ids are `MS<region>-<yyyymmdd>-<id:06>`: the date is the Asia/Shanghai day of intake
  and the number is the row id, allocated inside the INSERT (PostgreSQL: `nextval` of the
  identity; SQLite: `MAX(id) + 1` under the write lock) — unique without a hot counter row.
- Statements per write are kept few (one INSERT for a case, one for all its events): with
  sqlx-sqlite every statement is a hand-off to the connection's worker thread, which dominates
  the cost of an intake.
*/

use serde::Serialize;
use sqlx::{AnyConnection, FromRow};

use super::{Engine, Store, StoreError};

/// Columns of [`CaseRow`], joined with the caller.
pub(super) const CASE_COLUMNS: &str = "c.id, c.public_id, c.channel, c.caller_id, c.content, \
    c.category_code, c.grid_code, c.address, c.lat, c.lon, c.priority, c.status, c.operator_id, \
    c.unit_id, c.sign_due, c.close_due, c.dispatched_at, c.signed_at, c.replied_at, c.closed_at, \
    c.extension_requested, c.supervised, c.overdue_sign, c.overdue_close, c.escalation_step, \
    c.redo_count, c.satisfaction, c.open311_token, c.external_id, c.emergency_line, c.handoff_state, \
    c.handoff_ref, c.handoff_at, c.forward_ref, c.forward_at, c.grid_task, c.created_at, c.updated_at, c.version, c.caller_phone, c.caller_name, p.gender AS caller_gender, \
    p.age_band AS caller_age_band, p.occupation AS caller_occupation";

pub(super) const CASE_FROM: &str = "cases c LEFT JOIN callers p ON p.id = c.caller_id";

/// A stored case with its caller's data (raw: mask at the edges).
#[derive(Debug, Clone, PartialEq, FromRow, Serialize)]
pub struct CaseRow {
    pub id: i64,
    pub public_id: String,
    pub channel: String,
    pub caller_id: Option<i64>,
    pub content: String,
    pub category_code: Option<String>,
    pub grid_code: Option<String>,
    pub address: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub priority: String,
    pub status: String,
    pub operator_id: Option<i64>,
    pub unit_id: Option<String>,
    pub sign_due: Option<i64>,
    pub close_due: Option<i64>,
    pub dispatched_at: Option<i64>,
    pub signed_at: Option<i64>,
    pub replied_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub extension_requested: i64,
    pub supervised: i64,
    pub overdue_sign: i64,
    pub overdue_close: i64,
    pub escalation_step: i64,
    pub redo_count: i64,
    pub satisfaction: Option<String>,
    pub open311_token: Option<String>,
    pub external_id: Option<String>,
    /// The emergency line the case was handed to (`110`, `119`, `120`, `122`).
    pub emergency_line: Option<String>,
    /// Where the hand-off stands: `awaiting` (待确认), `acknowledged`, `returned`.
    pub handoff_state: Option<String>,
    /// The line's incident number (警情编号).
    pub handoff_ref: Option<String>,
    /// When the hand-off last changed.
    pub handoff_at: Option<i64>,
    /// The id another platform gave the case it was forwarded to (read-only here: written
    /// by [`crate::store::forward`]).
    pub forward_ref: Option<String>,
    pub forward_at: Option<i64>,
    /// 网格任务: `open` while the cell's grid workers are asked to check or settle the case on
    /// site, `done` once they answered; `None` if it never went to the grid.
    pub grid_task: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
    pub caller_phone: Option<String>,
    pub caller_name: Option<String>,
    pub caller_gender: Option<String>,
    pub caller_age_band: Option<String>,
    pub caller_occupation: Option<String>,
}

/// Caller data given at intake (upserted by phone number).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallerData {
    pub phone: Option<String>,
    pub name: Option<String>,
    pub gender: Option<String>,
    pub age_band: Option<String>,
    pub occupation: Option<String>,
}

impl CallerData {
    pub fn is_empty(&self) -> bool {
        self.phone.is_none()
            && self.name.is_none()
            && self.gender.is_none()
            && self.age_band.is_none()
            && self.occupation.is_none()
    }
}

/// A stored caller.
#[derive(Debug, Clone, PartialEq, FromRow, Serialize)]
pub struct CallerRow {
    pub id: i64,
    pub phone: Option<String>,
    pub name: Option<String>,
    pub gender: Option<String>,
    pub age_band: Option<String>,
    pub occupation: Option<String>,
    pub created_at: i64,
}

/// A case to insert (the id and public id are allocated by [`insert_case`]).
#[derive(Debug, Clone, PartialEq)]
pub struct NewCase {
    pub channel: String,
    pub caller_id: Option<i64>,
    pub content: String,
    pub category_code: Option<String>,
    pub grid_code: Option<String>,
    pub address: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub priority: String,
    pub status: String,
    pub operator_id: Option<i64>,
    pub unit_id: Option<String>,
    pub sign_due: Option<i64>,
    pub close_due: Option<i64>,
    pub dispatched_at: Option<i64>,
    pub open311_token: Option<String>,
    pub external_id: Option<String>,
    pub emergency_line: Option<String>,
    pub handoff_state: Option<String>,
    pub handoff_ref: Option<String>,
    pub created_at: i64,
}

/// One timeline entry to append.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewEvent {
    pub kind: String,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub actor_id: Option<i64>,
    pub unit_id: Option<String>,
    pub note: Option<String>,
    pub detail: Option<serde_json::Value>,
}

/// A stored timeline entry.
#[derive(Debug, Clone, PartialEq, FromRow, Serialize)]
pub struct EventRow {
    pub seq: i64,
    pub kind: String,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub actor_id: Option<i64>,
    pub actor_name: Option<String>,
    pub unit_id: Option<String>,
    pub note: Option<String>,
    pub detail: Option<String>,
    pub at: i64,
}

/// Filters of the case list; scope fields are set by the service from the principal.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    pub statuses: Vec<String>,
    pub unit: Option<String>,
    pub category: Option<String>,
    pub channel: Option<String>,
    pub grid_codes: Vec<String>,
    pub operator_id: Option<i64>,
    pub overdue: Option<bool>,
    /// Substring of the content or the public id.
    pub q: Option<String>,
    /// With `q`: the normalized phone number it spells, to find the caller's cases too.
    pub q_phone: Option<String>,
    pub caller_id: Option<i64>,
    /// Where a hand-off to an emergency line stands (`awaiting`, `acknowledged`, `returned`).
    pub handoff_state: Option<String>,
    /// Created at or after / before these epoch milliseconds (a period).
    pub created_from: Option<i64>,
    pub created_to: Option<i64>,
    /// Keyset page: only cases with a smaller id (the next page after the last row shown).
    /// The total ignores it, so it stays the count of the whole result.
    pub before_id: Option<i64>,
    /// Leave out the cases merged into an open case (一事多诉: handled with their parent).
    pub hide_merged: bool,
    /// A grid worker's cases: their own channel's reports and the cases handed to the grid
    /// (网格任务), in `grid_codes`.
    pub grid_work: bool,
    pub limit: i64,
    pub offset: i64,
}

enum Param {
    Text(String),
    Int(i64),
}

/// The two statements of [`Store::list_cases`] and their parameters (the count binds the first
/// `count_params`, the list all of them).
struct ListSql {
    count_sql: String,
    list_sql: String,
    params: Vec<Param>,
    count_params: usize,
}

fn list_sql(filter: &CaseFilter, engine: Engine) -> ListSql {
    let mut clauses: Vec<String> = Vec::new();
    let mut params: Vec<Param> = Vec::new();
    // Adds a parameter and returns its placeholder.
    let mut param = |p: Param| {
        params.push(p);
        format!("${}", params.len())
    };
    // The status terms come first: a merged page (below) replaces them with one per status.
    let mut status_terms = 0;
    if !filter.statuses.is_empty() {
        // Known statuses are written as literals: PostgreSQL's generic plan of a reused
        // statement (after five runs) cannot see a bound status's selectivity and may walk the
        // table; the literals keep the index plans. Anything else is bound.
        let list: Vec<String> = filter
            .statuses
            .iter()
            .map(
                |s| match KNOWN_STATUSES.iter().find(|k| **k == s.as_str()) {
                    Some(k) => format!("'{k}'"),
                    None => param(Param::Text(s.clone())),
                },
            )
            .collect();
        clauses.push(format!("c.status IN ({})", list.join(", ")));
        // Only open statuses: the literal term lets both engines use the partial indexes
        // of migration 0150 (their WHERE must appear in the query as written).
        if filter
            .statuses
            .iter()
            .all(|s| OPEN_STATUSES.contains(&s.as_str()))
        {
            clauses.push(OPEN_TERM.into());
        }
        status_terms = clauses.len();
    }
    if let Some(u) = &filter.unit {
        clauses.push(format!("c.unit_id = {}", param(Param::Text(u.clone()))));
    }
    if let Some(c) = &filter.category {
        clauses.push(format!(
            "c.category_code = {}",
            param(Param::Text(c.clone()))
        ));
    }
    if let Some(c) = &filter.channel {
        clauses.push(format!("c.channel = {}", param(Param::Text(c.clone()))));
    }
    if filter.grid_work {
        clauses.push("(c.channel = 'grid' OR c.grid_task IS NOT NULL)".into());
    }
    if let Some(op) = filter.operator_id {
        clauses.push(format!("c.operator_id = {}", param(Param::Int(op))));
    }
    if let Some(caller) = filter.caller_id {
        clauses.push(format!("c.caller_id = {}", param(Param::Int(caller))));
    }
    if let Some(h) = &filter.handoff_state {
        // A literal for a known state, as for the statuses: a plan (or a partial index on the
        // state) can then see which one is asked.
        let state = match KNOWN_HANDOFF_STATES.iter().find(|k| **k == h.as_str()) {
            Some(k) => format!("'{k}'"),
            None => param(Param::Text(h.clone())),
        };
        clauses.push(format!("c.handoff_state = {state}"));
    }
    if !filter.grid_codes.is_empty() {
        let list: Vec<String> = filter
            .grid_codes
            .iter()
            .map(|g| param(Param::Text(g.clone())))
            .collect();
        clauses.push(format!("c.grid_code IN ({})", list.join(", ")));
    }
    match filter.overdue {
        Some(true) => clauses.push("(c.overdue_sign = 1 OR c.overdue_close = 1)".into()),
        Some(false) => clauses.push("(c.overdue_sign = 0 AND c.overdue_close = 0)".into()),
        None => {}
    }
    if let Some(q) = filter.q.as_ref().filter(|q| !q.is_empty()) {
        let like = format!(
            "%{}%",
            q.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        let a = param(Param::Text(like.clone()));
        let b = param(Param::Text(like));
        // A phone number finds the caller's cases (the whole number: no partial matching
        // of personal data).
        let phone = filter
            .q_phone
            .clone()
            .map(|p| format!(" OR p.phone = {}", param(Param::Text(p))))
            .unwrap_or_default();
        clauses.push(format!(
            "(c.content LIKE {a} ESCAPE '\\' OR c.public_id LIKE {b} ESCAPE '\\'{phone})"
        ));
    }
    if filter.hide_merged {
        clauses.push(
            "NOT EXISTS (SELECT 1 FROM case_links l JOIN cases pc ON pc.id = l.parent_id \
             WHERE l.child_id = c.id AND l.kind = 'merged' \
             AND pc.status NOT IN ('closed', 'transferred_police'))"
                .into(),
        );
    }
    if let Some(from) = filter.created_from {
        clauses.push(format!("c.created_at >= {}", param(Param::Int(from))));
    }
    if let Some(to) = filter.created_to {
        clauses.push(format!("c.created_at < {}", param(Param::Int(to))));
    }
    let where_of = |clauses: &[String]| {
        if clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", clauses.join(" AND "))
        }
    };
    let cases = if engine == Engine::Sqlite && overdue_index_fits(filter) {
        // SQLite without statistics rates `status IN (…)` on `cases_status_id` at a few rows per
        // status and never picks the partial index of the overdue open cases on its own, though
        // that index holds exactly the rows asked for: named, a count reads at most
        // COUNT_CAP + 1 of its entries and a page its first rows in id order, instead of a
        // table read per open case (≈ 90 ms for the count and 100 ms for one row at 1 M cases).
        // PostgreSQL picks it from its statistics.
        "cases c INDEXED BY cases_overdue_open"
    } else {
        "cases c"
    };
    // The count is of the whole result; the keyset bound narrows the page only (its
    // parameter comes last, so the count binds the same list without it).
    // The caller is joined for a phone search only (the join never changes the count).
    let with_caller = format!("{cases} LEFT JOIN callers p ON p.id = c.caller_id");
    let from = if filter.q_phone.is_some() && filter.q.as_ref().is_some_and(|q| !q.is_empty()) {
        with_caller.as_str()
    } else {
        cases
    };
    let count_sql = format!(
        "SELECT COUNT(*) FROM (SELECT 1 FROM {from} {} LIMIT {}) t",
        where_of(&clauses),
        COUNT_CAP + 1
    );
    let count_params = params.len();
    if let Some(before) = filter.before_id {
        params.push(Param::Int(before));
        clauses.push(format!("c.id < ${}", params.len()));
    }
    // LIMIT and OFFSET as numbers, for the same reason: a generic plan guesses a bound LIMIT
    // at a tenth of the table and may prefer a sort to the id index.
    let (limit, offset) = (filter.limit.max(0), filter.offset.max(0));
    let list_sql = if engine == Engine::Sqlite && merge_by_status(filter) {
        // Several statuses read together come out of `cases_status_id` status by status on
        // SQLite, so the newest of them all can only be found by sorting every case they hold
        // (all the signed and in-progress cases for one page of the queue). Each status's
        // newest `limit + offset` instead, read in id order from its own range, then merged:
        // the page reads at most that many index entries per status, however long the
        // history. (PostgreSQL, from its statistics, walks `cases_open_id` backwards and stops
        // at the page: 0.1 ms at 1 M cases, against 1 ms merged.)
        let arms: Vec<String> = filter
            .statuses
            .iter()
            .enumerate()
            .map(|(i, status)| {
                let mut terms = vec![format!("c.status = '{status}'")];
                terms.extend(clauses[status_terms..].iter().cloned());
                format!(
                    "SELECT id FROM (SELECT c.id FROM {from} {} ORDER BY c.id DESC LIMIT {}) s{i}",
                    where_of(&terms),
                    limit + offset
                )
            })
            .collect();
        format!(
            "SELECT {CASE_COLUMNS} FROM {CASE_FROM} WHERE c.id IN ({}) \
             ORDER BY c.id DESC LIMIT {limit} OFFSET {offset}",
            arms.join(" UNION ALL ")
        )
    } else {
        format!(
            "SELECT {CASE_COLUMNS} FROM {with_caller} {} ORDER BY c.id DESC LIMIT {limit} \
             OFFSET {offset}",
            where_of(&clauses),
        )
    };
    ListSql {
        count_sql,
        list_sql,
        params,
        count_params,
    }
}

/// Whether the overdue open cases' partial index (`cases_overdue_open`, migration 0170) is the
/// best read for `filter`: overdue cases of every open status, with nothing narrower asked — a
/// unit, an operator or a caller have indexes of their own, bounded by their open work.
fn overdue_index_fits(filter: &CaseFilter) -> bool {
    filter.overdue == Some(true)
        && filter.statuses.len() == OPEN_STATUSES.len()
        && OPEN_STATUSES
            .iter()
            .all(|s| filter.statuses.iter().any(|f| f == s))
        && filter.unit.is_none()
        && filter.operator_id.is_none()
        && filter.caller_id.is_none()
}

/// Whether a page of `filter` is read status by status and merged on SQLite ([`list_sql`]):
/// several known statuses (each then a literal, read from its own range of `cases_status_id`),
/// and no unit, operator or caller (their indexes already bound the read) nor the overdue index.
fn merge_by_status(filter: &CaseFilter) -> bool {
    filter.statuses.len() > 1
        && filter
            .statuses
            .iter()
            .all(|s| KNOWN_STATUSES.contains(&s.as_str()))
        && filter.unit.is_none()
        && filter.operator_id.is_none()
        && filter.caller_id.is_none()
        && !overdue_index_fits(filter)
}

#[cfg(test)]
#[path = "cases_plans.rs"]
mod plans;

/// Where a hand-off to an emergency line can stand (the `cases.handoff_state` CHECK).
const KNOWN_HANDOFF_STATES: &[&str] = &["awaiting", "acknowledged", "returned"];

/// Every status a case can have (the `cases.status` CHECK).
const KNOWN_STATUSES: &[&str] = &[
    "received",
    "dispatched",
    "signed",
    "in_progress",
    "replied",
    "followed_up",
    "returned",
    "closed",
    "transferred_police",
];

/// The statuses of a case still being handled (the partial indexes' set, migration 0150).
pub const OPEN_STATUSES: &[&str] = &[
    "received",
    "dispatched",
    "signed",
    "in_progress",
    "replied",
    "followed_up",
    "returned",
];

/// [`OPEN_STATUSES`] as the partial indexes' WHERE term, written exactly as in 0150_paging.sql.
pub(super) const OPEN_TERM: &str = "c.status IN ('received', 'dispatched', 'signed', \
    'in_progress', 'replied', 'followed_up', 'returned')";

/// Open cases past a deadline: the WHERE term of the partial index `cases_overdue_open`, written
/// exactly as in 0170_margins.sql (the planner uses the index only for a query that repeats it).
pub(super) const OVERDUE_TERM: &str = "c.status IN ('received', 'dispatched', 'signed', \
    'in_progress', 'replied', 'followed_up', 'returned') \
    AND (c.overdue_sign = 1 OR c.overdue_close = 1)";

/// The most rows a list total counts ([`Store::list_cases`]): above it the total reads "more
/// than 10,000", and counting costs the same whatever the history.
pub const COUNT_CAP: i64 = 10_000;

/// The case INSERT of [`insert_case`], copying the caller's name and number as of now onto the case
/// (a later intake renames the caller, not this case); `NEXT_ID`/`PUBLIC_ID`: per engine.
macro_rules! insert_case_sql {
    ($next_id:literal, $public_id:literal) => {
        concat!(
            "WITH n AS (",
            $next_id,
            ") \
             INSERT INTO cases (id, public_id, channel, caller_id, content, category_code, \
             grid_code, address, lat, lon, priority, status, operator_id, unit_id, sign_due, \
             close_due, dispatched_at, open311_token, external_id, created_at, updated_at, \
             version, emergency_line, handoff_state, handoff_ref, handoff_at, caller_name, \
             caller_phone) SELECT n.id, ",
            $public_id,
            ", $2, $3, $4, $5, $6, $7, CAST($8 AS DOUBLE PRECISION), \
             CAST($9 AS DOUBLE PRECISION), $10, $11, $12, $13, $14, \
             $15, $16, $17, $18, $19, $19, 1, $20, $21, $22, \
             CASE WHEN $21 IS NULL THEN NULL ELSE $19 END, cp.name, cp.phone \
             FROM n LEFT JOIN callers cp ON cp.id = $3 RETURNING id, public_id"
        )
    };
}

const INSERT_CASE_POSTGRES: &str = insert_case_sql!(
    "SELECT nextval(pg_get_serial_sequence('cases', 'id')) AS id",
    "$1 || CASE WHEN n.id < 1000000 THEN lpad(n.id::text, 6, '0') ELSE n.id::text END"
);
// Under the write lock of BEGIN IMMEDIATE, MAX(id) + 1 cannot be taken twice (a group-commit
// batch sees its own earlier inserts, so its cases number on).
const INSERT_CASE_SQLITE: &str = insert_case_sql!(
    "SELECT COALESCE(MAX(id), 0) + 1 AS id FROM cases",
    "$1 || printf('%06d', n.id)"
);

/// Inserts a case; returns `(id, public_id)`.
pub async fn insert_case(
    conn: &mut AnyConnection,
    engine: Engine,
    region_code: &str,
    case: &NewCase,
) -> Result<(i64, String), StoreError> {
    let day = crate::model::time::shanghai(case.created_at)
        .format("%Y%m%d")
        .to_string();
    let prefix = format!("MS{region_code}-{day}-");
    // The id is allocated and the public id formatted inside the INSERT: one round trip (each
    // statement costs a thread hand-off to the SQLite worker, which dominates intake time). The
    // text is a constant per engine, so each connection prepares it once and reuses it.
    let sql = match engine {
        Engine::Postgres => INSERT_CASE_POSTGRES,
        Engine::Sqlite => INSERT_CASE_SQLITE,
    };
    let (id, public_id): (i64, String) = sqlx::query_as(sql)
        .bind(&prefix)
        .bind(&case.channel)
        .bind(case.caller_id)
        .bind(&case.content)
        .bind(case.category_code.clone())
        .bind(case.grid_code.clone())
        .bind(case.address.clone())
        // As text, cast in SQL: the Any driver declares a NULL f64 parameter with a type that a
        // later non-NULL one in the same cached statement does not match on PostgreSQL
        // ("incorrect binary data format"); text is the same type either way.
        .bind(case.lat.map(|v| v.to_string()))
        .bind(case.lon.map(|v| v.to_string()))
        .bind(&case.priority)
        .bind(&case.status)
        .bind(case.operator_id)
        .bind(case.unit_id.clone())
        .bind(case.sign_due)
        .bind(case.close_due)
        .bind(case.dispatched_at)
        .bind(case.open311_token.clone())
        .bind(case.external_id.clone())
        .bind(case.created_at)
        .bind(case.emergency_line.clone())
        .bind(case.handoff_state.clone())
        .bind(case.handoff_ref.clone())
        .fetch_one(&mut *conn)
        .await?;
    Ok((id, public_id))
}

/// The multi-row `INSERT INTO case_events` for `n` rows. The texts for up to
/// [`CACHED_EVENT_ROWS`] rows are built once per process (an intake writes one to three events),
/// so the hot path neither formats SQL nor makes sqlx prepare a new statement.
fn events_insert_sql(n: usize) -> std::borrow::Cow<'static, str> {
    static CACHED: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    let build = |n: usize| {
        let rows: Vec<String> = (0..n)
            .map(|i| {
                let b = i * 10;
                let params: Vec<String> = (1..=10).map(|k| format!("${}", b + k)).collect();
                format!("({})", params.join(", "))
            })
            .collect();
        format!(
            "INSERT INTO case_events (case_id, seq, kind, from_status, to_status, actor_id, \
             unit_id, note, detail, at) VALUES {}",
            rows.join(", ")
        )
    };
    if (1..=CACHED_EVENT_ROWS).contains(&n) {
        let all = CACHED.get_or_init(|| (1..=CACHED_EVENT_ROWS).map(build).collect());
        std::borrow::Cow::Borrowed(all[n - 1].as_str())
    } else {
        std::borrow::Cow::Owned(build(n))
    }
}

/// Row counts whose event INSERT text is built once.
const CACHED_EVENT_ROWS: usize = 8;

/// Appends events to a case's timeline (numbered after the last one); returns the last seq.
pub async fn append_events(
    conn: &mut AnyConnection,
    case_id: i64,
    events: &[NewEvent],
    at: i64,
    first_seq: Option<i64>,
) -> Result<i64, StoreError> {
    let seq = match first_seq {
        Some(s) => s - 1,
        None => {
            let (last,): (i64,) =
                sqlx::query_as("SELECT COALESCE(MAX(seq), 0) FROM case_events WHERE case_id = $1")
                    .bind(case_id)
                    .fetch_one(&mut *conn)
                    .await?;
            last
        }
    };
    if events.is_empty() {
        return Ok(seq);
    }
    let seq = insert_events(conn, case_id, events, at, seq + 1).await?;
    // Every change to a case appends to its timeline: its analytics follow in this transaction.
    super::rollups::refresh(conn, case_id).await?;
    Ok(seq)
}

/// Inserts `events` into a case's timeline from sequence number `first_seq`, without touching
/// the analytics (the caller counts them: [`append_events`], or a new case's deferred facts).
/// Returns the last sequence number written.
pub async fn insert_events(
    conn: &mut AnyConnection,
    case_id: i64,
    events: &[NewEvent],
    at: i64,
    first_seq: i64,
) -> Result<i64, StoreError> {
    let mut seq = first_seq - 1;
    if events.is_empty() {
        return Ok(seq);
    }
    // One multi-row INSERT for all the events; its text depends only on the row count.
    let sql = events_insert_sql(events.len());
    let mut q = sqlx::query(sql.as_ref());
    for e in events {
        seq += 1;
        q = q
            .bind(case_id)
            .bind(seq)
            .bind(e.kind.clone())
            .bind(e.from_status.clone())
            .bind(e.to_status.clone())
            .bind(e.actor_id)
            .bind(e.unit_id.clone())
            .bind(e.note.clone())
            .bind(e.detail.as_ref().map(|d| d.to_string()))
            .bind(at);
    }
    q.execute(&mut *conn).await?;
    Ok(seq)
}

/// Queues a message for an integration, in the caller's transaction.
pub async fn enqueue(
    conn: &mut AnyConnection,
    topic: &str,
    payload: &serde_json::Value,
    now: i64,
) -> Result<i64, StoreError> {
    enqueue_to(conn, topic, payload, None, "unrouted", now).await
}

/// Writes an outbox message for `platform` in `state` (`pending`: the delivery worker sends it;
/// `manual`: a person hands it over; `unrouted`: no platform receives the topic).
pub async fn enqueue_to(
    conn: &mut AnyConnection,
    topic: &str,
    payload: &serde_json::Value,
    platform: Option<&str>,
    state: &str,
    now: i64,
) -> Result<i64, StoreError> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO outbox (topic, payload, created_at, next_attempt_at, attempts, platform_id, \
         state) VALUES ($1, $2, $3, $3, 0, $4, $5) RETURNING id",
    )
    .bind(topic)
    .bind(payload.to_string())
    .bind(now)
    .bind(platform)
    .bind(state)
    .fetch_one(&mut *conn)
    .await?;
    Ok(id)
}

/// Records a follow-up (回访).
pub async fn insert_follow_up(
    conn: &mut AnyConnection,
    case_id: i64,
    actor_id: Option<i64>,
    satisfaction: &str,
    comment: Option<&str>,
    at: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO follow_ups (case_id, actor_id, satisfaction, comment, at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(case_id)
    .bind(actor_id)
    .bind(satisfaction)
    .bind(comment.map(str::to_string))
    .bind(at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Loads a case for a read-modify-write in the current transaction.
pub async fn lock_case(
    conn: &mut AnyConnection,
    engine: Engine,
    public_id: &str,
) -> Result<CaseRow, StoreError> {
    let sql = match engine {
        // FOR UPDATE cannot apply to the nullable side of an outer join: lock `c` only.
        Engine::Postgres => {
            format!("SELECT {CASE_COLUMNS} FROM {CASE_FROM} WHERE c.public_id = $1 FOR UPDATE OF c")
        }
        Engine::Sqlite => format!("SELECT {CASE_COLUMNS} FROM {CASE_FROM} WHERE c.public_id = $1"),
    };
    let row = sqlx::query_as::<_, CaseRow>(&sql)
        .bind(public_id)
        .fetch_one(&mut *conn)
        .await?;
    Ok(row)
}

/// Writes every mutable column of `row` if the stored version is still `row.version`; bumps the
/// version. `Conflict` when someone else changed the case first.
pub async fn update_case(
    conn: &mut AnyConnection,
    row: &CaseRow,
    now: i64,
) -> Result<i64, StoreError> {
    let done = sqlx::query(
        "UPDATE cases SET status = $1, category_code = $2, grid_code = $3, priority = $4, \
         operator_id = $5, unit_id = $6, sign_due = $7, close_due = $8, dispatched_at = $9, \
         signed_at = $10, replied_at = $11, closed_at = $12, extension_requested = $13, \
         supervised = $14, overdue_sign = $15, overdue_close = $16, escalation_step = $17, \
         redo_count = $18, satisfaction = $19, updated_at = $20, version = version + 1, \
         emergency_line = $23, handoff_state = $24, handoff_ref = $25, handoff_at = $26, \
         grid_task = $27 \
         WHERE id = $21 AND version = $22",
    )
    .bind(&row.status)
    .bind(row.category_code.clone())
    .bind(row.grid_code.clone())
    .bind(&row.priority)
    .bind(row.operator_id)
    .bind(row.unit_id.clone())
    .bind(row.sign_due)
    .bind(row.close_due)
    .bind(row.dispatched_at)
    .bind(row.signed_at)
    .bind(row.replied_at)
    .bind(row.closed_at)
    .bind(row.extension_requested)
    .bind(row.supervised)
    .bind(row.overdue_sign)
    .bind(row.overdue_close)
    .bind(row.escalation_step)
    .bind(row.redo_count)
    .bind(row.satisfaction.clone())
    .bind(now)
    .bind(row.id)
    .bind(row.version)
    .bind(row.emergency_line.clone())
    .bind(row.handoff_state.clone())
    .bind(row.handoff_ref.clone())
    .bind(row.handoff_at)
    .bind(row.grid_task.clone())
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::Conflict(format!(
            "case {} was changed concurrently (version {} is stale)",
            row.public_id, row.version
        )));
    }
    Ok(row.version + 1)
}

/// Who took the latest event of `kind` on a case (a user id; `None` when nobody or a job did).
pub async fn last_actor(
    conn: &mut AnyConnection,
    case_id: i64,
    kind: &str,
) -> Result<Option<i64>, StoreError> {
    let row: Option<(Option<i64>,)> = sqlx::query_as(
        "SELECT actor_id FROM case_events WHERE case_id = $1 AND kind = $2 \
         ORDER BY seq DESC LIMIT 1",
    )
    .bind(case_id)
    .bind(kind)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.and_then(|(a,)| a))
}

/// The hours asked for by the latest 延期 request of a case.
pub async fn pending_extension_hours(
    conn: &mut AnyConnection,
    case_id: i64,
) -> Result<Option<i64>, StoreError> {
    let row: Option<(Option<String>,)> = sqlx::query_as(
        "SELECT detail FROM case_events WHERE case_id = $1 AND kind = 'extension_requested' \
         ORDER BY seq DESC LIMIT 1",
    )
    .bind(case_id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row
        .and_then(|(d,)| d)
        .and_then(|d| serde_json::from_str::<serde_json::Value>(&d).ok())
        .and_then(|v| v.get("hours").and_then(|h| h.as_i64())))
}

/// Ids of overdue candidates for the deadline job, claimed for this transaction: cases a unit
/// holds whose 签收 or 办结 deadline passed and that are not yet flagged, or that are flagged and
/// still have escalation steps left. PostgreSQL skips rows another runner holds.
pub async fn claim_overdue(
    conn: &mut AnyConnection,
    engine: Engine,
    now: i64,
    max_steps: i64,
    after_id: i64,
    limit: i64,
) -> Result<Vec<CaseRow>, StoreError> {
    let lock = engine == Engine::Postgres;
    select_overdue(conn, lock, now, max_steps, after_id, limit).await
}

/// The cases [`claim_overdue`] would claim, read without locking them (a look before taking
/// the writer: what it finds is decided again under the lock).
pub async fn overdue_candidates(
    conn: &mut AnyConnection,
    now: i64,
    max_steps: i64,
    after_id: i64,
    limit: i64,
) -> Result<Vec<CaseRow>, StoreError> {
    select_overdue(conn, false, now, max_steps, after_id, limit).await
}

/// `lock`: claim the rows (`FOR UPDATE SKIP LOCKED`, PostgreSQL; SQLite's one writer needs none).
async fn select_overdue(
    conn: &mut AnyConnection,
    lock: bool,
    now: i64,
    max_steps: i64,
    after_id: i64,
    limit: i64,
) -> Result<Vec<CaseRow>, StoreError> {
    let base = format!(
        "SELECT {CASE_COLUMNS} FROM {CASE_FROM} \
         WHERE c.status IN ('dispatched', 'signed', 'in_progress') AND ( \
           (c.status = 'dispatched' AND c.sign_due < $1 AND (c.overdue_sign = 0 OR c.escalation_step < $2)) \
           OR (c.close_due < $1 AND (c.overdue_close = 0 OR c.escalation_step < $2))) \
         AND c.id > $3 ORDER BY c.id LIMIT $4"
    );
    let sql = if lock {
        format!("{base} FOR UPDATE OF c SKIP LOCKED")
    } else {
        base
    };
    let rows = sqlx::query_as::<_, CaseRow>(&sql)
        .bind(now)
        .bind(max_steps)
        .bind(after_id)
        .bind(limit)
        .fetch_all(&mut *conn)
        .await?;
    Ok(rows)
}

impl Store {
    /// One case by public id.
    pub async fn case_by_public_id(&self, public_id: &str) -> Result<CaseRow, StoreError> {
        let sql = format!("SELECT {CASE_COLUMNS} FROM {CASE_FROM} WHERE c.public_id = $1");
        Ok(sqlx::query_as::<_, CaseRow>(&sql)
            .bind(public_id)
            .fetch_one(self.pool())
            .await?)
    }

    /// A case's timeline, oldest first, with the actors' names.
    pub async fn case_events(&self, case_id: i64) -> Result<Vec<EventRow>, StoreError> {
        Ok(sqlx::query_as::<_, EventRow>(
            "SELECT e.seq, e.kind, e.from_status, e.to_status, e.actor_id, u.name AS actor_name, \
             e.unit_id, e.note, e.detail, e.at FROM case_events e \
             LEFT JOIN users u ON u.id = e.actor_id WHERE e.case_id = $1 ORDER BY e.seq",
        )
        .bind(case_id)
        .fetch_all(self.pool())
        .await?)
    }

    /// Cases matching `filter`, newest first, and the total count — counted up to
    /// [`COUNT_CAP`] + 1 rows only, so a total above [`COUNT_CAP`] means "more than that" and
    /// a long history never makes a page slow. Page with [`CaseFilter::before_id`] (keyset):
    /// each page then costs what the first does.
    pub async fn list_cases(&self, filter: &CaseFilter) -> Result<(Vec<CaseRow>, i64), StoreError> {
        let ListSql {
            count_sql,
            list_sql,
            params,
            count_params,
        } = list_sql(filter, self.engine());
        let mut count = sqlx::query_as::<_, (i64,)>(&count_sql);
        let mut list = sqlx::query_as::<_, CaseRow>(&list_sql);
        for (i, p) in params.iter().enumerate() {
            let for_count = i < count_params;
            match p {
                Param::Text(s) => {
                    if for_count {
                        count = count.bind(s.clone());
                    }
                    list = list.bind(s.clone());
                }
                Param::Int(v) => {
                    if for_count {
                        count = count.bind(*v);
                    }
                    list = list.bind(*v);
                }
            }
        }
        let (total,) = count.fetch_one(self.pool()).await?;
        let rows = list.fetch_all(self.pool()).await?;
        Ok((rows, total))
    }

    /// The total of [`Store::list_cases`] alone (capped the same way), for a tab or a badge that
    /// shows how many without listing any.
    pub async fn count_cases(&self, filter: &CaseFilter) -> Result<i64, StoreError> {
        let sql = list_sql(filter, self.engine());
        let mut count = sqlx::query_as::<_, (i64,)>(&sql.count_sql);
        for p in &sql.params[..sql.count_params] {
            count = match p {
                Param::Text(s) => count.bind(s.clone()),
                Param::Int(v) => count.bind(*v),
            };
        }
        let (total,) = count.fetch_one(self.pool()).await?;
        Ok(total)
    }

    /// Number of cases per status (for `/metrics` and dashboards).
    pub async fn case_counts_by_status(&self) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(
            sqlx::query_as::<_, (String, i64)>(
                "SELECT status, COUNT(*) FROM cases GROUP BY status",
            )
            .fetch_all(self.pool())
            .await?,
        )
    }

    /// The caller with this phone number, if known.
    pub async fn caller_by_phone(&self, phone: &str) -> Result<Option<CallerRow>, StoreError> {
        Ok(sqlx::query_as::<_, CallerRow>(
            "SELECT id, phone, name, gender, age_band, occupation, created_at FROM callers \
             WHERE phone = $1",
        )
        .bind(phone)
        .fetch_optional(self.pool())
        .await?)
    }

    /// Outbox messages of a topic, oldest first (for integrations and tests).
    pub async fn outbox(&self, topic: &str, limit: i64) -> Result<Vec<(i64, String)>, StoreError> {
        Ok(sqlx::query_as::<_, (i64, String)>(
            "SELECT id, payload FROM outbox WHERE topic = $1 ORDER BY id LIMIT $2",
        )
        .bind(topic)
        .bind(limit)
        .fetch_all(self.pool())
        .await?)
    }
}
