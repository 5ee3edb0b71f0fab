//! Devices syncing over real HTTP on loopback: with each other while the hub is down, with the
//! hub when it returns, live (push) while connected — and every kind of bad request refused
//! without changing anything.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use sync_core::demo;
use sync_core::ids::{DeviceId, Serial, Timestamp};
use sync_core::journal::{HUB, Payload, ScanEntry};
use sync_core::manifest::{DeviceName, Direction};
use sync_core::replica::{Replica, ReplicaConfig};
use sync_core::sync::auth::{self, sign_request};
use sync_core::sync::http::{self, HttpTransport, Identity};
use sync_core::sync::message::{Framed, SyncRequest};
use sync_core::sync::{SyncStore, Transport, TransportError, live, sync_with};
use sync_core::validate::ScanContext;
use sync_core::verdict::VerdictKind;
use tokio::sync::watch;

struct Fleet {
    _dir: common::Scratch,
    replicas: Vec<Arc<Replica>>,
}

/// A hub (device 0) and `devices` gate devices, all trusting each other's keys.
fn fleet(devices: u32) -> Fleet {
    let dir = common::scratch_dir("peers");
    let replicas: Vec<Arc<Replica>> = (0..=devices)
        .map(|i| {
            let path = dir.join(format!("r{i}.db"));
            Arc::new(Replica::open(path, ReplicaConfig::new(DeviceId(i))).unwrap())
        })
        .collect();
    let (_, key, _) = demo::festival();
    let mut manifest = demo::manifest(vec![key.public()]);
    manifest.devices = replicas
        .iter()
        .map(|r| DeviceName {
            id: r.device(),
            name: format!("device {}", r.device()),
            public_key: Some(ed25519_dalek::VerifyingKey::from_bytes(&r.public_key()).unwrap()),
        })
        .collect();
    for r in &replicas {
        r.set_manifest(&manifest).unwrap();
    }
    Fleet { _dir: dir, replicas }
}

/// Serves a replica on 127.0.0.1:0; returns its base URL and a handle that stops it.
async fn serve(replica: &Arc<Replica>) -> (String, watch::Sender<bool>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let (stop, mut stopped) = watch::channel(false);
    let replica = Arc::clone(replica);
    tokio::spawn(async move {
        let shutdown = async move {
            let _ = stopped.wait_for(|s| *s).await;
        };
        http::serve(listener, replica, shutdown).await.unwrap();
    });
    (format!("http://{addr}"), stop)
}

