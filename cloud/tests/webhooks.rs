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
