/*!
The call-taker's screen pop (caller history, open cases, household flag), the new-case
form and the classifier suggestions it asks for.
*/

use super::*;

#[derive(Deserialize, Default)]
pub struct CallQuery {
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    // Read by the language middleware from the query string; accepted here so that a
    // `?lang=` on a form or link is not an unknown field.
    #[allow(dead_code)]
    lang: Option<String>,
}

pub(super) fn household_kind(lang: Lang, kind: &str) -> String {
    let key = format!("household.{kind}");
    if i18n::has_key(&key) {
        lang.t(&key).to_string()
    } else {
        kind.to_string()
    }
}

/// The grid code a typed picker value names: a code, a tier path as the picker offers it, or a
/// name only one grid unit has. Anything else is passed on as typed, for intake to refuse
/// naming the field (a form is never silently read as "no place").
pub(super) fn resolve_grid(state: &AppState, typed: &str) -> String {
    let typed = typed.trim();
    let region = &state.region;
    if region.grid(typed).is_some() {
        return typed.to_string();
    }
    let by_path: Vec<_> = region
        .grid_units
        .iter()
        .filter(|g| region.grid_path(&g.code) == typed)
        .collect();
    if let [one] = by_path.as_slice() {
        return one.code.clone();
    }
    let by_name: Vec<_> = region
        .grid_units
        .iter()
        .filter(|g| g.name == typed)
        .collect();
    if let [one] = by_name.as_slice() {
        return one.code.clone();
    }
    typed.to_string()
}

/// `GET /console/call?phone=…`: the screen pop and the new-case form.
pub async fn call_page(
    State(state): State<AppState>,
    user: ConsoleUser,
    Query(q): Query<CallQuery>,
) -> Response {
    if !CENTER.contains(&user.principal.role) {
        let lang = user.lang;
        return error_page(
            lang,
            Some(&user),
            StatusCode::FORBIDDEN,
            lang.t("error.forbidden"),
        );
    }
    let phone = q.phone.unwrap_or_default();
    render_call(
        &state,
        &user,
        &phone,
        NewCaseForm::default(),
        None,
        StatusCode::OK,
    )
    .await
}

