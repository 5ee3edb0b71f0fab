//! The Stripe provider against localstripe, a stateful Stripe emulator with real webhooks:
//! checkout → PaymentIntent → the card confirmed → `payment_intent.succeeded` signed and
//! delivered by the emulator → tickets; a declined card and a second card on the same
//! PaymentIntent; a refund through Stripe that revokes the tickets; forged, stale and replayed
//! webhooks refused or recognised with nothing changed; the payment page in headless Chromium
//! through the emulator's Stripe.js stand-in (3-D Secure failed, then passed); reconciliation
//! with Stripe's balance transactions and payouts.
//!
//! Where a test confirms the card it does what Stripe.js does in the buyer's browser (the
//! payment page's step), through the emulator's API — in the browser test, only the step the
//! stand-in lacks (the typed card made a PaymentMethod).

mod common;

use common::browser::{ChromeDriver, eventually, text};
use common::localstripe::{Localstripe, WEBHOOK_SECRET};
use common::{Organizer, TestHub, checkout, enroll, enrollment_code, event_on_sale, order, order_url};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use sync_core::ids::{EventId, GateId};
use sync_core::journal::HUB;
use sync_core::manifest::Direction;
use sync_core::sync::http::HttpTransport;
use sync_core::sync::sync_with;
use sync_core::validate::ScanContext;
use sync_core::verdict::VerdictKind;

/// A hub paying through `stripe`.
async fn hub_with(stripe: &Localstripe, backend: cloud::db::Backend) -> TestHub {
    hub_on(stripe, backend, cloud::clock::Clock::wall()).await
}

/// [`hub_with`], on `clock`.
async fn hub_on(stripe: &Localstripe, backend: cloud::db::Backend, clock: cloud::clock::Clock) -> TestHub {
    let hub = TestHub::start_configured(backend, clock, |config| {
        config.checkouts_per_minute = 1_000_000;
        config.stripe = Some(cloud::payments::stripe::StripeConfig {
            secret_key: "sk_test_voelgoed".to_owned().into(),
            publishable_key: "pk_test_voelgoed".into(),
            // The hub mid-rotation: the old secret and the one the emulator signs with.
            webhook_secrets: vec!["whsec_previous".to_owned().into(), WEBHOOK_SECRET.to_owned().into()],
            api_base: stripe.url.clone(),
            js_url: format!("{}/js.stripe.com/v3/", stripe.url),
        });
    })
    .await;
    stripe.send_webhooks_to(&format!("{}{}", hub.url, cloud::sales::WEBHOOK_PATH)).await;
    hub
}

