//! The commands the front end calls: each one line over [`Desk`]. Errors arrive in the front
//! end as the sentence to show.

// Tauri hands commands their state and arguments by value (deserialized per call).
#![allow(clippy::needless_pass_by_value)]

use crate::desk::{Desk, DeskError, DeskStatus, GuestRow, PaymentInput, SaleShown, SeatsShown, ShiftClosed};
use sync_core::replica::Quote;
use sync_core::sync::http::LeaseGranted;
use tauri::State;

/// What the screen shows now; `offset` is the screen's UTC offset in minutes.
#[tauri::command]
pub fn status(desk: State<'_, Desk>, offset: i32) -> DeskStatus {
    desk.status(offset)
}

/// Enrolls with an enrollment code (QR text, or code plus hub address) and sets the PIN.
#[tauri::command]
pub async fn enroll(
    desk: State<'_, Desk>,
    text: String,
    hub_url: Option<String>,
    pin: String,
    offset: i32,
) -> Result<DeskStatus, DeskError> {
    desk.enroll(&text, hub_url.as_deref(), &pin).await?;
    Ok(desk.status(offset))
}

/// Checks the settings PIN.
#[tauri::command]
pub fn unlock(desk: State<'_, Desk>, pin: String) -> Result<(), DeskError> {
    desk.unlock(&pin)
}

/// Chooses the event (PIN required).
#[tauri::command]
pub fn choose_event(
    desk: State<'_, Desk>,
    pin: String,
    event: u32,
    offset: i32,
) -> Result<DeskStatus, DeskError> {
    desk.choose_event(&pin, event)?;
    Ok(desk.status(offset))
}

/// Opens a shift with the float in the drawer.
#[tauri::command]
pub fn open_shift(desk: State<'_, Desk>, cashier: String, float_minor: i64) -> Result<(), DeskError> {
    desk.open_shift(&cashier, float_minor)
}

/// Sells; the tickets come back once the sale is durable.
#[tauri::command]
pub fn sell(
    desk: State<'_, Desk>,
    ticket_type: u16,
    quantity: u32,
    seats: Option<Vec<u16>>,
    payment: PaymentInput,
    offset: i32,
) -> Result<SaleShown, DeskError> {
    desk.sell(ticket_type, quantity, &seats.unwrap_or_default(), &payment, offset)
}

/// What a sale would cost: its voucher's and the discounts' prices, before it is made.
#[tauri::command]
pub fn quote(
    desk: State<'_, Desk>,
    ticket_type: u16,
    quantity: u32,
    payment: PaymentInput,
) -> Result<Quote, DeskError> {
    desk.quote(ticket_type, quantity, &payment)
}

/// The seat map and the seats this desk may sell.
#[tauri::command]
pub fn seats(desk: State<'_, Desk>) -> Result<SeatsShown, DeskError> {
    desk.seats()
}

/// Gives a voucher lease's unused uses back to the hub.
#[tauri::command]
pub fn return_voucher(desk: State<'_, Desk>, lease: u64) -> Result<u32, DeskError> {
    desk.return_voucher(lease)
}

/// A sale of this shift again, with its codes.
#[tauri::command]
pub fn show_sale(desk: State<'_, Desk>, receipt: u64, offset: i32) -> Result<SaleShown, DeskError> {
    desk.show_sale(receipt, offset)
}

/// Voids a sale of this shift.
#[tauri::command]
pub fn void(desk: State<'_, Desk>, receipt: u64) -> Result<(), DeskError> {
    desk.void(receipt)
}

/// Writes a sale's receipt and tickets as a PDF; returns its path.
#[tauri::command]
pub fn receipt_pdf(desk: State<'_, Desk>, receipt: u64, offset: i32) -> Result<String, DeskError> {
    desk.receipt_pdf(receipt, offset)
}

/// Closes the shift with the counted cash; the report as PDF and CSV.
#[tauri::command]
pub fn close_shift(desk: State<'_, Desk>, counted_minor: i64, offset: i32) -> Result<ShiftClosed, DeskError> {
    desk.close_shift(counted_minor, offset)
}

/// Asks the hub for more rights (online only).
#[tauri::command]
pub async fn request_rights(
    desk: State<'_, Desk>,
    ticket_type: u16,
    quantity: u32,
) -> Result<LeaseGranted, DeskError> {
    desk.request_rights(ticket_type, quantity).await
}

/// E-mails a sale's tickets to the buyer through the hub (online only).
#[tauri::command]
pub async fn email_sale(desk: State<'_, Desk>, receipt: u64, email: String) -> Result<(), DeskError> {
    desk.email_sale(receipt, &email).await
}

/// Returns a lease's unsold rights.
#[tauri::command]
pub fn return_lease(desk: State<'_, Desk>, lease: u64) -> Result<u32, DeskError> {
    desk.return_lease(lease)
}

/// The guest list, searched by name.
#[tauri::command]
pub fn guests(desk: State<'_, Desk>, query: String) -> Result<Vec<GuestRow>, DeskError> {
    desk.guests(&query)
}

/// Checks people of a guest's party in.
#[tauri::command]
pub fn check_in(desk: State<'_, Desk>, guest: String, count: u32) -> Result<(), DeskError> {
    desk.check_in(&guest, count)
}
