//! What a webhook says: the event types a partner may subscribe to, and the `data` each
//! carries (the body is the Standard Webhooks envelope `{"type", "timestamp", "data"}`).
//!
//! The payloads are the partner's contract: fields are only ever added. Each names the
//! objects it is about by the ids the REST API uses, so a partner can fetch more.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A kind of event a webhook endpoint may want.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize, ToSchema)]
pub enum EventType {
    /// An order was placed and holds its tickets, unpaid (`data`: [`OrderEvent`]).
    #[serde(rename = "order.placed")]
    OrderPlaced,
    /// An order was paid and its tickets issued (`data`: [`OrderEvent`], with tickets).
    #[serde(rename = "order.paid")]
    OrderPaid,
    /// Money of an order was refunded, or its tickets cancelled without refund (`data`:
    /// [`RefundEvent`]).
    #[serde(rename = "order.refunded")]
    OrderRefunded,
    /// An unpaid order lapsed or was cancelled: its tickets are on sale again (`data`:
    /// [`OrderEvent`]).
    #[serde(rename = "order.cancelled")]
    OrderCancelled,
    /// A gate admitted a ticket (`data`: [`ScanEvent`]).
    #[serde(rename = "ticket.checked_in")]
    TicketCheckedIn,
    /// A gate recorded a ticket leaving (`data`: [`ScanEvent`]).
    #[serde(rename = "ticket.checked_out")]
    TicketCheckedOut,
    /// Tickets were revoked: refunded, cancelled, reissued, voided at the door (`data`:
    /// [`RevokedEvent`]).
    #[serde(rename = "ticket.revoked")]
    TicketRevoked,
    /// A single-entry ticket was admitted a second time, by gates that were apart (`data`:
    /// [`DoubleAdmissionEvent`]).
    #[serde(rename = "admission.double")]
    AdmissionDouble,
    /// A device was enrolled (`data`: [`DeviceEvent`]).
    #[serde(rename = "device.enrolled")]
    DeviceEnrolled,
    /// A device was revoked (`data`: [`DeviceEvent`]).
    #[serde(rename = "device.revoked")]
    DeviceRevoked,
    /// An event was published: on sale, its manifest out to the devices (`data`:
    /// [`EventPublishedEvent`]).
    #[serde(rename = "event.published")]
    EventPublished,
    /// Tickets were leased to a box office (`data`: [`LeaseEvent`]).
    #[serde(rename = "lease.granted")]
    LeaseGranted,
    /// A box office's sale reached the hub (`data`: [`DoorSaleEvent`]).
    #[serde(rename = "door_sale.recorded")]
    DoorSaleRecorded,
    /// Sent by "send test event" to one endpoint, whatever it wants (`data`: [`TestEvent`]).
    #[serde(rename = "webhook.test")]
    Test,
}

impl EventType {
    /// Every type an endpoint may subscribe to (not the test event, which is sent on request).
    pub const ALL: [Self; 13] = [
        Self::OrderPlaced,
        Self::OrderPaid,
        Self::OrderRefunded,
        Self::OrderCancelled,
        Self::TicketCheckedIn,
        Self::TicketCheckedOut,
        Self::TicketRevoked,
        Self::AdmissionDouble,
        Self::DeviceEnrolled,
        Self::DeviceRevoked,
        Self::EventPublished,
        Self::LeaseGranted,
        Self::DoorSaleRecorded,
    ];

    /// As sent and stored ("order.paid").
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OrderPlaced => "order.placed",
            Self::OrderPaid => "order.paid",
            Self::OrderRefunded => "order.refunded",
            Self::OrderCancelled => "order.cancelled",
            Self::TicketCheckedIn => "ticket.checked_in",
            Self::TicketCheckedOut => "ticket.checked_out",
            Self::TicketRevoked => "ticket.revoked",
            Self::AdmissionDouble => "admission.double",
            Self::DeviceEnrolled => "device.enrolled",
            Self::DeviceRevoked => "device.revoked",
            Self::EventPublished => "event.published",
            Self::LeaseGranted => "lease.granted",
            Self::DoorSaleRecorded => "door_sale.recorded",
            Self::Test => "webhook.test",
        }
    }

    /// What it means, for the console.
    pub fn describe(self) -> &'static str {
        match self {
            Self::OrderPlaced => "Order placed (unpaid, tickets held)",
            Self::OrderPaid => "Order paid, tickets issued",
            Self::OrderRefunded => "Order refunded or tickets cancelled",
            Self::OrderCancelled => "Unpaid order lapsed or cancelled",
            Self::TicketCheckedIn => "Ticket checked in at a gate",
            Self::TicketCheckedOut => "Ticket checked out at a gate",
            Self::TicketRevoked => "Tickets revoked",
            Self::AdmissionDouble => "Double admission found",
            Self::DeviceEnrolled => "Device enrolled",
            Self::DeviceRevoked => "Device revoked",
            Self::EventPublished => "Event published",
            Self::LeaseGranted => "Tickets leased to a box office",
            Self::DoorSaleRecorded => "Door sale recorded",
            Self::Test => "Test event",
        }
    }

    /// From its name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().chain([Self::Test]).find(|t| t.as_str() == s)
    }
}

