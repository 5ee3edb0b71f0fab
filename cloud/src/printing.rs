//! Printed tickets: an order's valid tickets as a PDF, one A4 page each — what the buyer
//! downloads from the order page and what their confirmation e-mail carries. Below both the
//! sales routes and the mail outbox, which each ask for it.

use crate::db::Tenant;
use crate::lang::Lang;
use print::{PrintedTicket, pdf};
use sync_core::seating::SeatName;

/// A ticket for the printed PDF.
#[derive(sqlx::FromRow)]
pub struct PrintRow {
    /// Its serial.
    pub serial: i64,
    /// Its signed text.
    pub text: String,
    /// What it cost.
    pub price_minor: i64,
    /// Its type's name.
    pub type_name: String,
    /// The holder.
    pub holder: String,
    /// ISO 4217 code.
    pub currency: String,
    /// The order's code.
    pub code: String,
    /// The event's name.
    pub event_name: String,
    /// Doors (Unix ms).
    pub starts_at: i64,
    /// The venue's time zone.
    pub time_zone: String,
    /// The event's language code.
    pub language: String,
    /// Its seat's section, row and label, for a reserved seat.
    pub section: Option<String>,
    /// Its seat's row.
    pub row_label: Option<String>,
    /// Its seat's label.
    pub seat_label: Option<String>,
}

/// The order's valid tickets, for printing.
pub async fn printable(tx: &mut Tenant, order: i64) -> Result<Vec<PrintRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT k.serial, k.text, k.price_minor, t.name AS type_name, o.name AS holder, o.currency, o.code, \
                e.name AS event_name, e.starts_at, e.time_zone, e.language, \
                s.section, s.row_label, s.label AS seat_label \
         FROM tickets k JOIN ticket_types t ON t.id = k.ticket_type_id JOIN orders o ON o.id = k.order_id \
         JOIN events e ON e.id = k.event_id LEFT JOIN seats s ON s.id = k.seat_id WHERE k.order_id = $1 AND k.org_id = $2 AND k.status = 'valid' ORDER BY k.serial",
    )
    .bind(order)
    .bind(tx.org())
    .fetch_all(&mut **tx)
    .await
}

/// Order `order`'s valid tickets as a PDF, one A4 page each, with its file name
/// ("tickets-K7Q2MX4P.pdf"); `None` if it has none (not paid yet, or refunded). What the
/// buyer downloads and what their confirmation e-mail carries.
pub async fn tickets_pdf(tx: &mut Tenant, order: i64) -> anyhow::Result<Option<(String, Vec<u8>)>> {
    let rows = printable(tx, order).await?;
    let Some(code) = rows.first().map(|r| r.code.clone()) else { return Ok(None) };
    let tickets: Vec<PrintedTicket> = rows
        .into_iter()
        .map(|r| {
            let lang = Lang::parse(&r.language).unwrap_or_default();
            PrintedTicket {
                serial: u32::try_from(r.serial).unwrap_or(0),
                price: lang.money(r.price_minor, &r.currency),
                starts: lang.date_time(r.starts_at, &r.time_zone),
                text: r.text,
                ticket_type: r.type_name,
                seat: match (r.section, r.row_label, r.seat_label) {
                    (Some(section), Some(row), Some(seat)) => {
                        Some(SeatName { section: &section, row: &row, seat: &seat }.to_string())
                    }
                    _ => None,
                },
                holder: r.holder,
                order: r.code,
                event: r.event_name,
            }
        })
        .collect();
    Ok(Some((format!("tickets-{code}.pdf"), pdf(&tickets)?)))
}