pub(super) async fn render_call(
    state: &AppState,
    user: &ConsoleUser,
    phone_raw: &str,
    mut form: NewCaseForm,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let p = &user.principal;
    let lang = user.lang;
    let mut data = json!({
        "phone": phone_raw,
        "looked_up": false,
        "caller": null,
        "vulnerable": [],
        "open_cases": [],
        "history": [],
        "error": error,
    });
    let mut error = error;
    let phone_raw = phone_raw.trim();
    if !phone_raw.is_empty() {
        match normalize_phone(phone_raw) {
            None => {
                error = Some(format!(
                    "{}: {}",
                    lang.t("call.phone"),
                    match lang {
                        Lang::Zh => "号码格式不正确（3–20位数字）",
                        Lang::En => "not a phone number (3–20 digits)",
                    }
                ));
            }
            Some(phone) => {
                if form.phone.is_empty() {
                    form.phone = phone.clone();
                }
                data["looked_up"] = json!(true);
                let caller = match state.store.caller_by_phone(&phone).await {
                    Ok(c) => c,
                    Err(e) => return store_error_page(user, e),
                };
                if let Some(c) = caller {
                    if let Err(e) = state
                        .store
                        .audit(&NewAudit::by(
                            p,
                            "caller.lookup",
                            Some(&format!("caller:{}", c.id)),
                        ))
                        .await
                    {
                        return store_error_page(user, e);
                    }
                    let reveal = sees_caller_phone(p.role);
                    if form.caller_name.is_empty() {
                        form.caller_name = c.name.clone().unwrap_or_default();
                    }
                    let (rows, _) = match state
                        .store
                        .list_cases(&CaseFilter {
                            caller_id: Some(c.id),
                            limit: 20,
                            ..Default::default()
                        })
                        .await
                    {
                        Ok(r) => r,
                        Err(e) => return store_error_page(user, e),
                    };
                    let mini = |r: &CaseRow| {
                        json!({
                            "public_id": r.public_id,
                            "href": format!("/console/cases/{}", r.public_id),
                            "status": r.status,
                            "content": r.content.chars().take(40).collect::<String>(),
                            "created": r.created_at,
                        })
                    };
                    data["caller"] = json!({
                        "name": c.name.as_deref().map(|n| if reveal { n.to_string() } else { mask_name(n) }).unwrap_or_else(|| "—".into()),
                        "phone": if reveal { display_phone(&phone) } else { mask_display_phone(&phone) },
                    });
                    data["open_cases"] = json!(
                        rows.iter()
                            .filter(|r| Status::parse(&r.status).is_some_and(|s| s.is_open()))
                            .map(mini)
                            .collect::<Vec<_>>()
                    );
                    data["history"] = json!(rows.iter().map(mini).collect::<Vec<_>>());
                }
                // The vulnerable-household flag: only roles the registry policy lets see it,
                // and each look is audited like any read of the registry.
                if household_access(p.role) != HouseholdAccess::None {
                    // The store audits a hit (`household.flag`, the number hashed).
                    match state.store.household_flags(&phone, p).await {
                        Ok(list) if !list.is_empty() => {
                            data["vulnerable"] = json!(
                                list.iter()
                                    .map(|(kind, grid)| json!({
                                        "kind": household_kind(lang, kind),
                                        "note": grid_name(state, grid.as_deref()),
                                    }))
                                    .collect::<Vec<_>>()
                            );
                            if data["caller"].is_null() {
                                data["caller"] =
                                    json!({"name": "—", "phone": mask_display_phone(&phone)});
                            }
                        }
                        Ok(_) => {}
                        Err(e) => return store_error_page(user, e),
                    }
                }
            }
        }
    }
    data["error"] = json!(error);
    // Grid picker: every tier by its path (城郊镇 / 和平村 / 第1网格), typed ahead by the browser
    // (a datalist: no script); the form sends the path back and `resolve_grid` reads it.
    let grid: Vec<_> = state
        .region
        .grid_units
        .iter()
        .map(|g| json!({"code": g.code, "path": state.region.grid_path(&g.code)}))
        .collect();
    data["grid"] = json!(grid);
    data["categories"] = json!(super::category_choices(&state.region.categories, lang));
    // The emergency stage over what has been typed (a re-rendered form keeps its detection;
    // the 转警 button without text asks for line 110).
    let detected = if form.content.trim().is_empty() {
        None
    } else {
        state.region.triage.emergency(form.content.trim())
    };
    let pending = detected
        .as_ref()
        .map(|e| (e.line, e.evidence.join("、"), e.confidence))
        .or_else(|| {
            (form.police.as_deref() == Some("1"))
                .then(|| (EmergencyLine::Police, String::new(), 1.0))
        });
    data["emergency"] = match pending {
        Some((line, evidence, confidence)) => emergency_json(
            state,
            lang,
            line,
            json!(evidence),
            json!(format!("{:.0}%", confidence * 100.0)),
        ),
        None => {
            json!({"line": "", "label": "", "evidence": "", "confidence": "", "by_phone": false})
        }
    };
    data["phone_lines"] = json!(
        EmergencyLine::ALL
            .iter()
            .filter(|l| state.region.handoff_by_phone(**l))
            .map(|l| l.as_str())
            .collect::<Vec<_>>()
            .join(",")
    );
    data["form"] = json!({
        "phone": form.phone,
        "caller_name": form.caller_name,
        "content": form.content,
        "category": form.category,
        "grid_code": form.grid_code,
        // The picker shows a place by its path, also when the form comes back with a code.
        "grid_text": if state.region.grid(form.grid_code.trim()).is_some() {
            state.region.grid_path(form.grid_code.trim())
        } else {
            form.grid_code.clone()
        },
        "address": form.address,
        "emergency_reason": form.emergency_reason,
        "incident_number": form.incident_number,
    });
    page_response(
        state,
        user,
        status,
        "call.html",
        "call",
        Value::from_serialize(data),
    )
}

