/*!
The deadline job: marks overdue cases and escalates them.

Every `deadline_scan` interval each `m110d` runs [`scan_deadlines`] (as the [`DeadlineScan`] job): in one transaction it claims
a batch of cases a unit holds whose 签收 deadline (dispatched, not signed) or 办结 deadline (not
replied) has passed, and for each

- marks it overdue once (`overdue_sign` / `overdue_close` flag + an event of that kind), and
- fires the next step of the region's escalation chain for the category once its
  `after_minutes` past the missed deadline have elapsed (`escalated` event + `case.escalated`
  outbox message naming the unit to press), advancing `escalation_step`.

It also marks hand-offs to an emergency line that wait too long for the line's acknowledgement
([`alert_handoffs`]).

A pass first looks without a lock ([`overdue_candidates`] on a read connection) and takes the
writer only when some case has something due: the claim reads every case a unit holds whose
deadline passed — tens of thousands on a city's install, most of them already marked and
waiting for a later escalation step — and inside a write transaction that held the one SQLite
writer (and every intake behind it) for up to a few hundred milliseconds every pass.

**Several servers, one database.** On PostgreSQL the batch is claimed with
`SELECT … FOR UPDATE SKIP LOCKED`: a second runner skips rows the first holds, and when it does
lock a row, PostgreSQL re-checks the `WHERE` against the committed row, so a flag set by the
first runner excludes it — no case is marked twice and none is lost (an unclaimed row is simply
taken by the next scan). The flag update is also guarded by its own condition. On SQLite there
is one writer at a time (`BEGIN IMMEDIATE`), which gives the same guarantee.
*/

use std::sync::Arc;

use serde_json::json;

use super::{Counts, Job};
use crate::engine::region::RegionIndex;
use crate::model::Status;
use crate::model::time::render_time;
use crate::store::cases::{
    CaseRow, NewEvent, append_events, claim_overdue, enqueue, overdue_candidates, update_case,
};
use crate::store::{Store, StoreError};

/// Cases claimed per transaction: small enough that a backlog (a large install's first pass,
/// a unit that stopped signing) is worked off in short holds of the writer, which logins and
/// intakes queue behind (200 held it for seconds at 10 M cases).
pub const BATCH: i64 = 50;

/// What one scan did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanReport {
    pub overdue_sign: u64,
    pub overdue_close: u64,
    pub escalated: u64,
}

impl ScanReport {
    pub fn total(&self) -> u64 {
        self.overdue_sign + self.overdue_close + self.escalated
    }
}

/// What a scan does to one claimed case: its next state, the events and escalation messages
/// (empty when nothing is due yet), and what it counts.
#[derive(Default)]
struct RowWork {
    events: Vec<NewEvent>,
    outbox: Vec<serde_json::Value>,
    overdue_sign: u64,
    overdue_close: u64,
    escalated: u64,
}

/// The work due on `row` at `now` (a pure function of the row: the read-only look and the
/// locked pass decide alike).
fn work_on(row: &CaseRow, region: &RegionIndex, now: i64) -> (CaseRow, RowWork) {
    let mut next = row.clone();
    let mut work = RowWork::default();

    let status = Status::parse(&row.status).unwrap_or(Status::Dispatched);
    if status == Status::Dispatched
        && row.overdue_sign == 0
        && row.sign_due.is_some_and(|d| d < now)
    {
        next.overdue_sign = 1;
        work.events.push(NewEvent {
            kind: "overdue_sign".into(),
            unit_id: row.unit_id.clone(),
            detail: Some(json!({"sign_due": row.sign_due.map(render_time)})),
            ..Default::default()
        });
        work.overdue_sign += 1;
    }
    if row.overdue_close == 0 && row.close_due.is_some_and(|d| d < now) {
        next.overdue_close = 1;
        work.events.push(NewEvent {
            kind: "overdue_close".into(),
            unit_id: row.unit_id.clone(),
            detail: Some(json!({"close_due": row.close_due.map(render_time)})),
            ..Default::default()
        });
        work.overdue_close += 1;
    }
    // The deadline that was missed first drives the escalation clock.
    let missed = [
        (next.overdue_sign == 1 && status == Status::Dispatched)
            .then_some(row.sign_due)
            .flatten(),
        (next.overdue_close == 1).then_some(row.close_due).flatten(),
    ]
    .into_iter()
    .flatten()
    .min();

    if let (Some(missed), Some(chain)) =
        (missed, region.escalation_for(row.category_code.as_deref()))
    {
        while let Some(step) = chain.steps.get(next.escalation_step as usize) {
            if now < missed + i64::from(step.after_minutes) * 60_000 {
                break;
            }
            next.escalation_step += 1;
            let payload = json!({
                "case": row.public_id,
                "step": next.escalation_step,
                "unit": step.unit,
                "assigned_unit": row.unit_id,
                "deadline": if next.overdue_sign == 1 && status == Status::Dispatched { "sign" } else { "close" },
                "missed_at": render_time(missed),
                "at": render_time(now),
            });
            work.events.push(NewEvent {
                kind: "escalated".into(),
                unit_id: Some(step.unit.clone()),
                detail: Some(payload.clone()),
                ..Default::default()
            });
            work.outbox.push(payload);
            work.escalated += 1;
        }
    }
    (next, work)
}

