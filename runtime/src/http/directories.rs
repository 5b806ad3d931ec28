/*!
Directories API: `/api/v1/directory` — the government services, welfare facilities, social
organizations / volunteers and market providers data systems.

| route | roles |
|---|---|
| `GET /api/v1/directory?system=&q=&category=&grid=&status=&page=&page_size=` (all systems) | every staff role |
| `GET /api/v1/directory/{system}` (same filters), `GET …/{system}/{id}` | every staff role |
| `POST /api/v1/directory/{system}`, `PUT …/{system}/{id}`, `DELETE …/{system}/{id}` | admin, supervisor |

Directory phone numbers are the service numbers of organisations and providers, which the
people who route and handle cases must dial; analysts and auditors (who never call anyone) see
them masked. Market providers carry a service category and a qualification (both required) and a
status `active` | `suspended`. Invalid fields are a 422 naming the field; every write is audited.
*/

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use serde::{Deserialize, Serialize};

use super::AppState;
use super::error::{ApiError, ApiJson, ApiPath, ApiQuery, ApiResult};
use crate::engine::directories::{EntryBody, EntryView, check_references, opt_text, validate};
use crate::model::{DirectorySystem, Principal};
use crate::policy::access::may_write_directories;
use crate::store::directory::{DirectoryQuery, STATUSES};

/// Default and largest page size of a listing.
pub const DEFAULT_PAGE_SIZE: u32 = 50;
pub const MAX_PAGE_SIZE: u32 = 200;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/directory", get(search_all))
        .route(
            "/api/v1/directory/{system}",
            get(search_system).post(create),
        )
        .route(
            "/api/v1/directory/{system}/{id}",
            get(read).put(update).delete(remove),
        )
}

/// A page of results.
#[derive(Debug, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub page: u32,
    pub page_size: u32,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchParams {
    pub system: Option<String>,
    pub q: Option<String>,
    pub category: Option<String>,
    pub grid: Option<String>,
    pub status: Option<String>,
    pub page: Option<u32>,
    pub page_size: Option<u32>,
}

/// Parses the `{system}` path segment.
pub fn system_of(s: &str) -> ApiResult<DirectorySystem> {
    DirectorySystem::parse(s).ok_or_else(|| {
        let all: Vec<&str> = DirectorySystem::ALL.iter().map(|d| d.as_str()).collect();
        ApiError::not_found(format!(
            "directory system {s:?} (one of {})",
            all.join(", ")
        ))
    })
}

fn paging(page: Option<u32>, page_size: Option<u32>) -> ApiResult<(u32, u32)> {
    let page = page.unwrap_or(1);
    if page == 0 {
        return Err(ApiError::invalid(
            "page",
            "页码从 1 开始 / page starts at 1",
        ));
    }
    let size = page_size.unwrap_or(DEFAULT_PAGE_SIZE);
    if size == 0 || size > MAX_PAGE_SIZE {
        return Err(ApiError::invalid(
            "page_size",
            format!("每页 1..{MAX_PAGE_SIZE} 条 / page_size must be 1..{MAX_PAGE_SIZE}"),
        ));
    }
    Ok((page, size))
}

async fn search(
    state: &AppState,
    principal: &Principal,
    system: Option<DirectorySystem>,
    p: SearchParams,
) -> ApiResult<axum::Json<Page<EntryView>>> {
    let (page, page_size) = paging(p.page, p.page_size)?;
    if let Some(s) = p.status.as_deref()
        && !STATUSES.contains(&s)
    {
        return Err(ApiError::invalid(
            "status",
            "状态只能是 active 或 suspended / status must be active or suspended",
        ));
    }
    let query = DirectoryQuery {
        system,
        q: opt_text("q", &p.q, 100)?,
        category: opt_text("category", &p.category, 64)?,
        grid: opt_text("grid", &p.grid, 32)?,
        status: p.status.filter(|s| !s.is_empty()),
        limit: i64::from(page_size),
        offset: i64::from(page - 1) * i64::from(page_size),
    };
    let (rows, total) = state.store.directory_search(&query).await?;
    Ok(axum::Json(Page {
        items: rows
            .into_iter()
            .map(|r| EntryView::new(r, principal.role))
            .collect(),
        total,
        page,
        page_size,
    }))
}

