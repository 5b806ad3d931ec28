/*!
API errors, mapped to responses in this one place, and the body extractors whose rejections
become API errors.

Every error leaves as `{"error": {"code": "...", "message": "...", "field": "..."}}` with the
right status: handlers return `Result<_, ApiError>` and use `?`. Engine errors map once
([`ErrorKind`]: `Invalid` → 422, `Forbidden` → 403, `NotFound` → 404, `Conflict` → 409), and so
do storage errors met by handlers that read the store directly; anything unexpected is logged with its
cause and answered with a bare 500 that shows nothing internal.

[`ApiJson`] replaces `axum::Json` for request bodies: it enforces `application/json` (a
`charset` other than UTF-8 is a 415, never read as UTF-8), reports
invalid UTF-8 with its byte offset, a body over the limit as 413, malformed JSON with line and
column, and a wrong type, a missing field or an unknown field (`deny_unknown_fields`) as 422
naming the field by its path (`caller.phone`), via `serde_path_to_error`. [`ApiQuery`] and
[`ApiPath`] do the same for the query string and the path (a JSON 400, never axum's plain text).
*/

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::engine::{Error as EngineError, ErrorKind};
use crate::store::StoreError;

/// Result of an API handler.
pub type ApiResult<T> = Result<T, ApiError>;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request is malformed (syntax, encoding, query string).
    #[error("{message}")]
    BadRequest {
        code: &'static str,
        message: String,
        field: Option<String>,
    },
    /// 422: well-formed but a field is wrong.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// 401: no valid session or token.
    #[error("authentication required")]
    Unauthenticated,
    /// 403: authenticated, but this role (or unit) may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// 404.
    #[error("{0} not found")]
    NotFound(String),
    /// 409: the state does not allow it (illegal transition, stale version, duplicate).
    #[error("{message}")]
    Conflict {
        code: &'static str,
        message: String,
        detail: Option<Value>,
    },
    /// 413.
    #[error("request body exceeds the size limit")]
    TooLarge,
    /// 415.
    #[error("expected Content-Type: application/json (charset UTF-8 when one is named)")]
    UnsupportedMediaType,
    /// 503: the database is unreachable or not ready.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// 503 with `Retry-After`: the database was busy past the write bound; nothing was saved.
    #[error("{0}")]
    Busy(String),
    /// 500: logged with its cause, never shown.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

#[derive(Serialize)]
struct Body<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    code: &'a str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<&'a Value>,
}

impl ApiError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::BadRequest {
            code,
            message: message.into(),
            field: None,
        }
    }

    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::Forbidden(message.into())
    }

    pub fn not_found(what: impl Into<String>) -> ApiError {
        ApiError::NotFound(what.into())
    }

    pub fn internal(err: impl Into<anyhow::Error>) -> ApiError {
        ApiError::Internal(err.into())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unauthenticated => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unavailable(_) | ApiError::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest { code, .. } => code,
            ApiError::Invalid { .. } => "invalid_field",
            ApiError::Unauthenticated => "unauthenticated",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::Conflict { code, .. } => code,
            ApiError::TooLarge => "body_too_large",
            ApiError::UnsupportedMediaType => "unsupported_media_type",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Busy(_) => "database_busy",
            ApiError::Internal(_) => "internal",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        match &self {
            ApiError::Internal(err) => tracing::error!(error = ?err, "internal error"),
            ApiError::Unavailable(why) | ApiError::Busy(why) => {
                tracing::warn!(%why, "service unavailable")
            }
            _ => {}
        }
        let (field, detail) = match &self {
            ApiError::BadRequest { field, .. } => (field.as_deref(), None),
            ApiError::Invalid { field, .. } => (Some(field.as_str()), None),
            ApiError::Conflict { detail, .. } => (None, detail.as_ref()),
            _ => (None, None),
        };
        let message = match &self {
            ApiError::Invalid { message, .. } => message.clone(),
            other => other.to_string(),
        };
        let body = Body {
            error: Inner {
                code: self.code(),
                message,
                field,
                detail,
            },
        };
        let mut resp = (status, axum::Json(body)).into_response();
        if matches!(self, ApiError::Busy(_)) {
            resp.headers_mut().insert(
                header::RETRY_AFTER,
                header::HeaderValue::from(crate::engine::error::RETRY_AFTER_SECS),
            );
        }
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer realm=\"m110\""),
            );
        }
        resp
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => ApiError::NotFound("record".into()),
            StoreError::Conflict(msg) => ApiError::Conflict {
                code: "conflict",
                message: msg,
                detail: None,
            },
            StoreError::Invalid(msg) => ApiError::Invalid {
                field: "body".into(),
                message: msg,
            },
            StoreError::Busy(_) => ApiError::Busy(EngineError::from(err).message.clone()),
            other => ApiError::Internal(anyhow::Error::new(other)),
        }
    }
}

