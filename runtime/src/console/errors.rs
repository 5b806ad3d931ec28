/*!
Engine errors on console pages — mapped here, once: a status for the page, and a sentence in the
user's language. A zh-CN page shows the catalogue's `err.<key>` text with its `{name}`
placeholders filled from the error's arguments (`{field}` becomes the field's label,
`field.<name>`); an English page shows the engine's own English message. An unknown key falls
back to the English message rather than a raw key (the architecture test checks that every key
the engines raise has a catalogue entry).
*/

use axum::http::StatusCode;
use axum::response::Response;

use super::i18n::{Lang, has_key};
use super::pages::error_page;
use super::session::ConsoleUser;
use crate::engine::{Error, ErrorKind};
use crate::store::StoreError;

/// The page status of an engine error.
pub fn status_of(err: &Error) -> StatusCode {
    match err.kind {
        ErrorKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The error as a sentence in `lang`.
pub fn message(lang: Lang, err: &Error) -> String {
    let key = format!("err.{}", err.key);
    if lang == Lang::En || !has_key(&key) {
        return err.to_string();
    }
    let mut text = lang.t(&key).to_string();
    if let Some(field) = &err.field {
        let label_key = format!("field.{field}");
        let label = if has_key(&label_key) {
            lang.t(&label_key).to_string()
        } else {
            field.clone()
        };
        text = text.replace("{field}", &label);
    }
    for (name, value) in &err.args {
        text = text.replace(&format!("{{{name}}}"), value);
    }
    text
}

/// An error page for an engine error; internal errors are logged and shown without detail.
pub fn error_response(user: &ConsoleUser, err: Error) -> Response {
    let status = status_of(&err);
    match err.kind {
        ErrorKind::Invalid | ErrorKind::Forbidden | ErrorKind::Conflict => {
            error_page(user.lang, Some(user), status, &message(user.lang, &err))
        }
        ErrorKind::NotFound => error_page(
            user.lang,
            Some(user),
            status,
            user.lang.t("error.not_found"),
        ),
        ErrorKind::Unavailable => {
            tracing::warn!(error = %err, "console: database busy");
            let mut page = error_page(user.lang, Some(user), status, &message(user.lang, &err));
            page.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(crate::engine::error::RETRY_AFTER_SECS),
            );
            page
        }
        _ => {
            tracing::error!(error = ?err, cause = ?err.store_error(), "console: internal error");
            error_page(user.lang, Some(user), status, user.lang.t("error.title"))
        }
    }
}

/// An error page for a storage error met while reading.
pub fn store_error_response(user: &ConsoleUser, err: StoreError) -> Response {
    error_response(user, err.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn translates_with_field_labels_and_arguments() {
        let e =
            Error::invalid("content", "too_long", "longer than 4000 characters").arg("max", 4000);
        assert_eq!(message(Lang::Zh, &e), "诉求内容不超过 4000 字");
        assert_eq!(
            message(Lang::En, &e),
            "content: longer than 4000 characters"
        );
        let unknown = Error::invalid("x", "no_such_key", "plain English");
        assert_eq!(message(Lang::Zh, &unknown), "x: plain English");
        assert_eq!(status_of(&unknown), StatusCode::UNPROCESSABLE_ENTITY);
    }

    #[test]
    fn a_busy_database_is_503_in_both_languages() {
        let e = Error::from(StoreError::Busy("locked".into()));
        assert_eq!(status_of(&e), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(message(Lang::Zh, &e), "系统繁忙，本次未保存，请稍后重试");
        assert!(message(Lang::En, &e).contains("busy"));
    }
}
