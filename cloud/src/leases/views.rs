//! What the API answers and the console shows about leases.

use serde::Serialize;
use utoipa::ToSchema;

/// A box-office lease.
#[derive(Clone, Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct LeaseView {
    /// Its id.
    pub id: i64,
    /// The box office.
    pub device_id: i64,
    /// Its name.
    pub device: String,
    /// The ticket type's number.
    pub ticket_type: i64,
    /// The ticket type's name.
    pub ticket_type_name: String,
    /// Its first serial.
    pub first_serial: i64,
    /// Its last serial.
    pub last_serial: i64,
    /// Sold under it, as synced.
    pub sold: i64,
    /// `active`, `returned` (the device gave unsold rights back) or `revoked`.
    #[schema(pattern = "^(active|returned|revoked)$")]
    pub status: String,
    /// Until when the device may sell (Unix ms).
    pub expires_at: i64,
    /// The first serial no longer the device's (returned or revoked from there on).
    pub returned_from: Option<i64>,
    /// A seat lease's seats (their ids in the plan) still leased or sold under it; empty for
    /// a lease of places without seats.
    #[sqlx(skip)]
    pub seats: Vec<String>,
}

impl LeaseView {
    /// Rights the device holds: its range, less what went back.
    pub fn rights(&self) -> i64 {
        self.returned_from.unwrap_or(self.last_serial + 1) - self.first_serial
    }

    /// Rights it may still sell.
    pub fn left(&self) -> i64 {
        if self.status == "active" { (self.rights() - self.sold).max(0) } else { 0 }
    }
}

/// The event's leases.
#[derive(Serialize, ToSchema)]
pub struct Leases {
    /// By id.
    pub leases: Vec<LeaseView>,
}

/// A granted lease.
#[derive(Serialize, ToSchema)]
pub struct Granted {
    /// The lease.
    pub id: i64,
    /// Its first serial.
    pub first_serial: u32,
    /// Its last serial.
    pub last_serial: u32,
}

/// An extended lease.
#[derive(Serialize, ToSchema)]
pub struct Extended {
    /// The lease.
    pub id: i64,
    /// Its new expiry (Unix ms).
    pub expires_at: i64,
}

/// A revoked lease.
#[derive(Serialize, ToSchema)]
pub struct Revoked {
    /// The lease.
    pub id: i64,
    /// The first serial revoked at the gates.
    pub revoked_from: i64,
    /// How many rights went back on sale.
    pub unsold: i64,
}
