//! The box-office desk: one enrolled device, its replica, settings and sync links — everything
//! the box office does, without Tauri (the commands are a thin layer over this).
//!
//! Selling never waits for the network: [`Desk::sell`] goes through sync-core's
//! [`BoxOffice`](sync_core::replica::BoxOffice), which commits the sale before the tickets
//! exist for the screen. The network is needed only to ask for more rights (and the lease then
//! arrives through sync); returning rights is a journal entry that travels when it can.
//! Enrollment, the settings file, the PIN and the sync links are the lifecycle both apps share
//! ([`app_core::device::Device`]); what is the box office's is here.

use crate::papers;
use crate::terminal::{CardTerminal, ManualEntry};
use app_core::clock::{date_time_of, display_clock, time_of};
use app_core::device::{Device, DeviceError, DeviceSettings};
use app_core::enrollment::Enrolled;
use app_core::links::{Badge, LinkConfig};
use app_core::pin::PinError;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use sync_core::documents::{DocId, GuestList};
use sync_core::hlc::Hlc;
use sync_core::ids::{EventId, SeatNumber, TicketTypeId, Timestamp};
use sync_core::journal::shift::{Method, ShiftReport};
use sync_core::journal::{HUB, LeaseId, PaymentMethod};
use sync_core::manifest::EventManifest;
use sync_core::replica::{
    BoxOffice, LeaseStatus, LeaseView, Quote, Replica, Sale, SaleRequest, SellError, VoucherLeaseView,
};
use sync_core::sync::http::{
    DOOR_EMAIL_PATH, DoorSaleEmail, HttpTransport, LEASES_PATH, LeaseGranted, LeaseRequest,
};
use sync_core::sync::sync_with;

pub use app_core::device::{REPLICA_FILE, SETTINGS_FILE};
use app_core::removed::Removed;

/// Where receipt PDFs are written, inside the data directory.
pub const RECEIPTS_DIR: &str = "receipts";
/// Where shift reports (PDF and CSV) are written, inside the data directory.
pub const SHIFTS_DIR: &str = "shifts";

/// What goes wrong, in words for the cashier: each says what to do.
#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    /// Enrolling failed.
    #[error(transparent)]
    Enroll(#[from] sync_core::sync::http::enroll::EnrollError),
    /// A wrong or malformed PIN.
    #[error(transparent)]
    Pin(#[from] PinError),
    /// Selling, voiding, shifts.
    #[error(transparent)]
    Sell(#[from] SellError),
    /// An action that needs enrollment first.
    #[error("This device is not enrolled yet: enter an enrollment code first.")]
    NotEnrolled,
    /// The organizer removed this device.
    #[error(
        "The organizer removed this device: it can no longer sell. Hand it to the organizer, or enroll it again with a new code."
    )]
    Removed,
    /// Enrolling a device that already is.
    #[error("This device is already enrolled. To move it to another hub, reinstall the app.")]
    AlreadyEnrolled,
    /// Selling before choosing an event.
    #[error("Choose the event first (Settings).")]
    NotConfigured,
    /// Cash tendered below the total.
    #[error("The cash tendered is less than the total.")]
    Tendered,
    /// The hub could not be asked (offline, or it refused).
    #[error("{0}")]
    Hub(String),
    /// A value out of range.
    #[error("{0}")]
    Invalid(String),
    /// The device's storage failed.
    #[error("This device could not save ({0}). Try again; if it persists, restart the app.")]
    Storage(String),
}

impl Serialize for DeskError {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl From<anyhow::Error> for DeskError {
    fn from(e: anyhow::Error) -> Self {
        Self::Storage(format!("{e:#}"))
    }
}

impl From<sync_core::replica::ReplicaError> for DeskError {
    fn from(e: sync_core::replica::ReplicaError) -> Self {
        Self::Storage(e.to_string())
    }
}

impl From<DeviceError> for DeskError {
    fn from(e: DeviceError) -> Self {
        match e {
            DeviceError::NotEnrolled => Self::NotEnrolled,
            DeviceError::AlreadyEnrolled => Self::AlreadyEnrolled,
            DeviceError::Removed => Self::Removed,
        }
    }
}

/// What the box office keeps besides its replica.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeskSettings {
    /// The hub this device enrolled with.
    pub hub_url: String,
    /// Its device id there.
    pub device: u32,
    /// The events it sells for.
    pub events: Vec<u32>,
    /// The chosen event.
    pub event: Option<u32>,
    /// An argon2id hash of the settings PIN.
    pub pin_hash: String,
    /// When the organizer last set the PIN from the console (Unix ms; 0: never).
    #[serde(default)]
    pub pin_set_at: i64,
}

