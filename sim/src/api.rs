//! The REST API as an organizer and as a customer use it: log in, set up an event, hand out
//! enrollment codes and leases, read reports; place an order, pay it, take the tickets.

use anyhow::{Context, bail};
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

/// A logged-in organizer (session cookie and CSRF token), at one hub URL.
#[derive(Clone)]
pub struct Organizer {
    /// The hub's base URL.
    pub url: String,
    /// The organization the session acts for.
    pub org_id: i64,
    client: reqwest::Client,
    cookie: String,
    csrf: String,
}

impl Organizer {
    /// Logs in as `email`.
    pub async fn login(url: &str, email: &str, password: &str) -> anyhow::Result<Self> {
        let client = sync_core::sync::http::http_client()?;
        let response = client
            .post(format!("{url}/api/v1/login"))
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .with_context(|| format!("cannot reach the hub at {url}"))?;
        if !response.status().is_success() {
            bail!("logging in as {email} at {url}: {}", response.text().await.unwrap_or_default());
        }
        let cookie = response
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .context("the login answer set no session cookie")?
            .to_owned();
        let body: Value = response.json().await?;
        let csrf = body["csrf_token"].as_str().context("the login answer has no CSRF token")?.to_owned();
        let org_id = body["org_id"].as_i64().unwrap_or(0);
        Ok(Self { url: url.trim_end_matches('/').to_owned(), org_id, client, cookie, csrf })
    }

    /// The session cookie (`name=value`), for clients of the console's pages and streams.
    pub fn cookie(&self) -> &str {
        &self.cookie
    }

    /// `method path` with a JSON body (unless null): the status and the JSON answer.
    pub async fn send(&self, method: Method, path: &str, body: &Value) -> anyhow::Result<(u16, Value)> {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.url))
            .header("cookie", &self.cookie)
            .header("x-csrf-token", &self.csrf)
            .timeout(Duration::from_secs(60));
        if !body.is_null() {
            request = request.json(body);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let text = response.text().await?;
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::String(text))))
    }

    /// `GET path` (a page, a report, a CSV), read to the end: its status and how long it took.
    pub async fn get_timed(&self, path: &str) -> anyhow::Result<(u16, Duration)> {
        let started = std::time::Instant::now();
        let response = self
            .client
            .get(format!("{}{path}", self.url))
            .header("cookie", &self.cookie)
            .timeout(Duration::from_secs(120))
            .send()
            .await?;
        let status = response.status().as_u16();
        response.bytes().await?;
        Ok((status, started.elapsed()))
    }

    /// A call that must answer `expected`; its JSON answer.
    pub async fn expect(
        &self,
        method: Method,
        path: &str,
        body: &Value,
        expected: u16,
    ) -> anyhow::Result<Value> {
        let (status, answer) = self.send(method.clone(), path, body).await?;
        if status != expected {
            bail!("{method} {path}: {status} {answer}");
        }
        Ok(answer)
    }

    /// Creates `event` (the API's `NewEvent`) and puts it on sale; its id.
    pub async fn create_event_on_sale(&self, event: &Value) -> anyhow::Result<i64> {
        let created = self.expect(Method::POST, "/api/v1/events", event, 201).await?;
        let id = created["id"].as_i64().context("the new event has no id")?;
        self.expect(Method::POST, &format!("/api/v1/events/{id}/status"), &json!({"status": "on_sale"}), 204)
            .await?;
        Ok(id)
    }

    /// A single-use enrollment code for a device `name` in `role` for `event`.
    pub async fn enrollment_code(&self, name: &str, role: &str, event: i64) -> anyhow::Result<String> {
        let body = json!({"name": name, "role": role, "events": [event]});
        let code = self.expect(Method::POST, "/api/v1/devices/enrollment-codes", &body, 201).await?;
        Ok(code["code"].as_str().context("no code in the answer")?.to_owned())
    }

    /// Leases `quantity` rights of ticket type 1 to box-office device `device`.
    pub async fn grant_lease(&self, event: i64, device: u32, quantity: u32) -> anyhow::Result<()> {
        let body = json!({"device_id": device, "ticket_type": 1, "quantity": quantity});
        self.expect(Method::POST, &format!("/api/v1/events/{event}/leases"), &body, 201).await?;
        Ok(())
    }

    /// Report `name` of `event` (`{"columns", "rows"}`).
    pub async fn report(&self, event: i64, name: &str) -> anyhow::Result<Value> {
        self.expect(Method::GET, &format!("/api/v1/events/{event}/reports/{name}"), &Value::Null, 200).await
    }

    /// The event as the API shows it (ticket types with capacity, sold, held, leased).
    pub async fn event(&self, event: i64) -> anyhow::Result<Value> {
        self.expect(Method::GET, &format!("/api/v1/events/{event}"), &Value::Null, 200).await
    }
}

