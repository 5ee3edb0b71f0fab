//! Reports after a day at the festival, on both backends: online and door sales, a refund,
//! gates that scanned offline (one ticket admitted twice while they were apart) — each report
//! as JSON and CSV, for the roles that may read it.

mod common;

use common::{
    BACKENDS, Organizer, PASSWORD, TestHub, checkout, enroll, enroll_keeping_key, enrollment_code,
    event_on_sale, order, press_pay, start_payment,
};
use serde_json::{Value, json};
use std::sync::Arc;
use sync_core::ids::{EventId, GateId, Serial, TicketTypeId, Timestamp};
use sync_core::journal::{DoorSale, HUB, LeaseId, Payload, PaymentMethod};
use sync_core::keys::SignedDelegation;
use sync_core::manifest::Direction;
use sync_core::replica::Replica;
use sync_core::sync::http::HttpTransport;
use sync_core::sync::sync_with;
use sync_core::validate::ScanContext;
use sync_core::verdict::VerdictKind;

async fn sync(hub: &TestHub, device: &Arc<Replica>) {
    sync_with(&**device, &HttpTransport::new(&hub.url, Arc::clone(device), HUB).unwrap()).await.unwrap();
}

/// The report's rows as objects keyed by column.
async fn report(who: &Organizer, event: i64, name: &str) -> Vec<Value> {
    let table = who.get(&format!("/api/v1/events/{event}/reports/{name}")).await;
    let columns: Vec<String> =
        table["columns"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect();
    table["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            Value::Object(columns.iter().cloned().zip(row.as_array().unwrap().iter().cloned()).collect())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(clippy::too_many_lines)] // one festival day, told in order
async fn a_festival_day_shows_in_every_report() {
    for backend in BACKENDS {
        let hub = TestHub::start(backend).await;
        let dir = tempfile::tempdir().unwrap();
        let owner = Organizer::create(&hub, "festival").await;
        let event = event_on_sale(&owner, 100, 4500).await;
        let event_id = EventId(u32::try_from(event).unwrap());

        // Online: two tickets bought, one refunded.
        let (_, placed) = checkout(&hub, event, 2, None).await;
        press_pay(&hub, &start_payment(&hub, &placed).await).await;
        let texts: Vec<String> = order(&hub, &placed).await["tickets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["text"].as_str().unwrap().to_owned())
            .collect();
        let refund = json!({"serials": [2], "reason": "ill"});
        assert_eq!(
            owner
                .post(&format!("/api/v1/orders/{}/refunds", placed["code"].as_str().unwrap()), &refund)
                .await
                .0,
            201
        );

        // At the door: one ticket for cash under a lease.
        let (desk, desk_key) =
            enroll_keeping_key(&hub, dir.path(), &enrollment_code(&owner, "Desk", "box_office", event).await)
                .await;
        let (_, granted) = owner
            .post(
                &format!("/api/v1/events/{event}/leases"),
                &json!({"device_id": desk.device().0, "ticket_type": 1, "quantity": 5}),
            )
            .await;
        sync(&hub, &desk).await;
        let lease = LeaseId(granted["id"].as_u64().unwrap());
        let first = Serial(u32::try_from(granted["first_serial"].as_i64().unwrap()).unwrap());
        let grant = desk.event_state(event_id).leases[&lease].grant.clone().unwrap().1;
        let delegation = SignedDelegation::from_bytes(&grant.delegation).unwrap();
        let door_ticket =
            desk_key.issue(&delegation, first, TicketTypeId(1), None, Timestamp::now()).unwrap().to_text();
        let sale = DoorSale {
            receipt: 1,
            lease,
            ticket_type: TicketTypeId(1),
            serials: vec![first],
            total_minor: 4500,
            currency: "EUR".into(),
            payment: PaymentMethod::Cash,
        };
        desk.record(event_id, Payload::DoorSale(sale)).unwrap();
        sync(&hub, &desk).await;

        // Two gates, apart (offline), both admit ticket 1; North also admits the door ticket.
        let north = enroll(&hub, dir.path(), &enrollment_code(&owner, "North", "gate", event).await).await;
        let south = enroll(&hub, dir.path(), &enrollment_code(&owner, "South", "gate", event).await).await;
        for gate in [&north, &south] {
            sync(&hub, gate).await;
        }
        let now = Timestamp::now();
        let at = |device: &Arc<Replica>, dt: i64| ScanContext {
            device: device.device(),
            gate: GateId(1),
            direction: Direction::Entry,
            now: Timestamp(now.0 + dt),
        };
        assert_eq!(
            north.gate(event_id).scan(&texts[0], &at(&north, 0)).unwrap().kind(),
            VerdictKind::Admitted
        );
        assert_eq!(
            south.gate(event_id).scan(&texts[0], &at(&south, 1000)).unwrap().kind(),
            VerdictKind::Admitted
        );
        assert_eq!(
            north.gate(event_id).scan(&door_ticket, &at(&north, 2000)).unwrap().kind(),
            VerdictKind::Admitted
        );
        assert_eq!(
            north.gate(event_id).scan(&texts[1], &at(&north, 3000)).unwrap().kind(),
            VerdictKind::Revoked
        );
        for gate in [&north, &south] {
            sync(&hub, gate).await;
        }

        let sales = report(&owner, event, "sales").await;
        let online = sales.iter().find(|r| r["channel"] == "online").unwrap();
        assert_eq!(
            (online["tickets_sold"].as_i64(), online["tickets_refunded"].as_i64()),
            (Some(2), Some(1)),
            "{sales:?}"
        );
        assert_eq!(online["net_minor"], 4500);
        let door = sales.iter().find(|r| r["channel"] == "box_office").unwrap();
        assert_eq!((door["box_office"].as_str(), door["tickets_sold"].as_i64()), (Some("Desk"), Some(1)));
        assert_eq!(online["day"].as_str().unwrap().len(), 10, "a local date");

        let revenue = report(&owner, event, "revenue").await;
        let method = |m: &str| revenue.iter().find(|r| r["method"] == m).cloned().unwrap_or(Value::Null);
        assert_eq!(
            (method("online")["received_minor"].as_i64(), method("online")["refunded_minor"].as_i64()),
            (Some(9000), Some(4500))
        );
        assert_eq!(method("cash")["net_minor"], 4500, "{revenue:?}");

        let checkins = report(&owner, event, "checkins").await;
        let entries: i64 = checkins.iter().map(|r| r["entries"].as_i64().unwrap()).sum();
        let refused: i64 = checkins.iter().map(|r| r["refused"].as_i64().unwrap()).sum();
        assert_eq!((entries, refused), (3, 1), "{backend:?}: {checkins:?}");
        assert_eq!(checkins[0]["gate_name"], "Main");

        let inside = report(&owner, event, "inside").await;
        assert_eq!(inside.last().unwrap()["inside"], 2, "ticket 1 and the door ticket: {inside:?}");

        let doubles = report(&owner, event, "double-admissions").await;
        assert_eq!(doubles.len(), 1, "{doubles:?}");
        assert_eq!((doubles[0]["serial"].as_i64(), doubles[0]["admissions"].as_i64()), (Some(1), Some(2)));
        assert!(
            doubles[0]["where"].as_str().unwrap().contains("North")
                && doubles[0]["where"].as_str().unwrap().contains("South")
        );

        let devices = report(&owner, event, "devices").await;
        assert_eq!(devices.len(), 3);
        assert!(
            devices.iter().all(|d| d["entries_not_synced"] == 0 && d["last_seen"].is_string()),
            "{devices:?}"
        );
        assert_eq!(devices.iter().find(|d| d["name"] == "North").unwrap()["scans"], 3);

        // CSV: a header row, then the rows.
        let csv = hub
            .client
            .get(format!("{}/api/v1/events/{event}/reports/checkins?format=csv", hub.url))
            .header("cookie", owner.cookie())
            .send()
            .await
            .unwrap();
        assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
        let csv = csv.text().await.unwrap();
        assert!(csv.starts_with("from,gate,gate_name,entries,exits,refused\n"), "{csv}");
        assert_eq!(csv.lines().count(), checkins.len() + 1);

        // Who may read what; bad names and formats; another organization's event.
        owner
            .post("/api/v1/members", &json!({"email": "gate@festival.example", "name": "G", "role": "gate_staff", "initial_password": PASSWORD}))
            .await;
        let gate_staff = Organizer::login(&hub, "gate@festival.example").await;
        assert_eq!(
            gate_staff
                .send(reqwest::Method::GET, &format!("/api/v1/events/{event}/reports/sales"), &Value::Null)
                .await
                .0,
            403
        );
        assert_eq!(report(&gate_staff, event, "inside").await.last().unwrap()["inside"], 2);
        let owner_ref = &owner;
        let get =
            |path: String| async move { owner_ref.send(reqwest::Method::GET, &path, &Value::Null).await };
        assert_eq!(get(format!("/api/v1/events/{event}/reports/everything")).await.0, 404);
        assert_eq!(get(format!("/api/v1/events/{event}/reports/sales?format=xml")).await.0, 422);
        let other = Organizer::create(&hub, "other").await;
        assert_eq!(
            other
                .send(reqwest::Method::GET, &format!("/api/v1/events/{event}/reports/sales"), &Value::Null)
                .await
                .0,
            404
        );
    }
}

/// What the reports read of the scans — `checkin_counts` and `presence`, kept by triggers on
/// `checkins` (migration 0024) — always agrees with the scans themselves, worked out here
/// from scratch: scans of random tickets, verdicts, devices and clocks (ties included), stored
/// a few to a statement through the hub's own insert, and some stored twice (a replayed sync
/// must count once). Several seeds, both backends.
#[tokio::test]
async fn the_counts_the_reports_read_agree_with_every_scan_stored() {
    use cloud::journal::materialize::store::{Checkin, insert_checkins};
    const VERDICTS: [&str; 5] = ["admitted", "re_entry", "exit_recorded", "already_inside", "revoked"];
    for backend in BACKENDS {
        let hub = TestHub::start(backend).await;
        let owner = Organizer::create(&hub, "festival").await;
        for seed in 1..=4u64 {
            let event = 1_000 + i64::try_from(seed).unwrap(); // an event and devices of its own per seed
            let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
            let mut next = move |n: u64| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state % n
            };
            let mut seqs = [0i64; 4];
            let scans: Vec<Scan> = (0..400)
                .map(|_| {
                    let origin = i64::try_from(next(4)).unwrap();
                    seqs[usize::try_from(origin).unwrap()] += 1;
                    let serial = i64::try_from(next(40)).unwrap();
                    let verdict = VERDICTS[usize::try_from(next(5)).unwrap()];
                    let hlc = i64::try_from(next(300)).unwrap(); // ties across devices
                    let at = i64::try_from(next(4 * 900_000)).unwrap();
                    (
                        origin + 1 + 10 * i64::try_from(seed).unwrap(),
                        seqs[usize::try_from(origin).unwrap()],
                        serial,
                        verdict,
                        hlc,
                        at,
                    )
                })
                .collect();
            let checkin =
                |&(origin, seq, serial, verdict, hlc, at): &(i64, i64, i64, &'static str, i64, i64)| {
                    Checkin {
                        origin,
                        seq,
                        event,
                        serial: Some(serial),
                        ticket_type: Some(1 + serial % 2),
                        direction: if verdict == "exit_recorded" { "exit" } else { "entry" },
                        gate: 1 + origin % 2,
                        verdict,
                        at,
                        hlc,
                    }
                };
            let mut stored = 0;
            while stored < scans.len() {
                let n = usize::try_from(1 + next(150)).unwrap().min(scans.len() - stored);
                // Each batch with the one before it again: the replay must change nothing.
                let from = stored.saturating_sub(usize::try_from(next(2)).unwrap() * n);
                let batch: Vec<Checkin> = scans[from..stored + n].iter().map(checkin).collect();
                let mut tx = hub.db.tenant(owner.org_id).await.unwrap();
                insert_checkins(&mut tx, &batch).await.unwrap();
                tx.commit().await.unwrap();
                stored += n;
            }

            let (expected_presence, expected_counts) = worked_out(&scans);
            let mut tx = hub.db.tenant(owner.org_id).await.unwrap();
            let presence: Vec<PresenceRow> = sqlx::query_as(
                "SELECT serial, admissions, hlc, origin, seq, inside FROM presence WHERE event_id = $1 ORDER BY serial",
            )
            .bind(event)
            .fetch_all(&mut *tx)
            .await
            .unwrap();
            let counts: Vec<CountRow> = sqlx::query_as(
                "SELECT bucket, gate, origin, verdict, scans FROM checkin_counts WHERE event_id = $1 \
                 ORDER BY bucket, gate, origin, verdict",
            )
            .bind(event)
            .fetch_all(&mut *tx)
            .await
            .unwrap();
            tx.commit().await.unwrap();
            assert_eq!(presence, expected_presence, "{backend:?}, seed {seed}: presence");
            assert_eq!(counts, expected_counts, "{backend:?}, seed {seed}: counts");
        }
    }
}

/// A scan as the test stores it: origin, sequence number, serial, verdict, HLC, wall time.
type Scan = (i64, i64, i64, &'static str, i64, i64);
/// A ticket's row of `presence`: serial, admissions, hlc, origin, seq, inside.
type PresenceRow = (i64, i64, i64, i64, i64, i64);
/// A row of `checkin_counts`: bucket, gate, origin, verdict, scans.
type CountRow = (i64, i64, i64, String, i64);

/// What `presence` and `checkin_counts` must hold for `scans` (each stored once), worked out
/// from scratch: per ticket, admissions and the latest movement by (HLC, origin, sequence);
/// per quarter hour, gate, device and verdict, the scans.
fn worked_out(scans: &[Scan]) -> (Vec<PresenceRow>, Vec<CountRow>) {
    use std::collections::BTreeMap;
    let mut presence: BTreeMap<i64, PresenceRow> = BTreeMap::new();
    let mut counts: BTreeMap<(i64, i64, i64, String), i64> = BTreeMap::new();
    for &(origin, seq, serial, verdict, hlc, at) in scans {
        *counts.entry((at / 900_000, 1 + origin % 2, origin, verdict.to_owned())).or_default() += 1;
        if !["admitted", "re_entry", "exit_recorded"].contains(&verdict) {
            continue;
        }
        let inside = i64::from(verdict != "exit_recorded");
        let p = presence.entry(serial).or_insert((serial, 0, hlc, origin, seq, inside));
        p.1 += i64::from(verdict == "admitted");
        if (hlc, origin, seq) >= (p.2, p.3, p.4) {
            (p.2, p.3, p.4, p.5) = (hlc, origin, seq, inside);
        }
    }
    (presence.into_values().collect(), counts.into_iter().map(|((b, g, o, v), n)| (b, g, o, v, n)).collect())
}
