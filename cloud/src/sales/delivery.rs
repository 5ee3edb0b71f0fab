//! Tickets for the customer: each as a PNG QR code, the order's as a printable PDF — through
//! the order's secret link. A refunded ticket is gone (410), so an old download cannot be
//! mistaken for a valid ticket.

use super::routes::by_code_and_secret;
use crate::error::ApiError;
use crate::path::ApiPath;
use crate::server::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use print::{PrintedTicket, pdf, qr_png};
use sqlx::Row;
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
        (status = 200, description = "The ticket's QR code; 410 once refunded", body = Vec<u8>, content_type = "image/png"),
    ),
    security(()),
)]
async fn qr(
    State(state): State<AppState>,
    ApiPath((code, secret, serial)): ApiPath<(String, String, i64)>,
) -> Result<Response, ApiError> {
    let (order, org) = by_code_and_secret(&state, &code, &secret).await?;
    let mut tx = state.db.tenant(org).await?;
    let row =
        sqlx::query("SELECT text, status FROM tickets WHERE order_id = $1 AND serial = $2 AND org_id = $3")
            .bind(order)
            .bind(serial)
            .bind(org)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(ApiError::NotFound)?;
    tx.commit().await?;
    if row.get::<String, _>(1) != "valid" {
        return Err(gone());
    }
    let png = qr_png(&row.get::<String, _>(0), 8)?;
    Ok(([(header::CONTENT_TYPE, "image/png"), (header::CACHE_CONTROL, "private, no-store")], png)
        .into_response())
}

/// "Sat 13 June 2026, 14:00" in the venue's time zone (UTC if the zone is unknown here).
pub(super) fn local_time(ms: i64, zone: &str) -> String {
    let Ok(at) = jiff::Timestamp::from_millisecond(ms) else { return String::new() };
    let tz = jiff::tz::TimeZone::get(zone).unwrap_or(jiff::tz::TimeZone::UTC);
    at.to_zoned(tz).strftime("%a %-d %B %Y, %H:%M").to_string()
}

fn money(minor: i64, currency: &str) -> String {
    format!("{}.{:02} {currency}", minor / 100, (minor % 100).abs())
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
    ),
    security(()),
)]
async fn printable(
    State(state): State<AppState>,
    ApiPath((code, secret)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    let (order, org) = by_code_and_secret(&state, &code, &secret).await?;
    let mut tx = state.db.tenant(org).await?;
    let rows = sqlx::query(
        "SELECT k.serial, k.text, k.price_minor, t.name, o.name, o.currency, o.code, e.name, e.starts_at, e.time_zone \
         FROM tickets k JOIN ticket_types t ON t.id = k.ticket_type_id JOIN orders o ON o.id = k.order_id \
         JOIN events e ON e.id = k.event_id WHERE k.order_id = $1 AND k.org_id = $2 AND k.status = 'valid' ORDER BY k.serial",
    )
    .bind(order)
    .bind(org)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    if rows.is_empty() {
        return Err(ApiError::Conflict {
            code: "no_tickets",
            message: "this order has no valid tickets (not paid yet, or refunded)".into(),
        });
    }
    let tickets: Vec<PrintedTicket> = rows
        .iter()
        .map(|r| PrintedTicket {
            serial: u32::try_from(r.get::<i64, _>(0)).unwrap_or(0),
            text: r.get(1),
            price: money(r.get(2), &r.get::<String, _>(5)),
            ticket_type: r.get(3),
            holder: r.get(4),
            order: r.get(6),
            event: r.get(7),
            starts: local_time(r.get(8), &r.get::<String, _>(9)),
        })
        .collect();
    let bytes = pdf(&tickets)?;
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

#[cfg(test)]
mod tests {
    #[test]
    fn times_show_on_the_venues_clock() {
        // 2026-06-13 12:00 UTC is 14:00 in Amsterdam (summer time).
        assert_eq!(super::local_time(1_781_352_000_000, "Europe/Amsterdam"), "Sat 13 June 2026, 14:00");
        assert_eq!(super::local_time(1_781_352_000_000, "Nowhere/Else"), "Sat 13 June 2026, 12:00");
        assert_eq!(super::money(4500, "EUR"), "45.00 EUR");
    }
}
