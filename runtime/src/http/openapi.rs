/*!
`/api/openapi.json`: the OpenAPI 3.0 document of the server core, built in code from the same
route table that authorizes requests ([`super::auth::ROUTES`]), so a route cannot exist without
its documentation and access rule. The component schemas are hand-written next to it.
*/

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde_json::{Map, Value, json};

use super::AppState;
use super::auth::{Access, ROUTES};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/openapi.json", get(document))
}

async fn document(State(_): State<AppState>) -> Json<Value> {
    Json(build())
}

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    })
}

/// The whole document.
pub fn build() -> Value {
    let mut paths: Map<String, Value> = Map::new();
    for r in ROUTES.iter() {
        let mut op = Map::new();
        op.insert("summary".into(), json!(r.summary));
        op.insert("tags".into(), json!([r.tag]));
        op.insert(
            "operationId".into(),
            json!(format!(
                "{}_{}",
                r.method.to_ascii_lowercase(),
                r.path
                    .trim_start_matches('/')
                    .replace(['/', '.'], "_")
                    .replace(['{', '}'], "")
            )),
        );
        let roles = match r.access {
            Access::Public => {
                op.insert("security".into(), json!([]));
                "public".to_string()
            }
            Access::Authenticated => "any authenticated user".to_string(),
            Access::Roles(roles) | Access::Handler(roles) => roles
                .iter()
                .map(|x| x.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        };
        op.insert("description".into(), json!(format!("Roles: {roles}.")));
        op.insert("x-roles".into(), json!(roles));
        let mut params = path_params(r.path);
        params.extend(query_params(r.method, r.path));
        if !params.is_empty() {
            op.insert("parameters".into(), Value::Array(params));
        }
        if let Some(req) = refined_request(r.method, r.path).or(r.request) {
            // File uploads (`…Upload` schemas) are multipart forms; every other body is JSON.
            let media = if req.ends_with("Upload") {
                "multipart/form-data"
            } else {
                "application/json"
            };
            op.insert(
                "requestBody".into(),
                json!({"required": true, "content": {media: {
                    "schema": {"$ref": format!("#/components/schemas/{req}")}}}}),
            );
        }
        let (code, schema) = r.response;
        let content = if schema == "Text" {
            json!({"text/plain": {"schema": {"type": "string"}}})
        } else if schema == "Binary" {
            // A stored file, served with its own content type.
            json!({"*/*": {"schema": {"type": "string", "format": "binary"}}})
        } else {
            json!({"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}})
        };
        let mut responses = Map::new();
        responses.insert(
            code.to_string(),
            json!({"description": "Success", "content": content}),
        );
        op.insert("responses".into(), Value::Object(responses));
        let path_item = paths
            .entry(r.path.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        path_item[r.method.to_ascii_lowercase()] = Value::Object(op);
    }
    // The directory and household modules describe their parameters and bodies in detail; their
    // operations refine the ones generated from the route table (which keep operationId and
    // x-roles), and their schemas join the shared ones.
    let (detail_paths, detail_schemas) = super::directories::openapi::fragments();
    for (path, methods) in detail_paths {
        let item = paths
            .entry(path)
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(methods) = methods {
            for (method, detail) in methods {
                let slot = &mut item[method.as_str()];
                match (slot.as_object_mut(), detail) {
                    (Some(op), Value::Object(detail)) => op.extend(detail),
                    (_, detail) => *slot = detail,
                }
            }
        }
    }
    // Every operation, generated or refined, documents every status the service may answer.
    for r in ROUTES.iter() {
        if let Some(op) = paths
            .get_mut(r.path)
            .and_then(|item| item.get_mut(r.method.to_ascii_lowercase()))
        {
            add_error_statuses(op, r.method, r.path, r.access);
        }
    }
    let mut all_schemas = schemas();
    if let Value::Object(shared) = &mut all_schemas {
        for area in AREA_SCHEMAS {
            if let Value::Object(more) = area() {
                shared.extend(more);
            }
        }
        for (name, schema) in detail_schemas {
            shared.entry(name).or_insert(schema);
        }
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Minsheng 110 (民生110) service center API",
            "version": crate::VERSION,
            "description": "Intake, triage, routing and the case lifecycle of a provisioned region. \
                Times are RFC 3339 in Asia/Shanghai (+08:00). Errors are \
                {\"error\": {\"code\", \"message\", \"field\"}}. A method a path does \
                not declare is a 405 (with `Allow`), before authorization."
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}, {"session": []}],
        "paths": Value::Object(paths),
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "API token m110_<hex> from `m110 token add`"},
                "session": {"type": "apiKey", "in": "cookie", "name": "m110_session"}
            },
            "schemas": all_schemas,
        }
    })
}

