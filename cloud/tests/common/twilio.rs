//! Twilio's API as a stateful emulator: the `emulate` package (npm, vercel-labs), whose Twilio
//! service checks HTTP basic auth, the `To` number and that the `From` number is the
//! account's, answers in Twilio's JSON shapes (201 with a `sid`, 4xx with `code` and
//! `message`), and keeps every message for the tests to read back. Run on a free local port.
//!
//! Installed beside the build (`<target>/twilio-emulator`) by the test command, or here on
//! first use (needs Node.js and npm; 0.11.2 is the last release that runs on Debian's Node 20).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The version the tests are written against.
const VERSION: &str = "0.11.2";
/// The emulator's seeded account.
pub const ACCOUNT_SID: &str = "AC00000000000000000000000000000000";
/// Its auth token.
pub const AUTH_TOKEN: &str = "twilio_test_auth_token";
/// Its phone number (the SMS sender).
pub const FROM: &str = "+15551234567";

/// A running emulator.
pub struct Twilio {
    child: Child,
    /// `http://127.0.0.1:<port>`: the API base the hub is configured with.
    pub url: String,
}

/// The emulator's entry point, installed if it is not yet.
fn program() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    let dir = exe.ancestors().nth(3).expect("<target>/debug/deps/<test>").join("twilio-emulator");
    let program = dir.join("node_modules/emulate/dist/index.js");
    if !program.exists() {
        std::fs::create_dir_all(&dir).unwrap();
        let ok = Command::new("npm")
            .args(["install", "--silent", "--no-audit", "--no-fund", "--prefix"])
            .arg(&dir)
            .arg(format!("emulate@{VERSION}"))
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok && program.exists(), "could not install emulate into {}", dir.display());
    }
    program
}

impl Twilio {
    /// Starts the emulator on a free port, with its seeded account only.
    pub fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new("node")
            .arg(program())
            .args(["start", "--service", "twilio", "--port", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("node");
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "the Twilio emulator did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { child, url }
    }

    fn messages_url(&self) -> String {
        format!("{}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json", self.url)
    }

    /// Gives the account `number` (`whatsapp:+14155238886` for a WhatsApp sender).
    pub async fn add_number(&self, number: &str) {
        let response = reqwest::Client::new()
            .post(format!("{}/2010-04-01/Accounts/{ACCOUNT_SID}/IncomingPhoneNumbers.json", self.url))
            .basic_auth(ACCOUNT_SID, Some(AUTH_TOKEN))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string([("PhoneNumber", number)]).unwrap())
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{}", response.status());
    }

    /// The messages sent to `to` (as Twilio names it: `+31…` or `whatsapp:+31…`), newest first.
    pub async fn messages_to(&self, to: &str) -> Vec<serde_json::Value> {
        let page: serde_json::Value = reqwest::Client::new()
            .get(format!(
                "{}?{}",
                self.messages_url(),
                serde_urlencoded::to_string([("To", to), ("PageSize", "100")]).unwrap()
            ))
            .basic_auth(ACCOUNT_SID, Some(AUTH_TOKEN))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        page["messages"].as_array().cloned().unwrap_or_default()
    }
}

impl Drop for Twilio {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
