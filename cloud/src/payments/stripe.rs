//! Stripe, behind [`PaymentProvider`]: PaymentIntents for online orders, refunds, and the
//! webhooks that report both.
//!
//! **Creating.** One PaymentIntent per hub payment (`pay_<id>`), for the order's amount and
//! currency, with the hub's reference and the order's code in its metadata, card only. The
//! request carries the idempotency key `voelgoed-create-pay_<id>`: a checkout retried after a
//! timeout, or by a second instance, gets the same PaymentIntent back from Stripe instead of a
//! second charge. The buyer confirms the card on the hub's payment page with Stripe.js and the
//! PaymentIntent's client secret (the publishable key is the page's, the secret key never
//! leaves the hub).
//!
//! **Webhooks.** Verified with the `Stripe-Signature` scheme ([`super::signature`]: timestamp
//! within five minutes, any `v1` signature by any configured secret, so both the provider's
//! and the hub's secret rotations work), then read by [`parse_event`]. The events the hub acts
//! on are `payment_intent.succeeded`, `payment_intent.payment_failed`, `charge.refunded` (a
//! refund made in Stripe's dashboard revokes tickets as the console's does) and
//! `charge.dispute.created` (a chargeback flags the order for the organizer); every other
//! verified event is acknowledged and ignored (Stripe disables an endpoint that keeps
//! refusing).
//!
//! **Refunds.** `POST /v1/refunds` for the PaymentIntent with the hub's refund idempotency key,
//! so a retried refund refunds once.
//!
//! Requests name the API version they were written against ([`API_VERSION`]), so a change of
//! the account's default version cannot change what the hub reads. Written by hand over
//! reqwest rather than with a Stripe SDK crate: the hub needs four calls, and the SDK crates
//! pull in their own HTTP stack and thousands of generated types.

use super::signature::{self, SignatureError};
use super::{
    CardForm, Collected, DisputeNote, PaymentProvider, PaymentRequest, ProviderError, ProviderPayment,
    WebhookEvent, WebhookKind,
};
pub use crate::config::StripeConfig;
use async_trait::async_trait;
use secrecy::ExposeSecret;
use serde::Deserialize;
use std::time::Duration;

/// The header Stripe signs webhooks in.
pub const SIGNATURE_HEADER: &str = "stripe-signature";
/// The API version the requests and the event parsing are written against.
pub const API_VERSION: &str = "2024-06-20";
/// The Stripe provider.
pub struct Stripe {
    config: StripeConfig,
    http: reqwest::Client,
}

/// The part of a PaymentIntent the hub reads.
#[derive(Debug, Deserialize)]
struct PaymentIntent {
    id: String,
    client_secret: Option<String>,
}

/// A PaymentIntent's state, as the hub reads it when it asks.
#[derive(Debug, Deserialize)]
struct IntentStatus {
    status: String,
    amount: i64,
    currency: String,
}

/// The part of a Refund the hub reads.
#[derive(Debug, Deserialize)]
struct Refund {
    id: String,
}

/// Stripe's error body.
#[derive(Debug, Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Debug, Deserialize)]
struct ErrorDetail {
    #[serde(default)]
    message: Option<String>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
}

impl Stripe {
    /// A provider for the account `config` names.
    pub fn new(config: StripeConfig) -> anyhow::Result<Self> {
        Ok(Self { config, http: sync_core::sync::http::http_client()? })
    }

