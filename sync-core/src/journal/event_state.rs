//! State derived from the merged journal of one event: admissions, revocations, leases.
//!
//! Every field is a deterministic function of the *set* of entries applied — each `apply`
//! commutes with every other and repeating one changes nothing — so replicas holding the same
//! entries show the same state whatever order the entries arrived in. The convergence tests
//! check exactly that.

use super::entry::{Entry, LeaseGrant, LeaseId, Payload, VoucherGrant};
use super::shift::ShiftEntry;
use crate::admission::{AdmissionState, Stamp};
use crate::ids::{SeatNumber, Serial};
use crate::manifest::EventManifest;
use crate::revocation::{RevocationReason, RevocationSet};
use std::collections::{BTreeMap, BTreeSet};

/// One lease as the journal tells it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LeaseState {
    /// The grant, once it has arrived (the earliest, should the hub ever write two).
    pub grant: Option<(Stamp, LeaseGrant)>,
    /// Serials sold under it.
    pub sold: BTreeSet<Serial>,
    /// Serials voided after sale.
    pub voided: BTreeSet<Serial>,
    /// The first serial returned unsold, if any were (the lowest such return wins).
    pub returned_from: Option<Serial>,
    /// When the rights lapse: the latest expiry of any grant of this lease (the hub extends a
    /// lease by granting it again with a later one).
    pub expires: Option<crate::ids::Timestamp>,
    /// The seats it sells, if it is a seat lease (empty: it sells no seat).
    pub seats: BTreeSet<SeatNumber>,
    /// The seat of each serial sold under it (voided ones too: their seats are not sold again
    /// here). Should a device ever write two seats for one serial, the lower is kept, so the
    /// state does not depend on the order entries arrive in.
    pub sold_seats: BTreeMap<Serial, SeatNumber>,
}

impl LeaseState {
    /// How many rights of the lease were used.
    pub fn sold_count(&self) -> usize {
        self.sold.len()
    }

    /// The seats of a seat lease not sold under it, in plan order.
    pub fn free_seats(&self) -> BTreeSet<SeatNumber> {
        let sold: BTreeSet<SeatNumber> = self.sold_seats.values().copied().collect();
        self.seats.difference(&sold).copied().collect()
    }
}

/// Everything derived from one event's entries.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventState {
    /// Who was admitted, who is inside, double admissions.
    pub admission: AdmissionState,
    /// Revoked serials (hub revocations and door-sale voids).
    pub revocations: RevocationSet,
    /// Leases by id.
    pub leases: BTreeMap<LeaseId, LeaseState>,
    /// The manifest in force: the latest published, by journal order.
    pub manifest: Option<(Stamp, EventManifest)>,
    /// Cashier shifts per box office: the sequence numbers of openings, and of the openings
    /// that were closed.
    pub shifts: BTreeMap<crate::ids::DeviceId, Shifts>,
    /// Devices the hub revoked, with its signed notice (handed to the device if it comes).
    pub revoked_devices: BTreeMap<crate::ids::DeviceId, crate::revoked::SignedNotice>,
    /// The newest settings the organizer set per device, sealed to that device.
    pub device_settings: BTreeMap<crate::ids::DeviceId, crate::remote::SealedSettings>,
    /// Voucher uses leased to box offices, by voucher lease.
    pub voucher_leases: BTreeMap<LeaseId, VoucherLeaseState>,
    /// The automatic discounts in force: the latest published, by journal order.
    pub discounts: Option<(Stamp, Vec<crate::pricing::Rule>)>,
    /// The seat map in force: the latest published, by journal order.
    pub seats: Option<(Stamp, crate::seating::SeatMap)>,
}

/// One voucher lease as the journal tells it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VoucherLeaseState {
    /// The grant, once it has arrived (the earliest, should the hub ever write two).
    pub grant: Option<(Stamp, VoucherGrant)>,
    /// Uses taken, per door-price entry (origin, sequence number): a set, so an entry applied
    /// twice counts once.
    pub used: BTreeMap<(crate::ids::DeviceId, u64), u32>,
    /// Its unused uses were given back.
    pub returned: bool,
}

impl VoucherLeaseState {
    /// Uses taken so far.
    pub fn used_count(&self) -> u32 {
        self.used.values().sum()
    }
}

/// One box office's shifts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Shifts {
    /// Sequence numbers of the openings.
    pub opened: BTreeSet<u64>,
    /// Sequence numbers of the openings that were closed.
    pub closed: BTreeSet<u64>,
}

