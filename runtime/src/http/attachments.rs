/*!
Attachments on cases (`docs/attachments.md`): photos and documents, over
[`crate::engine::attachments`].

- `POST /api/v1/cases/{id}/attachments` — `multipart/form-data` with the field `file` and an
  optional `stage` (`intake`, `reply`, `patrol`; by default the uploader's role decides). 201 with
  the attachment; the same bytes again on the same case answer with the same attachment. Over
  the size limit → 413, a type other than JPEG/PNG/WebP/PDF (by its bytes) → 415, an empty or
  unreadable file → 422; each names the field `file`.
- `GET /api/v1/cases/{id}/attachments` — the case's attachments, oldest first.
- `GET /api/v1/attachments/{id}` — the bytes (location metadata stripped), with their content
  type, `Content-Disposition` (photos inline, documents as a download) and `nosniff`.
- `GET /api/v1/attachments/{id}/thumb` — a photo's JPEG thumbnail.

Every route answers only for a case the principal may see (the case API's 404 / 403); reads of
the bytes are audited.
*/

use std::sync::Arc;

use axum::extract::multipart::{Field, Multipart, MultipartRejection};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use super::AppState;
use super::auth::{Access, CASE_READERS, RouteSpec};
use super::error::{ApiError, ApiPath};
use crate::config::Config;
use crate::engine::attachments::blob::LocalDir;
use crate::engine::attachments::s3::{S3, S3Config};
use crate::engine::attachments::{self, Attachments, Content, Stage, Variant};
use crate::engine::{Error as EngineError, ErrorKind};
use crate::model::Principal;
use crate::model::time::render_time;
use crate::store::attachments::Attachment;

/// The attachment routes and who may call them (the engine narrows to the case's scope).
pub const ROUTES: &[RouteSpec] = &[
    RouteSpec {
        method: "POST",
        path: "/api/v1/cases/{id}/attachments",
        access: Access::Roles(CASE_READERS),
        tag: "attachments",
        summary: "Attach a photo or document (multipart: file, stage); idempotent per case and content",
        request: Some("AttachmentUpload"),
        response: (201, "Attachment"),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/cases/{id}/attachments",
        access: Access::Roles(CASE_READERS),
        tag: "attachments",
        summary: "A case's attachments, oldest first",
        request: None,
        response: (200, "AttachmentList"),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/attachments/{id}",
        access: Access::Roles(CASE_READERS),
        tag: "attachments",
        summary: "An attachment's bytes (location metadata stripped); audited",
        request: None,
        response: (200, "Binary"),
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/attachments/{id}/thumb",
        access: Access::Roles(CASE_READERS),
        tag: "attachments",
        summary: "A photo's JPEG thumbnail (320 px on the long side); audited",
        request: None,
        response: (200, "Binary"),
    },
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/cases/{id}/attachments",
            // The server's JSON body limit does not apply: the upload streams and stops at the
            // attachment limit itself.
            post(upload)
                .route_layer(DefaultBodyLimit::disable())
                .get(list),
        )
        .route("/api/v1/attachments/{id}", get(file))
        .route("/api/v1/attachments/{id}/thumb", get(thumb))
}

/// The attachment store `config` asks for: an S3-compatible bucket, or a local directory
/// (`<install>/attachments` by default).
pub fn blob_store(config: &Config) -> Attachments {
    let a = &config.attachments;
    let blobs: Arc<dyn attachments::blob::BlobStore> = match &a.s3 {
        Some(s3) => Arc::new(S3::new(S3Config {
            endpoint: s3.endpoint.clone(),
            bucket: s3.bucket.clone(),
            region: s3.region.clone(),
            prefix: s3.prefix.clone(),
            access_key_id: s3.access_key_id.clone(),
            secret_access_key: s3.secret_access_key.clone(),
        })),
        None => Arc::new(LocalDir::new(
            a.dir
                .clone()
                .unwrap_or_else(|| config.install_dir.join("attachments")),
        )),
    };
    Attachments::new(blobs, a.max_bytes)
}

