//! The device replica on its own: durability settings, restart, debounce, double admissions,
//! and the errors a misused replica gives.

mod common;

use std::sync::Arc;
use sync_core::demo;
use sync_core::documents::{DocId, GuestList};
use sync_core::hlc::Hlc;
use sync_core::ids::{DeviceId, EventId, Serial, Timestamp};
use sync_core::journal::{DoorSale, LeaseId, Payload, PaymentMethod};
use sync_core::manifest::Direction;
use sync_core::replica::{DEBOUNCE_MS, Replica, ReplicaConfig, ReplicaError};
use sync_core::sync::memory::MemoryTransport;
use sync_core::sync::sync_with;
use sync_core::validate::ScanContext;

fn ctx(device: u32, now: Timestamp) -> ScanContext {
    ScanContext { device: DeviceId(device), gate: demo::MAIN_GATE, direction: Direction::Entry, now }
}

fn open(path: &std::path::Path, device: u32) -> Arc<Replica> {
    let replica = Arc::new(Replica::open(path, ReplicaConfig::new(DeviceId(device))).unwrap());
    let (manifest, _, _) = demo::festival();
    replica.set_manifest(&manifest).unwrap();
    replica
}

#[test]
fn a_verdict_is_durable_because_the_database_says_so() {
    let dir = common::scratch_dir("replica");
    let path = dir.join("gate.db");
    drop(open(&path, 1));
    let conn = rusqlite::Connection::open(&path).unwrap();
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
    // `synchronous` is per connection: check the replica's own setting through a scan's
    // connection by reopening and asking it.
    drop(conn);
    let replica = open(&path, 1);
    assert_eq!(replica.durability(), 2, "synchronous=FULL");
}

#[test]
fn everything_survives_a_restart() {
    let dir = common::scratch_dir("replica");
    let path = dir.join("gate.db");
    let (_, key, _) = demo::festival();
    let now = demo::NOON;
    let (first_have, first_state, last_hlc) = {
        let replica = open(&path, 3);
        let gate = replica.gate(demo::EVENT);
        assert_eq!(
            gate.scan(&key.issue(Serial(1), demo::DAY, None).to_text(), &ctx(3, now)).unwrap().code(),
            "admitted"
        );
        let sale = DoorSale {
            receipt: 1,
            lease: LeaseId(9),
            ticket_type: demo::DAY,
            serials: vec![Serial(500)],
            total_minor: 1000,
            currency: "EUR".into(),
            payment: PaymentMethod::Cash,
        };
        replica.record(demo::EVENT, Payload::DoorSale(sale)).unwrap();
        let doc = DocId::guest_list(demo::EVENT);
        replica.edit_doc(&doc, |d| GuestList::add_guest(d, "g1", "Ada", 1)).unwrap();
        replica.edit_doc(&doc, |d| GuestList::check_in(d, "g1", 2, DeviceId(3), Hlc(5))).unwrap();
        (replica.have(), replica.event_state(demo::EVENT), replica.clock())
    };
    let replica = open(&path, 3);
    assert_eq!(replica.have(), first_have);
    assert_eq!(replica.event_state(demo::EVENT), first_state);
    assert_eq!(replica.event_state(demo::EVENT).leases[&LeaseId(9)].sold_count(), 1);
    let guests = replica.read_doc(&DocId::guest_list(demo::EVENT), GuestList::guests);
    assert_eq!((guests[0].name.as_str(), guests[0].checked_in), ("Ada", 2));
    // The clock continues past everything already written, even if the wall clock went back.
    let gate = replica.gate(demo::EVENT);
    let earlier = now.plus_seconds(-3600);
    assert_eq!(
        gate.scan(&key.issue(Serial(1), demo::DAY, None).to_text(), &ctx(3, earlier)).unwrap().code(),
        "already_inside"
    );
    assert!(replica.clock() > last_hlc);
    assert!(matches!(
        Replica::open(&path, ReplicaConfig::new(DeviceId(4))),
        Err(ReplicaError::WrongDevice { .. })
    ));
}

