/*!
The audit log: who did or read what, and when. Append-only (a trigger refuses UPDATE and DELETE).

Record in the same transaction as the change when there is one ([`record_audit`] takes any
connection), so an action and its audit row commit or vanish together. Reads of sensitive
records (vulnerable households, unmasked phone numbers) are recorded too. `detail` is JSON and
must never carry secrets (passwords, tokens) or the unmasked personal numbers themselves.
*/

use serde::Serialize;
use sqlx::AnyConnection;

use super::{Store, StoreError};
use crate::model::Principal;
use crate::model::time::now_ms;

/// One audit record to write.
#[derive(Debug, Clone, Default)]
pub struct NewAudit<'a> {
    pub actor_id: Option<i64>,
    pub actor_name: Option<&'a str>,
    /// Dotted verb, e.g. `user.create`, `household.read`, `case.dispatch`, `token.create`.
    pub action: &'a str,
    /// What was acted on, e.g. `user:12`, `household:7`, `case:MS350781-20261129-000001`.
    pub target: Option<&'a str>,
    pub detail: Option<serde_json::Value>,
}

impl<'a> NewAudit<'a> {
    /// An audit record for an authenticated principal.
    pub fn by(principal: &'a Principal, action: &'a str, target: Option<&'a str>) -> Self {
        NewAudit {
            actor_id: Some(principal.user_id),
            actor_name: Some(&principal.name),
            action,
            target,
            detail: None,
        }
    }

    /// An audit record for the command line (no user; `actor_name` names the tool).
    pub fn system(actor_name: &'a str, action: &'a str, target: Option<&'a str>) -> Self {
        NewAudit {
            actor_id: None,
            actor_name: Some(actor_name),
            action,
            target,
            detail: None,
        }
    }

    pub fn with_detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = Some(detail);
        self
    }
}

/// One stored audit record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub actor_id: Option<i64>,
    pub actor_name: Option<String>,
    pub action: String,
    pub target: Option<String>,
    /// Unix epoch milliseconds.
    pub at: i64,
    pub detail: Option<serde_json::Value>,
}

/// Filters for [`Store::audit_entries`]; all optional, combined with AND.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor_id: Option<i64>,
    pub action: Option<String>,
    pub target: Option<String>,
    /// Inclusive lower bound, epoch ms.
    pub since: Option<i64>,
    /// Exclusive upper bound, epoch ms.
    pub until: Option<i64>,
    /// Return entries with `id < before_id` (paging backwards from the newest).
    pub before_id: Option<i64>,
    /// At most this many (capped at 1,000; default 100).
    pub limit: Option<i64>,
}

/// Appends an audit record on an open connection or transaction; returns its id.
pub async fn record_audit(
    conn: &mut AnyConnection,
    entry: &NewAudit<'_>,
) -> Result<i64, StoreError> {
    let detail = entry
        .detail
        .as_ref()
        .map(serde_json::to_string)
        .transpose()?;
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO audit_log (actor_id, actor_name, action, target, at, detail) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(entry.actor_id)
    .bind(entry.actor_name)
    .bind(entry.action)
    .bind(entry.target)
    .bind(now_ms())
    .bind(detail)
    .fetch_one(&mut *conn)
    .await?;
    Ok(id)
}

type AuditRow = (
    i64,
    Option<i64>,
    Option<String>,
    String,
    Option<String>,
    i64,
    Option<String>,
);

impl Store {
    /// Appends an audit record in its own transaction; returns its id.
    pub async fn audit(&self, entry: &NewAudit<'_>) -> Result<i64, StoreError> {
        let mut conn = self.pool().acquire().await?;
        record_audit(&mut conn, entry).await
    }

    /// Audit records matching `filter`, newest first.
    pub async fn audit_entries(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>, StoreError> {
        // Each filter is "($n IS NULL OR col = $n)" so the statement stays fixed and fully
        // parameterized; the planner drops the dead branches.
        let limit = filter.limit.unwrap_or(100).clamp(1, 1000);
        let rows: Vec<AuditRow> = sqlx::query_as(
            "SELECT id, actor_id, actor_name, action, target, at, detail FROM audit_log \
             WHERE ($1 IS NULL OR actor_id = $1) \
               AND ($2 IS NULL OR action = $2) \
               AND ($3 IS NULL OR target = $3) \
               AND ($4 IS NULL OR at >= $4) \
               AND ($5 IS NULL OR at < $5) \
               AND ($6 IS NULL OR id < $6) \
             ORDER BY id DESC LIMIT $7",
        )
        .bind(filter.actor_id)
        .bind(filter.action.as_deref())
        .bind(filter.target.as_deref())
        .bind(filter.since)
        .bind(filter.until)
        .bind(filter.before_id)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(|(id, actor_id, actor_name, action, target, at, detail)| {
                Ok(AuditEntry {
                    id,
                    actor_id,
                    actor_name,
                    action,
                    target,
                    at,
                    detail: detail.as_deref().map(serde_json::from_str).transpose()?,
                })
            })
            .collect()
    }
}
