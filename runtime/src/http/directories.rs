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
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use serde::{Deserialize, Serialize};

use super::AppState;
use super::error::{ApiError, ApiJson, ApiQuery, ApiResult};
use crate::auth::{Principal, Role};
use crate::model::DirectorySystem;
use crate::open311::format::datetime;
use crate::privacy::mask_phone;
use crate::store::directory::{DirectoryInput, DirectoryQuery, DirectoryRecord, STATUSES};

/// Roles that create, update and delete directory entries.
pub const WRITERS: [Role; 2] = [Role::Admin, Role::Supervisor];
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

/// A directory entry as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EntryView {
    pub id: i64,
    pub system: String,
    pub name: String,
    pub category: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub grid: Option<String>,
    pub description: Option<String>,
    pub qualification: Option<String>,
    pub status: String,
    pub unit: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
}

/// Whether `role` sees directory phone numbers in full.
pub fn sees_directory_phone(role: Role) -> bool {
    !matches!(role, Role::Analyst | Role::Auditor)
}

impl EntryView {
    pub fn new(r: DirectoryRecord, role: Role) -> EntryView {
        let phone = if sees_directory_phone(role) {
            r.phone
        } else {
            r.phone.as_deref().map(mask_phone)
        };
        EntryView {
            id: r.id,
            system: r.system,
            name: r.name,
            category: r.category,
            phone,
            address: r.address,
            grid: r.grid_code,
            description: r.description,
            qualification: r.qualification,
            status: r.status,
            unit: r.unit_id,
            created_at: datetime(r.created_at),
            updated_at: datetime(r.updated_at),
            version: r.version,
        }
    }
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

/// Request body of create and update. `version` (update only) makes the update conditional.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntryBody {
    pub name: String,
    pub category: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub grid: Option<String>,
    pub description: Option<String>,
    pub qualification: Option<String>,
    pub status: Option<String>,
    pub unit: Option<String>,
    pub version: Option<i64>,
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

/// Trims an optional text field, treats empty as absent and bounds its length.
pub fn opt_text(field: &str, v: &Option<String>, max: usize) -> ApiResult<Option<String>> {
    match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) if s.chars().count() > max => Err(ApiError::invalid(
            field,
            format!("不超过 {max} 字 / at most {max} characters"),
        )),
        Some(s) if s.chars().any(char::is_control) => Err(ApiError::invalid(
            field,
            "不能包含控制字符 / must not contain control characters",
        )),
        Some(s) => Ok(Some(s.to_string())),
    }
}

/// A phone number: digits plus `+ - ( )` and spaces, at least 3 digits, at most 32 characters.
pub fn opt_phone(field: &str, v: &Option<String>) -> ApiResult<Option<String>> {
    let Some(p) = opt_text(field, v, 32)? else {
        return Ok(None);
    };
    let digits = p.chars().filter(char::is_ascii_digit).count();
    let allowed = p
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' ' | '(' | ')'));
    if digits < 3 || !allowed {
        return Err(ApiError::invalid(
            field,
            "电话号码只能包含数字、空格和 + - ( ) / a phone number has digits, spaces and + - ( ) only",
        ));
    }
    Ok(Some(p))
}

/// Checks a body's shape (no database access): lengths, formats, per-system required fields.
pub fn validate(system: DirectorySystem, body: &EntryBody) -> ApiResult<DirectoryInput> {
    let name = opt_text("name", &Some(body.name.clone()), 200)?
        .ok_or_else(|| ApiError::invalid("name", "名称不能为空 / name is required"))?;
    let category = opt_text("category", &body.category, 64)?;
    let qualification = opt_text("qualification", &body.qualification, 500)?;
    if system == DirectorySystem::MarketProviders {
        if category.is_none() {
            return Err(ApiError::invalid(
                "category",
                "市场化服务队伍必须注明服务类别 / a market provider needs its service category",
            ));
        }
        if qualification.is_none() {
            return Err(ApiError::invalid(
                "qualification",
                "市场化服务队伍必须注明资质 / a market provider needs its qualification",
            ));
        }
    }
    let status = match opt_text("status", &body.status, 16)? {
        None => "active".to_string(),
        Some(s) if STATUSES.contains(&s.as_str()) => s,
        Some(s) => {
            return Err(ApiError::invalid(
                "status",
                format!(
                    "状态只能是 active 或 suspended / status must be active or suspended, got {s:?}"
                ),
            ));
        }
    };
    Ok(DirectoryInput {
        name,
        category,
        phone: opt_phone("phone", &body.phone)?,
        address: opt_text("address", &body.address, 200)?,
        grid_code: opt_text("grid", &body.grid, 32)?,
        description: opt_text("description", &body.description, 2000)?,
        qualification,
        status,
        unit_id: opt_text("unit", &body.unit, 64)?,
    })
}