/// One pass over overdue cases at time `now` (batches until nothing is left to do).
///
/// It first looks, on a read connection, for a case with something due: most passes find none
/// (cases already marked, waiting for a later escalation step), and then take no write lock at
/// all — at city scale the claim reads every case a unit holds, which inside a write
/// transaction held the one SQLite writer for a fraction of a second every pass.
pub async fn scan_deadlines(
    store: &Store,
    region: &RegionIndex,
    now: i64,
) -> Result<ScanReport, StoreError> {
    let mut report = ScanReport::default();
    let max_steps = region.max_escalation_steps();
    if !anything_due(store, region, now, max_steps).await? {
        return Ok(report);
    }
    let mut after_id = 0;
    loop {
        let mut tx = store.write().await?;
        let rows = claim_overdue(&mut tx, store.engine(), now, max_steps, after_id, BATCH).await?;
        for row in &rows {
            after_id = after_id.max(row.id);
            let (next, work) = work_on(row, region, now);
            if work.events.is_empty() {
                // Nothing due yet for this case (a later escalation step); keep it untouched.
                continue;
            }
            report.overdue_sign += work.overdue_sign;
            report.overdue_close += work.overdue_close;
            report.escalated += work.escalated;
            update_case(&mut tx, &next, now).await?;
            append_events(&mut tx, row.id, &work.events, now, None).await?;
            for p in &work.outbox {
                enqueue(&mut tx, "case.escalated", p, now).await?;
            }
        }
        tx.commit().await?;
        if (rows.len() as i64) < BATCH {
            break;
        }
    }
    Ok(report)
}

/// Whether any case the claim would return has something due, read without a lock (a case
/// that changes meanwhile is decided again under the lock).
async fn anything_due(
    store: &Store,
    region: &RegionIndex,
    now: i64,
    max_steps: i64,
) -> Result<bool, StoreError> {
    let mut conn = store.pool().acquire().await?;
    let mut after_id = 0;
    loop {
        let rows = overdue_candidates(&mut conn, now, max_steps, after_id, BATCH).await?;
        if rows
            .iter()
            .any(|row| !work_on(row, region, now).1.events.is_empty())
        {
            return Ok(true);
        }
        match rows.last() {
            Some(last) if rows.len() as i64 == BATCH => after_id = last.id,
            _ => return Ok(false),
        }
    }
}

/// Marks, once, every hand-off that has waited longer than `ack_ms` for its line's
/// acknowledgement (`handoff_alerted_at` + a `handoff_overdue` event): the center's dashboard
/// shows the count and the 待确认转警 queue turns the row red. Guarded by its own condition, so
/// two servers never mark one twice.
pub async fn alert_handoffs(store: &Store, now: i64, ack_ms: i64) -> Result<u64, StoreError> {
    let mut tx = store.write().await?;
    let rows: Vec<(i64, Option<String>, i64)> = sqlx::query_as(
        "SELECT id, emergency_line, handoff_at FROM cases WHERE status = 'transferred_police' \
         AND handoff_state = 'awaiting' AND handoff_alerted_at IS NULL AND handoff_at < $1 \
         ORDER BY handoff_at LIMIT $2",
    )
    .bind(now - ack_ms)
    .bind(BATCH)
    .fetch_all(&mut *tx)
    .await?;
    let mut n = 0;
    for (id, line, at) in rows {
        let done = sqlx::query(
            "UPDATE cases SET handoff_alerted_at = $1, updated_at = $1, version = version + 1 \
             WHERE id = $2 AND handoff_alerted_at IS NULL AND handoff_state = 'awaiting'",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if done == 0 {
            continue;
        }
        append_events(
            &mut tx,
            id,
            &[NewEvent {
                kind: "handoff_overdue".into(),
                from_status: Some("transferred_police".into()),
                to_status: Some("transferred_police".into()),
                detail: Some(json!({
                    "line": line,
                    "handed_off_at": render_time(at),
                    "waited_minutes": (now - at) / 60_000,
                })),
                ..Default::default()
            }],
            now,
            None,
        )
        .await?;
        n += 1;
    }
    tx.commit().await?;
    Ok(n)
}

/// [`scan_deadlines`] and [`alert_handoffs`] as a [`Job`] for the runner.
pub struct DeadlineScan {
    pub store: Store,
    pub region: Arc<RegionIndex>,
    /// How long a hand-off may wait for its acknowledgement (`handoff_ack_minutes`).
    pub handoff_ack_ms: i64,
}

impl Job for DeadlineScan {
    fn name(&self) -> &'static str {
        "deadlines"
    }

    async fn run(&self, now: i64) -> Result<Counts, StoreError> {
        let r = scan_deadlines(&self.store, &self.region, now).await?;
        let h = alert_handoffs(&self.store, now, self.handoff_ack_ms).await?;
        Ok(vec![
            ("overdue_sign", r.overdue_sign),
            ("overdue_close", r.overdue_close),
            ("escalated", r.escalated),
            ("handoff_overdue", h),
        ])
    }
}
