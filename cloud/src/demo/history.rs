//! A believable first look for `serve --demo`: the festival with a past, made through the same
//! doors real ones use — orders placed through the public checkout API and paid through the
//! simulated provider, two refunded from the organizer's session, gate scanners and a box
//! office enrolled with codes, scans at every gate over the last three hours (entries, exits
//! and re-entries), one ticket admitted twice at two lanes that could not see each other (a
//! double admission), and a box-office shift sold and closed — each device syncing over HTTP
//! as an app would. Made once: a festival with orders is left as it is.
//!
//! The devices' replicas stay in `<data_dir>/demo-devices/`, so they could be synced again.

use super::{DEMO_EMAIL, DEMO_PASSWORD, Demo};
use crate::devices::{DeviceRole, create_enrollment_code};
use crate::state::AppState;
use anyhow::{Context, anyhow};
use serde_json::{Value, json};
use std::sync::Arc;
use sync_core::ids::{EventId, GateId, TicketTypeId, Timestamp};
use sync_core::journal::{HUB, PaymentMethod};
use sync_core::keys::DeviceKey;
use sync_core::manifest::Direction;
use sync_core::replica::{Replica, SaleRequest};
use sync_core::sync::http::enroll::{Invitation, create_replica, enroll};
use sync_core::sync::http::{HttpTransport, LEASES_PATH, LeaseGranted, LeaseRequest};
use sync_core::sync::sync_with;
use sync_core::validate::ScanContext;

/// The buyers: (name, tickets of type 1, 2, 3).
const BUYERS: &[(&str, [u32; 3])] = &[
    ("Anna de Vries", [2, 0, 0]),
    ("Jonas Becker", [0, 2, 0]),
    ("Sophie Janssen", [1, 0, 0]),
    ("Lukas Schneider", [4, 0, 0]),
    ("Emma Bakker", [0, 0, 2]),
    ("Noah Visser", [2, 1, 0]),
    ("Mia Hoffmann", [3, 0, 0]),
    ("Daan Smit", [0, 2, 0]),
    ("Lea Wagner", [2, 0, 0]),
    ("Sem Meijer", [1, 0, 1]),
    ("Julia Mulder", [0, 3, 0]),
    ("Finn de Boer", [2, 0, 0]),
    ("Lotte Dekker", [1, 0, 0]),
    ("Max Fischer", [0, 1, 0]),
    ("Sara Brouwer", [4, 0, 0]),
    ("Levi van Dijk", [2, 0, 0]),
    ("Nina Weber", [0, 2, 0]),
    ("Milan Vos", [1, 0, 0]),
    ("Tess Peters", [0, 0, 2]),
    ("Ben Hendriks", [3, 0, 0]),
    ("Zoë van Leeuwen", [2, 0, 0]),
    ("Paul Koch", [0, 2, 0]),
    ("Eva Jacobs", [1, 0, 0]),
    ("Thijs de Groot", [2, 1, 0]),
];
/// Three hours, in ms: how far back the gates' scans go.
const HOURS_3: i64 = 3 * 3_600_000;

/// A signed-in organizer: the session cookie and its CSRF token.
struct Session {
    cookie: String,
    csrf: String,
}

/// Gives the demo festival its history, unless it has orders already.
/// `url` is where the hub serves (it must be serving); the devices' replicas go to
/// `data_dir/demo-devices`.
pub async fn seed_history(
    state: &AppState,
    demo: &Demo,
    url: &str,
    data_dir: &std::path::Path,
) -> anyhow::Result<()> {
    let mut tx = state.db.tenant(demo.org_id).await?;
    let orders: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM orders WHERE event_id = $1 AND org_id = $2")
        .bind(demo.event_id)
        .bind(demo.org_id)
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    if orders > 0 {
        return Ok(());
    }
    let http = sync_core::sync::http::http_client()?;
    let event = demo.event_id;
    let session = log_in(&http, url).await?;
    let mut codes = Vec::new();
    for (i, (name, lines)) in BUYERS.iter().enumerate() {
        codes.push(buy(&http, url, event, i, name, lines).await?);
    }
    // Two refunds from the console's API: one whole order, one ticket of another.
    refund(&http, url, &session, &codes[2], None).await?;
    let first = order(&http, url, &session, &codes[5]).await?;
    refund(&http, url, &session, &codes[5], first["tickets"][0]["serial"].as_u64()).await?;
    // Every ticket still valid, as (serial, type number, text).
    let mut tickets = Vec::new();
    for code in &codes {
        let o = order(&http, url, &session, code).await?;
        for t in o["tickets"].as_array().into_iter().flatten().filter(|t| t["status"] == "valid") {
            let number = t["ticket_type"].as_u64().unwrap_or(1);
            tickets.push((
                t["serial"].as_u64().unwrap_or(0),
                number,
                t["text"].as_str().unwrap_or("").to_owned(),
            ));
        }
    }
    let dir = data_dir.join("demo-devices");
    std::fs::create_dir_all(&dir)?;
    let mut owner_tx = state.db.tenant(demo.org_id).await?;
    let owner: i64 = sqlx::query_scalar(
        "SELECT user_id FROM memberships WHERE org_id = $1 AND role = 'owner' ORDER BY user_id LIMIT 1",
    )
    .bind(demo.org_id)
    .fetch_one(&mut *owner_tx)
    .await?;
    let mut invitations = Vec::new();
    for (name, role) in [
        ("Main entrance A", DeviceRole::Gate),
        ("Main entrance B", DeviceRole::Gate),
        ("VIP entrance", DeviceRole::Gate),
        ("South exit", DeviceRole::Gate),
        ("Box office", DeviceRole::BoxOffice),
    ] {
        invitations.push(create_enrollment_code(&mut owner_tx, owner, name, role, &[event]).await?.0);
    }
    owner_tx.commit().await?;
    let mut devices = Vec::new();
    for code in &invitations {
        devices.push(enroll_device(&dir, url, code).await?);
    }
    for d in &devices {
        sync(d, url).await?;
    }
    for round in the_day(&tickets, state.clock.now_ms())? {
        scan(&devices, event, &round)?;
        for d in &devices[..4] {
            sync(d, url).await?;
        }
    }
    box_office_shift(&devices[4], url, event, state.clock.now()).await?;
    Ok(())
}