/// Starts paying `order`: the hub's answer (payment id, the payment page, the client secret).
async fn start_payment(hub: &TestHub, order: &Value, key: &str) -> Value {
    let response = hub
        .post(&format!("{}/payments", order_url(order)))
        .header("idempotency-key", key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

/// The PaymentIntent behind a client secret (`pi_…_secret_…`).
fn intent_of(payment: &Value) -> String {
    let secret = payment["client_secret"].as_str().expect("a client secret for Stripe.js");
    secret.split("_secret_").next().unwrap().to_owned()
}

/// The buyer's card (one of Stripe's test numbers) confirmed on the PaymentIntent, as
/// Stripe.js does on the payment page: a PaymentMethod from the card form, then the
/// confirmation.
async fn pay_with(stripe: &Localstripe, intent: &str, number: &str) -> Value {
    let card = [
        ("type", "card"),
        ("card[number]", number),
        ("card[exp_month]", "12"),
        ("card[exp_year]", "2034"),
        ("card[cvc]", "123"),
    ];
    let method = stripe.post("/v1/payment_methods", &card).await;
    let method = method["id"].as_str().expect("a PaymentMethod");
    stripe.post(&format!("/v1/payment_intents/{intent}"), &[("payment_method", method)]).await;
    stripe.post(&format!("/v1/payment_intents/{intent}/confirm"), &[]).await
}

/// Delivers a webhook `body` with the `Stripe-Signature` header `signature`: (status, answer).
async fn deliver(hub: &TestHub, body: &str, signature: String) -> (u16, Value) {
    let response = hub
        .post(cloud::sales::WEBHOOK_PATH)
        .header("stripe-signature", signature)
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json::<Value>().await.unwrap_or(Value::Null))
}

async fn eventually_status(hub: &TestHub, placed: &Value, status: &str) -> Value {
    // The emulator delivers webhooks a second after the event.
    for _ in 0..100 {
        let now = order(hub, placed).await;
        if now["status"] == status {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("order never {status}: {}", order(hub, placed).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stripe_payment_issues_tickets_and_a_refund_through_stripe_revokes_them() {
    let stripe = Localstripe::start();
    let hub = hub_with(&stripe, cloud::db::Backend::Sqlite).await;
    let owner = Organizer::create(&hub, "festival").await;
    let event = event_on_sale(&owner, 10, 4500).await;
    let (status, placed) = checkout(&hub, event, 2, None).await;
    assert_eq!(status, 201, "{placed}");

    // A PaymentIntent for the order's amount, with the hub's reference; the buyer is sent to
    // the hub's own payment page. A retry with the same key is the same payment.
    let payment = start_payment(&hub, &placed, "pay-1").await;
    let intent = intent_of(&payment);
    let again = start_payment(&hub, &placed, "pay-1").await;
    assert_eq!(
        (&again["payment_id"], &again["client_secret"]),
        (&payment["payment_id"], &payment["client_secret"])
    );
    let page = payment["checkout_url"].as_str().unwrap();
    assert!(page.starts_with(&hub.url) && page.contains("/pay/"), "{page}");
    // The payment page loads Stripe.js (the emulator's stand-in here) with the publishable key
    // and the client secret; the secret key is nowhere in it.
    let html = hub.client.get(page).send().await.unwrap().text().await.unwrap();
    let script = format!("{}/js.stripe.com/v3/", stripe.url);
    assert!(html.contains(&script) && html.contains("pk_test_voelgoed"), "{html}");
    assert!(html.contains(payment["client_secret"].as_str().unwrap()) && !html.contains("sk_test"), "{html}");
    let at_stripe = stripe.get(&format!("/v1/payment_intents/{intent}")).await;
    assert_eq!((at_stripe["amount"].as_i64(), at_stripe["currency"].as_str()), (Some(9000), Some("eur")));
    let reference = format!("pay_{}", payment["payment_id"]);
    assert_eq!(at_stripe["metadata"]["reference"].as_str(), Some(reference.as_str()));

    // The first card is declined: Stripe says so by webhook, the order stays payable.
    let declined = pay_with(&stripe, &intent, "4000000000000341").await;
    assert!(declined["error"].is_object() || declined["status"] == "requires_payment_method", "{declined}");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(order(&hub, &placed).await["status"], "pending");

    let failed: (String,) = sqlx::query_as("SELECT status FROM payments WHERE provider_ref = $1")
        .bind(&intent)
        .fetch_one(&mut *hub.inspect().await)
        .await
        .unwrap();
    assert_eq!(failed.0, "failed");

    // The buyer tries again while the hold lasts, with another card: paid, two tickets.
    // (Stripe takes the second card on the same PaymentIntent; localstripe cannot confirm a
    // PaymentIntent whose charge failed, so here the retry is a new payment. The same
    // PaymentIntent succeeding after a failure is the webhook test's.)
    let payment = start_payment(&hub, &placed, "pay-2").await;
    let intent = intent_of(&payment);
    let paid = pay_with(&stripe, &intent, "4242424242424242").await;
    assert_eq!(paid["status"], "succeeded", "{paid}");
    let now = eventually_status(&hub, &placed, "paid").await;
    assert_eq!(now["tickets"].as_array().map(Vec::len), Some(2), "{now}");
    // Paid: the payment page sends the buyer to the order and its tickets.
    let page = payment["checkout_url"].as_str().unwrap();
    let answer = hub.client.get(page).send().await.unwrap();
    let location = answer.headers().get("location").and_then(|l| l.to_str().ok()).map(str::to_owned);
    let landed = location.unwrap_or_else(|| answer.url().path().to_owned());
    assert!(landed.ends_with(&order_url(&placed).replace("/api/v1/public", "/shop")), "{landed}");

    // Refunded from the console: through Stripe, once per key, and the ticket is revoked.
    let code = placed["code"].as_str().unwrap();
    let serial = now["tickets"][0]["serial"].as_i64().unwrap();
    let body = json!({"serials": [serial], "reason": "cannot come"});
    let path = format!("/api/v1/orders/{code}/refunds");
    let (status, first) = owner.post_with_key(&path, &body, "refund-1").await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(
        (first["amount_minor"].as_i64(), first["status"].as_str()),
        (Some(4500), Some("succeeded")),
        "{first}"
    );
    let (_, second) = owner.post_with_key(&path, &body, "refund-1").await;
    assert_eq!(second["id"], first["id"]);
    let refunds = stripe.get("/v1/refunds").await;
    let at_stripe: Vec<&Value> = refunds["data"].as_array().unwrap().iter().collect();
    assert_eq!(at_stripe.len(), 1, "one refund at Stripe: {refunds}");
    assert_eq!(at_stripe[0]["amount"].as_i64(), Some(4500));
    let now = order(&hub, &placed).await;
    let revoked = now["tickets"].as_array().unwrap().iter().filter(|t| t["status"] != "valid").count();
    assert_eq!(revoked, 1, "{now}");
}

#[tokio::test]
async fn forged_stale_and_replayed_stripe_webhooks_change_nothing() {
    let stripe = Localstripe::start();
    let hub = hub_with(&stripe, cloud::db::Backend::Sqlite).await;
    let owner = Organizer::create(&hub, "festival").await;
    let event = event_on_sale(&owner, 10, 4500).await;
    let (_, placed) = checkout(&hub, event, 1, None).await;
    let payment = start_payment(&hub, &placed, "pay-1").await;
    let intent = intent_of(&payment);
    let event_body = |id: &str| {
        json!({
            "id": id, "object": "event", "type": "payment_intent.succeeded",
            "data": {"object": {"id": intent, "object": "payment_intent", "amount": 4500, "currency": "eur",
                                "metadata": {"reference": format!("pay_{}", payment["payment_id"])}}}
        })
        .to_string()
    };
    let send = async |body: &str, signature: String| deliver(&hub, body, signature).await;
    let now = sync_core::ids::Timestamp::now().0 / 1000;
    let sign = |secret: &str, at: i64, body: &str| {
        cloud::payments::signature::sign(secret.as_bytes(), at, body.as_bytes())
    };
    let body = event_body("evt_forged");
    // Before anything: the first card was declined (Stripe says so, and keeps the
    // PaymentIntent open for another card).
    let declined =
        event_body("evt_declined").replace("payment_intent.succeeded", "payment_intent.payment_failed");
    let (status, received) = send(&declined, sign(WEBHOOK_SECRET, now, &declined)).await;
    assert_eq!((status, received["outcome"].as_str()), (200, Some("failed")), "{received}");

    // Not signed by a secret the hub knows, dated outside five minutes, unsigned: 401.
    assert_eq!(send(&body, sign("whsec_attacker", now, &body)).await.0, 401);
    assert_eq!(send(&body, sign(WEBHOOK_SECRET, now - 600, &body)).await.0, 401);
    assert_eq!(send(&body, String::new()).await.0, 401);
    // A signature for another body: 401.
    assert_eq!(send(&body, sign(WEBHOOK_SECRET, now, &event_body("evt_other"))).await.0, 401);
    assert_eq!(order(&hub, &placed).await["status"], "pending", "nothing changed");

    // The second card on the same PaymentIntent succeeds, signed with the hub's previous
    // secret (still configured while rotating): paid, although the payment had failed.
    let (status, received) = send(&body, sign("whsec_previous", now, &body)).await;
    assert_eq!((status, received["outcome"].as_str()), (200, Some("paid")), "{received}");
    // The same event again (Stripe retries): acknowledged, nothing doubled.
    let (status, received) = send(&body, sign(WEBHOOK_SECRET, now, &body)).await;
    assert_eq!((status, received["outcome"].as_str()), (200, Some("duplicate")), "{received}");
    assert_eq!(order(&hub, &placed).await["tickets"].as_array().map(Vec::len), Some(1));

    // An event the hub does not act on: acknowledged, so Stripe stops sending it.
    let other =
        json!({"id": "evt_x", "type": "customer.created", "data": {"object": {"id": "cus_1"}}}).to_string();
    let (status, received) = send(&other, sign(WEBHOOK_SECRET, now, &other)).await;
    assert_eq!((status, received["outcome"].as_str()), (200, Some("ignored")), "{received}");
}

/// An order of two tickets at 45.00 EUR, paid through Stripe.
struct Paid {
    stripe: Localstripe,
    hub: TestHub,
    owner: Organizer,
    placed: Value,
    intent: String,
    /// The order, paid.
    order: Value,
}

impl Paid {
    async fn two_tickets() -> Self {
        let stripe = Localstripe::start();
        let hub = hub_with(&stripe, cloud::db::Backend::Sqlite).await;
        let owner = Organizer::create(&hub, "festival").await;
        let event = event_on_sale(&owner, 10, 4500).await;
        let (_, placed) = checkout(&hub, event, 2, None).await;
        let intent = intent_of(&start_payment(&hub, &placed, "pay-1").await);
        pay_with(&stripe, &intent, "4242424242424242").await;
        let order = eventually_status(&hub, &placed, "paid").await;
        Self { stripe, hub, owner, placed, intent, order }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refund_made_in_stripes_dashboard_cancels_the_tickets_once() {
    let Paid { stripe, hub, owner, placed, intent, order: paid } = Paid::two_tickets().await;
    let (first, second) =
        (paid["tickets"][0]["serial"].as_i64().unwrap(), paid["tickets"][1]["serial"].as_i64().unwrap());

    // `charge.refunded` as Stripe sends it (localstripe sends none): the running total.
    let now = sync_core::ids::Timestamp::now().0 / 1000;
    let refunded = async |id: &str, total: i64| {
        let body = json!({
            "id": id, "object": "event", "type": "charge.refunded", "api_version": "2024-06-20",
            "data": {"object": {"id": "ch_1", "object": "charge", "amount": 9000, "amount_refunded": total,
                                "currency": "eur", "payment_intent": intent, "metadata": {}}}
        })
        .to_string();
        let signature = cloud::payments::signature::sign(WEBHOOK_SECRET.as_bytes(), now, body.as_bytes());
        let (status, answer) = deliver(&hub, &body, signature).await;
        assert_eq!(status, 200, "{answer}");
        answer["outcome"].as_str().unwrap().to_owned()
    };
    let valid = async || {
        let now = order(&hub, &placed).await;
        now["tickets"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["status"] == "valid")
            .map(|t| t["serial"].as_i64().unwrap())
            .collect::<Vec<_>>()
    };

    // The console refunds the first ticket; Stripe then reports it: the hub's own refund.
    let code = placed["code"].as_str().unwrap();
    let path = format!("/api/v1/orders/{code}/refunds");
    let (status, _) =
        owner.post_with_key(&path, &json!({"serials": [first], "reason": "cannot come"}), "r1").await;
    assert_eq!(status, 201);
    assert_eq!(refunded("evt_console", 4500).await, "duplicate");
    assert_eq!(valid().await, [second]);

    // The organizer refunds the rest in Stripe's dashboard: the whole payment is back, so the
    // last ticket is cancelled too — once, however often and in whatever order Stripe reports.
    stripe.post("/v1/refunds", &[("payment_intent", intent.as_str()), ("amount", "4500")]).await;
    assert_eq!(refunded("evt_dashboard", 9000).await, "refunded");
    assert_eq!(valid().await, Vec::<i64>::new());
    assert_eq!(refunded("evt_dashboard", 9000).await, "duplicate", "a replay");
    assert_eq!(refunded("evt_late", 4500).await, "duplicate", "an older total, arriving late");
    let staff = owner.get(&format!("/api/v1/orders/{code}")).await;
    let refunds = staff["refunds"].as_array().unwrap();
    assert_eq!(refunds.len(), 2, "{staff}");
    let amounts: i64 = refunds.iter().map(|r| r["amount_minor"].as_i64().unwrap()).sum();
    assert_eq!(amounts, 9000, "{staff}");
    assert!(refunds.iter().any(|r| r["reason"].as_str().unwrap().contains("dashboard")), "{staff}");

    // A refund of a charge that is no payment of this hub's: acknowledged, nothing changes.
    let other = json!({"id": "evt_other", "type": "charge.refunded", "data": {"object": {"id": "ch_2",
        "amount_refunded": 100, "currency": "eur", "payment_intent": "pi_unknown"}}})
    .to_string();
    let signature = cloud::payments::signature::sign(WEBHOOK_SECRET.as_bytes(), now, other.as_bytes());
    assert_eq!(deliver(&hub, &other, signature).await.1["outcome"], "ignored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chargeback_flags_the_order_and_the_organizer_may_cancel_its_tickets() {
    let Paid { stripe, hub, owner, placed, intent, .. } = Paid::two_tickets().await;
    let code = placed["code"].as_str().unwrap();

    // `charge.dispute.created` as Stripe sends it (localstripe has no disputes).
    let now = sync_core::ids::Timestamp::now().0 / 1000;
    let body = json!({
        "id": "evt_dispute", "object": "event", "type": "charge.dispute.created",
        "data": {"object": {"id": "dp_1", "object": "dispute", "amount": 9000, "charge": "ch_1",
                            "currency": "eur", "payment_intent": intent, "reason": "fraudulent",
                            "status": "warning_needs_response"}}
    })
    .to_string();
    let signature = || cloud::payments::signature::sign(WEBHOOK_SECRET.as_bytes(), now, body.as_bytes());
    assert_eq!(deliver(&hub, &body, signature()).await.1["outcome"], "disputed");
    assert_eq!(deliver(&hub, &body, signature()).await.1["outcome"], "duplicate");
    let staff = owner.get(&format!("/api/v1/orders/{code}")).await;
    let disputes = staff["disputes"].as_array().unwrap();
    assert_eq!(disputes.len(), 1, "{staff}");
    assert_eq!(
        (disputes[0]["reason"].as_str(), disputes[0]["amount_minor"].as_i64()),
        (Some("fraudulent"), Some(9000))
    );
    // Flagged, not cancelled: the tickets stay valid until the organizer decides.
    let valid = staff["tickets"].as_array().unwrap().iter().filter(|t| t["status"] == "valid").count();
    assert_eq!(valid, 2);
    let page = owner.authorize(hub.client.get(format!("{}/orders/{code}", hub.url))).send().await.unwrap();
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Disputed by the buyer") && html.contains("fraudulent") && html.contains("revocations"),
        "{html}"
    );

    // The organizer cancels its tickets: revoked, nothing paid back (the bank has the money).
    let path = format!("/api/v1/orders/{code}/revocations");
    let (status, made) = owner.post_with_key(&path, &json!({"reason": "chargeback"}), "cb-1").await;
    assert_eq!((status, made["amount_minor"].as_i64()), (201, Some(0)), "{made}");
    let staff = owner.get(&format!("/api/v1/orders/{code}")).await;
    assert!(staff["tickets"].as_array().unwrap().iter().all(|t| t["status"] != "valid"), "{staff}");
    assert_eq!(staff["refunded_minor"].as_i64(), Some(0), "{staff}");
    assert!(stripe.get("/v1/refunds").await["data"].as_array().unwrap().is_empty(), "no refund at Stripe");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_after_the_hold_lapsed_and_the_tickets_sold_is_refunded_and_the_buyer_told() {
    let stripe = Localstripe::start();
    let clock = cloud::clock::Clock::manual(sync_core::ids::Timestamp::now().0);
    let hub = hub_on(&stripe, cloud::db::Backend::Sqlite, clock.clone()).await;
    let owner = Organizer::create(&hub, "festival").await;
    let event = event_on_sale(&owner, 2, 4500).await;
    let (_, slow) = checkout(&hub, event, 2, None).await;
    let intent = intent_of(&start_payment(&hub, &slow, "pay-1").await);

    // The buyer dawdles on the payment page: the hold lapses (the hub's clock jumps 16
    // minutes, then returns to the wall clock the emulator dates its webhooks by), and another
    // buyer takes both tickets.
    let wall = clock.now_ms();
    clock.advance(16 * 60_000);
    assert_eq!(cloud::sales::fulfil::expire_holds(&hub.db).await.unwrap(), 1);
    clock.set(wall);
    let (status, _) = checkout(&hub, event, 2, None).await;
    assert_eq!(status, 201, "the lapsed tickets are on sale again");

    // Then the card goes through at Stripe: no tickets, the money back through Stripe at once.
    pay_with(&stripe, &intent, "4242424242424242").await;
    let mut refunds = Value::Null;
    for _ in 0..100 {
        refunds = stripe.get("/v1/refunds").await;
        if !refunds["data"].as_array().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let at_stripe = refunds["data"].as_array().unwrap();
    assert_eq!(at_stripe.len(), 1, "{refunds}");
    assert_eq!(at_stripe[0]["amount"].as_i64(), Some(9000));
    let now = order(&hub, &slow).await;
    assert_eq!(
        (now["status"].as_str(), now["tickets"].as_array().map(Vec::len)),
        (Some("expired"), Some(0)),
        "{now}"
    );

    // The buyer's order page says what happened and what comes back.
    let page = format!("{}{}", hub.url, order_url(&slow).replace("/api/v1/public", "/shop"));
    let html = hub.client.get(page).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("after your reservation had lapsed") && html.contains("90.00 EUR"), "{html}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_whose_webhook_never_came_is_found_at_stripe_and_settled_once() {
    let stripe = Localstripe::start();
    let hub = hub_with(&stripe, cloud::db::Backend::Sqlite).await;
    // Stripe's webhooks go nowhere: the hub was down when they came (localstripe, unlike
    // Stripe, does not try again).
    let nowhere = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    stripe.send_webhooks_to(&format!("http://{nowhere}/api/v1/webhooks/payments")).await;
    let owner = Organizer::create(&hub, "festival").await;
    let event = event_on_sale(&owner, 10, 4500).await;
    let (_, placed) = checkout(&hub, event, 2, None).await;
    let (_, abandoned) = checkout(&hub, event, 1, None).await;
    let started = start_payment(&hub, &placed, "pay-1").await;
    let intent = intent_of(&started);
    start_payment(&hub, &abandoned, "pay-2").await;
    pay_with(&stripe, &intent, "4242424242424242").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(order(&hub, &placed).await["status"], "pending", "no webhook reached the hub");

    // The hub's periodic work asks Stripe about pending payments: the paid one is settled with
    // its tickets, the abandoned one stays pending; asking again changes nothing.
    let state = &hub.state;
    let recover = async || {
        cloud::sales::fulfil::recover_missed_payments(&state.db, &state.master, &state.sales, 0)
            .await
            .unwrap()
    };
    assert_eq!(recover().await, 1);
    let now = order(&hub, &placed).await;
    assert_eq!(
        (now["status"].as_str(), now["tickets"].as_array().map(Vec::len)),
        (Some("paid"), Some(2)),
        "{now}"
    );
    assert_eq!(order(&hub, &abandoned).await["status"], "pending");
    assert_eq!(recover().await, 0);
    // The webhook arriving late after all (Stripe retries for days): a duplicate.
    let event = json!({"id": "evt_late", "type": "payment_intent.succeeded",
        "data": {"object": {"id": intent, "amount": 9000, "currency": "eur",
                            "metadata": {"reference": format!("pay_{}", started["payment_id"])}}}})
    .to_string();
    let at = sync_core::ids::Timestamp::now().0 / 1000;
    let signature = cloud::payments::signature::sign(WEBHOOK_SECRET.as_bytes(), at, event.as_bytes());
    let (_, answer) = deliver(&hub, &event, signature).await;
    assert_eq!(answer["outcome"], "duplicate", "{answer}");
    assert_eq!(order(&hub, &placed).await["tickets"].as_array().map(Vec::len), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ledger_is_reconciled_with_stripes_payouts_and_every_difference_is_listed() {
    let stripe = Localstripe::start();
    let hub = hub_with(&stripe, cloud::db::Backend::Sqlite).await;
    let owner = Organizer::create(&hub, "festival").await;
    let event = event_on_sale(&owner, 20, 4500).await;

    // Two orders paid through Stripe (its webhooks), one of them refunded in part.
    let mut paid = Vec::new();
    for (i, quantity) in [2, 1].into_iter().enumerate() {
        let (_, placed) = checkout(&hub, event, quantity, None).await;
        let started = start_payment(&hub, &placed, &format!("pay-{i}")).await;
        pay_with(&stripe, &intent_of(&started), "4242424242424242").await;
        eventually_status(&hub, &placed, "paid").await;
        paid.push(placed);
    }
    let code = paid[0]["code"].as_str().unwrap();
    let serial = order(&hub, &paid[0]).await["tickets"][0]["serial"].as_i64().unwrap();
    let (status, refund) = owner
        .post_with_key(
            &format!("/api/v1/orders/{code}/refunds"),
            &json!({"serials": [serial], "reason": "x"}),
            "r-1",
        )
        .await;
    assert_eq!(status, 201, "{refund}");
    // Stripe pays out what it holds: 90.00 + 45.00 − 45.00.
    let payout = stripe.post("/v1/payouts", &[("amount", "9000"), ("currency", "eur")]).await;
    assert!(payout["id"].is_string(), "{payout}");
    tokio::time::sleep(Duration::from_millis(1100)).await; // what follows is after the payout

    // A third order charged while its webhook is lost (the hub never saw it), and a fourth the
    // hub holds as paid though Stripe never charged it (say, a bug, or a hand in the database).
    let nowhere = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    stripe.send_webhooks_to(&format!("http://{nowhere}/api/v1/webhooks/payments")).await;
    let (_, unseen) = checkout(&hub, event, 1, None).await;
    let started = start_payment(&hub, &unseen, "pay-unseen").await;
    pay_with(&stripe, &intent_of(&started), "4242424242424242").await;
    let (_, uncharged) = checkout(&hub, event, 1, None).await;
    let started = start_payment(&hub, &uncharged, "pay-uncharged").await;
    let mut tamper = hub.inspect().await;
    sqlx::query("UPDATE payments SET status = 'succeeded' WHERE id = $1")
        .bind(started["payment_id"].as_i64().unwrap())
        .execute(&mut *tamper)
        .await
        .unwrap();
    tamper.commit().await.unwrap();

    let report = owner.get("/api/v1/reconciliation").await;
    let periods = report["periods"].as_array().expect("periods");
    assert_eq!(periods.len(), 2, "the payout's period and the open one: {report}");
    let closed = &periods[0];
    assert_eq!(closed["payout"]["id"], payout["id"]);
    assert_eq!(
        [&closed["charged_minor"], &closed["refunded_minor"], &closed["net_minor"]],
        [&json!(13_500), &json!(4500), &json!(9000)],
        "{closed}"
    );
    assert_eq!(
        [&closed["ledger_paid_minor"], &closed["ledger_refunded_minor"]],
        [&json!(13_500), &json!(4500)]
    );
    assert_eq!((&periods[1]["payout"], &periods[1]["charged_minor"]), (&Value::Null, &json!(4500)));
    let differences: Vec<(String, String)> = report["differences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["kind"].as_str().unwrap().to_owned(), d["order"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(
        differences,
        [
            ("charged_not_seen".to_owned(), unseen["code"].as_str().unwrap().to_owned()),
            ("paid_without_charge".to_owned(), uncharged["code"].as_str().unwrap().to_owned()),
        ],
        "{report}"
    );

    // The CSV says the same; the console shows it.
    let csv = owner.authorize(hub.get("/api/v1/reconciliation?format=csv")).send().await.unwrap();
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = csv.text().await.unwrap();
    assert_eq!(csv.lines().count(), 1 + 2 + 2, "{csv}");
    assert!(csv.contains("charged_not_seen") && csv.contains(payout["id"].as_str().unwrap()), "{csv}");
    let page = owner.authorize(hub.get("/reconciliation")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(unseen["code"].as_str().unwrap()) && page.contains("90.00 EUR"), "{page}");

    // Scheduled, it arrives by mail with the same CSV (and a PDF) — sent now, not at its time.
    let body = json!({"report": "reconciliation", "time": "07:00", "roles": ["owner"]});
    let (status, schedule) = owner.post(&format!("/api/v1/events/{event}/report-schedules"), &body).await;
    assert_eq!(status, 201, "{schedule}");
    let (status, sent) =
        owner.post(&format!("/api/v1/report-schedules/{}/send", schedule["id"]), &json!({})).await;
    assert_eq!((status, sent["recipients"].as_i64()), (202, Some(1)), "{sent}");
    hub.deliver_all_mail().await;
    let mailed = std::fs::read_dir(&hub.mail_dir)
        .unwrap()
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .find_map(|raw| {
            use mail_parser::MimeHeaders;
            let message = mail_parser::MessageParser::default().parse(&raw)?;
            let named =
                |n: &str| n.starts_with("reconciliation-") && n.to_ascii_lowercase().ends_with(".csv");
            let csv = message.attachments().find(|a| a.attachment_name().is_some_and(named))?;
            Some(String::from_utf8(csv.contents().to_vec()).unwrap())
        })
        .expect("the reconciliation by mail");
    assert_eq!(mailed, csv, "the mailed CSV is the API's");

    // The periodic work finds the lost payment at Stripe: that difference is gone.
    let state = &hub.state;
    cloud::sales::fulfil::recover_missed_payments(&state.db, &state.master, &state.sales, 0).await.unwrap();
    let report = owner.get("/api/v1/reconciliation").await;
    assert_eq!(report["differences"].as_array().unwrap().len(), 1, "{report}");
    assert_eq!(report["differences"][0]["kind"], "paid_without_charge");
}

#[tokio::test]
async fn the_simulated_provider_has_nothing_to_reconcile() {
    let hub = TestHub::start(cloud::db::Backend::Sqlite).await;
    let owner = Organizer::create(&hub, "sim").await;
    let (status, body) = owner.send(reqwest::Method::GET, "/api/v1/reconciliation", &Value::Null).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("no_provider_books")), "{body}");
    let page = owner.authorize(hub.get("/reconciliation")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("moves no money"), "{page}");
}

/// Clicks the button of the Stripe.js stand-in's 3-D Secure dialog whose text is `label`.
async fn answer_3ds(b: &fantoccini::Client, label: &str) {
    let xpath = format!("//button[normalize-space(.)='{label}']");
    eventually(10, "the 3-D Secure dialog", || async {
        b.find(fantoccini::Locator::XPath(&xpath)).await.is_ok()
    })
    .await;
    b.find(fantoccini::Locator::XPath(&xpath)).await.unwrap().click().await.unwrap();
}

/// The whole purchase, as the issue walks it: API checkout → PaymentIntent → the card confirmed
/// in headless Chromium through the Stripe.js stand-in → Stripe's webhook → tickets → a refund
/// through Stripe → the ticket refused at a gate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_payment_page_confirms_the_card_with_stripe_js_in_a_browser() {
    let stripe = Localstripe::start();
    let hub = hub_with(&stripe, cloud::db::Backend::Sqlite).await;
    let owner = Organizer::create(&hub, "festival").await;
    let event = event_on_sale(&owner, 10, 4500).await;
    let (_, placed) = checkout(&hub, event, 2, None).await;
    let payment = start_payment(&hub, &placed, "pay-1").await;
    let intent = intent_of(&payment);
    let page = payment["checkout_url"].as_str().unwrap().to_owned();

    // What Stripe.js does first with the card typed into its field — make it a PaymentMethod on
    // the PaymentIntent — the emulator's stand-in cannot (it has no createPaymentMethod): the
    // test does it, with a card whose bank asks for 3-D Secure. The rest is the page's own
    // code in a real browser: Stripe.js loaded with the publishable key, confirmCardPayment
    // with the client secret, the bank's check, the outcome in words, the way to the tickets.
    let waiting = pay_with(&stripe, &intent, "4000002760003184").await;
    assert_eq!(waiting["status"], "requires_action", "{waiting}");
    let driver = ChromeDriver::start();
    let b = driver.browser_as(390, 844, "en-GB,en").await;
    b.goto(&page).await.unwrap();
    eventually(10, "the card field mounted", || async { text(&b, "#pay-submit").await == "Pay 90.00 EUR" })
        .await;

    // The bank's check fails: said in plain words, the form ready for another try.
    b.find(fantoccini::Locator::Id("pay-submit")).await.unwrap().click().await.unwrap();
    answer_3ds(&b, "Fail authentication").await;
    eventually(10, "the failure in words", || async { text(&b, "#pay-error").await.contains("3-D Secure") })
        .await;
    let button = b.find(fantoccini::Locator::Id("pay-submit")).await.unwrap();
    assert!(button.is_enabled().await.unwrap(), "ready to try again");
    assert_eq!(order(&hub, &placed).await["status"], "pending");

    // Again, and the bank's check passes: Stripe charges, its webhook issues the tickets, the
    // page leads to them.
    let waiting = pay_with(&stripe, &intent, "4000002760003184").await;
    assert_eq!(waiting["status"], "requires_action", "{waiting}");
    button.click().await.unwrap();
    answer_3ds(&b, "Complete authentication").await;
    eventually(20, "the order page with the tickets", || async {
        text(&b, "#order-status").await.starts_with("Paid.")
    })
    .await;
    assert_eq!(b.find_all(fantoccini::Locator::Css(".ticket img")).await.unwrap().len(), 2);
    b.close().await.unwrap();

    // A gate has the event; the organizer refunds one ticket through Stripe; at the gate's next
    // sync the refunded ticket is refused and the other admitted.
    let dir = tempfile::tempdir().unwrap();
    let gate = enroll(&hub, dir.path(), &enrollment_code(&owner, "Main gate", "gate", event).await).await;
    let transport = HttpTransport::new(&hub.url, Arc::clone(&gate), HUB).unwrap();
    sync_with(&*gate, &transport).await.unwrap();
    let paid = order(&hub, &placed).await;
    let (refunded, kept) = (&paid["tickets"][0], &paid["tickets"][1]);
    let code = placed["code"].as_str().unwrap();
    let body = json!({"serials": [refunded["serial"]], "reason": "cannot come"});
    let (status, refund) = owner.post_with_key(&format!("/api/v1/orders/{code}/refunds"), &body, "r-1").await;
    assert_eq!((status, refund["status"].as_str()), (201, Some("succeeded")), "{refund}");
    assert_eq!(stripe.get(&format!("/v1/payment_intents/{intent}")).await["status"], "succeeded");
    sync_with(&*gate, &transport).await.unwrap();
    let ctx = ScanContext {
        device: gate.device(),
        gate: GateId(1),
        direction: Direction::Entry,
        now: sync_core::ids::Timestamp::now(),
    };
    let scanner = gate.gate(EventId(u32::try_from(event).unwrap()));
    let verdict = |t: &Value| scanner.scan(t["text"].as_str().unwrap(), &ctx).unwrap().kind();
    assert_eq!(verdict(refunded), VerdictKind::Revoked, "the refunded ticket is refused at the gate");
    assert_eq!(verdict(kept), VerdictKind::Admitted);
}
