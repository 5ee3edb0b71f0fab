//! Cold start of the gate scanner: from launching the binary to the scan screen shown, ready
//! for the first scan — on an enrolled, configured device (what staff see every shift).
//!
//! ```sh
//! cargo bench -p scanner-e2e --bench cold_start     # release build, 15 launches
//! ```
//!
//! Target (issue 5): ≤ 1.5 s. The app is launched under Xvfb with `VOELGOED_EXIT_WHEN_READY`,
//! which makes it print `ready` and exit once the scan screen has painted; the time is taken
//! here, from spawn to that line. A real hub runs throughout (the app connects to it at start,
//! but readiness never waits for the network).

use scanner_app::station::{Choice, Station};
use scanner_e2e::{Hub, Xvfb, binary};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use sync_core::ids::EventId;
use sync_core::manifest::Direction;

const LAUNCHES: usize = 15;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let hub_data = tempfile::tempdir().unwrap();
    let app_data = tempfile::tempdir().unwrap();
    let hub = Hub::start(hub_data.path());

    // Enroll and configure the device once, through the app's own station.
    runtime.block_on(async {
        let station =
            Station::open(app_data.path().to_owned(), "bench", tokio::runtime::Handle::current()).unwrap();
        station.enroll(&format!("VGENROLL:{}#{}", hub.url, hub.code), None, "2468").await.unwrap();
        let event = EventId(u32::try_from(hub.event).unwrap());
        let replica = station.replica().unwrap();
        let deadline = Instant::now() + Duration::from_secs(15);
        let manifest = loop {
            if let Some(m) = replica.manifest(event) {
                break m;
            }
            assert!(Instant::now() < deadline, "the event never synced");
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let choice = Choice {
            event: event.0,
            gate: manifest.gates[0].id.0,
            direction: Direction::Entry,
            verdict_ms: 3_000,
            peer_port: None,
            peer_address: None,
            kiosk: false,
        };
        station.configure("2468", choice).unwrap();
        station.shutdown();
    });

    let x = Xvfb::start();
    let app = binary("scanner");
    let mut times = Vec::new();
    for _ in 0..LAUNCHES {
        let started = Instant::now();
        let mut child = Command::new(&app)
            .env("DISPLAY", &x.display)
            .env("VOELGOED_SCANNER_DIR", app_data.path())
            .env("VOELGOED_EXIT_WHEN_READY", "1")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let ready =
            BufReader::new(child.stdout.take().unwrap()).lines().map_while(Result::ok).any(|l| l == "ready");
        let elapsed = started.elapsed();
        assert!(ready, "the app exited without becoming ready");
        child.wait().unwrap();
        times.push(elapsed.as_secs_f64() * 1000.0);
    }
    let first = times[0];
    times.sort_by(f64::total_cmp);
    println!(
        "scanner cold start to ready-to-scan, {LAUNCHES} launches: median {:.0} ms, min {:.0} ms, max {:.0} ms (first launch {first:.0} ms)",
        times[LAUNCHES / 2],
        times[0],
        times[LAUNCHES - 1]
    );
}