/// Checks the references of a validated input against the region.
async fn check_references(state: &AppState, input: &DirectoryInput) -> ApiResult<()> {
    if let Some(g) = &input.grid_code
        && !state.store.grid_unit_exists(g).await?
    {
        return Err(ApiError::invalid(
            "grid",
            format!("未知网格 / unknown grid unit {g:?}"),
        ));
    }
    if let Some(u) = &input.unit_id
        && !state.store.unit_exists(u).await?
    {
        return Err(ApiError::invalid(
            "unit",
            format!("未知承办单位 / unknown handling unit {u:?}"),
        ));
    }
    Ok(())
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
    Path(system): Path<String>,
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
    Path((system, id)): Path<(String, String)>,
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
    if principal.has_role(&WRITERS) {
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
    Path(system): Path<String>,
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
    check_references(&state, &input).await?;
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
    Path((system, id)): Path<(String, String)>,
    ApiJson(body): ApiJson<EntryBody>,
) -> ApiResult<axum::Json<EntryView>> {
    require_writer(&principal)?;
    let system = system_of(&system)?;
    let id = parse_id(&id)?;
    let input = validate(system, &body)?;
    check_references(&state, &input).await?;
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
    Path((system, id)): Path<(String, String)>,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn body(name: &str) -> EntryBody {
        EntryBody {
            name: name.into(),
            ..EntryBody::default()
        }
    }

    fn field(e: ApiError) -> String {
        match e {
            ApiError::Invalid { field, .. } => field,
            other => panic!("expected 422, got {other:?}"),
        }
    }

    #[test]
    fn validates_names_lengths_and_phones() {
        let ok = validate(DirectorySystem::GovernmentServices, &body("  民政局 ")).unwrap();
        assert_eq!(ok.name, "民政局");
        assert_eq!(ok.status, "active");
        assert_eq!(
            field(validate(DirectorySystem::GovernmentServices, &body(" ")).unwrap_err()),
            "name"
        );
        let mut b = body("x");
        b.phone = Some("call me".into());
        assert_eq!(
            field(validate(DirectorySystem::GovernmentServices, &b).unwrap_err()),
            "phone"
        );
        b.phone = Some("0599-6321234".into());
        b.description = Some("长".repeat(2001));
        assert_eq!(
            field(validate(DirectorySystem::GovernmentServices, &b).unwrap_err()),
            "description"
        );
        b.description = None;
        b.status = Some("closed".into());
        assert_eq!(
            field(validate(DirectorySystem::WelfareFacilities, &b).unwrap_err()),
            "status"
        );
    }

    #[test]
    fn market_providers_need_category_and_qualification() {
        let mut b = body("好帮手家政");
        assert_eq!(
            field(validate(DirectorySystem::MarketProviders, &b).unwrap_err()),
            "category"
        );
        b.category = Some("housekeeping".into());
        assert_eq!(
            field(validate(DirectorySystem::MarketProviders, &b).unwrap_err()),
            "qualification"
        );
        b.qualification = Some("营业执照 91350781MA00000000".into());
        b.status = Some("suspended".into());
        let ok = validate(DirectorySystem::MarketProviders, &b).unwrap();
        assert_eq!(ok.status, "suspended");
    }

    #[test]
    fn only_analysts_and_auditors_see_masked_phones() {
        let rec = DirectoryRecord {
            id: 1,
            system: "market_providers".into(),
            name: "x".into(),
            category: None,
            phone: Some("13812345678".into()),
            address: None,
            grid_code: None,
            description: None,
            qualification: None,
            status: "active".into(),
            unit_id: None,
            created_at: 0,
            updated_at: 0,
            version: 1,
        };
        for role in Role::ALL {
            let v = EntryView::new(rec.clone(), role);
            let expect = if matches!(role, Role::Analyst | Role::Auditor) {
                "138****5678"
            } else {
                "13812345678"
            };
            assert_eq!(v.phone.as_deref(), Some(expect), "{role:?}");
        }
    }
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
        let mut schemas = Map::new();
        schemas.insert(
            "DirectoryEntryInput".into(),
            json!({"type": "object", "required": ["name"],
            "additionalProperties": false, "properties": {
                "name": s("string"), "category": ns(), "phone": ns(), "address": ns(), "grid": ns(),
                "description": ns(), "qualification": ns(), "unit": ns(),
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
