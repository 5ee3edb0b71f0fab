//! The box office: selling at the door under leases, offline, without overselling.
//!
//! A lease (brief §7) is the only source of rights: `n` serials of one ticket type, an
//! expiry, and the event key's delegation for the range. Rights left are *derived* from the
//! journal — the range minus the serials this device's door sales used — never kept as a
//! counter, so a restart, a crash or a replayed sync cannot make them drift, and they cannot
//! go below zero: a sale takes serials only from the unsold part of the range.
//!
//! [`BoxOffice::sell`] checks, allocates serials, signs every ticket with the device key under
//! the lease's delegation (so any gate admits it offline), commits the sale to the journal and
//! only then returns the tickets: a ticket the buyer sees is a sale the disk holds. Everything
//! happens under the replica's one lock, so two sales can never take the same serial.
//!
//! Prices are the hub's: the list price from the manifest, the automatic discounts it published
//! (`Payload::Discounts`; price tiers apply online only, since a ticket's place in the whole
//! sale is not known offline) and vouchers whose uses it leased to this device
//! (`Payload::VoucherGrant`), through the same [`crate::pricing::price`] as online checkout. A
//! voucher's uses left are derived like rights: the lease's uses minus the uses this device's
//! `DoorPrice` entries took — so a device holding 20 uses redeems 20 and no more, and the hub,
//! which took those 20 from the voucher, can never be over-redeemed by door and online sales
//! together.

use super::door_seats::{self, Drawable, Picks};
use super::{Replica, ReplicaError};
use crate::ids::{EventId, SeatNumber, Serial, TicketTypeId, Timestamp};
use crate::journal::shift::{ShiftEntry, ShiftReport};
use crate::journal::{
    DoorPrice, DoorSale, DoorSeats, Entry, EventState, LeaseId, LeaseReturn, LeaseState, Payload,
    PaymentMethod, Void, VoucherGrant, VoucherReturn,
};
use crate::keys::{IssueError, SignedDelegation};
use crate::manifest::EventManifest;
use crate::pricing::{self, Item, Refusal};
use serde::Serialize;
use std::sync::Arc;

/// Most tickets in one sale (a door sale entry carries at most 1,000 serials).
pub const MAX_TICKETS_PER_SALE: u32 = 100;
/// Longest payment reference, comp reason or cashier name.
const MAX_TEXT: usize = 200;

/// Why a box-office action was refused, in words for the cashier. Nothing was recorded.
#[derive(Debug, thiserror::Error)]
pub enum SellError {
    /// Selling or voiding with no shift open.
    #[error("Open a shift first (with the cash float in the drawer).")]
    NoShift,
    /// Opening a shift while one is open.
    #[error("A shift is already open: close it first.")]
    ShiftOpen,
    /// A quantity of 0 or too many.
    #[error("Sell 1 to {MAX_TICKETS_PER_SALE} tickets at a time.")]
    Quantity,
    /// A ticket type this event does not have, or without a door price.
    #[error("This device has no price for that ticket type: sync it, or sell it as a comp.")]
    NoPrice,
    /// The leases of this type hold fewer rights than asked (the whole sale is refused).
    #[error("{}", rights_sentence(*.left, .name))]
    NotEnoughRights {
        /// The ticket type's name.
        name: String,
        /// Rights left on this device for it.
        left: u32,
    },
    /// A card payment without the terminal's reference, a comp without a reason, an amount
    /// out of range.
    #[error("{0}")]
    Invalid(String),
    /// A receipt that is not a sale of the open shift (or does not exist).
    #[error("Receipt {0} is not a sale of this shift: only this shift's sales can be voided here.")]
    NotThisShift(u64),
    /// A receipt voided before.
    #[error("Receipt {0} is already voided.")]
    AlreadyVoided(u64),
    /// A lease that is not this device's, or has nothing left to return.
    #[error("{0}")]
    Lease(String),
    /// A voucher code this device cannot redeem (not leased to it, lapsed, used up, or not for
    /// these tickets). Nothing was sold.
    #[error("{0}")]
    Voucher(String),
    /// The event's data has not reached the device.
    #[error("This device has not received the event yet: connect it to the network once.")]
    NoManifest,
    /// A delegation that would not sign (expired, another device's): should not happen for a
    /// lease listed as active.
    #[error("The lease cannot sign tickets ({0}): ask the organizer for a new lease.")]
    Issue(#[from] IssueError),
    /// A ticket type sold by seat, asked for without seats.
    #[error("“{0}” is sold by seat: pick the seats on the plan.")]
    SeatsRequired(String),
    /// A seat this device may not sell (sold, or not in any of its seat leases).
    #[error("{0} is not this desk's to sell: it is sold, or not in its lease.")]
    SeatNotHere(String),
    /// The device's storage failed: nothing was sold.
    #[error("The sale could not be saved on this device ({0}); nothing was sold. Try again.")]
    Storage(#[from] ReplicaError),
}

fn rights_sentence(left: u32, name: &str) -> String {
    match left {
        0 => format!("No “{name}” left on this device's lease: request more rights when online."),
        n => format!("Only {n} “{name}” left on this device's lease."),
    }
}

/// What a lease looks like to the cashier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LeaseStatus {
    /// Rights left and time to sell them.
    Active,
    /// Every serial sold.
    SoldOut,
    /// Past its expiry.
    Expired,
    /// Unsold rights were given back.
    Returned,
    /// Its delegation does not verify against the event's keys (or names another device).
    Invalid,
}

/// One lease of this device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LeaseView {
    /// The lease.
    pub lease: u64,
    /// Its ticket type.
    pub ticket_type: u16,
    /// First serial.
    pub first_serial: u32,
    /// Last serial (inclusive).
    pub last_serial: u32,
    /// Serials sold under it (voided ones included: a voided serial is never sold again).
    pub sold: u32,
    /// Of those, voided.
    pub voided: u32,
    /// Rights left to sell now (0 unless active).
    pub left: u32,
    /// A seat lease's seats (0: a lease of places without seats).
    pub seats: u32,
    /// When it lapses (Unix ms).
    pub expires: Timestamp,
    /// Its state.
    pub status: LeaseStatus,
}