/// An attachment as the API shows it.
pub fn attachment_json(a: &Attachment) -> Value {
    json!({
        "id": a.id,
        "case": a.case_public_id,
        "filename": a.filename,
        "content_type": a.content_type,
        "size": a.size,
        "kind": a.kind,
        "stage": a.stage,
        "sha256": a.sha256,
        "width": a.width,
        "height": a.height,
        "uploaded_by": a.uploaded_by.map(|id| json!({"id": id, "name": a.uploaded_by_name})),
        "created_at": render_time(a.created_at),
        "url": format!("/api/v1/attachments/{}", a.id),
        "thumb_url": a.thumb_sha256.as_ref().map(|_| format!("/api/v1/attachments/{}/thumb", a.id)),
    })
}

/// An error body like [`ApiError`]'s, for the statuses it has no variant with a field for.
fn field_error(status: StatusCode, code: &str, field: &str, message: &str) -> Response {
    let body = json!({"error": {"code": code, "message": message, "field": field}});
    (status, Json(body)).into_response()
}

/// Engine errors, with the upload's own statuses: 413 too large, 415 not a stored type.
fn engine_error(e: EngineError) -> Response {
    match (e.kind, e.key) {
        (ErrorKind::Invalid, "attachment_too_large") => field_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "file_too_large",
            "file",
            &e.message,
        ),
        (ErrorKind::Invalid, "attachment_type") => field_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_file_type",
            "file",
            &e.message,
        ),
        _ => ApiError::from(e).into_response(),
    }
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> Response {
    field_error(
        StatusCode::BAD_REQUEST,
        "malformed_multipart",
        "file",
        &format!("the multipart body cannot be read: {}", e.body_text()),
    )
}

/// Reads a field up to `limit` bytes; `Err(None)` when it is longer. The rest of a longer field
/// is read and dropped (up to [`attachments::DRAIN_LIMIT`]) so that the client, still sending,
/// receives the 413 instead of a connection reset.
async fn read_field(field: &mut Field<'_>, limit: usize) -> Result<Vec<u8>, Option<Response>> {
    let mut buf = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(|e| Some(multipart_error(e)))? {
        if buf.len() + chunk.len() > limit {
            let mut dropped = buf.len() + chunk.len();
            while dropped < attachments::DRAIN_LIMIT
                && let Ok(Some(more)) = field.chunk().await
            {
                dropped += more.len();
            }
            return Err(None);
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf)
}

async fn upload(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let mut mp = match multipart {
        Ok(m) => m,
        Err(_) => {
            return field_error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "file",
                "expected Content-Type: multipart/form-data with a field `file`",
            );
        }
    };
    let max = state.attachments.max_bytes;
    let too_large = || {
        field_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "file_too_large",
            "file",
            &format!("the file is larger than {max} bytes"),
        )
    };
    let mut file: Option<(String, Vec<u8>)> = None;
    let mut stage = None;
    loop {
        let mut field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return multipart_error(e),
        };
        match field.name().unwrap_or("") {
            "file" if file.is_none() => {
                let name = field.file_name().unwrap_or("").to_string();
                match read_field(&mut field, max).await {
                    Ok(bytes) => file = Some((name, bytes)),
                    Err(Some(resp)) => return resp,
                    Err(None) => return too_large(),
                }
            }
            "file" => {
                return ApiError::invalid("file", "one file per request").into_response();
            }
            "stage" => {
                let text = match read_field(&mut field, 32).await {
                    Ok(b) => String::from_utf8_lossy(&b).trim().to_string(),
                    Err(Some(resp)) => return resp,
                    Err(None) => String::new(),
                };
                if !text.is_empty() {
                    match Stage::parse(&text) {
                        Some(s) => stage = Some(s),
                        None => {
                            return ApiError::invalid("stage", "intake, reply or patrol")
                                .into_response();
                        }
                    }
                }
            }
            other => {
                let name = other.chars().take(64).collect::<String>();
                return ApiError::invalid(name, "unknown field (expected file, stage)")
                    .into_response();
            }
        }
    }
    let Some((name, bytes)) = file else {
        return ApiError::invalid("file", "a file is required").into_response();
    };
    match attachments::attach_to(
        &state.store,
        &state.region,
        &state.attachments,
        &principal,
        &id,
        &name,
        &bytes,
        stage,
    )
    .await
    {
        Ok(a) => (StatusCode::CREATED, Json(attachment_json(&a))).into_response(),
        Err(e) => engine_error(e),
    }
}

async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
) -> Response {
    match attachments::list(&state.store, &state.region, &principal, &id).await {
        Ok(items) => Json(json!({
            "case": id,
            "items": items.iter().map(attachment_json).collect::<Vec<_>>(),
        }))
        .into_response(),
        Err(e) => engine_error(e),
    }
}