/// A ticket, as payloads name it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct TicketRef {
    /// Its serial (unique in the event).
    pub serial: u32,
    /// Its ticket type number.
    pub ticket_type: u16,
}

/// An order placed, paid or cancelled.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct OrderEvent {
    /// The order's code (`GET /api/v1/orders/{code}`).
    pub order: String,
    /// The event.
    pub event: i64,
    /// Its status now: `pending`, `paid`, `expired`, `cancelled`.
    pub status: String,
    /// The buyer's name.
    pub name: String,
    /// The buyer's e-mail.
    pub email: String,
    /// What it costs, discounts taken off (minor units).
    pub total_minor: i64,
    /// ISO 4217.
    pub currency: String,
    /// The voucher code it used.
    pub voucher: Option<String>,
    /// Its valid tickets (paid orders; empty otherwise).
    pub tickets: Vec<TicketRef>,
}

/// A refund, or tickets cancelled without one.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct RefundEvent {
    /// The order's code.
    pub order: String,
    /// The event.
    pub event: i64,
    /// The refund's id.
    pub refund: i64,
    /// Paid back (0: cancelled without refund), minor units.
    pub amount_minor: i64,
    /// ISO 4217.
    pub currency: String,
    /// The tickets it revoked (none: money only).
    pub serials: Vec<u32>,
    /// Why, as the organizer wrote it.
    pub reason: String,
}

/// A ticket through a gate.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ScanEvent {
    /// The event.
    pub event: i64,
    /// The ticket.
    pub ticket: TicketRef,
    /// The gate number.
    pub gate: u16,
    /// The scanning device's id.
    pub device: i64,
    /// The gate's verdict (`admitted`, `re_entry`, `exit_recorded`).
    pub verdict: String,
    /// When, by the device's clock (Unix ms). A gate offline reports it when it reconnects.
    pub scanned_at: i64,
}

/// A single-entry ticket admitted once too often.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DoubleAdmissionEvent {
    /// The event.
    pub event: i64,
    /// The ticket.
    pub ticket: TicketRef,
    /// How many times it has been admitted now.
    pub admissions: i64,
    /// The gate of this admission.
    pub gate: u16,
    /// The device of this admission.
    pub device: i64,
    /// When (device clock, Unix ms).
    pub scanned_at: i64,
}

/// Serials revoked.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct RevokedEvent {
    /// The event.
    pub event: i64,
    /// The first serial revoked.
    pub first_serial: u32,
    /// The last (inclusive).
    pub last_serial: u32,
    /// `refunded`, `cancelled`, `reissued`, `voided`, `lost_device`, …
    pub reason: String,
}

/// A device enrolled or revoked.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DeviceEvent {
    /// Its id.
    pub device: i64,
    /// Its name.
    pub name: String,
    /// `gate` or `box_office`.
    pub kind: String,
}

/// An event published.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct EventPublishedEvent {
    /// The event.
    pub event: i64,
    /// Its name.
    pub name: String,
    /// When its doors open (Unix ms).
    pub starts_at: i64,
}

/// Tickets leased to a box office.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct LeaseEvent {
    /// The event.
    pub event: i64,
    /// The lease.
    pub lease: i64,
    /// The box office.
    pub device: i64,
    /// The ticket type number.
    pub ticket_type: u16,
    /// The serials it may sell, first to last.
    pub first_serial: u32,
    /// The last (inclusive).
    pub last_serial: u32,
    /// When it lapses (Unix ms).
    pub expires_at: i64,
}

/// A sale at a box office.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DoorSaleEvent {
    /// The event.
    pub event: i64,
    /// The box office.
    pub device: i64,
    /// Its receipt number.
    pub receipt: u64,
    /// The tickets sold.
    pub tickets: Vec<TicketRef>,
    /// Minor units.
    pub total_minor: i64,
    /// ISO 4217.
    pub currency: String,
    /// `cash`, `card` or `comp`.
    pub payment: String,
}

/// A test.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct TestEvent {
    /// The endpoint it was sent to.
    pub endpoint: i64,
    /// Who asked for it.
    pub requested_by: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_reads_back_from_its_name_as_serde_writes_it() {
        for t in EventType::ALL.into_iter().chain([EventType::Test]) {
            assert_eq!(EventType::parse(t.as_str()), Some(t));
            assert_eq!(serde_json::to_value(t).unwrap(), t.as_str());
        }
        assert_eq!(EventType::parse("order.shipped"), None);
    }
}