impl From<EngineError> for ApiError {
    /// The one mapping of engine errors to HTTP.
    fn from(err: EngineError) -> Self {
        if err.kind == ErrorKind::Unavailable {
            return ApiError::Busy(err.message.clone());
        }
        if !matches!(
            err.kind,
            ErrorKind::Invalid | ErrorKind::Forbidden | ErrorKind::NotFound | ErrorKind::Conflict
        ) {
            return ApiError::Internal(anyhow::Error::new(err));
        }
        let err = err.into_parts();
        match err.kind {
            ErrorKind::Invalid => ApiError::Invalid {
                field: err.field.unwrap_or_else(|| "body".into()),
                message: err.message,
            },
            ErrorKind::Forbidden => ApiError::Forbidden(err.message),
            ErrorKind::NotFound => ApiError::NotFound(
                err.args
                    .iter()
                    .find(|(k, _)| *k == "what")
                    .map(|(_, v)| v.clone())
                    .unwrap_or_else(|| "record".into()),
            ),
            // Conflict: the only kind left after the check above.
            _ => ApiError::Conflict {
                code: err.key,
                message: err.message,
                detail: err.detail,
            },
        }
    }
}

/// A JSON request body whose every failure is a 4xx [`ApiError`] naming the problem.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        if !content_type.is_some_and(is_utf8_json) {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(body_rejection)?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// `application/json` (or `application/…+json`) whose `charset`, when given, is UTF-8: JSON is
/// UTF-8 (RFC 8259), and a body declared in another charset would otherwise be read as UTF-8
/// silently.
pub fn is_utf8_json(content_type: &str) -> bool {
    let mut parts = content_type.split(';');
    let essence = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    let json = essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"));
    json && parts.all(|param| match param.split_once('=') {
        Some((name, value)) if name.trim().eq_ignore_ascii_case("charset") => {
            let value = value.trim().trim_matches('"');
            value.eq_ignore_ascii_case("utf-8") || value.eq_ignore_ascii_case("utf8")
        }
        _ => true,
    })
}

/// Maps a failure to read the body (size limit, broken connection) to an API error.
fn body_rejection(rej: BytesRejection) -> ApiError {
    if rej.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::TooLarge
    } else {
        ApiError::bad_request("unreadable_body", rej.body_text())
    }
}

/// Parses a JSON body, naming the field on any data error.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let text = std::str::from_utf8(bytes).map_err(|e| ApiError::BadRequest {
        code: "invalid_utf8",
        message: format!(
            "request body is not valid UTF-8 (invalid byte at offset {})",
            e.valid_up_to()
        ),
        field: None,
    })?;
    // PostgreSQL TEXT cannot hold NUL; refuse it here rather than fail in the database.
    if text.contains('\0') || text.contains("\\u0000") {
        return Err(ApiError::BadRequest {
            code: "nul_character",
            message: "request body contains a NUL character (\\u0000), which is not accepted"
                .into(),
            field: None,
        });
    }
    let de = &mut serde_json::Deserializer::from_str(text);
    let value: T = serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        json_error(&path, &inner)
    })?;
    Ok(value)
}