/// What the cashier asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SaleRequest {
    /// The ticket type.
    pub ticket_type: TicketTypeId,
    /// How many.
    pub quantity: u32,
    /// How it is paid.
    pub payment: PaymentMethod,
    /// A voucher code the buyer shows, if any (its uses must be leased to this device).
    pub voucher: Option<String>,
    /// The seats, one per ticket, for a type sold by seat (empty otherwise).
    pub seats: Vec<SeatNumber>,
}

/// What a sale costs, before it is made (the cashier shows it; [`BoxOffice::sell`] charges it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Quote {
    /// The ticket type.
    pub ticket_type: u16,
    /// How many.
    pub quantity: u32,
    /// The list price of one.
    pub list_minor: i64,
    /// Taken off them all.
    pub discount_minor: i64,
    /// Why ("Voucher SPONSOR", "Buy 3 get 1"); empty without a discount.
    pub reason: String,
    /// What to charge: list × quantity − discount.
    pub total_minor: i64,
    /// The currency.
    pub currency: String,
    /// Uses of the voucher it takes.
    pub voucher_uses: u32,
    /// The voucher lease those uses come from.
    #[serde(skip)]
    voucher_lease: Option<LeaseId>,
}

/// One voucher lease of this device, as the cashier sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VoucherLeaseView {
    /// The voucher lease.
    pub lease: u64,
    /// The code.
    pub code: String,
    /// Uses leased.
    pub uses: u32,
    /// Uses taken by this device's sales (voided sales keep theirs).
    pub used: u32,
    /// Uses left to redeem now (0 once lapsed or returned).
    pub left: u32,
    /// When the uses lapse (Unix ms).
    pub expires: Timestamp,
    /// Given back to the hub.
    pub returned: bool,
}

/// A recorded sale: its receipt number and the signed tickets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Sale {
    /// The receipt number (the journal sequence number of its first entry).
    pub receipt: u64,
    /// When it was recorded (the device's clock).
    pub at: Timestamp,
    /// The ticket type.
    pub ticket_type: u16,
    /// The serials, in order.
    pub serials: Vec<u32>,
    /// Each ticket's seat, in the order of `serials` (empty for a sale without seats).
    pub seats: Vec<u16>,
    /// Each ticket's `VG1:` text, in the order of `serials`.
    pub tickets: Vec<String>,
    /// The total charged, in minor units.
    pub total_minor: i64,
    /// Of the list price, taken off (a voucher or an automatic discount).
    pub discount_minor: i64,
    /// Why; empty without a discount.
    pub reason: String,
    /// The currency.
    pub currency: String,
    /// How it was paid.
    pub payment: PaymentMethod,
    /// Whether it was voided since.
    pub voided: bool,
}

/// One event's box office on this device.
#[derive(Clone)]
pub struct BoxOffice {
    replica: Arc<Replica>,
    event: EventId,
}

impl BoxOffice {
    pub(crate) fn new(replica: Arc<Replica>, event: EventId) -> Self {
        Self { replica, event }
    }

    /// This device's leases for the event, as of `now`.
    pub fn leases(&self, now: Timestamp) -> Vec<LeaseView> {
        let inner = self.replica.lock();
        let me = self.replica.device();
        let manifest = inner.manifest(self.event);
        let key = inner.key.public_key();
        let Some(state) = inner.events.get(&self.event) else { return Vec::new() };
        state
            .leases
            .iter()
            .filter_map(|(id, lease)| {
                let (_, grant) = lease.grant.as_ref().filter(|(_, g)| g.device == me)?;
                let delegation = verified_delegation(manifest, lease, key);
                Some(view(*id, lease, grant, delegation.is_some(), now))
            })
            .collect()
    }

