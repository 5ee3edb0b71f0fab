//! A real browser for tests: Debian's chromium, headless, driven through chromium-driver by
//! fantoccini — and the few steps every browser test takes.

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// chromedriver on a free port; killed when dropped.
pub struct ChromeDriver {
    child: Child,
    port: u16,
}

impl ChromeDriver {
    pub fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver (Debian's chromium-driver; scripts/test installs it)");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < Duration::from_secs(20), "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { child, port }
    }

    /// A desktop-sized browser.
    pub async fn browser(&self) -> Client {
        self.browser_as(1100, 1000, "en-US,en").await
    }

    /// A browser `width` × `height` CSS pixels whose pages are asked for in `languages` (its
    /// Accept-Language).
    pub async fn browser_as(&self, width: u32, height: u32, languages: &str) -> Client {
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({"binary": "/usr/bin/chromium",
                   "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", format!("--window-size={width},{height}")],
                   "prefs": {"intl.accept_languages": languages}}),
        );
        ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .expect("a chromium session")
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Retries `check` for up to `secs` seconds.
pub async fn eventually<F, Fut>(secs: u64, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < Duration::from_secs(secs), "{what}: not within {secs} s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub async fn fill(b: &Client, css: &str, text: &str) {
    let field = b.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}"));
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

pub async fn click(b: &Client, css: &str) {
    b.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}")).click().await.unwrap();
}

pub async fn text(b: &Client, css: &str) -> String {
    match b.find(Locator::Css(css)).await {
        Ok(e) => e.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

pub async fn path(b: &Client) -> String {
    b.current_url().await.unwrap().path().to_owned()
}

pub async fn screenshot(b: &Client, name: &str) {
    let dir = std::env::var("CARGO_TARGET_DIR")
        .map_or_else(|_| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"), Into::into)
        .join("console-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.png")), b.screenshot().await.unwrap()).unwrap();
}

/// Logs in to the console of the hub at `url` as `email` (password [`super::PASSWORD`]).
pub async fn log_in(b: &Client, url: &str, email: &str) {
    b.goto(&format!("{url}/login")).await.unwrap();
    fill(b, "[name=email]", email).await;
    fill(b, "[name=password]", super::PASSWORD).await;
    click(b, "#login-submit").await;
    eventually(10, "logged in", || async { path(b).await == "/events" }).await;
}

/// In the shop, with the tickets chosen: the buyer gives `name` and `email`, buys, pays on the
/// simulated provider's page and is back on the paid order.
pub async fn buy_and_pay(b: &Client, name: &str, email: &str) {
    fill(b, "#buyer-name", name).await;
    fill(b, "#buyer-email", email).await;
    click(b, "#buy").await;
    eventually(10, "the payment page", || async {
        text(b, "body").await.contains("Simulated payment provider")
    })
    .await;
    click(b, "#pay").await;
    eventually(10, "the paid order", || async { text(b, "#order-status").await.starts_with("Paid") }).await;
}
