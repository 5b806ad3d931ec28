/*!
The case page (timeline, caller, allowed actions) and its action forms.
*/

use super::*;

#[derive(Deserialize, Default)]
pub struct CaseQuery {
    #[serde(default)]
    done: Option<String>,
    /// 一事多诉: `merged` or `dismissed` (what the merge forms just did).
    #[serde(default)]
    notice: Option<String>,
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
    let flash = q
        .done
        .as_deref()
        .and_then(Action::parse)
        .map(|a| format!("action.{}", a.as_str()))
        .or_else(|| match q.notice.as_deref() {
            Some("merged") => Some("merge.done".to_string()),
            Some("dismissed") => Some("merge.dismissed".to_string()),
            Some("attached") => Some("attach.done".to_string()),
            _ => None,
        })
        .map(|key| json!({"kind": "ok", "text": format!("{} ✓", user.lang.t(&key))}));
    render_case(&state, &user, &id, StatusCode::OK, flash).await
}

/// The case `id` if `user` may see it, and whether its caller is shown in full — which is
/// audited as `reveal_action` before anything is shown. A refusal (404, 403, the database) comes
/// back as the page to send.
async fn visible_case(
    state: &AppState,
    user: &ConsoleUser,
    id: &str,
    reveal_action: &str,
) -> Result<(CaseRow, bool), Response> {
    let p = &user.principal;
    let lang = user.lang;
    let row = match state.store.case_by_public_id(id).await {
        Ok(r) => r,
        Err(StoreError::NotFound) => {
            return Err(error_page(
                lang,
                Some(user),
                StatusCode::NOT_FOUND,
                lang.t("error.not_found"),
            ));
        }
        Err(e) => return Err(store_error_page(user, e)),
    };
    if !can_see(p, &state.region, &row) {
        return Err(error_page(
            lang,
            Some(user),
            StatusCode::FORBIDDEN,
            lang.t("error.forbidden"),
        ));
    }
    let reveal = sees_caller_phone(p.role) && row.caller_id.is_some();
    if reveal
        && let Err(e) = state
            .store
            .audit(&NewAudit::by(
                p,
                reveal_action,
                Some(&format!("case:{}", row.public_id)),
            ))
            .await
    {
        return Err(store_error_page(user, e));
    }
    Ok((row, reveal))
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
    let (row, reveal) = match visible_case(state, user, id, "case.read_caller").await {
        Ok(v) => v,
        Err(page) => return page,
    };
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
            display_phone(ph)
        } else {
            mask_display_phone(ph)
        }
    });
    let name = row
        .caller_name
        .as_deref()
        .map(|n| if reveal { n.to_string() } else { mask_name(n) });
    let suggested_unit = row.category_code.as_deref().map(|c| {
        state
            .region
            .routing()
            .resolve(c, row.grid_code.as_deref())
            .unit
    });
    // A consultation routes to the center itself: answering it on the call is the main path.
    let consultation = suggested_unit
        .as_deref()
        .and_then(|u| state.region.unit(u))
        .is_some_and(|u| u.kind == crate::model::UnitKind::Center);
    let replier = events
        .iter()
        .rev()
        .find(|e| e.kind == "replied")
        .and_then(|e| e.actor_id);
    let allowed: Vec<Action> = allowed_for(p, &row, &state.region.center)
        .into_iter()
        .filter_map(Action::parse)
        .filter(|a| !actions::barred_as_replier(&state.region.center, *a, p.user_id, replier))
        .collect();
    // 一事多诉: a case merged into an open one is handled with it (no actions of its own).
    let merge_view = match super::merge::merge_view(state, user, &row).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let allowed: Vec<Action> = if merge_view.parked {
        Vec::new()
    } else {
        allowed
    };
    let attachments = match super::attachments::attachments_view(state, user, &row).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let offers = match super::offers::offers_view(state, user, &row).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let primary = primary_action(&allowed, consultation, row.overdue_sign != 0);
    let knowledge =
        super::knowledge::case_suggestions(state, user, &row, allowed.contains(&Action::Answer))
            .await;
    // The 责任人 the sign form proposes: the signer's real name (read only when signing is
    // offered, not on every view of the case).
    let me = if allowed.contains(&Action::Sign) {
        match state.store.user(p.user_id).await {
            Ok(u) => u.real_name.unwrap_or(u.name),
            Err(_) => p.name.clone(),
        }
    } else {
        p.name.clone()
    };
    let actions: Vec<_> = allowed
        .iter()
        .map(|&a| {
            let (field, required) = text_field(a, st);
            let intent = if Some(a) == primary {
                "primary"
            } else if DESTRUCTIVE.contains(&a) {
                "destructive"
            } else {
                "secondary"
            };
            json!({
                "action": a.as_str(),
                "href": format!("/console/cases/{}/actions/{}", row.public_id, a.as_str()),
                "note": field.is_some(),
                "note_key": format!("label.{}", a.as_str()),
                "note_required": required,
                "hours": a == Action::RequestExtension,
                "suggested_unit": suggested_unit,
                "assignee": (a == Action::Sign).then(|| me.clone()),
                "intent": intent,
            })
        })
        .collect();
    let assignee = assignee_of(&events);
    let events_json = timeline(state, lang, &events);
    // 一事多诉: open cases this one may repeat, for the center while it is still open.
    let similar = if CENTER.contains(&p.role)
        && merge_view.merged_into.is_none()
        && !matches!(row.status.as_str(), "closed" | "transferred_police")
    {
        match crate::engine::duplicates::similar(&state.store, &state.region, p, &row).await {
            Ok(list) => list
                .into_iter()
                .map(|s| {
                    json!({
                        "id": s.id, "similarity": format!("{:.0}%", s.similarity * 100.0),
                        "status": s.status, "created": s.created_at,
                    })
                })
                .collect(),
            Err(e) => return store_error_page(user, e),
        }
    } else {
        Vec::new()
    };
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
            "assignee": assignee,
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
        "categories": super::category_choices(&state.region.categories, lang),
        "events": events_json,
        "similar": similar,
        // Only a case not yet replied to joins another (the engine says why not otherwise).
        "can_merge": crate::engine::merge::may_join(&row.status),
        "merged_into": merge_view.merged_into,
        "parked": merge_view.parked,
        "children": merge_view.children,
        "attachments": attachments,
        "offers": offers,
        "cameras": super::cameras::case_cameras(state, lang, &row),
        "knowledge": knowledge,
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

