//! The simulated payment provider — **moves no money** — and the hub's client for it.
//!
//! It behaves like a hosted-checkout provider (Mollie, Stripe Checkout): the hub creates a
//! payment over an authenticated API and sends the customer to the provider's checkout page;
//! the customer pays (or gives up); the provider tells the hub by a webhook signed with HMAC
//! ([`super::signature`]) and retries a webhook that was not acknowledged. Refunds go through
//! the API, idempotently.
//!
//! The hub mounts it at `/sim-psp` when no other provider is configured (development, demos);
//! tests also run it on a port of its own. Its state is in memory: a restarted simulator has
//! forgotten its payments, which is fine for what it is for.

use super::signature;
use super::{PaymentProvider, PaymentRequest, ProviderError, ProviderPayment, WebhookEvent, WebhookKind};
use async_trait::async_trait;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Where the hub mounts the simulator.
pub const MOUNT: &str = "/sim-psp";

/// How the simulator and its clients authenticate each other.
#[derive(Clone)]
pub struct Credentials {
    /// The API key the hub presents.
    pub api_key: String,
    /// The webhook signing secret.
    pub webhook_secret: Vec<u8>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Credentials(redacted)")
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum Status {
    Open,
    Paid,
    Failed,
}

struct Payment {
    request: PaymentRequest,
    status: Status,
    refunded_minor: i64,
}

#[derive(Default)]
struct Ledger {
    payments: HashMap<String, Payment>,
    /// Refund idempotency keys → refund ids.
    refunds: HashMap<String, String>,
}

/// The simulator's state.
pub struct Simulator {
    base: String,
    credentials: Credentials,
    ledger: Mutex<Ledger>,
    http: reqwest::Client,
    /// Dates the webhooks' signatures (the hub's clock: the simulator lives in the hub).
    clock: crate::clock::Clock,
}

fn random_id(prefix: &str) -> String {
    let mut bytes = [0u8; 12];
    // The simulator's ids need no secrecy; a failing random source just makes a fixed id.
    let _ = getrandom::fill(&mut bytes);
    format!("{prefix}_{}", hex::encode(bytes))
}

impl Simulator {
    /// A simulator whose pages are reachable at `base` (e.g. `http://127.0.0.1:8080/sim-psp`).
    pub fn new(
        base: &str,
        credentials: Credentials,
        clock: crate::clock::Clock,
    ) -> anyhow::Result<Arc<Self>> {
        Ok(Arc::new(Self {
            base: base.trim_end_matches('/').to_owned(),
            credentials,
            ledger: Mutex::new(Ledger::default()),
            http: sync_core::sync::http::http_client()?,
            clock,
        }))
    }

    fn ledger(&self) -> std::sync::MutexGuard<'_, Ledger> {
        self.ledger.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn authorized(&self, headers: &HeaderMap) -> bool {
        let expected = format!("Bearer {}", self.credentials.api_key);
        headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| crate::codes::constant_time_eq(v, &expected))
    }

    /// Sends the webhook; retries in the background (1 s, 2 s, 4 s … up to 6 tries) if the
    /// hub does not acknowledge it with a 2xx. The first try is awaited, so the customer's
    /// "paid" page follows the hub's confirmation in the common case.
    async fn deliver(self: &Arc<Self>, url: String, event: WebhookEvent) {
        let body = serde_json::to_vec(&event).unwrap_or_default();
        if self.try_deliver(&url, &body).await {
            return;
        }
        let me = Arc::clone(self);
        tokio::spawn(async move {
            for attempt in 0..5u32 {
                tokio::time::sleep(Duration::from_secs(1 << attempt)).await;
                if me.try_deliver(&url, &body).await {
                    return;
                }
            }
            tracing::warn!(event = %event.id, "simulated provider gave up delivering a webhook");
        });
    }

    async fn try_deliver(&self, url: &str, body: &[u8]) -> bool {
        let now = self.clock.now_ms() / 1000;
        let signature = signature::sign(&self.credentials.webhook_secret, now, body);
        let sent = self
            .http
            .post(url)
            .header(signature::HEADER, signature)
            .header(header::CONTENT_TYPE, "application/json")
            .body(body.to_vec())
            .timeout(Duration::from_secs(10))
            .send()
            .await;
        sent.is_ok_and(|r| r.status().is_success())
    }
}

