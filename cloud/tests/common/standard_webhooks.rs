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
