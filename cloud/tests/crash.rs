//! Nothing lost, nothing doubled, when the hub dies as a power cut kills it (SIGKILL: no
//! shutdown, nothing flushed that was not committed). The hub runs as its own process (the
//! `cloud` binary) on PostgreSQL, paying through Stripe's emulator (localstripe):
//!
//! 1. killed between the provider's success and the hub's commit — the card is charged at
//!    Stripe while the hub is dead, so the webhook finds nobody. Two instances restart at once
//!    and both go looking for payments whose webhook never came: the order is paid once, has
//!    its tickets once, and its buyer gets one confirmation;
//! 2. killed between the commit and the e-mail — the order is paid and its confirmation queued,
//!    but the mail cannot leave yet. After the restart it leaves, once;
//! 3. killed between the changes and their webhooks — a partner's endpoint is paused through
//!    both kills, so every order's `order.placed` and `order.paid` sit in the outbox. Enabled
//!    after the last restart, each reaches the partner once, in order, verified by the
//!    Standard Webhooks reference library;
//! 4. killed between a scheduled report's run and its mail — the run is recorded and its mail
//!    (CSV and PDF beside it) queued, but the mail cannot leave. After the restart it leaves,
//!    once, and the slot is not run again; likewise a paid order's text to the buyer's phone,
//!    queued with its tickets but not yet sent: after the restart it is sent, once.
//!
//! Stripe itself would retry the lost webhook for three days; localstripe does not, so here
//! the hub's own recovery (asking Stripe about pending payments) is what finds the payment —
//! the path that must work whether or not a webhook ever comes.

mod common;

use base64::Engine as _;
use cloud::webhooks::signature::Secret;
use common::localstripe::{Localstripe, WEBHOOK_SECRET};
use common::standard_webhooks::Receiver;
use common::{MASTER_KEY, Organizer, festival, postgres_admin_url, put_on_sale};
use mail_parser::MimeHeaders;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// One hub process.
struct HubProcess {
    child: Child,
    url: String,
}

