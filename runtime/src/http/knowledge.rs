/*!
`/api/v1/knowledge`: the knowledge base for consultations ([`crate::engine::knowledge`]). The
center's roles read it and ask for suggestions; admins and supervisors write it (the engine
refuses anyone else with a 403 saying who may).

- `GET /api/v1/knowledge?q&category&include_retired&limit`: entries, the most recently edited
  first (`q`: words in the question or the answer);
- `GET /api/v1/knowledge/suggest?text&limit`: the entries that may answer a request text, best
  first (BM25 over jieba words; never an expired or retired one);
- `POST /api/v1/knowledge`, `GET|PUT /api/v1/knowledge/{id}`, `POST /api/v1/knowledge/{id}/retire`.

To close a consultation from an entry, `POST /api/v1/cases/{id}/actions` with
`{"action": "answer", "note": <the answer given>, "knowledge": <entry id>}`.
*/

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::auth::{Access, RouteSpec};
use super::error::{ApiError, ApiJson, ApiPath, ApiQuery, ApiResult};
use crate::engine::knowledge::{
    self, KNOWLEDGE_EDITORS, KNOWLEDGE_READERS, KnowledgeInput, MAX_SUGGESTIONS, holds,
};
use crate::model::Principal;
use crate::model::time::{now_ms, render_time};
use crate::store::knowledge::{KnowledgeEntry, KnowledgeFilter};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/knowledge", get(list).post(create))
        .route("/api/v1/knowledge/suggest", get(suggest))
        .route("/api/v1/knowledge/{id}", get(one).put(update))
        .route("/api/v1/knowledge/{id}/retire", post(retire))
}

/// The knowledge base's routes.
pub const ROUTES: &[RouteSpec] = &[
    RouteSpec {
        method: "GET",
        path: "/api/v1/knowledge",
        access: Access::Roles(KNOWLEDGE_READERS),
        tag: "knowledge",
        summary: "Knowledge-base entries (知识库), the most recently edited first (filters: q — words in the question or answer —, category, include_retired, limit)",
        request: None,
        response: (200, "KnowledgeList"),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/knowledge",
        access: Access::Handler(KNOWLEDGE_EDITORS),
        tag: "knowledge",
        summary: "Add an entry: question, answer, category, source unit, valid until (admins and supervisors)",
        request: Some("KnowledgeInput"),
        response: (201, "KnowledgeEntry"),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/knowledge/suggest",
        access: Access::Roles(KNOWLEDGE_READERS),
        tag: "knowledge",
        summary: "Entries that may answer a request text, best first (BM25 over jieba words; expired and retired entries never)",
        request: None,
        response: (200, "KnowledgeSuggestions"),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/knowledge/{id}",
        access: Access::Roles(KNOWLEDGE_READERS),
        tag: "knowledge",
        summary: "One entry with its use count and whether it holds today",
        request: None,
        response: (200, "KnowledgeEntry"),
    },
    RouteSpec {
        method: "PUT",
        path: "/api/v1/knowledge/{id}",
        access: Access::Handler(KNOWLEDGE_EDITORS),
        tag: "knowledge",
        summary: "Replace an entry's fields at the version read (expected_version; a stale one is a 409)",
        request: Some("KnowledgeInput"),
        response: (200, "KnowledgeEntry"),
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/knowledge/{id}/retire",
        access: Access::Handler(KNOWLEDGE_EDITORS),
        tag: "knowledge",
        summary: "Retire an entry (kept for the cases answered from it; no longer suggested)",
        request: Some("KnowledgeRetire"),
        response: (200, "KnowledgeEntry"),
    },
];

