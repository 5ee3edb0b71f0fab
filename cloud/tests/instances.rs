//! Two hub instances behind a load balancer behave as one: a device's signed request accepted
//! by one is a replay at the other, rate limits and API-token quotas count across both, and
//! their text workers send each buyer's text once.
//! (PostgreSQL: the backend for several instances.)

mod common;

use cloud::db::Backend;
use common::{
    Organizer, TestHub, enroll_keeping_key, enrollment_code, event_on_sale, press_pay, start_payment,
};
use serde_json::{Value, json};
use sync_core::ids::Timestamp;
use sync_core::journal::HUB;
use sync_core::sync::auth::sign_request;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_request_accepted_by_one_instance_is_refused_as_a_replay_by_the_other() {
    let hub = TestHub::start(Backend::Postgres).await;
    let other = hub.another_instance().await;
    let owner = Organizer::create(&hub, "festival").await;
    let event = event_on_sale(&owner, 100, 1000).await;
    let dir = tempfile::tempdir().unwrap();
    let code = enrollment_code(&owner, "Desk", "box_office", event).await;
    let (desk, key) = enroll_keeping_key(&hub, dir.path(), &code).await;
    let device = sync_core::sync::http::Identity::device(&*desk);

    // A box office asks for one more right: signed once, sent to both instances.
    let body = serde_json::to_vec(&json!({"event": event, "ticket_type": 1, "quantity": 1})).unwrap();
    let signed = sign_request(device, HUB, |m| key.sign(m), "POST", "/v1/leases", &body, Timestamp::now());
    let send = |base: &str| {
        let mut request = hub.client.post(format!("{base}/v1/leases")).body(body.clone());
        for (name, value) in signed.pairs() {
            request = request.header(name, value);
        }
        async move {
            let r = request.send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let (status, answer) = send(&hub.url).await;
    assert_eq!(status, 201, "the first instance grants: {answer}");
    let (status, answer) = send(&other.url).await;
    assert_eq!((status, answer.as_str()), (401, "replayed request refused"), "the second refuses the replay");
    let (status, _) = send(&hub.url).await;
    assert_eq!(status, 401, "and so does the first, a second time");
    assert_eq!(hub.number("SELECT COUNT(*) FROM leases").await, 1, "one lease, not three");

    // A fresh request (its own nonce) goes through either instance.
    let fresh = sign_request(device, HUB, |m| key.sign(m), "POST", "/v1/leases", &body, Timestamp::now());
    let mut request = hub.client.post(format!("{}/v1/leases", other.url)).body(body.clone());
    for (name, value) in fresh.pairs() {
        request = request.header(name, value);
    }
    assert_eq!(request.send().await.unwrap().status(), 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_hub_refuses_a_replay_too() {
    // SQLite is one hub process: it remembers nonces in memory (no write per request).
    let hub = TestHub::start(Backend::Sqlite).await;
    let owner = Organizer::create(&hub, "festival").await;
    let event = event_on_sale(&owner, 100, 1000).await;
    let dir = tempfile::tempdir().unwrap();
    let code = enrollment_code(&owner, "Desk", "box_office", event).await;
    let (desk, key) = enroll_keeping_key(&hub, dir.path(), &code).await;
    let device = sync_core::sync::http::Identity::device(&*desk);
    let body = serde_json::to_vec(&json!({"event": event, "ticket_type": 1, "quantity": 1})).unwrap();
    let signed = sign_request(device, HUB, |m| key.sign(m), "POST", "/v1/leases", &body, Timestamp::now());
    let mut statuses = Vec::new();
    for _ in 0..2 {
        let mut request = hub.post("/v1/leases").body(body.clone());
        for (name, value) in signed.pairs() {
            request = request.header(name, value);
        }
        statuses.push(request.send().await.unwrap().status().as_u16());
    }
    assert_eq!(statuses, [201, 401]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_and_enrollment_limits_count_a_burst_split_over_two_instances_as_one() {
    // The instances' clock stands still: what the limits refill while the test runs would
    // blur the count.
    let clock = cloud::clock::Clock::manual(Timestamp::now().0);
    let hub = TestHub::start_configured(Backend::Postgres, clock, |_| {}).await;
    let other = hub.another_instance().await;
    Organizer::create(&hub, "festival").await;
    let login = |base: &str| {
        let request = hub
            .client
            .post(format!("{base}/api/v1/login"))
            .json(&json!({"email": "someone@festival.example", "password": "wrong guess"}));
        async move {
            let r = request.send().await.unwrap();
            let retry = r.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
            (r.status().as_u16(), retry)
        }
    };
    // Five guesses for one address, alternating between the instances: each is refused as a
    // wrong password; the sixth is over the limit wherever it lands.
    for i in 0..5 {
        let base = if i % 2 == 0 { &hub.url } else { &other.url };
        assert_eq!(login(base).await.0, 401, "guess {i}");
    }
    for base in [&hub.url, &other.url] {
        let (status, retry) = login(base).await;
        assert_eq!(status, 429, "{base}");
        let retry: u64 = retry.expect("Retry-After").parse().unwrap();
        assert!((1..=12).contains(&retry), "{retry}");
    }

    // Enrollment attempts from one address: 200 at once across both instances, then no more.
    let enroll = |base: &str| {
        let request = hub
            .client
            .post(format!("{base}/api/v1/devices/enroll"))
            .json(&json!({"code": "NOPE-NOPE-NOPE", "public_key": "00".repeat(32), "app_version": "t"}));
        async move { request.send().await.unwrap().status().as_u16() }
    };
    for i in 0..200 {
        let base = if i % 2 == 0 { &hub.url } else { &other.url };
        assert_eq!(enroll(base).await, 422, "attempt {i} is counted but allowed");
    }
    assert_eq!(enroll(&hub.url).await, 429);
    assert_eq!(enroll(&other.url).await, 429);
    // A tenth of a second later, one more.
    hub.clock.advance(100);
    assert_eq!(enroll(&other.url).await, 422);
    assert_eq!(enroll(&hub.url).await, 429);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_api_token_has_its_own_request_quota_on_every_instance() {
    let hub = TestHub::start_configured(Backend::Postgres, cloud::clock::Clock::wall(), |config| {
        config.api_token_requests_per_minute = 6;
    })
    .await;
    let other = hub.another_instance().await;
    let owner = Organizer::create(&hub, "festival").await;
    let token = |name: &str| {
        let owner = &owner;
        let name = name.to_owned();
        async move {
            let (status, created) = owner.post("/api/v1/tokens", &json!({"name": name})).await;
            assert_eq!(status, 201, "{created}");
            created["token"].as_str().unwrap().to_owned()
        }
    };
    let (first, second) = (token("reporting").await, token("ticketing").await);
    let get = |base: &str, token: &str| {
        let request = hub.client.get(format!("{base}/api/v1/events")).bearer_auth(token);
        async move { request.send().await.unwrap() }
    };
    // Six requests a minute (six at once), wherever they land.
    for i in 0..6 {
        let base = if i % 2 == 0 { &hub.url } else { &other.url };
        assert_eq!(get(base, &first).await.status(), 200, "request {i}");
    }
    let refused = get(&other.url, &first).await;
    assert_eq!(refused.status(), 429);
    let retry: u64 = refused.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=10).contains(&retry), "one request every 10 s: wait {retry} s");
    let problem: Value = refused.json().await.unwrap();
    assert_eq!(problem["code"], "rate_limited");
    // Another token, and the console session, are not held back by the first token's quota.
    assert_eq!(get(&hub.url, &second).await.status(), 200);
    assert_eq!(owner.get("/api/v1/events").await["events"].as_array().map(Vec::len), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_text_workers_send_each_text_once() {
    let hub = TestHub::start(Backend::Postgres).await;
    let other = hub.another_instance().await;
    let owner = Organizer::create(&hub, "texts").await;
    let event = event_on_sale(&owner, 100, 1000).await;
    let orders = 12;
    for i in 1..=orders {
        let body = json!({"lines": [{"ticket_type": 1, "quantity": 1}], "email": format!("fan{i}@example.org"),
            "name": "Fan", "phone": format!("+3161234{i:04}"), "text_via": "sms"});
        let response =
            hub.post(&format!("/api/v1/public/events/{event}/orders")).json(&body).send().await.unwrap();
        assert_eq!(response.status(), 201);
        let placed: Value = response.json().await.unwrap();
        press_pay(&hub, &start_payment(&hub, &placed).await).await;
    }
    // Both workers at once, round after round, as two instances' workers rung by one commit.
    let mut sent = 0;
    for _ in 0..4 {
        let (a, b) = tokio::join!(hub.state.texts.deliver_pending(), other.state.texts.deliver_pending());
        sent += a.unwrap() + b.unwrap();
    }
    assert_eq!(sent, orders, "each text sent by one of them");
    let lines = std::fs::read_to_string(hub.config.data_dir.join("text-outbox.jsonl")).unwrap();
    let mut to: Vec<String> = lines
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["to"].as_str().unwrap().to_owned())
        .collect();
    to.sort();
    to.dedup();
    assert_eq!((lines.lines().count(), to.len()), (orders, orders), "once each, to every buyer: {lines}");
    assert_eq!(
        hub.number("SELECT COUNT(*) FROM text_messages WHERE state = 'sent' AND attempts = 1").await,
        12
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopping_instance_answers_its_long_polls_and_ends_its_live_streams_at_once() {
    use std::time::{Duration, Instant};
    let hub = TestHub::start(Backend::Postgres).await;
    let owner = Organizer::create(&hub, "festival").await;
    let event = event_on_sale(&owner, 100, 1000).await;
    let other = hub.another_instance().await;
    // A gate long-polling the instance about to stop, and a live dashboard streaming from it.
    let dir = tempfile::tempdir().unwrap();
    let code = enrollment_code(&owner, "North 1", "gate", event).await;
    let gate = common::enroll(&hub, dir.path(), &code).await;
    let transport =
        sync_core::sync::http::HttpTransport::new(&other.url, std::sync::Arc::clone(&gate), HUB).unwrap();
    sync_core::sync::sync_with(&*gate, &transport).await.unwrap();
    let waiting = {
        let gate = std::sync::Arc::clone(&gate);
        tokio::spawn(async move { sync_core::sync::live::poll_once(&*gate, &transport, 20_000).await })
    };
    let stream = format!("{}/events/{event}/live/stream", other.url);
    let mut dashboard = owner.authorize(hub.client.get(stream)).send().await.unwrap();
    assert_eq!(dashboard.status(), 200);
    assert!(dashboard.chunk().await.unwrap().is_some(), "the dashboard's first snapshot");
    tokio::time::sleep(Duration::from_millis(300)).await;

    // A rolling upgrade stops it (SIGTERM): it must not hold the shutdown for the long-poll's
    // 20 s, nor forever for the stream.
    let started = Instant::now();
    let stopped = tokio::time::timeout(Duration::from_secs(5), other.stop()).await;
    assert!(matches!(stopped, Ok(Ok(()))), "the instance stopped within 5 s: {stopped:?}");
    let polled = tokio::time::timeout(Duration::from_secs(1), waiting).await;
    assert!(matches!(polled, Ok(Ok(Ok(_)))), "the long-poll was answered, not cut: {polled:?}");
    let ended = tokio::time::timeout(Duration::from_secs(1), async {
        while let Ok(Some(_)) = dashboard.chunk().await {}
    })
    .await;
    assert!(ended.is_ok(), "the live stream ended, so its page reconnects elsewhere");
    assert!(started.elapsed() < Duration::from_secs(5), "stopped in {:?}", started.elapsed());

    // The gate carries on through the instance that stays.
    let transport =
        sync_core::sync::http::HttpTransport::new(&hub.url, std::sync::Arc::clone(&gate), HUB).unwrap();
    sync_core::sync::sync_with(&*gate, &transport).await.unwrap();
}
