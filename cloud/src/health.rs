//! `GET /health`: whether this instance can serve (for load balancers).

use crate::db::Db;
use crate::error::ApiError;
use axum::extract::State;

/// `GET /health`: 200 when the database answers (for load balancers).
#[utoipa::path(
    get,
    path = "/health",
    tag = "system",
    security(()),
    responses(
        (status = 200, description = "The database answers", body = String, content_type = "text/plain"),
        (status = 503, description = "The database does not answer", body = crate::error::ProblemDetails, content_type = "application/problem+json"),
    ),
)]
pub async fn health(State(db): State<Db>) -> Result<&'static str, ApiError> {
    db.ping().await?;
    Ok("ok")
}