/// The unit's 责任人 named at the latest 签收, if any.
fn assignee_of(events: &[crate::store::cases::EventRow]) -> Option<String> {
    events
        .iter()
        .rev()
        .find(|e| e.kind == "signed")
        .and_then(|e| e.detail.as_deref())
        .and_then(|d| serde_json::from_str::<serde_json::Value>(d).ok())
        .and_then(|d| d["assignee"].as_str().map(str::to_string))
}

/// Actions that undo work or hand the case away: set apart on the page and confirmed.
pub(super) const DESTRUCTIVE: [Action; 3] =
    [Action::Return, Action::TransferPolice, Action::PoliceReturn];

/// The one action the page leads with for this state: the next step of the usual path — for the
/// center, 改派 once the unit let its sign deadline pass.
pub(super) fn primary_action(
    allowed: &[Action],
    consultation: bool,
    sign_overdue: bool,
) -> Option<Action> {
    let first: [Action; 2] = if consultation {
        [Action::Answer, Action::Dispatch]
    } else {
        [Action::Dispatch, Action::Answer]
    };
    let overdue: &[Action] = if sign_overdue {
        &[Action::Redispatch]
    } else {
        &[]
    };
    overdue
        .iter()
        .chain(&first)
        .chain(&[
            Action::Sign,
            Action::Reply,
            Action::Start,
            Action::FollowUp,
            Action::Close,
            Action::PoliceAck,
            Action::GrantExtension,
            Action::GridReply,
        ])
        .copied()
        .find(|a| allowed.contains(a))
}

