//! Read-only aggregates for the console: the dashboard's counts and series, and the change
//! watermark the live-update stream polls. Owned by the console; every query is parameterized
//! and runs unchanged on SQLite and PostgreSQL (COUNT and integer arithmetic only — no SUM,
//! whose PostgreSQL type is NUMERIC).

use super::{Store, StoreError};

/// Milliseconds in a day and the Asia/Shanghai offset, for day buckets in SQL.
const DAY_MS: i64 = 86_400_000;
const SHANGHAI_MS: i64 = 8 * 3_600_000;

/// Headline numbers of the dashboard.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headline {
    pub received_today: i64,
    pub closed_today: i64,
    pub open: i64,
    pub overdue: i64,
    /// Follow-ups with an outcome, and how many were satisfied or mostly satisfied.
    pub followed_up: i64,
    pub satisfied: i64,
}

/// What changed last: the live stream emits an event when this moves.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Watermark {
    pub cases: i64,
    pub last_update: i64,
    pub overdue: i64,
}

const OPEN: &str = "status NOT IN ('closed', 'transferred_police')";

impl Store {
    /// Headline counts; `day_start` is the start of today (Asia/Shanghai) in epoch ms.
    pub async fn console_headline(&self, day_start: i64) -> Result<Headline, StoreError> {
        let sql = format!(
            "SELECT \
               COUNT(CASE WHEN created_at >= $1 THEN 1 END), \
               COUNT(CASE WHEN closed_at >= $1 THEN 1 END), \
               COUNT(CASE WHEN {OPEN} THEN 1 END), \
               COUNT(CASE WHEN {OPEN} AND (overdue_sign = 1 OR overdue_close = 1) THEN 1 END), \
               COUNT(satisfaction), \
               COUNT(CASE WHEN satisfaction IN ('satisfied', 'mostly_satisfied') THEN 1 END) \
             FROM cases"
        );
        let row: (i64, i64, i64, i64, i64, i64) = sqlx::query_as(&sql)
            .bind(day_start)
            .fetch_one(self.pool())
            .await?;
        Ok(Headline {
            received_today: row.0,
            closed_today: row.1,
            open: row.2,
            overdue: row.3,
            followed_up: row.4,
            satisfied: row.5,
        })
    }

    /// Cases received since `since`, by category code (NULL: unclassified), most first.
    pub async fn console_by_category(
        &self,
        since: i64,
    ) -> Result<Vec<(Option<String>, i64)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT category_code, COUNT(*) AS n FROM cases WHERE created_at >= $1 \
             GROUP BY category_code ORDER BY n DESC, category_code",
        )
        .bind(since)
        .fetch_all(self.pool())
        .await?)
    }

    /// Cases received since `since`, by grid code (the caller folds them into townships).
    pub async fn console_by_grid(
        &self,
        since: i64,
    ) -> Result<Vec<(Option<String>, i64)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT grid_code, COUNT(*) FROM cases WHERE created_at >= $1 GROUP BY grid_code",
        )
        .bind(since)
        .fetch_all(self.pool())
        .await?)
    }

    /// Cases received per Asia/Shanghai day since `since`: (day number since the epoch, count).
    pub async fn console_daily(&self, since: i64) -> Result<Vec<(i64, i64)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT (created_at + $2) / $3 AS day, COUNT(*) FROM cases WHERE created_at >= $1 \
             GROUP BY (created_at + $2) / $3 ORDER BY day",
        )
        .bind(since)
        .bind(SHANGHAI_MS)
        .bind(DAY_MS)
        .fetch_all(self.pool())
        .await?)
    }

    /// The change watermark: number of cases, latest update, open overdue cases.
    pub async fn console_watermark(&self) -> Result<Watermark, StoreError> {
        let sql = format!(
            "SELECT COUNT(*), COALESCE(MAX(updated_at), 0), \
               COUNT(CASE WHEN {OPEN} AND (overdue_sign = 1 OR overdue_close = 1) THEN 1 END) \
             FROM cases"
        );
        let (cases, last_update, overdue): (i64, i64, i64) =
            sqlx::query_as(&sql).fetch_one(self.pool()).await?;
        Ok(Watermark {
            cases,
            last_update,
            overdue,
        })
    }
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
