/*!
Triage models and their training data: the classifier models retrained from the install's closed
cases (`triage_models`, newest in force) and the cases they learn from.
*/

use sqlx::FromRow;

use super::{Store, StoreError};

/// A stored model row.
#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct ModelRow {
    pub id: i64,
    pub trained_at: i64,
    pub examples: i64,
    pub cases: i64,
    pub corrected: i64,
    pub stats: String,
    pub model: String,
}

/// A model to store.
#[derive(Debug, Clone)]
pub struct NewModel<'a> {
    pub trained_at: i64,
    pub examples: i64,
    pub cases: i64,
    pub corrected: i64,
    pub stats: &'a str,
    pub model: &'a str,
}

/// A closed case as a training example: its text, its final category, and the received event's
/// detail (the classifier's suggestion at intake, JSON).
#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct TrainingCase {
    pub content: String,
    pub category_code: String,
    pub intake_detail: Option<String>,
}

impl Store {
    /// Stores a retrained model; returns its id.
    pub async fn save_triage_model(&self, m: &NewModel<'_>) -> Result<i64, StoreError> {
        let mut tx = self.write().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO triage_models (trained_at, examples, cases, corrected, stats, model) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(m.trained_at)
        .bind(m.examples)
        .bind(m.cases)
        .bind(m.corrected)
        .bind(m.stats)
        .bind(m.model)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The id of the newest stored model, if any (cheap: a poll asks it).
    pub async fn latest_triage_model_id(&self) -> Result<Option<i64>, StoreError> {
        let row: Option<(i64,)> =
            sqlx::query_as("SELECT id FROM triage_models ORDER BY id DESC LIMIT 1")
                .fetch_optional(self.pool())
                .await?;
        Ok(row.map(|r| r.0))
    }

    /// The newest stored model, if any.
    pub async fn latest_triage_model(&self) -> Result<Option<ModelRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, trained_at, examples, cases, corrected, stats, model FROM triage_models \
             ORDER BY id DESC LIMIT 1",
        )
        .fetch_optional(self.pool())
        .await?)
    }

    /// The newest `limit` closed, categorised cases that stayed with the center (not handed to
    /// an emergency line), with the classifier's verdict at intake.
    pub async fn triage_training_cases(&self, limit: i64) -> Result<Vec<TrainingCase>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT c.content, c.category_code, e.detail AS intake_detail FROM cases c \
             LEFT JOIN case_events e ON e.case_id = c.id AND e.seq = 1 \
             WHERE c.status = 'closed' AND c.category_code IS NOT NULL \
             AND c.emergency_line IS NULL \
             ORDER BY c.id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(self.pool())
        .await?)
    }
}
