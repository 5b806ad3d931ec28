/*!
The audit log (审计日志): who did what to which record, newest first, for the auditor and the
admin — the auditor's landing page. Filters: the action (e.g. `household.read`), the target
(e.g. `case:MS…`); paging backwards by id. Reading the log is itself audited (`audit.view`).
*/

use super::*;
use crate::store::audit::{AuditFilter, NewAudit};

/// Roles that read the audit log.
pub(super) const AUDIT_ROLES: &[Role] = &[Role::Admin, Role::Auditor];
const PAGE: i64 = 100;

#[derive(Deserialize, Default)]
pub struct AuditQuery {
    #[serde(default)]
    action: Option<String>,
    #[serde(default)]
    target: Option<String>,
    #[serde(default)]
    before: Option<i64>,
    #[serde(default)]
    // Read by the language middleware from the query string; accepted here so that a `?lang=`
    // on a link is not an unknown field.
    #[allow(dead_code, reason = "read by the language middleware")]
    lang: Option<String>,
}

/// `GET /console/audit`.
pub async fn audit_log(
    State(state): State<AppState>,
    user: ConsoleUser,
    Query(q): Query<AuditQuery>,
) -> Response {
    let lang = user.lang;
    if !AUDIT_ROLES.contains(&user.principal.role) {
        return error_page(
            lang,
            Some(&user),
            StatusCode::FORBIDDEN,
            lang.t("error.forbidden"),
        );
    }
    let clean = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty() && !s.contains('\0'))
            .map(str::to_string)
    };
    let filter = AuditFilter {
        action: clean(&q.action),
        target: clean(&q.target),
        before_id: q.before.filter(|b| *b > 0),
        limit: Some(PAGE),
        ..AuditFilter::default()
    };
    let entries = match state.store.audit_entries(&filter).await {
        Ok(e) => e,
        Err(e) => return store_error_page(&user, e),
    };
    let view = NewAudit::by(&user.principal, "audit.view", None).with_detail(json!({
        "action": filter.action, "target": filter.target, "before": filter.before_id,
    }));
    if let Err(e) = state.store.audit(&view).await {
        return store_error_page(&user, e);
    }
    let more = (entries.len() as i64 == PAGE).then(|| {
        let mut href = format!(
            "/console/audit?before={}",
            entries.last().map_or(0, |e| e.id)
        );
        for (k, v) in [("action", &filter.action), ("target", &filter.target)] {
            if let Some(v) = v {
                href.push_str(&format!("&{k}={}", url_encode(v)));
            }
        }
        href
    });
    let rows: Vec<_> = entries
        .iter()
        .map(|e| {
            json!({
                "id": e.id,
                "at": e.at,
                "actor": e.actor_name.clone().unwrap_or_else(|| "—".into()),
                "action": e.action,
                "target": e.target,
                "detail": e.detail.as_ref().map(|d| {
                    let s = d.to_string();
                    if s.chars().count() > 160 {
                        format!("{}…", s.chars().take(160).collect::<String>())
                    } else {
                        s
                    }
                }),
            })
        })
        .collect();
    // The same filter through the API, as a CSV file (the session cookie serves it).
    let mut export = String::from("/api/v1/audit?format=csv");
    for (k, v) in [("action", &filter.action), ("target", &filter.target)] {
        if let Some(v) = v {
            export.push_str(&format!("&{k}={}", url_encode(v)));
        }
    }
    page_response(
        &state,
        &user,
        StatusCode::OK,
        "audit.html",
        "audit",
        Value::from_serialize(json!({
            "entries": rows,
            "action": filter.action,
            "target": filter.target,
            "more": more,
            "export": export,
        })),
    )
}
