//! Read-only aggregates for the console: the dashboard's counts and series, and the change
//! watermark the live-update stream reads. Owned by the console; every query is parameterized
//! and runs unchanged on SQLite and PostgreSQL.
//!
//! None of them grows with the history: what was received, closed or followed up is summed
//! from the rollups over the days shown — from their per-day margins (`store::margins`) for
//! the days that are over, so a 30-day chart reads a few rows per category and day however
//! busy the center is; what is open now
//! is counted through the partial indexes on open cases (migration 0150), whose size is the
//! work in hand, not the years behind it; the watermark reads index ends. Sums are cast to
//! BIGINT (PostgreSQL's SUM of a BIGINT is NUMERIC).

use sqlx::AnyPool;

use super::cases::{OPEN_TERM, OVERDUE_TERM};
use super::rollups::{Dim, RollupFilter};
use super::{Engine, Store, StoreError};

/// Milliseconds in a day and the Asia/Shanghai offset, for day buckets in SQL.
const DAY_MS: i64 = 86_400_000;
const SHANGHAI_MS: i64 = 8 * 3_600_000;

/// Days the satisfaction rate of the dashboard covers (the span of its charts).
pub const SATISFACTION_DAYS: i64 = 30;

/// The rollups of `metrics` from day `from_day` on (every later day, in case a clock runs ahead).
fn rollups_since(from_day: i64, metrics: &[&str]) -> RollupFilter {
    RollupFilter {
        from_day,
        to_day: i64::MAX,
        metrics: Some(metrics.iter().map(|m| m.to_string()).collect()),
        ..RollupFilter::default()
    }
}

/// Headline numbers of the dashboard.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headline {
    pub received_today: i64,
    pub closed_today: i64,
    pub open: i64,
    pub overdue: i64,
    /// Follow-ups with an outcome in the last [`SATISFACTION_DAYS`] days, and how many were
    /// satisfied or mostly satisfied.
    pub followed_up: i64,
    pub satisfied: i64,
}

/// What changed last: the live stream emits an event when this moves.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Watermark {
    /// The newest case's id (a new case moves it).
    pub last_id: i64,
    /// The latest `updated_at` of any case (every change of a case moves it).
    pub last_update: i64,
    /// Open cases past a deadline.
    pub overdue: i64,
}

/// Open overdue cases, through their own partial index `cases_overdue_open` (migration 0170): a
/// handful of entries, not every open case and a table read per case. The WHERE term repeats
/// the index's word for word, which both planners need; SQLite's, without statistics, still
/// prefers the status index and a row read per open case, so the index is named there.
/// PostgreSQL picks it from its statistics. Plan checked in `store::cases::plans`.
pub(super) fn overdue_count_sql(engine: Engine) -> String {
    let from = match engine {
        Engine::Sqlite => "cases c INDEXED BY cases_overdue_open",
        Engine::Postgres => "cases c",
    };
    format!("SELECT COUNT(*) FROM {from} WHERE {OVERDUE_TERM}")
}

/// Open cases (an index read alone, no row read) and open overdue cases ([`overdue_count_sql`])
/// in one query.
pub(super) fn open_counts_sql(engine: Engine) -> String {
    format!(
        "SELECT COUNT(*), ({}) FROM cases c WHERE {OPEN_TERM}",
        overdue_count_sql(engine)
    )
}

impl Store {
    /// Headline counts; `day_start` is the start of today (Asia/Shanghai) in epoch ms.
    pub async fn console_headline(&self, day_start: i64) -> Result<Headline, StoreError> {
        let today = shanghai_day(day_start);
        let rows = self
            .rollup_sums(
                &rollups_since(
                    today - (SATISFACTION_DAYS - 1),
                    &["received", "closed", "followed_up", "satisfied"],
                ),
                &[Dim::Day],
            )
            .await?;
        let sum = |metric: &str, today_only: bool| {
            rows.iter()
                .filter(|r| r.metric == metric)
                .filter(|r| !today_only || r.keys[0] == today.to_string())
                .map(|r| r.n)
                .sum::<i64>()
        };
        let (open, overdue): (i64, i64) = sqlx::query_as(&open_counts_sql(self.engine()))
            .fetch_one(self.pool())
            .await?;
        Ok(Headline {
            received_today: sum("received", true),
            closed_today: sum("closed", true),
            open,
            overdue,
            followed_up: sum("followed_up", false),
            satisfied: sum("satisfied", false),
        })
    }

