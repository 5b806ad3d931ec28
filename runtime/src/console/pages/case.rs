/*!
The case page (timeline, caller, allowed actions) and its action forms.
*/

use super::*;

#[derive(Deserialize, Default)]
pub struct CaseQuery {
    #[serde(default)]
    done: Option<String>,
    #[serde(default)]
    // Read by the language middleware from the query string; accepted here so that a
    // `?lang=` on a form or link is not an unknown field.
    #[allow(dead_code)]
    lang: Option<String>,
}

/// `GET /console/cases/{id}`.
pub async fn case_page(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
    Query(q): Query<CaseQuery>,
) -> Response {
    let flash = q.done.as_deref().and_then(Action::parse).map(|a| {
        json!({"kind": "ok", "text": format!("{} ✓", user.lang.t(&format!("action.{}", a.as_str())))})
    });
    render_case(&state, &user, &id, StatusCode::OK, flash).await
}

pub(super) async fn render_case(
    state: &AppState,
    user: &ConsoleUser,
    id: &str,
    status: StatusCode,
    flash: Option<serde_json::Value>,
) -> Response {
    let p = &user.principal;
    let lang = user.lang;
    let row = match state.store.case_by_public_id(id).await {
        Ok(r) => r,
        Err(StoreError::NotFound) => {
            return error_page(
                lang,
                Some(user),
                StatusCode::NOT_FOUND,
                lang.t("error.not_found"),
            );
        }
        Err(e) => return store_error_page(user, e),
    };
    if !can_see(p, &state.region, &row) {
        return error_page(
            lang,
            Some(user),
            StatusCode::FORBIDDEN,
            lang.t("error.forbidden"),
        );
    }
    let reveal = sees_caller_phone(p.role) && row.caller_id.is_some();
    if reveal
        && let Err(e) = state
            .store
            .audit(&NewAudit::by(
                p,
                "case.read_caller",
                Some(&format!("case:{}", row.public_id)),
            ))
            .await
    {
        return store_error_page(user, e);
    }
    let events = match state.store.case_events(row.id).await {
        Ok(e) => e,
        Err(e) => return store_error_page(user, e),
    };
    let due = |d: Option<i64>| d.map(i18n::format_time);
    let st = Status::parse(&row.status);
    let operator = match row.operator_id {
        Some(uid) => match state.store.user(uid).await {
            Ok(u) => u.name,
            Err(StoreError::NotFound) => format!("#{uid}"),
            Err(e) => return store_error_page(user, e),
        },
        None => "—".into(),
    };
    let phone = row.caller_phone.as_deref().map(|ph| {
        if reveal {
            ph.to_string()
        } else {
            mask_phone(ph)
        }
    });
    let name = row
        .caller_name
        .as_deref()
        .map(|n| if reveal { n.to_string() } else { mask_name(n) });
    let suggested_unit = row.category_code.as_deref().map(|c| {
        state
            .region
            .routing
            .resolve(c, row.grid_code.as_deref())
            .unit
    });
    let actions: Vec<_> = allowed_for(p, &row)
        .into_iter()
        .filter_map(Action::parse)
        .map(|a| {
            let (field, required) = text_field(a, st);
            json!({
                "action": a.as_str(),
                "href": format!("/console/cases/{}/actions/{}", row.public_id, a.as_str()),
                "note": field.is_some(),
                "note_key": if field == Some("reason") { "case.reason" } else { "case.note" },
                "note_required": required,
                "hours": a == Action::RequestExtension,
                "suggested_unit": suggested_unit,
                "style": match a {
                    Action::TransferPolice | Action::Return | Action::Reopen => "danger",
                    Action::Urge | Action::Redispatch => "",
                    Action::DenyExtension => "",
                    _ => "primary",
                },
            })
        })
        .collect();
    let events_json: Vec<_> = events
        .iter()
        .map(|e| {
            // Events that say more than the status they lead to are named for what happened.
            let named = matches!(
                e.kind.as_str(),
                "answered" | "redispatched" | "reopened" | "rerouted" | "redo"
            ) && i18n::has_key(&format!("action.{}", e.kind));
            let label = match Status::parse(e.to_status.as_deref().unwrap_or("")) {
                _ if named => lang.t(&format!("action.{}", e.kind)).to_string(),
                Some(s) if e.from_status.as_deref() != e.to_status.as_deref() => {
                    let key = format!("status.{}", s.as_str());
                    lang.t(&key).to_string()
                }
                _ => {
                    let key = format!("action.{}", e.kind);
                    if i18n::has_key(&key) {
                        lang.t(&key).to_string()
                    } else {
                        e.kind.clone()
                    }
                }
            };
            let unit = e
                .unit_id
                .as_deref()
                .and_then(|u| state.region.unit(u))
                .map(|u| format!(" → {}", u.name))
                .unwrap_or_default();
            json!({
                "kind": e.kind,
                "at": e.at,
                "label": format!("{label}{unit}"),
                "actor": e.actor_name,
                "note": e.note,
            })
        })
        .collect();
    let data = json!({
        "case": {
            "public_id": row.public_id,
            "status": row.status,
            "emergency_line": row.emergency_line.as_deref().unwrap_or(""),
            "content": row.content,
            "category": category_name(state, lang, row.category_code.as_deref()),
            "category_code": row.category_code,
            "priority": row.priority,
            "channel": row.channel,
            "grid": grid_name(state, row.grid_code.as_deref()),
            "address": row.address.clone().unwrap_or_else(|| "—".into()),
            "caller_name": name.unwrap_or_else(|| "—".into()),
            "caller_phone": phone.unwrap_or_default(),
            "unit": unit_name(state, row.unit_id.as_deref()),
            "operator": operator,
            "created": row.created_at,
            "sign_due": due(row.sign_due),
            "sign_due_ms": if st == Some(Status::Dispatched) { row.sign_due } else { None },
            "close_due": due(row.close_due),
            "close_due_ms": if st.is_some_and(|s| s.awaits_close()) { row.close_due } else { None },
            "satisfaction": row.satisfaction,
            "supervised": row.supervised != 0,
            "extension_requested": row.extension_requested != 0,
            "version": row.version,
        },
        "actions": actions,
        "units": state.region.units.iter().map(|u| json!({"id": u.id, "name": u.name})).collect::<Vec<_>>(),
        "categories": state.region.categories.iter().map(|c| json!({
            "code": c.code, "name": lang.pick(&c.name_zh, &c.name_en),
        })).collect::<Vec<_>>(),
        "events": events_json,
        "flash": flash,
    });
    page_response(
        state,
        user,
        status,
        "case.html",
        "queue",
        Value::from_serialize(data),
    )
}

