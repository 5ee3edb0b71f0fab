//! Events: venues, gates, ticket types, signing keys, status — and the manifest devices get.
//!
//! Creating an event generates its first Ed25519 signing key (sealed with the master key).
//! Every change devices must know of (keys, types, gates, the enrolled devices) publishes a new
//! manifest as a hub journal entry in the same transaction, so it reaches every device through
//! sync — pushed to connected ones at once.
//!
//! | file | what |
//! |---|---|
//! | `store.rs` | the queries |
//! | `views.rs` | what the API answers and the console shows |
//! | `routes.rs` | creating, listing, reading, status, keys, the manifest |
//! | `edit.rs` | changing an event, its ticket types and gates after creation |

pub mod bundles;
mod edit;
mod routes;
pub mod store;
pub mod views;

pub use routes::{event_detail, routes};
pub use views::{EventDetail, EventSummary, GateView, Gates, TicketTypeView};

use crate::checks;
use crate::crypto::MasterKey;
use crate::db::Tenant;
use crate::error::ApiError;
use crate::journal::append_hub_entry;
use crate::lang::Lang;
use serde::{Deserialize, Serialize};
use sync_core::ids::{DeviceId, EventId, GateId, KeyId, TicketTypeId};
use sync_core::journal::Payload;
use sync_core::keys::{EventKey, PublicEventKey, strict_public_key};
use sync_core::manifest::{
    DeviceName, EntryPolicy, EventManifest, GateDirections, GateSpec, MAX_CLOCK_SKEW_TOLERANCE_SECS,
    TicketTypeSpec,
};
use utoipa::ToSchema;

/// Who sets events up.
pub const MANAGERS: &[crate::tenancy::Role] = &[crate::tenancy::Role::Owner, crate::tenancy::Role::Admin];

/// An event's lifecycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Being set up: not for sale.
    Draft,
    /// Tickets are sold.
    OnSale,
    /// Doors are open (sales may continue).
    Live,
    /// Over.
    Ended,
    /// Called off.
    Cancelled,
}

impl Status {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::OnSale => "on_sale",
            Self::Live => "live",
            Self::Ended => "ended",
            Self::Cancelled => "cancelled",
        }
    }

    /// As people read it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Draft => "Draft",
            Self::OnSale => "On sale",
            Self::Live => "Live",
            Self::Ended => "Ended",
            Self::Cancelled => "Cancelled",
        }
    }

    /// Whether an event may move from `self` to `to`: forward through draft → on sale → live →
    /// ended, or to cancelled from anything but ended.
    pub fn may_become(self, to: Self) -> bool {
        use Status::{Cancelled, Draft, Ended, Live, OnSale};
        matches!(
            (self, to),
            (Draft, OnSale) | (OnSale, Live) | (Live, Ended) | (Draft | OnSale | Live, Cancelled)
        )
    }

    /// Whether it may still change (not ended, not cancelled).
    pub fn is_open(self) -> bool {
        !matches!(self, Self::Ended | Self::Cancelled)
    }
}

impl TryFrom<String> for Status {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        [Self::Draft, Self::OnSale, Self::Live, Self::Ended, Self::Cancelled]
            .into_iter()
            .find(|x| x.as_str() == s)
            .ok_or_else(|| format!("unknown event status {s:?}"))
    }
}

/// Which directions a gate serves.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Serves {
    /// Entry and exit.
    #[default]
    Both,
    /// Entry only.
    EntryOnly,
    /// Exit only.
    ExitOnly,
}

impl Serves {
    /// As people read it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Both => "Entry and exit",
            Self::EntryOnly => "Entry only",
            Self::ExitOnly => "Exit only",
        }
    }
}

impl TryFrom<String> for Serves {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        match s.as_str() {
            "both" => Ok(Self::Both),
            "entry_only" => Ok(Self::EntryOnly),
            "exit_only" => Ok(Self::ExitOnly),
            _ => Err(format!("unknown gate directions {s:?}")),
        }
    }
}

impl From<Serves> for GateDirections {
    fn from(s: Serves) -> Self {
        match s {
            Serves::Both => Self::Both,
            Serves::EntryOnly => Self::EntryOnly,
            Serves::ExitOnly => Self::ExitOnly,
        }
    }
}

