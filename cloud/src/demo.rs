//! `serve --demo`: a demo organization to explore — an owner login, a festival on sale with
//! three ticket types and three gates — created once; and at every start a fresh enrollment
//! code, so a scanner can join straight away.

use crate::devices::{DeviceRole, create_enrollment_code};
use crate::error::ApiError;
use crate::events::{NewEvent, NewGate, NewTicketType, create_event};
use crate::server::AppState;
use crate::tenancy::{NewOrganization, create_organization, now_ms};
use sqlx::Row;
use sync_core::manifest::{EntryPolicy, GateDirections};

/// The demo owner's login.
pub const DEMO_EMAIL: &str = "owner@demo.voelgoed.invalid";
/// The demo owner's password (a demo: it is printed).
pub const DEMO_PASSWORD: &str = "voelgoed-demo";

/// What a demo visitor needs to start.
#[derive(Debug, Clone)]
pub struct Demo {
    /// The demo organization.
    pub org_id: i64,
    /// Its festival.
    pub event_id: i64,
    /// A fresh single-use code to enroll a gate scanner (valid 24 h).
    pub enrollment_code: String,
}

fn ticket_type(
    name: &str,
    price_minor: i64,
    capacity: i64,
    entry_policy: EntryPolicy,
    allowed_gates: Vec<u16>,
) -> NewTicketType {
    NewTicketType {
        name: name.into(),
        price_minor,
        currency: "EUR".into(),
        capacity,
        entry_policy,
        allowed_gates,
        sales_start: None,
        sales_end: None,
    }
}

fn festival() -> NewEvent {
    let hour = 3_600_000;
    // Doors opened an hour ago and close in three days: tickets scan as valid right away.
    let now = now_ms();
    NewEvent {
        name: "Voelgoed Summer Festival".into(),
        time_zone: "Europe/Amsterdam".into(),
        starts_at: now - hour,
        ends_at: now + 72 * hour,
        clock_skew_tolerance_secs: 300,
        gates: vec![
            NewGate { name: "Main entrance".into(), serves: GateDirections::Both },
            NewGate { name: "VIP entrance".into(), serves: GateDirections::Both },
            NewGate { name: "South exit".into(), serves: GateDirections::ExitOnly },
        ],
        ticket_types: vec![
            ticket_type("Day ticket", 4500, 5000, EntryPolicy::SingleEntry, vec![1, 3]),
            ticket_type("Weekend pass", 8500, 2000, EntryPolicy::ExitReentry, vec![1, 3]),
            ticket_type("VIP", 15000, 200, EntryPolicy::ExitReentry, vec![]),
        ],
    }
}

/// Creates the demo organization and festival unless they exist; returns them with a new
/// enrollment code.
pub async fn seed(state: &AppState) -> Result<Demo, ApiError> {
    let mut lookup = state.db.lookup().await?;
    let exists = sqlx::query(
        "SELECT o.id, m.user_id FROM organizations o JOIN memberships m ON m.org_id = o.id \
                              WHERE o.slug = 'demo' AND m.role = 'owner' ORDER BY m.user_id LIMIT 1",
    )
    .fetch_optional(&mut *lookup)
    .await?;
    lookup.commit().await?;
    let (org_id, owner) = if let Some(row) = exists {
        (row.get(0), row.get(1))
    } else {
        let new = NewOrganization {
            name: "Voelgoed Demo".into(),
            slug: "demo".into(),
            owner_email: DEMO_EMAIL.into(),
            owner_name: "Demo Owner".into(),
            owner_password: DEMO_PASSWORD.into(),
        };
        let created = create_organization(&state.db, &new).await?;
        (created.org_id, created.user_id)
    };
    let mut tx = state.db.tenant(org_id).await?;
    let existing = sqlx::query("SELECT id FROM events WHERE org_id = $1 ORDER BY id LIMIT 1")
        .bind(org_id)
        .fetch_optional(&mut *tx)
        .await?;
    let event_id = if let Some(row) = existing {
        row.get(0)
    } else {
        let id = create_event(&mut tx, &state.master, state.hub_public_key(), org_id, &festival()).await?;
        sqlx::query("UPDATE events SET status = 'on_sale' WHERE id = $1").bind(id).execute(&mut *tx).await?;
        id
    };
    let (enrollment_code, _) =
        create_enrollment_code(&mut tx, org_id, owner, "Demo scanner", DeviceRole::Gate, &[event_id]).await?;
    tx.commit().await?;
    state.notifier.notify(org_id);
    Ok(Demo { org_id, event_id, enrollment_code })
}

/// What `serve --demo` prints.
pub fn banner(public_url: &str, demo: &Demo) -> String {
    let url = public_url.trim_end_matches('/');
    format!(
        "Voelgoed hub — demo organization {org}\n\
         \x20 console:          {url}/\n\
         \x20 login:            {DEMO_EMAIL} / {DEMO_PASSWORD}\n\
         \x20 enrollment code:  {code}  (a gate scanner, single use, valid 24 h)\n\
         \x20 shop (REST):      POST {url}/api/v1/public/events/{event}/orders\n\
         \x20 payments:         simulated provider at {url}/sim-psp (no money moves)\n",
        org = demo.org_id,
        code = demo.enrollment_code,
        event = demo.event_id,
    )
}
