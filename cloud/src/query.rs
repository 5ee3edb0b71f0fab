//! `ApiQuery<T>`: a query string whose every failure — a number that is not one, an unknown
//! parameter — is a problem-details 422 naming the parameter, not axum's plain-text 400.

use crate::error::ApiError;
use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

/// Query parameters, deserialized like axum's `Query`.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(Self(value)),
            Err(rejection) => {
                let text = rejection.body_text();
                let field = parameter_named(&text).unwrap_or("query").to_owned();
                Err(ApiError::invalid(field, text))
            }
        }
    }
}

/// The parameter serde's message names (`unknown field `x``, `limit: invalid digit…`).
fn parameter_named(message: &str) -> Option<&str> {
    let message = message.strip_prefix("Failed to deserialize query string: ").unwrap_or(message);
    if let Some(rest) = message.strip_prefix("unknown field `") {
        return rest.split('`').next();
    }
    message
        .split_once(": ")
        .map(|(name, _)| name)
        .filter(|n| n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_parameter_is_named() {
        assert_eq!(
            super::parameter_named("Failed to deserialize query string: unknown field `x`, expected `a`"),
            Some("x")
        );
        assert_eq!(
            super::parameter_named(
                "Failed to deserialize query string: limit: invalid digit found in string"
            ),
            Some("limit")
        );
        assert_eq!(super::parameter_named("Failed to deserialize query string: something odd"), None);
    }
}
