/*!
知识库 — the knowledge base in the console: the list with search (any center role), the form to
add or edit an entry and the retire button (admins and supervisors; [`crate::engine::knowledge`]
refuses anyone else), and the JSON the call-taker's screen asks for while the request is typed
(`/console/knowledge/suggest`, read by `static/knowledge.js`).
*/

use super::*;
use crate::engine::knowledge::{
    self, KNOWLEDGE_EDITORS, KNOWLEDGE_READERS, KnowledgeInput, MAX_SUGGESTIONS, holds,
};
use crate::store::knowledge::{KnowledgeEntry, KnowledgeFilter};

#[derive(Deserialize, Default)]
pub struct KnowledgeQuery {
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    retired: Option<String>,
    #[serde(default)]
    saved: Option<String>,
    #[serde(default)]
    #[allow(dead_code)] // read by the language middleware; accepted so `?lang=` is not unknown
    lang: Option<String>,
}

fn refuse(user: &ConsoleUser) -> Option<Response> {
    (!KNOWLEDGE_READERS.contains(&user.principal.role)).then(|| {
        error_page(
            user.lang,
            Some(user),
            StatusCode::FORBIDDEN,
            user.lang.t("error.forbidden"),
        )
    })
}

fn entry_row(state: &AppState, lang: Lang, e: &KnowledgeEntry, now: i64) -> serde_json::Value {
    json!({
        "id": e.id,
        "question": e.fields.question,
        "answer": e.fields.answer,
        "answer_short": short(&e.fields.answer, 80),
        "category": e.fields.category_code.as_deref().map(|c| category_name(state, lang, Some(c))),
        "category_code": e.fields.category_code,
        "source_unit": e.fields.source_unit.as_deref().map(|u| unit_name(state, Some(u))),
        "source_unit_id": e.fields.source_unit,
        "valid_until": e.fields.valid_until,
        "active": e.active,
        "expired": e.active && !holds(e, now),
        "answered": e.answered,
        "version": e.version,
        "updated_by": e.updated_by_name,
        "updated_at": e.updated_at,
    })
}

/// The first `n` characters of `s`, with an ellipsis when cut.
fn short(s: &str, n: usize) -> String {
    if s.chars().count() > n {
        s.chars().take(n).chain(std::iter::once('…')).collect()
    } else {
        s.to_string()
    }
}

/// `GET /console/knowledge`: entries, searchable.
pub async fn knowledge_page(
    State(state): State<AppState>,
    user: ConsoleUser,
    Query(q): Query<KnowledgeQuery>,
) -> Response {
    if let Some(r) = refuse(&user) {
        return r;
    }
    let lang = user.lang;
    let text = q.q.as_deref().map(str::trim).unwrap_or("").to_string();
    let category = q
        .category
        .as_deref()
        .map(str::trim)
        .filter(|c| state.region.category(c).is_some())
        .map(String::from);
    let include_retired = q.retired.as_deref() == Some("1");
    let entries = match state
        .store
        .knowledge_entries(&KnowledgeFilter {
            include_retired,
            category: category.clone(),
            text: (!text.is_empty()).then(|| text.clone()),
            limit: 500,
        })
        .await
    {
        Ok(e) => e,
        Err(e) => return store_error_page(&user, e),
    };
    let now = now_ms();
    let flash = q
        .saved
        .as_ref()
        .map(|_| json!({"kind": "ok", "text": lang.t("knowledge.saved")}));
    page_response(
        &state,
        &user,
        StatusCode::OK,
        "knowledge.html",
        "knowledge",
        Value::from_serialize(json!({
            "entries": entries.iter().map(|e| entry_row(&state, lang, e, now)).collect::<Vec<_>>(),
            "q": text,
            "category": category.unwrap_or_default(),
            "retired": include_retired,
            "categories": categories(&state, lang),
            "may_edit": KNOWLEDGE_EDITORS.contains(&user.principal.role),
            "flash": flash,
        })),
    )
}

fn categories(state: &AppState, lang: Lang) -> Vec<serde_json::Value> {
    super::category_choices(&state.region.categories, lang)
        .into_iter()
        .filter(|c| c["police"] != true)
        .collect()
}

fn form_page(
    state: &AppState,
    user: &ConsoleUser,
    status: StatusCode,
    entry: serde_json::Value,
    error: Option<String>,
) -> Response {
    let lang = user.lang;
    page_response(
        state,
        user,
        status,
        "knowledge_edit.html",
        "knowledge",
        Value::from_serialize(json!({
            "entry": entry,
            "categories": categories(state, lang),
            "units": state.region.units.iter()
                .filter(|u| u.kind != crate::model::UnitKind::Police)
                .map(|u| json!({"id": u.id, "name": u.name})).collect::<Vec<_>>(),
            "may_edit": KNOWLEDGE_EDITORS.contains(&user.principal.role),
            "error": error,
        })),
    )
}

/// `GET /console/knowledge/new`: the empty form.
pub async fn knowledge_new(State(state): State<AppState>, user: ConsoleUser) -> Response {
    if let Some(r) = refuse(&user) {
        return r;
    }
    form_page(&state, &user, StatusCode::OK, json!({"id": null}), None)
}

/// `GET /console/knowledge/{id}`: one entry, in its form for an editor.
pub async fn knowledge_edit(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<i64>,
) -> Response {
    if let Some(r) = refuse(&user) {
        return r;
    }
    match state.store.knowledge_entry(id).await {
        Ok(Some(e)) => {
            let row = entry_row(&state, user.lang, &e, now_ms());
            form_page(&state, &user, StatusCode::OK, row, None)
        }
        Ok(None) => error_page(
            user.lang,
            Some(&user),
            StatusCode::NOT_FOUND,
            user.lang.t("error.not_found"),
        ),
        Err(e) => store_error_page(&user, e),
    }
}

