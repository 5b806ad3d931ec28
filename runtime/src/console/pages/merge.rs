/*!
一事多诉 on the case page: the 合并 and 不是重复 forms beside each suggestion, what a merged case
shows (the case it was merged into), and a parent's merged cases with their callers and the
回访 form of each ([`crate::engine::merge`] decides; these handlers only translate).
*/

use super::*;
use crate::engine::merge::{self, DismissInput, MergeInput};

/// What the case page shows of 一事多诉 besides the suggestions.
pub(super) struct MergeView {
    /// The case this one was merged into, and whether it is parked (no actions of its own).
    pub merged_into: Option<serde_json::Value>,
    pub parked: bool,
    /// The cases merged into this one, with their callers and follow-up state.
    pub children: Vec<serde_json::Value>,
}

/// Reads the case page's 一事多诉 data for `user`. A child's caller shown in full is audited like
/// the case's own (`case.read_caller`).
pub(super) async fn merge_view(
    state: &AppState,
    user: &ConsoleUser,
    row: &CaseRow,
) -> Result<MergeView, Response> {
    let p = &user.principal;
    let parent = state
        .store
        .merged_into(row.id)
        .await
        .map_err(|e| store_error_page(user, e))?;
    let parked = merge::with_center(&row.status)
        && parent
            .as_ref()
            .and_then(|p| Status::parse(&p.status))
            .is_some_and(Status::is_open);
    let merged_into = parent.map(|p| json!({"id": p.public_id, "status": p.status}));
    let rows = state
        .store
        .merged_children(row.id)
        .await
        .map_err(|e| store_error_page(user, e))?;
    let mut children = Vec::new();
    for child in rows.iter().filter(|c| can_see(p, &state.region, c)) {
        let reveal = sees_caller_phone(p.role) && child.caller_id.is_some();
        if reveal {
            state
                .store
                .audit(&NewAudit::by(
                    p,
                    "case.read_caller",
                    Some(&format!("case:{}", child.public_id)),
                ))
                .await
                .map_err(|e| store_error_page(user, e))?;
        }
        let phone = child.caller_phone.as_deref().map(|ph| {
            if reveal {
                display_phone(ph)
            } else {
                mask_display_phone(ph)
            }
        });
        let name = child
            .caller_name
            .as_deref()
            .map(|n| if reveal { n.to_string() } else { mask_name(n) });
        let follow_up = allowed_for(p, child, &state.region.center).contains(&"follow_up");
        children.push(json!({
            "id": child.public_id,
            "status": child.status,
            "satisfaction": child.satisfaction,
            "caller_name": name.unwrap_or_else(|| "—".into()),
            "caller_phone": phone.unwrap_or_default(),
            "follow_up": follow_up,
            "version": child.version,
        }));
    }
    Ok(MergeView {
        merged_into,
        parked,
        children,
    })
}

fn form_text(form: &HashMap<String, String>, k: &str) -> Option<String> {
    form.get(k)
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// The case page again with an engine error, or the error page for the kinds a page shows.
async fn refused(state: &AppState, user: &ConsoleUser, id: &str, e: EngineError) -> Response {
    if matches!(e.kind, ErrorKind::Invalid | ErrorKind::Conflict) {
        render_case(state, user, id, status_of(&e), Some(flash_error(user, &e))).await
    } else {
        errors::error_response(user, e)
    }
}

/// `POST /console/cases/{id}/merge` (`into`, `confirm`, `note`): 合并 — this case repeats
/// `into`. Irreversible, so the box must be ticked.
pub async fn case_merge(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if !user.csrf_ok(form.get("csrf").map(String::as_str).unwrap_or("")) {
        return csrf_rejected(user.lang);
    }
    if form_text(&form, "confirm").is_none() {
        let err = EngineError::invalid("confirm", "confirm_required", "tick the box to confirm");
        return refused(&state, &user, &id, err).await;
    }
    let input = MergeInput {
        into: form_text(&form, "into").unwrap_or_default(),
        note: form_text(&form, "note"),
    };
    match merge::merge(&state.store, &state.region, &user.principal, &id, &input).await {
        Ok(m) => Redirect::to(&format!(
            "/console/cases/{}?notice=merged",
            url_encode(&m.child)
        ))
        .into_response(),
        Err(e) => refused(&state, &user, &id, e).await,
    }
}

/// `POST /console/cases/{id}/similar/{other}/dismiss`: 不是重复 — never suggested again.
pub async fn case_dismiss(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path((id, other)): Path<(String, String)>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if !user.csrf_ok(form.get("csrf").map(String::as_str).unwrap_or("")) {
        return csrf_rejected(user.lang);
    }
    let input = DismissInput {
        note: form_text(&form, "note"),
    };
    match merge::dismiss(
        &state.store,
        &state.region,
        &user.principal,
        &id,
        &other,
        &input,
    )
    .await
    {
        Ok(()) => Redirect::to(&format!(
            "/console/cases/{}?notice=dismissed",
            url_encode(&id)
        ))
        .into_response(),
        Err(e) => refused(&state, &user, &id, e).await,
    }
}