/// How a ticket type may pass the gates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Policy {
    /// Admitted once.
    SingleEntry,
    /// Admitted on every entry scan.
    MultiEntry,
    /// Leaves through an exit scan and may come back.
    ExitReentry,
}

impl Policy {
    /// As people read it.
    pub fn label(self) -> &'static str {
        match self {
            Self::SingleEntry => "Single entry",
            Self::MultiEntry => "Multi entry",
            Self::ExitReentry => "Exit and re-entry",
        }
    }

    /// As the API spells it.
    pub fn as_str(self) -> &'static str {
        policy_str(self)
    }
}

impl TryFrom<String> for Policy {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        match s.as_str() {
            "single_entry" => Ok(Self::SingleEntry),
            "multi_entry" => Ok(Self::MultiEntry),
            "exit_reentry" => Ok(Self::ExitReentry),
            _ => Err(format!("unknown entry policy {s:?}")),
        }
    }
}

impl From<Policy> for EntryPolicy {
    fn from(p: Policy) -> Self {
        match p {
            Policy::SingleEntry => Self::SingleEntry,
            Policy::MultiEntry => Self::MultiEntry,
            Policy::ExitReentry => Self::ExitReentry,
        }
    }
}

/// A gate, as created.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGate {
    /// Its name.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub name: String,
    /// Directions it serves.
    #[serde(default)]
    pub serves: Serves,
}

/// The largest price, in minor units.
pub const MAX_PRICE_MINOR: i64 = 100_000_000;
/// The largest capacity of a ticket type.
pub const MAX_CAPACITY: i64 = 10_000_000;

/// A ticket type, as created. `sales_end`, when both are given, must be after `sales_start`
/// (`x-after` in the schema).
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTicketType {
    /// Its name.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub name: String,
    /// Price in minor units (cents).
    #[schema(minimum = 0, maximum = 100_000_000)]
    pub price_minor: i64,
    /// ISO 4217 code, e.g. "EUR".
    #[schema(pattern = "^[A-Z]{3}$")]
    pub currency: String,
    /// How many may be sold, online and at the door together.
    #[schema(minimum = 0, maximum = 10_000_000)]
    pub capacity: i64,
    /// Single entry, multi-entry, or exit and re-entry.
    pub entry_policy: Policy,
    /// Gate numbers (1-based, in the order the gates were given) it may use; empty = all. Each
    /// must name one of the event's gates.
    #[serde(default)]
    #[schema(max_items = 200)]
    pub allowed_gates: Vec<u16>,
    /// Sales open (Unix ms); absent = when the event goes on sale.
    #[serde(default)]
    pub sales_start: Option<i64>,
    /// Sales close (Unix ms), after `sales_start`; absent = when the event ends.
    #[serde(default)]
    pub sales_end: Option<i64>,
    /// What the shop says of it under its name ("Standing, doors 19:00"); plain text.
    #[serde(default)]
    #[schema(max_length = 1000, pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$")]
    pub description: String,
    /// Sold only with a voucher that unlocks it: the shop does not show it otherwise.
    #[serde(default)]
    pub hidden: bool,
    /// An add-on (parking, merchandise): its own capacity and ticket, sold only in an order
    /// with a ticket of a type that is not an add-on.
    #[serde(default)]
    pub addon: bool,
    /// A bundle's parts: other ticket types of the event that one of it contains, taken from
    /// their capacity with it (a weekend pass: each day; a VIP package: parking and drinks,
    /// each issued as a ticket of its own). Empty: not a bundle. Parts are not bundles.
    #[serde(default)]
    #[schema(max_items = 10)]
    pub includes: Vec<bundles::Part>,
}