impl DeviceSettings for DeskSettings {
    fn enrolled(enrolled: &Enrolled) -> Self {
        Self {
            hub_url: enrolled.hub_url.clone(),
            device: enrolled.device,
            events: enrolled.events.clone(),
            event: enrolled.only_event(),
            pin_hash: enrolled.pin_hash.clone(),
            pin_set_at: 0,
        }
    }

    fn device(&self) -> u32 {
        self.device
    }

    fn pin_hash(&self) -> &str {
        &self.pin_hash
    }

    fn pin_set_at(&self) -> i64 {
        self.pin_set_at
    }

    fn set_pin(&mut self, hash: String, set_at: i64) {
        (self.pin_hash, self.pin_set_at) = (hash, set_at);
    }

    /// The hub only: a box office has no peers.
    fn links(&self) -> LinkConfig {
        LinkConfig { hub_url: self.hub_url.clone(), ..LinkConfig::default() }
    }

    /// Receipts name the cashier; shift reports too, and every sale of the shift.
    const PERSONAL: &'static [&'static str] = &[RECEIPTS_DIR, SHIFTS_DIR];
}

/// The box office's whole state.
pub struct Desk {
    device: Device<DeskSettings>,
    last_checkin: AtomicU64,
    terminal: Box<dyn CardTerminal>,
}

/// A ticket type on the sale screen.
#[derive(Debug, Serialize)]
pub struct TypeRow {
    id: u16,
    name: String,
    price_minor: Option<i64>,
    currency: String,
    /// Rights left on this device's active leases.
    left: u32,
    /// Sold by seat here: this device holds an active seat lease of it.
    seated: bool,
}

/// The seat map as the sell screen draws it: the plan (`seatmap.js`'s format, each seat's id
/// its number) and the seats this desk may sell now.
#[derive(Debug, Serialize)]
pub struct SeatsShown {
    /// The drawing; `None` until the event's seat map has arrived.
    plan: Option<sync_core::seating::Plan>,
    /// Free in this device's active seat leases.
    mine: Vec<MineSeat>,
}

/// A seat this desk may sell.
#[derive(Debug, Serialize)]
pub struct MineSeat {
    seat: u16,
    ticket_type: u16,
}

/// A lease on the lease screen.
#[derive(Debug, Serialize)]
pub struct LeaseRow {
    #[serde(flatten)]
    view: LeaseView,
    type_name: String,
    expires_text: String,
}

/// A sale in the shift's list.
#[derive(Debug, Serialize)]
pub struct SaleRow {
    receipt: u64,
    time: String,
    type_name: String,
    quantity: usize,
    total_minor: i64,
    currency: String,
    method: &'static str,
    /// Why it cost less than its list price ("Voucher SPONSOR"); empty if it did not.
    reason: String,
    voided: bool,
}

/// The open shift, as the screen shows it.
#[derive(Debug, Serialize)]
pub struct ShiftStatus {
    opened: u64,
    cashier: String,
    float_minor: i64,
    expected_cash_minor: i64,
    sold_minor: i64,
    receipts: u32,
}

/// An event the device sells for.
#[derive(Debug, Serialize)]
pub struct EventChoice {
    id: u32,
    name: String,
}

/// Everything the screen shows.
#[derive(Debug, Default, Serialize)]
pub struct DeskStatus {
    enrolled: bool,
    /// The organizer removed this device: the screen says so, and nothing else.
    removed: Option<Removed>,
    device: Option<u32>,
    hub_url: Option<String>,
    events: Vec<EventChoice>,
    event: Option<u32>,
    /// An event chosen and its data on the device: the desk can sell.
    ready: bool,
    event_name: String,
    badge: Option<Badge>,
    shift: Option<ShiftStatus>,
    types: Vec<TypeRow>,
    leases: Vec<LeaseRow>,
    /// Voucher uses leased to this device.
    vouchers: Vec<VoucherRow>,
    sales: Vec<SaleRow>,
}