/// The simulator's routes (relative: mount them at [`MOUNT`] or serve them at the root).
pub fn router(sim: Arc<Simulator>) -> Router {
    Router::new()
        .route("/v1/payments", post(create_payment))
        .route("/v1/payments/{id}", get(payment_status))
        .route("/v1/refunds", post(create_refund))
        .route("/checkout/{id}", get(checkout_page))
        .route("/checkout/{id}/{outcome}", post(complete))
        .with_state(sim)
}

/// The simulator's error body.
#[derive(Serialize)]
struct Refusal<'a> {
    error: &'a str,
}

/// A payment's state, as the simulator reports it.
#[derive(Serialize)]
struct PaymentState<'a> {
    id: &'a str,
    status: Status,
    refunded_minor: i64,
}

/// A refund made.
#[derive(Serialize, Deserialize)]
struct RefundDone {
    id: String,
    status: String,
}

fn problem(status: StatusCode, message: &str) -> Response {
    (status, Json(Refusal { error: message })).into_response()
}

async fn create_payment(
    State(sim): State<Arc<Simulator>>,
    headers: HeaderMap,
    Json(request): Json<PaymentRequest>,
) -> Response {
    if !sim.authorized(&headers) {
        return problem(StatusCode::UNAUTHORIZED, "invalid API key");
    }
    if request.amount_minor <= 0 || request.currency.len() != 3 {
        return problem(StatusCode::UNPROCESSABLE_ENTITY, "amount must be positive, currency three letters");
    }
    let id = random_id("simpay");
    let checkout_url = format!("{}/checkout/{id}", sim.base);
    sim.ledger().payments.insert(id.clone(), Payment { request, status: Status::Open, refunded_minor: 0 });
    (StatusCode::CREATED, Json(ProviderPayment { id, checkout_url, client_secret: None })).into_response()
}

async fn payment_status(
    State(sim): State<Arc<Simulator>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if !sim.authorized(&headers) {
        return problem(StatusCode::UNAUTHORIZED, "invalid API key");
    }
    let ledger = sim.ledger();
    match ledger.payments.get(&id) {
        Some(p) => {
            Json(PaymentState { id: &id, status: p.status, refunded_minor: p.refunded_minor }).into_response()
        }
        None => problem(StatusCode::NOT_FOUND, "no such payment"),
    }
}

#[derive(Serialize, Deserialize)]
struct RefundRequest {
    payment: String,
    amount_minor: i64,
    idempotency_key: String,
}

async fn create_refund(
    State(sim): State<Arc<Simulator>>,
    headers: HeaderMap,
    Json(body): Json<RefundRequest>,
) -> Response {
    if !sim.authorized(&headers) {
        return problem(StatusCode::UNAUTHORIZED, "invalid API key");
    }
    let mut ledger = sim.ledger();
    if let Some(id) = ledger.refunds.get(&body.idempotency_key) {
        return Json(RefundDone { id: id.clone(), status: "succeeded".into() }).into_response();
    }
    let Some(payment) = ledger.payments.get_mut(&body.payment) else {
        return problem(StatusCode::NOT_FOUND, "no such payment");
    };
    let refundable = payment.request.amount_minor - payment.refunded_minor;
    if payment.status != Status::Paid || body.amount_minor <= 0 || body.amount_minor > refundable {
        return problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "not refundable: unpaid, or more than what is left",
        );
    }
    payment.refunded_minor += body.amount_minor;
    let id = random_id("simref");
    ledger.refunds.insert(body.idempotency_key, id.clone());
    (StatusCode::CREATED, Json(RefundDone { id, status: "succeeded".into() })).into_response()
}

