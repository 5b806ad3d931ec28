//! What 一事多诉 reads: the open cases received near a case's time (the candidates its text is
//! compared with), bounded by the time window and a row limit, through `cases_created`.

use super::{Store, StoreError};

/// An open case as the near-duplicate check reads it (no caller data).
#[derive(Debug, Clone, PartialEq)]
pub struct NearCase {
    pub id: i64,
    pub public_id: String,
    pub content: String,
    pub category_code: Option<String>,
    pub grid_code: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub status: String,
    pub created_at: i64,
}

type Read = (
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<f64>,
    Option<f64>,
    String,
    i64,
);

impl Store {
    /// Open cases other than `exclude` received in `[from, to]`, newest first, at most `limit`.
    pub async fn open_cases_between(
        &self,
        exclude: i64,
        from: i64,
        to: i64,
        limit: i64,
    ) -> Result<Vec<NearCase>, StoreError> {
        let rows: Vec<Read> = sqlx::query_as(
            "SELECT id, public_id, content, category_code, grid_code, lat, lon, status, created_at \
             FROM cases WHERE created_at >= $1 AND created_at <= $2 AND id <> $3 \
             AND status NOT IN ('closed', 'transferred_police') \
             ORDER BY created_at DESC LIMIT $4",
        )
        .bind(from)
        .bind(to)
        .bind(exclude)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| NearCase {
                id: r.0,
                public_id: r.1,
                content: r.2,
                category_code: r.3,
                grid_code: r.4,
                lat: r.5,
                lon: r.6,
                status: r.7,
                created_at: r.8,
            })
            .collect())
    }
}
