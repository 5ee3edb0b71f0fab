//! What the API answers and the console shows about events.

use super::{Policy, Serves, Status};
use serde::Serialize;
use utoipa::ToSchema;

/// An event in the organization's list.
#[derive(Clone, Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct EventSummary {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Where it is in its life.
    #[sqlx(try_from = "String")]
    pub status: Status,
    /// Doors (Unix ms).
    pub starts_at: i64,
    /// End (Unix ms).
    pub ends_at: i64,
    /// The venue's IANA time zone.
    pub time_zone: String,
    /// Tickets sold, online and at the door.
    pub sold: i64,
    /// Tickets that may be sold, all types together.
    pub capacity: i64,
}

/// The organization's events.
#[derive(Serialize, ToSchema)]
pub struct Events {
    /// Soonest first.
    pub events: Vec<EventSummary>,
}

/// An event with its gates and ticket types.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct EventDetail {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Where it is in its life.
    pub status: Status,
    /// Doors (Unix ms).
    pub starts_at: i64,
    /// End (Unix ms).
    pub ends_at: i64,
    /// The venue's IANA time zone.
    pub time_zone: String,
    /// Seconds of clock skew gates tolerate on validity windows.
    pub clock_skew_tolerance_secs: i64,
    /// What buyers read about it.
    #[serde(flatten)]
    pub about: super::About,
    /// By number.
    pub gates: Vec<GateView>,
    /// By number.
    pub ticket_types: Vec<TicketTypeView>,
}

/// A gate.
#[derive(Clone, Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct GateView {
    /// Its number (1, 2, 3 … in the order gates were added).
    pub number: i64,
    /// Its name.
    pub name: String,
    /// The directions it serves.
    #[sqlx(try_from = "String")]
    pub serves: Serves,
}

/// A ticket type, with where its capacity went.
#[derive(Clone, Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct TicketTypeView {
    /// Its number (as in the tickets).
    pub number: i64,
    /// Its name.
    pub name: String,
    /// Price in minor units.
    pub price_minor: i64,
    /// ISO 4217 code.
    pub currency: String,
    /// How many may be sold, online and at the door together.
    pub capacity: i64,
    /// Sold.
    pub sold: i64,
    /// Held by unpaid online orders.
    pub held: i64,
    /// Given to box offices to sell.
    pub leased: i64,
    /// Set aside for vouchers that reserve tickets.
    pub reserved: i64,
    /// Sold only with a voucher that unlocks it (not shown in the shop).
    #[sqlx(try_from = "i64")]
    #[schema(value_type = bool)]
    pub hidden: crate::json::Flag,
    /// An add-on (parking, merchandise): sold only in an order with a ticket of another type.
    #[sqlx(try_from = "i64")]
    #[schema(value_type = bool)]
    pub addon: crate::json::Flag,
    /// How it may pass the gates.
    #[sqlx(try_from = "String")]
    pub entry_policy: Policy,
    /// Gate numbers it may use; empty: all.
    #[sqlx(try_from = "String")]
    #[schema(value_type = Vec<u16>)]
    pub allowed_gates: Gates,
    /// Sales open (Unix ms); absent: when the event goes on sale.
    pub sales_start: Option<i64>,
    /// Sales close (Unix ms); absent: when the event ends.
    pub sales_end: Option<i64>,
    /// What the shop says of it.
    pub description: String,
    /// A bundle's parts (empty: not a bundle).
    #[sqlx(skip)]
    pub includes: Vec<super::bundles::Part>,
}

/// Gate numbers, stored comma-separated.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Gates(pub Vec<u16>);

impl TryFrom<String> for Gates {
    type Error = std::num::ParseIntError;
    fn try_from(stored: String) -> Result<Self, Self::Error> {
        stored.split(',').filter(|g| !g.is_empty()).map(str::parse).collect::<Result<_, _>>().map(Self)
    }
}

/// A new object's id.
#[derive(Serialize, ToSchema)]
pub struct Created {
    /// Its id.
    pub id: i64,
}

/// A new gate's or ticket type's number.
#[derive(Serialize, ToSchema)]
pub struct Numbered {
    /// Its number within the event.
    pub number: i64,
}

/// A new signing key.
#[derive(Serialize, ToSchema)]
pub struct KeyRotated {
    /// Its id within the event (1–255).
    pub key_id: u8,
}

/// The manifest devices validate against (sync-core's `EventManifest`, as JSON).
#[derive(Serialize, ToSchema)]
#[allow(dead_code)] // documentation only: the handler answers sync-core's own type
pub struct ManifestDoc {
    /// The event.
    event: u32,
    /// Its name.
    name: String,
    /// Every public key valid for the event (several during a rotation).
    keys: Vec<ManifestKeyDoc>,
    /// Its ticket types.
    ticket_types: Vec<ManifestTypeDoc>,
    /// Its gates.
    gates: Vec<ManifestGateDoc>,
    /// The hub and the enrolled, unrevoked devices.
    devices: Vec<ManifestDeviceDoc>,
    /// Seconds of clock skew tolerated.
    clock_skew_tolerance_secs: u32,
}

/// A public event key.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
struct ManifestKeyDoc {
    /// Its id within the event.
    id: u8,
    /// Ed25519, 64 hex digits.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    key: String,
}

/// A ticket type as gates need it.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
struct ManifestTypeDoc {
    id: u16,
    name: String,
    entry_policy: Policy,
    /// Gate ids it may use; null: every gate.
    allowed_gates: Option<Vec<u16>>,
    /// The door price.
    price: Option<ManifestPriceDoc>,
}

/// A door price.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
struct ManifestPriceDoc {
    minor: i64,
    currency: String,
}

/// A gate.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
struct ManifestGateDoc {
    id: u16,
    name: String,
    serves: Serves,
}

/// A device peers trust.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
struct ManifestDeviceDoc {
    id: u32,
    name: String,
    /// Ed25519, 64 hex digits (null when unknown).
    #[schema(pattern = "^[0-9a-f]{64}$")]
    public_key: Option<String>,
}