    /// The seats this device may sell now — free in its active seat leases — with their ticket
    /// types, in plan order.
    pub fn free_seats(&self, now: Timestamp) -> Vec<(TicketTypeId, SeatNumber)> {
        let active: Vec<LeaseView> =
            self.leases(now).into_iter().filter(|l| l.status == LeaseStatus::Active && l.seats > 0).collect();
        let mut free: Vec<(TicketTypeId, SeatNumber)> = self.replica.with_event_state(self.event, |state| {
            active
                .iter()
                .filter_map(|l| state.leases.get(&LeaseId(l.lease)).map(|s| (l.ticket_type, s.free_seats())))
                .flat_map(|(t, seats)| seats.into_iter().map(move |n| (TicketTypeId(t), n)))
                .collect()
        });
        free.sort_by_key(|(_, n)| *n);
        free
    }

    /// Seats `seats` as staff say them ("Stalls · Row F · Seat 12"), from the published map.
    pub fn seat_names(&self, seats: &[u16]) -> Vec<String> {
        self.replica.with_event_state(self.event, |state| {
            seats.iter().map(|n| seat_name(state, SeatNumber(*n))).collect()
        })
    }

    /// The event's seat map drawn as a plan (see [`crate::seating::SeatMap::drawing`]), each
    /// ticket type's seats in a category of its name; `None` before a map has arrived.
    pub fn seat_drawing(&self) -> Option<crate::seating::Plan> {
        let manifest = self.replica.manifest(self.event);
        self.replica.with_event_state(self.event, |state| {
            let (_, map) = state.seats.as_ref()?;
            Some(map.drawing(|t| {
                manifest
                    .as_ref()
                    .and_then(|m| m.ticket_type(t))
                    .map_or_else(|| format!("Type {}", t.0), |spec| spec.name.clone())
            }))
        })
    }

    /// The open shift's number (the sequence number of its opening), if one is open.
    pub fn open_shift(&self) -> Option<u64> {
        let me = self.replica.device();
        self.replica
            .with_event_state(self.event, |s| s.shifts.get(&me).and_then(crate::journal::Shifts::open))
    }

    /// Opens a shift for `cashier` with `float_minor` in the drawer.
    pub fn open_shift_with(&self, cashier: &str, float_minor: i64) -> Result<u64, SellError> {
        let cashier = cashier.trim();
        if cashier.is_empty() || cashier.len() > MAX_TEXT {
            return Err(SellError::Invalid("Type the cashier's name (up to 200 characters).".into()));
        }
        if !(0..=100_000_000).contains(&float_minor) {
            return Err(SellError::Invalid("The float is 0 to 1,000,000.".into()));
        }
        if self.open_shift().is_some() {
            return Err(SellError::ShiftOpen);
        }
        let currency = self.currency().ok_or(SellError::NoManifest)?;
        let shift = ShiftEntry::Open { cashier: cashier.to_owned(), float_minor, currency };
        Ok(self.replica.record(self.event, Payload::Shift(Box::new(shift)))?.seq)
    }

    /// The open shift's report so far, as if closed now with `counted_minor` counted.
    pub fn shift_report(&self, counted_minor: i64, now: Timestamp) -> Result<ShiftReport, SellError> {
        let opened = self.open_shift().ok_or(SellError::NoShift)?;
        self.report_of(opened, counted_minor, now)
    }

    fn report_of(&self, opened: u64, counted_minor: i64, now: Timestamp) -> Result<ShiftReport, SellError> {
        let me = self.replica.device();
        let entries = self.replica.lock().entries_after(me, self.event, opened - 1)?;
        let (opening, later) = entries.split_first().ok_or(SellError::NoShift)?;
        ShiftReport::compute(opening, later, counted_minor, now).ok_or(SellError::NoShift)
    }

    /// Closes the open shift with the counted cash; the report travels to the hub with the
    /// closing entry.
    pub fn close_shift(&self, counted_minor: i64, now: Timestamp) -> Result<ShiftReport, SellError> {
        if !(0..=100_000_000).contains(&counted_minor) {
            return Err(SellError::Invalid("The counted cash is 0 to 1,000,000.".into()));
        }
        let opened = self.open_shift().ok_or(SellError::NoShift)?;
        let report = self.report_of(opened, counted_minor, now)?;
        let close = ShiftEntry::Close { opened, report: report.clone() };
        self.replica.record(self.event, Payload::Shift(Box::new(close)))?;
        Ok(report)
    }

