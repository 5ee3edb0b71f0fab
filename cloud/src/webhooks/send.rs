//! One delivery attempt, and when to try again.
//!
//! An attempt is one signed `POST` ([`super::signature`]) that must be answered 2xx within
//! [`TIMEOUT`]; anything else — another status, a timeout, a refused connection — is a failure
//! to retry, its status and the start of its answer kept for the delivery log. Redirects are
//! not followed (a redirect could point into the hub's network), and outside development
//! every address a name resolves to must be public ([`super::target::public`]), checked when
//! the connection is made, so a name re-pointed after it was saved reaches nothing private.
//!
//! Retries ([`retry_after`]) back off exponentially with jitter over about a day, so a
//! partner's outage of hours loses nothing, and many endpoints failing at once do not retry
//! in step.

use super::signature::{self, Secret};
use super::target;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a partner has to answer an attempt.
pub const TIMEOUT: Duration = Duration::from_secs(15);
/// How much of an answer the log keeps.
const KEPT_BYTES: usize = 1_024;

/// The waits before each retry, after attempt 1, 2, …: seconds, then minutes, then hours —
/// 27 h 35 min in all over [`MAX_ATTEMPTS`] attempts (before jitter).
const SCHEDULE: [Duration; 7] = [
    Duration::from_secs(5),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 3_600),
    Duration::from_secs(5 * 3_600),
    Duration::from_secs(10 * 3_600),
    Duration::from_secs(10 * 3_600),
];
/// Attempts before a delivery has failed for good.
pub const MAX_ATTEMPTS: u32 = 8;

/// The wait before the next attempt after `attempts` failed, moved by `jitter` (0.0–1.0:
/// ±20 %); `None` once [`MAX_ATTEMPTS`] have failed.
pub fn retry_after(attempts: u32, jitter: f64) -> Option<Duration> {
    if attempts == 0 || attempts >= MAX_ATTEMPTS {
        return None;
    }
    let base = *SCHEDULE.get(usize::try_from(attempts - 1).ok()?)?;
    Some(base.mul_f64(0.8 + 0.4 * jitter.clamp(0.0, 1.0)))
}

/// What one attempt came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attempt {
    /// Answered 2xx.
    pub delivered: bool,
    /// The partner's status, if it answered.
    pub status: Option<u16>,
    /// The start of its answer, or why there was none.
    pub answer: String,
    /// How long it took.
    pub millis: u64,
}

/// Sends webhooks: an HTTP client that follows no redirects and, unless `allow_private`,
/// connects to public addresses only.
#[derive(Clone)]
pub struct Sender {
    client: reqwest::Client,
    allow_private: bool,
}

/// Resolves names as the system does, refusing any that reaches a private address.
struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if found.is_empty() || found.iter().any(|a| !target::public(a.ip())) {
                return Err(format!("{host} resolves to a private address").into());
            }
            let addrs: Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
    }
}

impl Sender {
    /// A sender; `allow_private` for development and tests only.
    ///
    /// # Errors
    /// The HTTP client could not be built (no TLS provider).
    pub fn new(allow_private: bool, timeout: Duration) -> anyhow::Result<Self> {
        // reqwest is built without a default crypto provider; a second install fails harmlessly.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .user_agent("Voelgoed-Webhooks/1");
        if !allow_private {
            builder = builder.dns_resolver(Arc::new(PublicOnly));
        }
        Ok(Self { client: builder.build()?, allow_private })
    }

    /// Whether it reaches private addresses (the development setting).
    pub fn allow_private(&self) -> bool {
        self.allow_private
    }

    /// Posts `body` (JSON) as message `id` to `url`, signed at `timestamp` (Unix seconds) with
    /// every secret in `secrets`.
    pub async fn attempt(
        &self,
        url: &str,
        secrets: &[&Secret],
        id: &str,
        timestamp: i64,
        body: &str,
    ) -> Attempt {
        let started = Instant::now();
        let millis = |started: Instant| u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        if let Err(why) = target::check_url(url, self.allow_private) {
            return Attempt { delivered: false, status: None, answer: why.to_string(), millis: 0 };
        }
        let sent = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header(signature::ID, id)
            .header(signature::TIMESTAMP, timestamp.to_string())
            .header(signature::SIGNATURE, signature::header(secrets, id, timestamp, body.as_bytes()))
            .body(body.to_owned())
            .send()
            .await;
        match sent {
            Ok(response) => {
                let status = response.status();
                let text = response.text().await.unwrap_or_default();
                let answer = text.chars().take(KEPT_BYTES).collect();
                Attempt {
                    delivered: status.is_success(),
                    status: Some(status.as_u16()),
                    answer,
                    millis: millis(started),
                }
            }
            Err(e) => {
                let why = if e.is_timeout() {
                    format!("no answer within {} s", TIMEOUT.as_secs())
                } else {
                    // The whole chain: "error sending request" alone says nothing.
                    let mut text = e.to_string();
                    let mut source = std::error::Error::source(&e);
                    while let Some(s) = source {
                        text = format!("{text}: {s}");
                        source = s.source();
                    }
                    text
                };
                Attempt { delivered: false, status: None, answer: why, millis: millis(started) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_over_about_a_day_with_jitter_then_stop() {
        let waits: Vec<Duration> = (1..MAX_ATTEMPTS).map(|n| retry_after(n, 0.5).unwrap()).collect();
        assert!(waits.windows(2).all(|w| w[0] <= w[1]), "never sooner: {waits:?}");
        let total: Duration = waits.iter().sum();
        assert!(
            (Duration::from_secs(20 * 3_600)..Duration::from_secs(36 * 3_600)).contains(&total),
            "{total:?}"
        );
        assert_eq!(retry_after(MAX_ATTEMPTS, 0.5), None);
        assert_eq!(retry_after(0, 0.5), None);
        let (low, high) = (retry_after(3, 0.0).unwrap(), retry_after(3, 1.0).unwrap());
        assert_eq!((low, high), (Duration::from_secs(24 * 60), Duration::from_secs(36 * 60)));
    }

    #[tokio::test]
    async fn a_name_that_reaches_a_private_address_is_not_connected_to() {
        let refused = PublicOnly.resolve("localhost".parse().unwrap()).await.err().expect("refused");
        assert!(refused.to_string().contains("private address"), "{refused}");
    }
}