/// An event, as created. `ends_at` must be after `starts_at` (`x-after` in the schema).
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEvent {
    /// Its name.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub name: String,
    /// IANA time zone of the venue, e.g. "Europe/Amsterdam".
    #[schema(max_length = 64, pattern = "^[A-Za-z0-9/_+-]*/[A-Za-z0-9/_+-]*$")]
    pub time_zone: String,
    /// Doors (Unix ms).
    pub starts_at: i64,
    /// End (Unix ms), after `starts_at`.
    pub ends_at: i64,
    /// Seconds of clock skew gates tolerate on validity windows (default 300, at most a day).
    #[serde(default = "default_tolerance")]
    #[schema(maximum = 86_400)]
    pub clock_skew_tolerance_secs: u32,
    /// The language its shop opens in (a buyer's browser may choose another of en, de, nl)
    /// and its buyers' e-mails are written in. Default "en".
    #[serde(default)]
    pub language: Lang,
    /// What the shop says of it; plain text, blank lines between paragraphs.
    #[serde(default)]
    #[schema(max_length = 5000, pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$")]
    pub description: String,
    /// Where it is ("Paradiso").
    #[serde(default)]
    #[schema(max_length = 200, pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$")]
    pub venue_name: String,
    /// The venue's address ("Weteringschans 6-8, Amsterdam").
    #[serde(default)]
    #[schema(max_length = 300, pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$")]
    pub venue_address: String,
    /// The gates, numbered 1, 2, 3 … in this order.
    #[schema(min_items = 1, max_items = 200)]
    pub gates: Vec<NewGate>,
    /// The ticket types, numbered 1, 2, 3 … in this order. Their `allowed_gates` name gates of
    /// this list.
    #[schema(min_items = 1, max_items = 200)]
    pub ticket_types: Vec<NewTicketType>,
}

fn default_tolerance() -> u32 {
    300
}

/// What buyers read about an event, in the shop and in their e-mails.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct About {
    /// The language its shop opens in and its buyers' e-mails are written in.
    #[sqlx(try_from = "String")]
    pub language: Lang,
    /// What the shop says of it.
    pub description: String,
    /// Where it is.
    pub venue_name: String,
    /// The venue's address.
    pub venue_address: String,
}

impl NewEvent {
    /// What buyers read about it.
    pub fn about(&self) -> About {
        About {
            language: self.language,
            description: self.description.trim().to_owned(),
            venue_name: self.venue_name.trim().to_owned(),
            venue_address: self.venue_address.trim().to_owned(),
        }
    }
}

/// Checks what buyers read about an event.
fn check_about(about: &About) -> Result<(), ApiError> {
    checks::optional_text("description", &about.description, 5000)?;
    checks::optional_text("venue_name", &about.venue_name, 200)?;
    checks::optional_text("venue_address", &about.venue_address, 300)?;
    Ok(())
}

/// An event's name, zone and times, as created or edited.
fn check_event(name: &str, time_zone: &str, starts_at: i64, ends_at: i64) -> Result<(), ApiError> {
    checks::text("name", name, 200)?;
    let zone_ok = time_zone.len() <= 64
        && time_zone.contains('/')
        && time_zone.bytes().all(|b| b.is_ascii_alphanumeric() || b"/_+-".contains(&b));
    if !zone_ok {
        return Err(ApiError::invalid("time_zone", "an IANA time zone such as Europe/Amsterdam"));
    }
    if ends_at <= starts_at {
        return Err(ApiError::invalid("ends_at", "must be after starts_at"));
    }
    Ok(())
}

/// A ticket type, as created or edited; `field` names its fields in refusals ("name" or
/// "ticket_types[2].name"); the event has `gates` gates.
fn check_type(field: impl Fn(&str) -> String, t: &NewTicketType, gates: usize) -> Result<(), ApiError> {
    checks::text(&field("name"), &t.name, 100)?;
    checks::optional_text(&field("description"), &t.description, 1000)?;
    checks::range(&field("price_minor"), t.price_minor, 0, MAX_PRICE_MINOR)?;
    checks::currency(&field("currency"), &t.currency)?;
    checks::range(&field("capacity"), t.capacity, 0, MAX_CAPACITY)?;
    if t.allowed_gates.len() > 200 {
        return Err(ApiError::invalid(field("allowed_gates"), "at most 200"));
    }
    if let Some(bad) = t.allowed_gates.iter().find(|&&g| g == 0 || usize::from(g) > gates) {
        return Err(ApiError::invalid(field("allowed_gates"), format!("gate {bad} does not exist")));
    }
    if let (Some(start), Some(end)) = (t.sales_start, t.sales_end)
        && end <= start
    {
        return Err(ApiError::invalid(field("sales_end"), "must be after the sales open"));
    }
    Ok(())
}