/// A voucher lease on the leases screen.
#[derive(Debug, Serialize)]
pub struct VoucherRow {
    #[serde(flatten)]
    view: VoucherLeaseView,
    /// When its uses lapse, on the venue's clock.
    expires_text: String,
}

/// How the cashier says it was paid.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentInput {
    /// "cash", "card" or "comp".
    pub method: String,
    /// Cash: the amount handed over (minor units); absent means exactly the total.
    #[serde(default)]
    pub tendered_minor: Option<i64>,
    /// Card: the terminal's reference. Comp: the reason.
    #[serde(default)]
    pub text: Option<String>,
    /// A voucher code the buyer shows (its uses leased to this device); absent or empty: none.
    #[serde(default)]
    pub voucher: Option<String>,
}

impl PaymentInput {
    /// The voucher code, if one was typed.
    fn voucher(&self) -> Option<String> {
        self.voucher.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned)
    }
}

/// One ticket on the hand-over screen.
#[derive(Debug, Serialize)]
pub struct TicketCode {
    serial: u32,
    /// Its seat ("Stalls · Row F · Seat 12"), if sold by seat.
    seat: Option<String>,
    text: String,
    /// The QR code as SVG markup (generated here, never from outside input).
    svg: String,
}

/// A sale as handed over: the tickets as codes, the change.
#[derive(Debug, Serialize)]
pub struct SaleShown {
    receipt: u64,
    time: String,
    type_name: String,
    total_minor: i64,
    currency: String,
    method: &'static str,
    change_minor: i64,
    voided: bool,
    tickets: Vec<TicketCode>,
}

/// A closed shift: the report and where its files were written.
#[derive(Debug, Serialize)]
pub struct ShiftClosed {
    report: ShiftReport,
    difference_minor: i64,
    pdf: String,
    csv: String,
}

/// A guest on the guest-list screen.
#[derive(Debug, Serialize)]
pub struct GuestRow {
    id: String,
    name: String,
    plus_ones: u32,
    checked_in: u32,
    /// People of the party still to come: the guest and their +1s, less those checked in.
    remaining: u32,
}

impl Desk {
    /// Opens the desk in `dir`, resuming an earlier enrollment and its sync if there was one.
    pub fn open(dir: PathBuf, app_version: &str, runtime: tokio::runtime::Handle) -> anyhow::Result<Self> {
        Ok(Self {
            device: Device::open(dir, app_version, runtime)?,
            last_checkin: AtomicU64::new(0),
            terminal: Box::new(ManualEntry),
        })
    }

    /// The replica and the chosen event's box office, or why there is none.
    fn office(&self) -> Result<(Arc<Replica>, BoxOffice, EventId), DeskError> {
        self.device.with(|device| {
            let event = EventId(device.settings.event.ok_or(DeskError::NotConfigured)?);
            Ok((Arc::clone(&device.replica), device.replica.box_office(event), event))
        })
    }

    /// The hub this device enrolled with.
    fn hub_url(&self) -> Result<String, DeskError> {
        self.device.with(|device| Ok(device.settings.hub_url.clone()))
    }

    /// Enrolls with the code in `text` (the QR text, or a code with `hub_url`), setting `pin`.
    pub async fn enroll(&self, text: &str, hub_url: Option<&str>, pin: &str) -> Result<(), DeskError> {
        self.device.enroll(text, hub_url, pin).await
    }

    /// Chooses the event to sell for (PIN required).
    pub fn choose_event(&self, pin: &str, event: u32) -> Result<(), DeskError> {
        self.device.change_settings(pin, |_, settings| {
            if !settings.events.contains(&event) {
                return Err(DeskError::Invalid("This device is not enrolled for that event.".into()));
            }
            settings.event = Some(event);
            Ok(())
        })
    }

    /// Checks the settings PIN.
    pub fn unlock(&self, pin: &str) -> Result<(), DeskError> {
        self.device.unlock(pin)
    }

    /// Opens a shift with `float_minor` in the drawer.
    pub fn open_shift(&self, cashier: &str, float_minor: i64) -> Result<(), DeskError> {
        let (_, office, _) = self.office()?;
        office.open_shift_with(cashier, float_minor)?;
        Ok(())
    }