async fn log_in(http: &reqwest::Client, url: &str) -> anyhow::Result<Session> {
    let response = http
        .post(format!("{url}/api/v1/login"))
        .json(&json!({"email": DEMO_EMAIL, "password": DEMO_PASSWORD}))
        .send()
        .await?;
    let cookie = response
        .headers()
        .get("set-cookie")
        .and_then(|c| c.to_str().ok())
        .and_then(|c| c.split(';').next())
        .ok_or_else(|| anyhow!("the demo login gave no session"))?
        .to_owned();
    let body: Value = response.json().await?;
    let csrf = body["csrf_token"].as_str().ok_or_else(|| anyhow!("no CSRF token"))?.to_owned();
    Ok(Session { cookie, csrf })
}

/// Buyer `i` orders `lines` and pays through the simulated provider; the order's code.
async fn buy(
    http: &reqwest::Client,
    url: &str,
    event: i64,
    i: usize,
    name: &str,
    lines: &[u32; 3],
) -> anyhow::Result<String> {
    let lines: Vec<Value> = (1..)
        .zip(lines)
        .filter(|(_, n)| **n > 0)
        .map(|(t, n)| json!({"ticket_type": t, "quantity": n}))
        .collect();
    let email = format!("{}@example.org", name.split_whitespace().next().unwrap_or("fan").to_lowercase());
    let key = format!("demo-{i}");
    let placed: Value = http
        .post(format!("{url}/api/v1/public/events/{event}/orders"))
        .header("idempotency-key", &key)
        .json(&json!({"lines": lines, "email": email, "name": name}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let code = placed["code"].as_str().context("an order code")?.to_owned();
    let secret = placed["secret"].as_str().context("an order secret")?;
    let payment: Value = http
        .post(format!("{url}/api/v1/public/orders/{code}/{secret}/payments"))
        .header("idempotency-key", &key)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let page = payment["checkout_url"].as_str().context("a checkout page")?;
    http.post(format!("{page}/pay")).send().await?.error_for_status()?;
    Ok(code)
}

async fn order(http: &reqwest::Client, url: &str, s: &Session, code: &str) -> anyhow::Result<Value> {
    let response = http.get(format!("{url}/api/v1/orders/{code}")).header("cookie", &s.cookie).send().await?;
    Ok(response.error_for_status()?.json().await?)
}

async fn refund(
    http: &reqwest::Client,
    url: &str,
    s: &Session,
    code: &str,
    serial: Option<u64>,
) -> anyhow::Result<()> {
    let mut body = json!({"reason": "the buyer cannot come"});
    if let Some(serial) = serial {
        body["serials"] = json!([serial]);
    }
    http.post(format!("{url}/api/v1/orders/{code}/refunds"))
        .header("cookie", &s.cookie)
        .header("x-csrf-token", &s.csrf)
        .json(&body)
        .send()
        .await?
        .error_for_status()?;
    Ok(())
}

async fn enroll_device(dir: &std::path::Path, url: &str, code: &str) -> anyhow::Result<Arc<Replica>> {
    let key = DeviceKey::generate()?;
    let invitation = Invitation::parse(code, Some(url)).map_err(|e| anyhow!("{e}"))?;
    let enrollment = enroll(&invitation, &key, "demo").await.map_err(|e| anyhow!("{e}"))?;
    let path = dir.join(format!("device-{}.db", enrollment.device.0));
    Ok(Arc::new(create_replica(&path, &enrollment, key).map_err(|e| anyhow!("{e}"))?))
}

async fn sync(device: &Arc<Replica>, url: &str) -> anyhow::Result<()> {
    let transport = HttpTransport::new(url, Arc::clone(device), HUB).map_err(|e| anyhow!("{e}"))?;
    sync_with(&**device, &transport).await.map_err(|e| anyhow!("{e}"))?;
    Ok(())
}

/// One scan of the demo's past: which device, at which gate, which way, when, what.
struct Scan<'a> {
    device: usize,
    gate: u16,
    direction: Direction,
    at: i64,
    text: &'a str,
}

/// The last three hours at the gates, in three rounds with a sync between them (gates talk
/// to each other through the hub): most tickets in (day and weekend tickets at the two
/// main-entrance lanes, VIP at its own entrance), and one day ticket shown at both lanes
/// minutes apart while neither had heard of the other (a double admission); then some weekend
/// and VIP guests out at the south exit; then back in.
fn the_day(tickets: &[(u64, u64, String)], now: i64) -> anyhow::Result<[Vec<Scan<'_>>; 3]> {
    let start = now - HOURS_3;
    let n = i64::try_from(tickets.len().max(1))?;
    let twice = tickets.iter().position(|t| t.1 == 1);
    let (mut entries, mut exits, mut returns) = (Vec::new(), Vec::new(), Vec::new());
    for (i, (serial, number, text)) in tickets.iter().enumerate() {
        if serial % 7 == 3 && Some(i) != twice {
            continue; // not here yet
        }
        // Arrivals over the three hours, busiest in the first.
        let step = HOURS_3 * i64::try_from(i)? / n;
        let at = start + step * step / HOURS_3 + i64::try_from(serial % 13)? * 20_000;
        let (device, gate) = match number {
            3 => (2, 2),
            _ => (usize::from(serial % 2 == 1), 1),
        };
        entries.push(Scan { device, gate, direction: Direction::Entry, at, text });
        if Some(i) == twice {
            entries.push(Scan {
                device: 1 - device,
                gate,
                direction: Direction::Entry,
                at: at + 4 * 60_000,
                text,
            });
        } else if *number >= 2 && serial % 4 == 1 && at + 50 * 60_000 < now {
            exits.push(Scan { device: 3, gate: 3, direction: Direction::Exit, at: at + 40 * 60_000, text });
            returns.push(Scan { device, gate, direction: Direction::Entry, at: at + 50 * 60_000, text });
        }
    }
    Ok([entries, exits, returns])
}

/// Scans `round` with the gate `devices`, offline.
fn scan(devices: &[Arc<Replica>], event: i64, round: &[Scan<'_>]) -> anyhow::Result<()> {
    let event_id = EventId(u32::try_from(event)?);
    for s in round {
        let device = &devices[s.device];
        let ctx = ScanContext {
            device: device.device(),
            gate: GateId(s.gate),
            direction: s.direction,
            now: Timestamp(s.at),
        };
        device.gate(event_id).scan(s.text, &ctx).map_err(|e| anyhow!("{e}"))?;
    }
    Ok(())
}

/// Sam's shift at the box office, `now`: rights for ten day tickets asked for, four sold (cash
/// and card), the shift closed with the cash counted.
async fn box_office_shift(desk: &Arc<Replica>, url: &str, event: i64, now: Timestamp) -> anyhow::Result<()> {
    let event_id = EventId(u32::try_from(event)?);
    let transport = HttpTransport::new(url, Arc::clone(desk), HUB).map_err(|e| anyhow!("{e}"))?;
    let request = LeaseRequest { event: event_id, ticket_type: TicketTypeId(1), quantity: 10 };
    let _granted: LeaseGranted = transport.call(LEASES_PATH, &request).await.map_err(|e| anyhow!("{e}"))?;
    sync(desk, url).await?;
    let office = desk.box_office(event_id);
    office.open_shift_with("Sam", 10_000).map_err(|e| anyhow!("{e}"))?;
    let cash = |quantity| SaleRequest {
        ticket_type: TicketTypeId(1),
        quantity,
        payment: PaymentMethod::Cash,
        voucher: None,
        seats: Vec::new(),
    };
    office.sell(&cash(2), now).map_err(|e| anyhow!("{e}"))?;
    let card = SaleRequest { payment: PaymentMethod::Card { reference: "PIN 0412".into() }, ..cash(1) };
    office.sell(&card, now).map_err(|e| anyhow!("{e}"))?;
    office.sell(&cash(1), now).map_err(|e| anyhow!("{e}"))?;
    // 3 × 45.00 in cash on a 100.00 float.
    office.close_shift(10_000 + 13_500, now).map_err(|e| anyhow!("{e}"))?;
    sync(desk, url).await
}
