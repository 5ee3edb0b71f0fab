//! Tickets for the customer: each as a PNG QR code, the order's as a printable PDF — through
//! the order's secret link. A refunded ticket is gone (410), so an old download cannot be
//! mistaken for a valid ticket.

use super::routes::by_code_and_secret;
use super::store;
use crate::db::Db;
use crate::error::{ApiError, ProblemDetails};
use crate::path::ApiPath;
use crate::state::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use print::qr_png;
use utoipa_axum::{router::OpenApiRouter, routes};

/// The routes, with their OpenAPI documentation.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(qr)).routes(routes!(printable))
}

fn gone() -> ApiError {
    ApiError::Gone { code: "ticket_revoked", message: "this ticket was refunded or cancelled".into() }
}

#[utoipa::path(
    get,
    path = "/api/v1/public/orders/{code}/{secret}/tickets/{serial}/qr.png",
    tag = "checkout",
    params(
        ("code" = String, Path, description = "The order's code"),
        ("secret" = String, Path, description = "The order's secret (from the confirmation)"),
        ("serial" = i64, Path, description = "The ticket's serial"),
    ),
    responses(
        (status = 200, description = "The ticket's QR code", body = Vec<u8>, content_type = "image/png"),
        (status = 410, description = "Refunded or cancelled (`ticket_revoked`)", body = ProblemDetails, content_type = "application/problem+json"),
    ),
    security(()),
)]
async fn qr(
    State(db): State<Db>,
    ApiPath((code, secret, serial)): ApiPath<(String, String, i64)>,
) -> Result<Response, ApiError> {
    let (order, org) = by_code_and_secret(&db, &code, &secret).await?;
    let mut tx = db.tenant(org).await?;
    let (text, status) = store::ticket(&mut tx, order, serial).await?.ok_or(ApiError::NotFound)?;
    tx.commit().await?;
    if status != "valid" {
        return Err(gone());
    }
    let png = qr_png(&text, 8)?;
    Ok(([(header::CONTENT_TYPE, "image/png"), (header::CACHE_CONTROL, "private, no-store")], png)
        .into_response())
}

#[utoipa::path(
    get,
    path = "/api/v1/public/orders/{code}/{secret}/tickets.pdf",
    tag = "checkout",
    params(
        ("code" = String, Path, description = "The order's code"),
        ("secret" = String, Path, description = "The order's secret (from the confirmation)"),
    ),
    responses(
        (status = 200, description = "The order's valid tickets, one A4 page each", body = Vec<u8>, content_type = "application/pdf"),
        (status = 409, description = "No valid tickets: not paid yet, or refunded (`no_tickets`)", body = ProblemDetails, content_type = "application/problem+json"),
    ),
    security(()),
)]
async fn printable(
    State(db): State<Db>,
    ApiPath((code, secret)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    let (order, org) = by_code_and_secret(&db, &code, &secret).await?;
    let mut tx = db.tenant(org).await?;
    let printed = crate::printing::tickets_pdf(&mut tx, order).await?;
    tx.commit().await?;
    let Some((_, bytes)) = printed else {
        return Err(ApiError::Conflict {
            code: "no_tickets",
            message: "this order has no valid tickets (not paid yet, or refunded)".into(),
        });
    };
    let disposition = format!("inline; filename=\"tickets-{code}.pdf\"");
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        bytes,
    )
        .into_response())
}