    /// Sells (`seats`: one per ticket for a type sold by seat, else empty); the tickets come
    /// back only once the sale is durable. A card payment goes through the card terminal first
    /// ([`crate::terminal`]).
    pub fn sell(
        &self,
        ticket_type: u16,
        quantity: u32,
        seats: &[u16],
        payment: &PaymentInput,
        offset_minutes: i32,
    ) -> Result<SaleShown, DeskError> {
        let (replica, office, event) = self.office()?;
        let text = payment.text.clone().unwrap_or_default();
        // The price (with the voucher and discounts) and the change are checked before the
        // sale: a short payment or a code this device cannot redeem sells nothing.
        let manifest = replica.manifest(event).ok_or(DeskError::NotConfigured)?;
        office.open_shift().ok_or(SellError::NoShift)?;
        let voucher = payment.voucher();
        let total = || {
            let probe = SaleRequest {
                ticket_type: TicketTypeId(ticket_type),
                quantity,
                payment: PaymentMethod::Cash,
                voucher: voucher.clone(),
                seats: Vec::new(),
            };
            office.quote(&probe, Timestamp::now()).map(|q| q.total_minor)
        };
        let currency = manifest
            .ticket_type(TicketTypeId(ticket_type))
            .and_then(|t| t.price.as_ref())
            .map_or_else(String::new, |p| p.currency.clone());
        let mut tendered = 0;
        let method = match payment.method.as_str() {
            "cash" => {
                let expected_total = total()?;
                tendered = payment.tendered_minor.unwrap_or(expected_total);
                if tendered < expected_total {
                    return Err(DeskError::Tendered);
                }
                PaymentMethod::Cash
            }
            "card" => {
                // Shift and rights are checked before the card is charged, so a refused sale
                // never leaves a charged card behind.
                let left: u32 = office
                    .leases(Timestamp::now())
                    .iter()
                    .filter(|l| l.ticket_type == ticket_type)
                    .map(|l| l.left)
                    .sum();
                if left < quantity {
                    let name = type_name(&manifest, ticket_type);
                    return Err(SellError::NotEnoughRights { name, left }.into());
                }
                let reference =
                    self.terminal.charge(total()?, &currency, &text).map_err(DeskError::Invalid)?;
                PaymentMethod::Card { reference }
            }
            "comp" => PaymentMethod::Comp { reason: text.trim().to_owned() },
            other => return Err(DeskError::Invalid(format!("Unknown payment method {other:?}."))),
        };
        let request = SaleRequest {
            ticket_type: TicketTypeId(ticket_type),
            quantity,
            payment: method,
            voucher,
            seats: seats.iter().copied().map(SeatNumber).collect(),
        };
        let sale = office.sell(&request, Timestamp::now())?;
        let change =
            if matches!(sale.payment, PaymentMethod::Cash) { tendered - sale.total_minor } else { 0 };
        shown(&sale, &manifest, &office.seat_names(&sale.seats), change, offset_minutes)
    }

    /// What a sale would cost (the voucher's and the discounts' prices), before it is made.
    pub fn quote(&self, ticket_type: u16, quantity: u32, payment: &PaymentInput) -> Result<Quote, DeskError> {
        let (_, office, _) = self.office()?;
        let method = match payment.method.as_str() {
            "comp" => PaymentMethod::Comp { reason: "quote".into() },
            _ => PaymentMethod::Cash,
        };
        let request = SaleRequest {
            ticket_type: TicketTypeId(ticket_type),
            quantity,
            payment: method,
            voucher: payment.voucher(),
            seats: Vec::new(),
        };
        Ok(office.quote(&request, Timestamp::now())?)
    }

    /// Gives a voucher lease's unused uses back to the hub; how many.
    pub fn return_voucher(&self, lease: u64) -> Result<u32, DeskError> {
        let (_, office, _) = self.office()?;
        Ok(office.return_voucher(LeaseId(lease))?)
    }

    /// The seat map and the seats this desk may sell (offline: from its leases and the map the
    /// hub published).
    pub fn seats(&self) -> Result<SeatsShown, DeskError> {
        let (_, office, _) = self.office()?;
        let mine = office
            .free_seats(Timestamp::now())
            .into_iter()
            .map(|(t, n)| MineSeat { seat: n.0, ticket_type: t.0 })
            .collect();
        Ok(SeatsShown { plan: office.seat_drawing(), mine })
    }

