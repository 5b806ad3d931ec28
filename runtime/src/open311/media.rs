/*!
`GET /open311/v2/media/{sha256}.{ext}`: the public photo an Open311 request's `media_url`
points to, fetched without a session or key, as Open311 clients fetch media.

Only photos taken in at intake of requests submitted through Open311 — the requests whose words
and place the public feed already shows — are served here, and only the stored copy, whose
location metadata was stripped before it was stored. The name is the SHA-256 of those bytes: it
cannot be guessed, and a hash of any other attachment (a reply photo, a phone case's picture, a
document) answers 404 like an unknown one.
*/

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::format::Open311Error;
use crate::engine::attachments;
use crate::http::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/open311/v2/media/{file}", get(media))
}

/// The public URL of the photo stored under `sha256`, under `base` (`http://host/open311/v2`).
pub fn media_url(base: &str, sha256: &str, content_type: &str) -> String {
    let ext = attachments::sniff::FileType::from_content_type(content_type)
        .map(|t| t.extension())
        .unwrap_or("bin");
    format!("{base}/media/{sha256}.{ext}")
}

async fn media(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    let not_found = || {
        let e = Open311Error::not_found("未知媒体 / unknown media");
        (StatusCode::NOT_FOUND, e.description).into_response()
    };
    let stem = file.split_once('.').map(|(s, _)| s).unwrap_or(&file);
    match attachments::public_photo(&state.store, &state.attachments, stem).await {
        Ok(Some((content_type, bytes))) => {
            let mut resp = bytes.into_response();
            let h = resp.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_str(&content_type)
                    .unwrap_or(HeaderValue::from_static("application/octet-stream")),
            );
            h.insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
            // Content-addressed: the bytes under a name never change.
            h.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=86400"),
            );
            resp
        }
        Ok(None) => not_found(),
        Err(e) => {
            tracing::error!(error = %e, "open311 media");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