fn form_get(form: &HashMap<String, String>, k: &str) -> Option<String> {
    form.get(k)
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// `POST /console/knowledge` (new) and `POST /console/knowledge/{id}` (edit).
async fn save(
    state: &AppState,
    user: &ConsoleUser,
    id: Option<i64>,
    form: &HashMap<String, String>,
) -> Response {
    if !user.csrf_ok(form.get("csrf").map(String::as_str).unwrap_or("")) {
        return csrf_rejected(user.lang);
    }
    if let Some(r) = refuse(user) {
        return r;
    }
    let input = KnowledgeInput {
        question: form_get(form, "question").unwrap_or_default(),
        answer: form_get(form, "answer").unwrap_or_default(),
        category: form_get(form, "category"),
        source_unit: form_get(form, "source_unit"),
        valid_until: form_get(form, "valid_until"),
        expected_version: form_get(form, "version").and_then(|v| v.parse().ok()),
    };
    let result = match id {
        None => knowledge::create(&state.store, &state.region, &user.principal, &input).await,
        Some(id) => {
            knowledge::update(&state.store, &state.region, &user.principal, id, &input).await
        }
    };
    match result {
        Ok(_) => Redirect::to("/console/knowledge?saved=1").into_response(),
        Err(e) if matches!(e.kind, ErrorKind::Invalid | ErrorKind::Conflict) => {
            // The form comes back as typed, with the reason.
            let entry = json!({
                "id": id, "question": input.question, "answer": input.answer,
                "category_code": input.category, "source_unit_id": input.source_unit,
                "valid_until": input.valid_until, "version": input.expected_version,
                "active": true,
            });
            let text = errors::message(user.lang, &e);
            form_page(state, user, status_of(&e), entry, Some(text))
        }
        Err(e) => errors::error_response(user, e),
    }
}

pub async fn knowledge_create(
    State(state): State<AppState>,
    user: ConsoleUser,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    save(&state, &user, None, &form).await
}

pub async fn knowledge_save(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<i64>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    save(&state, &user, Some(id), &form).await
}

/// `POST /console/knowledge/{id}/retire`.
pub async fn knowledge_retire(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<i64>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if !user.csrf_ok(form.get("csrf").map(String::as_str).unwrap_or("")) {
        return csrf_rejected(user.lang);
    }
    if let Some(r) = refuse(&user) {
        return r;
    }
    let version = form_get(&form, "version").and_then(|v| v.parse().ok());
    match knowledge::retire(&state.store, &user.principal, id, version).await {
        Ok(_) => Redirect::to("/console/knowledge?saved=1").into_response(),
        Err(e) => errors::error_response(&user, e),
    }
}

#[derive(Deserialize, Default)]
pub struct SuggestQuery {
    #[serde(default)]
    text: String,
}

/// `GET /console/knowledge/suggest?text=…`: the entries for what the call-taker has typed (JSON).
pub async fn knowledge_suggest(
    State(state): State<AppState>,
    user: ConsoleUser,
    Query(q): Query<SuggestQuery>,
) -> Response {
    if !KNOWLEDGE_READERS.contains(&user.principal.role) {
        return (
            StatusCode::FORBIDDEN,
            Json(json!({"error": {"code": "forbidden", "message": "role may not read the knowledge base"}})),
        )
            .into_response();
    }
    let text = q.text.trim();
    if text.chars().count() > intake::MAX_CONTENT_CHARS {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(
                json!({"error": {"code": "invalid_field", "field": "text", "message": "too long"}}),
            ),
        )
            .into_response();
    }
    match knowledge::suggest(&state.store, &state.region, text, MAX_SUGGESTIONS).await {
        Ok(items) => {
            let lang = user.lang;
            let items: Vec<_> = items
                .iter()
                .map(|s| {
                    json!({
                        "id": s.id,
                        "question": s.question,
                        "answer": s.answer,
                        "category": s.category_code.as_deref().map(|c| category_name(&state, lang, Some(c))),
                        "category_code": s.category_code,
                        "source": s.source_unit.as_deref().map(|u| unit_name(&state, Some(u))),
                        "valid_until": s.valid_until,
                    })
                })
                .collect();
            Json(json!({"items": items})).into_response()
        }
        Err(e) => errors::error_response(&user, e),
    }
}

/// The case page's 知识库 block: while the case may be answered on the call (`answer` is among
/// the actions allowed), the entries suggested for its text, each with a one-click answer.
pub(super) async fn case_suggestions(
    state: &AppState,
    user: &ConsoleUser,
    row: &CaseRow,
    can_answer: bool,
) -> serde_json::Value {
    if !can_answer || !KNOWLEDGE_READERS.contains(&user.principal.role) {
        return json!({"items": []});
    }
    let items = match knowledge::suggest(&state.store, &state.region, &row.content, 3).await {
        Ok(items) => items,
        Err(e) => {
            // The block is a help, not the page: a failure leaves it out and is logged.
            tracing::warn!(error = %e, "knowledge suggestions for the case page");
            Vec::new()
        }
    };
    let lang = user.lang;
    json!({"items": items.iter().map(|s| json!({
        "id": s.id,
        "question": s.question,
        "answer": s.answer,
        "source": s.source_unit.as_deref().map(|u| unit_name(state, Some(u))),
        "category": s.category_code.as_deref().map(|c| category_name(state, lang, Some(c))),
    })).collect::<Vec<_>>()})
}
