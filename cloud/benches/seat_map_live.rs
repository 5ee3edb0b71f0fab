//! The live seat map's delay: from a buyer's hold until every open shop map hears of it
//! (issue 22: within 150 ms on a local hub).
//!
//! A hub on SQLite (the embedded default) on loopback, an event sold by seat (a hall of 500
//! seats), and `VIEWERS` shop pages' streams (`/shop/{event}/seats/live`) read by an HTTP
//! client. Each round one buyer places an order for one named seat through the public
//! checkout; the clock runs from just before that request until each viewer's stream carries
//! the seat as held — so it includes checkout's transaction, the seat bell, each stream's
//! read and the event on the wire. Reported over every (round, viewer): p50, p99, max.
//!
//! Run: `cargo bench -p voelgoed-cloud --bench seat_map_live`.
#![allow(missing_docs, clippy::cast_precision_loss)] // figures printed as floats

use cloud::server::serve;
use cloud::state::AppState;
use cloud::tenancy::{NewOrganization, create_organization};
use serde_json::{Value, json};
use std::time::Instant;
use sync_core::ids::Timestamp;

#[path = "support/sse.rs"]
mod sse;
use sse::{Events, percentile};

const VIEWERS: usize = 50;
const ROUNDS: usize = 200;
const ROWS: usize = 20;
const PER_ROW: usize = 25;
const PASSWORD: &str = "a long enough password";

fn hall() -> Value {
    let rows: Vec<Value> = (0..ROWS)
        .map(|r| {
            let seats: Vec<_> = (0..PER_ROW)
                .map(|s| json!({"id": format!("{r}-{s}"), "label": (s + 1).to_string(), "x": 20 + 30 * s, "y": 60 + 30 * r, "category": "stalls"}))
                .collect();
            json!({"label": (r + 1).to_string(), "seats": seats})
        })
        .collect();
    json!({"name": "Hall", "size": {"width": 40 + 30 * PER_ROW, "height": 100 + 30 * ROWS},
           "categories": [{"name": "stalls", "color": "#c33"}], "sections": [{"name": "Stalls", "rows": rows}]})
}

/// A hub on SQLite serving on loopback, with an event on sale sold by seat from [`hall`]: its
/// data directory (keep it), its URL and the event.
async fn hub_with_a_seated_event() -> (tempfile::TempDir, String, i64) {
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let mut config = cloud::config::Config::defaults();
    config.data_dir = dir.path().to_owned();
    config.public_url = url.clone();
    config.checkouts_per_minute = u32::MAX;
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
    let client = reqwest::Client::new();
    let login = client
        .post(format!("{url}/api/v1/login"))
        .json(&json!({"email": "o@bench.example", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let cookie = login.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let csrf = login.json::<Value>().await.unwrap()["csrf_token"].as_str().unwrap().to_owned();
    let send = |method: reqwest::Method, path: &str, body: Value| {
        client
            .request(method, format!("{url}{path}"))
            .header("cookie", &cookie)
            .header("x-csrf-token", &csrf)
            .json(&body)
            .send()
    };
    let now = Timestamp::now().0;
    let event = json!({"name": "Bench", "time_zone": "Europe/Amsterdam", "starts_at": now + 3_600_000,
        "ends_at": now + 86_400_000, "gates": [{"name": "Main"}],
        "ticket_types": [{"name": "Seat", "price_minor": 5000, "currency": "EUR", "capacity": 500, "entry_policy": "single_entry"}]});
    let made = |response: reqwest::Response| async move {
        response.json::<Value>().await.unwrap()["id"].as_i64().expect("made, with its id")
    };
    let event = made(send(reqwest::Method::POST, "/api/v1/events", event).await.unwrap()).await;
    let plan = made(send(reqwest::Method::POST, "/api/v1/seat-plans", hall()).await.unwrap()).await;
    let seating = json!({"plan": plan, "categories": {"stalls": 1}});
    let assigned =
        send(reqwest::Method::PUT, &format!("/api/v1/events/{event}/seating"), seating).await.unwrap();
    assert!(assigned.status().is_success());
    let published =
        send(reqwest::Method::POST, &format!("/api/v1/events/{event}/status"), json!({"status": "on_sale"}))
            .await
            .unwrap();
    assert!(published.status().is_success(), "{}", published.text().await.unwrap());
    (dir, url, event)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let (_dir, url, event) = hub_with_a_seated_event().await;
    let client = reqwest::Client::new();
    let mut viewers = Vec::new();
    for _ in 0..VIEWERS {
        let stream = client.get(format!("{url}/shop/{event}/seats/live")).send().await.unwrap();
        assert!(stream.status().is_success());
        let mut events = Events { response: stream, buffer: String::new() };
        assert_eq!(events.next().await["seats"], json!({}), "an empty hall at first");
        viewers.push(events);
    }
    // Each viewer waits for each round's seat as held, and notes when it came.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(usize, Instant)>();
    for mut events in viewers {
        let tx = tx.clone();
        tokio::spawn(async move {
            let mut seen = 0;
            while seen < ROUNDS {
                let change = events.next().await;
                let at = Instant::now();
                for (id, state) in change["seats"].as_object().unwrap() {
                    if state == "held" {
                        let (r, s) = id.split_once('-').unwrap();
                        let round = r.parse::<usize>().unwrap() * PER_ROW + s.parse::<usize>().unwrap();
                        tx.send((round, at)).unwrap();
                        seen += 1;
                    }
                }
            }
        });
    }
    drop(tx);

    let mut delays = Vec::with_capacity(ROUNDS * VIEWERS);
    let began = Instant::now();
    for round in 0..ROUNDS {
        let seat = format!("{}-{}", round / PER_ROW, round % PER_ROW);
        let order = json!({"lines": [{"ticket_type": 1, "quantity": 1, "seats": [seat]}],
                           "email": "fan@example.org", "name": "Fan"});
        let sent = Instant::now();
        let placed = client
            .post(format!("{url}/api/v1/public/events/{event}/orders"))
            .json(&order)
            .send()
            .await
            .unwrap();
        assert_eq!(placed.status(), 201, "{}", placed.text().await.unwrap());
        for _ in 0..VIEWERS {
            let (seen, at) = rx.recv().await.expect("every viewer hears of every hold");
            assert_eq!(seen, round, "one hold at a time");
            delays.push(at.duration_since(sent));
        }
    }
    let elapsed = began.elapsed();
    delays.sort();
    println!(
        "seat_map_live: {ROUNDS} holds × {VIEWERS} open maps (SQLite, loopback) in {:.1} s: hold → every map p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        elapsed.as_secs_f64(),
        percentile(&delays, 500),
        percentile(&delays, 990),
        delays.last().unwrap().as_secs_f64() * 1000.0
    );
}
