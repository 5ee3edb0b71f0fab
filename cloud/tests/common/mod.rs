//! Test harness: the real hub on 127.0.0.1:0, on an SQLite file or a fresh PostgreSQL
//! database (on the local server at 127.0.0.1:5432, or `VOELGOED_TEST_POSTGRES`).
#![allow(dead_code, unreachable_pub)]

pub mod browser;
pub mod localstripe;
pub mod standard_webhooks;
pub mod twilio;

use cloud::clock::Clock;
use cloud::config::Config;
use cloud::db::{Backend, Db};
use cloud::server::serve;
use cloud::state::AppState;
use cloud::tenancy::{NewOrganization, create_organization};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use sync_core::keys::DeviceKey;
use sync_core::replica::Replica;
use tokio::sync::oneshot;

/// Both backends, for tests that must hold on each.
pub const BACKENDS: [Backend; 2] = [Backend::Sqlite, Backend::Postgres];

/// The master key every test hub uses (tests derive the simulated provider's secrets from it).
pub const MASTER_KEY: [u8; 32] = [0x5a; 32];

pub fn postgres_admin_url() -> String {
    std::env::var("VOELGOED_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A running hub and its database.
pub struct TestHub {
    pub url: String,
    pub db: Db,
    pub backend: Backend,
    pub client: reqwest::Client,
    /// Where the hub's mail lands (a mail drop).
    pub mail_dir: std::path::PathBuf,
    /// The hub's clock (a manual one moves only when the test moves it).
    pub clock: Clock,
    /// The hub's state, for running its periodic work by hand.
    pub state: AppState,
    /// Its configuration (another instance is started with the same).
    pub config: Config,
    _dir: tempfile::TempDir,
    pg_database: Option<String>,
    stop: Option<oneshot::Sender<()>>,
    /// The webhook delivery worker, stopped with the hub.
    webhooks: tokio::task::AbortHandle,
    /// The mail worker, stopped with the hub.
    mail: tokio::task::AbortHandle,
}

impl TestHub {
    pub async fn start(backend: Backend) -> Self {
        Self::start_with_limit(backend, 1_000_000).await
    }

    /// A hub allowing `checkouts_per_minute` per client address.
    pub async fn start_with_limit(backend: Backend, checkouts_per_minute: u32) -> Self {
        Self::start_configured(backend, Clock::wall(), |config| {
            // Every test request comes from 127.0.0.1: checkout's per-address limit would be
            // the test's bottleneck, so it is raised (the limit itself has a test of its own).
            config.checkouts_per_minute = checkouts_per_minute;
        })
        .await
    }

    /// A hub on `clock`, with its configuration changed by `configure` (the database, data
    /// directory, master key and public URL are the harness's).
    pub async fn start_configured(
        backend: Backend,
        clock: Clock,
        configure: impl FnOnce(&mut Config),
    ) -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let dir = tempfile::tempdir().unwrap();
        let (url, pg_database) = match backend {
            Backend::Sqlite => (format!("sqlite://{}?mode=rwc", dir.path().join("hub.db").display()), None),
            Backend::Postgres => {
                let name =
                    format!("voelgoed_test_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::SeqCst));
                let admin = Db::connect(&postgres_admin_url())
                    .await
                    .expect("PostgreSQL on 127.0.0.1:5432 (scripts/test starts it)");
                sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name}")))
                    .execute(admin.pool())
                    .await
                    .unwrap();
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(admin.pool())
                    .await
                    .unwrap();
                let base = postgres_admin_url();
                let url = format!("{}/{name}", &base[..base.rfind('/').unwrap()]);
                (url, Some(name))
            }
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let mut config = test_config(dir.path(), &url, &base);
        configure(&mut config);
        let state = AppState::build(&config, clock.clone()).await.unwrap();
        let shared_config = config.clone();
        let db = state.db.clone();
        let kept = state.clone();
        let webhooks = tokio::spawn(state.webhooks.clone().run()).abort_handle();
        let mail = tokio::spawn(cloud::mail::run(state.db.clone(), state.mailer.clone())).abort_handle();
        let (stop, stopped) = oneshot::channel();
        tokio::spawn(serve(listener, state, async {
            let _ = stopped.await;
        }));
        let client = sync_core::sync::http::http_client().unwrap();
        Self {
            url: base,
            db,
            backend,
            client,
            mail_dir: dir.path().join("mail-outbox"),
            clock,
            state: kept,
            config: shared_config,
            _dir: dir,
            pg_database,
            stop: Some(stop),
            webhooks,
            mail,
        }
    }

    /// Another hub instance on the same database (PostgreSQL: stateless instances behind a
    /// load balancer); stops when the returned handle is dropped.
    pub async fn another_instance(&self) -> Instance {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let mut config = self.config.clone();
        config.public_url.clone_from(&url);
        let state = AppState::build(&config, self.clock.clone()).await.unwrap();
        let kept = state.clone();
        let webhooks = tokio::spawn(state.webhooks.clone().run()).abort_handle();
        let mail = tokio::spawn(cloud::mail::run(state.db.clone(), state.mailer.clone())).abort_handle();
        let (stop, stopped) = oneshot::channel();
        let server = tokio::spawn(serve(listener, state, async {
            let _ = stopped.await;
        }));
        Instance { url, state: kept, stop: Some(stop), server: Some(server), webhooks, mail }
    }

    /// A transaction that sees every organization's rows, for tests to inspect the database
    /// (the hub's own pool is under row-level security on PostgreSQL).
    pub async fn inspect(&self) -> cloud::db::System {
        self.db.system().await.unwrap()
    }

    /// The single number `sql` selects.
    pub async fn number(&self, sql: &'static str) -> i64 {
        sqlx::query_scalar(sql).fetch_one(&mut *self.inspect().await).await.unwrap()
    }

    /// Delivers the pending mail and waits until none is left (up to 5 s): the hub's own mail
    /// worker may hold a message for a moment, so one delivery round of the test's is not
    /// enough to see it in the mail drop.
    pub async fn deliver_all_mail(&self) {
        for _ in 0..100 {
            cloud::mail::deliver_pending(&self.db, &self.state.mailer).await.unwrap();
            if self.number("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL").await == 0 {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.get(format!("{}{path}", self.url))
    }

    pub fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.post(format!("{}{path}", self.url))
    }
}

/// The configuration of a test hub with its data in `dir`, on database `url`, reached at
/// `public_url`: the test master key, mail to `<dir>/mail-outbox`, limits raised past what
/// tests send.
pub fn test_config(dir: &std::path::Path, url: &str, public_url: &str) -> Config {
    use base64::Engine as _;
    let mut config = Config::defaults();
    dir.clone_into(&mut config.data_dir);
    config.database_url = url.to_owned().into();
    config.master_key = base64::engine::general_purpose::STANDARD.encode(MASTER_KEY).into();
    public_url.clone_into(&mut config.public_url);
    config.api_token_requests_per_minute = 1_000_000;
    // Webhook receivers in tests listen on 127.0.0.1.
    config.webhooks_allow_private = true;
    config
}

/// A second hub instance; stops when dropped.
pub struct Instance {
    pub url: String,
    mail: tokio::task::AbortHandle,
    /// Its state (its maintenance steps can be run by hand).
    pub state: AppState,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    webhooks: tokio::task::AbortHandle,
}

impl Instance {
    /// Stops it as SIGTERM stops a hub (no new connections, requests in flight finish) and
    /// waits until it has.
    pub async fn stop(mut self) -> std::io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.server.take().expect("serving").await.expect("the server task")
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.webhooks.abort();
        self.mail.abort();
    }
}

impl Drop for TestHub {
    fn drop(&mut self) {
        self.webhooks.abort();
        self.mail.abort();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(name) = self.pg_database.take() {
            // The names are made here (pid and counter), never from input: safe to format.
            // Dropping the database needs a connection of its own, outside the test's runtime.
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                runtime.block_on(async {
                    if let Ok(admin) = Db::connect(&postgres_admin_url()).await {
                        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                        )))
                        .execute(admin.pool())
                        .await;
                    }
                });
            })
            .join()
            .ok();
        }
    }
}