/// An event with `gates` entry gates and one single-entry ticket type of `capacity`,
/// doors an hour ago.
pub fn event_spec(name: &str, gates: usize, capacity: usize) -> Value {
    let now = sync_core::Timestamp::now().0;
    let gates: Vec<Value> = (1..=gates.max(1)).map(|n| json!({"name": format!("Gate {n}")})).collect();
    json!({
        "name": name,
        "time_zone": "Europe/Amsterdam",
        "starts_at": now - 3_600_000,
        "ends_at": now + 12 * 3_600_000,
        "gates": gates,
        "ticket_types": [{"name": "Day", "price_minor": 4500, "currency": "EUR",
                          "capacity": capacity, "entry_policy": "single_entry"}]
    })
}

/// What a customer's attempt came to.
#[derive(Debug)]
pub enum Attempt<T> {
    /// Done.
    Done(T),
    /// Refused for good (sold out, invalid).
    Refused(u16, String),
    /// Worth trying again with the same idempotency key (503, a dropped connection).
    Retry(String),
}

/// A customer of the online shop.
#[derive(Clone)]
pub struct Customer {
    client: reqwest::Client,
    url: String,
}

impl Customer {
    /// A customer of the hub at `url`.
    pub fn new(url: &str) -> anyhow::Result<Self> {
        Ok(Self { client: sync_core::sync::http::http_client()?, url: url.trim_end_matches('/').to_owned() })
    }

    async fn post(&self, url: String, body: Option<&Value>, key: Option<&str>) -> Attempt<Value> {
        let mut request = self.client.post(url).timeout(Duration::from_secs(60));
        if let Some(body) = body {
            request = request.json(body);
        }
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        match request.send().await {
            Err(e) => Attempt::Retry(e.to_string()),
            Ok(response) => {
                let status = response.status().as_u16();
                let text = response.text().await.unwrap_or_default();
                match status {
                    200..=299 => Attempt::Done(serde_json::from_str(&text).unwrap_or(Value::Null)),
                    // 503: the database is unreachable; 500 is never expected and not retried.
                    429 | 502..=504 => Attempt::Retry(format!("{status} {text}")),
                    _ => Attempt::Refused(status, text),
                }
            }
        }
    }

    /// Places an order for `quantity` of ticket type 1 under idempotency key `key`.
    pub async fn place(&self, event: i64, quantity: u32, key: &str) -> Attempt<Value> {
        let body = json!({"lines": [{"ticket_type": 1, "quantity": quantity}],
                          "email": "fan@sim.voelgoed.invalid", "name": "Simulated Fan"});
        self.post(format!("{}/api/v1/public/events/{event}/orders", self.url), Some(&body), Some(key)).await
    }

    /// Pays `order` through the hub's simulated provider (start the payment, press "Pay").
    pub async fn pay(&self, order: &Value) -> Attempt<()> {
        let base = order_url(&self.url, order);
        let payment = match self.post(format!("{base}/payments"), None, None).await {
            Attempt::Done(p) => p,
            Attempt::Refused(s, t) => return Attempt::Refused(s, t),
            Attempt::Retry(e) => return Attempt::Retry(e),
        };
        let Some(checkout) = payment["checkout_url"].as_str() else {
            return Attempt::Refused(0, format!("no checkout_url in {payment}"));
        };
        match self.post(format!("{checkout}/pay"), None, None).await {
            Attempt::Done(_) => Attempt::Done(()),
            Attempt::Refused(s, t) => Attempt::Refused(s, t),
            Attempt::Retry(e) => Attempt::Retry(e),
        }
    }

