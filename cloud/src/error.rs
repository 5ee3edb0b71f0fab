//! One error type for every HTTP handler, rendered as RFC 9457 problem details with a stable
//! `code`. Database and other internal errors are logged with their detail and shown as a
//! generic 500 — never their text (realworld-axum-sqlx's rule).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// What went wrong, from the caller's point of view.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No such object — or one the caller may not see (other organizations' objects are 404,
    /// never 403, so their existence does not leak).
    #[error("not found")]
    NotFound,
    /// No valid session or token.
    #[error("authentication required")]
    Unauthorized,
    /// Authenticated, but the role does not allow this.
    #[error("your role does not allow this")]
    Forbidden,
    /// A field is missing, malformed or out of range.
    #[error("{field}: {message}")]
    Validation {
        /// The field.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// The request conflicts with the current state (duplicate, sold out, wrong status).
    #[error("{message}")]
    Conflict {
        /// Stable machine code, e.g. `sold_out`.
        code: &'static str,
        /// For people.
        message: String,
    },
    /// The thing existed but is no more (a refunded ticket).
    #[error("{message}")]
    Gone {
        /// Stable machine code.
        code: &'static str,
        /// For people.
        message: String,
    },
    /// The body is larger than this endpoint takes.
    #[error("the body is larger than the {limit} bytes this endpoint takes")]
    PayloadTooLarge {
        /// The most accepted, in bytes.
        limit: usize,
    },
    /// The body is not in a format this endpoint reads (JSON endpoints need
    /// `Content-Type: application/json`).
    #[error("send the body as {expected}")]
    UnsupportedMediaType {
        /// The content type expected.
        expected: &'static str,
    },
    /// No such route, or not with this method.
    #[error("{0}")]
    NoRoute(&'static str),
    /// Too many requests; try again after this many seconds.
    #[error("too many requests")]
    RateLimited {
        /// Seconds to wait.
        retry_after: u64,
    },
    /// The database is unreachable or too busy to answer now: retry.
    #[error("temporarily unavailable")]
    Unavailable,
    /// Anything else: logged, shown as a generic error.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sync_core::sync::store::StoreError> for ApiError {
    fn from(e: sync_core::sync::store::StoreError) -> Self {
        Self::Internal(e.into())
    }
}

impl ApiError {
    /// A validation error.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation { field: field.into(), message: message.into() }
    }

    fn status(&self) -> StatusCode {
        match self {
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::Validation { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::Gone { .. } => StatusCode::GONE,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::NoRoute(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable code clients branch on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound => "not_found",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::Validation { .. } => "invalid_field",
            Self::Conflict { code, .. } | Self::Gone { code, .. } => code,
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::UnsupportedMediaType { .. } => "unsupported_media_type",
            Self::NoRoute(_) => "method_not_allowed",
            Self::RateLimited { .. } => "rate_limited",
            Self::Unavailable => "unavailable",
            Self::Internal(_) => "internal",
        }
    }
}

impl From<crate::db::DbError> for ApiError {
    fn from(e: crate::db::DbError) -> Self {
        match e {
            crate::db::DbError::Sqlx(sqlx::Error::PoolTimedOut | sqlx::Error::Io(_)) => Self::Unavailable,
            crate::db::DbError::Sqlx(sqlx::Error::Database(ref db)) if busy(db.code().as_deref()) => {
                tracing::warn!(error = %e, "the database was too busy to answer; the client is told to retry");
                Self::Unavailable
            }
            other => Self::Internal(other.into()),
        }
    }
}

/// Whether a database error code says "busy, try again" rather than "wrong": SQLite's busy
/// codes (a writer held the lock past the busy timeout: `SQLITE_BUSY` and its extended forms)
/// and PostgreSQL's serialization failure, deadlock, lock or statement timeout and too many
/// connections. The same request sent again can succeed, so the client gets 503, not 500.
fn busy(code: Option<&str>) -> bool {
    matches!(code, Some("5" | "261" | "517" | "773" | "40001" | "40P01" | "55P03" | "57014" | "53300"))
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        crate::db::DbError::from(e).into()
    }
}

/// The JSON body of every error (RFC 9457 problem details).
#[derive(Serialize, utoipa::ToSchema)]
pub struct ProblemDetails {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    /// The HTTP status's phrase.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong, for people.
    pub detail: String,
    /// Stable machine code (`invalid_field`, `sold_out`, `not_found`, …).
    #[schema(pattern = "^[a-z_]+$")]
    pub code: String,
    /// The request field at fault, for `invalid_field`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let detail = match &self {
            Self::Internal(e) => {
                tracing::error!(error = %e, "internal error");
                "something went wrong on the hub; it has been logged".to_owned()
            }
            other => other.to_string(),
        };
        let field = match &self {
            Self::Validation { field, .. } => Some(field.as_str()),
            _ => None,
        };
        let code = self.code();
        let body = ProblemDetails {
            kind: format!("https://voelgoed.invalid/problems/{code}"),
            title: status.canonical_reason().unwrap_or("error").to_owned(),
            status: status.as_u16(),
            detail,
            code: code.to_owned(),
            field: field.map(str::to_owned),
        };
        let mut response = (status, axum::Json(body)).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if let Self::RateLimited { retry_after } = self
            && let Ok(value) = HeaderValue::from_str(&retry_after.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::ApiError;
    use axum::response::IntoResponse;
    use std::borrow::Cow;

    /// A database error with the code a driver gives (sqlx's drivers' errors cannot be made
    /// outside them).
    #[derive(Debug)]
    struct Coded(&'static str);

    impl std::fmt::Display for Coded {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "(code: {}) database says no", self.0)
        }
    }

    impl std::error::Error for Coded {}

    impl sqlx::error::DatabaseError for Coded {
        #[allow(clippy::unnecessary_literal_bound)] // the trait's signature
        fn message(&self) -> &str {
            "database says no"
        }
        fn code(&self) -> Option<Cow<'_, str>> {
            Some(Cow::Borrowed(self.0))
        }
        fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
            self
        }
        fn kind(&self) -> sqlx::error::ErrorKind {
            sqlx::error::ErrorKind::Other
        }
    }

    fn status_of(code: &'static str) -> u16 {
        ApiError::from(sqlx::Error::Database(Box::new(Coded(code)))).into_response().status().as_u16()
    }

    #[test]
    fn a_busy_database_asks_the_client_to_retry_and_a_wrong_request_does_not() {
        // SQLite "database is locked" after the busy timeout (seen with the hub slowed down
        // under a heap profiler: the order page answered 500), PostgreSQL's retryable ones.
        for busy in ["5", "517", "40001", "40P01", "55P03", "53300"] {
            assert_eq!(status_of(busy), 503, "code {busy}");
        }
        // A unique violation or a syntax error is the hub's bug, not a reason to retry.
        for wrong in ["2067", "23505", "42601"] {
            assert_eq!(status_of(wrong), 500, "code {wrong}");
        }
    }
}
