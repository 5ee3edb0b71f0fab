//! Events: venues, gates, ticket types, signing keys, status — and the manifest devices get.
//!
//! Creating an event generates its first Ed25519 signing key (sealed with the master key).
//! Every change devices must know of (keys, types, gates, the enrolled devices) publishes a new
//! manifest as a hub journal entry in the same transaction, so it reaches every device through
//! sync — pushed to connected ones at once.

mod edit;
mod routes;

use edit::routes as edit_routes;
pub use routes::routes;

use crate::crypto::MasterKey;
use crate::error::ApiError;
use crate::journal::append_hub_entry;
use crate::tenancy::now_ms;
use serde::{Deserialize, Serialize};
use sqlx::{Any, Row, Transaction};
use sync_core::ids::{DeviceId, EventId, GateId, KeyId, TicketTypeId};
use sync_core::journal::Payload;
use sync_core::keys::{EventKey, PublicEventKey, strict_public_key};
use sync_core::manifest::{
    DeviceName, EntryPolicy, EventManifest, GateDirections, GateSpec, MAX_CLOCK_SKEW_TOLERANCE_SECS,
    TicketTypeSpec,
};

/// Who sets events up.
const MANAGERS: &[crate::tenancy::Role] = &[crate::tenancy::Role::Owner, crate::tenancy::Role::Admin];

/// An event's lifecycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
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

    fn parse(s: &str) -> Option<Self> {
        [Self::Draft, Self::OnSale, Self::Live, Self::Ended, Self::Cancelled]
            .into_iter()
            .find(|x| x.as_str() == s)
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
}

/// A gate, as created.
#[derive(Clone, Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGate {
    /// Its name.
    pub name: String,
    /// Directions it serves.
    #[serde(default)]
    #[schema(value_type = String, example = "both")]
    pub serves: GateDirections,
}

/// A ticket type, as created.
#[derive(Clone, Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTicketType {
    /// Its name.
    pub name: String,
    /// Price in minor units (cents).
    pub price_minor: i64,
    /// ISO 4217 code, e.g. "EUR".
    pub currency: String,
    /// How many may be sold, online and at the door together.
    pub capacity: i64,
    /// Single entry, multi-entry, or exit and re-entry.
    #[schema(value_type = String, example = "single_entry")]
    pub entry_policy: EntryPolicy,
    /// Gate numbers (1-based, in the order the gates were given) it may use; empty = all.
    #[serde(default)]
    pub allowed_gates: Vec<u16>,
    /// Sales open (Unix ms); absent = when the event goes on sale.
    #[serde(default)]
    pub sales_start: Option<i64>,
    /// Sales close (Unix ms); absent = when the event ends.
    #[serde(default)]
    pub sales_end: Option<i64>,
}

/// An event, as created.
#[derive(Clone, Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEvent {
    /// Its name.
    pub name: String,
    /// IANA time zone of the venue, e.g. "Europe/Amsterdam".
    pub time_zone: String,
    /// Doors (Unix ms).
    pub starts_at: i64,
    /// End (Unix ms).
    pub ends_at: i64,
    /// Seconds of clock skew gates tolerate on validity windows (default 300, at most a day).
    #[serde(default = "default_tolerance")]
    pub clock_skew_tolerance_secs: u32,
    /// The gates, numbered 1, 2, 3 … in this order.
    pub gates: Vec<NewGate>,
    /// The ticket types, numbered 1, 2, 3 … in this order.
    pub ticket_types: Vec<NewTicketType>,
}

fn default_tolerance() -> u32 {
    300
}

fn text(field: &str, value: &str, max: usize) -> Result<(), ApiError> {
    if value.trim().is_empty() || value.len() > max {
        Err(ApiError::invalid(field, format!("1–{max} characters")))
    } else {
        Ok(())
    }
}

