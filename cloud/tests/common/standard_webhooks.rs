//! The Standard Webhooks reference library (Python, PyPI `standardwebhooks`), which partners
//! verify the hub's webhooks with: the tests check every signature the hub makes with it, not
//! with the hub's own code.
//!
//! Installed into a virtual environment beside the build (`<target>/webhooks-venv`) by the
//! test command, or here on first use.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// The version the tests were written against.
const VERSION: &str = "1.1.0";

/// One delivery as a partner receives it.
#[derive(serde::Serialize)]
pub struct Received {
    /// The partner's copy of the endpoint's secret (`whsec_…`).
    pub secret: String,
    /// The three headers.
    pub id: String,
    /// Unix seconds, as sent.
    pub timestamp: String,
    /// `v1,…` signatures, space-separated.
    pub signature: String,
    /// The body, exactly as received.
    pub body: String,
}

/// The virtual environment's Python, with the library installed if it is not yet.
fn python() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    let venv = exe.ancestors().nth(3).expect("<target>/debug/deps/<test>").join("webhooks-venv");
    let python = venv.join("bin/python");
    let installed = |p: &PathBuf| {
        Command::new(p).args(["-c", "import standardwebhooks"]).status().is_ok_and(|s| s.success())
    };
    if !installed(&python) {
        let ok = Command::new("python3").args(["-m", "venv"]).arg(&venv).status().is_ok_and(|s| s.success())
            && Command::new(venv.join("bin/pip"))
                .args(["install", "--quiet", &format!("standardwebhooks=={VERSION}")])
                .status()
                .is_ok_and(|s| s.success());
        assert!(ok && installed(&python), "could not install standardwebhooks into {}", venv.display());
    }
    python
}

/// What the library says of each delivery: `Ok` if it verifies, else its error.
pub fn verify(deliveries: &[Received]) -> Vec<Result<(), String>> {
    const SCRIPT: &str = r#"
import json, sys
from standardwebhooks.webhooks import Webhook
for line in sys.stdin:
    d = json.loads(line)
    headers = {"webhook-id": d["id"], "webhook-timestamp": d["timestamp"], "webhook-signature": d["signature"]}
    try:
        Webhook(d["secret"]).verify(d["body"], headers, json_parse=False)
        print("ok")
    except Exception as e:
        print("refused: " + type(e).__name__ + ": " + str(e).replace("\n", " "))
"#;
    let mut child = Command::new(python())
        .args(["-c", SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python");
    let mut input = child.stdin.take().unwrap();
    for d in deliveries {
        writeln!(input, "{}", serde_json::to_string(d).unwrap()).unwrap();
    }
    drop(input);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "the verifier failed");
    let lines: Vec<Result<(), String>> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| if l == "ok" { Ok(()) } else { Err(l.to_owned()) })
        .collect();
    assert_eq!(lines.len(), deliveries.len(), "one answer per delivery");
    lines
}

/// A partner's webhook receiver on 127.0.0.1 (Python's `http.server`), verifying every
/// request with the reference library and answering by its path: `/ok` 200, `/fail` 500,
/// `/slow` 200 after 3 s, `/moved` a redirect to `/ok`, `/flaky` 503 twice then 200,
/// `/switch` 503 while it is down ([`Receiver::set_down`]) and 200 otherwise. `GET /log`
/// lists what it received: `{"path", "id", "timestamp", "type", "body", "verified"}`
/// (`verified`: "ok" or the library's refusal).
pub struct Receiver {
    child: std::process::Child,
    /// `http://127.0.0.1:<port>`.
    pub url: String,
}

impl Receiver {
    /// Starts one that holds `secret` (`whsec_…`).
    pub fn start(secret: &str) -> Self {
        const SCRIPT: &str = r#"
import json, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from standardwebhooks.webhooks import Webhook
state, log, flaky = {"hook": Webhook(sys.argv[2]), "down": False}, [], [0]
class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args): pass
    def answer(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers: self.send_header(k, v)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_GET(self):
        self.answer(200, json.dumps(log).encode())
    def do_PUT(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0))).decode()
        if self.path == "/secret": state["hook"] = Webhook(body)
        elif self.path == "/down": state["down"] = body == "true"
        self.answer(204)
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0))).decode()
        try:
            state["hook"].verify(body, dict(self.headers.items()), json_parse=False)
            verified = "ok"
        except Exception as e:
            verified = type(e).__name__ + ": " + str(e)
        try: kind = json.loads(body).get("type")
        except Exception: kind = None
        log.append({"path": self.path, "id": self.headers.get("webhook-id"), "verified": verified,
                    "timestamp": self.headers.get("webhook-timestamp"), "type": kind, "body": body})
        if self.path == "/ok": self.answer(200, b"thanks")
        elif self.path == "/fail": self.answer(500, b"database down")
        elif self.path == "/slow": time.sleep(3); self.answer(200)
        elif self.path == "/moved": self.answer(302, headers=[("location", "/ok")])
        elif self.path == "/switch": self.answer(503 if state["down"] else 200)
        elif self.path == "/flaky":
            flaky[0] += 1
            self.answer(503 if flaky[0] <= 2 else 200)
        else: self.answer(404)
server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
print("ready", flush=True)
server.serve_forever()
"#;
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut child = Command::new(python())
            .args(["-c", SCRIPT, &port.to_string(), secret])
            .stdout(Stdio::piped())
            .spawn()
            .expect("python");
        let mut ready = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut ready)
            .unwrap();
        assert_eq!(ready.trim(), "ready", "the receiver started");
        Self { child, url: format!("http://127.0.0.1:{port}") }
    }

    /// Verifies from now on with `secret` (`whsec_…`): the partner pasted the endpoint's.
    pub async fn set_secret(&self, secret: &str) {
        let client = reqwest::Client::new();
        client.put(format!("{}/secret", self.url)).body(secret.to_owned()).send().await.unwrap();
    }

    /// `/switch` fails (503) while `down`.
    pub async fn set_down(&self, down: bool) {
        let client = reqwest::Client::new();
        client.put(format!("{}/down", self.url)).body(down.to_string()).send().await.unwrap();
    }

    /// What it received so far.
    pub async fn log(&self) -> Vec<serde_json::Value> {
        reqwest::get(format!("{}/log", self.url)).await.unwrap().json().await.unwrap()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
