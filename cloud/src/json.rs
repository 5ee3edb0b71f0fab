//! `ApiJson<T>`: a JSON body whose every failure — not JSON, unknown field, wrong type, out of
//! range, too large, not sent as JSON — becomes a problem-details 4xx naming what is wrong,
//! never a 500 or a bare text.

use crate::error::ApiError;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

/// A JSON request body.
pub struct ApiJson<T>(pub T);

/// The largest JSON body any endpoint takes (axum's default body limit).
pub const MAX_JSON_BYTES: usize = 2 * 1024 * 1024;

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(match rejection {
                JsonRejection::MissingJsonContentType(_) => {
                    ApiError::UnsupportedMediaType { expected: "application/json" }
                }
                too_large if too_large.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                    ApiError::PayloadTooLarge { limit: MAX_JSON_BYTES }
                }
                JsonRejection::JsonSyntaxError(e) => {
                    ApiError::invalid("body", format!("not valid JSON: {}", e.body_text()))
                }
                JsonRejection::JsonDataError(e) => ApiError::invalid("body", e.body_text()),
                other => ApiError::invalid("body", other.body_text()),
            }),
        }
    }
}

/// A yes/no stored as 0 or 1 (SQLite has no boolean; both backends store a checked BIGINT), as
/// JSON's `true`/`false`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct Flag(pub bool);

impl TryFrom<i64> for Flag {
    type Error = String;
    fn try_from(stored: i64) -> Result<Self, String> {
        match stored {
            0 => Ok(Self(false)),
            1 => Ok(Self(true)),
            other => Err(format!("a stored yes/no of {other}")),
        }
    }
}
