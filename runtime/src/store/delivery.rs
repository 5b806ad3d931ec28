/*!
The outbox as the delivery worker sees it: claim due messages under a lease (`FOR UPDATE SKIP
LOCKED` on PostgreSQL, the single writer on SQLite), record each attempt, and mark a message
delivered, scheduled again, or dead. A message is marked delivered only after the receiver's 2xx,
so a crash between sending and recording sends it again (at least once; receivers deduplicate on
the event id). A hand-off acknowledged by the line's response is recorded on the case here too.
*/

use sqlx::FromRow;

use super::cases::{NewEvent, append_events};
use super::{Engine, Store, StoreError};

/// A message claimed for delivery.
#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct OutboxMessage {
    pub id: i64,
    pub topic: String,
    pub payload: String,
    pub platform_id: Option<String>,
    pub attempts: i64,
    pub created_at: i64,
}

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptOutcome {
    pub at: i64,
    pub status_code: Option<i64>,
    pub error: Option<String>,
    pub duration_ms: i64,
    /// `delivered`, `pending` (try again at `next_attempt_at`) or `dead`.
    pub state: &'static str,
    pub next_attempt_at: i64,
}

/// Messages per platform and state (for `/metrics` and the console).
#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct OutboxCount {
    pub platform_id: Option<String>,
    pub state: String,
    pub n: i64,
}