/// An event's name, zone and times, as created or edited.
fn check_event(name: &str, time_zone: &str, starts_at: i64, ends_at: i64) -> Result<(), ApiError> {
    text("name", name, 200)?;
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
    text(&field("name"), &t.name, 100)?;
    if t.price_minor < 0 || t.price_minor > 100_000_000 {
        return Err(ApiError::invalid(field("price_minor"), "0 to 100000000"));
    }
    if t.currency.len() != 3 || !t.currency.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(ApiError::invalid(field("currency"), "a three-letter ISO 4217 code such as EUR"));
    }
    if !(0..=10_000_000).contains(&t.capacity) {
        return Err(ApiError::invalid(field("capacity"), "0 to 10000000"));
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
    if e.clock_skew_tolerance_secs > MAX_CLOCK_SKEW_TOLERANCE_SECS {
        return Err(ApiError::invalid("clock_skew_tolerance_secs", "at most 86400"));
    }
    if e.gates.is_empty() || e.gates.len() > 200 {
        return Err(ApiError::invalid("gates", "1–200 gates"));
    }
    for (i, g) in e.gates.iter().enumerate() {
        text(&format!("gates[{i}].name"), &g.name, 100)?;
    }
    if e.ticket_types.is_empty() || e.ticket_types.len() > 200 {
        return Err(ApiError::invalid("ticket_types", "1–200 ticket types"));
    }
    for (i, t) in e.ticket_types.iter().enumerate() {
        check_type(|f| format!("ticket_types[{i}].{f}"), t, e.gates.len())?;
    }
    Ok(())
}

/// Creates an event (as a draft) with its gates, ticket types and first signing key, and
/// publishes its manifest. Returns the event id.
pub async fn create_event(
    tx: &mut Transaction<'static, Any>,
    master: &MasterKey,
    hub_key: [u8; 32],
    org: i64,
    new: &NewEvent,
) -> Result<i64, ApiError> {
    check(new)?;
    let now = now_ms();
    let event_id: i64 = sqlx::query(
        "INSERT INTO events (org_id, name, time_zone, starts_at, ends_at, status, clock_skew_tolerance_secs, next_serial, created_at) \
         VALUES ($1, $2, $3, $4, $5, 'draft', $6, 1, $7) RETURNING id",
    )
    .bind(org)
    .bind(new.name.trim())
    .bind(&new.time_zone)
    .bind(new.starts_at)
    .bind(new.ends_at)
    .bind(i64::from(new.clock_skew_tolerance_secs))
    .bind(now)
    .fetch_one(&mut **tx)
    .await?
    .get(0);
    if u32::try_from(event_id).is_err() {
        return Err(anyhow::anyhow!("event ids must fit 32 bits").into());
    }
    for (number, g) in (1i64..).zip(&new.gates) {
        insert_gate(tx, org, event_id, number, g).await?;
    }
    for (number, t) in (1i64..).zip(&new.ticket_types) {
        insert_type(tx, org, event_id, number, t).await?;
    }
    add_key(tx, master, org, event_id).await?;
    publish_manifest(tx, org, event_id, hub_key).await?;
    Ok(event_id)
}

