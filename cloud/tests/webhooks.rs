//! Outgoing webhooks, checked the way a partner checks them: with the Standard Webhooks
//! reference library (Python), never with the hub's own verifier.

mod common;

use cloud::webhooks::signature::{Secret, header};
use common::standard_webhooks::{Received, verify};
use proptest::prelude::*;
use proptest::strategy::ValueTree;

/// The hub's signing of a message, as the partner receives it.
fn delivered(partner_has: &Secret, signing: &[&Secret], id: &str, timestamp: i64, body: &str) -> Received {
    Received {
        secret: partner_has.to_text(),
        id: id.to_owned(),
        timestamp: timestamp.to_string(),
        signature: header(signing, id, timestamp, body.as_bytes()),
        body: body.to_owned(),
    }
}

fn now() -> i64 {
    i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs())
        .unwrap()
}

/// Message ids and bodies as the hub will send them: `msg_` and a token; JSON with any text.
fn message() -> impl Strategy<Value = (String, String)> {
    ("[0-9A-Za-z]{8,32}", any::<String>(), any::<i64>()).prop_map(|(id, name, amount)| {
        let body = serde_json::json!({"type": "order.paid", "data": {"name": name, "total_minor": amount}});
        (format!("msg_{id}"), body.to_string())
    })
}

#[test]
fn every_signature_the_hub_makes_verifies_with_the_reference_library_and_a_wrong_one_does_not() {
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(64));
    let cases: Vec<(String, String)> =
        (0..64).map(|_| message().new_tree(&mut runner).unwrap().current()).collect();
    let (old, new, stranger) =
        (Secret::generate().unwrap(), Secret::generate().unwrap(), Secret::generate().unwrap());
    let at = now();
    let mut deliveries = Vec::new();
    for (id, body) in &cases {
        // One secret; then while rotating (both sign), as partners holding either see it.
        deliveries.push(delivered(&old, &[&old], id, at, body));
        deliveries.push(delivered(&old, &[&old, &new], id, at, body));
        deliveries.push(delivered(&new, &[&old, &new], id, at, body));
    }
    assert!(verify(&deliveries).iter().all(Result::is_ok), "{:?}", verify(&deliveries));

    // The same library refuses what the hub did not sign: a changed body, another secret, an
    // old timestamp, the rotation over (only the new secret signs, the partner has the old).
    let (id, body) = &cases[0];
    let mut changed = delivered(&old, &[&old], id, at, body);
    changed.body.push(' ');
    let refused = verify(&[
        changed,
        delivered(&stranger, &[&old, &new], id, at, body),
        delivered(&old, &[&old], id, at - 3_600, body),
        delivered(&old, &[&new], id, at, body),
    ]);
    assert!(refused.iter().all(Result::is_err), "{refused:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_that_fails_times_out_redirects_or_recovers_is_told_apart_and_every_request_verifies() {
    use cloud::webhooks::send::Sender;
    let secret = Secret::generate().unwrap();
    let partner = common::standard_webhooks::Receiver::start(&secret.to_text());
    let sender = Sender::new(true, std::time::Duration::from_secs(1)).unwrap();
    let body = r#"{"type":"order.paid","data":{"code":"ABC123"}}"#;
    let send = |path: &'static str, id: &'static str| {
        let (sender, url, secret) = (sender.clone(), format!("{}{path}", partner.url), secret.clone());
        async move { sender.attempt(&url, &[&secret], id, now(), body).await }
    };

    let ok = send("/ok", "msg_ok").await;
    assert!(ok.delivered && ok.status == Some(200) && ok.answer == "thanks", "{ok:?}");
    let failed = send("/fail", "msg_fail").await;
    assert!(
        !failed.delivered && failed.status == Some(500) && failed.answer == "database down",
        "{failed:?}"
    );
    let slow = send("/slow", "msg_slow").await;
    assert!(!slow.delivered && slow.status.is_none() && slow.answer.contains("no answer"), "{slow:?}");
    let moved = send("/moved", "msg_moved").await;
    assert!(!moved.delivered && moved.status == Some(302), "a redirect is not followed: {moved:?}");
    let mut tries = Vec::new();
    for _ in 0..3 {
        tries.push(send("/flaky", "msg_flaky").await.status);
    }
    assert_eq!(tries, [Some(503), Some(503), Some(200)], "the same message, until it is taken");

    let log = partner.log().await;
    let paths: Vec<&str> = log.iter().map(|r| r["path"].as_str().unwrap()).collect();
    assert_eq!(
        paths,
        ["/ok", "/fail", "/slow", "/moved", "/flaky", "/flaky", "/flaky"],
        "no redirect followed"
    );
    assert!(log.iter().all(|r| r["verified"] == "ok"), "{log:?}");
    assert!(log[4..].iter().all(|r| r["id"] == "msg_flaky"), "one id across attempts: {log:?}");

    // Outside development, loopback is not an endpoint, whatever the port.
    let production = Sender::new(false, std::time::Duration::from_secs(1)).unwrap();
    let refused = production.attempt(&format!("{}/ok", partner.url), &[&secret], "msg_x", now(), body).await;
    assert!(!refused.delivered && refused.answer.contains("https"), "{refused:?}");
    assert_eq!(partner.log().await.len(), 7, "nothing sent");
}
