//! Journal entries: the facts devices and the hub write, one origin each.

use crate::admission::{Scan, ScanRecord, Stamp};
use crate::hlc::Hlc;
use crate::ids::{DeviceId, EventId, GateId, Serial, TicketTypeId, Timestamp};
use crate::manifest::{Direction, EntryPolicy};
use crate::revocation::RevocationReason;
use crate::verdict::VerdictKind;
use serde::{Deserialize, Serialize};

/// The origin id of the hub's own journal. Devices are numbered from 1.
pub const HUB: DeviceId = DeviceId(0);

/// A box-office lease (hub-assigned).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LeaseId(pub u64);

/// One fact in one origin's append-only log. `(origin, seq)` identifies it; `seq` runs 1, 2,
/// 3, … without gaps per origin, which is what lets a version vector describe a replica's
/// holdings in one number per origin.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The device (or [`HUB`]) that wrote it.
    pub origin: DeviceId,
    /// Its position in the origin's log, from 1.
    pub seq: u64,
    /// Hybrid logical clock at writing: orders entries across origins.
    pub hlc: Hlc,
    /// The event it belongs to.
    pub event: EventId,
    /// The fact.
    pub payload: Payload,
}

impl Entry {
    /// A fingerprint of the whole entry (the first 16 bytes of the SHA-256 of its encoding):
    /// two different entries claiming one `(origin, seq)` have different digests.
    pub fn digest(&self) -> [u8; 16] {
        use sha2::{Digest, Sha256};
        let bytes = postcard::to_stdvec(self).unwrap_or_default();
        let hash = Sha256::digest(&bytes);
        let mut out = [0u8; 16];
        out.copy_from_slice(&hash[..16]);
        out
    }

    /// Its place in the merged journal.
    pub fn stamp(&self) -> Stamp {
        Stamp { hlc: self.hlc, origin: self.origin }
    }

    /// The admission movement it records, if it is a passing scan.
    pub fn as_scan(&self) -> Option<Scan> {
        let Payload::Scan(s) = &self.payload else { return None };
        let ticket = s.ticket?;
        Some(Scan {
            serial: ticket.serial,
            ticket_type: ticket.ticket_type,
            policy: ticket.policy,
            direction: s.verdict.movement()?,
            record: ScanRecord { at: s.at, device: self.origin, gate: s.gate },
            stamp: self.stamp(),
        })
    }
}

/// The kinds of fact.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Payload {
    /// A gate scanned a code (every scan, passing or not).
    Scan(ScanEntry),
    /// A box office sold tickets under a lease.
    DoorSale(DoorSale),
    /// A box office voided tickets it sold (revokes them).
    Void(Void),
    /// The hub revoked serials (refund, cancellation, reissue, lost device).
    Revocation(RevocationEntry),
    /// The hub granted a box office a lease.
    LeaseGrant(LeaseGrant),
    /// Unsold serials of a lease went back to the hub.
    LeaseReturn(LeaseReturn),
    /// The hub published the event's manifest (keys, types, gates, devices). The latest by
    /// journal order is the one in force. Shared, not boxed: it is much larger than the other
    /// facts (every device's name and key), and copies of an entry share it — the hub hands
    /// its cached entries to every device's sync, and 200 gates' first syncs at once each
    /// copied the event's 200 manifests (the hub's peak memory, docs/benchmarks.md).
    Manifest(std::sync::Arc<crate::manifest::EventManifest>),
    /// A box-office cashier opened or closed a shift (the closing carries its report).
    Shift(Box<super::shift::ShiftEntry>),
    /// The hub revoked a device: its signed notice, which peers hand to the device if it
    /// comes to them ([`crate::revoked`]).
    DeviceRevoked(crate::revoked::SignedNotice),
    /// The organizer set something on one device (its PIN), signed by the hub and sealed to
    /// that device ([`crate::remote`]).
    DeviceSettings(crate::remote::SealedSettings),
    /// The hub leased uses of a voucher to a box office (its terms travel with them).
    VoucherGrant(Box<VoucherGrant>),
    /// What a door sale's tickets list at, what came off and why, and the voucher uses it
    /// took; written with the sale it prices, in the same transaction.
    DoorPrice(DoorPrice),
    /// A box office gave back the unused uses of a voucher lease.
    VoucherReturn(VoucherReturn),
    /// The event's automatic discounts, as box offices apply them (the latest by journal
    /// order is in force).
    Discounts(Vec<crate::pricing::Rule>),
    /// The event's seats, numbered as seated tickets carry them (the latest by journal order
    /// is in force): gates name a ticket's seat from it, box offices draw and sell from it.
    Seats(Box<crate::seating::SeatMap>),
    /// The seats a lease sells (a seat lease): written by the hub just before the lease's
    /// `LeaseGrant`, in the same transaction, so a device holding the grant holds its seats.
    LeaseSeats(LeaseSeats),
    /// Which seat each ticket of a door sale is for, written with the sale in the same
    /// transaction.
    DoorSeats(DoorSeats),
}