async fn search_all(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(p): ApiQuery<SearchParams>,
) -> ApiResult<axum::Json<Page<EntryView>>> {
    let system = match p.system.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(DirectorySystem::parse(s).ok_or_else(|| {
            ApiError::invalid(
                "system",
                format!("未知目录 / unknown directory system {s:?}"),
            )
        })?),
    };
    search(&state, &principal, system, p).await
}

async fn search_system(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(system): ApiPath<String>,
    ApiQuery(p): ApiQuery<SearchParams>,
) -> ApiResult<axum::Json<Page<EntryView>>> {
    let system = system_of(&system)?;
    if let Some(s) = p.system.as_deref().filter(|s| !s.is_empty())
        && s != system.as_str()
    {
        return Err(ApiError::invalid(
            "system",
            "与路径中的目录不一致 / contradicts the system in the path",
        ));
    }
    search(&state, &principal, Some(system), p).await
}

fn parse_id(id: &str) -> ApiResult<i64> {
    id.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| ApiError::not_found(format!("directory entry {id:?}")))
}

async fn read(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((system, id)): ApiPath<(String, String)>,
) -> ApiResult<axum::Json<EntryView>> {
    let system = system_of(&system)?;
    let id = parse_id(&id)?;
    let rec = state
        .store
        .directory_get(system, id)
        .await
        .map_err(|e| not_found_as(e, id))?;
    Ok(axum::Json(EntryView::new(rec, principal.role)))
}

fn require_writer(principal: &Principal) -> ApiResult<()> {
    if may_write_directories(principal.role) {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "角色 {} 不能修改目录 / role {} may not change directories",
            principal.role.name_zh(),
            principal.role.as_str()
        )))
    }
}

fn not_found_as(e: crate::store::StoreError, id: i64) -> ApiError {
    match e {
        crate::store::StoreError::NotFound => ApiError::not_found(format!("directory entry {id}")),
        other => other.into(),
    }
}

async fn create(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(system): ApiPath<String>,
    ApiJson(body): ApiJson<EntryBody>,
) -> ApiResult<(StatusCode, axum::Json<EntryView>)> {
    require_writer(&principal)?;
    let system = system_of(&system)?;
    if body.version.is_some() {
        return Err(ApiError::invalid(
            "version",
            "新建条目不能指定版本 / version is only for updates",
        ));
    }
    let input = validate(system, &body)?;
    check_references(&state.store, &input).await?;
    let rec = state
        .store
        .directory_create(system, &input, &principal)
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(EntryView::new(rec, principal.role)),
    ))
}

