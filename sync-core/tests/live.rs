//! The live link's rounds: news that a long-poll brings whole is stored and followed by the
//! next long-poll alone (a push to a fleet costs each device one answer, not a full exchange),
//! and a local scan made while such news arrives is still pushed at once. Either way the link
//! reports itself online when it is in step (the apps apply the hub's settings then).

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use sync_core::demo;
use sync_core::ids::{DeviceId, Serial, Timestamp};
use sync_core::journal::HUB;
use sync_core::manifest::Direction;
use sync_core::replica::{Replica, ReplicaConfig};
use sync_core::sync::memory::MemoryTransport;
use sync_core::sync::{
    Framed, SyncRequest, SyncResponse, Transport, TransportError, live, respond_or_wait, sync_with,
};
use sync_core::validate::ScanContext;
use tokio::sync::watch;

type Hook = Box<dyn FnOnce() + Send>;

/// A device's link to an in-process hub that holds long-polls as the real one does, counting
/// full-exchange rounds and long-polls answered; `hook` runs once, when a long-poll's answer
/// with news is on its way back (before the device stores it).
struct Counted {
    hub: Arc<Replica>,
    client: DeviceId,
    rounds: AtomicUsize,
    polls_answered: AtomicUsize,
    hook: Mutex<Option<Hook>>,
}

impl Transport for Counted {
    fn peer(&self) -> DeviceId {
        HUB
    }

    async fn exchange(&self, request: SyncRequest) -> Result<SyncResponse, TransportError> {
        let request = SyncRequest::decode(&request.encode()).unwrap();
        let poll = request.wait_ms > 0;
        let response = respond_or_wait(&*self.hub, self.client, request)
            .await
            .map_err(|e| TransportError::Refused { status: e.status(), message: e.to_string() })?;
        if !poll {
            self.rounds.fetch_add(1, Ordering::SeqCst);
        } else if !response.entries.is_empty() {
            self.polls_answered.fetch_add(1, Ordering::SeqCst);
            if let Some(hook) = self.hook.lock().unwrap().take() {
                hook();
            }
        }
        Ok(SyncResponse::decode(&response.encode()).unwrap())
    }
}

fn replica(dir: &common::Scratch, id: u32) -> Arc<Replica> {
    let replica =
        Arc::new(Replica::open(dir.join(format!("r{id}.db")), ReplicaConfig::new(DeviceId(id))).unwrap());
    let (manifest, _, _) = demo::festival();
    replica.set_manifest(&manifest).unwrap();
    replica
}

fn scan(gate: &Arc<Replica>, serial: u32) {
    let (_, key, _) = demo::festival();
    let ticket = key.issue(Serial(serial), demo::DAY, None).to_text();
    let ctx = ScanContext {
        device: gate.device(),
        gate: demo::MAIN_GATE,
        direction: Direction::Entry,
        now: Timestamp::now(),
    };
    gate.gate(demo::EVENT).scan(&ticket, &ctx).unwrap();
}

async fn until(what: &str, done: impl Fn() -> bool) {
    tokio::time::timeout(Duration::from_secs(5), async {
        while !done() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{what} within 5 s"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn news_a_long_poll_brings_whole_is_not_followed_by_a_full_exchange_and_local_scans_still_go_out() {
    let dir = common::scratch_dir("live");
    let (hub, a, b) = (replica(&dir, 0), replica(&dir, 1), replica(&dir, 2));
    let link = Arc::new(Counted {
        hub: Arc::clone(&hub),
        client: a.device(),
        rounds: AtomicUsize::new(0),
        polls_answered: AtomicUsize::new(0),
        hook: Mutex::new(None),
    });
    let (stop, stopped) = watch::channel(false);
    let onlines = Arc::new(AtomicUsize::new(0));
    let task = {
        let (a, link) = (Arc::clone(&a), Arc::clone(&link));
        let onlines = Arc::clone(&onlines);
        tokio::spawn(async move {
            live::run(&*a, &*link, stopped, |state| {
                if state == live::LinkState::Online {
                    onlines.fetch_add(1, Ordering::SeqCst);
                }
            })
            .await;
        })
    };
    until("gate A's first exchange", || link.rounds.load(Ordering::SeqCst) > 0).await;
    tokio::time::sleep(Duration::from_millis(200)).await; // into its long-poll
    let rounds = link.rounds.load(Ordering::SeqCst);
    let reported = onlines.load(Ordering::SeqCst);

    // Gate B pushes three scans: A's long-poll brings them, and A simply polls again.
    for serial in 1..=3 {
        scan(&b, serial);
    }
    sync_with(&*b, &MemoryTransport::new(&*hub, b.device())).await.unwrap();
    until("B's scans on A", || a.have().get(b.device()) == 3).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(link.polls_answered.load(Ordering::SeqCst), 1);
    assert_eq!(link.rounds.load(Ordering::SeqCst), rounds, "no full exchange after news that came whole");
    // In step with the hub, as after an exchange: the apps apply the hub's settings on it.
    assert_eq!(onlines.load(Ordering::SeqCst), reported + 1, "the link reports itself online");

    // A scans while B's next scan is on its way to it (before A stores it): A's scan is news
    // the hub lacks, so the link exchanges at once instead of waiting for the next push.
    let gate_a = Arc::clone(&a);
    *link.hook.lock().unwrap() = Some(Box::new(move || scan(&gate_a, 10)));
    scan(&b, 4);
    sync_with(&*b, &MemoryTransport::new(&*hub, b.device())).await.unwrap();
    until("A's scan on the hub", || hub.have().get(a.device()) == 1).await;
    assert_eq!(a.have().get(b.device()), 4);
    assert!(link.rounds.load(Ordering::SeqCst) > rounds);

    let _ = stop.send(true);
    task.await.unwrap();
}