/// A scan at a gate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanEntry {
    /// The gate.
    pub gate: GateId,
    /// Entry or exit.
    pub direction: Direction,
    /// The device's wall clock.
    pub at: Timestamp,
    /// What the gate decided.
    pub verdict: VerdictKind,
    /// The verified ticket, when the verdict got that far.
    pub ticket: Option<ScannedTicket>,
}

/// The verified facts of a scanned ticket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScannedTicket {
    /// The serial.
    pub serial: Serial,
    /// The ticket type.
    pub ticket_type: TicketTypeId,
    /// The entry policy the gate applied (`None` if its manifest did not know the type).
    pub policy: Option<EntryPolicy>,
}

/// How a door sale was paid.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PaymentMethod {
    /// Cash.
    Cash,
    /// A card terminal; its reference.
    Card {
        /// The terminal's transaction reference.
        reference: String,
    },
    /// Free; why.
    Comp {
        /// The reason given.
        reason: String,
    },
}

/// Tickets sold at the door. One sale at the counter is one entry per lease it drew on (all
/// written in one transaction), sharing its receipt number.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoorSale {
    /// The sale's receipt number: the journal sequence number of its first entry.
    pub receipt: u64,
    /// The lease the rights came from.
    pub lease: LeaseId,
    /// The ticket type sold.
    pub ticket_type: TicketTypeId,
    /// The serials issued.
    pub serials: Vec<Serial>,
    /// Total price in minor units (cents).
    pub total_minor: i64,
    /// ISO 4217 currency code.
    pub currency: String,
    /// Payment.
    pub payment: PaymentMethod,
}

/// Door-sale tickets voided by the cashier.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Void {
    /// The lease they were sold under.
    pub lease: LeaseId,
    /// The serials voided.
    pub serials: Vec<Serial>,
}

/// Serials revoked by the hub.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevocationEntry {
    /// First serial.
    pub first: Serial,
    /// Last serial (inclusive; equal to `first` for one ticket).
    pub last: Serial,
    /// Why.
    pub reason: RevocationReason,
}

/// A lease granted to a box office: the right to sell `first_serial..=last_serial` of one type
/// until `expires`, with the delegation that makes its tickets verifiable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseGrant {
    /// The lease.
    pub lease: LeaseId,
    /// The box office.
    pub device: DeviceId,
    /// The ticket type.
    pub ticket_type: TicketTypeId,
    /// First serial of the range.
    pub first_serial: Serial,
    /// Last serial of the range (inclusive).
    pub last_serial: Serial,
    /// When the rights lapse.
    pub expires: Timestamp,
    /// The event key's delegation for the range ([`crate::keys::SignedDelegation::to_bytes`]):
    /// the device signs its tickets under it, and checks it against the manifest's keys first.
    pub delegation: Vec<u8>,
}

/// Uses of a voucher leased to a box office: it may redeem `uses` of them offline until
/// `expires`, and no more (the hub took them from the voucher's uses left).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoucherGrant {
    /// The voucher lease (its own numbering, apart from ticket leases).
    pub lease: LeaseId,
    /// The box office.
    pub device: DeviceId,
    /// The voucher's code and terms.
    pub terms: crate::pricing::VoucherTerms,
    /// Uses leased.
    pub uses: u32,
    /// After this, the device redeems none of them.
    pub expires: Timestamp,
}

/// The price of one door-sale entry (the sale with sequence number `sale` of the same
/// device): each ticket's list price, the discount on them all and why, and the voucher uses
/// taken. The sale's `total_minor` is what was charged: list × tickets − discount.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoorPrice {
    /// The sequence number of the [`DoorSale`] entry it prices.
    pub sale: u64,
    /// The list price of one ticket.
    pub list_minor: i64,
    /// Taken off the entry's tickets together.
    pub discount_minor: i64,
    /// Why ("Voucher SPONSOR", "Buy 3 get 1").
    pub reason: String,
    /// The voucher lease and how many of its uses the entry took.
    pub voucher: Option<(LeaseId, u32)>,
}

/// A box office gives back what it did not use of a voucher lease.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoucherReturn {
    /// The voucher lease.
    pub lease: LeaseId,
}

/// The seats of a seat lease: the device sells these seats and no others, one ticket (one
/// serial of the lease's range) per seat. The hub leased each to this lease alone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseSeats {
    /// The lease.
    pub lease: LeaseId,
    /// Its seats, by number ([`crate::seating::SeatMap`]).
    pub seats: Vec<crate::ids::SeatNumber>,
}

/// The seats of a door sale's tickets under one seat lease: (serial, seat) pairs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoorSeats {
    /// The lease the serials and seats came from.
    pub lease: LeaseId,
    /// Each ticket's serial and its seat.
    pub seats: Vec<(Serial, crate::ids::SeatNumber)>,
}

/// Unsold serials of a lease returned: `first_unsold..=` the lease's last serial.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseReturn {
    /// The lease.
    pub lease: LeaseId,
    /// The first serial returned.
    pub first_unsold: Serial,
}