    /// A sale of the open shift again (to show its codes once more).
    pub fn show_sale(&self, receipt: u64, offset_minutes: i32) -> Result<SaleShown, DeskError> {
        let (replica, office, event) = self.office()?;
        let manifest = replica.manifest(event).ok_or(DeskError::NotConfigured)?;
        let sale = office.sale(receipt, Timestamp::now())?;
        shown(&sale, &manifest, &office.seat_names(&sale.seats), 0, offset_minutes)
    }

    /// Voids a sale of the open shift.
    pub fn void(&self, receipt: u64) -> Result<(), DeskError> {
        let (_, office, _) = self.office()?;
        Ok(office.void(receipt)?)
    }

    /// Writes the receipt and tickets of a sale as a PDF; returns its path.
    pub fn receipt_pdf(&self, receipt: u64, offset_minutes: i32) -> Result<String, DeskError> {
        let (replica, office, event) = self.office()?;
        let manifest = replica.manifest(event).ok_or(DeskError::NotConfigured)?;
        let sale = office.sale(receipt, Timestamp::now())?;
        let cashier = office.shift_report(0, Timestamp::now()).map(|r| r.cashier).unwrap_or_default();
        let clock = display_clock(Timestamp::now(), offset_minutes);
        let seats = office.seat_names(&sale.seats);
        let bytes = papers::receipt(&sale, &manifest, &seats, replica.device(), &cashier, clock)?;
        let dir = self.device.dir().join(RECEIPTS_DIR);
        std::fs::create_dir_all(&dir).map_err(anyhow::Error::from)?;
        let path = dir.join(format!("receipt-{}-{receipt}.pdf", replica.device().0));
        std::fs::write(&path, bytes).map_err(anyhow::Error::from)?;
        Ok(path.display().to_string())
    }

    /// Closes the shift with the counted cash; writes the report as PDF and CSV.
    pub fn close_shift(&self, counted_minor: i64, offset_minutes: i32) -> Result<ShiftClosed, DeskError> {
        let (replica, office, event) = self.office()?;
        let manifest = replica.manifest(event).ok_or(DeskError::NotConfigured)?;
        let opened = office.open_shift().ok_or(SellError::NoShift)?;
        let report = office.close_shift(counted_minor, Timestamp::now())?;
        let clock = display_clock(Timestamp::now(), offset_minutes);
        let dir = self.device.dir().join(SHIFTS_DIR);
        std::fs::create_dir_all(&dir).map_err(anyhow::Error::from)?;
        let stem = dir.join(format!("shift-{}-{opened}", replica.device().0));
        let (pdf, csv) = (stem.with_extension("pdf"), stem.with_extension("csv"));
        std::fs::write(&pdf, papers::shift_report(&report, &manifest, replica.device(), clock)?)
            .map_err(anyhow::Error::from)?;
        std::fs::write(&csv, report.to_csv(|t| type_name(&manifest, t))).map_err(anyhow::Error::from)?;
        Ok(ShiftClosed {
            difference_minor: report.difference_minor(),
            report,
            pdf: pdf.display().to_string(),
            csv: csv.display().to_string(),
        })
    }

    /// Asks the hub for `quantity` more rights of `ticket_type` (online only); the lease
    /// arrives through sync within a moment.
    pub async fn request_rights(&self, ticket_type: u16, quantity: u32) -> Result<LeaseGranted, DeskError> {
        let (replica, _, event) = self.office()?;
        let transport =
            HttpTransport::new(&self.hub_url()?, replica, HUB).map_err(|e| DeskError::Hub(e.to_string()))?;
        let request = LeaseRequest { event, ticket_type: TicketTypeId(ticket_type), quantity };
        transport.call(LEASES_PATH, &request).await.map_err(|e| hub_error(e, "more rights can be asked for"))
    }