/// The timeline as people read it: every event by its name, the unit it went to or acted for,
/// the follow-up's outcome, the 责任人 named at signing.
pub(super) fn timeline(
    state: &AppState,
    lang: Lang,
    events: &[crate::store::cases::EventRow],
) -> Vec<serde_json::Value> {
    events
        .iter()
        .map(|e| {
            let detail: serde_json::Value = e
                .detail
                .as_deref()
                .and_then(|d| serde_json::from_str(d).ok())
                .unwrap_or_default();
            let unit = |id: Option<&str>| {
                id.and_then(|u| state.region.unit(u))
                    .map(|u| u.name.clone())
            };
            let mut label = lang.t(&format!("event.{}", e.kind)).to_string();
            match e.kind.as_str() {
                // Where the case went.
                "dispatched" | "redispatched" | "rerouted" => {
                    if let Some(n) = unit(e.unit_id.as_deref()) {
                        label.push_str(&format!(" → {n}"));
                    }
                    if let Some(n) = unit(detail["previous_unit"].as_str()) {
                        label.push_str(&format!(" ({} {n})", lang.t("case.from_unit")));
                    }
                }
                // Who acted: the unit holding the case.
                "signed" | "started" | "replied" | "returned" | "extension_requested" => {
                    if let Some(n) = unit(e.unit_id.as_deref()) {
                        label.push_str(&format!(" · {n}"));
                    }
                    if let Some(a) = detail["assignee"].as_str() {
                        label.push_str(&format!(" · {} {a}", lang.t("case.assignee")));
                    }
                }
                "followed_up" => {
                    if let Some(s) = detail["satisfaction"].as_str() {
                        label.push_str(&format!(": {}", lang.t(&format!("satisfaction.{s}"))));
                    }
                }
                // 一事多诉: which case it joined, which joined it.
                "merged" => {
                    if let Some(c) = detail["parent"].as_str() {
                        label.push_str(&format!(" {c}"));
                    }
                }
                "merged_in" => {
                    if let Some(c) = detail["child"].as_str() {
                        label.push_str(&format!(": {c}"));
                    }
                }
                _ => {}
            }
            // 当场答复 from the knowledge base: which entry.
            if let Some(k) = detail["knowledge_entry"].as_i64() {
                label.push_str(&format!(" · {} #{k}", lang.t("knowledge.entry")));
            }
            // A merged case replied to or closed with the case it joined.
            if let Some(c) = detail["with_parent"].as_str() {
                label.push_str(&format!(" ({} {c})", lang.t("merge.with_parent")));
            }
            json!({
                "kind": e.kind,
                "at": e.at,
                "label": label,
                "actor": e.actor_name,
                "note": e.note,
            })
        })
        .collect()
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
        // What the grid worker found or did on site.
        Action::GridReply => (Some("note"), true),
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
        assignee: get("assignee"),
        expected_version: get("version").and_then(|v| v.parse().ok()),
        knowledge: get("knowledge").and_then(|v| v.parse().ok()),
    };
    // Destructive actions need the box ticked (the page asks; a form without it is refused).
    if DESTRUCTIVE.contains(&action) && get("confirm").is_none() {
        let err = EngineError::invalid("confirm", "confirm_required", "tick the box to confirm");
        return render_case(
            &state,
            &user,
            &id,
            status_of(&err),
            Some(flash_error(&user, &err)),
        )
        .await;
    }
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
    // The 回访 of a merged case is taken from its parent's page, and goes back there.
    let back = get("back").filter(|b| b.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    match actions::perform(&state.store, &state.region, &user.principal, &id, input).await {
        // Still mine to see: back to the case with a confirmation. Handed away (a unit's 退单,
        // a re-dispatch elsewhere): back to the queue with one, never an error page.
        Ok(row) if can_see(&user.principal, &state.region, &row) => Redirect::to(&format!(
            "/console/cases/{}?done={}",
            url_encode(back.as_deref().unwrap_or(&row.public_id)),
            action.as_str()
        ))
        .into_response(),
        Ok(row) => Redirect::to(&format!(
            "/console/queue?done={}&case={}",
            action.as_str(),
            url_encode(&row.public_id)
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

/// `GET /console/cases/{id}/print`: the work order (工单) on one A4 page — number, caller
/// (masked unless the role needs the number; a revealed number is audited like the case page),
/// content, place, unit, deadlines, timeline and signature lines.
pub async fn case_print(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
) -> Response {
    let p = &user.principal;
    let lang = user.lang;
    let (row, reveal) = match visible_case(&state, &user, &id, "case.print").await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let events = match state.store.case_events(row.id).await {
        Ok(e) => e,
        Err(e) => return store_error_page(&user, e),
    };
    let assignee = assignee_of(&events);
    let operator = match row.operator_id {
        Some(uid) => state
            .store
            .user(uid)
            .await
            .map(|u| u.real_name.unwrap_or(u.name))
            .unwrap_or_else(|_| format!("#{uid}")),
        None => "—".into(),
    };
    let phone = row.caller_phone.as_deref().map(|ph| {
        if reveal {
            display_phone(ph)
        } else {
            mask_display_phone(ph)
        }
    });
    let name = row
        .caller_name
        .as_deref()
        .map(|n| if reveal { n.to_string() } else { mask_name(n) });
    let data = json!({
        "case": {
            "public_id": row.public_id,
            "status": row.status,
            "content": row.content,
            "category": category_name(&state, lang, row.category_code.as_deref()),
            "priority": row.priority,
            "channel": row.channel,
            "grid": row.grid_code.as_deref().map(|g| state.region.grid_path(g)).unwrap_or_else(|| "—".into()),
            "address": row.address.clone().unwrap_or_else(|| "—".into()),
            "caller_name": name.unwrap_or_else(|| "—".into()),
            "caller_phone": phone.unwrap_or_default(),
            "unit": unit_name(&state, row.unit_id.as_deref()),
            "operator": operator,
            "assignee": assignee,
            "created": row.created_at,
            "sign_due": row.sign_due,
            "close_due": row.close_due,
            "satisfaction": row.satisfaction,
        },
        "events": timeline(&state, lang, &events),
        "printed_at": now_ms(),
        "printed_by": p.name,
    });
    page_response(
        &state,
        &user,
        StatusCode::OK,
        "case_print.html",
        "queue",
        Value::from_serialize(data),
    )
}