    /// Cases received since `since`, by category code (NULL: unclassified), most first.
    pub async fn console_by_category(
        &self,
        since: i64,
    ) -> Result<Vec<(Option<String>, i64)>, StoreError> {
        let mut rows: Vec<(String, i64)> = self
            .rollup_sums(
                &rollups_since(shanghai_day(since), &["received"]),
                &[Dim::Category],
            )
            .await?
            .into_iter()
            .map(|r| (r.keys[0].clone(), r.n))
            .collect();
        rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Ok(rows.into_iter().map(|(k, n)| (absent(k), n)).collect())
    }

    /// Cases received since `since`, by grid code (the caller folds them into townships).
    pub async fn console_by_grid(
        &self,
        since: i64,
    ) -> Result<Vec<(Option<String>, i64)>, StoreError> {
        let rows: Vec<(String, i64)> = self
            .rollup_sums(
                &rollups_since(shanghai_day(since), &["received"]),
                &[Dim::Grid],
            )
            .await?
            .into_iter()
            .map(|r| (r.keys[0].clone(), r.n))
            .collect();
        Ok(rows.into_iter().map(|(k, n)| (absent(k), n)).collect())
    }

    /// Cases received per Asia/Shanghai day since `since`: (day number since the epoch, count).
    pub async fn console_daily(&self, since: i64) -> Result<Vec<(i64, i64)>, StoreError> {
        let mut days: Vec<(i64, i64)> = self
            .rollup_sums(
                &rollups_since(shanghai_day(since), &["received"]),
                &[Dim::Day],
            )
            .await?
            .into_iter()
            .filter_map(|r| Some((r.keys[0].parse().ok()?, r.n)))
            .collect();
        days.sort();
        Ok(days)
    }

    /// The change watermark: newest case, latest update, open overdue cases. Each part reads
    /// an index (the maxima one entry each, the count the overdue open cases only): the
    /// store's one watermark reader ([`super::watermark`]) reads it at most once a second on a
    /// busy center, at no cost that grows with the history or the open work.
    pub async fn console_watermark(&self) -> Result<Watermark, StoreError> {
        read_watermark(self.pool(), self.engine()).await
    }
}

/// [`Store::console_watermark`] on a pool: the watermark reader holds the pool, not the store.
pub(super) async fn read_watermark(
    pool: &AnyPool,
    engine: Engine,
) -> Result<Watermark, StoreError> {
    // Separate subqueries: SQLite reads a MAX from an index end only when it stands alone.
    let sql = format!(
        "SELECT COALESCE((SELECT MAX(id) FROM cases), 0), \
           COALESCE((SELECT MAX(updated_at) FROM cases), 0), \
           ({})",
        overdue_count_sql(engine)
    );
    let (last_id, last_update, overdue): (i64, i64, i64) =
        sqlx::query_as(&sql).fetch_one(pool).await?;
    Ok(Watermark {
        last_id,
        last_update,
        overdue,
    })
}

/// A rollup key column's "none" (`''`) as `None`, as the cases' NULL was.
fn absent(key: String) -> Option<String> {
    (!key.is_empty()).then_some(key)
}

/// The Asia/Shanghai day number of an epoch-ms instant, matching [`Store::console_daily`].
pub fn shanghai_day(ms: i64) -> i64 {
    (ms + SHANGHAI_MS).div_euclid(DAY_MS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testdb::{TestDb, test_engines};

    #[test]
    fn day_numbers_follow_shanghai_midnight() {
        // 2026-11-28T16:00:00Z is midnight in Shanghai: a new day starts there.
        let midnight = 1_795_881_600_000;
        assert_eq!(shanghai_day(midnight) - shanghai_day(midnight - 1), 1);
        assert_eq!(shanghai_day(midnight), shanghai_day(midnight + DAY_MS - 1));
    }

    #[tokio::test]
    async fn empty_database_has_zero_counts() {
        for engine in test_engines() {
            let db = TestDb::new(engine).await;
            let store = &db.store;
            assert_eq!(
                store.console_headline(0).await.unwrap(),
                Headline::default()
            );
            assert!(store.console_by_category(0).await.unwrap().is_empty());
            assert!(store.console_daily(0).await.unwrap().is_empty());
            assert_eq!(
                store.console_watermark().await.unwrap(),
                Watermark::default()
            );
        }
    }
}