    /// `POST path` with a form body, as Stripe's API takes it.
    async fn post<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        form: &[(&str, String)],
        idempotency_key: &str,
    ) -> Result<T, ProviderError> {
        let request = self
            .request(reqwest::Method::POST, path)
            .header("idempotency-key", idempotency_key)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form_encode(form));
        self.answer(request).await
    }

    /// `GET path`.
    async fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, ProviderError> {
        self.answer(self.request(reqwest::Method::GET, path)).await
    }

    /// `GET path`; `None` if Stripe answers 404 (a path it does not serve).
    pub(super) async fn get_if_found<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
    ) -> Result<Option<T>, ProviderError> {
        let request = self.request(reqwest::Method::GET, path);
        let response =
            request.send().await.map_err(|e| ProviderError::Unavailable(e.without_url().to_string()))?;
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let status = response.status();
        let text = response.text().await.map_err(|e| ProviderError::Unavailable(e.to_string()))?;
        Self::read(status, &text).map(Some)
    }

    /// A request to Stripe's API with the key and the pinned version.
    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.config.api_base.trim_end_matches('/')))
            .bearer_auth(self.config.secret_key.expose_secret())
            .header("stripe-version", API_VERSION)
            .timeout(Duration::from_secs(20))
    }

    /// Sends `request`; Stripe's answer, or what went wrong in words.
    async fn answer<T: serde::de::DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, ProviderError> {
        let response =
            request.send().await.map_err(|e| ProviderError::Unavailable(e.without_url().to_string()))?;
        let status = response.status();
        let text = response.text().await.map_err(|e| ProviderError::Unavailable(e.to_string()))?;
        Self::read(status, &text)
    }

    /// Stripe's answer `text` with `status`: what it says, or what went wrong in words.
    fn read<T: serde::de::DeserializeOwned>(
        status: reqwest::StatusCode,
        text: &str,
    ) -> Result<T, ProviderError> {
        if status.is_success() {
            return serde_json::from_str(text)
                .map_err(|e| ProviderError::Unavailable(format!("an answer the hub cannot read: {e}")));
        }
        let detail = serde_json::from_str::<ErrorBody>(text).ok().map(|b| b.error);
        let message = detail.map_or_else(
            || format!("HTTP {status}"),
            |d| format!("{} ({})", d.message.unwrap_or_default(), d.kind.unwrap_or_default()),
        );
        // 429 and 5xx are Stripe's "try again"; 409 an idempotency key still in flight.
        if status.is_server_error() || status.as_u16() == 429 || status.as_u16() == 409 {
            Err(ProviderError::Unavailable(message))
        } else {
            Err(ProviderError::Refused(message))
        }
    }
}

/// `application/x-www-form-urlencoded`, as Stripe reads it (`metadata[reference]=pay_1`).
fn form_encode(pairs: &[(&str, String)]) -> String {
    // Pairs of strings always encode.
    serde_urlencoded::to_string(pairs).unwrap_or_default()
}

#[async_trait]
impl PaymentProvider for Stripe {
    fn name(&self) -> &'static str {
        "stripe"
    }

    fn signature_header(&self) -> &'static str {
        SIGNATURE_HEADER
    }

    async fn collected(&self, payment: &str) -> Result<Option<Collected>, ProviderError> {
        let intent: IntentStatus = self.get(&format!("/v1/payment_intents/{payment}")).await?;
        Ok((intent.status == "succeeded").then(|| Collected {
            amount_minor: intent.amount,
            currency: intent.currency.to_ascii_uppercase(),
        }))
    }

    async fn books(&self, since_ms: i64) -> Result<Option<super::reconcile::Books>, ProviderError> {
        self.books_since(since_ms).await.map(Some)
    }

    fn card_form(&self) -> Option<CardForm> {
        Some(CardForm {
            publishable_key: self.config.publishable_key.clone(),
            script_url: self.config.js_url.clone(),
        })
    }

    async fn create_payment(&self, request: &PaymentRequest) -> Result<ProviderPayment, ProviderError> {
        let form = [
            ("amount", request.amount_minor.to_string()),
            ("currency", request.currency.to_ascii_lowercase()),
            ("payment_method_types[0]", "card".to_owned()),
            ("metadata[reference]", request.reference.clone()),
            ("metadata[description]", request.description.clone()),
        ];
        let key = format!("voelgoed-create-{}", request.reference);
        let intent: PaymentIntent = self.post("/v1/payment_intents", &form, &key).await?;
        let client_secret = intent
            .client_secret
            .ok_or_else(|| ProviderError::Unavailable("a PaymentIntent without a client secret".into()))?;
        Ok(ProviderPayment {
            id: intent.id,
            checkout_url: request.payment_page_url.clone(),
            client_secret: Some(client_secret),
        })
    }

    async fn refund(
        &self,
        payment: &str,
        amount_minor: i64,
        idempotency_key: &str,
    ) -> Result<String, ProviderError> {
        let form = [("payment_intent", payment.to_owned()), ("amount", amount_minor.to_string())];
        let refund: Refund =
            self.post("/v1/refunds", &form, &format!("voelgoed-refund-{idempotency_key}")).await?;
        Ok(refund.id)
    }

    fn parse_webhook(
        &self,
        signature: Option<&str>,
        body: &[u8],
        now: i64,
    ) -> Result<WebhookEvent, SignatureError> {
        let secrets: Vec<&[u8]> =
            self.config.webhook_secrets.iter().map(|s| s.expose_secret().as_bytes()).collect();
        signature::verify(&secrets, signature, body, now)?;
        parse_event(body)
    }
}