fn json_error(path: &str, err: &serde_json::Error) -> ApiError {
    use serde_json::error::Category;
    let msg = err.to_string();
    match err.classify() {
        Category::Syntax | Category::Eof | Category::Io => ApiError::BadRequest {
            code: "malformed_json",
            message: format!("malformed JSON: {msg}"),
            field: None,
        },
        Category::Data => {
            // serde reports unknown and missing fields at the parent's path; name the field itself.
            let named = backticked(&msg)
                .filter(|_| msg.starts_with("unknown field") || msg.starts_with("missing field"));
            let field = match (named, path) {
                (Some(f), "." | "") => f.to_string(),
                // Unknown fields already end the path; missing ones are reported at the parent.
                (Some(f), p) if p == f || p.ends_with(&format!(".{f}")) => p.to_string(),
                (Some(f), p) => format!("{p}.{f}"),
                (None, "." | "") => "body".to_string(),
                (None, p) => p.to_string(),
            };
            let message = strip_position(&msg);
            ApiError::Invalid {
                field,
                message: message.to_string(),
            }
        }
    }
}

/// The first `` `name` `` in a serde message.
fn backticked(msg: &str) -> Option<&str> {
    let start = msg.find('`')? + 1;
    let len = msg[start..].find('`')?;
    Some(&msg[start..start + len])
}

/// Drops serde_json's " at line 1 column 42" suffix (the field path says where).
fn strip_position(msg: &str) -> &str {
    match msg.rfind(" at line ") {
        Some(i) => &msg[..i],
        None => msg,
    }
}

/// A query string whose failures are 400s naming the problem.
#[derive(Debug, Clone, Default)]
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let raw = parts.uri.query().unwrap_or("");
        if raw.to_ascii_lowercase().contains("%00") {
            return Err(ApiError::BadRequest {
                code: "nul_character",
                message: "query string contains a NUL character (%00), which is not accepted"
                    .into(),
                field: None,
            });
        }
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(q) => Ok(ApiQuery(q.0)),
            Err(rej) => {
                let text = rej.body_text();
                let text = text
                    .strip_prefix("Failed to deserialize query string: ")
                    .unwrap_or(&text)
                    .to_string();
                let field = backticked(&text).map(str::to_string);
                Err(ApiError::BadRequest {
                    code: "invalid_query",
                    message: text,
                    field,
                })
            }
        }
    }
}

/// Path parameters whose failures (a segment that is not UTF-8 after percent-decoding, a
/// number that does not parse) are JSON 400s naming the parameter, not axum's plain-text ones.
#[derive(Debug, Clone, Default)]
pub struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        // A NUL in the path never gets here: the input guard (`http::guard`) refuses it first.
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(p) => Ok(ApiPath(p.0)),
            Err(rej) => {
                use axum::extract::rejection::PathRejection;
                let (code, field) = match &rej {
                    PathRejection::FailedToDeserializePathParams(e) => match e.kind() {
                        axum::extract::path::ErrorKind::InvalidUtf8InPathParam { key } => {
                            ("invalid_utf8", Some(key.clone()))
                        }
                        axum::extract::path::ErrorKind::ParseErrorAtKey { key, .. } => {
                            ("invalid_path", Some(key.clone()))
                        }
                        // One parameter, parsed whole: its name is the route's only `{…}`.
                        axum::extract::path::ErrorKind::ParseError { .. } => {
                            ("invalid_path", only_param(parts))
                        }
                        _ => ("invalid_path", None),
                    },
                    _ => ("invalid_path", None),
                };
                let message = rej.body_text();
                if rej.status().is_server_error() {
                    // A route whose pattern and extractor disagree: a bug, not the client's.
                    return Err(ApiError::internal(anyhow::anyhow!(message)));
                }
                Err(ApiError::BadRequest {
                    code,
                    message,
                    field,
                })
            }
        }
    }
}