/// The password every test user gets.
pub const PASSWORD: &str = "correct horse battery";

/// A logged-in console user of one organization: the session cookie and its CSRF token.
pub struct Organizer {
    pub hub_url: String,
    pub client: reqwest::Client,
    pub org_id: i64,
    cookie: String,
    csrf: String,
}

impl Organizer {
    /// Creates organization `slug` with owner `owner@<slug>.example` and logs in as them.
    pub async fn create(hub: &TestHub, slug: &str) -> Self {
        let new = NewOrganization {
            name: format!("Org {slug}"),
            slug: slug.into(),
            owner_email: format!("owner@{slug}.example"),
            owner_name: "Owner".into(),
            owner_password: PASSWORD.into(),
        };
        let created = create_organization(&hub.db, &new).await.unwrap();
        let mut me = Self::login(hub, &new.owner_email).await;
        me.org_id = created.org_id;
        me
    }

    /// Logs in as `email` (password [`PASSWORD`]).
    pub async fn login(hub: &TestHub, email: &str) -> Self {
        Self::login_at(&hub.url, &hub.client, email).await
    }

    /// Logs in as `email` (password [`PASSWORD`]) at the hub at `url`.
    pub async fn login_at(url: &str, client: &reqwest::Client, email: &str) -> Self {
        let response = client
            .post(format!("{url}/api/v1/login"))
            .json(&json!({"email": email, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "login as {email}");
        let cookie = response.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
        let body: Value = response.json().await.unwrap();
        Self {
            hub_url: url.to_owned(),
            client: client.clone(),
            org_id: body["org_id"].as_i64().unwrap_or(0),
            cookie,
            csrf: body["csrf_token"].as_str().unwrap().to_owned(),
        }
    }

    /// Adds `email` to this organization in `role` (password [`PASSWORD`]) and logs them in.
    pub async fn add_member(&self, hub: &TestHub, email: &str, role: &str) -> Self {
        let body = json!({"email": email, "name": "Member", "role": role, "initial_password": PASSWORD});
        let (status, added) = self.post("/api/v1/members", &body).await;
        assert_eq!(status, 201, "{added}");
        Self::login(hub, email).await
    }

    /// The same session, talking to another hub instance at `url`.
    pub fn at(&self, url: &str) -> Self {
        Self {
            hub_url: url.to_owned(),
            client: self.client.clone(),
            org_id: self.org_id,
            cookie: self.cookie.clone(),
            csrf: self.csrf.clone(),
        }
    }

    /// The session cookie (`name=value`).
    pub fn cookie(&self) -> &str {
        &self.cookie
    }

    /// Adds this session's cookie and CSRF token to `request`.
    pub fn authorize(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        request.header("cookie", &self.cookie).header("x-csrf-token", &self.csrf)
    }

    /// Sends `method path` with `body` (JSON, if not null); returns the status and JSON body.
    pub async fn send(&self, method: reqwest::Method, path: &str, body: &Value) -> (u16, Value) {
        let mut request = self.authorize(self.client.request(method, format!("{}{path}", self.hub_url)));
        if !body.is_null() {
            request = request.json(body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.send(reqwest::Method::POST, path, body).await
    }

    /// `POST path` with `body` and an `Idempotency-Key`: (status, JSON body).
    pub async fn post_with_key(&self, path: &str, body: &Value, key: &str) -> (u16, Value) {
        let request =
            self.client.post(format!("{}{path}", self.hub_url)).header("idempotency-key", key).json(body);
        let response = self.authorize(request).send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// GET that must succeed.
    pub async fn get(&self, path: &str) -> Value {
        let (status, body) = self.send(reqwest::Method::GET, path, &Value::Null).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }
}

/// An event starting an hour ago, with a main gate, an exit and a day ticket.
pub fn festival() -> Value {
    let now = sync_core::ids::Timestamp::now().0;
    json!({
        "name": "Summer Festival",
        "time_zone": "Europe/Amsterdam",
        "starts_at": now - 3_600_000,
        "ends_at": now + 36_000_000,
        "gates": [{"name": "Main"}, {"name": "South exit", "serves": "exit_only"}],
        "ticket_types": [
            {"name": "Day", "price_minor": 4500, "currency": "EUR", "capacity": 1000, "entry_policy": "single_entry"}
        ]
    })
}

// The shop, as a customer uses it.

/// An event on sale with one ticket type of `capacity` at `price_minor`.
pub async fn event_on_sale(owner: &Organizer, capacity: i64, price_minor: i64) -> i64 {
    let mut event = festival();
    event["ticket_types"][0]["capacity"] = json!(capacity);
    event["ticket_types"][0]["price_minor"] = json!(price_minor);
    put_on_sale(owner, &event).await
}

/// Creates `event` (a `POST /api/v1/events` body) and puts it on sale; its id.
pub async fn put_on_sale(owner: &Organizer, event: &Value) -> i64 {
    let (status, created) = owner.post("/api/v1/events", event).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_i64().unwrap();
    assert_eq!(
        owner.post(&format!("/api/v1/events/{id}/status"), &json!({"status": "on_sale"})).await.0,
        204
    );
    id
}

pub async fn checkout(hub: &TestHub, event: i64, quantity: u32, key: Option<&str>) -> (u16, Value) {
    let mut request = hub.post(&format!("/api/v1/public/events/{event}/orders")).json(&json!({
        "lines": [{"ticket_type": 1, "quantity": quantity}],
        "email": "Fan@Example.org",
        "name": "Frieda Fan"
    }));
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

pub fn order_url(order: &Value) -> String {
    format!("/api/v1/public/orders/{}/{}", order["code"].as_str().unwrap(), order["secret"].as_str().unwrap())
}

/// Starts paying `order`; returns the provider's checkout page.
pub async fn start_payment(hub: &TestHub, order: &Value) -> String {
    let response = hub.post(&format!("{}/payments", order_url(order))).send().await.unwrap();
    assert_eq!(response.status(), 201);
    let payment: Value = response.json().await.unwrap();
    payment["checkout_url"].as_str().unwrap().to_owned()
}

/// The customer presses "Pay" on the provider's page.
pub async fn press_pay(hub: &TestHub, checkout_url: &str) {
    let response = hub.client.post(format!("{checkout_url}/pay")).send().await.unwrap();
    assert!(response.status().is_success(), "{}", response.status());
}

pub async fn order(hub: &TestHub, order: &Value) -> Value {
    hub.get(&order_url(order)).send().await.unwrap().json().await.unwrap()
}

// Devices.

/// Enrolls a fresh device with `code`: its key, its replica trusting the hub, its id.
pub async fn enroll(hub: &TestHub, dir: &std::path::Path, code: &str) -> Arc<Replica> {
    enroll_keeping_key(hub, dir, code).await.0
}

/// [`enroll`], also returning (a copy of) the device's key — a box office signs tickets with it.
/// Goes through sync-core's enrollment client, as the apps do.
pub async fn enroll_keeping_key(
    hub: &TestHub,
    dir: &std::path::Path,
    code: &str,
) -> (Arc<Replica>, DeviceKey) {
    use sync_core::sync::http::enroll::{Invitation, create_replica, enroll};
    let key = DeviceKey::generate().unwrap();
    let copy = DeviceKey::from_seed(key.secret_seed());
    let invitation = Invitation::parse(code, Some(&hub.url)).unwrap();
    let enrollment = enroll(&invitation, &key, "test").await.unwrap();
    let path = dir.join(format!("device-{}.db", enrollment.device.0));
    (Arc::new(create_replica(&path, &enrollment, key).unwrap()), copy)
}

/// An enrollment code for a device `name` with `role` ("gate", "box_office") for `event`.
pub async fn enrollment_code(owner: &Organizer, name: &str, role: &str, event: i64) -> String {
    let (status, code) = owner
        .post("/api/v1/devices/enrollment-codes", &json!({"name": name, "role": role, "events": [event]}))
        .await;
    assert_eq!(status, 201, "{code}");
    code["code"].as_str().unwrap().to_owned()
}
