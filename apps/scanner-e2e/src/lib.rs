//! # End-to-end harness for the Voelgoed apps (the gate scanner and the box office)
//!
//! Real parts only: an X server (Xvfb), the real hub (`cloud serve --demo`, a child process
//! that can be stopped and started again on the same port and data), `tauri-driver` in front
//! of Debian's WebKitWebDriver, and the real app binary. The tests drive the app through
//! WebDriver (fantoccini) as staff would: keystrokes into the focused input, clicks, reading
//! what the screen shows.
//!
//! Processes are stopped with SIGTERM (tauri-driver must be, or WebKitWebDriver is orphaned).

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The binaries of the workspace's build (`target/debug/<name>`, or `target/release/<name>`
/// for a benchmark), next to the test's own
/// `deps/` directory.
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    let dir = exe.parent().and_then(Path::parent).expect("target/debug");
    let path = dir.join(name);
    if !path.exists() {
        // Built by `cargo test --workspace` already; when one test (or a benchmark, from
        // target/release) is run alone, build it in the same profile.
        let workspace = concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.toml");
        let mut args = vec!["build", "--quiet", "--manifest-path", workspace, "--bin", name];
        if dir.ends_with("release") {
            args.push("--release");
        }
        let status = Command::new(env!("CARGO")).args(&args).status().expect("cargo");
        assert!(
            status.success() && path.exists(),
            "cargo {} did not give {}",
            args.join(" "),
            path.display()
        );
    }
    path
}

/// A free TCP port on 127.0.0.1 (bound, then released for the child to take).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn terminate(child: &mut Child) {
    let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// An X server of its own, so tests never touch a real display.
pub struct Xvfb {
    child: Child,
    /// `:N`, for `DISPLAY`.
    pub display: String,
}