/// The path parameters of `path`, one for each `{name}` segment.
fn path_params(path: &str) -> Vec<Value> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| {
            let (schema, description) = match name {
                "system" => (
                    json!({"type": "string", "enum": ["government_services", "welfare_facilities",
                        "social_organizations", "market_providers"]}),
                    "Directory system",
                ),
                "id" | "other" if path.starts_with("/api/v1/cases") => (
                    json!({"type": "string", "minLength": 1}),
                    "Public case id, e.g. MS350781-20261129-000123",
                ),
                // Numeric record ids: the handler parses the segment as a number (400 if not).
                "id" if INTEGER_IDS.iter().any(|p| path.starts_with(p)) => {
                    (json!({"type": "integer", "format": "int64"}), "Record id")
                }
                "unit" => (json!({"type": "string", "minLength": 1}), "Unit id"),
                _ => (json!({"type": "string", "minLength": 1}), "Record id"),
            };
            json!({"name": name, "in": "path", "required": true,
                "description": description, "schema": schema})
        })
        .collect()
}

/// Request bodies described more precisely here than by the route table's generic `Object`.
fn refined_request(method: &str, path: &str) -> Option<&'static str> {
    match (method, path) {
        ("POST", "/api/v1/alerts/{id}/actions") => Some("AlertActionRequest"),
        _ => None,
    }
}

/// Routes whose `{id}` is a number.
const INTEGER_IDS: &[&str] = &["/api/v1/alerts/", "/api/v1/knowledge/", "/api/v1/offers/"];

fn q(name: &str, schema: Value, description: &str) -> Value {
    json!({"name": name, "in": "query", "required": false, "description": description,
        "schema": schema})
}

fn day() -> Value {
    json!({"type": "string", "format": "date", "description": "YYYY-MM-DD (Asia/Shanghai)"})
}