/// A Stripe event as far as the hub reads it.
#[derive(Debug, Deserialize)]
struct Event {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    data: EventData,
}

#[derive(Debug, Deserialize)]
struct EventData {
    object: serde_json::Value,
}

/// The PaymentIntent inside a `payment_intent.*` event.
#[derive(Debug, Deserialize)]
struct IntentObject {
    id: String,
    amount: i64,
    currency: String,
    #[serde(default)]
    metadata: std::collections::HashMap<String, String>,
}

/// Reads a verified event body: what it means for the hub. An event of a type the hub does not
/// act on is [`WebhookKind::Ignored`]; a body that is not a Stripe event, or a PaymentIntent
/// event without the hub's reference (a payment made some other way on the same account), is
/// refused as malformed.
pub fn parse_event(body: &[u8]) -> Result<WebhookEvent, SignatureError> {
    let event: Event = serde_json::from_slice(body).map_err(|_| SignatureError::Malformed)?;
    let kind = match event.kind.as_str() {
        "payment_intent.succeeded" => WebhookKind::PaymentSucceeded,
        "payment_intent.payment_failed" => WebhookKind::PaymentFailed,
        "charge.refunded" => return refunded(event),
        "charge.dispute.created" => return disputed(event),
        _ => return Ok(ignored(event.id)),
    };
    let intent: IntentObject =
        serde_json::from_value(event.data.object).map_err(|_| SignatureError::Malformed)?;
    let reference = intent.metadata.get("reference").cloned().ok_or(SignatureError::Malformed)?;
    Ok(WebhookEvent {
        id: event.id,
        kind,
        payment: intent.id,
        reference,
        amount_minor: intent.amount,
        currency: intent.currency.to_ascii_uppercase(),
        dispute: None,
    })
}

/// An event about the provider's payment `payment`, which the hub finds its own by.
fn about(id: String, kind: WebhookKind, payment: String, amount_minor: i64, currency: &str) -> WebhookEvent {
    let currency = currency.to_ascii_uppercase();
    WebhookEvent { id, kind, payment, reference: String::new(), amount_minor, currency, dispute: None }
}

/// A verified event the hub does not act on.
fn ignored(id: String) -> WebhookEvent {
    about(id, WebhookKind::Ignored, String::new(), 0, "")
}

/// The Charge inside a `charge.refunded` event.
#[derive(Debug, Deserialize)]
struct ChargeObject {
    /// Absent for a charge made without a PaymentIntent (not the hub's).
    #[serde(default)]
    payment_intent: Option<String>,
    /// Everything refunded of the charge so far (Stripe's running total: an older event
    /// arriving late says less, never more).
    amount_refunded: i64,
    currency: String,
}

/// `charge.refunded`: a refund the hub made, or one made in Stripe's dashboard.
fn refunded(event: Event) -> Result<WebhookEvent, SignatureError> {
    let charge: ChargeObject =
        serde_json::from_value(event.data.object).map_err(|_| SignatureError::Malformed)?;
    let Some(intent) = charge.payment_intent else { return Ok(ignored(event.id)) };
    Ok(about(event.id, WebhookKind::Refunded, intent, charge.amount_refunded, &charge.currency))
}

/// The Dispute inside a `charge.dispute.created` event.
#[derive(Debug, Deserialize)]
struct DisputeObject {
    id: String,
    #[serde(default)]
    payment_intent: Option<String>,
    amount: i64,
    currency: String,
    #[serde(default)]
    reason: String,
}