impl Store {
    /// Claims up to `limit` due messages for `holder` until `now + lease_ms`.
    pub async fn claim_outbox(
        &self,
        holder: &str,
        now: i64,
        lease_ms: i64,
        limit: i64,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        let base = "SELECT id, topic, payload, platform_id, attempts, created_at FROM outbox \
                    WHERE state = 'pending' AND platform_id IS NOT NULL AND next_attempt_at <= $1 \
                    AND (lease_until IS NULL OR lease_until < $1) ORDER BY id LIMIT $2";
        let sql = match self.engine() {
            Engine::Postgres => format!("{base} FOR UPDATE SKIP LOCKED"),
            Engine::Sqlite => base.to_string(),
        };
        let mut tx = self.write().await?;
        let rows: Vec<OutboxMessage> = sqlx::query_as(&sql)
            .bind(now)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?;
        for m in &rows {
            sqlx::query("UPDATE outbox SET lease_until = $1, leased_by = $2 WHERE id = $3")
                .bind(now + lease_ms)
                .bind(holder)
                .bind(m.id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(rows)
    }

    /// Records an attempt and where the message stands now. Only the lease holder may; a
    /// message whose lease was taken over is left to its new holder.
    pub async fn finish_attempt(
        &self,
        id: i64,
        holder: &str,
        o: &AttemptOutcome,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO outbox_attempts (message_id, at, status_code, error, duration_ms) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(o.at)
        .bind(o.status_code)
        .bind(o.error.clone())
        .bind(o.duration_ms)
        .execute(&mut *tx)
        .await?;
        let delivered_at = (o.state == "delivered").then_some(o.at);
        let done = sqlx::query(
            "UPDATE outbox SET state = $1, attempts = attempts + 1, last_error = $2, \
             next_attempt_at = $3, delivered_at = $4, lease_until = NULL, leased_by = NULL \
             WHERE id = $5 AND leased_by = $6 AND state = 'pending'",
        )
        .bind(o.state)
        .bind(o.error.clone())
        .bind(o.next_attempt_at)
        .bind(delivered_at)
        .bind(id)
        .bind(holder)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// Gives a claimed message back untouched (its platform's circuit is open).
    pub async fn release_outbox(
        &self,
        id: i64,
        holder: &str,
        retry_at: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        sqlx::query(
            "UPDATE outbox SET lease_until = NULL, leased_by = NULL, next_attempt_at = $1 \
             WHERE id = $2 AND leased_by = $3",
        )
        .bind(retry_at)
        .bind(id)
        .bind(holder)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Messages per platform and state.
    pub async fn outbox_counts(&self) -> Result<Vec<OutboxCount>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT platform_id, state, COUNT(*) AS n FROM outbox \
             GROUP BY platform_id, state ORDER BY platform_id, state",
        )
        .fetch_all(self.pool())
        .await?)
    }

    /// Delivery latency (enqueue → the receiver's 2xx) per platform as cumulative bucket counts
    /// for `bounds_ms`, with the count and the sum in milliseconds. Counts only grow (delivered
    /// messages are kept), as a Prometheus histogram's must.
    pub async fn delivery_latency(
        &self,
        bounds_ms: &[i64],
    ) -> Result<Vec<(String, Vec<i64>, i64, i64)>, StoreError> {
        let mut cols = String::new();
        for (i, b) in bounds_ms.iter().enumerate() {
            // Bounds are the code's constants, not input: formatting them keeps one statement.
            cols.push_str(&format!(
                "CAST(SUM(CASE WHEN delivered_at - created_at <= {b} THEN 1 ELSE 0 END) AS BIGINT) AS b{i}, "
            ));
        }
        let sql = format!(
            "SELECT platform_id, {cols} COUNT(*) AS n, \
             CAST(SUM(delivered_at - created_at) AS BIGINT) AS total FROM outbox \
             WHERE state = 'delivered' AND platform_id IS NOT NULL GROUP BY platform_id \
             ORDER BY platform_id"
        );
        let rows = sqlx::query(&sql).fetch_all(self.pool()).await?;
        let mut out = Vec::new();
        for row in rows {
            use sqlx::Row;
            let platform: String = row.try_get("platform_id")?;
            let mut buckets = Vec::with_capacity(bounds_ms.len());
            for i in 0..bounds_ms.len() {
                buckets.push(row.try_get::<i64, _>(format!("b{i}").as_str())?);
            }
            out.push((platform, buckets, row.try_get("n")?, row.try_get("total")?));
        }
        Ok(out)
    }

    /// Attempts of a message, oldest first: (at, status code, error, duration ms).
    pub async fn outbox_attempts(
        &self,
        id: i64,
    ) -> Result<Vec<(i64, Option<i64>, Option<String>, i64)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT at, status_code, error, duration_ms FROM outbox_attempts \
             WHERE message_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?)
    }

    /// Puts a dead message back in the queue (the console's replay, audited by the caller).
    pub async fn replay_outbox(&self, id: i64, now: i64) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let done = sqlx::query(
            "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = $1, \
             lease_until = NULL, leased_by = NULL WHERE id = $2 AND state = 'dead'",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// Per platform: the newest error of a message not yet delivered, and when.
    pub async fn platform_last_errors(&self) -> Result<Vec<(String, String, i64)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT o.platform_id, a.error, a.at FROM outbox_attempts a \
             JOIN outbox o ON o.id = a.message_id \
             WHERE a.id IN (SELECT MAX(a2.id) FROM outbox_attempts a2 \
               JOIN outbox o2 ON o2.id = a2.message_id \
               WHERE a2.error IS NOT NULL AND o2.platform_id IS NOT NULL GROUP BY o2.platform_id) \
             ORDER BY o.platform_id",
        )
        .fetch_all(self.pool())
        .await?)
    }

    /// Dead messages, newest first (for the console's replay list).
    pub async fn dead_messages(
        &self,
        limit: i64,
    ) -> Result<Vec<(i64, String, Option<String>, i64, Option<String>)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, topic, platform_id, attempts, last_error FROM outbox \
             WHERE state = 'dead' ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(self.pool())
        .await?)
    }

    /// Records the line's acknowledgement of a hand-off (the incident number it answered with):
    /// only for a case still awaiting it. Returns whether the case changed.
    /// Hand-offs still waiting for their line's acknowledgement since before `cutoff`.
    pub async fn overdue_handoffs(&self, cutoff: i64) -> Result<i64, StoreError> {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM cases WHERE status = 'transferred_police' \
             AND handoff_state = 'awaiting' AND handoff_at < $1",
        )
        .bind(cutoff)
        .fetch_one(self.pool())
        .await?;
        Ok(n)
    }

    pub async fn acknowledge_handoff(
        &self,
        public_id: &str,
        reference: &str,
        platform: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let row: Option<(i64,)> = sqlx::query_as(
            "SELECT id FROM cases WHERE public_id = $1 AND status = 'transferred_police' \
             AND handoff_state = 'awaiting'",
        )
        .bind(public_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((id,)) = row else {
            return Ok(false);
        };
        sqlx::query(
            "UPDATE cases SET handoff_state = 'acknowledged', handoff_ref = $1, handoff_at = $2, \
             updated_at = $2, version = version + 1 WHERE id = $3",
        )
        .bind(reference)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        append_events(
            &mut tx,
            id,
            &[NewEvent {
                kind: "police_acknowledged".into(),
                from_status: Some("transferred_police".into()),
                to_status: Some("transferred_police".into()),
                actor_id: None,
                unit_id: None,
                note: None,
                detail: Some(serde_json::json!({
                    "reference": reference,
                    "platform": platform,
                    "via": "delivery",
                })),
            }],
            now,
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }
}
