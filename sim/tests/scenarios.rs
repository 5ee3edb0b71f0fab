//! Each scenario at a reduced size against a hub process the simulator starts: its checks
//! must hold, and its figures must be there. (Full sizes: `scripts/chaos`, docs/benchmarks.md.)

mod common;

use common::{assert_passed, exe, postgres};
use sim::metrics::Timeline;
use sim::scenarios::{self, HubArgs, Target};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gate_opening_rush_admits_everyone_once_and_finds_every_copy() {
    let target = Target::open(&HubArgs::default(), &exe()).await.unwrap();
    let args = scenarios::rush::RushArgs { gates: 4, tickets: 400, rate: 0.0, offline_gates: 1, copies: 10 };
    let timeline = Timeline::new(scenarios::rush::COUNTERS);
    let summary = scenarios::rush::run(&target, &args, &timeline).await.unwrap();
    assert_passed(&summary);
    assert_eq!(summary.figures["scans"]["scans"], 410);
    assert!(summary.figures["scans"]["verdict_latency"]["p99_ms"].as_f64().unwrap() > 0.0);
    assert!(summary.figures["sync"]["bytes_up"].as_u64().unwrap() > 0);
    assert_eq!(summary.figures["push"]["count"], 20);

    // The run's report: the JSON summary and a chart with the scans drawn.
    let out = tempfile::tempdir().unwrap();
    sim::report::write(out.path(), &summary, &timeline).unwrap();
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("summary.json")).unwrap()).unwrap();
    assert_eq!(written["double_admissions"], serde_json::Value::Null, "figures live under \"figures\"");
    assert_eq!(written["figures"]["double_admissions"]["injected"], 10);
    let svg = std::fs::read_to_string(out.path().join("chart.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("scanned") && svg.contains("<polyline"), "{svg:.300}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconnect_storm_converges_every_time_and_finds_every_duplicate() {
    let target = Target::open(&HubArgs::default(), &exe()).await.unwrap();
    let args = scenarios::storm::StormArgs { devices: 10, scans: 20, cycles: 2, duplicates: 3 };
    let summary =
        scenarios::storm::run(&target, &args, &Timeline::new(scenarios::storm::COUNTERS)).await.unwrap();
    assert_passed(&summary);
    assert_eq!(summary.figures["entries_recorded"], 2 * (200 + 3));
    assert_eq!(summary.figures["convergence_ms_per_storm"].as_array().unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_back_from_a_long_offline_stretch_catches_up_in_one_exchange() {
    let target = Target::open(&HubArgs::default(), &exe()).await.unwrap();
    let args =
        scenarios::offline::OfflineArgs { gates: 3, offline_scans: 300, online_scans: 300, duplicates: 5 };
    let summary =
        scenarios::offline::run(&target, &args, &Timeline::new(scenarios::offline::COUNTERS)).await.unwrap();
    assert_passed(&summary);
    assert_eq!(summary.figures["catch_up"]["backlog_entries"], 305);
    assert!(summary.figures["catch_up"]["entries_received"].as_u64().unwrap() >= 300);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flash_sale_with_door_sales_sells_out_exactly_on_postgres() {
    let hub = HubArgs { postgres: Some(postgres()), ..HubArgs::default() };
    let target = Target::open(&hub, &exe()).await.unwrap();
    let args = scenarios::flash_sale::FlashSaleArgs {
        capacity: 300,
        clients: 8,
        max_quantity: 4,
        box_offices: 2,
        lease: 30,
    };
    let summary = scenarios::flash_sale::run(&target, &args, &Timeline::new(scenarios::flash_sale::COUNTERS))
        .await
        .unwrap();
    assert_passed(&summary);
    assert_eq!(summary.figures["sales"]["sold_at_door"], 60);
    assert_eq!(summary.figures["sales"]["sold_online"], 240);
}

/// The big event at a small size, on both backends: the bulk sale and check-ins land as the
/// hub's own would (the dashboard counts them, a new gate judges the sale's tickets by them),
/// every read answers, and the database's size is read table by table.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_big_event_made_in_bulk_reads_like_one_sold_and_scanned_one_by_one() {
    for hub in [HubArgs::default(), HubArgs { postgres: Some(postgres()), ..HubArgs::default() }] {
        let target = Target::open(&hub, &exe()).await.unwrap();
        let args =
            scenarios::big_event::BigEventArgs { tickets: 300, checkins: 500, devices: 3, requests: 1 };
        let summary = scenarios::big_event::run(&target, &args).await.unwrap();
        assert_passed(&summary);
        assert_eq!(summary.figures["sale"]["tickets"], 300);
        assert_eq!(summary.figures["checkins"]["entries"], 500);
        assert!(summary.figures["first_sync"]["entries"].as_u64().unwrap() > 500, "{summary:?}");
        let reads = summary.figures["reads"].as_object().unwrap();
        assert!(reads.len() >= 20 && reads.contains_key("order page (console)"), "{reads:?}");
        let database = &summary.figures["database"];
        assert!(database["total_mb"].as_f64().unwrap() > 0.0, "{database}");
        let tables: Vec<&str> =
            database["tables"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
        assert!(tables.contains(&"tickets") && tables.contains(&"checkins"), "{tables:?}");
    }
}
