/*!
Cases forwarded to another platform (a unit whose `platform` is e.g. the prefecture's 12345):
the platform's id for the case once it took it (`forward_ref`, which signs the case: the
platform has it), the open ones the status pull asks about, and the close that comes back.
*/

use sqlx::AnyConnection;

use super::cases::{NewEvent, append_events};
use super::{Store, StoreError};

/// A forwarded case still open here.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Forwarded {
    pub id: i64,
    pub public_id: String,
    pub forward_ref: String,
}

/// Forgets the platform's id of an earlier forward (the case is forwarded afresh).
pub async fn clear_forward(conn: &mut AnyConnection, case_id: i64) -> Result<(), StoreError> {
    sqlx::query("UPDATE cases SET forward_ref = NULL, forward_at = NULL WHERE id = $1")
        .bind(case_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

impl Store {
    /// The platform took the case under `reference`: recorded, and the case is signed (签收 by
    /// the platform). `false` when the case is no longer waiting for it (closed meanwhile,
    /// returned, or already taken: a re-delivery of the same message changes nothing).
    pub async fn accept_forward(
        &self,
        public_id: &str,
        platform: &str,
        reference: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let row: Option<(i64, Option<String>)> = sqlx::query_as(
            "SELECT id, unit_id FROM cases WHERE public_id = $1 AND status = 'dispatched'",
        )
        .bind(public_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((id, unit)) = row else {
            return Ok(false);
        };
        sqlx::query(
            "UPDATE cases SET forward_ref = $1, forward_at = $2, status = 'signed', \
             signed_at = $2, updated_at = $2, version = version + 1 WHERE id = $3",
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
                kind: "signed".into(),
                from_status: Some("dispatched".into()),
                to_status: Some("signed".into()),
                actor_id: None,
                unit_id: unit,
                note: None,
                detail: Some(serde_json::json!({
                    "platform": platform,
                    "reference": reference,
                    "via": "forward",
                })),
            }],
            now,
            None,
        )
        .await?;
        // 一事多诉: the cases merged into it close with it.
        let public_id = super::duplicates::public_id(&mut tx, id).await?;
        let engine = tx.engine();
        super::duplicates::close_children(&mut tx, engine, id, &public_id, None, None, now).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Open cases of `units` that a platform has taken, oldest first, at most `limit`.
    pub async fn open_forwarded(
        &self,
        units: &[String],
        limit: i64,
    ) -> Result<Vec<Forwarded>, StoreError> {
        let mut out = Vec::new();
        for unit in units {
            let rows: Vec<Forwarded> = sqlx::query_as(
                "SELECT id, public_id, forward_ref FROM cases WHERE unit_id = $1 \
                 AND forward_ref IS NOT NULL \
                 AND status IN ('dispatched', 'signed', 'in_progress') \
                 ORDER BY forward_at, id LIMIT $2",
            )
            .bind(unit)
            .bind(limit)
            .fetch_all(self.pool())
            .await?;
            out.extend(rows);
        }
        Ok(out)
    }

    /// The platform closed the case: its answer is the reply, and the case closes here.
    /// `false` when it was no longer open.
    pub async fn close_forwarded(
        &self,
        id: i64,
        platform: &str,
        notes: Option<&str>,
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let row: Option<(String, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT status, unit_id, forward_ref FROM cases WHERE id = $1 \
             AND status IN ('dispatched', 'signed', 'in_progress')",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((status, unit, reference)) = row else {
            return Ok(false);
        };
        sqlx::query(
            "UPDATE cases SET status = 'closed', replied_at = COALESCE(replied_at, $1), \
             closed_at = $1, updated_at = $1, version = version + 1 WHERE id = $2",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let detail = serde_json::json!({
            "platform": platform,
            "reference": reference,
            "via": "status_pull",
        });
        let note = notes
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        append_events(
            &mut tx,
            id,
            &[
                NewEvent {
                    kind: "replied".into(),
                    from_status: Some(status),
                    to_status: Some("replied".into()),
                    actor_id: None,
                    unit_id: unit.clone(),
                    note: note.clone(),
                    detail: Some(detail.clone()),
                },
                NewEvent {
                    kind: "closed".into(),
                    from_status: Some("replied".into()),
                    to_status: Some("closed".into()),
                    actor_id: None,
                    unit_id: unit,
                    note,
                    detail: Some(detail),
                },
            ],
            now,
            None,
        )
        .await?;
        // 一事多诉: the cases merged into it close with it.
        let public_id = super::duplicates::public_id(&mut tx, id).await?;
        let engine = tx.engine();
        super::duplicates::close_children(&mut tx, engine, id, &public_id, None, None, now).await?;
        tx.commit().await?;
        Ok(true)
    }
}