    /// The open shift's sales, newest first (a sale spanning leases is one sale).
    pub fn sales(&self) -> Result<Vec<Sale>, SellError> {
        let Some(opened) = self.open_shift() else { return Ok(Vec::new()) };
        let me = self.replica.device();
        let entries = self.replica.lock().entries_after(me, self.event, opened)?;
        let mut sales: Vec<Sale> = Vec::new();
        for entry in &entries {
            if let Payload::DoorSale(s) = &entry.payload {
                match sales.last_mut() {
                    Some(last) if last.receipt == s.receipt => {
                        last.serials.extend(s.serials.iter().map(|x| x.0));
                        last.total_minor += s.total_minor;
                    }
                    _ => sales.push(Sale {
                        receipt: s.receipt,
                        at: entry.hlc.time(),
                        ticket_type: s.ticket_type.0,
                        serials: s.serials.iter().map(|x| x.0).collect(),
                        seats: Vec::new(),
                        tickets: Vec::new(),
                        total_minor: s.total_minor,
                        discount_minor: 0,
                        reason: String::new(),
                        currency: s.currency.clone(),
                        payment: s.payment.clone(),
                        voided: false,
                    }),
                }
            } else if let Payload::DoorPrice(p) = &entry.payload
                && let Some(last) = sales.last_mut()
            {
                // Written right after the sale entry it prices, in the same transaction.
                last.discount_minor += p.discount_minor;
                last.reason.clone_from(&p.reason);
            }
        }
        self.replica.with_event_state(self.event, |state| {
            for sale in &mut sales {
                sale.voided = sale
                    .serials
                    .iter()
                    .all(|s| state.leases.values().any(|l| l.voided.contains(&Serial(*s))));
                sale.seats = sale
                    .serials
                    .iter()
                    .filter_map(|s| state.leases.values().find_map(|l| l.sold_seats.get(&Serial(*s))))
                    .map(|n| n.0)
                    .collect();
            }
        });
        sales.reverse();
        Ok(sales)
    }

    /// A sale of the open shift with its tickets signed again (Ed25519 signatures are
    /// deterministic: the same bytes as when sold), for showing or printing once more.
    pub fn sale(&self, receipt: u64, now: Timestamp) -> Result<Sale, SellError> {
        let mut sale = self
            .sales()?
            .into_iter()
            .find(|s| s.receipt == receipt)
            .ok_or(SellError::NotThisShift(receipt))?;
        let inner = self.replica.lock();
        let manifest = inner.manifest(self.event);
        let key = inner.key.public_key();
        let state = inner.events.get(&self.event).ok_or(SellError::NoManifest)?;
        for serial in &sale.serials {
            let lease = state
                .leases
                .values()
                .find(|l| l.sold.contains(&Serial(*serial)))
                .ok_or(SellError::NotThisShift(receipt))?;
            let delegation = verified_delegation(manifest, lease, key)
                .ok_or_else(|| SellError::Lease(DELEGATION_BAD.into()))?;
            // Signed as of the sale, so an expiry since then does not stop a reprint.
            let ticket = inner.key.issue_seat(
                &delegation,
                Serial(*serial),
                TicketTypeId(sale.ticket_type),
                None,
                lease.sold_seats.get(&Serial(*serial)).copied(),
                sale.at.min(now),
            )?;
            sale.tickets.push(ticket.to_text());
        }
        Ok(sale)
    }

    /// What `request` would cost now: list price, discount and why, voucher uses. Refused as
    /// [`BoxOffice::sell`] would refuse its price (nothing is recorded either way).
    pub fn quote(&self, request: &SaleRequest, now: Timestamp) -> Result<Quote, SellError> {
        check_request(request)?;
        let inner = self.replica.lock();
        let manifest = inner.manifest(self.event).ok_or(SellError::NoManifest)?;
        let none = EventState::default();
        let state = inner.events.get(&self.event).unwrap_or(&none);
        price_sale(manifest, state, self.replica.device(), request, now)
    }

    /// This device's voucher leases for the event, as of `now`.
    pub fn vouchers(&self, now: Timestamp) -> Vec<VoucherLeaseView> {
        let me = self.replica.device();
        self.replica.with_event_state(self.event, |state| {
            state
                .voucher_leases
                .iter()
                .filter_map(|(id, lease)| {
                    let (_, grant) = lease.grant.as_ref().filter(|(_, g)| g.device == me)?;
                    let used = lease.used_count();
                    let live = !lease.returned && now <= grant.expires;
                    Some(VoucherLeaseView {
                        lease: id.0,
                        code: grant.terms.code.clone(),
                        uses: grant.uses,
                        used,
                        left: if live { grant.uses.saturating_sub(used) } else { 0 },
                        expires: grant.expires,
                        returned: lease.returned,
                    })
                })
                .collect()
        })
    }

    /// Gives the unused uses of voucher lease `lease` back to the hub (they are the voucher's
    /// again once it syncs). Returns how many.
    pub fn return_voucher(&self, lease: LeaseId) -> Result<u32, SellError> {
        let me = self.replica.device();
        let left = self.replica.with_event_state(self.event, |state| {
            let l = state.voucher_leases.get(&lease);
            let (l, grant) =
                l.and_then(|l| Some((l, &l.grant.as_ref().filter(|(_, g)| g.device == me)?.1))).ok_or_else(
                    || SellError::Lease(format!("Voucher lease {} is not this device's.", lease.0)),
                )?;
            if l.returned {
                return Err(SellError::Lease(format!("Voucher lease {} was returned already.", lease.0)));
            }
            Ok(grant.uses.saturating_sub(l.used_count()))
        })?;
        self.replica.record(self.event, Payload::VoucherReturn(VoucherReturn { lease }))?;
        Ok(left)
    }

