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
        let mut params = Vec::new();
        if r.path.contains("{system}") {
            params.push(json!({
                "name": "system", "in": "path", "required": true,
                "schema": {"type": "string", "enum": ["government_services", "welfare_facilities",
                    "social_organizations", "market_providers"]}
            }));
        }
        if r.path.contains("{id}") {
            let description = if r.path.starts_with("/api/v1/cases") {
                "Public case id, e.g. MS350781-20261129-000123"
            } else {
                "Record id"
            };
            params.push(json!({
                "name": "id", "in": "path", "required": true,
                "description": description,
                "schema": {"type": "string"}
            }));
        }
        if r.method == "GET" && r.path == "/api/v1/cases" {
            for (name, ty, desc) in [
                ("status", "string", "Comma-separated statuses"),
                ("unit", "string", "Assigned unit id"),
                ("category", "string", "Category code"),
                ("channel", "string", "phone, web, grid, sms or open311"),
                ("overdue", "boolean", "Only (or no) overdue cases"),
                ("q", "string", "Text in the content or the case id"),
                ("mine", "boolean", "Only cases I am responsible for"),
                (
                    "page",
                    "integer",
                    "1-based page (deprecated: rows up to 10,000 only)",
                ),
                ("page_size", "integer", "1..200, default 20"),
                (
                    "cursor",
                    "string",
                    "next_cursor of the previous page (keyset paging)",
                ),
            ] {
                params.push(json!({"name": name, "in": "query", "required": false,
                    "description": desc, "schema": {"type": ty}}));
            }
        }
        if !params.is_empty() {
            op.insert("parameters".into(), Value::Array(params));
        }
        if let Some(req) = r.request {
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
        if r.request.is_some() {
            responses.insert(
                "400".into(),
                error_response("Malformed body (JSON syntax, UTF-8)"),
            );
            responses.insert("413".into(), error_response("Body over the size limit"));
            responses.insert("415".into(), error_response("Not application/json"));
            responses.insert(
                "422".into(),
                error_response("A field is wrong; `field` names it"),
            );
        }
        if r.access != Access::Public {
            responses.insert("401".into(), error_response("Not authenticated"));
            responses.insert(
                "403".into(),
                error_response("Role or scope does not allow it"),
            );
        }
        if r.path.contains("{id}") {
            responses.insert("404".into(), error_response("No such record"));
        }
        if r.path.ends_with("/actions") {
            responses.insert(
                "409".into(),
                error_response("Illegal transition or stale version; detail lists allowed actions"),
            );
        }
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
                {\"error\": {\"code\", \"message\", \"field\"}}."
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
                "channel": {"type": "string", "enum": ["phone", "web", "grid", "sms", "open311"]},
                "caller": {"type": "object", "additionalProperties": false, "properties": {
                    "phone": {"type": "string"}, "name": {"type": "string"},
                    "gender": {"type": "string", "enum": ["male", "female", "other"]},
                    "age_band": {"type": "string"}, "occupation": {"type": "string"}}},
                "content": {"type": "string", "maxLength": 4000},
                "category": {"type": "string", "description": "Operator override of the classifier"},
                "location": {"$ref": "#/components/schemas/Location"},
                "priority": {"type": "string", "enum": ["urgent", "high", "normal", "low"]},
                "external_id": {"type": "string"},
                "emergency": {"type": "object", "additionalProperties": false,
                    "description": "The operator's decision on the emergency stage: line null = not an emergency (reason required, audited); a line without integration needs the incident number of the phone transfer",
                    "properties": {
                        "line": {"type": ["string", "null"], "enum": ["110", "119", "120", "122", null]},
                        "reason": {"type": "string"}, "incident_number": {"type": "string"}}}
            }
        },
        "TriageRequest": {
            "type": "object", "additionalProperties": false, "required": ["content"],
            "properties": {"content": {"type": "string"}, "location": {"$ref": "#/components/schemas/Location"}}
        },
        "Triage": {"type": "object", "properties": {
            "classification": {"type": "object", "properties": {
                "category": nullable_string, "confidence": {"type": "number"},
                "manual": {"type": "boolean", "description": "not sure: the operator chooses (请人工选择)"},
                "suggestions": {"type": "array", "items": {"type": "object", "properties": {
                    "category": {"type": "string"}, "probability": {"type": "number"},
                    "evidence": {"type": "array", "items": {"type": "string"}}}}},
                "emergency": {"type": ["object", "null"], "properties": {
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
                    "follow_up", "close", "transfer_police", "police_ack", "police_return", "answer", "redispatch", "reopen", "urge"]},
                "note": {"type": "string"}, "unit": {"type": "string"}, "category": {"type": "string"},
                "reason": {"type": "string"},
                "satisfaction": {"type": "string", "enum": ["satisfied", "mostly_satisfied", "unsatisfied"]},
                "hours": {"type": "integer", "minimum": 1, "maximum": 720},
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
                "emergency_line": {"type": ["string", "null"], "enum": ["110", "119", "120", "122", null]},
                "handoff": {"type": ["object", "null"], "description": "a hand-off to an emergency line: awaiting, acknowledged (with the incident number) or returned",
                    "properties": {"state": {"type": "string", "enum": ["awaiting", "acknowledged", "returned"]},
                        "reference": {"type": ["string", "null"]}, "at": {"type": ["string", "null"]}}},
                "forward": {"type": ["object", "null"], "description": "the case's unit is reached through another platform (12345): the platform and the id it gave the case once it took it",
                    "properties": {"platform": {"type": "string"}, "reference": {"type": ["string", "null"]},
                        "at": {"type": ["string", "null"]}}},
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
                "merged_into": {"type": ["string", "null"], "description": "一事多诉: the case this one was merged into (detail only)"},
                "merged": {"type": "array", "items": {"type": "string"}, "description": "一事多诉: the cases merged into this one (detail only)"},
                "classification": {"type": "object"}, "location": {"type": "object"}
            }
        },
        "CaseList": {"type": "object", "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Case"}},
            "total": {"type": "integer", "description": "matching cases, counted up to 10,000"},
            "total_exact": {"type": "boolean", "description": "false: more than 10,000 match"},
            "next_cursor": {"type": ["string", "null"], "description": "pass as cursor for the next (older) page"},
            "page": {"type": "integer"}, "page_size": {"type": "integer"}}},
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
            "open_cases": {"type": "array", "items": {"$ref": "#/components/schemas/Case"}}}}
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