/// The query parameters the handlers read (each struct is `deny_unknown_fields`-free: extra
/// parameters are ignored, a malformed one is a 400, a wrong value a 422 naming it).
fn query_params(method: &str, path: &str) -> Vec<Value> {
    let text = || json!({"type": "string"});
    let boolean = || json!({"type": "boolean"});
    let limit = |max: i64| json!({"type": "integer", "minimum": 1, "maximum": max});
    match (method, path) {
        ("GET", "/api/v1/cases") => vec![
            q("status", text(), "Comma-separated statuses"),
            q("unit", text(), "Assigned unit id"),
            q("category", text(), "Category code"),
            q(
                "channel",
                json!({"type": "string", "enum": ["", "phone", "web", "grid", "sms", "open311"]}),
                "Intake channel (empty: any, as for every filter here)",
            ),
            q("overdue", boolean(), "Only (or no) overdue cases"),
            q("q", text(), "Text in the content or the case id"),
            q("mine", boolean(), "Only cases I am responsible for"),
            q("from", day(), "Created on or after this day"),
            q("to", day(), "Created up to and including this day"),
            q(
                "page",
                json!({"type": "integer", "minimum": 1, "maximum": crate::http::cases::MAX_OFFSET + 1}),
                "1-based page (deprecated: rows up to 10,000 only; page × page_size beyond that is a 422 naming `page`)",
            ),
            q("page_size", limit(200), "1..200, default 20"),
            q(
                "cursor",
                text(),
                "next_cursor of the previous page (keyset paging); not with page",
            ),
        ],
        ("GET", "/api/v1/analytics/summary")
        | ("GET", "/api/v1/analytics/breakdown")
        | ("GET", "/api/v1/analytics/heatmap") => {
            let mut v = vec![
                q(
                    "month",
                    json!({"type": "string", "pattern": "^([0-9]{4}-[0-9]{2})?$"}),
                    "The whole month, YYYY-MM (instead of from/to; this month when all are absent)",
                ),
                q("from", day(), "First day"),
                q("to", day(), "Last day"),
                q("category", text(), "Category code"),
                q(
                    "area",
                    text(),
                    "Grid unit code (any tier, with everything under it)",
                ),
                q("unit", text(), "Handling unit id"),
                q("channel", text(), "Intake channel"),
            ];
            if path.ends_with("/breakdown") {
                v.push(json!({"name": "by", "in": "query", "required": true,
                    "description": "The dimension of the rows",
                    "schema": {"type": "string", "enum": ["category", "area", "unit", "channel",
                        "gender", "age_band", "occupation", "hour", "weekday", "day", "week", "month"]}}));
                v.push(q(
                    "tier",
                    json!({"type": "integer", "minimum": 1, "maximum": 255}),
                    "Grid tier of an area breakdown (1 = townships)",
                ));
                v.push(q(
                    "format",
                    json!({"type": "string", "enum": ["json", "csv", "xlsx"]}),
                    "json (default), or a csv / xlsx download",
                ));
            }
            v
        }
        ("GET", "/api/v1/alerts") => vec![
            q("from", day(), "First day"),
            q("to", day(), "Last day"),
            q("category", text(), "Category code"),
            q("area", text(), "Grid unit code"),
            q("state", text(), "Alert state"),
            q("limit", limit(500), "1..500, default 100"),
        ],
        ("GET", "/api/v1/audit") => vec![
            q("actor", json!({"type": "integer"}), "User id of the actor"),
            q("action", text(), "Audit action, e.g. case.read_caller"),
            q("target", text(), "Target, e.g. case:MS…"),
            q("from", day(), "First day"),
            q("to", day(), "Last day"),
            q(
                "before",
                json!({"type": "integer"}),
                "next_before of the previous page",
            ),
            q("limit", limit(1000), "1..1000, default 100"),
            q(
                "format",
                json!({"type": "string", "enum": ["json", "csv"]}),
                "json (default) or csv",
            ),
        ],
        ("GET", "/api/v1/scorecards") => vec![
            json!({"name": "from", "in": "query", "required": true, "schema": day(),
                "description": "First day"}),
            json!({"name": "to", "in": "query", "required": true, "schema": day(),
                "description": "Last day"}),
        ],
        ("GET", "/api/v1/scorecards/trend") => vec![
            q(
                "to",
                json!({"type": "string", "pattern": "^([0-9]{4}-[0-9]{2})?$"}),
                "Last month, YYYY-MM (this month when absent)",
            ),
            q(
                "months",
                limit(24),
                "How many months, 1..24 (6 when absent)",
            ),
        ],
        ("GET", "/api/v1/knowledge") => vec![
            q("q", text(), "Text in the question or answer"),
            q("category", text(), "Category code"),
            q("include_retired", boolean(), "Also retired entries"),
            q("limit", limit(200), "1..200, default 200"),
        ],
        ("GET", "/api/v1/knowledge/suggest") => vec![
            json!({"name": "text", "in": "query",
            "required": true, "schema": {"type": "string", "minLength": 1, "maxLength": 4000},
            "description": "The request text to find answers for"}),
            q("limit", limit(5), "Most suggestions, 1..5 (5 when absent)"),
        ],
        _ => Vec::new(),
    }
}