#[test]
fn the_same_code_in_consecutive_frames_is_one_scan() {
    let dir = common::scratch_dir("replica");
    let replica = open(&dir.join("gate.db"), 1);
    let gate = replica.gate(demo::EVENT);
    let (_, key, _) = demo::festival();
    let ticket = key.issue(Serial(8), demo::DAY, None).to_text();
    let t0 = demo::NOON;
    assert_eq!(gate.scan(&ticket, &ctx(1, t0)).unwrap().code(), "admitted");
    // The camera keeps seeing it for three seconds, one frame every 100 ms.
    for frame in 1..30 {
        assert_eq!(gate.scan(&ticket, &ctx(1, Timestamp(t0.0 + frame * 100))).unwrap().code(), "admitted");
    }
    assert_eq!(replica.have().get(DeviceId(1)), 1, "recorded once");
    // Presented again after a pause longer than the debounce window: a new scan.
    let later = Timestamp(t0.0 + 29 * 100 + DEBOUNCE_MS + 1);
    assert_eq!(gate.scan(&ticket, &ctx(1, later)).unwrap().code(), "already_inside");
    assert_eq!(replica.have().get(DeviceId(1)), 2);
    // At the exit, the same code is not debounced against the entry.
    let exit = ScanContext { gate: demo::SOUTH_EXIT, direction: Direction::Exit, ..ctx(1, later) };
    assert_eq!(gate.scan(&ticket, &exit).unwrap().code(), "exit_recorded");
}

#[tokio::test]
async fn two_gates_that_admitted_one_ticket_apart_both_report_it_after_sync() {
    let dir = common::scratch_dir("replica");
    let a = open(&dir.join("a.db"), 1);
    let b = open(&dir.join("b.db"), 2);
    let (_, key, _) = demo::festival();
    let ticket = key.issue(Serial(77), demo::DAY, None).to_text();
    assert_eq!(a.gate(demo::EVENT).scan(&ticket, &ctx(1, demo::NOON)).unwrap().code(), "admitted");
    assert_eq!(
        b.gate(demo::EVENT).scan(&ticket, &ctx(2, demo::NOON.plus_seconds(30))).unwrap().code(),
        "admitted"
    );
    sync_with(&*a, &MemoryTransport::new(&*b, DeviceId(1))).await.unwrap();
    for replica in [&a, &b] {
        let conflicts = replica.gate(demo::EVENT).double_admissions();
        assert_eq!(conflicts.len(), 1);
        assert_eq!((conflicts[0].first.device, conflicts[0].second.device), (DeviceId(1), DeviceId(2)));
        assert_eq!(conflicts[0].serial, Serial(77));
    }
    assert_eq!(a.gate(demo::EVENT).counts(), (1, 1), "one ticket, one person inside");
}

#[test]
fn a_gate_without_the_event_data_says_so() {
    let replica = Arc::new(Replica::open_in_memory(ReplicaConfig::new(DeviceId(1))).unwrap());
    let err = replica.gate(EventId(5)).scan("VG1:anything", &ctx(1, demo::NOON)).unwrap_err();
    assert_eq!(err.to_string(), "no data for event 5 on this device yet: sync it first");
}

#[tokio::test]
async fn a_hub_that_lost_its_data_gets_everything_again() {
    let dir = common::scratch_dir("replica");
    let gate = open(&dir.join("gate.db"), 1);
    let hub = open(&dir.join("hub.db"), 0);
    let (_, key, _) = demo::festival();
    for serial in 0..3 {
        gate.gate(demo::EVENT)
            .scan(&key.issue(Serial(serial), demo::DAY, None).to_text(), &ctx(1, demo::NOON))
            .unwrap();
    }
    sync_with(&*gate, &MemoryTransport::new(&*hub, DeviceId(1))).await.unwrap();
    gate.gate(demo::EVENT)
        .scan(&key.issue(Serial(9), demo::DAY, None).to_text(), &ctx(1, demo::NOON))
        .unwrap();
    // The hub loses its data (an empty database); the gate still believes the hub holds its
    // first three scans.
    drop(hub);
    let restored = open(&dir.join("hub-restored.db"), 0);
    sync_with(&*gate, &MemoryTransport::new(&*restored, DeviceId(1))).await.unwrap();
    assert_eq!(restored.have(), gate.have(), "all four scans are on the restored hub");
}

