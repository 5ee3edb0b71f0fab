//! The live dashboard's delay: from a gate's sync bringing a check-in to the hub until the
//! console's server-sent event carries it (issue 7: within 150 ms).
//!
//! A hub on SQLite (the embedded default) on loopback, one enrolled gate (a real sync-core
//! replica with its key), and the dashboard's stream read by an HTTP client with an
//! organizer's session. Each round the gate records one admission and syncs; the clock runs
//! from the start of that sync (so it includes the gate's signed request, the hub's commit
//! and materialization, and the answer) until the stream delivers a snapshot that counts it.
//! The time after the sync has returned — the hub's own notify → query → send — is reported
//! too.
//!
//! Run: `cargo bench -p voelgoed-cloud --bench dashboard_push`.
#![allow(missing_docs, clippy::cast_precision_loss)] // figures printed as floats

use cloud::server::serve;
use cloud::state::AppState;
use cloud::tenancy::{NewOrganization, create_organization};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Instant;
use sync_core::ids::{EventId, GateId, Serial, TicketTypeId, Timestamp};
use sync_core::journal::{HUB, Payload, ScanEntry, ScannedTicket};
use sync_core::keys::DeviceKey;
use sync_core::manifest::{Direction, EntryPolicy};
use sync_core::sync::http::HttpTransport;
use sync_core::sync::http::enroll::{Invitation, create_replica, enroll};
use sync_core::sync::sync_with;
use sync_core::verdict::VerdictKind;

#[path = "support/sse.rs"]
mod sse;
use sse::{Events, percentile};

const ROUNDS: usize = 300;
const PASSWORD: &str = "a long enough password";

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let mut config = cloud::config::Config::defaults();
    config.data_dir = dir.path().to_owned();
    config.public_url = url.clone();
    let state = AppState::build(&config, cloud::clock::Clock::wall()).await.unwrap();
    let db = state.db.clone();
    tokio::spawn(serve(listener, state, std::future::pending()));
    let new = NewOrganization {
        name: "Bench".into(),
        slug: "bench".into(),
        owner_email: "o@bench.example".into(),
        owner_name: "O".into(),
        owner_password: PASSWORD.into(),
    };
    create_organization(&db, &new).await.unwrap();
    let client = sync_core::sync::http::http_client().unwrap();
    let login = client
        .post(format!("{url}/api/v1/login"))
        .json(&json!({"email": "o@bench.example", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let cookie = login.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let csrf = login.json::<Value>().await.unwrap()["csrf_token"].as_str().unwrap().to_owned();
    let post = |path: &str, body: Value| {
        client
            .post(format!("{url}{path}"))
            .header("cookie", &cookie)
            .header("x-csrf-token", &csrf)
            .json(&body)
            .send()
    };
    let now = Timestamp::now().0;
    let event = json!({"name": "Bench", "time_zone": "Europe/Amsterdam", "starts_at": now - 3_600_000,
        "ends_at": now + 86_400_000, "gates": [{"name": "Main"}],
        "ticket_types": [{"name": "Day", "price_minor": 0, "currency": "EUR", "capacity": 100_000, "entry_policy": "single_entry"}]});
    let event =
        post("/api/v1/events", event).await.unwrap().json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let code =
        post("/api/v1/devices/enrollment-codes", json!({"name": "Gate", "role": "gate", "events": [event]}))
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap();
    let key = DeviceKey::generate().unwrap();
    let invitation = Invitation::parse(code["qr_text"].as_str().unwrap(), None).unwrap();
    let enrollment = enroll(&invitation, &key, "bench").await.unwrap();
    let gate = Arc::new(create_replica(&dir.path().join("gate.db"), &enrollment, key).unwrap());
    let transport = HttpTransport::new(&url, Arc::clone(&gate), HUB).unwrap();
    sync_with(&*gate, &transport).await.unwrap();

    let stream = client
        .get(format!("{url}/events/{event}/live/stream"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    let mut events = Events { response: stream, buffer: String::new() };
    assert_eq!(events.next().await["admitted"], 0);

    let event_id = EventId(u32::try_from(event).unwrap());
    let (mut from_sync, mut after_sync) = (Vec::new(), Vec::new());
    for round in 1..=ROUNDS {
        let scan = ScanEntry {
            gate: GateId(1),
            direction: Direction::Entry,
            at: Timestamp::now(),
            verdict: VerdictKind::Admitted,
            ticket: Some(ScannedTicket {
                serial: Serial(u32::try_from(round).unwrap()),
                ticket_type: TicketTypeId(1),
                policy: Some(EntryPolicy::SingleEntry),
            }),
        };
        gate.record(event_id, Payload::Scan(scan)).unwrap();
        let started = Instant::now();
        sync_with(&*gate, &transport).await.unwrap();
        let synced = Instant::now();
        // Snapshots for earlier changes may still arrive: wait for the one that counts this.
        while events.next().await["admitted"].as_u64() != Some(round as u64) {}
        from_sync.push(started.elapsed());
        after_sync.push(synced.elapsed());
    }
    for (what, mut d) in [("sync start → dashboard", from_sync), ("sync answered → dashboard", after_sync)]
    {
        d.sort();
        println!(
            "{what}: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({ROUNDS} check-ins)",
            percentile(&d, 500),
            percentile(&d, 990),
            percentile(&d, 1000)
        );
    }
}
