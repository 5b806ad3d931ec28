//! What the monthly report reads beyond the rollups: the open cases past a deadline, longest
//! late first (bounded by the open cases, found through the status indexes).

use super::{Store, StoreError};

/// An open case past its sign or close deadline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverdueCase {
    pub public_id: String,
    pub category: Option<String>,
    pub unit: Option<String>,
    pub status: String,
    pub sign_due: Option<i64>,
    pub close_due: Option<i64>,
    pub overdue_close: bool,
}

type Read = (
    String,
    Option<String>,
    Option<String>,
    String,
    Option<i64>,
    Option<i64>,
    i64,
);

impl Store {
    /// At most `limit` open cases flagged overdue, the earliest missed deadline first.
    pub async fn overdue_watch(&self, limit: i64) -> Result<Vec<OverdueCase>, StoreError> {
        let rows: Vec<Read> = sqlx::query_as(
            "SELECT public_id, category_code, unit_id, status, sign_due, close_due, overdue_close \
             FROM cases WHERE status NOT IN ('closed', 'transferred_police') \
             AND (overdue_sign = 1 OR overdue_close = 1) \
             ORDER BY CASE WHEN overdue_close = 1 THEN close_due ELSE sign_due END, id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| OverdueCase {
                public_id: r.0,
                category: r.1,
                unit: r.2,
                status: r.3,
                sign_due: r.4,
                close_due: r.5,
                overdue_close: r.6 != 0,
            })
            .collect())
    }
}
