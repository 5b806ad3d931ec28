/*!
The timelines the unit scorecards fold (`engine::scorecards`): every event of every case with an
assignment (派单, 改派, re-route) dispatched in the period, in timeline order. The period's
assignments are found through `case_events (kind, at)`, so the read is bounded by the period's
cases, not by the whole history.
*/

use super::{Store, StoreError};

/// One timeline event as the scorecards read it.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreEvent {
    pub case_id: i64,
    pub kind: String,
    pub unit_id: Option<String>,
    /// Epoch ms.
    pub at: i64,
    pub detail: serde_json::Value,
}

/// (case id, kind, unit, at, detail JSON) as read.
type EventRow = (i64, String, Option<String>, i64, Option<String>);

impl Store {
    /// Events of the cases assigned to a unit in `[from, to)`, by case, then timeline order.
    pub async fn scorecard_events(
        &self,
        from: i64,
        to: i64,
    ) -> Result<Vec<ScoreEvent>, StoreError> {
        let rows: Vec<EventRow> = sqlx::query_as(
            "SELECT e.case_id, e.kind, e.unit_id, e.at, e.detail FROM case_events e \
             WHERE e.case_id IN (SELECT d.case_id FROM case_events d \
                 WHERE d.kind IN ('dispatched', 'redispatched', 'rerouted') \
                 AND d.at >= $1 AND d.at < $2) \
             ORDER BY e.case_id, e.seq",
        )
        .bind(from)
        .bind(to)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(case_id, kind, unit_id, at, detail)| ScoreEvent {
                case_id,
                kind,
                unit_id,
                at,
                detail: detail
                    .as_deref()
                    .and_then(|d| serde_json::from_str(d).ok())
                    .unwrap_or_default(),
            })
            .collect())
    }
}