/// The name of the matched route's path parameter when it has exactly one.
fn only_param(parts: &Parts) -> Option<String> {
    let route = parts
        .extensions
        .get::<axum::extract::MatchedPath>()?
        .as_str();
    let mut names = route
        .split('/')
        .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'));
    let first = names.next()?;
    names.next().is_none().then(|| first.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code, reason = "the fields exist to be deserialised, never read")]
    struct Caller {
        phone: String,
        age: Option<u8>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code, reason = "the fields exist to be deserialised, never read")]
    struct Payload {
        content: String,
        caller: Caller,
    }

    fn field_of(body: &str) -> (StatusCode, Option<String>, String) {
        match parse_json::<Payload>(body.as_bytes()) {
            Ok(_) => panic!("accepted {body}"),
            Err(e) => {
                let status = e.status();
                let field = match &e {
                    ApiError::Invalid { field, .. } => Some(field.clone()),
                    ApiError::BadRequest { field, .. } => field.clone(),
                    _ => None,
                };
                (status, field, e.to_string())
            }
        }
    }

    #[test]
    fn names_the_field() {
        let (s, f, _) = field_of(r#"{"content":"x","caller":{"phone":1}}"#);
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(f.as_deref(), Some("caller.phone"));
        let (s, f, m) = field_of(r#"{"content":"x","caller":{"phone":"1","hack":1}}"#);
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(f.as_deref(), Some("caller.hack"), "{m}");
        let (_, f, _) = field_of(r#"{"content":"x"}"#);
        assert_eq!(f.as_deref(), Some("caller"));
        let (_, f, _) = field_of(r#"{"content":"x","caller":{"phone":"1","age":300}}"#);
        assert_eq!(f.as_deref(), Some("caller.age"));
        let (s, _, m) = field_of(r#"{"content": "x""#);
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert!(m.contains("malformed JSON"), "{m}");
    }

    #[test]
    fn nul_is_refused_before_the_database() {
        let e =
            parse_json::<Payload>(br#"{"content":"a\u0000b","caller":{"phone":"1"}}"#).unwrap_err();
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
        assert!(e.to_string().contains("NUL"));
    }

    #[test]
    fn json_bodies_are_utf8_or_refused() {
        for ok in [
            "application/json",
            "Application/JSON; charset=utf-8",
            "application/json; charset=\"UTF-8\"",
            "application/json;charset=utf8",
            "application/merge-patch+json",
            "application/json; boundary=x",
        ] {
            assert!(is_utf8_json(ok), "{ok}");
        }
        for refused in [
            "application/json; charset=latin1",
            "application/json; charset=iso-8859-1",
            "application/json; charset=utf-16",
            "text/plain",
            "application/x-www-form-urlencoded",
            "",
        ] {
            assert!(!is_utf8_json(refused), "{refused}");
        }
    }

    #[test]
    fn invalid_utf8_is_400() {
        let e = parse_json::<Payload>(b"{\"content\":\"\xff\"}").unwrap_err();
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
        assert!(e.to_string().contains("UTF-8"));
    }

    #[test]
    fn a_busy_database_is_503_with_retry_after_never_500() {
        let from_store = ApiError::from(StoreError::Busy("locked".into()));
        let from_engine = ApiError::from(EngineError::from(StoreError::Busy("locked".into())));
        for e in [from_store, from_engine] {
            assert_eq!(e.status(), StatusCode::SERVICE_UNAVAILABLE);
            let resp = e.into_response();
            assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(
                resp.headers().get(header::RETRY_AFTER).unwrap(),
                &crate::engine::error::RETRY_AFTER_SECS.to_string()
            );
        }
        let e = ApiError::from(StoreError::Busy("locked".into()));
        assert_eq!(e.code(), "database_busy");
        assert!(e.to_string().contains("nothing was saved"), "{e}");
    }

    #[test]
    fn store_and_lifecycle_errors_map_once() {
        assert_eq!(
            ApiError::from(StoreError::NotFound).status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            ApiError::from(StoreError::Conflict("dup".into())).status(),
            StatusCode::CONFLICT
        );
        assert_eq!(
            ApiError::from(StoreError::Invalid("fk".into())).status(),
            StatusCode::UNPROCESSABLE_ENTITY
        );
    }
}