async fn checkout_page(State(sim): State<Arc<Simulator>>, Path(id): Path<String>) -> Response {
    let ledger = sim.ledger();
    let Some(payment) = ledger.payments.get(&id) else {
        return (StatusCode::NOT_FOUND, Html("<h1>No such payment</h1>".to_owned())).into_response();
    };
    let amount = sync_core::money::format_minor(payment.request.amount_minor, &payment.request.currency);
    let description = html_escape(&payment.request.description);
    let body = match payment.status {
        Status::Open => format!(
            "<p>{description}</p><p class=amount>{amount}</p>\
             <form method=post action=\"{id}/pay\"><button id=pay>Pay {amount}</button></form>\
             <form method=post action=\"{id}/fail\"><button id=cancel class=secondary>Cancel payment</button></form>"
        ),
        Status::Paid => "<p>This payment is complete.</p>".to_owned(),
        Status::Failed => "<p>This payment was cancelled.</p>".to_owned(),
    };
    Html(format!(
        "<!doctype html><html lang=en><meta charset=utf-8><meta name=viewport content=\"width=device-width\">\
         <title>Simulated payment</title>\
         <style>body{{font:16px system-ui;max-width:30em;margin:2em auto;padding:0 1em}}\
         .banner{{background:#fde68a;padding:.5em 1em;border-radius:.3em}}.amount{{font-size:2em}}\
         button{{font:inherit;padding:.6em 1.2em;margin:.3em 0}}.secondary{{background:none}}</style>\
         <p class=banner>Simulated payment provider — no money moves. For development and tests.</p>{body}"
    ))
    .into_response()
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

async fn complete(
    State(sim): State<Arc<Simulator>>,
    Path((id, outcome)): Path<(String, String)>,
) -> Response {
    let (kind, status) = match outcome.as_str() {
        "pay" => (WebhookKind::PaymentSucceeded, Status::Paid),
        "fail" => (WebhookKind::PaymentFailed, Status::Failed),
        _ => return problem(StatusCode::NOT_FOUND, "no such action"),
    };
    let (event, url, return_url) = {
        let mut ledger = sim.ledger();
        let Some(payment) = ledger.payments.get_mut(&id) else {
            return problem(StatusCode::NOT_FOUND, "no such payment");
        };
        if payment.status != Status::Open {
            return problem(StatusCode::CONFLICT, "this payment is already complete");
        }
        payment.status = status;
        let event = WebhookEvent {
            id: random_id("simevt"),
            kind,
            payment: id.clone(),
            reference: payment.request.reference.clone(),
            amount_minor: payment.request.amount_minor,
            currency: payment.request.currency.clone(),
            dispute: None,
        };
        (event, payment.request.webhook_url.clone(), payment.request.return_url.clone())
    };
    sim.deliver(url, event).await;
    Redirect::to(&return_url).into_response()
}

/// The hub's client for the simulator.
pub struct SimulatedClient {
    base: String,
    credentials: Credentials,
    http: reqwest::Client,
}

impl SimulatedClient {
    /// A client for the simulator at `base`.
    pub fn new(base: &str, credentials: Credentials) -> anyhow::Result<Self> {
        Ok(Self {
            base: base.trim_end_matches('/').to_owned(),
            credentials,
            http: sync_core::sync::http::http_client()?,
        })
    }

    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: &(impl Serialize + Sync),
    ) -> Result<T, ProviderError> {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.credentials.api_key)
            .json(body)
            .timeout(Duration::from_secs(15))
            .send()
            .await
            .map_err(|e| ProviderError::Unavailable(e.to_string()))?;
        let status = response.status();
        let text = response.text().await.map_err(|e| ProviderError::Unavailable(e.to_string()))?;
        if status.is_server_error() {
            return Err(ProviderError::Unavailable(format!("{status}: {text}")));
        }
        if !status.is_success() {
            return Err(ProviderError::Refused(format!("{status}: {text}")));
        }
        serde_json::from_str(&text).map_err(|e| ProviderError::Unavailable(format!("unreadable answer: {e}")))
    }
}

#[async_trait]
impl PaymentProvider for SimulatedClient {
    fn name(&self) -> &'static str {
        "simulated"
    }

    async fn create_payment(&self, request: &PaymentRequest) -> Result<ProviderPayment, ProviderError> {
        self.call("/v1/payments", request).await
    }

    async fn refund(
        &self,
        payment: &str,
        amount_minor: i64,
        idempotency_key: &str,
    ) -> Result<String, ProviderError> {
        let body = RefundRequest {
            payment: payment.to_owned(),
            amount_minor,
            idempotency_key: idempotency_key.to_owned(),
        };
        Ok(self.call::<RefundDone>("/v1/refunds", &body).await?.id)
    }

    fn parse_webhook(
        &self,
        signature: Option<&str>,
        body: &[u8],
        now: i64,
    ) -> Result<WebhookEvent, signature::SignatureError> {
        signature::verify(&[&self.credentials.webhook_secret], signature, body, now)?;
        // Signed by the provider but not an event we understand: treat as malformed.
        serde_json::from_slice(body).map_err(|_| signature::SignatureError::Malformed)
    }
}
