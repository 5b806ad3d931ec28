//! Read-only aggregates for the console: the dashboard's counts and series, and the change
//! watermark the live-update stream reads. Owned by the console; every query is parameterized
//! and runs unchanged on SQLite and PostgreSQL.
//!
//! None of them grows with the history: what was received, closed or followed up is summed
//! from the rollups (`store::rollups`, kept at write time) over the days shown; what is open now
//! is counted through the partial indexes on open cases (migration 0150), whose size is the
//! work in hand, not the years behind it; the watermark reads index ends. Sums are cast to
//! BIGINT (PostgreSQL's SUM of a BIGINT is NUMERIC).

use super::cases::OPEN_TERM;
use super::{Store, StoreError};

/// Milliseconds in a day and the Asia/Shanghai offset, for day buckets in SQL.
const DAY_MS: i64 = 86_400_000;
const SHANGHAI_MS: i64 = 8 * 3_600_000;

/// Days the satisfaction rate of the dashboard covers (the span of its charts).
pub const SATISFACTION_DAYS: i64 = 30;

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

/// Open and overdue-open cases, through the partial index on open cases.
const OPEN_COUNTS: &str = "SELECT COUNT(*), \
    COUNT(CASE WHEN c.overdue_sign = 1 OR c.overdue_close = 1 THEN 1 END) FROM cases c WHERE ";

impl Store {
    /// Headline counts; `day_start` is the start of today (Asia/Shanghai) in epoch ms.
    pub async fn console_headline(&self, day_start: i64) -> Result<Headline, StoreError> {
        let today = shanghai_day(day_start);
        let sums: Vec<(String, i64, i64)> = sqlx::query_as(
            "SELECT metric, CAST(SUM(CASE WHEN day = $1 THEN n ELSE 0 END) AS BIGINT), \
               CAST(SUM(n) AS BIGINT) FROM rollups \
             WHERE metric IN ('received', 'closed', 'followed_up', 'satisfied') \
               AND day >= $2 AND day <= $1 GROUP BY metric",
        )
        .bind(today)
        .bind(today - (SATISFACTION_DAYS - 1))
        .fetch_all(self.pool())
        .await?;
        let sum = |metric: &str, today_only: bool| {
            sums.iter()
                .find(|(m, _, _)| m == metric)
                .map(|(_, t, all)| if today_only { *t } else { *all })
                .unwrap_or(0)
        };
        let (open, overdue): (i64, i64) = sqlx::query_as(&format!("{OPEN_COUNTS}{OPEN_TERM}"))
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
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT category, CAST(SUM(n) AS BIGINT) AS total FROM rollups \
             WHERE metric = 'received' AND day >= $1 GROUP BY category \
             HAVING SUM(n) <> 0 ORDER BY total DESC, category",
        )
        .bind(shanghai_day(since))
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(|(k, n)| (absent(k), n)).collect())
    }

    /// Cases received since `since`, by grid code (the caller folds them into townships).
    pub async fn console_by_grid(
        &self,
        since: i64,
    ) -> Result<Vec<(Option<String>, i64)>, StoreError> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT grid, CAST(SUM(n) AS BIGINT) FROM rollups \
             WHERE metric = 'received' AND day >= $1 GROUP BY grid HAVING SUM(n) <> 0",
        )
        .bind(shanghai_day(since))
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(|(k, n)| (absent(k), n)).collect())
    }

    /// Cases received per Asia/Shanghai day since `since`: (day number since the epoch, count).
    pub async fn console_daily(&self, since: i64) -> Result<Vec<(i64, i64)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT day, CAST(SUM(n) AS BIGINT) FROM rollups \
             WHERE metric = 'received' AND day >= $1 GROUP BY day HAVING SUM(n) <> 0 \
             ORDER BY day",
        )
        .bind(shanghai_day(since))
        .fetch_all(self.pool())
        .await?)
    }

    /// The change watermark: newest case, latest update, open overdue cases. Each part reads
    /// an index (the maxima one entry each, the count the open cases only): a stream may read
    /// it once a second on a busy center at no cost that grows with the history.
    pub async fn console_watermark(&self) -> Result<Watermark, StoreError> {
        // Separate subqueries: SQLite reads a MAX from an index end only when it stands alone.
        let sql = format!(
            "SELECT COALESCE((SELECT MAX(id) FROM cases), 0), \
               COALESCE((SELECT MAX(updated_at) FROM cases), 0), \
               (SELECT COUNT(*) FROM cases c WHERE {OPEN_TERM} \
                  AND (c.overdue_sign = 1 OR c.overdue_close = 1))"
        );
        let (last_id, last_update, overdue): (i64, i64, i64) =
            sqlx::query_as(&sql).fetch_one(self.pool()).await?;
        Ok(Watermark {
            last_id,
            last_update,
            overdue,
        })
    }
}

/// A rollup key column's "none" (`''`) as `None`, as the cases' NULL was.
fn absent(key: String) -> Option<String> {
    (!key.is_empty()).then_some(key)
}

impl Store {
    /// Vulnerable-household kinds registered under a phone number, with their grid unit: the
    /// screen pop's flag. Callers must check the role may see the registry and audit the read.
    pub async fn console_households_by_phone(
        &self,
        phone: &str,
    ) -> Result<Vec<(String, Option<String>)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT kind, grid_code FROM households WHERE phone = $1 ORDER BY id LIMIT 10",
        )
        .bind(phone)
        .fetch_all(self.pool())
        .await?)
    }
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