    /// Sells: checks the rights (and the voucher's uses), allocates serials, signs the tickets,
    /// commits the sale with its price, and only then returns it. On `Err` nothing was sold.
    pub fn sell(&self, request: &SaleRequest, now: Timestamp) -> Result<Sale, SellError> {
        check_request(request)?;
        let me = self.replica.device();
        let mut guard = self.replica.lock();
        let inner = &mut *guard;
        let open = inner
            .events
            .get(&self.event)
            .and_then(|s| s.shifts.get(&me))
            .and_then(crate::journal::Shifts::open);
        if open.is_none() {
            return Err(SellError::NoShift);
        }
        let manifest = inner.manifest(self.event).ok_or(SellError::NoManifest)?.clone();
        let spec = manifest.ticket_type(request.ticket_type).ok_or(SellError::NoPrice)?;
        let name = spec.name.clone();
        let state = inner.events.get(&self.event).ok_or(SellError::NoManifest)?;
        let quote = price_sale(&manifest, state, me, request, now)?;
        let usable = usable(state, &manifest, inner.key.public_key(), me, request, now);
        let picks = pick(&usable, request, &name, |n| seat_name(state, n))?;
        // Sign first (nothing written yet), then commit every entry in one transaction.
        let receipt = inner.have.get(me) + 1;
        // Each ticket's share of the total (the discount spread as online: exact to the unit).
        let mut prices =
            pricing::ticket_prices(i64::from(request.quantity), quote.list_minor, quote.discount_minor)
                .into_iter();
        let mut uses_left = quote.voucher_uses;
        let (mut payloads, mut serials, mut seats, mut tickets) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (lease, take) in picks {
            let delegation =
                &usable.iter().find(|(d, _, _)| d.lease == lease).ok_or(SellError::NoManifest)?.1;
            for (serial, seat) in &take {
                let ticket =
                    inner.key.issue_seat(delegation, *serial, request.ticket_type, None, *seat, now)?;
                tickets.push(ticket.to_text());
            }
            serials.extend(take.iter().map(|(s, _)| s.0));
            seats.extend(take.iter().filter_map(|(_, seat)| seat.map(|n| n.0)));
            let sold_seats: Vec<(Serial, SeatNumber)> =
                take.iter().filter_map(|(serial, seat)| seat.map(|n| (*serial, n))).collect();
            let take: Vec<Serial> = take.into_iter().map(|(s, _)| s).collect();
            let count = u32::try_from(take.len()).unwrap_or(u32::MAX);
            let total: i64 = prices.by_ref().take(take.len()).sum();
            let sale_seq = receipt + u64::try_from(payloads.len()).unwrap_or(u64::MAX);
            payloads.push(Payload::DoorSale(DoorSale {
                receipt,
                lease,
                ticket_type: request.ticket_type,
                serials: take,
                total_minor: total,
                currency: quote.currency.clone(),
                payment: request.payment.clone(),
            }));
            let comp = matches!(request.payment, PaymentMethod::Comp { .. });
            if quote.discount_minor > 0 || quote.voucher_lease.is_some() || comp {
                let uses = uses_left.min(count);
                uses_left -= uses;
                payloads.push(Payload::DoorPrice(DoorPrice {
                    sale: sale_seq,
                    list_minor: quote.list_minor,
                    discount_minor: quote.list_minor * i64::from(count) - total,
                    reason: quote.reason.clone(),
                    voucher: quote.voucher_lease.filter(|_| uses > 0).map(|l| (l, uses)),
                }));
            }
            if !sold_seats.is_empty() {
                payloads.push(Payload::DoorSeats(DoorSeats { lease, seats: sold_seats }));
            }
        }
        let entries = inner.append_all(me, self.event, payloads, now)?;
        drop(guard);
        self.replica.notify();
        Ok(Sale {
            receipt,
            at: entries.first().map_or(now, |e| e.hlc.time()),
            ticket_type: request.ticket_type.0,
            serials,
            seats,
            tickets,
            total_minor: quote.total_minor,
            discount_minor: quote.discount_minor,
            reason: quote.reason,
            currency: quote.currency,
            payment: request.payment.clone(),
            voided: false,
        })
    }