    /// E-mails a sale's tickets to the buyer through the hub (online only). The sale is
    /// synced first, so the hub holds it when it is asked.
    pub async fn email_sale(&self, receipt: u64, email: &str) -> Result<(), DeskError> {
        let (replica, office, event) = self.office()?;
        office.sale(receipt, Timestamp::now())?;
        let transport = HttpTransport::new(&self.hub_url()?, Arc::clone(&replica), HUB)
            .map_err(|e| DeskError::Hub(e.to_string()))?;
        sync_with(&*replica, &transport).await.map_err(|e| match e {
            sync_core::sync::SyncError::Transport(e @ sync_core::sync::TransportError::Revoked(_)) => {
                hub_error(e, "")
            }
            _ => DeskError::Hub(
                "The hub cannot be reached: tickets can be e-mailed once the device is online.".into(),
            ),
        })?;
        let request = DoorSaleEmail { event, receipt, email: email.trim().to_owned() };
        transport
            .call::<_, serde_json::Value>(DOOR_EMAIL_PATH, &request)
            .await
            .map_err(|e| hub_error(e, "tickets can be e-mailed"))?;
        Ok(())
    }

    /// Returns a lease's unsold rights to the hub; returns how many.
    pub fn return_lease(&self, lease: u64) -> Result<u32, DeskError> {
        let (_, office, _) = self.office()?;
        Ok(office.return_unsold(LeaseId(lease))?)
    }

    /// The guest list, filtered by `query` (case-insensitive, any part of the name).
    pub fn guests(&self, query: &str) -> Result<Vec<GuestRow>, DeskError> {
        let (replica, _, event) = self.office()?;
        let query = query.trim().to_lowercase();
        let guests = replica.read_doc(&DocId::guest_list(event), GuestList::guests);
        Ok(guests
            .into_iter()
            .filter(|g| query.is_empty() || g.name.to_lowercase().contains(&query))
            .map(|g| GuestRow {
                remaining: (g.plus_ones + 1).saturating_sub(g.checked_in),
                id: g.id,
                name: g.name,
                plus_ones: g.plus_ones,
                checked_in: g.checked_in,
            })
            .collect())
    }

    /// Checks `count` people of a guest's party in (the guest and up to their +1s).
    pub fn check_in(&self, guest: &str, count: u32) -> Result<(), DeskError> {
        let (replica, _, event) = self.office()?;
        let row = self
            .guests("")?
            .into_iter()
            .find(|g| g.id == guest)
            .ok_or_else(|| DeskError::Invalid("That guest is not on the list (any more).".into()))?;
        if count == 0 || count > row.remaining {
            return Err(DeskError::Invalid(format!(
                "{} has {} of {} places left.",
                row.name,
                row.remaining,
                row.plus_ones + 1
            )));
        }
        // The check-in's own key: this device and a clock that never repeats on it.
        let now = Hlc::from_time(Timestamp::now()).0;
        let hlc = self
            .last_checkin
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |last| Some(last.max(now - 1) + 1))
            .map_or(now, |last| last.max(now - 1) + 1)
            .max(replica.clock().0 + 1);
        replica.edit_doc(&DocId::guest_list(event), |doc| {
            GuestList::check_in(doc, guest, count, replica.device(), Hlc(hlc))
        })?;
        Ok(())
    }

    /// What the screen shows now.
    pub fn status(&self, offset_minutes: i32) -> DeskStatus {
        let guard = self.device.lock();
        let Some(device) = guard.as_ref() else {
            return DeskStatus { removed: self.device.removed(), ..DeskStatus::default() };
        };
        let s = &device.settings;
        let clock = display_clock(Timestamp::now(), offset_minutes);
        let manifests: Vec<(u32, Option<EventManifest>)> =
            s.events.iter().map(|&e| (e, device.replica.manifest(EventId(e)))).collect();
        let mut status = DeskStatus {
            enrolled: true,
            removed: None,
            device: Some(s.device),
            hub_url: Some(s.hub_url.clone()),
            events: manifests
                .iter()
                .map(|(id, m)| EventChoice {
                    id: *id,
                    name: m.as_ref().map_or_else(
                        || format!("Event {id} (waiting for the first sync)"),
                        |m| m.name.clone(),
                    ),
                })
                .collect(),
            event: s.event,
            badge: Some(device.badge()),
            ..DeskStatus::default()
        };
        let Some(manifest) =
            s.event.and_then(|e| manifests.iter().find(|(id, _)| *id == e)).and_then(|(_, m)| m.as_ref())
        else {
            return status;
        };
        status.ready = true;
        status.event_name.clone_from(&manifest.name);
        let office = device.replica.box_office(manifest.event);
        let leases = office.leases(Timestamp::now());
        status.types = manifest
            .ticket_types
            .iter()
            .map(|t| TypeRow {
                id: t.id.0,
                name: t.name.clone(),
                price_minor: t.price.as_ref().map(|p| p.minor),
                currency: t.price.as_ref().map_or_else(String::new, |p| p.currency.clone()),
                left: leases.iter().filter(|l| l.ticket_type == t.id.0).map(|l| l.left).sum(),
                seated: leases
                    .iter()
                    .any(|l| l.ticket_type == t.id.0 && l.seats > 0 && l.status == LeaseStatus::Active),
            })
            .collect();
        status.leases = leases
            .into_iter()
            .map(|view| LeaseRow {
                type_name: type_name(manifest, view.ticket_type),
                expires_text: date_time_of(view.expires, clock),
                view,
            })
            .collect();
        status.vouchers = office
            .vouchers(Timestamp::now())
            .into_iter()
            .map(|view| VoucherRow { expires_text: date_time_of(view.expires, clock), view })
            .collect();
        if let Some(opened) = office.open_shift()
            && let Ok(report) = office.shift_report(0, Timestamp::now())
        {
            status.shift = Some(ShiftStatus {
                opened,
                cashier: report.cashier.clone(),
                float_minor: report.float_minor,
                expected_cash_minor: report.expected_cash_minor,
                sold_minor: report.sold_minor() - report.voided_minor(),
                receipts: report.receipts,
            });
            status.sales = office
                .sales()
                .unwrap_or_default()
                .into_iter()
                .map(|sale| SaleRow {
                    receipt: sale.receipt,
                    time: time_of(sale.at, clock),
                    type_name: type_name(manifest, sale.ticket_type),
                    quantity: sale.serials.len(),
                    total_minor: sale.total_minor,
                    method: Method::of(&sale.payment).label(),
                    reason: sale.reason,
                    currency: sale.currency,
                    voided: sale.voided,
                })
                .collect();
        }
        status
    }

    /// Stops the sync tasks (the app is closing).
    pub fn shutdown(&self) {
        self.device.shutdown();
    }

    /// The replica, for tests.
    #[doc(hidden)]
    pub fn replica(&self) -> Option<Arc<Replica>> {
        self.device.replica()
    }
}