fn check(e: &NewEvent) -> Result<(), ApiError> {
    check_event(&e.name, &e.time_zone, e.starts_at, e.ends_at)?;
    check_about(&e.about())?;
    if e.clock_skew_tolerance_secs > MAX_CLOCK_SKEW_TOLERANCE_SECS {
        return Err(ApiError::invalid("clock_skew_tolerance_secs", "at most 86400"));
    }
    if e.gates.is_empty() || e.gates.len() > 200 {
        return Err(ApiError::invalid("gates", "1–200 gates"));
    }
    for (i, g) in e.gates.iter().enumerate() {
        checks::text(&format!("gates[{i}].name"), &g.name, 100)?;
    }
    if e.ticket_types.is_empty() || e.ticket_types.len() > 200 {
        return Err(ApiError::invalid("ticket_types", "1–200 ticket types"));
    }
    let all = (1i64..).zip(&e.ticket_types).map(|(n, t)| (n, t.includes.clone())).collect();
    for ((i, t), number) in e.ticket_types.iter().enumerate().zip(1i64..) {
        check_type(|f| format!("ticket_types[{i}].{f}"), t, e.gates.len())?;
        let field = format!("ticket_types[{i}].includes");
        bundles::check(&field, number, &t.includes, &all, e.ticket_types.len())?;
    }
    Ok(())
}

/// Creates an event (as a draft) with its gates, ticket types and first signing key, and
/// publishes its manifest. Returns the event id.
pub async fn create_event(
    tx: &mut Tenant,
    master: &MasterKey,
    hub_key: [u8; 32],
    new: &NewEvent,
) -> Result<i64, ApiError> {
    check(new)?;
    let event_id = store::insert_event(
        tx,
        new.name.trim(),
        &new.time_zone,
        new.starts_at,
        new.ends_at,
        new.clock_skew_tolerance_secs,
    )
    .await?;
    store::set_about(tx, event_id, &new.about()).await?;
    if u32::try_from(event_id).is_err() {
        return Err(anyhow::anyhow!("event ids must fit 32 bits").into());
    }
    for (number, g) in (1i64..).zip(&new.gates) {
        store::insert_gate(tx, event_id, number, g).await?;
    }
    for (number, t) in (1i64..).zip(&new.ticket_types) {
        store::insert_type(tx, event_id, number, t).await?;
    }
    for (number, t) in (1i64..).zip(&new.ticket_types) {
        if !t.includes.is_empty() {
            bundles::set(tx, event_id, number, &t.includes).await?;
        }
    }
    add_key(tx, master, event_id).await?;
    publish_manifest(tx, event_id, hub_key).await?;
    Ok(event_id)
}

/// Generates the event's next signing key (rotation: older keys stay valid until retired).
pub async fn add_key(tx: &mut Tenant, master: &MasterKey, event_id: i64) -> Result<u8, ApiError> {
    let next = store::next_key_id(tx, event_id).await?;
    let key_id = u8::try_from(next).map_err(|_| ApiError::Conflict {
        code: "too_many_keys",
        message: "an event has at most 255 signing keys".into(),
    })?;
    let key =
        EventKey::generate(EventId(u32::try_from(event_id).map_err(anyhow::Error::from)?), KeyId(key_id))
            .map_err(anyhow::Error::from)?;
    let sealed = master.seal(&key.secret_seed(), &format!("event-key:{event_id}:{key_id}"))?;
    store::insert_key(tx, event_id, i64::from(key_id), &key.public().key.to_bytes(), &sealed).await?;
    Ok(key_id)
}

