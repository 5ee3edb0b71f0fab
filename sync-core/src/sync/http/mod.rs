//! Sync over HTTP: a client for devices (to the hub or to a peer) and a server any device can
//! run so its peers sync with it on the venue LAN when the cloud is down.
//!
//! Endpoints:
//! - `GET /v1/hello` → `{"device": <id>, "protocol": 1}`, unauthenticated (it only names the
//!   responder; every sync response is then verified against that device's key);
//! - enrollment ([`enroll`]): a device joins a hub with a single-use code;
//! - `POST /v1/leases` → a box office asks for more rights ([`LeaseRequest`]), signed the same way;
//! - `POST /v1/door-sales/email` → the hub e-mails a door sale's tickets ([`DoorSaleEmail`]);
//! - `POST /v1/sync` → a [`super::SyncRequest`] in, a [`super::SyncResponse`] out, both signed
//!   ([`super::auth`]). A request with `wait_ms` is held until there is news (long-poll push).

mod client;
pub mod enroll;
mod server;

pub use client::{HttpTransport, http_client};
pub use server::{
    Check, VerifiedRequest, revoked, router, serve, signed_headers, signed_reply, verify_request,
};

use crate::ids::{DeviceId, Timestamp};
use ed25519_dalek::VerifyingKey;

/// Path of the sync endpoint.
pub const SYNC_PATH: &str = "/v1/sync";
/// Path of the hello endpoint.
pub const HELLO_PATH: &str = "/v1/hello";
/// Path where a box office asks the hub for more rights ([`LeaseRequest`]).
pub const LEASES_PATH: &str = "/v1/leases";

/// A box office asking for more rights of one ticket type (`POST /v1/leases`, signed). The
/// hub grants them at once if capacity allows; the lease itself arrives through sync.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeaseRequest {
    /// The event.
    pub event: crate::ids::EventId,
    /// The ticket type.
    pub ticket_type: crate::ids::TicketTypeId,
    /// How many rights.
    pub quantity: u32,
}

/// Path where a box office asks the hub to e-mail a door sale's tickets ([`DoorSaleEmail`]).
pub const DOOR_EMAIL_PATH: &str = "/v1/door-sales/email";

/// A box office asking the hub to e-mail a door sale's tickets to the buyer (`POST
/// /v1/door-sales/email`, signed). The sale must have been synced.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DoorSaleEmail {
    /// The event.
    pub event: crate::ids::EventId,
    /// The sale's receipt number.
    pub receipt: u64,
    /// The buyer's address.
    pub email: String,
}

/// The hub's answer to a [`LeaseRequest`].
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LeaseGranted {
    /// The new lease.
    pub lease: u64,
    /// Its first serial.
    pub first_serial: u32,
    /// Its last serial.
    pub last_serial: u32,
}

/// Who a replica is on the wire, and whom it trusts.
pub trait Identity: Send + Sync {
    /// This replica's device id.
    fn device(&self) -> DeviceId;
    /// Signs with this replica's key.
    fn sign(&self, message: &[u8]) -> [u8; 64];
    /// The key of a device this replica trusts now (`None`: unknown or revoked).
    fn key_of(&self, device: DeviceId) -> Option<VerifyingKey>;
    /// This device's wall clock, which dates its signed requests (a replica's configured
    /// clock: a device whose clock is off signs with its own wrong time, as in the field).
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
    /// The hub's notice that `device` was revoked, if this replica holds one (a peer hands it
    /// to the revoked device when it comes).
    fn revocation_notice(&self, _device: DeviceId) -> Option<crate::revoked::SignedNotice> {
        None
    }
}

/// The body of `GET /v1/hello`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Hello {
    /// The responder's device id.
    pub device: DeviceId,
    /// The sync protocol version it speaks.
    pub protocol: u16,
}
