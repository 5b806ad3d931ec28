/*!
History import's writes: every imported case with its `received` (and `closed`, with the
follow-up outcome) events, in one transaction; a row whose `external_id` a case already has is
skipped, so re-running an import changes nothing.
*/

use super::cases::{NewCase, NewEvent, append_events, insert_case};
use super::{Store, StoreError};

/// A checked row, ready to write.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedCase {
    pub line: usize,
    pub received_at: i64,
    pub channel: String,
    pub category: Option<String>,
    pub grid_code: Option<String>,
    pub address: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub content: String,
    pub external_id: String,
    /// `Some`: the case is closed (办结) at that time.
    pub closed_at: Option<i64>,
    pub satisfaction: Option<String>,
}

impl Store {
    /// How many of these rows' external ids are already cases'.
    pub async fn existing_external_ids(&self, rows: &[ImportedCase]) -> Result<usize, StoreError> {
        let mut n = 0;
        let mut conn = self.pool().acquire().await?;
        for r in rows {
            let hit: Option<(i64,)> =
                sqlx::query_as("SELECT id FROM cases WHERE external_id = $1 LIMIT 1")
                    .bind(&r.external_id)
                    .fetch_optional(&mut *conn)
                    .await?;
            n += usize::from(hit.is_some());
        }
        Ok(n)
    }

    /// Writes the rows in one transaction; returns (imported, skipped).
    pub async fn import_cases(
        &self,
        region_code: &str,
        rows: &[ImportedCase],
    ) -> Result<(usize, usize), StoreError> {
        let mut tx = self.write().await?;
        let (mut imported, mut skipped) = (0, 0);
        for r in rows {
            let hit: Option<(i64,)> =
                sqlx::query_as("SELECT id FROM cases WHERE external_id = $1 LIMIT 1")
                    .bind(&r.external_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            if hit.is_some() {
                skipped += 1;
                continue;
            }
            let status = if r.closed_at.is_some() {
                "closed"
            } else {
                "received"
            };
            let case = NewCase {
                channel: r.channel.clone(),
                caller_id: None,
                content: r.content.clone(),
                category_code: r.category.clone(),
                grid_code: r.grid_code.clone(),
                address: r.address.clone(),
                lat: r.lat,
                lon: r.lon,
                priority: "normal".into(),
                status: status.into(),
                operator_id: None,
                unit_id: None,
                sign_due: None,
                close_due: None,
                dispatched_at: None,
                open311_token: None,
                external_id: Some(r.external_id.clone()),
                emergency_line: None,
                handoff_state: None,
                handoff_ref: None,
                created_at: r.received_at,
            };
            let (id, _) = insert_case(&mut tx, self.engine(), region_code, &case).await?;
            let mut events = vec![NewEvent {
                kind: "received".into(),
                from_status: None,
                to_status: Some("received".into()),
                detail: Some(serde_json::json!({"imported": true, "channel": r.channel})),
                ..NewEvent::default()
            }];
            if let Some(closed) = r.closed_at {
                sqlx::query(
                    "UPDATE cases SET closed_at = $1, satisfaction = $2, updated_at = $1 \
                     WHERE id = $3",
                )
                .bind(closed)
                .bind(r.satisfaction.clone())
                .bind(id)
                .execute(&mut *tx)
                .await?;
                events.push(NewEvent {
                    kind: "closed".into(),
                    from_status: Some("received".into()),
                    to_status: Some("closed".into()),
                    detail: Some(serde_json::json!({
                        "imported": true,
                        "satisfaction": r.satisfaction,
                    })),
                    ..NewEvent::default()
                });
            }
            append_events(&mut tx, id, &events[..1], r.received_at, Some(1)).await?;
            if events.len() > 1 {
                append_events(
                    &mut tx,
                    id,
                    &events[1..],
                    r.closed_at.unwrap_or(r.received_at),
                    Some(2),
                )
                .await?;
            }
            imported += 1;
        }
        tx.commit().await?;
        Ok((imported, skipped))
    }
}