impl Shifts {
    /// The shift still open, if any: the latest opening not closed.
    pub fn open(&self) -> Option<u64> {
        self.opened.iter().next_back().copied().filter(|s| !self.closed.contains(s))
    }
}

impl EventState {
    /// Applies one entry. Order-independent and idempotent.
    pub fn apply(&mut self, entry: &Entry) {
        match &entry.payload {
            Payload::Scan(_) => {
                if let Some(scan) = entry.as_scan() {
                    self.admission.record(&scan);
                }
            }
            Payload::DoorSale(sale) => {
                self.leases.entry(sale.lease).or_default().sold.extend(sale.serials.iter().copied());
            }
            Payload::Void(void) => {
                for &serial in &void.serials {
                    self.revocations.revoke(serial, RevocationReason::Voided);
                }
                self.leases.entry(void.lease).or_default().voided.extend(void.serials.iter().copied());
            }
            Payload::Revocation(r) => {
                if r.first == r.last {
                    self.revocations.revoke(r.first, r.reason);
                } else {
                    self.revocations.revoke_range(r.first, r.last, r.reason);
                }
            }
            Payload::LeaseGrant(grant) => {
                let lease = self.leases.entry(grant.lease).or_default();
                lease.expires = Some(lease.expires.map_or(grant.expires, |e| e.max(grant.expires)));
                let candidate = (entry.stamp(), grant.clone());
                if lease.grant.as_ref().is_none_or(|(kept, _)| candidate.0 < *kept) {
                    lease.grant = Some(candidate);
                }
            }
            Payload::Manifest(m) => {
                let stamp = entry.stamp();
                if self.manifest.as_ref().is_none_or(|(kept, _)| stamp > *kept) {
                    self.manifest = Some((stamp, (**m).clone()));
                }
            }
            Payload::Shift(shift) => {
                let shifts = self.shifts.entry(entry.origin).or_default();
                match &**shift {
                    ShiftEntry::Open { .. } => shifts.opened.insert(entry.seq),
                    ShiftEntry::Close { opened, .. } => shifts.closed.insert(*opened),
                };
            }
            Payload::LeaseReturn(ret) => {
                let lease = self.leases.entry(ret.lease).or_default();
                lease.returned_from =
                    Some(lease.returned_from.map_or(ret.first_unsold, |s| s.min(ret.first_unsold)));
            }
            Payload::DeviceRevoked(notice) => {
                self.revoked_devices.insert(notice.notice.device, notice.clone());
            }
            Payload::VoucherGrant(grant) => {
                let lease = self.voucher_leases.entry(grant.lease).or_default();
                let candidate = (entry.stamp(), (**grant).clone());
                if lease.grant.as_ref().is_none_or(|(kept, _)| candidate.0 < *kept) {
                    lease.grant = Some(candidate);
                }
            }
            Payload::DoorPrice(price) => {
                if let Some((lease, uses)) = price.voucher {
                    self.voucher_leases
                        .entry(lease)
                        .or_default()
                        .used
                        .insert((entry.origin, entry.seq), uses);
                }
            }
            Payload::VoucherReturn(ret) => {
                self.voucher_leases.entry(ret.lease).or_default().returned = true;
            }
            Payload::Discounts(rules) => {
                let stamp = entry.stamp();
                if self.discounts.as_ref().is_none_or(|(kept, _)| stamp > *kept) {
                    self.discounts = Some((stamp, rules.clone()));
                }
            }
            Payload::Seats(map) => {
                let stamp = entry.stamp();
                if self.seats.as_ref().is_none_or(|(kept, _)| stamp > *kept) {
                    self.seats = Some((stamp, (**map).clone()));
                }
            }
            Payload::LeaseSeats(seats) => {
                self.leases.entry(seats.lease).or_default().seats.extend(seats.seats.iter().copied());
            }
            Payload::DoorSeats(sold) => {
                let lease = self.leases.entry(sold.lease).or_default();
                for &(serial, seat) in &sold.seats {
                    let kept = lease.sold_seats.entry(serial).or_insert(seat);
                    *kept = (*kept).min(seat);
                }
            }
            Payload::DeviceSettings(change) => {
                let newer =
                    self.device_settings.get(&change.device).is_none_or(|held| held.set_at < change.set_at);
                if newer {
                    self.device_settings.insert(change.device, change.clone());
                }
            }
        }
    }
}