    /// Voids a sale of the open shift: its tickets are revoked (at every gate once synced) and
    /// the money is booked back on the shift's report.
    pub fn void(&self, receipt: u64) -> Result<(), SellError> {
        let opened = self.open_shift().ok_or(SellError::NoShift)?;
        let me = self.replica.device();
        let entries: Vec<Entry> = self.replica.lock().entries_after(me, self.event, opened)?;
        let sold: Vec<(LeaseId, Vec<Serial>)> = entries
            .iter()
            .filter_map(|e| match &e.payload {
                Payload::DoorSale(s) if s.receipt == receipt => Some((s.lease, s.serials.clone())),
                _ => None,
            })
            .collect();
        if sold.is_empty() {
            return Err(SellError::NotThisShift(receipt));
        }
        let already = self.replica.with_event_state(self.event, |state| {
            sold.iter().all(|(lease, serials)| {
                state.leases.get(lease).is_some_and(|l| serials.iter().all(|s| l.voided.contains(s)))
            })
        });
        if already {
            return Err(SellError::AlreadyVoided(receipt));
        }
        let voids = sold.into_iter().map(|(lease, serials)| Payload::Void(Void { lease, serials })).collect();
        self.replica.record_all(self.event, voids)?;
        Ok(())
    }

    /// Gives a lease's unsold rights back to the hub (they return to sale once it syncs).
    /// Returns how many were returned.
    pub fn return_unsold(&self, lease: LeaseId) -> Result<u32, SellError> {
        let me = self.replica.device();
        let first_unsold = self.replica.with_event_state(self.event, |state| {
            let l =
                state.leases.get(&lease).filter(|l| l.grant.as_ref().is_some_and(|(_, g)| g.device == me));
            let l = l.ok_or_else(|| SellError::Lease(format!("Lease {} is not this device's.", lease.0)))?;
            let (_, grant) = l.grant.as_ref().ok_or_else(|| SellError::Lease("No such lease.".into()))?;
            if l.returned_from.is_some() {
                return Err(SellError::Lease(format!("Lease {} was returned already.", lease.0)));
            }
            // Sales take the lowest free serials, so the unsold ones are everything above the
            // highest sold.
            let first = l.sold.iter().next_back().map_or(grant.first_serial.0, |s| s.0 + 1);
            if first > grant.last_serial.0 {
                return Err(SellError::Lease(format!("Lease {} is sold out: nothing to return.", lease.0)));
            }
            Ok((Serial(first), grant.last_serial.0 - first + 1))
        })?;
        let (first, count) = first_unsold;
        self.replica.record(self.event, Payload::LeaseReturn(LeaseReturn { lease, first_unsold: first }))?;
        Ok(count)
    }

    /// The currency of the event's prices (the first priced type's).
    fn currency(&self) -> Option<String> {
        self.replica.manifest(self.event).map(|m| manifest_currency(&m))
    }
}

const DELEGATION_BAD: &str = "the lease's delegation does not verify";

/// The quantity, payment and voucher code of a request, before anything is read.
/// This device's active leases of `request`'s type, the soonest to lapse first (use rights
/// before they expire), with their delegations.
fn usable(
    state: &EventState,
    manifest: &EventManifest,
    key: [u8; 32],
    me: crate::ids::DeviceId,
    request: &SaleRequest,
    now: Timestamp,
) -> Vec<(Drawable, SignedDelegation, Timestamp)> {
    let mut usable: Vec<(Drawable, SignedDelegation, Timestamp)> = state
        .leases
        .iter()
        .filter_map(|(id, lease)| {
            let (_, grant) = lease.grant.as_ref().filter(|(_, g)| g.device == me)?;
            let delegation = verified_delegation(Some(manifest), lease, key)?;
            let v = view(*id, lease, grant, true, now);
            (grant.ticket_type == request.ticket_type && v.status == LeaseStatus::Active).then(|| {
                let serials = (grant.first_serial.0..=grant.last_serial.0)
                    .map(Serial)
                    .filter(|s| !lease.sold.contains(s))
                    .take(usize::try_from(request.quantity).unwrap_or(usize::MAX))
                    .collect();
                let seats = (!lease.seats.is_empty()).then(|| lease.free_seats());
                (Drawable { lease: *id, serials, seats }, delegation, v.expires)
            })
        })
        .collect();
    usable.sort_by_key(|(d, _, expires)| (*expires, d.lease));
    usable
}

/// The serials (with their seats) a sale of `request` takes from `usable` (in its order: the
/// soonest to lapse first): the seats asked for from the seat leases holding them, or places
/// from the leases without seats — a seat lease never sells a ticket without its seat.
fn pick(
    usable: &[(Drawable, SignedDelegation, Timestamp)],
    request: &SaleRequest,
    name: &str,
    seat_name: impl Fn(SeatNumber) -> String,
) -> Result<Picks<Option<SeatNumber>>, SellError> {
    let drawable: Vec<&Drawable> = usable.iter().map(|(d, _, _)| d).collect();
    if !request.seats.is_empty() {
        let picks = door_seats::assign(&drawable, &request.seats, seat_name)?;
        return Ok(picks
            .into_iter()
            .map(|(l, p)| (l, p.into_iter().map(|(s, n)| (s, Some(n))).collect()))
            .collect());
    }
    let places: Vec<&Drawable> = drawable.iter().copied().filter(|d| d.seats.is_none()).collect();
    if places.is_empty() && drawable.iter().any(|d| d.seats.is_some()) {
        return Err(SellError::SeatsRequired(name.to_owned()));
    }
    let quantity = usize::try_from(request.quantity).unwrap_or(usize::MAX);
    let left: usize = places.iter().map(|d| d.serials.len()).sum();
    if left < quantity {
        return Err(SellError::NotEnoughRights {
            name: name.to_owned(),
            left: u32::try_from(left).unwrap_or(u32::MAX),
        });
    }
    let mut remaining = quantity;
    let mut picks = Vec::new();
    for d in places {
        if remaining == 0 {
            break;
        }
        let take: Vec<(Serial, Option<SeatNumber>)> =
            d.serials.iter().take(remaining).map(|s| (*s, None)).collect();
        remaining -= take.len();
        picks.push((d.lease, take));
    }
    Ok(picks)
}

