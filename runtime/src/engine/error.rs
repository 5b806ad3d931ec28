/*!
The engines' error type: what went wrong in the domain, with no HTTP in it.

Every engine returns [`Error`]; each front-end maps it once — `http::error` to a status and a JSON
body, `open311` to an Open311 error document, the console to a zh-CN or English sentence from its
catalogue. So that the console can translate, an error carries a stable message **key** (e.g.
`content_empty`) and named **arguments** next to its English message; the console looks up
`err.<key>` and fills in `{name}` placeholders, falling back to the English text.

Storage errors convert with `?`: a missing row is [`ErrorKind::NotFound`], a unique or version
conflict [`ErrorKind::Conflict`], a constraint violation [`ErrorKind::Invalid`]; anything else is
[`ErrorKind::Internal`], whose cause is logged by the front-end and never shown.
*/

use serde_json::Value;

use crate::store::StoreError;

/// What kind of failure an [`Error`] is; front-ends map on this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A field of the request is wrong (the request may be corrected and retried).
    Invalid,
    /// The principal's role or scope does not allow it.
    Forbidden,
    /// The thing asked for does not exist (or is outside the principal's scope).
    NotFound,
    /// The current state does not allow it: an illegal transition, a stale version, a duplicate.
    Conflict,
    /// A bug or an unexpected storage failure: logged, never shown.
    Internal,
    /// The database could not be had within the write bound (a busy writer, a held lock, a
    /// stalled disk); nothing was written. Front-ends answer 503 with `Retry-After`
    /// ([`RETRY_AFTER_SECS`]).
    Unavailable,
}

/// What a 503 for [`ErrorKind::Unavailable`] tells the client to wait before retrying.
pub const RETRY_AFTER_SECS: u64 = 1;

/// An engine error (see the module docs). Boxed, so that a `Result` stays one pointer wide on
/// the happy path; its parts are read through [`ErrorParts`] (`err.kind`, `err.field` …).
#[derive(Debug, thiserror::Error)]
#[error("{}", self.display())]
pub struct Error(Box<ErrorParts>);

/// What an [`Error`] says.
#[derive(Debug)]
pub struct ErrorParts {
    pub kind: ErrorKind,
    /// The field at fault (`caller.phone`), for [`ErrorKind::Invalid`].
    pub field: Option<String>,
    /// Stable message key for translation (`content_empty`); for conflicts also the API's
    /// error code (`illegal_transition`, `stale_version`).
    pub key: &'static str,
    /// The English message.
    pub message: String,
    /// Named values the message mentions, for translated messages.
    pub args: Vec<(&'static str, String)>,
    /// Machine-readable detail for clients (e.g. the allowed actions of a conflict).
    pub detail: Option<Value>,
    source: Option<StoreError>,
}

impl std::ops::Deref for Error {
    type Target = ErrorParts;
    fn deref(&self) -> &ErrorParts {
        &self.0
    }
}

/// Result of an engine call.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    fn new(kind: ErrorKind, key: &'static str, message: impl Into<String>) -> Error {
        Error(Box::new(ErrorParts {
            kind,
            field: None,
            key,
            message: message.into(),
            args: Vec::new(),
            detail: None,
            source: None,
        }))
    }

    /// The parts, by value (for front-ends that move them into their own types).
    pub fn into_parts(self) -> ErrorParts {
        *self.0
    }

    /// A wrong field.
    pub fn invalid(
        field: impl Into<String>,
        key: &'static str,
        message: impl Into<String>,
    ) -> Error {
        let mut e = Error::new(ErrorKind::Invalid, key, message);
        e.0.field = Some(field.into());
        e
    }

    /// Not allowed for this principal.
    pub fn forbidden(key: &'static str, message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Forbidden, key, message)
    }

    /// `what` does not exist (`case MS…`).
    pub fn not_found(key: &'static str, what: impl Into<String>) -> Error {
        let what = what.into();
        Error::new(ErrorKind::NotFound, key, format!("{what} not found")).arg("what", what)
    }

    /// The state does not allow it; `code` is also the API's error code.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Conflict, code, message)
    }

    /// An unexpected failure with its cause (logged by the front-end, never shown).
    pub fn internal(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Internal, "internal", message)
    }

    /// Adds a named argument for translated messages.
    pub fn arg(mut self, name: &'static str, value: impl ToString) -> Error {
        self.0.args.push((name, value.to_string()));
        self
    }

    /// Adds machine-readable detail.
    /// The same error about another field: a check shared by forms that name it differently
    /// (an attachment's `file` is a patrol report's `photos`).
    pub fn for_field(mut self, field: &str) -> Error {
        if self.0.field.is_some() {
            self.0.field = Some(field.to_string());
        }
        self
    }

    pub fn with_detail(mut self, detail: Value) -> Error {
        self.0.detail = Some(detail);
        self
    }

    /// The storage error behind an internal error, for the log.
    pub fn store_error(&self) -> Option<&StoreError> {
        self.0.source.as_ref()
    }

    fn display(&self) -> String {
        match (&self.kind, &self.field) {
            (ErrorKind::Invalid, Some(f)) => format!("{f}: {}", self.message),
            _ => self.message.clone(),
        }
    }
}

impl crate::store::batch::BatchError for Error {
    fn is_busy(&self) -> bool {
        self.kind == ErrorKind::Unavailable
    }
}

impl From<StoreError> for Error {
    fn from(err: StoreError) -> Error {
        match err {
            StoreError::NotFound => Error::not_found("record_not_found", "record"),
            StoreError::Conflict(msg) => Error::conflict("conflict", msg),
            StoreError::Invalid(msg) => Error::invalid("body", "constraint", msg),
            StoreError::Busy(msg) => Error::new(
                ErrorKind::Unavailable,
                "database_busy",
                format!("the database is busy, nothing was saved; retry shortly ({msg})"),
            ),
            other => {
                let mut e = Error::internal("storage error");
                e.0.source = Some(other);
                e
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_errors_convert_by_kind() {
        assert_eq!(Error::from(StoreError::NotFound).kind, ErrorKind::NotFound);
        assert_eq!(
            Error::from(StoreError::Conflict("dup".into())).kind,
            ErrorKind::Conflict
        );
        let e = Error::from(StoreError::Invalid("fk".into()));
        assert_eq!(e.kind, ErrorKind::Invalid);
        assert_eq!(e.field.as_deref(), Some("body"));
    }

    #[test]
    fn invalid_errors_name_their_field() {
        let e = Error::invalid("caller.phone", "phone_invalid", "not a phone number")
            .arg("value", "12");
        assert_eq!(e.to_string(), "caller.phone: not a phone number");
        assert_eq!(e.args, vec![("value", "12".to_string())]);
        let nf = Error::not_found("case_not_found", "case MS1");
        assert_eq!(nf.to_string(), "case MS1 not found");
    }
}
