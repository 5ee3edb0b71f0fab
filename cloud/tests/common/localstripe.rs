//! localstripe (PyPI): a stateful fake Stripe server with webhooks and a Stripe.js stand-in,
//! run on a free local port for the tests of the Stripe provider.
//!
//! Installed into a virtual environment beside the build (`<target>/localstripe-venv`) the
//! first time a test needs it — scripts/test does the same up front — so `cargo test` alone
//! works on a machine with Python 3.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The version the tests are written against.
const VERSION: &str = "1.15.10";

/// The signing secret the tests register localstripe's webhooks with.
pub const WEBHOOK_SECRET: &str = "whsec_voelgoed_localstripe";

const FORM: &str = "application/x-www-form-urlencoded";

/// A running localstripe.
pub struct Localstripe {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub url: String,
}

/// `<target>/localstripe-venv`, next to the test executables' `debug/`.
fn venv() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    let target = exe.ancestors().nth(3).expect("<target>/debug/deps/<test>");
    target.join("localstripe-venv")
}

/// The `localstripe` program, installed if it is not yet.
fn program() -> PathBuf {
    if let Some(path) = std::env::var_os("VOELGOED_LOCALSTRIPE") {
        return path.into();
    }
    let venv = venv();
    let program = venv.join("bin/localstripe");
    if !program.exists() {
        let ok = Command::new("python3").args(["-m", "venv"]).arg(&venv).status().is_ok_and(|s| s.success())
            && Command::new(venv.join("bin/pip"))
                .args(["install", "--quiet", &format!("localstripe=={VERSION}")])
                .status()
                .is_ok_and(|s| s.success());
        assert!(ok && program.exists(), "could not install localstripe into {}", venv.display());
    }
    program
}

impl Localstripe {
    /// Starts localstripe on a free port, with nothing in it.
    pub fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(program())
            .args(["--port", &port.to_string(), "--from-scratch"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("localstripe");
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "localstripe did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { child, url }
    }

    /// Sends every event to `url`, signed with [`WEBHOOK_SECRET`] (what Stripe's dashboard does
    /// for a webhook endpoint).
    pub async fn send_webhooks_to(&self, url: &str) {
        let response = reqwest::Client::new()
            .post(format!("{}/_config/webhooks/hub", self.url))
            .header("content-type", FORM)
            .body(serde_urlencoded::to_string([("url", url), ("secret", WEBHOOK_SECRET)]).unwrap())
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{}", response.status());
    }

    /// `POST path` with a form, as a Stripe client (Stripe.js, the dashboard) would.
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> serde_json::Value {
        let response = reqwest::Client::new()
            .post(format!("{}{path}", self.url))
            .basic_auth("sk_test_voelgoed", Some(""))
            .header("content-type", FORM)
            .body(serde_urlencoded::to_string(form).unwrap())
            .send()
            .await
            .unwrap();
        response.json().await.unwrap()
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> serde_json::Value {
        let response = reqwest::Client::new()
            .get(format!("{}{path}", self.url))
            .basic_auth("sk_test_voelgoed", Some(""));
        response.send().await.unwrap().json().await.unwrap()
    }
}

impl Drop for Localstripe {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