/// Adds the error statuses `method path` may answer (keeping any the operation already names):
/// 400 for a malformed request (query string, path segment, encoding, NUL) and 503 (database
/// busy or a server bound hit, with `Retry-After`) everywhere; the body statuses where there is
/// a body; 401/403 where credentials are needed; 404 for a path naming a record; 409 for writes.
fn add_error_statuses(op: &mut Value, method: &str, path: &str, access: Access) {
    let has_body = op.get("requestBody").is_some();
    let has_query = op["parameters"]
        .as_array()
        .is_some_and(|ps| ps.iter().any(|p| p["in"] == "query"));
    let mut add: Vec<(&str, &str)> = vec![
        (
            "400",
            "Malformed request (query string, path segment, body syntax, UTF-8, NUL)",
        ),
        (
            "503",
            "Database busy or a server bound reached; nothing was saved (Retry-After)",
        ),
    ];
    if has_body {
        add.push(("408", "The body arrived too slowly"));
        add.push(("413", "Body over the size limit"));
        add.push((
            "415",
            "Not application/json (or a charset other than UTF-8)",
        ));
    }
    if has_body || has_query {
        add.push(("422", "A field is wrong; `field` names it"));
    }
    if access != Access::Public {
        add.push(("401", "Not authenticated"));
        add.push(("403", "Role or scope does not allow it"));
    }
    if path.contains('{') {
        add.push(("404", "No such record (or not visible to you)"));
    }
    let writes = matches!(method, "POST" | "PUT" | "DELETE")
        && !matches!(
            path,
            "/api/v1/login" | "/api/v1/password" | "/api/v1/logout" | "/api/v1/triage"
        );
    if writes {
        add.push((
            "409",
            "Illegal transition, stale version or duplicate; detail says which",
        ));
    }
    if writes && access != Access::Public {
        // A body names other records (a case, a unit, an entry) that may not exist.
        add.push(("404", "A record the request names does not exist"));
    }
    if matches!(path, "/api/v1/login" | "/api/v1/password") {
        add.push(("401", "Wrong name or password"));
        add.push((
            "403",
            "The password is a one-time one: set your own first (login)",
        ));
        add.push(("429", "Too many failed attempts: wait Retry-After seconds"));
    }
    if !op["responses"].is_object() {
        op["responses"] = json!({});
    }
    // Exports: the same route answers a download when `format` asks for one.
    let downloads: &[&str] = match (method, path) {
        ("GET", "/api/v1/audit") => &["text/csv"],
        ("GET", "/api/v1/analytics/breakdown") => &[
            "text/csv",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ],
        _ => &[],
    };
    // (`get_mut`, not indexing: indexing a missing key would insert a null response.)
    if let Some(content) = op
        .get_mut("responses")
        .and_then(|r| r.get_mut("200"))
        .and_then(|r| r.get_mut("content"))
        .and_then(Value::as_object_mut)
    {
        for media in downloads {
            content.insert(
                (*media).to_string(),
                json!({"schema": {"type": "string", "format": "binary"}}),
            );
        }
    }
    let responses = op["responses"].as_object_mut().expect("an object");
    for (code, description) in add {
        responses
            .entry(code.to_string())
            .or_insert_with(|| error_response(description));
    }
}

/// The component schemas each area keeps beside its handlers (one line an area).
const AREA_SCHEMAS: &[fn() -> Value] = &[
    merge_schemas,
    crate::http::knowledge::schemas,
    crate::http::offers::schemas,
    crate::http::attachments::schemas,
];

/// 一事多诉's bodies (apart: one `json!` of every schema exceeds the macro's recursion limit).
fn merge_schemas() -> Value {
    json!({
        "MergeRequest": {
            "type": "object", "additionalProperties": false, "required": ["into"],
            "properties": {
                "into": {"type": "string", "description": "the public id of the open case this one repeats (the parent; not itself merged into another)"},
                "note": {"type": "string", "maxLength": 2000}
            }
        },
        "Merged": {"type": "object", "properties": {
            "child": {"type": "string"}, "parent": {"type": "string"},
            "moved": {"type": "array", "items": {"type": "string"}, "description": "the child's own children, moved to the parent"},
            "replied": {"type": "array", "items": {"type": "string"}, "description": "children replied at once because the parent already was"}}},
        "DismissRequest": {
            "type": "object", "additionalProperties": false,
            "properties": {"note": {"type": "string", "maxLength": 2000}}
        }
    })
}