/// The event's newest signing key, unsealed (to sign tickets and delegations).
pub async fn signing_key(tx: &mut Tenant, master: &MasterKey, event_id: i64) -> Result<EventKey, ApiError> {
    let sealed = store::newest_key(tx, event_id).await?.ok_or(ApiError::NotFound)?;
    let key_id = sealed.key_id;
    let secret = master.open(&sealed.sealed_secret, &format!("event-key:{event_id}:{key_id}"))?;
    let seed: [u8; 32] =
        secret.try_into().map_err(|_| anyhow::anyhow!("sealed event key is not 32 bytes"))?;
    let event = EventId(u32::try_from(event_id).map_err(anyhow::Error::from)?);
    Ok(EventKey::from_seed(event, KeyId(u8::try_from(key_id).map_err(anyhow::Error::from)?), seed))
}

fn serves_str(s: Serves) -> &'static str {
    match s {
        Serves::Both => "both",
        Serves::EntryOnly => "entry_only",
        Serves::ExitOnly => "exit_only",
    }
}

fn policy_str(p: Policy) -> &'static str {
    match p {
        Policy::SingleEntry => "single_entry",
        Policy::MultiEntry => "multi_entry",
        Policy::ExitReentry => "exit_reentry",
    }
}

fn gates_str(gates: &[u16]) -> String {
    gates.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")
}

/// The manifest devices need for `event_id`, built from the database.
pub async fn manifest(tx: &mut Tenant, event_id: i64, hub_key: [u8; 32]) -> Result<EventManifest, ApiError> {
    let event = store::event(tx, event_id).await?.ok_or(ApiError::NotFound)?;
    let keys = store::public_keys(tx, event_id)
        .await?
        .into_iter()
        .filter_map(|k| {
            let bytes: [u8; 32] = k.public_key.try_into().ok()?;
            Some(PublicEventKey { id: KeyId(u8::try_from(k.key_id).ok()?), key: strict_public_key(&bytes)? })
        })
        .collect();
    let gates = store::gates(tx, event_id)
        .await?
        .into_iter()
        .filter_map(|g| {
            Some(GateSpec {
                id: GateId(u16::try_from(g.number).ok()?),
                name: g.name,
                serves: g.serves.into(),
            })
        })
        .collect();
    let ticket_types = store::ticket_types(tx, event_id)
        .await?
        .into_iter()
        .filter_map(|t| {
            Some(TicketTypeSpec {
                id: TicketTypeId(u16::try_from(t.number).ok()?),
                name: t.name,
                entry_policy: t.entry_policy.into(),
                allowed_gates: (!t.allowed_gates.0.is_empty())
                    .then(|| t.allowed_gates.0.into_iter().map(GateId).collect()),
                price: Some(sync_core::manifest::Price { minor: t.price_minor, currency: t.currency }),
            })
        })
        .collect();
    let mut devices: Vec<DeviceName> = vec![DeviceName {
        id: sync_core::journal::HUB,
        name: "hub".into(),
        public_key: strict_public_key(&hub_key),
    }];
    for d in store::manifest_devices(tx, event_id).await? {
        let bytes: Option<[u8; 32]> = d.public_key.try_into().ok();
        if let (Ok(id), Some(bytes)) = (u32::try_from(d.id), bytes) {
            devices.push(DeviceName {
                id: DeviceId(id),
                name: d.name,
                public_key: strict_public_key(&bytes),
            });
        }
    }
    Ok(EventManifest {
        event: EventId(u32::try_from(event_id).map_err(anyhow::Error::from)?),
        name: event.name,
        keys,
        ticket_types,
        gates,
        devices,
        clock_skew_tolerance_secs: u32::try_from(event.clock_skew_tolerance_secs).unwrap_or(300),
    })
}

/// Publishes the event's current manifest to the organization's hub journal.
pub async fn publish_manifest(tx: &mut Tenant, event_id: i64, hub_key: [u8; 32]) -> Result<(), ApiError> {
    let manifest = manifest(tx, event_id, hub_key).await?;
    manifest.check().map_err(|e| anyhow::anyhow!("{e}"))?;
    append_hub_entry(tx, event_id, Payload::Manifest(std::sync::Arc::new(manifest))).await?;
    Ok(())
}

/// Reads an event's status (404 for another organization's event).
pub async fn status(tx: &mut Tenant, event_id: i64) -> Result<Status, ApiError> {
    Ok(store::event(tx, event_id).await?.ok_or(ApiError::NotFound)?.status)
}
