//! What the API answers and the console shows about devices.

use super::DeviceRole;
use serde::Serialize;
use utoipa::ToSchema;

/// A device of the fleet.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DeviceView {
    /// Its id (the `voelgoed-device` of its signed requests).
    pub id: i64,
    /// The name given at enrollment.
    pub name: String,
    /// Gate scanner or box office.
    pub role: DeviceRole,
    /// The events it was enrolled for.
    pub events: Vec<i64>,
    /// The app version it reported at enrollment.
    pub app_version: String,
    /// When it enrolled (Unix ms).
    pub enrolled_at: i64,
    /// When it last synced (Unix ms; written at most every few seconds).
    pub last_seen_at: Option<i64>,
    /// Entries it holds that the hub does not have yet, as of its last sync.
    pub pending_entries: i64,
    /// Whether it was revoked.
    pub revoked: bool,
    /// When it was revoked (Unix ms).
    pub revoked_at: Option<i64>,
    /// The gate of its latest scan (devices do not report their gate otherwise).
    pub last_gate: Option<String>,
}

/// The fleet.
#[derive(Serialize, ToSchema)]
pub struct Fleet {
    /// By id.
    pub devices: Vec<DeviceView>,
}

/// An event a device is enrolled for, by name (the console's fleet table).
#[derive(Clone, Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct EventRef {
    /// The device.
    pub device_id: i64,
    /// The event.
    pub event_id: i64,
    /// Its name.
    pub name: String,
}

/// A new enrollment code.
#[derive(Serialize, ToSchema)]
pub struct EnrollmentCode {
    /// The code to type (12 characters in groups of four; single use).
    pub code: String,
    /// When it expires (Unix ms, 24 h after creation).
    pub expires_at: i64,
    /// The hub the device enrolls with.
    pub hub_url: String,
    /// `VGENROLL:<hub>#<code>`: what the QR code holds.
    pub qr_text: String,
    /// That text as an SVG QR code, for the console to show.
    pub qr_svg: String,
}

/// What an enrolled device learns.
#[derive(Serialize, ToSchema)]
pub struct Enrolled {
    /// Its id.
    pub device_id: u32,
    /// Its organization.
    pub org_id: i64,
    /// Its role.
    pub role: DeviceRole,
    /// Its events.
    pub events: Vec<i64>,
    /// The hub to sync with.
    pub hub_url: String,
    /// The hub's public key (64 hex digits): sync responses are signed with it.
    pub hub_public_key: String,
}

/// The body of an export upload: the file a revoked device left, as it is.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)] // documents the body; the handler reads it as it streams in
pub struct ExportFile(Vec<u8>);

/// What an export held, and what of it was new to the hub.
#[derive(Serialize, ToSchema)]
pub struct ExportImported {
    /// The revoked device.
    pub device: u32,
    /// When the organizer revoked it (Unix ms), as its notice said.
    pub revoked_at: i64,
    /// Entries in the file.
    pub entries: usize,
    /// Entries the hub did not hold yet (now stored and materialized).
    pub imported: u64,
    /// Door sales among the entries.
    pub door_sales: usize,
    /// Voids among the entries.
    pub voids: usize,
    /// Scans among the entries.
    pub scans: usize,
    /// Closed or opened cashier shifts among the entries.
    pub shifts: usize,
}