async fn update(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((system, id)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<EntryBody>,
) -> ApiResult<axum::Json<EntryView>> {
    require_writer(&principal)?;
    let system = system_of(&system)?;
    let id = parse_id(&id)?;
    let input = validate(system, &body)?;
    check_references(&state.store, &input).await?;
    let rec = state
        .store
        .directory_update(system, id, &input, body.version, &principal)
        .await
        .map_err(|e| not_found_as(e, id))?;
    Ok(axum::Json(EntryView::new(rec, principal.role)))
}

async fn remove(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((system, id)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    require_writer(&principal)?;
    let system = system_of(&system)?;
    let id = parse_id(&id)?;
    state
        .store
        .directory_delete(system, id, &principal)
        .await
        .map_err(|e| not_found_as(e, id))?;
    Ok(StatusCode::NO_CONTENT)
}

/// OpenAPI 3 fragments for the directory and household routes (they authorize in their own
/// handlers, so they are not in the server's route table): `(paths, component schemas)`, to be
/// merged into `/api/openapi.json`. Error responses use the shared `Error` schema.
pub mod openapi {
    use serde_json::{Map, Value, json};

    fn error(description: &str) -> Value {
        json!({"description": description,
               "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
    }

    fn ok(code: &str, schema: Option<&str>) -> (String, Value) {
        let body = match schema {
            Some(s) => json!({"description": "Success", "content": {"application/json": {
                "schema": {"$ref": format!("#/components/schemas/{s}")}}}}),
            None => json!({"description": "Success"}),
        };
        (code.to_string(), body)
    }

    fn param(name: &str, place: &str, ty: &str, desc: &str) -> Value {
        json!({"name": name, "in": place, "required": place == "path",
               "description": desc, "schema": {"type": ty}})
    }

    /// One operation.
    fn op(
        summary: &str,
        roles: &str,
        params: Vec<Value>,
        request: Option<&str>,
        success: (String, Value),
    ) -> Value {
        let mut responses = Map::new();
        responses.insert(success.0, success.1);
        responses.insert("401".into(), error("Not authenticated"));
        responses.insert("403".into(), error("Role or grid scope does not allow it"));
        responses.insert("422".into(), error("A field is wrong; `field` names it"));
        if params.iter().any(|p| p["in"] == "path") {
            responses.insert(
                "404".into(),
                error("No such record (or not visible to you)"),
            );
        }
        let mut o = json!({"summary": summary, "description": format!("Roles: {roles}."),
                           "x-roles": roles, "parameters": params, "responses": responses});
        if let Some(r) = request {
            o["requestBody"] = json!({"required": true, "content": {"application/json": {
                "schema": {"$ref": format!("#/components/schemas/{r}")}}}});
            o["responses"]["409"] = error("Stale version");
            o["responses"]["400"] = error("Malformed body");
        }
        o
    }

    fn search_params(with_system: bool) -> Vec<Value> {
        let mut v = Vec::new();
        if with_system {
            v.push(param(
                "system",
                "query",
                "string",
                "government_services, welfare_facilities, social_organizations or market_providers",
            ));
        }
        v.extend([
            param(
                "q",
                "query",
                "string",
                "Text in name, category, description, address or qualification",
            ),
            param("category", "query", "string", "Category within the system"),
            param(
                "grid",
                "query",
                "string",
                "Grid unit code: entries in it or below it",
            ),
            param("status", "query", "string", "active or suspended"),
            param("page", "query", "integer", "1-based page"),
            param("page_size", "query", "integer", "1..200, default 50"),
        ]);
        v
    }

    /// `(paths, schemas)`.
    pub fn fragments() -> (Map<String, Value>, Map<String, Value>) {
        let all = "every staff role (analyst and auditor see phone numbers masked)";
        let writers = "admin, supervisor";
        let system = || param("system", "path", "string", "Directory system");
        let id = || param("id", "path", "integer", "Entry id");
        let hh_id = || param("id", "path", "integer", "Household id");
        let mut paths = Map::new();
        paths.insert("/api/v1/directory".into(), json!({
            "get": op("Search all directory systems", all, search_params(true), None, ok("200", Some("DirectoryPage"))),
        }));
        let mut sys_params = vec![system()];
        sys_params.extend(search_params(false));
        paths.insert("/api/v1/directory/{system}".into(), json!({
            "get": op("Search one directory system", all, sys_params, None, ok("200", Some("DirectoryPage"))),
            "post": op("Create a directory entry", writers, vec![system()], Some("DirectoryEntryInput"), ok("201", Some("DirectoryEntry"))),
        }));
        paths.insert("/api/v1/directory/{system}/{id}".into(), json!({
            "get": op("One directory entry", all, vec![system(), id()], None, ok("200", Some("DirectoryEntry"))),
            "put": op("Replace a directory entry (optional `version` for optimistic concurrency)", writers, vec![system(), id()], Some("DirectoryEntryInput"), ok("200", Some("DirectoryEntry"))),
            "delete": op("Delete a directory entry", writers, vec![system(), id()], None, ok("204", None)),
        }));
        let readers = "admin, supervisor, grid_worker (own grid units) in full; operator, dispatcher masked; every read audited";
        let hh_writers = "admin, supervisor, grid_worker (own grid units)";
        paths.insert("/api/v1/households".into(), json!({
            "get": op("List vulnerable households", readers, vec![
                param("kind", "query", "string", "dibao, extreme_poverty, entitled, disabled, elderly_alone, left_behind_child, other"),
                param("grid", "query", "string", "Grid unit code: households in it or below it"),
                param("q", "query", "string", "Text in the head's name or the address"),
                param("page", "query", "integer", "1-based page"),
                param("page_size", "query", "integer", "1..200, default 50"),
            ], None, ok("200", Some("HouseholdPage"))),
            "post": op("Register a household", hh_writers, vec![], Some("HouseholdInput"), ok("201", Some("Household"))),
        }));
        paths.insert("/api/v1/households/counts".into(), json!({
            "get": op("Household counts per grid unit and kind (no personal data; audited)", "every role except unit_handler", vec![], None, ok("200", Some("HouseholdCounts"))),
        }));
        paths.insert("/api/v1/households/{id}".into(), json!({
            "get": op("One household (audited)", readers, vec![hh_id()], None, ok("200", Some("Household"))),
            "put": op("Replace a household (optional `version`)", hh_writers, vec![hh_id()], Some("HouseholdInput"), ok("200", Some("Household"))),
        }));

        let s = |t: &str| json!({"type": t});
        let ns = || json!({"type": "string", "nullable": true});
        let nsl = |max: u32| json!({"type": "string", "nullable": true, "maxLength": max});
        let mut schemas = Map::new();
        schemas.insert(
            "DirectoryEntryInput".into(),
            // The limits of `engine::directories::validate` (characters; control characters
            // refused); a market provider also needs category and qualification (422 otherwise).
            json!({"type": "object", "required": ["name"],
            "additionalProperties": false, "properties": {
                "name": {"type": "string", "minLength": 1, "maxLength": 200},
                "category": nsl(64),
                "phone": {"type": "string", "nullable": true, "maxLength": 32,
                    "pattern": "^[0-9+() -]*$", "description": "digits, spaces and + - ( ), at least 3 digits"},
                "address": nsl(200), "grid": nsl(32),
                "description": nsl(2000), "qualification": nsl(500), "unit": nsl(64),
                "status": {"type": "string", "enum": ["active", "suspended"]},
                "version": {"type": "integer", "nullable": true}}}),
        );
        schemas.insert("DirectoryEntry".into(), json!({"type": "object", "properties": {
            "id": s("integer"), "system": s("string"), "name": s("string"), "category": ns(),
            "phone": ns(), "address": ns(), "grid": ns(), "description": ns(), "qualification": ns(),
            "status": s("string"), "unit": ns(), "created_at": s("string"), "updated_at": s("string"),
            "version": s("integer")}}));
        schemas.insert(
            "DirectoryPage".into(),
            json!({"type": "object", "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/DirectoryEntry"}},
            "total": s("integer"), "page": s("integer"), "page_size": s("integer")}}),
        );
        schemas.insert("HouseholdInput".into(), json!({"type": "object", "required": ["head_name", "kind"],
            "additionalProperties": false, "properties": {
                "head_name": s("string"), "kind": s("string"), "grid": ns(), "phone": ns(),
                "id_number": ns(), "members": {"type": "integer", "nullable": true, "minimum": 1, "maximum": 50},
                "address": ns(), "notes": ns(), "version": {"type": "integer", "nullable": true}}}));
        schemas.insert(
            "Household".into(),
            json!({"type": "object", "properties": {
            "id": s("integer"), "head_name": s("string"), "kind": s("string"), "grid": ns(),
            "phone": ns(), "id_number": ns(), "members": {"type": "integer", "nullable": true},
            "address": ns(), "notes": ns(), "masked": s("boolean"),
            "created_at": s("string"), "updated_at": s("string"), "version": s("integer")}}),
        );
        schemas.insert(
            "HouseholdPage".into(),
            json!({"type": "object", "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Household"}},
            "total": s("integer"), "page": s("integer"), "page_size": s("integer")}}),
        );
        schemas.insert("HouseholdCounts".into(), json!({"type": "object", "properties": {
            "items": {"type": "array", "items": {"type": "object", "properties": {
                "grid_code": ns(), "kind": s("string"), "households": s("integer"), "members": s("integer")}}},
            "total_households": s("integer")}}));
        (paths, schemas)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn every_route_is_described_and_refs_resolve() {
            let (paths, schemas) = fragments();
            for (path, methods) in [
                ("/api/v1/directory", &["get"][..]),
                ("/api/v1/directory/{system}", &["get", "post"][..]),
                (
                    "/api/v1/directory/{system}/{id}",
                    &["get", "put", "delete"][..],
                ),
                ("/api/v1/households", &["get", "post"][..]),
                ("/api/v1/households/counts", &["get"][..]),
                ("/api/v1/households/{id}", &["get", "put"][..]),
            ] {
                for m in methods {
                    assert!(paths[path][m].is_object(), "{m} {path}");
                }
            }
            let text =
                Value::Object(paths).to_string() + &Value::Object(schemas.clone()).to_string();
            for piece in text.split("#/components/schemas/").skip(1) {
                let name: String = piece.chars().take_while(|c| c.is_alphanumeric()).collect();
                assert!(
                    name == "Error" || schemas.contains_key(&name),
                    "dangling $ref {name}"
                );
            }
        }
    }
}
