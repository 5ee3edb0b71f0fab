//! `serve --demo`: a demo organization to explore — an owner login, a festival on sale with
//! three ticket types and three gates — created once; and at every start a fresh enrollment
//! code, so a scanner can join straight away. Once the hub serves, [`history`] gives the
//! festival a past (unless `--bare`): orders, refunds, scans at every gate, a double admission,
//! a box-office shift.

pub mod history;

use crate::devices::{DeviceRole, create_enrollment_code};
use crate::error::ApiError;
use crate::events::{NewEvent, NewGate, NewTicketType, Policy, Serves, Status, create_event};
use crate::state::AppState;
use crate::tenancy::{NewOrganization, create_organization};

/// The demo owner's login.
pub const DEMO_EMAIL: &str = "owner@demo.voelgoed.invalid";
/// The demo owner's password (a demo: it is printed).
pub const DEMO_PASSWORD: &str = "voelgoed-demo";
/// A voucher of the demo festival: 10 % off, 100 uses.
pub const DEMO_VOUCHER: &str = "WELCOME10";

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
    entry_policy: Policy,
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
        description: String::new(),
        hidden: false,
        addon: false,
        includes: Vec::new(),
    }
}

fn festival(now: i64) -> NewEvent {
    let hour = 3_600_000;
    // Doors opened four hours ago and close in three days: tickets scan as valid right away,
    // and the demo's past (history.rs) has three hours of scans.
    NewEvent {
        name: "Voelgoed Summer Festival".into(),
        time_zone: "Europe/Amsterdam".into(),
        starts_at: now - 4 * hour,
        ends_at: now + 72 * hour,
        clock_skew_tolerance_secs: 300,
        language: crate::lang::Lang::En,
        description: "Three days of music on the river bank: four stages, sixty acts, food and drink from the city's kitchens.\n\nDoors open at 12:00 each day. Bring your ticket on your phone or printed; each code admits once.".into(),
        venue_name: "Westerpark".into(),
        venue_address: "Haarlemmerweg 8, Amsterdam".into(),
        gates: vec![
            NewGate { name: "Main entrance".into(), serves: Serves::Both },
            NewGate { name: "VIP entrance".into(), serves: Serves::Both },
            NewGate { name: "South exit".into(), serves: Serves::ExitOnly },
        ],
        ticket_types: vec![
            ticket_type("Day ticket", 4500, 5000, Policy::SingleEntry, vec![1, 3]),
            ticket_type("Weekend pass", 8500, 2000, Policy::ExitReentry, vec![1, 3]),
            ticket_type("VIP", 15000, 200, Policy::ExitReentry, vec![]),
        ],
    }
}

/// Creates the demo organization and festival unless they exist; returns them with a new
/// enrollment code.
pub async fn seed(state: &AppState) -> Result<Demo, ApiError> {
    let mut lookup = state.db.lookup().await?;
    let exists = crate::tenancy::store::first_owner_by_slug(&mut lookup, "demo").await?;
    lookup.commit().await?;
    let (org_id, owner) = if let Some(found) = exists {
        found
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
    let event_id = if let Some(first) = crate::events::store::events(&mut tx).await?.first() {
        first.id
    } else {
        let now = tx.now();
        let id = create_event(&mut tx, &state.master, state.hub_key.public_key(), &festival(now)).await?;
        crate::events::store::set_status(&mut tx, id, Status::Draft, Status::OnSale).await?;
        // A code to try in the shop.
        let terms: crate::vouchers::Terms = serde_json::from_value(
            serde_json::json!({"price": {"mode": "percent", "percent": 10}, "max_uses": 100, "tag": "demo"}),
        )
        .map_err(anyhow::Error::from)?;
        crate::vouchers::store::insert(&mut tx, id, &[DEMO_VOUCHER.to_owned()], &terms, "", "demo").await?;
        id
    };
    let (enrollment_code, _) =
        create_enrollment_code(&mut tx, owner, "Demo scanner", DeviceRole::Gate, &[event_id]).await?;
    tx.commit_and_notify(&state.notifier).await?;
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
         \x20 shop:             {url}/shop/{event}  (voucher {DEMO_VOUCHER}: 10 % off)\n\
         \x20 shop (REST):      POST {url}/api/v1/public/events/{event}/orders\n\
         \x20 payments:         simulated provider at {url}/sim-psp (no money moves)\n",
        org = demo.org_id,
        code = demo.enrollment_code,
        event = demo.event_id,
    )
}