/// `charge.dispute.created`: the buyer's bank disputes a payment.
fn disputed(event: Event) -> Result<WebhookEvent, SignatureError> {
    let dispute: DisputeObject =
        serde_json::from_value(event.data.object).map_err(|_| SignatureError::Malformed)?;
    let Some(intent) = dispute.payment_intent else { return Ok(ignored(event.id)) };
    let note = DisputeNote { id: dispute.id, reason: dispute.reason };
    let about = about(event.id, WebhookKind::Disputed, intent, dispute.amount, &dispute.currency);
    Ok(WebhookEvent { dispute: Some(note), ..about })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{DEFAULT_STRIPE_API, DEFAULT_STRIPE_JS};

    /// A `payment_intent.succeeded` event as Stripe sends it (API version 2024-06-20, trimmed
    /// of fields the hub does not read but keeping their shape).
    const SUCCEEDED: &str = r#"{
      "id": "evt_3PXk2vLkdIwHu7ix0cTs1Nna",
      "object": "event",
      "api_version": "2024-06-20",
      "created": 1719830000,
      "livemode": false,
      "pending_webhooks": 1,
      "type": "payment_intent.succeeded",
      "data": {"object": {
        "id": "pi_3PXk2vLkdIwHu7ix0Xq9QZ8P",
        "object": "payment_intent",
        "amount": 9000,
        "amount_received": 9000,
        "currency": "eur",
        "status": "succeeded",
        "latest_charge": "ch_3PXk2vLkdIwHu7ix0u2p7kB1",
        "metadata": {"reference": "pay_42", "description": "Order ABC123"},
        "payment_method_types": ["card"]
      }}
    }"#;

    #[test]
    fn a_succeeded_payment_intent_names_the_hubs_payment() {
        let event = parse_event(SUCCEEDED.as_bytes()).unwrap();
        assert_eq!(event.id, "evt_3PXk2vLkdIwHu7ix0cTs1Nna");
        assert_eq!(event.kind, WebhookKind::PaymentSucceeded);
        assert_eq!(
            (event.payment.as_str(), event.reference.as_str()),
            ("pi_3PXk2vLkdIwHu7ix0Xq9QZ8P", "pay_42")
        );
        assert_eq!((event.amount_minor, event.currency.as_str()), (9000, "EUR"));
    }

    /// A `charge.refunded` event (API version 2024-06-20: `refunds` no longer expanded).
    const REFUNDED: &str = r#"{
      "id": "evt_3PXk2vLkdIwHu7ix0Y5rTQmD", "object": "event", "api_version": "2024-06-20",
      "type": "charge.refunded",
      "data": {"object": {
        "id": "ch_3PXk2vLkdIwHu7ix0u2p7kB1", "object": "charge", "amount": 9000,
        "amount_captured": 9000, "amount_refunded": 4500, "currency": "eur", "refunded": false,
        "payment_intent": "pi_3PXk2vLkdIwHu7ix0Xq9QZ8P", "metadata": {}
      }}
    }"#;

    #[test]
    fn a_refunded_charge_names_its_payment_intent_and_the_running_total() {
        let event = parse_event(REFUNDED.as_bytes()).unwrap();
        assert_eq!(event.kind, WebhookKind::Refunded);
        assert_eq!(event.payment, "pi_3PXk2vLkdIwHu7ix0Xq9QZ8P");
        assert_eq!((event.amount_minor, event.currency.as_str()), (4500, "EUR"));
        // A charge made without a PaymentIntent is no payment of the hub's.
        let direct = REFUNDED.replace(r#""payment_intent": "pi_3PXk2vLkdIwHu7ix0Xq9QZ8P", "#, "");
        assert_eq!(parse_event(direct.as_bytes()).unwrap().kind, WebhookKind::Ignored);
        let broken = REFUNDED.replace(r#""amount_refunded": 4500"#, r#""amount_refunded": "lots""#);
        assert_eq!(parse_event(broken.as_bytes()), Err(SignatureError::Malformed));
    }

    #[test]
    fn a_dispute_names_its_payment_intent_amount_and_reason() {
        let body = r#"{"id": "evt_1Dsp", "object": "event", "type": "charge.dispute.created",
          "data": {"object": {"id": "dp_1MtrUm2eZvKYlo2C", "object": "dispute", "amount": 9000,
            "charge": "ch_3PXk2vLkdIwHu7ix0u2p7kB1", "currency": "eur",
            "payment_intent": "pi_3PXk2vLkdIwHu7ix0Xq9QZ8P", "reason": "fraudulent",
            "status": "warning_needs_response"}}}"#;
        let event = parse_event(body.as_bytes()).unwrap();
        assert_eq!(event.kind, WebhookKind::Disputed);
        assert_eq!((event.payment.as_str(), event.amount_minor), ("pi_3PXk2vLkdIwHu7ix0Xq9QZ8P", 9000));
        let note = event.dispute.unwrap();
        assert_eq!((note.id.as_str(), note.reason.as_str()), ("dp_1MtrUm2eZvKYlo2C", "fraudulent"));
    }

    #[test]
    fn other_events_are_acknowledged_and_foreign_or_broken_ones_refused() {
        let charge = SUCCEEDED.replace("payment_intent.succeeded", "charge.succeeded");
        assert_eq!(parse_event(charge.as_bytes()).unwrap().kind, WebhookKind::Ignored);
        let failed = SUCCEEDED.replace("payment_intent.succeeded", "payment_intent.payment_failed");
        assert_eq!(parse_event(failed.as_bytes()).unwrap().kind, WebhookKind::PaymentFailed);
        // A PaymentIntent the hub did not create (no reference): not ours.
        let foreign = SUCCEEDED.replace(r#""reference": "pay_42", "#, "");
        assert_eq!(parse_event(foreign.as_bytes()), Err(SignatureError::Malformed));
        for broken in
            ["", "{}", "[]", r#"{"id":"evt_1","type":"payment_intent.succeeded","data":{"object":{}}}"#]
        {
            assert_eq!(parse_event(broken.as_bytes()), Err(SignatureError::Malformed), "{broken}");
        }
    }

    /// Stripe's answers, as its API reference documents them (trimmed), played back by a
    /// local server that records what the adapter sent: what localstripe does not check
    /// (idempotency keys, the API version header, error bodies) is checked here.
    mod recorded {
        use super::super::*;
        use crate::config::DEFAULT_STRIPE_JS;
        use axum::extract::State;
        use axum::http::{HeaderMap, StatusCode};
        use std::collections::VecDeque;
        use std::sync::{Arc, Mutex};

        const INTENT: &str = r#"{"id":"pi_3MtwBwLkdIwHu7ix28a3tqPa","object":"payment_intent","amount":2000,
            "currency":"usd","status":"requires_payment_method","client_secret":"pi_3MtwBwLkdIwHu7ix28a3tqPa_secret_YrKJUKribcBjcG8HVhfZluoGH",
            "metadata":{"reference":"pay_7"},"payment_method_types":["card"],"livemode":false}"#;
        const REFUND: &str = r#"{"id":"re_1Nispe2eZvKYlo2Cd31jOCgZ","object":"refund","amount":1000,
            "payment_intent":"pi_3MtwBwLkdIwHu7ix28a3tqPa","status":"succeeded","currency":"usd"}"#;
        const RATE_LIMITED: &str = r#"{"error":{"message":"Too many requests hit the API too quickly.","type":"invalid_request_error","code":"rate_limit"}}"#;
        const ALREADY_REFUNDED: &str = r#"{"error":{"code":"charge_already_refunded","message":"Charge ch_1 has already been refunded.","type":"invalid_request_error"}}"#;

        #[derive(Default)]
        struct Recorder {
            sent: Mutex<Vec<(String, HeaderMap, String)>>,
            answers: Mutex<VecDeque<(StatusCode, &'static str)>>,
        }

        async fn answer(
            State(recorder): State<Arc<Recorder>>,
            uri: axum::http::Uri,
            headers: HeaderMap,
            body: String,
        ) -> (StatusCode, String) {
            recorder.sent.lock().unwrap().push((uri.path().to_owned(), headers, body));
            let (status, body) =
                recorder.answers.lock().unwrap().pop_front().expect("an answer for each request");
            (status, body.to_owned())
        }

        #[tokio::test]
        async fn requests_carry_the_key_version_and_idempotency_and_errors_say_retry_or_refused() {
            let recorder = Arc::new(Recorder::default());
            recorder.answers.lock().unwrap().extend([
                (StatusCode::OK, INTENT),
                (StatusCode::TOO_MANY_REQUESTS, RATE_LIMITED),
                (StatusCode::OK, REFUND),
                (StatusCode::BAD_REQUEST, ALREADY_REFUNDED),
                (StatusCode::INTERNAL_SERVER_ERROR, "<html>oops</html>"),
            ]);
            let app = axum::Router::new().fallback(answer).with_state(Arc::clone(&recorder));
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let base = format!("http://{}", listener.local_addr().unwrap());
            tokio::spawn(async move { axum::serve(listener, app).await });
            let stripe = Stripe::new(StripeConfig {
                secret_key: "sk_test_4eC39HqLyjWDarjtT1zdp7dc".to_owned().into(),
                publishable_key: "pk_test_x".into(),
                webhook_secrets: vec![],
                api_base: base,
                js_url: DEFAULT_STRIPE_JS.into(),
            })
            .unwrap();

            let request = PaymentRequest {
                amount_minor: 2000,
                currency: "USD".into(),
                reference: "pay_7".into(),
                description: "Order ABC".into(),
                webhook_url: String::new(),
                return_url: String::new(),
                payment_page_url: "https://hub.example/shop/orders/ABC/s/pay/7".into(),
            };
            let created = stripe.create_payment(&request).await.unwrap();
            assert_eq!(created.id, "pi_3MtwBwLkdIwHu7ix28a3tqPa");
            assert_eq!(created.checkout_url, request.payment_page_url);
            assert!(created.client_secret.unwrap().starts_with("pi_3MtwBwLkdIwHu7ix28a3tqPa_secret_"));
            // Rate limited: "try again", not "refused".
            let limited = stripe.refund("pi_3MtwBwLkdIwHu7ix28a3tqPa", 1000, "refund_3").await;
            assert!(
                matches!(limited, Err(ProviderError::Unavailable(ref m)) if m.contains("Too many")),
                "{limited:?}"
            );
            assert_eq!(
                stripe.refund("pi_3MtwBwLkdIwHu7ix28a3tqPa", 1000, "refund_3").await.unwrap(),
                "re_1Nispe2eZvKYlo2Cd31jOCgZ"
            );
            let refused = stripe.refund("pi_3MtwBwLkdIwHu7ix28a3tqPa", 1000, "refund_4").await;
            assert!(
                matches!(refused, Err(ProviderError::Refused(ref m)) if m.contains("already been refunded")),
                "{refused:?}"
            );
            let down = stripe.refund("pi_3MtwBwLkdIwHu7ix28a3tqPa", 1000, "refund_5").await;
            assert!(matches!(down, Err(ProviderError::Unavailable(_))), "{down:?}");

            let sent = recorder.sent.lock().unwrap();
            let (path, headers, body) = &sent[0];
            assert_eq!(path, "/v1/payment_intents");
            assert_eq!(headers["authorization"], "Bearer sk_test_4eC39HqLyjWDarjtT1zdp7dc");
            assert_eq!(headers["stripe-version"], API_VERSION);
            assert_eq!(headers["idempotency-key"], "voelgoed-create-pay_7");
            let form: Vec<(String, String)> = serde_urlencoded::from_str(body).unwrap();
            let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
            assert_eq!((field("amount"), field("currency")), (Some("2000"), Some("usd")));
            assert_eq!(field("metadata[reference]"), Some("pay_7"));
            // A retried refund carries the same key (Stripe answers it with the first refund).
            assert_eq!(sent[1].1["idempotency-key"], "voelgoed-refund-refund_3");
            assert_eq!(sent[2].1["idempotency-key"], "voelgoed-refund-refund_3");
            assert_eq!(sent[2].0, "/v1/refunds");
            assert!(
                sent[2].2.contains("payment_intent=pi_3MtwBwLkdIwHu7ix28a3tqPa")
                    && sent[2].2.contains("amount=1000")
            );
        }
    }

    #[test]
    fn secrets_never_show_in_debug() {
        let config = StripeConfig {
            secret_key: "sk_test_hidden".to_owned().into(),
            publishable_key: "pk_test_shown".into(),
            webhook_secrets: vec!["whsec_hidden".to_owned().into()],
            api_base: DEFAULT_STRIPE_API.into(),
            js_url: DEFAULT_STRIPE_JS.into(),
        };
        let printed = format!("{config:?}");
        assert!(!printed.contains("hidden") && printed.contains("pk_test_shown"), "{printed}");
    }

    #[test]
    fn forms_are_encoded_as_stripe_reads_them() {
        let form = [
            ("metadata[reference]", "pay_1".to_owned()),
            ("metadata[description]", "Order A&B =1".to_owned()),
        ];
        assert_eq!(
            form_encode(&form),
            "metadata%5Breference%5D=pay_1&metadata%5Bdescription%5D=Order+A%26B+%3D1"
        );
    }
}
