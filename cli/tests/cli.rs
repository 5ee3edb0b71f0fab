//! The `voelgoed` command as a user runs it: the demo, and a key → issue → check round trip.

use std::path::Path;
use std::process::{Command, Output};

fn voelgoed(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_voelgoed")).args(args).output().expect("runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn the_demo_issues_a_ticket_and_walks_it_through_the_gates() {
    let out = voelgoed(&["demo"]);
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    for expected in [
        "QR version 5 at ECC level M",
        "ADMITTED",
        "ALREADY INSIDE",
        "EXIT RECORDED",
        "WELCOME BACK",
        "INVALID TICKET",
        "WRONG EVENT",
        "Admitted: 1, inside now: 1.",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    assert!(text.contains('█'), "no QR code drawn");
    assert!(!stdout(&voelgoed(&["demo", "--no-qr"])).contains('█'));
}

#[test]
fn a_key_file_issues_tickets_that_check_passes() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("event.json");
    let key = key.to_str().unwrap();
    assert!(voelgoed(&["keygen", "event", "--event", "42", "--key-id", "3", "--out", key]).status.success());
    let again = voelgoed(&["keygen", "event", "--event", "42", "--out", key]);
    assert_eq!(again.status.code(), Some(2), "overwrote a key file");

    let issued = voelgoed(&[
        "issue",
        "--key",
        key,
        "--serial",
        "9",
        "--type",
        "1",
        "--valid-from",
        "2026-06-06T10:00:00+02:00",
        "--valid-until",
        "2026-06-06T23:59:59+02:00",
    ]);
    assert!(issued.status.success(), "{issued:?}");
    let ticket = stdout(&issued).trim().to_owned();
    assert!(ticket.starts_with("VG1:"));

    let at_noon = ["check", &ticket, "--key", key, "--at", "2026-06-06T12:00:00+02:00"];
    let ok = voelgoed(&at_noon);
    assert_eq!(ok.status.code(), Some(0), "{ok:?}");
    assert!(stdout(&ok).contains("ADMITTED"));

    let late = voelgoed(&["check", &ticket, "--key", key, "--at", "2026-06-07T02:00:00+02:00"]);
    assert_eq!(late.status.code(), Some(1));
    assert!(stdout(&late).contains("TICKET EXPIRED"));

    let inspected = stdout(&voelgoed(&["inspect", &ticket]));
    assert!(inspected.contains("NOT VERIFIED") && inspected.contains("event        42"), "{inspected}");
}

#[test]
fn bad_input_gets_a_clear_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let not_a_key = dir.path().join("notes.txt");
    std::fs::write(&not_a_key, "shopping list").unwrap();
    let out = voelgoed(&["check", "VG1:0000", "--key", not_a_key.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("error: not a Voelgoed key file"), "{err}");

    let out = voelgoed(&["inspect", "hello"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not start with \"VG1:\""));

    let missing = voelgoed(&[
        "issue",
        "--key",
        &Path::new("/nonexistent/key.json").display().to_string(),
        "--serial",
        "1",
        "--type",
        "1",
    ]);
    assert!(
        String::from_utf8_lossy(&missing.stderr)
            .starts_with("error: cannot access key file /nonexistent/key.json")
    );
}
