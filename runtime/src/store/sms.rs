/*!
SMS in and out (`sms_messages`): every text is kept with the case it belongs to, so a reply can
be threaded onto the right case and a gateway's retry of the same inbound message (same
gateway id) is recognised.
*/

use sqlx::AnyConnection;

use super::cases::{NewEvent, append_events};
use super::{Store, StoreError};

/// One text, as written.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSms<'a> {
    /// `in` or `out`.
    pub direction: &'a str,
    pub phone: &'a str,
    pub body: &'a str,
    pub case_id: Option<i64>,
    /// out: `receipt`, `survey`; in: `new_case`, `thread`, `survey_reply`, `ignored`.
    pub purpose: &'a str,
    pub gateway_id: Option<&'a str>,
    pub at: i64,
}

/// A case a text from a phone may belong to.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SmsCase {
    pub id: i64,
    pub public_id: String,
    pub status: String,
    /// A 回访 question went out and was not answered yet.
    pub survey_open: i64,
    pub version: i64,
}

/// Records a text in the caller's transaction.
pub async fn record_sms(conn: &mut AnyConnection, m: &NewSms<'_>) -> Result<i64, StoreError> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO sms_messages (direction, phone, body, case_id, purpose, gateway_id, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(m.direction)
    .bind(m.phone)
    .bind(m.body)
    .bind(m.case_id)
    .bind(m.purpose)
    .bind(m.gateway_id)
    .bind(m.at)
    .fetch_one(&mut *conn)
    .await?;
    Ok(id)
}

impl Store {
    /// The inbound text a gateway already delivered under `gateway_id`: its purpose and case.
    pub async fn sms_by_gateway_id(
        &self,
        gateway_id: &str,
    ) -> Result<Option<(String, Option<String>)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT m.purpose, c.public_id FROM sms_messages m \
             LEFT JOIN cases c ON c.id = m.case_id WHERE m.gateway_id = $1",
        )
        .bind(gateway_id)
        .fetch_optional(self.pool())
        .await?)
    }

    /// The newest case texted with `phone` since `since` that is not closed, or whose 回访
    /// question is still open: what a reply from that phone is about.
    pub async fn sms_thread(&self, phone: &str, since: i64) -> Result<Option<SmsCase>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT c.id, c.public_id, c.status, \
             (CASE WHEN EXISTS (SELECT 1 FROM sms_messages s WHERE s.case_id = c.id \
                 AND s.purpose = 'survey') \
               AND NOT EXISTS (SELECT 1 FROM sms_messages r WHERE r.case_id = c.id \
                 AND r.purpose = 'survey_reply') \
              THEN 1 ELSE 0 END) AS survey_open, c.version \
             FROM cases c WHERE c.id IN (SELECT case_id FROM sms_messages \
                 WHERE phone = $1 AND at >= $2 AND case_id IS NOT NULL) \
             AND c.status <> 'closed' ORDER BY c.created_at DESC, c.id DESC LIMIT 1",
        )
        .bind(phone)
        .bind(since)
        .fetch_optional(self.pool())
        .await?)
    }

    /// The texts of a case, oldest first: (direction, purpose, body, at).
    pub async fn case_sms(
        &self,
        case_id: i64,
    ) -> Result<Vec<(String, String, String, i64)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT direction, purpose, body, at FROM sms_messages WHERE case_id = $1 \
             ORDER BY at, id",
        )
        .bind(case_id)
        .fetch_all(self.pool())
        .await?)
    }
}

impl Store {
    /// Records an inbound text; with `thread`, it is also added to that case's timeline
    /// (`sms_received`, the text as its note) in the same transaction.
    pub async fn record_inbound_sms(
        &self,
        m: &NewSms<'_>,
        thread: Option<i64>,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        record_sms(&mut tx, m).await?;
        if let Some(case_id) = thread {
            let status: (String,) = sqlx::query_as("SELECT status FROM cases WHERE id = $1")
                .bind(case_id)
                .fetch_one(&mut *tx)
                .await?;
            append_events(
                &mut tx,
                case_id,
                &[NewEvent {
                    kind: "sms_received".into(),
                    from_status: Some(status.0.clone()),
                    to_status: Some(status.0),
                    actor_id: None,
                    unit_id: None,
                    note: Some(m.body.to_string()),
                    detail: Some(serde_json::json!({"phone_tail": tail(m.phone)})),
                }],
                m.at,
                None,
            )
            .await?;
            sqlx::query("UPDATE cases SET updated_at = $1, version = version + 1 WHERE id = $2")
                .bind(m.at)
                .bind(case_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The public id of the case filed under `external_id`.
    pub async fn case_by_external_id(
        &self,
        external_id: &str,
    ) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT public_id FROM cases WHERE external_id = $1 LIMIT 1")
                .bind(external_id)
                .fetch_optional(self.pool())
                .await?;
        Ok(row.map(|r| r.0))
    }
}

/// The last four digits (what a timeline shows of the sender).
fn tail(phone: &str) -> String {
    let n = phone.chars().count();
    phone.chars().skip(n.saturating_sub(4)).collect()
}
