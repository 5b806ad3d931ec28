//! Static console assets (stylesheet, script) served from the binary: `/console/static/{file}`.
//! Embedded with the templates, so the binary needs nothing next to it and no CDN.

use axum::Router;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::templates::CONSOLE_DIR;

/// Routes for the embedded static files; generic over the state so any router can merge it.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route("/console/static/{*file}", get(asset))
}

async fn asset(Path(file): Path<String>) -> Response {
    // include_dir paths never contain "..", but reject it anyway so the intent is explicit.
    if file.contains("..") {
        return StatusCode::NOT_FOUND.into_response();
    }
    match CONSOLE_DIR.get_file(format!("static/{file}")) {
        Some(f) => (
            [
                (header::CONTENT_TYPE, content_type(&file)),
                (header::CACHE_CONTROL, "public, max-age=300"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            f.contents(),
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

fn content_type(file: &str) -> &'static str {
    match file.rsplit('.').next() {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    async fn get_status(uri: &str) -> (StatusCode, String) {
        let resp = router::<()>()
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let ct = resp
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        (resp.status(), ct)
    }

    #[tokio::test]
    async fn serves_embedded_assets_with_types() {
        assert_eq!(
            get_status("/console/static/console.css").await,
            (StatusCode::OK, "text/css; charset=utf-8".into())
        );
        assert_eq!(
            get_status("/console/static/console.js").await.1,
            "text/javascript; charset=utf-8"
        );
        assert_eq!(
            get_status("/console/static/nope.css").await.0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            get_status("/console/static/../base.html").await.0,
            StatusCode::NOT_FOUND
        );
    }
}