/// Seat `n` as staff say it ("Stalls · Row F · Seat 12"), from the event's published map.
pub(super) fn seat_name(state: &EventState, n: SeatNumber) -> String {
    state
        .seats
        .as_ref()
        .and_then(|(_, map)| map.name(n).map(|s| s.to_string()))
        .unwrap_or_else(|| format!("Seat no. {n}"))
}

fn check_request(request: &SaleRequest) -> Result<(), SellError> {
    if request.quantity == 0 || request.quantity > MAX_TICKETS_PER_SALE {
        return Err(SellError::Quantity);
    }
    check_payment(&request.payment)?;
    let code = request.voucher.as_deref().map(str::trim).unwrap_or_default();
    if code.len() > MAX_TEXT {
        return Err(SellError::Voucher("That is no voucher code: codes are up to 32 characters.".into()));
    }
    if !code.is_empty() && matches!(request.payment, PaymentMethod::Comp { .. }) {
        return Err(SellError::Invalid(
            "A comp is free already: take the voucher code off, or sell it for cash or card.".into(),
        ));
    }
    let distinct: std::collections::BTreeSet<_> = request.seats.iter().collect();
    if !request.seats.is_empty()
        && (request.seats.len() != usize::try_from(request.quantity).unwrap_or(usize::MAX)
            || distinct.len() != request.seats.len())
    {
        return Err(SellError::Invalid("Pick one seat per ticket, each once.".into()));
    }
    Ok(())
}

/// Prices `request` with the event's `manifest` and journal `state` for device `me` at `now`:
/// the list price, the voucher leased to `me` (if the request names one) and the automatic
/// discounts the hub published (without price tiers), through [`pricing::price`].
fn price_sale(
    manifest: &EventManifest,
    state: &EventState,
    me: crate::ids::DeviceId,
    request: &SaleRequest,
    now: Timestamp,
) -> Result<Quote, SellError> {
    let spec = manifest.ticket_type(request.ticket_type).ok_or(SellError::NoPrice)?;
    let quantity = i64::from(request.quantity);
    let (list, currency) = match (&request.payment, &spec.price) {
        (PaymentMethod::Comp { reason }, p) => {
            // Free, and its value and reason kept: a discount of the whole list price.
            let list = p.as_ref().map_or(0, |p| p.minor);
            let currency = p.as_ref().map_or_else(|| manifest_currency(manifest), |p| p.currency.clone());
            return Ok(Quote {
                ticket_type: request.ticket_type.0,
                quantity: request.quantity,
                list_minor: list,
                discount_minor: list * quantity,
                reason: format!("Comp: {}", reason.trim()),
                total_minor: 0,
                currency,
                voucher_uses: 0,
                voucher_lease: None,
            });
        }
        (_, Some(p)) => (p.minor, p.currency.clone()),
        (_, None) => return Err(SellError::NoPrice),
    };
    let code = request.voucher.as_deref().map(str::trim).filter(|c| !c.is_empty());
    let voucher = code.map(|code| leased_voucher(state, me, code, now)).transpose()?;
    let rules: Vec<pricing::Rule> = state
        .discounts
        .as_ref()
        .map(|(_, rules)| rules.iter().filter(|r| r.first.is_none()).cloned().collect())
        .unwrap_or_default();
    let item = Item {
        number: i64::from(request.ticket_type.0),
        quantity,
        list_price: list,
        hidden: false,
        taken_before: 0,
    };
    let terms = voucher.map(|(_, grant, _)| &grant.terms);
    let priced = pricing::price(&[item], terms, &rules, now.0).map_err(|refusal| {
        let code = terms.map(|t| t.code.as_str()).unwrap_or_default();
        SellError::Voucher(match refusal {
            Refusal::OverPerOrder { max } => format!("Code {code} covers at most {max} tickets per sale."),
            Refusal::NotApplicable | Refusal::Hidden { .. } => {
                format!("Code {code} does not apply to “{}”.", spec.name)
            }
        })
    })?;
    let line = priced.into_iter().next().unwrap_or_default();
    let uses = u32::try_from(line.voucher_uses).unwrap_or(u32::MAX);
    if let Some((_, grant, left)) = voucher
        && uses > left
    {
        return Err(SellError::Voucher(format!(
            "Code {} has only {left} uses left on this device.",
            grant.terms.code
        )));
    }
    Ok(Quote {
        ticket_type: request.ticket_type.0,
        quantity: request.quantity,
        list_minor: list,
        discount_minor: line.discount_minor,
        reason: line.reason,
        total_minor: list * quantity - line.discount_minor,
        currency,
        voucher_uses: uses,
        voucher_lease: voucher.filter(|_| uses > 0).map(|(id, _, _)| id),
    })
}