    /// The order as its owner sees it (status, tickets with their signed text once paid).
    pub async fn fetch(&self, order: &Value) -> anyhow::Result<Value> {
        let response = self.client.get(order_url(&self.url, order)).send().await?;
        if !response.status().is_success() {
            bail!("reading order {}: {}", order["code"], response.status());
        }
        Ok(response.json().await?)
    }

    /// Pays `order`, retrying what is retryable. An attempt whose answer was lost may have
    /// paid it: the order's status decides, never a second payment. Why each failed attempt
    /// failed.
    pub async fn pay_retrying(&self, order: &Value) -> anyhow::Result<Vec<String>> {
        let started = std::time::Instant::now();
        let mut failed = Vec::new();
        loop {
            let failure = match self.pay(order).await {
                Attempt::Done(()) => return Ok(failed),
                Attempt::Refused(status, text) => format!("refused ({status}): {text}"),
                Attempt::Retry(e) => e,
            };
            if let Ok(now) = self.fetch(order).await
                && now["status"] == "paid"
            {
                failed.push(failure);
                return Ok(failed);
            }
            if started.elapsed() > Duration::from_secs(60) {
                bail!("paying order {} still fails after a minute: {failure}", order["code"]);
            }
            failed.push(failure);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Buys `quantity` tickets (place, pay, fetch), retrying what is retryable; their texts.
    pub async fn buy(&self, event: i64, quantity: u32, key: &str) -> anyhow::Result<Vec<String>> {
        let order = retry(|| self.place(event, quantity, key)).await?;
        self.pay_retrying(&order).await?;
        let paid = self.fetch(&order).await?;
        let tickets = paid["tickets"].as_array().context("the order lists no tickets")?;
        let texts: Vec<String> =
            tickets.iter().filter_map(|t| t["text"].as_str().map(str::to_owned)).collect();
        if texts.len() != quantity as usize {
            bail!("order {} holds {} tickets, not {quantity}", order["code"], texts.len());
        }
        Ok(texts)
    }
}

/// The owner's address of an order (`code` and `secret` from the confirmation).
fn order_url(base: &str, order: &Value) -> String {
    format!(
        "{base}/api/v1/public/orders/{}/{}",
        order["code"].as_str().unwrap_or_default(),
        order["secret"].as_str().unwrap_or_default()
    )
}

/// Runs `attempt` until it is done or refused, for at most a minute.
pub async fn retry<T, F: Future<Output = Attempt<T>>>(mut attempt: impl FnMut() -> F) -> anyhow::Result<T> {
    let started = std::time::Instant::now();
    loop {
        match attempt().await {
            Attempt::Done(v) => return Ok(v),
            Attempt::Refused(status, text) => bail!("refused ({status}): {text}"),
            Attempt::Retry(e) if started.elapsed() > Duration::from_secs(60) => {
                bail!("still failing after a minute: {e}")
            }
            Attempt::Retry(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

/// Buys `count` tickets for `event` in orders of up to 50, eight customers at a time.
pub async fn buy_tickets(
    url: &str,
    event: i64,
    count: usize,
    progress: &indicatif::ProgressBar,
) -> anyhow::Result<Vec<String>> {
    use futures_util::stream::{self, StreamExt, TryStreamExt};
    let customer = Customer::new(url)?;
    let orders: Vec<u32> =
        (0..count.div_ceil(50)).map(|i| u32::try_from((count - i * 50).min(50)).unwrap_or(50)).collect();
    let bought: Vec<Vec<String>> = stream::iter(orders.into_iter().enumerate())
        .map(|(i, quantity)| {
            let customer = customer.clone();
            async move {
                let texts = customer.buy(event, quantity, &format!("sim-bulk-{event}-{i}")).await?;
                progress.inc(u64::from(quantity));
                anyhow::Ok(texts)
            }
        })
        .buffered(8)
        .try_collect()
        .await?;
    Ok(bought.into_iter().flatten().collect())
}