fn entry_ctx(device: DeviceId) -> ScanContext {
    ScanContext { device, gate: demo::MAIN_GATE, direction: Direction::Entry, now: Timestamp::now() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gates_catch_duplicates_through_each_other_while_the_hub_is_down() {
    let world = fleet(3);
    let (_, key, _) = demo::festival();
    let ticket = key.issue(Serial(42), demo::DAY, None).to_text();
    let (a, b, c) = (&world.replicas[1], &world.replicas[2], &world.replicas[3]);

    // The hub is down: nothing listens on its address.
    let dead = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
    let to_hub = HttpTransport::new(&format!("http://{dead}"), Arc::clone(a), HUB).unwrap();
    assert!(matches!(
        sync_with(&**a, &to_hub).await,
        Err(sync_core::sync::SyncError::Transport(TransportError::Unreachable(_)))
    ));

    // Gate A admits the ticket, then syncs with gate B over the LAN (B serves its peers).
    assert_eq!(a.gate(demo::EVENT).scan(&ticket, &entry_ctx(a.device())).unwrap().code(), "admitted");
    let (b_url, _b_stop) = serve(b).await;
    let a_to_b = HttpTransport::connect(&b_url, Arc::clone(a)).await.unwrap();
    assert_eq!(a_to_b.peer(), b.device());
    sync_with(&**a, &a_to_b).await.unwrap();
    let verdict = b.gate(demo::EVENT).scan(&ticket, &entry_ctx(b.device())).unwrap();
    assert_eq!(verdict.code(), "already_inside", "gate B knows what gate A admitted");

    // Gate C hears of both scans from B alone (B relays A's entries).
    let c_to_b = HttpTransport::connect(&b_url, Arc::clone(c)).await.unwrap();
    sync_with(&**c, &c_to_b).await.unwrap();
    assert_eq!(c.gate(demo::EVENT).scan(&ticket, &entry_ctx(c.device())).unwrap().code(), "already_inside");

    // The hub comes back: everyone syncs with it and all converge.
    let (hub_url, _hub_stop) = serve(&world.replicas[0]).await;
    for _ in 0..2 {
        for r in &world.replicas[1..] {
            let to_hub = HttpTransport::new(&hub_url, Arc::clone(r), HUB).unwrap();
            sync_with(&**r, &to_hub).await.unwrap();
        }
    }
    let expected = world.replicas[0].have();
    assert_eq!(expected.total(), 3, "three scans, one per gate");
    for r in &world.replicas {
        assert_eq!(r.have(), expected);
        assert_eq!(r.pending_for(HUB).unwrap(), 0);
        assert_eq!(r.event_state(demo::EVENT), world.replicas[0].event_state(demo::EVENT));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scan_is_pushed_to_connected_gates_without_polling() {
    let f = fleet(2);
    let (hub_url, _stop) = serve(&f.replicas[0]).await;
    let (a, b) = (Arc::clone(&f.replicas[1]), Arc::clone(&f.replicas[2]));
    let (shutdown, stopped) = watch::channel(false);
    for r in [&a, &b] {
        let r = Arc::clone(r);
        let stopped = stopped.clone();
        let url = hub_url.clone();
        tokio::spawn(async move {
            let transport = HttpTransport::new(&url, Arc::clone(&r), HUB).unwrap();
            live::run(&*r, &transport, stopped, |_| {}).await;
        });
    }
    // Let both settle into their long-polls.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, key, _) = demo::festival();
    let ticket = key.issue(Serial(7), demo::DAY, None).to_text();
    let mut changes = b.changes();
    let start = Instant::now();
    a.gate(demo::EVENT).scan(&ticket, &entry_ctx(a.device())).unwrap();
    tokio::time::timeout(Duration::from_secs(5), async {
        while b.event_state(demo::EVENT).admission.admitted_count() == 0 {
            changes.changed().await.unwrap();
        }
    })
    .await
    .expect("the scan reached gate B");
    println!("scan on A visible on B after {:?}", start.elapsed());
    let _ = shutdown.send(true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(clippy::too_many_lines)] // one bad request after another, a few lines each
async fn bad_requests_are_refused_and_change_nothing() {
    let f = fleet(2);
    let hub = &f.replicas[0];
    let (url, _stop) = serve(hub).await;
    let device = &f.replicas[1];
    let client = http::http_client().unwrap();
    let before = hub.have();

    let good_entry = |seq: u64, hlc_time: Timestamp| sync_core::journal::Entry {
        origin: device.device(),
        seq,
        hlc: sync_core::hlc::Hlc::from_time(hlc_time),
        event: demo::EVENT,
        payload: Payload::Scan(ScanEntry {
            gate: demo::MAIN_GATE,
            direction: Direction::Entry,
            at: hlc_time,
            verdict: VerdictKind::Malformed,
            ticket: None,
        }),
    };
    let request = |entries| SyncRequest { have: device.have(), entries, ..SyncRequest::default() }.encode();
    let post = |body: Vec<u8>, headers: Vec<(&'static str, String)>| {
        let mut call = client.post(format!("{url}{}", http::SYNC_PATH)).body(body);
        for (n, v) in headers {
            call = call.header(n, v);
        }
        call.send()
    };
    let signed = |body: &[u8], signer: &Replica, at: Timestamp| {
        sign_request(signer.device(), HUB, |m| signer.sign(m), "POST", http::SYNC_PATH, body, at)
            .pairs()
            .to_vec()
    };
    let expect = |status: u16, text: &str| {
        let text = text.to_owned();
        move |r: reqwest::Response| async move {
            let got = r.status().as_u16();
            let body = r.text().await.unwrap();
            assert_eq!(got, status, "{body}");
            assert!(body.contains(&text), "{body:?} does not mention {text:?}");
        }
    };

    let body = request(vec![good_entry(1, Timestamp::now())]);
    // Unsigned.
    expect(401, "missing")(post(body.clone(), vec![]).await.unwrap()).await;
    // Forged: signed by one device, claiming to be another.
    let mut forged = signed(&body, device, Timestamp::now());
    forged[0].1 = f.replicas[2].device().to_string();
    expect(401, "signature")(post(body.clone(), forged).await.unwrap()).await;
    // Stale: signed two hours ago.
    let stale = signed(&body, device, Timestamp::now().plus_seconds(-7200));
    expect(401, "ms from this device's clock")(post(body.clone(), stale).await.unwrap()).await;
    // Unknown key: a device the hub never enrolled.
    let stranger = Replica::open_in_memory(ReplicaConfig::new(DeviceId(99))).unwrap();
    let unknown = signed(&body, &stranger, Timestamp::now());
    expect(401, "not known here")(post(body.clone(), unknown).await.unwrap()).await;
    // Malformed and truncated bodies, correctly signed.
    let junk = b"not a sync message".to_vec();
    expect(400, "not a Voelgoed sync message")(
        post(junk.clone(), signed(&junk, device, Timestamp::now())).await.unwrap(),
    )
    .await;
    let cut = body[..body.len() - 5].to_vec();
    expect(400, "malformed")(post(cut.clone(), signed(&cut, device, Timestamp::now())).await.unwrap()).await;
    // Oversized: refused before it is read.
    let huge = vec![0u8; sync_core::sync::message::MAX_MESSAGE_BYTES + 1];
    let status = post(huge.clone(), signed(&huge, device, Timestamp::now())).await.unwrap().status();
    assert_eq!(status.as_u16(), 413);
    // An entry from a clock two hours ahead.
    let future = request(vec![good_entry(1, Timestamp::now().plus_seconds(7200))]);
    expect(422, "ahead")(post(future.clone(), signed(&future, device, Timestamp::now())).await.unwrap())
        .await;
    // An entry that skips sequence numbers.
    let gap = request(vec![good_entry(5, Timestamp::now())]);
    expect(409, "does not follow")(post(gap.clone(), signed(&gap, device, Timestamp::now())).await.unwrap())
        .await;
    // A device writing what only the hub may write (a revocation).
    let mut forged_revocation = good_entry(1, Timestamp::now());
    forged_revocation.payload = Payload::Revocation(sync_core::journal::RevocationEntry {
        first: Serial(0),
        last: Serial(u32::MAX),
        reason: sync_core::revocation::RevocationReason::Cancelled,
    });
    let forged_body = request(vec![forged_revocation]);
    expect(422, "only the hub")(
        post(forged_body.clone(), signed(&forged_body, device, Timestamp::now())).await.unwrap(),
    )
    .await;
    // Good entries together with a document change that does not load: all refused.
    let mut with_bad_doc = SyncRequest {
        have: device.have(),
        entries: vec![good_entry(1, Timestamp::now())],
        ..SyncRequest::default()
    };
    let mut doc = automerge::AutoCommit::new();
    let mut state = automerge::sync::State::new();
    let mut message = automerge::sync::SyncDoc::generate_sync_message(&doc.sync(), &mut state).unwrap();
    message.changes = automerge::sync::ChunkList::from(vec![b"not a change".to_vec()]);
    with_bad_doc.docs = vec![sync_core::sync::DocMessage {
        doc: sync_core::documents::DocId::guest_list(demo::EVENT),
        message: message.encode(),
    }];
    let bad_doc_body = with_bad_doc.encode();
    expect(422, "document")(
        post(bad_doc_body.clone(), signed(&bad_doc_body, device, Timestamp::now())).await.unwrap(),
    )
    .await;
    assert_eq!(hub.have(), before, "nothing was stored");

    // A good request is accepted once; the same request replayed is refused.
    let good = signed(&body, device, Timestamp::now());
    expect(200, "")(post(body.clone(), good.clone()).await.unwrap()).await;
    expect(401, "replayed")(post(body.clone(), good).await.unwrap()).await;
    assert_eq!(hub.have().get(device.device()), 1);
    assert_eq!(auth::content_digest(b""), "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:");
}
