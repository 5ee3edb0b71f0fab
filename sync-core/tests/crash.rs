//! Kill -9 at random moments: a child process records scans as fast as it can and prints each
//! verdict only after `Gate::scan` returned it; the test kills the child with SIGKILL, reopens
//! the replica, and checks that every verdict the child reported is in the journal, that the
//! journal has no gaps, and that SQLite finds nothing half-written. Twenty times, on the real
//! disk (not tmpfs).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;
use sync_core::demo;
use sync_core::ids::{DeviceId, Serial, Timestamp};
use sync_core::manifest::Direction;
use sync_core::replica::{Replica, ReplicaConfig};
use sync_core::validate::ScanContext;

const CHILD_DB: &str = "VOELGOED_CRASH_CHILD_DB";
const CHILD_FIRST: &str = "VOELGOED_CRASH_CHILD_FIRST";
const ROUNDS: u32 = 20;

/// The child's work (a no-op unless the parent test started this process as the child).
#[test]
fn crash_child_records_scans() {
    let (Ok(db), Ok(first)) = (std::env::var(CHILD_DB), std::env::var(CHILD_FIRST)) else { return };
    let first: u32 = first.parse().unwrap();
    let replica = std::sync::Arc::new(Replica::open(&db, ReplicaConfig::new(DeviceId(1))).unwrap());
    let (manifest, key, _) = demo::festival();
    replica.set_manifest(&manifest).unwrap();
    let gate = replica.gate(demo::EVENT);
    for serial in first.. {
        let ticket = key.issue(Serial(serial), demo::DAY, None).to_text();
        let ctx = ScanContext {
            device: DeviceId(1),
            gate: demo::MAIN_GATE,
            direction: Direction::Entry,
            now: Timestamp::now(),
        };
        let verdict = gate.scan(&ticket, &ctx).unwrap();
        // Reported only after the scan is durable: this is what the parent holds us to.
        println!("VERDICT {serial} {}", verdict.code());
    }
}

#[test]
fn nothing_reported_before_a_kill_is_lost() {
    if std::env::var(CHILD_DB).is_ok() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("voelgoed-crash-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("gate.db");
    let mut reported: Vec<u32> = Vec::new();
    let mut seed = 0x9E37_79B9_7F4A_7C15_u64;
    for round in 0..ROUNDS {
        let first = round * 100_000;
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "crash_child_records_scans", "--nocapture", "--test-threads=1"])
            .env(CHILD_DB, &db)
            .env(CHILD_FIRST, first.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                .filter_map(|l| {
                    l.strip_prefix("VERDICT ").and_then(|r| r.split(' ').next()?.parse::<u32>().ok())
                })
                .collect::<Vec<u32>>()
        });
        // A pseudo-random moment between 50 and 350 ms after start.
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        std::thread::sleep(Duration::from_millis(50 + seed % 300));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        reported.extend(reader.join().unwrap());

        // Reopen: every reported scan is there, and nothing is half-written.
        let replica = Replica::open(&db, ReplicaConfig::new(DeviceId(1))).unwrap();
        let state = replica.event_state(demo::EVENT);
        for &serial in &reported {
            assert!(
                state.admission.was_admitted(Serial(serial)),
                "round {round}: reported scan {serial} lost"
            );
        }
        let have = replica.have().get(DeviceId(1));
        assert!(have >= reported.len() as u64, "round {round}: {have} entries, {} reported", reported.len());
        let conn = rusqlite::Connection::open(&db).unwrap();
        let check: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
        assert_eq!(check, "ok");
        let (count, max): (i64, i64) = conn
            .query_row("SELECT COUNT(*), MAX(seq) FROM journal", [], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap();
        assert_eq!(count, max, "round {round}: the journal has gaps");
    }
    assert!(
        reported.len() > usize::try_from(ROUNDS).unwrap(),
        "the child barely ran: {} scans",
        reported.len()
    );
    println!("{ROUNDS} kills, {} reported scans, all found", reported.len());
    std::fs::remove_dir_all(&dir).unwrap();
}