#[derive(Deserialize, Default, Clone)]
pub struct NewCaseForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    caller_name: String,
    #[serde(default)]
    content: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    grid_code: String,
    #[serde(default)]
    address: String,
    /// Set by the one-click 转警 button (line 110).
    #[serde(default)]
    police: Option<String>,
    /// The emergency decision: `110`/`119`/`120`/`122` (hand off), `none` (not an emergency).
    #[serde(default)]
    emergency: String,
    #[serde(default)]
    emergency_reason: String,
    /// 警情编号 of a phone transfer (电话转接).
    #[serde(default)]
    incident_number: String,
    /// 当场答复 from this knowledge-base entry: the case is created and answered with it at once.
    #[serde(default)]
    knowledge: String,
}

pub(super) fn opt(s: &str) -> Option<String> {
    Some(s.trim().to_string()).filter(|s| !s.is_empty())
}

/// `POST /console/cases`: intake through the same service as `POST /api/v1/cases`. The 转警
/// button picks the region's police category so intake transfers the case in its transaction.
pub async fn create_case(
    State(state): State<AppState>,
    user: ConsoleUser,
    Form(form): Form<NewCaseForm>,
) -> Response {
    if !user.csrf_ok(&form.csrf) {
        return csrf_rejected(user.lang);
    }
    let lang = user.lang;
    if !CENTER.contains(&user.principal.role) {
        return error_page(
            lang,
            Some(&user),
            StatusCode::FORBIDDEN,
            lang.t("error.forbidden"),
        );
    }
    let police = form.police.as_deref() == Some("1");
    // Answered from the knowledge base: the entry's answer, and its category unless one was chosen.
    let from_entry = match form.knowledge.trim().parse::<i64>() {
        Ok(id) if !police => match state.store.knowledge_entry(id).await {
            Ok(e) => e,
            Err(e) => return store_error_page(&user, e),
        },
        _ => None,
    };
    let category = opt(&form.category).or_else(|| {
        from_entry
            .as_ref()
            .and_then(|e| e.fields.category_code.clone())
    });
    let mut content = form.content.trim().to_string();
    if police && content.is_empty() {
        // One click during an emergency: the operator may not have typed anything yet.
        content = match lang {
            Lang::Zh => "紧急警情，转公安110处置".into(),
            Lang::En => "Police emergency, transferred to police dispatch".into(),
        };
    }
    let decision = match form.emergency.trim() {
        "" if police => Some(EmergencyInput {
            line: Some(EmergencyLine::Police),
            reason: None,
            incident_number: opt(&form.incident_number),
        }),
        "" => None,
        "none" => Some(EmergencyInput {
            line: None,
            reason: opt(&form.emergency_reason),
            incident_number: None,
        }),
        other => match EmergencyLine::parse(other) {
            Some(line) => Some(EmergencyInput {
                line: Some(line),
                reason: opt(&form.emergency_reason),
                incident_number: opt(&form.incident_number),
            }),
            None => {
                let phone = form.phone.clone();
                return render_call(
                    &state,
                    &user,
                    &phone,
                    form,
                    None,
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await;
            }
        },
    };
    // An emergency the call-taker has not yet confirmed or overridden: nothing is created; the
    // form comes back with the detection and the two decisions, one click each.
    if decision.is_none()
        && !content.is_empty()
        && state.region.triage.emergency(&content).is_some()
    {
        let phone = form.phone.clone();
        let msg = lang.t("emergency.decide").to_string();
        return render_call(&state, &user, &phone, form, Some(msg), StatusCode::OK).await;
    }
    let input = CaseInput {
        channel: Channel::Phone,
        caller: Some(CallerInput {
            phone: opt(&form.phone),
            name: opt(&form.caller_name),
            ..Default::default()
        }),
        content,
        category,
        location: Some(LocationInput {
            grid_code: opt(&form.grid_code).map(|g| resolve_grid(&state, &g)),
            address: opt(&form.address),
            lat: None,
            lon: None,
        }),
        priority: None,
        external_id: None,
        emergency: decision,
        open311_token: None,
    };
    match intake::create_case(&state.store, &state.region, &user.principal, input).await {
        Ok(created) => {
            let public_id = created.case.public_id.clone();
            if let Some(entry) = &from_entry
                && created.case.status == Status::Received.as_str()
            {
                // 当场答复 in the same click; a refusal (the entry retired meanwhile) shows on the
                // case page, which offers the answer again.
                let answer = ActionInput {
                    note: Some(entry.fields.answer.clone()),
                    knowledge: Some(entry.id),
                    ..ActionInput::new(Action::Answer)
                };
                if let Err(e) = actions::perform(
                    &state.store,
                    &state.region,
                    &user.principal,
                    &public_id,
                    answer,
                )
                .await
                {
                    tracing::info!(case = %public_id, error = %e, "knowledge answer refused");
                }
            }
            Redirect::to(&format!("/console/cases/{}", url_encode(&public_id))).into_response()
        }
        Err(e) if e.kind == ErrorKind::Invalid => {
            let status = status_of(&e);
            let phone = form.phone.clone();
            let text = errors::message(user.lang, &e);
            render_call(&state, &user, &phone, form, Some(text), status).await
        }
        Err(e) => errors::error_response(&user, e),
    }
}

#[derive(Deserialize)]
pub struct ClassifyQuery {
    #[serde(default)]
    text: String,
    #[serde(default)]
    address: String,
}

/// `GET /console/classify?text=…`: category suggestions for the new-case form (JSON).
pub async fn classify(
    State(state): State<AppState>,
    user: ConsoleUser,
    Query(q): Query<ClassifyQuery>,
) -> Response {
    if !CENTER.contains(&user.principal.role) {
        return (
            StatusCode::FORBIDDEN,
            Json(json!({"error": {"code": "forbidden", "message": "role may not classify"}})),
        )
            .into_response();
    }
    let text = q.text.trim();
    if text.is_empty() || text.chars().count() > intake::MAX_CONTENT_CHARS {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"error": {"code": "invalid_field", "field": "text", "message": "empty or too long"}})),
        )
            .into_response();
    }
    let (class, location) = intake::triage(
        &state.region,
        text,
        &LocationInput {
            address: opt(&q.address),
            ..LocationInput::default()
        },
    );
    let lang = user.lang;
    let place = location
        .grid()
        .and_then(|g| state.region.grid(g))
        .map(|g| g.name.clone());
    let suggestions: Vec<_> = class
        .suggestions
        .iter()
        .filter_map(|s| {
            let c = state.region.category(&s.category)?;
            Some(json!({
                "code": c.code,
                "name": lang.pick(&c.name_zh, &c.name_en),
                "score": s.probability,
                "evidence": s.evidence,
                "police": c.police,
            }))
        })
        .collect();
    let emergency = class
        .emergency
        .as_ref()
        .map(|e| emergency_json(&state, lang, e.line, json!(e.evidence), json!(e.confidence)));
    Json(json!({
        "suggestions": suggestions,
        "manual": class.manual,
        "emergency": emergency,
        "location": {"via": location.via(), "name": place},
    }))
    .into_response()
}

/// The line as the call-taker reads it: 119 消防 / 119 fire.
pub(super) fn emergency_label(lang: Lang, line: EmergencyLine) -> String {
    lang.t(&format!("emergency.line.{}", line.as_str()))
        .to_string()
}

/// A detected emergency as the call form shows it (the page and the live suggestions).
fn emergency_json(
    state: &AppState,
    lang: Lang,
    line: EmergencyLine,
    evidence: serde_json::Value,
    confidence: serde_json::Value,
) -> serde_json::Value {
    json!({
        "line": line.as_str(),
        "label": emergency_label(lang, line),
        "evidence": evidence,
        "confidence": confidence,
        "by_phone": state.region.handoff_by_phone(line),
    })
}