impl Xvfb {
    /// Starts Xvfb on a free display number (it tells which through `-displayfd`).
    pub fn start() -> Self {
        let mut child = Command::new("Xvfb")
            .args(["-displayfd", "1", "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb (Debian package xvfb; scripts/test installs it)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        Self { child, display: format!(":{}", line.trim()) }
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        terminate(&mut self.child);
    }
}

/// A window manager (openbox) on an [`Xvfb`] display. Full screen, "always on top", who has
/// the focus and what Alt+F4 does are the window manager's business: the kiosk test needs a
/// real one, as a handheld's desktop has.
pub struct WindowManager {
    child: Child,
}

impl WindowManager {
    /// Starts openbox on `display` (Debian package openbox; scripts/test installs it) and
    /// waits until it manages the screen.
    pub fn start(display: &str) -> Self {
        let child = Command::new("openbox")
            .arg("--sm-disable")
            .env("DISPLAY", display)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("openbox (Debian package openbox; scripts/test installs it)");
        let deadline = Instant::now() + Duration::from_secs(10);
        // A window manager that follows the EWMH names itself on the root window.
        while !x11(display, "xprop", &["-root", "_NET_SUPPORTING_WM_CHECK"]).contains("window id") {
            assert!(Instant::now() < deadline, "openbox did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { child }
    }
}

impl Drop for WindowManager {
    fn drop(&mut self) {
        terminate(&mut self.child);
    }
}

/// Runs an X client tool (`xdotool`, `xprop`) on `display`: its output, trimmed ("" if it
/// failed).
pub fn x11(display: &str, tool: &str, args: &[&str]) -> String {
    let output = Command::new(tool)
        .args(args)
        .env("DISPLAY", display)
        .stderr(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{tool}: {e} (scripts/test installs it)"));
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// The real hub: `cloud serve --demo` on a fixed port, with its data in a directory that
/// outlives a stop, so it can come back as it was.
pub struct Hub {
    child: Option<Child>,
    data: PathBuf,
    port: u16,
    /// The address devices are told to use, when not [`Hub::url`] ([`Hub::start_behind`]).
    public_url: Option<String>,
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    /// The demo festival's id.
    pub event: i64,
    /// The enrollment code the latest start printed.
    pub code: String,
}

impl Hub {
    /// Starts a demo hub keeping its data in `data`.
    pub fn start(data: &Path) -> Self {
        Self::start_with(data, None)
    }

    /// Starts a demo hub that devices reach through a [`Cable`] the test can unplug: the
    /// device goes offline while the organizer keeps using the hub.
    pub async fn start_behind(data: &Path) -> (Self, Cable) {
        let cable = Cable::start().await;
        let hub = Self::start_with(data, Some(cable.url.clone()));
        cable.connect_to(hub.port);
        (hub, cable)
    }

    fn start_with(data: &Path, public_url: Option<String>) -> Self {
        let port = free_port();
        let mut hub = Self {
            child: None,
            data: data.to_owned(),
            port,
            public_url,
            url: format!("http://127.0.0.1:{port}"),
            event: 0,
            code: String::new(),
        };
        hub.resume();
        hub
    }

    /// Starts it again (same port, same data) after [`Hub::stop`].
    pub fn resume(&mut self) {
        let mut command = Command::new(binary("cloud"));
        if let Some(url) = &self.public_url {
            command.env("VOELGOED_PUBLIC_URL", url);
        }
        let mut child = command
            .args(["serve", "--demo", "--bare", "--listen", &format!("127.0.0.1:{}", self.port)])
            .env("VOELGOED_DATA_DIR", &self.data)
            .env("VOELGOED_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .expect("the hub binary");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut printed = String::new();
        for line in lines.by_ref() {
            let line = line.unwrap();
            printed.push_str(&line);
            printed.push('\n');
            if line.contains("payments:") {
                break;
            }
        }
        std::thread::spawn(move || lines.for_each(drop));
        let code_line = printed.lines().find(|l| l.contains("enrollment code:")).expect("a code");
        code_line.split_once(':').unwrap().1.split_whitespace().next().unwrap().clone_into(&mut self.code);
        let shop = printed.lines().find(|l| l.contains("/public/events/")).expect("shop line");
        self.event =
            shop.split("/public/events/").nth(1).and_then(|s| s.split('/').next()).unwrap().parse().unwrap();
        self.child = Some(child);
    }

    /// Stops the hub (SIGTERM: it shuts down gracefully).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            terminate(&mut child);
        }
    }

    fn client() -> reqwest::Client {
        sync_core::sync::http::http_client().unwrap()
    }

    /// Buys one ticket of the demo's first type online and pays it through the simulated
    /// provider: (order code, serial, ticket text).
    pub async fn buy_ticket(&self, buyer: &str) -> (String, u64, String) {
        self.buy(buyer, json!({"ticket_type": 1, "quantity": 1})).await
    }

    /// Buys the order `line` of the demo festival online and pays it through the simulated
    /// provider: (order code, its first ticket's serial and text).
    pub async fn buy(&self, buyer: &str, line: Value) -> (String, u64, String) {
        let client = Self::client();
        let placed: Value = client
            .post(format!("{}/api/v1/public/events/{}/orders", self.url, self.event))
            .json(&json!({"lines": [line], "email": "fan@example.org", "name": buyer}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let order = format!(
            "{}/api/v1/public/orders/{}/{}",
            self.url,
            placed["code"].as_str().expect("an order"),
            placed["secret"].as_str().unwrap()
        );
        let payment: Value =
            client.post(format!("{order}/payments")).send().await.unwrap().json().await.unwrap();
        let page = payment["checkout_url"].as_str().expect("a payment page");
        assert!(client.post(format!("{page}/pay")).send().await.unwrap().status().is_success());
        let paid: Value = client.get(&order).send().await.unwrap().json().await.unwrap();
        let ticket = &paid["tickets"][0];
        (
            placed["code"].as_str().unwrap().to_owned(),
            ticket["serial"].as_u64().expect("a ticket"),
            ticket["text"].as_str().unwrap().to_owned(),
        )
    }

    /// The demo owner refunds ticket `serial` of order `code`.
    pub async fn refund(&self, code: &str, serial: u64) {
        let (status, body) = self
            .owner()
            .await
            .post(
                &format!("/api/v1/orders/{code}/refunds"),
                &json!({"serials": [serial], "reason": "cannot come"}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }

    /// The demo owner, logged in to the REST API.
    pub async fn owner(&self) -> Owner {
        let client = Self::client();
        let login = client
            .post(format!("{}/api/v1/login", self.url))
            .json(&json!({"email": "owner@demo.voelgoed.invalid", "password": "voelgoed-demo"}))
            .send()
            .await
            .unwrap();
        let cookie = login.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
        let session: Value = login.json().await.unwrap();
        Owner {
            client,
            url: self.url.clone(),
            cookie,
            csrf: session["csrf_token"].as_str().unwrap().to_owned(),
        }
    }
}

/// The network between the devices and the hub: a TCP relay on its own port that the test can
/// unplug (every connection is cut, new ones are closed at once) and plug in again.
pub struct Cable {
    /// `http://127.0.0.1:<port>`: the hub's address as devices know it.
    pub url: String,
    target: std::sync::Arc<std::sync::atomic::AtomicU16>,
    plugged: tokio::sync::watch::Sender<bool>,
}

impl Cable {
    async fn start() -> Self {
        use std::sync::atomic::Ordering;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let target = std::sync::Arc::new(std::sync::atomic::AtomicU16::new(0));
        let (plugged, watch) = tokio::sync::watch::channel(true);
        let to = std::sync::Arc::clone(&target);
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let mut watch = watch.clone();
                if !*watch.borrow_and_update() {
                    continue; // unplugged: the connection is closed as it opens
                }
                let port = to.load(Ordering::SeqCst);
                tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = watch.wait_for(|up| !*up) => {}
                    }
                });
            }
        });
        Self { url, target, plugged }
    }

    fn connect_to(&self, port: u16) {
        self.target.store(port, std::sync::atomic::Ordering::SeqCst);
    }

    /// Cuts the devices off the hub.
    pub fn unplug(&self) {
        self.plugged.send_replace(false);
    }

    /// Connects them again.
    pub fn plug(&self) {
        self.plugged.send_replace(true);
    }
}

/// An organizer's session with the hub's REST API (cookie and CSRF token).
pub struct Owner {
    client: reqwest::Client,
    url: String,
    cookie: String,
    csrf: String,
}

impl Owner {
    /// `GET path` → JSON (panics on a non-2xx answer).
    pub async fn get(&self, path: &str) -> Value {
        let response = self
            .client
            .get(format!("{}{path}", self.url))
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "GET {path}: {}", response.status());
        response.json().await.unwrap()
    }

    /// `POST path` with a JSON body → (status, JSON body).
    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.send(reqwest::Method::POST, path, body).await
    }

    /// `PUT path` with a JSON body → (status, JSON body).
    pub async fn put(&self, path: &str, body: &Value) -> (u16, Value) {
        self.send(reqwest::Method::PUT, path, body).await
    }

    /// `PATCH path` with a JSON body → (status, JSON body; `null` for 204).
    pub async fn patch(&self, path: &str, body: &Value) -> (u16, Value) {
        self.send(reqwest::Method::PATCH, path, body).await
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: &Value) -> (u16, Value) {
        let response = self
            .client
            .request(method, format!("{}{path}", self.url))
            .header("cookie", &self.cookie)
            .header("x-csrf-token", &self.csrf)
            .json(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// `POST path` with a file as the body (`application/octet-stream`) → (status, JSON body).
    pub async fn upload(&self, path: &str, file: Vec<u8>) -> (u16, Value) {
        let response = self
            .client
            .post(format!("{}{path}", self.url))
            .header("cookie", &self.cookie)
            .header("x-csrf-token", &self.csrf)
            .header("content-type", "application/octet-stream")
            .body(file)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        self.stop();
    }
}

/// tauri-driver, proxying to WebKitWebDriver, on the given X display; the app it starts keeps
/// its data in `app_data`.
pub struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    /// Starts tauri-driver (from `~/.cargo/bin`, where scripts/test installs it).
    pub fn start(display: &str, app_data: &Path) -> Self {
        Self::start_with(display, app_data, &[])
    }

    /// [`Driver::start`], with more environment for the app (`VOELGOED_SCANNER_CAMERA`, …).
    /// The app keeps its data in `app_data` (both apps' data-directory variables are set).
    pub fn start_with(display: &str, app_data: &Path, env: &[(&str, &str)]) -> Self {
        let port = free_port();
        let native = free_port();
        let program = std::env::var_os("HOME")
            .map(|h| PathBuf::from(h).join(".cargo/bin/tauri-driver"))
            .filter(|p| p.exists())
            .unwrap_or_else(|| "tauri-driver".into());
        let child = Command::new(program)
            .args(["--port", &port.to_string(), "--native-port", &native.to_string()])
            .env("DISPLAY", display)
            .env("VOELGOED_SCANNER_DIR", app_data)
            .env("VOELGOED_BOXOFFICE_DIR", app_data)
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            // The app's own log (and the drivers') for when a test fails.
            .stdout(std::fs::File::create(app_data.join("driver.log")).unwrap())
            .stderr(std::fs::File::create(app_data.join("driver.err.log")).unwrap())
            .spawn()
            .expect("tauri-driver (cargo install tauri-driver; scripts/test installs it)");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "tauri-driver did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { child, port }
    }

    /// Starts the app `binary` and connects to its web view.
    pub async fn launch(&self, binary: &Path) -> Client {
        let mut caps = serde_json::Map::new();
        caps.insert("tauri:options".into(), json!({"application": binary}));
        caps.insert("browserName".into(), json!("wry"));
        // tauri-driver listens before the WebKitWebDriver behind it does: retry for a while.
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let session = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&format!("http://127.0.0.1:{}", self.port))
                .await;
            match session {
                Ok(client) => return client,
                Err(e) if Instant::now() > deadline => panic!("no WebDriver session with the app: {e}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        terminate(&mut self.child);
    }
}

/// Replaces what field `#id` holds with `value`, typed.
pub async fn fill(app: &Client, id: &str, value: &str) {
    let field = app.find(Locator::Id(id)).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(value).await.unwrap();
}

/// Clicks element `#id`.
pub async fn click(app: &Client, id: &str) {
    app.find(Locator::Id(id)).await.unwrap().click().await.unwrap();
}

/// Waits up to `secs` for `check` to hold, polling every 100 ms; panics with `what`.
pub async fn eventually<F, Fut>(secs: u64, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !check().await {
        assert!(Instant::now() < deadline, "waited {secs} s for: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The trimmed text content of element `#id` ("" if it is not there). Read through the DOM,
/// not WebDriver's "visible text", which drops text cut by `text-overflow`.
pub async fn text(app: &Client, id: &str) -> String {
    let script = "const e = document.getElementById(arguments[0]); return e ? e.textContent : '';";
    match app.execute(script, vec![json!(id)]).await {
        Ok(Value::String(s)) => s.trim().to_owned(),
        _ => String::new(),
    }
}

/// An attribute of element `#id`.
pub async fn attr(app: &Client, id: &str, name: &str) -> Option<String> {
    let script =
        "const e = document.getElementById(arguments[0]); return e ? e.getAttribute(arguments[1]) : null;";
    match app.execute(script, vec![json!(id), json!(name)]).await {
        Ok(Value::String(s)) => Some(s),
        _ => None,
    }
}

/// Whether `#id` is shown.
pub async fn shown(app: &Client, id: &str) -> bool {
    match app.find(Locator::Id(id)).await {
        Ok(e) => e.is_displayed().await.unwrap_or(false),
        Err(_) => false,
    }
}

/// Types `text` as keystrokes into whatever has focus — as a keyboard-wedge scanner does
/// (it is a keyboard), without clicking anything first.
pub async fn type_keys(app: &Client, text: &str) {
    let mut keys = KeyActions::new("wedge".into());
    for c in text.chars() {
        // What a scanner's CR/LF is on a keyboard: the Enter key (WebDriver's U+E007).
        let c = if c == '\n' || c == '\r' { '\u{E007}' } else { c };
        keys = keys.then(KeyAction::Down { value: c }).then(KeyAction::Up { value: c });
    }
    app.perform_actions(keys).await.expect("keystrokes");
    app.release_actions().await.ok();
}

/// Saves a screenshot to `<target>/e2e-screenshots/<name>.png` (after the next paint: a
/// screenshot straight after a change can show the previous frame).
pub async fn screenshot(app: &Client, name: &str) -> PathBuf {
    tokio::time::sleep(Duration::from_millis(500)).await;
    let png = app.screenshot().await.expect("screenshot");
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(Path::parent).and_then(Path::parent).unwrap().join("e2e-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.png"));
    std::fs::write(&path, png).unwrap();
    path
}