#[tokio::test]
async fn a_device_whose_data_was_reset_stops_instead_of_reusing_its_sequence_numbers() {
    let dir = common::scratch_dir("replica");
    let hub = open(&dir.join("hub.db"), 0);
    let (_, key, _) = demo::festival();
    {
        let gate = open(&dir.join("gate.db"), 1);
        gate.gate(demo::EVENT)
            .scan(&key.issue(Serial(1), demo::DAY, None).to_text(), &ctx(1, demo::NOON))
            .unwrap();
        sync_with(&*gate, &MemoryTransport::new(&*hub, DeviceId(1))).await.unwrap();
    }
    // The gate's database is lost; a fresh one under the same id scans again.
    let reset = open(&dir.join("gate-reset.db"), 1);
    reset
        .gate(demo::EVENT)
        .scan(&key.issue(Serial(2), demo::DAY, None).to_text(), &ctx(1, demo::NOON))
        .unwrap();
    let err = sync_with(&*reset, &MemoryTransport::new(&*hub, DeviceId(1))).await.unwrap_err();
    assert!(err.to_string().contains("re-enroll"), "{err}");
    assert_eq!(hub.have().get(DeviceId(1)), 1, "the hub kept the original entry, not the clashing one");
    // More entries than the hub holds: refused as well, nothing appended on the old history.
    reset
        .gate(demo::EVENT)
        .scan(&key.issue(Serial(3), demo::DAY, None).to_text(), &ctx(1, demo::NOON))
        .unwrap();
    assert!(sync_with(&*reset, &MemoryTransport::new(&*hub, DeviceId(1))).await.is_err());
    assert_eq!(hub.have().get(DeviceId(1)), 1);
}

#[tokio::test]
async fn a_manifest_published_by_the_hub_reaches_a_device_that_never_had_one() {
    let dir = common::scratch_dir("replica");
    let hub = Arc::new(Replica::open(dir.join("hub.db"), ReplicaConfig::new(DeviceId(0))).unwrap());
    let gate = Arc::new(Replica::open(dir.join("gate.db"), ReplicaConfig::new(DeviceId(1))).unwrap());
    let (manifest, key, _) = demo::festival();
    let ticket = key.issue(Serial(4), demo::DAY, None).to_text();
    assert!(matches!(
        gate.gate(demo::EVENT).scan(&ticket, &ctx(1, demo::NOON)),
        Err(ReplicaError::NoManifest(_))
    ));
    hub.record(demo::EVENT, Payload::Manifest(std::sync::Arc::new(manifest.clone()))).unwrap();
    sync_with(&*gate, &MemoryTransport::new(&*hub, DeviceId(1))).await.unwrap();
    assert_eq!(gate.manifest(demo::EVENT), Some(manifest.clone()));
    assert_eq!(gate.gate(demo::EVENT).scan(&ticket, &ctx(1, demo::NOON)).unwrap().code(), "admitted");
    // A newer manifest (the event renamed) replaces it everywhere.
    let renamed = sync_core::manifest::EventManifest { name: "Renamed".into(), ..manifest };
    hub.record(demo::EVENT, Payload::Manifest(std::sync::Arc::new(renamed))).unwrap();
    sync_with(&*gate, &MemoryTransport::new(&*hub, DeviceId(1))).await.unwrap();
    assert_eq!(gate.manifest(demo::EVENT).unwrap().name, "Renamed");
}