/// The voucher lease of this device for `code` (case-insensitive) with the most uses left now,
/// and how many; refused in words the cashier can act on.
fn leased_voucher<'a>(
    state: &'a EventState,
    me: crate::ids::DeviceId,
    code: &str,
    now: Timestamp,
) -> Result<(LeaseId, &'a VoucherGrant, u32), SellError> {
    let mine: Vec<(LeaseId, &VoucherGrant, u32)> = state
        .voucher_leases
        .iter()
        .filter_map(|(id, lease)| {
            let (_, grant) = lease.grant.as_ref().filter(|(_, g)| g.device == me)?;
            grant.terms.code.eq_ignore_ascii_case(code).then(|| {
                let live = !lease.returned && now <= grant.expires;
                (*id, grant, if live { grant.uses.saturating_sub(lease.used_count()) } else { 0 })
            })
        })
        .collect();
    let best = mine.into_iter().max_by_key(|(id, _, left)| (*left, std::cmp::Reverse(*id)));
    match best {
        None => Err(SellError::Voucher(format!(
            "Code {} is not on this device: the organizer can lease its uses to this box office.",
            code.to_uppercase()
        ))),
        Some((_, grant, 0)) => Err(SellError::Voucher(format!(
            "Code {} has no uses left on this device (used, returned or lapsed).",
            grant.terms.code
        ))),
        Some(found) => Ok(found),
    }
}

fn manifest_currency(manifest: &EventManifest) -> String {
    manifest
        .ticket_types
        .iter()
        .find_map(|t| t.price.as_ref().map(|p| p.currency.clone()))
        .unwrap_or_else(|| "EUR".into())
}

fn check_payment(payment: &PaymentMethod) -> Result<(), SellError> {
    match payment {
        PaymentMethod::Card { reference } if reference.trim().is_empty() => {
            Err(SellError::Invalid("Enter the card terminal's reference for this payment.".into()))
        }
        PaymentMethod::Comp { reason } if reason.trim().is_empty() => {
            Err(SellError::Invalid("Give a reason for the complimentary tickets.".into()))
        }
        PaymentMethod::Card { reference: t } | PaymentMethod::Comp { reason: t } if t.len() > MAX_TEXT => {
            Err(SellError::Invalid("Keep the reference under 200 characters.".into()))
        }
        _ => Ok(()),
    }
}

/// The lease's delegation, if the event key in the manifest signed it for this device's key.
fn verified_delegation(
    manifest: Option<&EventManifest>,
    lease: &LeaseState,
    device_key: [u8; 32],
) -> Option<SignedDelegation> {
    let (_, grant) = lease.grant.as_ref()?;
    let delegation = SignedDelegation::from_bytes(&grant.delegation).ok()?;
    let key = manifest?.keys.iter().find(|k| k.id == delegation.key_id)?;
    let d = &delegation.delegation.grant;
    let matches = d.device_key == device_key
        && d.first_serial <= grant.first_serial
        && grant.last_serial <= d.last_serial
        && d.ticket_types.contains(&grant.ticket_type)
        && manifest.is_some_and(|m| m.event == delegation.event);
    (matches && delegation.is_signed_by(&key.key)).then_some(delegation)
}

fn view(
    id: LeaseId,
    lease: &LeaseState,
    grant: &crate::journal::LeaseGrant,
    verified: bool,
    now: Timestamp,
) -> LeaseView {
    let size = grant.last_serial.0 - grant.first_serial.0 + 1;
    let sold = u32::try_from(lease.sold.len()).unwrap_or(u32::MAX);
    let expires = lease.expires.unwrap_or(grant.expires);
    let status = if !verified {
        LeaseStatus::Invalid
    } else if lease.returned_from.is_some() {
        LeaseStatus::Returned
    } else if sold >= size {
        LeaseStatus::SoldOut
    } else if now > expires {
        LeaseStatus::Expired
    } else {
        LeaseStatus::Active
    };
    LeaseView {
        lease: id.0,
        ticket_type: grant.ticket_type.0,
        first_serial: grant.first_serial.0,
        last_serial: grant.last_serial.0,
        sold,
        voided: u32::try_from(lease.voided.len()).unwrap_or(u32::MAX),
        left: if status == LeaseStatus::Active { size.saturating_sub(sold) } else { 0 },
        seats: u32::try_from(lease.seats.len()).unwrap_or(u32::MAX),
        expires,
        status,
    }
}