/// A failed call to the hub, in words: `later` says what can be done once online.
fn hub_error(e: sync_core::sync::TransportError, later: &str) -> DeskError {
    use sync_core::sync::TransportError;
    DeskError::Hub(match e {
        TransportError::Refused { message, .. } => format!("The hub refused: {message}"),
        TransportError::Unreachable(_) => {
            format!("The hub cannot be reached: {later} once the device is online.")
        }
        other @ TransportError::InvalidResponse(_) => {
            format!("The hub's answer could not be read ({other}).")
        }
        // The sync link acts on the notice (it retires the device) within a moment.
        TransportError::Revoked(_) => "The organizer removed this device.".into(),
    })
}

/// A ticket type's name, or "Type N" for one the manifest lacks.
pub fn type_name(manifest: &EventManifest, id: u16) -> String {
    manifest.ticket_type(TicketTypeId(id)).map_or_else(|| format!("Type {id}"), |t| t.name.clone())
}

fn shown(
    sale: &Sale,
    manifest: &EventManifest,
    seats: &[String],
    change_minor: i64,
    offset_minutes: i32,
) -> Result<SaleShown, DeskError> {
    let clock = display_clock(Timestamp::now(), offset_minutes);
    let tickets = sale
        .serials
        .iter()
        .zip(&sale.tickets)
        .enumerate()
        .map(|(i, (serial, text))| {
            let seat = seats.get(i).cloned();
            Ok(TicketCode { serial: *serial, seat, text: text.clone(), svg: print::qr_svg(text)? })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(SaleShown {
        receipt: sale.receipt,
        time: time_of(sale.at, clock),
        type_name: type_name(manifest, sale.ticket_type),
        total_minor: sale.total_minor,
        currency: sale.currency.clone(),
        method: Method::of(&sale.payment).label(),
        change_minor,
        voided: sale.voided,
        tickets,
    })
}