fn schemas() -> Value {
    let nullable_string = json!({"type": "string", "nullable": true});
    json!({
        "Error": {
            "type": "object", "required": ["error"],
            "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
                "code": {"type": "string"}, "message": {"type": "string"},
                "field": {"type": "string"}, "detail": {"type": "object"}}}}
        },
        "Health": {"type": "object", "properties": {"status": {"type": "string"}}},
        "Object": {"type": "object"},
        "Login": {
            "type": "object", "additionalProperties": false, "required": ["name", "password"],
            "properties": {"name": {"type": "string"}, "password": {"type": "string", "format": "password"}}
        },
        "PasswordChange": {
            "type": "object", "additionalProperties": false, "required": ["name", "current", "new"],
            "properties": {"name": {"type": "string"},
                "current": {"type": "string", "format": "password"},
                "new": {"type": "string", "format": "password", "minLength": 10}}
        },
        "Me": {
            "type": "object",
            "properties": {
                "user_id": {"type": "integer"}, "name": {"type": "string"},
                "role": {"type": "string", "enum": ["admin", "supervisor", "operator", "dispatcher",
                    "unit_handler", "grid_worker", "analyst", "auditor"]},
                "unit_id": nullable_string, "grid_codes": {"type": "array", "items": {"type": "string"}},
                "csrf_token": {"type": "string"}, "expires_at": {"type": "string", "format": "date-time"}
            }
        },
        "Region": {"type": "object", "properties": {
            "code": {"type": "string"}, "name": {"type": "string"},
            "categories": {"type": "array", "items": {"type": "object"}},
            "units": {"type": "array", "items": {"type": "object"}}}},
        "Location": {
            "type": "object", "additionalProperties": false,
            "properties": {"grid_code": {"type": "string"}, "address": {"type": "string", "maxLength": 500},
                "lat": {"type": "number", "minimum": -90, "maximum": 90},
                "lon": {"type": "number", "minimum": -180, "maximum": 180}}
        },
        "NewCase": {
            "type": "object", "additionalProperties": false, "required": ["channel", "content"],
            "properties": {
                "channel": {"type": "string", "enum": ["phone", "web", "grid", "sms"],
                    "description": "grid: grid workers only; open311 is set by /open311/v2, never here"},
                "caller": {"type": "object", "additionalProperties": false, "properties": {
                    "phone": {"type": "string"}, "name": {"type": "string", "maxLength": 100},
                    "gender": {"type": "string", "enum": ["male", "female", "other"]},
                    "age_band": {"type": "string", "maxLength": 100},
                    "occupation": {"type": "string", "maxLength": 100}}},
                "content": {"type": "string", "minLength": 1, "maxLength": 4000,
                    "description": "the request text; blank (only spaces) is a 422"},
                "category": {"type": "string", "description": "Operator override of the classifier"},
                "location": {"$ref": "#/components/schemas/Location"},
                "priority": {"type": "string", "enum": ["urgent", "high", "normal", "low"]},
                "external_id": {"type": "string", "maxLength": 200},
                "emergency": {"type": "object", "additionalProperties": false,
                    "description": "The operator's decision on the emergency stage: line null = not an emergency (reason required, audited); a line without integration needs the incident number of the phone transfer",
                    "properties": {
                        "line": {"type": "string", "nullable": true, "enum": ["110", "119", "120", "122", null]},
                        "reason": {"type": "string", "maxLength": 500},
                        "incident_number": {"type": "string", "maxLength": 500}}}
            }
        },
        "TriageRequest": {
            "type": "object", "additionalProperties": false, "required": ["content"],
            "properties": {"content": {"type": "string", "minLength": 1, "maxLength": 4000},
                "location": {"$ref": "#/components/schemas/Location"}}
        },
        "Triage": {"type": "object", "properties": {
            "classification": {"type": "object", "properties": {
                "category": nullable_string, "confidence": {"type": "number"},
                "manual": {"type": "boolean", "description": "not sure: the operator chooses (请人工选择)"},
                "suggestions": {"type": "array", "items": {"type": "object", "properties": {
                    "category": {"type": "string"}, "probability": {"type": "number"},
                    "evidence": {"type": "array", "items": {"type": "string"}}}}},
                "emergency": {"type": "object", "nullable": true, "properties": {
                    "line": {"type": "string", "enum": ["110", "119", "120", "122"]},
                    "evidence": {"type": "array", "items": {"type": "string"}},
                    "confidence": {"type": "number"}}}}},
            "location": {"type": "object", "properties": {"via": {"type": "string",
                "enum": ["grid_code", "place_name", "nearest", "unlocated"]}, "grid": {"type": "string"}}}}},
        "ActionRequest": {
            "type": "object", "additionalProperties": false, "required": ["action"],
            "properties": {
                "action": {"type": "string", "enum": ["dispatch", "sign", "start", "reply", "return",
                    "request_extension", "grant_extension", "deny_extension", "supervise",
                    "follow_up", "close", "transfer_police", "police_ack", "police_return", "answer", "redispatch", "reopen", "urge",
                    "grid_assign", "grid_reply"],
                    "description": "A field only some actions read (unit, category, satisfaction, hours, reference, line, assignee, knowledge) given with another action is a 422 naming it"},
                "note": {"type": "string", "maxLength": 2000, "description": "reply, answer, grid_reply: required"},
                "unit": {"type": "string", "description": "dispatch, redispatch: the handling unit (required)"},
                "category": {"type": "string", "description": "dispatch: category override"},
                "reason": {"type": "string", "maxLength": 2000, "description": "return, request_extension, police_return, redispatch, reopen: required"},
                "satisfaction": {"type": "string", "enum": ["satisfied", "mostly_satisfied", "unsatisfied"], "description": "follow_up: required"},
                "hours": {"type": "integer", "minimum": 1, "maximum": 720, "description": "request_extension: required"},
                "knowledge": {"type": "integer", "description": "answer: the knowledge-base entry given"},
                "reference": {"type": "string", "description": "police_ack: the line's incident number (警情编号)"},
                "assignee": {"type": "string", "maxLength": 2000, "description": "sign: the unit's person responsible (责任人); the signer when absent. Recorded in the signed event's detail."},
                "line": {"type": "string", "enum": ["110", "119", "120", "122"], "description": "transfer_police: the line (default 110)"},
                "expected_version": {"type": "integer"}
            }
        },
        "Case": {
            "type": "object",
            "properties": {
                "id": {"type": "string"}, "status": {"type": "string", "enum": ["received", "dispatched",
                    "signed", "in_progress", "replied", "followed_up", "closed", "returned", "transferred_police"]},
                "emergency_line": {"type": "string", "nullable": true, "enum": ["110", "119", "120", "122", null]},
                "handoff": {"type": "object", "nullable": true, "description": "a hand-off to an emergency line: awaiting, acknowledged (with the incident number) or returned",
                    "properties": {"state": {"type": "string", "enum": ["awaiting", "acknowledged", "returned"]},
                        "reference": nullable_string, "at": nullable_string}},
                "forward": {"type": "object", "nullable": true, "description": "the case's unit is reached through another platform (12345): the platform and the id it gave the case once it took it",
                    "properties": {"platform": {"type": "string"}, "reference": nullable_string,
                        "at": nullable_string}},
                "channel": {"type": "string"}, "content": {"type": "string"},
                "category": {"type": "object", "nullable": true}, "priority": {"type": "string"},
                "grid": {"type": "object", "nullable": true}, "unit": {"type": "object", "nullable": true},
                "caller": {"type": "object", "nullable": true},
                "sign_due": {"type": "string", "format": "date-time", "nullable": true},
                "close_due": {"type": "string", "format": "date-time", "nullable": true},
                "flags": {"type": "object"}, "redo_count": {"type": "integer"},
                "version": {"type": "integer"},
                "events": {"type": "array", "items": {"type": "object"}},
                "allowed_actions": {"type": "array", "items": {"type": "string"}},
                "merged_into": {"type": "string", "nullable": true, "description": "一事多诉: the case this one was merged into (detail only)"},
                "merged": {"type": "array", "items": {"type": "string"}, "description": "一事多诉: the cases merged into this one (detail only)"},
                "classification": {"type": "object"}, "location": {"type": "object"}
            }
        },
        "CaseList": {"type": "object", "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Case"}},
            "total": {"type": "integer", "description": "matching cases, counted up to 10,000"},
            "total_exact": {"type": "boolean", "description": "false: more than 10,000 match"},
            "next_cursor": {"type": "string", "nullable": true, "description": "pass as cursor for the next (older) page"},
            "page": {"type": "integer"}, "page_size": {"type": "integer"}}},
        "AlertActionRequest": {"type": "object", "additionalProperties": false, "required": ["action"],
            "properties": {
                "action": {"type": "string", "enum": ["acknowledge", "dispatch", "resolve", "dismiss"]},
                "reason": {"type": "string", "maxLength": 500, "description": "dismiss: required"}}},
        "SmsInbound": {"type": "object", "additionalProperties": false, "required": ["from", "text"],
            "properties": {"from": {"type": "string", "minLength": 3},
                "text": {"type": "string", "minLength": 1, "maxLength": 1000},
                "id": {"type": "string", "description": "the gateway's message id (retries repeat it)"}}},
        "SmsReceived": {"type": "object", "properties": {
            "outcome": {"type": "string", "enum": ["new_case", "thread", "survey_reply", "duplicate"]},
            "case": nullable_string}},
        "Call": {"type": "object", "additionalProperties": false, "required": ["phone"],
            "properties": {"phone": {"type": "string"}}},
        "CallerCard": {"type": "object", "properties": {
            "known": {"type": "boolean"}, "phone": {"type": "string"},
            "caller": {"type": "object", "nullable": true},
            "history": {"type": "array", "items": {"$ref": "#/components/schemas/Case"}},
            "open_cases": {"type": "array", "items": {"$ref": "#/components/schemas/Case"}},
            "vulnerable": {"type": "array", "description": "Vulnerable-household flags on this number (kind, grid cell), for the roles that may see the registry; each hit is audited", "items": {"type": "object", "properties": {
                "kind": {"type": "string"}, "grid": {"type": "string", "nullable": true}}}}}}
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_documented_and_refs_resolve() {
        let doc = build();
        for r in ROUTES.iter() {
            assert!(
                doc["paths"][r.path][r.method.to_ascii_lowercase()].is_object(),
                "{} {} missing",
                r.method,
                r.path
            );
        }
        let text = doc.to_string();
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        for piece in text.split("#/components/schemas/").skip(1) {
            let name: String = piece.chars().take_while(|c| c.is_alphanumeric()).collect();
            assert!(schemas.contains_key(&name), "dangling $ref {name}");
        }
    }

    #[test]
    fn every_operation_documents_the_statuses_it_may_answer() {
        let doc = build();
        for r in ROUTES.iter() {
            let op = &doc["paths"][r.path][r.method.to_ascii_lowercase()];
            let responses = op["responses"].as_object().expect("responses");
            let mut want = vec!["400", "503"];
            if op.get("requestBody").is_some() {
                want.extend(["413", "415", "422"]);
            }
            if r.access != Access::Public {
                want.extend(["401", "403"]);
            }
            if r.path.contains('{') {
                want.push("404");
            }
            for code in want {
                let error = &responses
                    .get(code)
                    .unwrap_or_else(|| panic!("{} {}: no {code}", r.method, r.path));
                assert_eq!(
                    error["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/Error",
                    "{} {} {code}: the JSON error format",
                    r.method,
                    r.path
                );
            }
            // Every `{name}` of the path is a declared parameter.
            for seg in r.path.split('/').filter(|s| s.starts_with('{')) {
                let name = seg.trim_matches(['{', '}']);
                let declared = op["parameters"]
                    .as_array()
                    .is_some_and(|ps| ps.iter().any(|p| p["name"] == name && p["in"] == "path"));
                assert!(declared, "{} {}: path parameter {name}", r.method, r.path);
            }
            // No null left where a response object belongs.
            assert!(
                responses.values().all(Value::is_object),
                "{} {}",
                r.method,
                r.path
            );
        }
        assert!(doc["paths"]["/api/v1/login"]["post"]["responses"]["429"].is_object());
        let paging = &doc["paths"]["/api/v1/cases"]["get"]["parameters"];
        let page_size = paging
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "page_size")
            .unwrap();
        assert_eq!(page_size["schema"]["maximum"], 200);
        // OpenAPI 3.0 has no type arrays: `nullable` instead.
        assert!(!doc.to_string().contains(r#""type":["#), "a 3.1 type array");
    }

    #[test]
    fn directory_operations_carry_their_detail_and_roles() {
        let doc = build();
        let search = &doc["paths"]["/api/v1/directory/{system}"]["get"];
        let params = search["parameters"].as_array().expect("parameters");
        assert!(
            params.iter().any(|p| p["name"] == "q"),
            "search parameters: {search}"
        );
        assert!(
            search["x-roles"].is_string(),
            "roles from the route table kept"
        );
        assert!(search["operationId"].is_string());
        assert!(doc["components"]["schemas"]["DirectoryPage"].is_object());
        assert!(doc["paths"]["/api/v1/households/counts"]["get"].is_object());
    }
}