/// The component schemas of this area.
pub fn schemas() -> Value {
    let nullable_string = json!({"type": "string", "nullable": true});
    json!({
        "KnowledgeInput": {
            "type": "object", "additionalProperties": false, "required": ["question", "answer"],
            "properties": {
                "question": {"type": "string", "minLength": 1, "maxLength": knowledge::MAX_QUESTION_CHARS},
                "answer": {"type": "string", "minLength": 1, "maxLength": knowledge::MAX_ANSWER_CHARS},
                "category": nullable_string,
                "source_unit": {"type": "string", "nullable": true, "description": "the unit the answer comes from"},
                "valid_until": {"type": "string", "format": "date", "nullable": true, "description": "the last day the answer holds (Asia/Shanghai)"},
                "expected_version": {"type": "integer", "description": "on an edit: the version read"}
            }
        },
        "KnowledgeRetire": {
            "type": "object", "additionalProperties": false,
            "properties": {"expected_version": {"type": "integer"}}
        },
        "KnowledgeEntry": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"}, "question": {"type": "string"}, "answer": {"type": "string"},
                "category_code": nullable_string, "source_unit": nullable_string,
                "valid_until": {"type": "string", "format": "date", "nullable": true},
                "active": {"type": "boolean"},
                "holds": {"type": "boolean", "description": "active and not past valid_until"},
                "answered": {"type": "integer", "description": "cases answered on the call from it"},
                "version": {"type": "integer"},
                "created_by_name": nullable_string, "created_at": {"type": "string", "format": "date-time"},
                "updated_by_name": nullable_string, "updated_at": {"type": "string", "format": "date-time"}
            }
        },
        "KnowledgeList": {"type": "object", "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/KnowledgeEntry"}}}},
        "KnowledgeSuggestions": {"type": "object", "properties": {
            "items": {"type": "array", "items": {"type": "object", "properties": {
                "id": {"type": "integer"}, "question": {"type": "string"}, "answer": {"type": "string"},
                "category_code": nullable_string, "source_unit": nullable_string,
                "valid_until": nullable_string, "score": {"type": "number"}}}}}}
    })
}

fn some(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(String::from)
}

/// An entry as the API shows it.
pub fn entry_json(e: &KnowledgeEntry) -> Value {
    let mut v = serde_json::to_value(e).unwrap_or_default();
    v["holds"] = json!(holds(e, now_ms()));
    v["created_at"] = json!(render_time(e.created_at));
    v["updated_at"] = json!(render_time(e.updated_at));
    v
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    q: Option<String>,
    category: Option<String>,
    include_retired: Option<bool>,
    limit: Option<i64>,
}

async fn list(
    State(state): State<AppState>,
    _principal: Principal,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<Value>> {
    let category = some(&q.category);
    if let Some(c) = &category
        && state.region.category(c).is_none()
    {
        return Err(ApiError::invalid(
            "category",
            format!("{c} is not a category"),
        ));
    }
    let limit = q.limit.unwrap_or(MAX_LIST);
    if !(1..=MAX_LIST).contains(&limit) {
        return Err(ApiError::invalid(
            "limit",
            format!("between 1 and {MAX_LIST}"),
        ));
    }
    let items = state
        .store
        .knowledge_entries(&KnowledgeFilter {
            include_retired: q.include_retired.unwrap_or(false),
            category,
            text: some(&q.q),
            limit,
        })
        .await?;
    Ok(Json(
        json!({"items": items.iter().map(entry_json).collect::<Vec<_>>()}),
    ))
}

/// Most entries one list returns.
const MAX_LIST: i64 = 200;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SuggestQuery {
    text: Option<String>,
    limit: Option<usize>,
}

async fn suggest(
    State(state): State<AppState>,
    _principal: Principal,
    ApiQuery(q): ApiQuery<SuggestQuery>,
) -> ApiResult<Json<Value>> {
    let Some(text) = some(&q.text) else {
        return Err(ApiError::invalid("text", "the request text is required"));
    };
    if text.chars().count() > crate::engine::intake::MAX_CONTENT_CHARS {
        return Err(ApiError::invalid("text", "longer than a request may be"));
    }
    let limit = q.limit.unwrap_or(MAX_SUGGESTIONS);
    if !(1..=MAX_SUGGESTIONS).contains(&limit) {
        return Err(ApiError::invalid(
            "limit",
            format!("between 1 and {MAX_SUGGESTIONS}"),
        ));
    }
    let items = knowledge::suggest(&state.store, &state.region, &text, limit).await?;
    Ok(Json(json!({"items": items})))
}

async fn one(
    State(state): State<AppState>,
    _principal: Principal,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Value>> {
    let e = state
        .store
        .knowledge_entry(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("knowledge entry {id}")))?;
    Ok(Json(entry_json(&e)))
}

async fn create(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(input): ApiJson<KnowledgeInput>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let e = knowledge::create(&state.store, &state.region, &principal, &input).await?;
    Ok((StatusCode::CREATED, Json(entry_json(&e))))
}

async fn update(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<KnowledgeInput>,
) -> ApiResult<Json<Value>> {
    let e = knowledge::update(&state.store, &state.region, &principal, id, &input).await?;
    Ok(Json(entry_json(&e)))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RetireBody {
    expected_version: Option<i64>,
}

async fn retire(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<RetireBody>,
) -> ApiResult<Json<Value>> {
    let e = knowledge::retire(&state.store, &principal, id, body.expected_version).await?;
    Ok(Json(entry_json(&e)))
}