/// Which free-text field an action's textarea fills, and whether it is required.
pub(super) fn text_field(a: Action, status: Option<Status>) -> (Option<&'static str>, bool) {
    match a {
        Action::Reply => (Some("note"), true),
        Action::Return
        | Action::RequestExtension
        | Action::PoliceReturn
        | Action::Redispatch
        | Action::Reopen => (Some("reason"), true),
        Action::Answer => (Some("note"), true),
        Action::PoliceAck => (Some("reference"), true),
        Action::DenyExtension => (Some("reason"), false),
        // Closing a replied case skips the follow-up: the lifecycle wants a reason then.
        Action::Close => (Some("reason"), status == Some(Status::Replied)),
        Action::Sign | Action::Start | Action::GrantExtension => (None, false),
        _ => (Some("note"), false),
    }
}

/// `POST /console/cases/{id}/actions/{action}`: CSRF, then the lifecycle service.
pub async fn case_action(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if !user.csrf_ok(form.get("csrf").map(String::as_str).unwrap_or("")) {
        return csrf_rejected(user.lang);
    }
    let lang = user.lang;
    let Some(action) = Action::parse(&action) else {
        return error_page(
            lang,
            Some(&user),
            StatusCode::NOT_FOUND,
            lang.t("error.not_found"),
        );
    };
    let get = |k: &str| {
        form.get(k)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let text = get("note");
    let (field, _) = text_field(action, None);
    let mut input = ActionInput {
        action,
        note: None,
        unit: get("unit_id"),
        category: get("category"),
        reason: None,
        satisfaction: None,
        hours: None,
        line: get("line").and_then(|l| EmergencyLine::parse(&l)),
        reference: get("reference"),
        expected_version: get("version").and_then(|v| v.parse().ok()),
    };
    match field {
        Some("reason") => input.reason = text,
        Some("reference") => input.reference = text,
        _ => input.note = text,
    }
    if let Some(s) = get("satisfaction") {
        match Satisfaction::parse(&s) {
            Some(s) => input.satisfaction = Some(s),
            None => {
                let err = EngineError::invalid(
                    "satisfaction",
                    "satisfaction_invalid",
                    "unknown satisfaction",
                );
                return render_case(
                    &state,
                    &user,
                    &id,
                    status_of(&err),
                    Some(flash_error(&user, &err)),
                )
                .await;
            }
        }
    }
    if let Some(h) = get("hours") {
        match h.parse::<u32>() {
            Ok(h) => input.hours = Some(h),
            Err(_) => {
                let err = EngineError::invalid(
                    "hours",
                    "hours_invalid",
                    "hours must be a whole number 1–720",
                );
                return render_case(
                    &state,
                    &user,
                    &id,
                    status_of(&err),
                    Some(flash_error(&user, &err)),
                )
                .await;
            }
        }
    }
    match actions::perform(&state.store, &state.region, &user.principal, &id, input).await {
        Ok(row) => Redirect::to(&format!(
            "/console/cases/{}?done={}",
            url_encode(&row.public_id),
            action.as_str()
        ))
        .into_response(),
        Err(e) if matches!(e.kind, ErrorKind::Invalid | ErrorKind::Conflict) => {
            render_case(
                &state,
                &user,
                &id,
                status_of(&e),
                Some(flash_error(&user, &e)),
            )
            .await
        }
        Err(e) => errors::error_response(&user, e),
    }
}

pub(super) fn flash_error(user: &ConsoleUser, err: &EngineError) -> serde_json::Value {
    json!({"kind": "error", "text": errors::message(user.lang, err)})
}