async fn file(state: State<AppState>, principal: Principal, id: ApiPath<String>) -> Response {
    serve(state, principal, id, Variant::File).await
}

async fn thumb(state: State<AppState>, principal: Principal, id: ApiPath<String>) -> Response {
    serve(state, principal, id, Variant::Thumb).await
}

async fn serve(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
    variant: Variant,
) -> Response {
    let Ok(num) = id.parse::<i64>() else {
        return ApiError::not_found(format!("attachment {}", id.replace('\0', ""))).into_response();
    };
    match attachments::content(
        &state.store,
        &state.region,
        &state.attachments,
        &principal,
        num,
        variant,
    )
    .await
    {
        Ok(c) => bytes_response(&c, variant),
        Err(e) => engine_error(e),
    }
}

/// The `Content-Disposition` of a stored file: photos inline, documents as downloads, the name
/// both as an ASCII fallback and in UTF-8 (RFC 6266 / 5987), so 路灯.jpg keeps its name.
pub fn content_disposition(filename: &str, inline: bool) -> String {
    let ascii: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for b in filename.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_') {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    let kind = if inline { "inline" } else { "attachment" };
    format!("{kind}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

fn bytes_response(c: &Content, variant: Variant) -> Response {
    let inline = c.attachment.kind == "photo" || variant == Variant::Thumb;
    let name = if variant == Variant::Thumb {
        format!("thumb-{}.jpg", c.attachment.id)
    } else {
        c.attachment.filename.clone()
    };
    let mut resp = c.bytes.clone().into_response();
    let h = resp.headers_mut();
    let value = |s: &str| HeaderValue::from_str(s).unwrap_or(HeaderValue::from_static(""));
    h.insert(header::CONTENT_TYPE, value(&c.content_type));
    h.insert(
        header::CONTENT_DISPOSITION,
        value(&content_disposition(&name, inline)),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // Personal pictures: never kept by a shared cache, re-checked (and audited) on every read.
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    resp
}

/// The component schemas of these routes (for [`super::openapi`]).
pub fn schemas() -> Value {
    let nullable_int = json!({"type": "integer", "nullable": true});
    json!({
        "AttachmentUpload": {
            "type": "object", "required": ["file"],
            "properties": {
                "file": {"type": "string", "format": "binary",
                    "description": "JPEG, PNG, WebP or PDF (told by its bytes), at most attachments.max_bytes (10 MiB by default)"},
                "stage": {"type": "string", "enum": ["intake", "reply", "patrol"],
                    "description": "Default: reply for a unit handler, patrol for a grid worker, intake otherwise"}
            }
        },
        "Attachment": {
            "type": "object",
            "required": ["id", "case", "filename", "content_type", "size", "kind", "stage", "sha256", "created_at", "url"],
            "properties": {
                "id": {"type": "integer"},
                "case": {"type": "string"},
                "filename": {"type": "string"},
                "content_type": {"type": "string", "enum": ["image/jpeg", "image/png", "image/webp", "application/pdf"]},
                "size": {"type": "integer"},
                "kind": {"type": "string", "enum": ["photo", "document"]},
                "stage": {"type": "string", "enum": ["intake", "reply", "patrol"]},
                "sha256": {"type": "string", "description": "SHA-256 of the stored bytes (location metadata stripped)"},
                "width": nullable_int,
                "height": nullable_int,
                "uploaded_by": {"type": "object", "nullable": true},
                "created_at": {"type": "string", "format": "date-time"},
                "url": {"type": "string"},
                "thumb_url": {"type": "string", "nullable": true}
            }
        },
        "AttachmentList": {
            "type": "object", "required": ["case", "items"],
            "properties": {
                "case": {"type": "string"},
                "items": {"type": "array", "items": {"$ref": "#/components/schemas/Attachment"}}
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_survive_in_the_disposition_header() {
        assert_eq!(
            content_disposition("路灯 1.jpg", true),
            "inline; filename=\"__ 1.jpg\"; filename*=UTF-8''%E8%B7%AF%E7%81%AF%201.jpg"
        );
        assert_eq!(
            content_disposition("a\"b.pdf", false),
            "attachment; filename=\"a_b.pdf\"; filename*=UTF-8''a%22b.pdf"
        );
        HeaderValue::from_str(&content_disposition("路灯\u{7f}.jpg", true)).unwrap();
    }
}