/// Inserts ticket type `number` of the event.
async fn insert_type(
    tx: &mut Transaction<'static, Any>,
    org: i64,
    event_id: i64,
    number: i64,
    t: &NewTicketType,
) -> Result<(), ApiError> {
    let allowed: Vec<String> = t.allowed_gates.iter().map(ToString::to_string).collect();
    sqlx::query(
        "INSERT INTO ticket_types (org_id, event_id, number, name, price_minor, currency, capacity, sales_start, sales_end, entry_policy, allowed_gates) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(org)
    .bind(event_id)
    .bind(number)
    .bind(t.name.trim())
    .bind(t.price_minor)
    .bind(&t.currency)
    .bind(t.capacity)
    .bind(t.sales_start)
    .bind(t.sales_end)
    .bind(policy_str(t.entry_policy))
    .bind(allowed.join(","))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Inserts gate `number` of the event.
async fn insert_gate(
    tx: &mut Transaction<'static, Any>,
    org: i64,
    event_id: i64,
    number: i64,
    g: &NewGate,
) -> Result<(), ApiError> {
    sqlx::query("INSERT INTO gates (org_id, event_id, number, name, serves) VALUES ($1, $2, $3, $4, $5)")
        .bind(org)
        .bind(event_id)
        .bind(number)
        .bind(g.name.trim())
        .bind(serves_str(g.serves))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Generates the event's next signing key (rotation: older keys stay valid until retired).
pub async fn add_key(
    tx: &mut Transaction<'static, Any>,
    master: &MasterKey,
    org: i64,
    event_id: i64,
) -> Result<u8, ApiError> {
    let next: i64 = sqlx::query("SELECT COALESCE(MAX(key_id), 0) + 1 FROM event_keys WHERE event_id = $1")
        .bind(event_id)
        .fetch_one(&mut **tx)
        .await?
        .get(0);
    let key_id = u8::try_from(next).map_err(|_| ApiError::Conflict {
        code: "too_many_keys",
        message: "an event has at most 255 signing keys".into(),
    })?;
    let key =
        EventKey::generate(EventId(u32::try_from(event_id).map_err(anyhow::Error::from)?), KeyId(key_id))
            .map_err(anyhow::Error::from)?;
    let sealed = master.seal(&key.secret_seed(), &format!("event-key:{event_id}:{key_id}"))?;
    sqlx::query(
        "INSERT INTO event_keys (org_id, event_id, key_id, public_key, sealed_secret, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(org)
    .bind(event_id)
    .bind(i64::from(key_id))
    .bind(key.public().key.to_bytes().to_vec())
    .bind(sealed)
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;
    Ok(key_id)
}

/// The event's newest signing key, unsealed (to sign tickets and delegations).
pub async fn signing_key(
    tx: &mut Transaction<'static, Any>,
    master: &MasterKey,
    event_id: i64,
) -> Result<EventKey, ApiError> {
    let row = sqlx::query(
        "SELECT key_id, sealed_secret FROM event_keys WHERE event_id = $1 AND retired_at IS NULL ORDER BY key_id DESC LIMIT 1",
    )
    .bind(event_id)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(ApiError::NotFound)?;
    let key_id: i64 = row.get(0);
    let secret = master.open(&row.get::<Vec<u8>, _>(1), &format!("event-key:{event_id}:{key_id}"))?;
    let seed: [u8; 32] =
        secret.try_into().map_err(|_| anyhow::anyhow!("sealed event key is not 32 bytes"))?;
    let event = EventId(u32::try_from(event_id).map_err(anyhow::Error::from)?);
    Ok(EventKey::from_seed(event, KeyId(u8::try_from(key_id).map_err(anyhow::Error::from)?), seed))
}

fn serves_str(s: GateDirections) -> &'static str {
    match s {
        GateDirections::Both => "both",
        GateDirections::EntryOnly => "entry_only",
        GateDirections::ExitOnly => "exit_only",
    }
}

fn serves_parse(s: &str) -> GateDirections {
    match s {
        "entry_only" => GateDirections::EntryOnly,
        "exit_only" => GateDirections::ExitOnly,
        _ => GateDirections::Both,
    }
}

fn policy_str(p: EntryPolicy) -> &'static str {
    match p {
        EntryPolicy::SingleEntry => "single_entry",
        EntryPolicy::MultiEntry => "multi_entry",
        EntryPolicy::ExitReentry => "exit_reentry",
    }
}

fn policy_parse(s: &str) -> EntryPolicy {
    match s {
        "multi_entry" => EntryPolicy::MultiEntry,
        "exit_reentry" => EntryPolicy::ExitReentry,
        _ => EntryPolicy::SingleEntry,
    }
}

/// The manifest devices need for `event_id`, built from the database.
pub async fn manifest(
    tx: &mut Transaction<'static, Any>,
    org: i64,
    event_id: i64,
    hub_key: [u8; 32],
) -> Result<EventManifest, ApiError> {
    let event =
        sqlx::query("SELECT name, clock_skew_tolerance_secs FROM events WHERE id = $1 AND org_id = $2")
            .bind(event_id)
            .bind(org)
            .fetch_optional(&mut **tx)
            .await?
            .ok_or(ApiError::NotFound)?;
    let keys = sqlx::query("SELECT key_id, public_key FROM event_keys WHERE event_id = $1 AND retired_at IS NULL ORDER BY key_id")
        .bind(event_id)
        .fetch_all(&mut **tx)
        .await?
        .into_iter()
        .filter_map(|r| {
            let bytes: [u8; 32] = r.get::<Vec<u8>, _>(1).try_into().ok()?;
            Some(PublicEventKey { id: KeyId(u8::try_from(r.get::<i64, _>(0)).ok()?), key: strict_public_key(&bytes)? })
        })
        .collect();
    let gates = sqlx::query("SELECT number, name, serves FROM gates WHERE event_id = $1 ORDER BY number")
        .bind(event_id)
        .fetch_all(&mut **tx)
        .await?
        .into_iter()
        .filter_map(|r| {
            Some(GateSpec {
                id: GateId(u16::try_from(r.get::<i64, _>(0)).ok()?),
                name: r.get(1),
                serves: serves_parse(&r.get::<String, _>(2)),
            })
        })
        .collect();
    let ticket_types = sqlx::query("SELECT number, name, entry_policy, allowed_gates, price_minor, currency FROM ticket_types WHERE event_id = $1 ORDER BY number")
        .bind(event_id)
        .fetch_all(&mut **tx)
        .await?
        .into_iter()
        .filter_map(|r| {
            let allowed: String = r.get(3);
            let allowed_gates = (!allowed.is_empty())
                .then(|| allowed.split(',').filter_map(|g| g.parse().ok()).map(GateId).collect());
            Some(TicketTypeSpec {
                id: TicketTypeId(u16::try_from(r.get::<i64, _>(0)).ok()?),
                name: r.get(1),
                entry_policy: policy_parse(&r.get::<String, _>(2)),
                allowed_gates,
                price: Some(sync_core::manifest::Price { minor: r.get(4), currency: r.get(5) }),
            })
        })
        .collect();
    let mut devices: Vec<DeviceName> = vec![DeviceName {
        id: sync_core::journal::HUB,
        name: "hub".into(),
        public_key: strict_public_key(&hub_key),
    }];
    let rows = sqlx::query(
        "SELECT d.id, d.name, d.public_key FROM devices d JOIN device_events de ON de.device_id = d.id \
         WHERE de.event_id = $1 AND d.revoked_at IS NULL ORDER BY d.id",
    )
    .bind(event_id)
    .fetch_all(&mut **tx)
    .await?;
    for r in rows {
        let bytes: Option<[u8; 32]> = r.get::<Vec<u8>, _>(2).try_into().ok();
        if let (Ok(id), Some(bytes)) = (u32::try_from(r.get::<i64, _>(0)), bytes) {
            devices.push(DeviceName {
                id: DeviceId(id),
                name: r.get(1),
                public_key: strict_public_key(&bytes),
            });
        }
    }
    Ok(EventManifest {
        event: EventId(u32::try_from(event_id).map_err(anyhow::Error::from)?),
        name: event.get(0),
        keys,
        ticket_types,
        gates,
        devices,
        clock_skew_tolerance_secs: u32::try_from(event.get::<i64, _>(1)).unwrap_or(300),
    })
}

/// Publishes the event's current manifest to the organization's hub journal.
pub async fn publish_manifest(
    tx: &mut Transaction<'static, Any>,
    org: i64,
    event_id: i64,
    hub_key: [u8; 32],
) -> Result<(), ApiError> {
    let manifest = manifest(tx, org, event_id, hub_key).await?;
    manifest.check().map_err(|e| anyhow::anyhow!("{e}"))?;
    append_hub_entry(tx, org, event_id, Payload::Manifest(Box::new(manifest))).await?;
    Ok(())
}

/// Reads an event's status.
pub async fn status(tx: &mut Transaction<'static, Any>, org: i64, event_id: i64) -> Result<Status, ApiError> {
    let row = sqlx::query("SELECT status FROM events WHERE id = $1 AND org_id = $2")
        .bind(event_id)
        .bind(org)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(ApiError::NotFound)?;
    Status::parse(&row.get::<String, _>(0)).ok_or_else(|| anyhow::anyhow!("unknown status").into())
}