impl HubProcess {
    /// Starts the hub binary on `port` with its data in `data` and its database at `database`,
    /// paying through `stripe`, and waits until it answers `/health`.
    async fn start(data: &Path, database: &str, port: u16, stripe: &Localstripe) -> Self {
        let url = format!("http://127.0.0.1:{port}");
        let master = base64::engine::general_purpose::STANDARD.encode(MASTER_KEY);
        let child = Command::new(env!("CARGO_BIN_EXE_cloud"))
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .env("VOELGOED_DATA_DIR", data)
            .env("VOELGOED_DATABASE_URL", database)
            .env("VOELGOED_MASTER_KEY", master)
            .env("VOELGOED_PUBLIC_URL", &url)
            .env("VOELGOED_LOG", "warn")
            .env("VOELGOED_CHECKOUTS_PER_MINUTE", "100000")
            .env("VOELGOED_WEBHOOKS_ALLOW_PRIVATE", "true") // the partner listens on 127.0.0.1
            // Ask Stripe about a payment pending a second: the test cannot wait a minute.
            .env("VOELGOED_MISSED_PAYMENT_AFTER_SECS", "1")
            .env("VOELGOED_STRIPE_SECRET_KEY", "sk_test_voelgoed")
            .env("VOELGOED_STRIPE_PUBLISHABLE_KEY", "pk_test_voelgoed")
            .env("VOELGOED_STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET)
            .env("VOELGOED_STRIPE_API_BASE", &stripe.url)
            .env("VOELGOED_STRIPE_JS_URL", format!("{}/js.stripe.com/v3/", stripe.url))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the hub binary");
        let hub = Self { child, url };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = client().get(format!("{}/health", hub.url)).send().await
                && r.status().is_success()
            {
                return hub;
            }
            assert!(Instant::now() < deadline, "the hub did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGKILL: the process ends where it is.
    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for HubProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP client (the devices' one: it sets up TLS's crypto once for the process).
fn client() -> reqwest::Client {
    sync_core::sync::http::http_client().unwrap()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A fresh PostgreSQL database for the test named `test`: its URL.
async fn fresh_database(test: &str) -> String {
    let name = format!("voelgoed_crash_{test}_{}", std::process::id());
    let admin = cloud::db::Db::connect(&postgres_admin_url()).await.expect("PostgreSQL");
    for sql in [format!("DROP DATABASE IF EXISTS {name}"), format!("CREATE DATABASE {name}")] {
        sqlx::query(sqlx::AssertSqlSafe(sql)).execute(admin.pool()).await.unwrap();
    }
    let base = postgres_admin_url();
    format!("{}/{name}", &base[..base.rfind('/').unwrap()])
}

/// The `.eml` files in the mail drop.
fn mails(data: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(data.join("mail-outbox")) else { return Vec::new() };
    let mut found: Vec<_> =
        entries.map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|x| x == "eml")).collect();
    found.sort();
    found
}

/// Waits until `check` holds (up to 90 s: a failed delivery is retried after a wait).
async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(90);
    while !check().await {
        assert!(Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn json(request: reqwest::RequestBuilder) -> Value {
    request.send().await.unwrap().json().await.unwrap()
}

/// A buyer's order of `quantity` tickets and its PaymentIntent at Stripe.
async fn order_and_intent(client: &reqwest::Client, hub: &str, event: i64, quantity: u32) -> (Value, String) {
    let placed = json(client.post(format!("{hub}/api/v1/public/events/{event}/orders")).json(&json!({
        "lines": [{"ticket_type": 1, "quantity": quantity}],
        "email": "fan@example.org",
        "name": "Frieda Fan"
    })))
    .await;
    let code = placed["code"].as_str().expect("an order");
    let path = format!("{hub}/api/v1/public/orders/{code}/{}", placed["secret"].as_str().unwrap());
    let payment =
        json(client.post(format!("{path}/payments")).header("idempotency-key", format!("pay-{code}"))).await;
    let intent =
        payment["client_secret"].as_str().expect("a client secret").split("_secret_").next().unwrap();
    (placed, intent.to_owned())
}

/// The buyer's card confirmed on `intent`, as Stripe.js does on the payment page.
async fn pay(stripe: &Localstripe, intent: &str) {
    let card = [
        ("type", "card"),
        ("card[number]", "4242424242424242"),
        ("card[exp_month]", "12"),
        ("card[exp_year]", "2034"),
        ("card[cvc]", "123"),
    ];
    let method = stripe.post("/v1/payment_methods", &card).await;
    stripe
        .post(&format!("/v1/payment_intents/{intent}"), &[("payment_method", method["id"].as_str().unwrap())])
        .await;
    let confirmed = stripe.post(&format!("/v1/payment_intents/{intent}/confirm"), &[]).await;
    assert_eq!(confirmed["status"], "succeeded", "{confirmed}");
}

async fn order_status(client: &reqwest::Client, hub: &str, placed: &Value) -> Value {
    let (code, secret) = (placed["code"].as_str().unwrap(), placed["secret"].as_str().unwrap());
    json(client.get(format!("{hub}/api/v1/public/orders/{code}/{secret}"))).await
}

/// A partner's endpoint for order events, paused at once: its events wait in the outbox
/// through every kill. The partner, and the endpoint's path.
async fn paused_partner(owner: &Organizer) -> (Receiver, String) {
    let partner = Receiver::start(&Secret::generate().unwrap().to_text());
    let endpoint = json!({"url": format!("{}/ok", partner.url), "event_types": ["order.placed", "order.paid"], "ordered": true});
    let (status, made) = owner.post("/api/v1/webhooks", &endpoint).await;
    assert_eq!(status, 201, "{made}");
    partner.set_secret(made["secret"].as_str().unwrap()).await;
    let hook = format!("/api/v1/webhooks/{}", made["endpoint"]["id"]);
    assert_eq!(owner.send(reqwest::Method::PATCH, &hook, &json!({"enabled": false})).await.0, 200);
    (partner, hook)
}

/// The partner got each order's `order.placed` and `order.paid` once, in order, verified.
async fn partner_got_each_once(partner: &Receiver, first: &Value, second: &Value) {
    eventually("the four webhooks delivered", async || partner.log().await.len() >= 4).await;
    tokio::time::sleep(Duration::from_secs(2)).await; // time enough for a duplicate to show
    let log = partner.log().await;
    let seen: Vec<(String, String)> = log
        .iter()
        .map(|r| {
            let body: Value = serde_json::from_str(r["body"].as_str().unwrap()).unwrap();
            (body["type"].as_str().unwrap().to_owned(), body["data"]["order"].as_str().unwrap().to_owned())
        })
        .collect();
    let code = |o: &Value| o["code"].as_str().unwrap().to_owned();
    assert_eq!(
        seen,
        [
            ("order.placed".to_owned(), code(first)),
            ("order.paid".to_owned(), code(first)),
            ("order.placed".to_owned(), code(second)),
            ("order.paid".to_owned(), code(second)),
        ],
        "each once, in order"
    );
    assert!(log.iter().all(|r| r["verified"] == "ok"), "{log:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hub_killed_mid_payment_charges_once_issues_once_and_mails_once() {
    let client = client();
    let stripe = Localstripe::start();
    let database = fresh_database("payment").await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let port = free_port();
    let hub = HubProcess::start(data, &database, port, &stripe).await;
    stripe.send_webhooks_to(&format!("{}{}", hub.url, cloud::sales::WEBHOOK_PATH)).await;

    let db = cloud::db::Db::connect(&database).await.unwrap();
    let new = cloud::tenancy::NewOrganization {
        name: "Crash Test Festival".into(),
        slug: "crash".into(),
        owner_email: "owner@crash.example".into(),
        owner_name: "Owner".into(),
        owner_password: common::PASSWORD.into(),
    };
    cloud::tenancy::create_organization(&db, &new).await.unwrap();
    let owner = Organizer::login_at(&hub.url, &client, "owner@crash.example").await;
    let event = put_on_sale(&owner, &festival()).await;
    let (partner, hook) = paused_partner(&owner).await;

    // 1. Killed between Stripe's success and the hub's commit: the card is charged while the
    //    hub is dead; Stripe's webhook finds nobody.
    let (first, intent) = order_and_intent(&client, &hub.url, event, 2).await;
    hub.kill();
    pay(&stripe, &intent).await;
    tokio::time::sleep(Duration::from_millis(1500)).await; // the webhook tried and failed
    let one = HubProcess::start(data, &database, port, &stripe).await;
    let two = HubProcess::start(data, &database, free_port(), &stripe).await;
    eventually("the order paid after the restart", async || {
        order_status(&client, &one.url, &first).await["status"] == "paid"
    })
    .await;
    eventually("its confirmation delivered", async || mails(data).len() == 1).await;
    let paid = order_status(&client, &two.url, &first).await;
    assert_eq!(paid["tickets"].as_array().unwrap().len(), 2, "its tickets, once: {paid}");

    // 2. Killed between the commit and the e-mail: the mail drop is blocked (a file where its
    //    directory should be), so the confirmation stays queued when the hub dies.
    let outbox = data.join("mail-outbox");
    std::fs::rename(&outbox, data.join("mail-delivered")).unwrap();
    std::fs::write(&outbox, b"not a directory").unwrap();
    let (second, intent) = order_and_intent(&client, &one.url, event, 1).await;
    pay(&stripe, &intent).await;
    eventually("the second order paid by its webhook", async || {
        order_status(&client, &one.url, &second).await["status"] == "paid"
    })
    .await;
    let code = second["code"].as_str().unwrap().to_owned();
    // A failure recorded, not only an attempt claimed: a hub killed between its claim and the
    // failure leaves a claim that ages out only after five minutes (a sender that died
    // mid-delivery), far beyond this test's patience.
    eventually("a delivery of its confirmation tried and failed", async || {
        let failed: Option<bool> = sqlx::query_scalar(
            "SELECT x.last_error IS NOT NULL FROM outbox x JOIN orders o ON o.id = x.order_id WHERE o.code = $1 AND x.sent_at IS NULL",
        )
        .bind(&code)
        .fetch_optional(db.pool())
        .await
        .unwrap();
        failed == Some(true)
    })
    .await;
    one.kill();
    two.kill();
    std::fs::remove_file(&outbox).unwrap();
    std::fs::rename(data.join("mail-delivered"), &outbox).unwrap();
    let hub = HubProcess::start(data, &database, port, &stripe).await;
    eventually("the second confirmation delivered after the restart", async || mails(data).len() == 2).await;
    tokio::time::sleep(Duration::from_secs(2)).await; // time enough for a duplicate to show
    let delivered = mails(data);
    assert_eq!(delivered.len(), 2, "one confirmation per order, no more");
    for (mail, placed) in delivered.iter().zip([&first, &second]) {
        let text = std::fs::read(mail).unwrap();
        let parsed = mail_parser::MessageParser::default().parse(&text).unwrap();
        let body = parsed.body_text(0).unwrap();
        assert!(body.contains(placed["code"].as_str().unwrap()), "{body}");
    }

    // Charged once each, at Stripe and in the ledger.
    let charges = stripe.get("/v1/charges?limit=100").await;
    let succeeded = charges["data"].as_array().unwrap().iter().filter(|c| c["status"] == "succeeded").count();
    assert_eq!(succeeded, 2, "one charge per order: {charges}");
    let payments: Vec<(String, String)> = sqlx::query_as(
        "SELECT o.code, p.status FROM payments p JOIN orders o ON o.id = p.order_id ORDER BY p.id",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    assert_eq!(payments.len(), 2, "{payments:?}");
    assert!(payments.iter().all(|(_, s)| s == "succeeded"), "{payments:?}");
    let issued: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tickets").fetch_one(db.pool()).await.unwrap();
    assert_eq!(issued, 3, "2 + 1 tickets, each issued once");
    let second_now = order_status(&client, &hub.url, &second).await;
    assert_eq!(second_now["tickets"].as_array().unwrap().len(), 1);

    // 3. The partner's endpoint enabled: what the killed hubs committed reaches it, once each.
    let owner = owner.at(&hub.url);
    assert_eq!(owner.send(reqwest::Method::PATCH, &hook, &json!({"enabled": true})).await.0, 200);
    partner_got_each_once(&partner, &first, &second).await;
    hub.kill();
    drop_database(db, &database).await;
}

/// A buyer's order of one ticket, with a phone for its text, paid at Stripe.
async fn paid_order_texting(client: &reqwest::Client, hub: &str, stripe: &Localstripe, event: i64) {
    let placed = json(client.post(format!("{hub}/api/v1/public/events/{event}/orders")).json(&json!({
        "lines": [{"ticket_type": 1, "quantity": 1}], "email": "fan@example.org", "name": "Frieda Fan",
        "phone": "+31 6 1234 5678", "text_via": "sms"
    })))
    .await;
    let (code, secret) = (placed["code"].as_str().unwrap(), placed["secret"].as_str().unwrap());
    let payment = json(client.post(format!("{hub}/api/v1/public/orders/{code}/{secret}/payments"))).await;
    pay(stripe, payment["client_secret"].as_str().unwrap().split("_secret_").next().unwrap()).await;
}

/// The subjects of the mail in the drop, oldest first.
fn subjects(data: &Path) -> Vec<String> {
    mails(data)
        .iter()
        .map(|m| {
            let raw = std::fs::read(m).unwrap();
            mail_parser::MessageParser::default()
                .parse(&raw)
                .unwrap()
                .subject()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

/// Drops the test's database.
async fn drop_database(db: cloud::db::Db, database: &str) {
    db.pool().close().await;
    let admin = cloud::db::Db::connect(&postgres_admin_url()).await.unwrap();
    let name = &database[database.rfind('/').unwrap() + 1..];
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
        .execute(admin.pool())
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hub_killed_with_a_report_and_a_text_queued_sends_each_after_the_restart_once() {
    let client = client();
    let stripe = Localstripe::start();
    let database = fresh_database("report").await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    // The mail drop blocked (a file where its directory goes): the report's mail stays queued;
    // and the simulated text channel (a directory where its file goes): the text stays queued.
    let outbox = data.join("mail-outbox");
    std::fs::write(&outbox, b"not a directory").unwrap();
    let texts = data.join("text-outbox.jsonl");
    std::fs::create_dir(&texts).unwrap();
    let port = free_port();
    let hub = HubProcess::start(data, &database, port, &stripe).await;
    stripe.send_webhooks_to(&format!("{}{}", hub.url, cloud::sales::WEBHOOK_PATH)).await;
    let db = cloud::db::Db::connect(&database).await.unwrap();
    let new = cloud::tenancy::NewOrganization {
        name: "Report Festival".into(),
        slug: "report".into(),
        owner_email: "owner@report.example".into(),
        owner_name: "Owner".into(),
        owner_password: common::PASSWORD.into(),
    };
    cloud::tenancy::create_organization(&db, &new).await.unwrap();
    let owner = Organizer::login_at(&hub.url, &client, "owner@report.example").await;
    let event = put_on_sale(&owner, &festival()).await;
    paid_order_texting(&client, &hub.url, &stripe, event).await;

    // Daily at an hour ago on the venue's clock, made two days ago (as if the hub had been
    // down since): yesterday's slot and today's are due.
    let amsterdam = jiff::tz::TimeZone::get("Europe/Amsterdam").unwrap();
    let hour_ago =
        jiff::Timestamp::now().to_zoned(amsterdam).checked_sub(jiff::SignedDuration::from_hours(1)).unwrap();
    let body = json!({"report": "sales", "time": hour_ago.strftime("%H:%M").to_string(), "roles": ["owner"]});
    let (status, made) = owner.post(&format!("/api/v1/events/{event}/report-schedules"), &body).await;
    assert_eq!(status, 201, "{made}");
    sqlx::query("UPDATE report_schedules SET since = since - 172800000, next_at = 0")
        .execute(db.pool())
        .await
        .unwrap();
    eventually("the report run and its mail tried and failed", async || {
        let failed: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM outbox x JOIN outbox_attachments a ON a.outbox_id = x.id WHERE x.last_error IS NOT NULL",
        )
        .fetch_one(db.pool())
        .await
        .unwrap();
        failed > 0
    })
    .await;
    eventually("the buyer's text tried and failed", async || {
        let failed: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM text_messages WHERE state = 'pending' AND last_error IS NOT NULL",
        )
        .fetch_one(db.pool())
        .await
        .unwrap();
        failed == 1
    })
    .await;
    hub.kill();

    std::fs::remove_file(&outbox).unwrap();
    std::fs::remove_dir(&texts).unwrap();
    let hub = HubProcess::start(data, &database, port, &stripe).await;
    let sent_texts = || std::fs::read_to_string(&texts).unwrap_or_default().lines().count();
    eventually("the report delivered after the restart", async || {
        subjects(data).iter().any(|s| s.starts_with("Sales"))
    })
    .await;
    // The text waits out its retry (15 s after its failure) and the worker's round.
    eventually("the text sent after the restart", async || sent_texts() > 0).await;
    tokio::time::sleep(Duration::from_secs(2)).await; // time enough for a duplicate to show
    assert_eq!(sent_texts(), 1, "one text, once");
    let reports: Vec<PathBuf> = mails(data)
        .into_iter()
        .filter(|m| String::from_utf8_lossy(&std::fs::read(m).unwrap()).contains("Subject: Sales"))
        .collect();
    assert_eq!(reports.len(), 1, "one report, once: {:?}", subjects(data));
    let text = std::fs::read(&reports[0]).unwrap();
    let parsed = mail_parser::MessageParser::default().parse(&text).unwrap();
    assert_eq!(parsed.subject(), Some("Sales: Summer Festival"));
    let names: Vec<String> =
        parsed.attachments().filter_map(|a| a.attachment_name().map(str::to_owned)).collect();
    assert_eq!(names.len(), 2, "CSV and PDF: {names:?}");
    let runs: Vec<String> = sqlx::query_scalar("SELECT outcome FROM report_runs ORDER BY slot_at")
        .fetch_all(db.pool())
        .await
        .unwrap();
    assert_eq!(runs.last().map(String::as_str), Some("sent"), "{runs:?}");
    assert!(runs[..runs.len() - 1].iter().all(|o| o == "caught_up"), "each slot run once: {runs:?}");
    hub.kill();
    drop_database(db, &database).await;
}
