//! Text messages — SMS and WhatsApp — beside e-mail: a buyer who gives a phone number gets
//! the link to their tickets on their phone.
//!
//! Like mail, a text is a row of an outbox (`text_messages`) written in the transaction that
//! decides to send it, so it goes if and only if that committed; a `once` key queues it at
//! most once. Every instance runs a [`Worker`] that claims what is due (a conditional UPDATE:
//! one instance per attempt), sends it through the configured [`Channel`] and records the
//! answer; a transaction that queued texts rings the worker at once.
//!
//! Two channels: [`twilio::Twilio`], a real provider's HTTP API (SMS, and WhatsApp through the
//! same API with `whatsapp:` addresses), configured by keys; and [`simulated::Simulated`] for
//! development and tests, which writes each text as a JSON line into
//! `<data_dir>/text-outbox.jsonl`.
//!
//! **Rate limits** (the shared GCRA buckets of [`crate::limits`], so they hold across
//! instances) are applied when a text is sent, outside any transaction:
//! - per organization and recipient, [`PER_RECIPIENT`], on a text's first try: a loop or an
//!   abuse cannot flood one phone. A text over it is **suppressed** — recorded with the
//!   reason, for the organizer to see, never sent later;
//! - per organization, `texts_per_hour` (configuration): a runaway loop cannot send thousands
//!   of texts on the organization's bill. A text over it **waits** for the bucket (a big on-sale
//!   is slowed, not lost), checked first, so waiting spends neither a try nor the phone's
//!   allowance.
//!
//! A delivery the provider refuses for good (a number that cannot receive texts) fails at
//! once; anything else (network, 5xx, 429) is tried again after 15 s, doubling, up to
//! [`MAX_ATTEMPTS`].

pub mod phone;
pub mod simulated;
pub mod store;
pub mod twilio;

use crate::db::{Db, Tenant};
use crate::error::ApiError;
use crate::limits::{Limits, Quota};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;
use utoipa::ToSchema;

/// How a text reaches a phone.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Via {
    /// A text message.
    #[default]
    Sms,
    /// A WhatsApp message.
    Whatsapp,
}

impl Via {
    /// Its stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sms => "sms",
            Self::Whatsapp => "whatsapp",
        }
    }

    /// The way a stored name names.
    pub fn parse(name: &str) -> Option<Self> {
        [Self::Sms, Self::Whatsapp].into_iter().find(|v| v.as_str() == name)
    }
}

/// A text on its way out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outgoing {
    /// The outbox row.
    pub id: i64,
    /// The phone, E.164 (`+31612345678`).
    pub to: String,
    /// SMS or WhatsApp.
    pub via: Via,
    /// What it says.
    pub body: String,
}

/// Why a text was not sent.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Refused for good (a number that cannot receive it, a sender not allowed): trying again
    /// would be refused again.
    #[error("refused: {0}")]
    Refused(String),
    /// Not sent this time (network, the provider's trouble, its rate limit): try again.
    #[error("{0}")]
    Failed(String),
}

/// A way texts leave the hub.
#[async_trait::async_trait]
pub trait Channel: Send + Sync + std::fmt::Debug {
    /// Its name, for logs ("twilio", "simulated").
    fn name(&self) -> &'static str;
    /// Sends `text`; the provider's id for it.
    async fn send(&self, text: &Outgoing) -> Result<String, SendError>;
}

/// The channel the configuration asks for: Twilio when its keys are set, else the simulated
/// one writing into `data_dir`.
pub fn channel_from_config(config: &crate::config::Config) -> anyhow::Result<Arc<dyn Channel>> {
    Ok(match twilio::Twilio::from_config(config)? {
        Some(t) => Arc::new(t),
        None => Arc::new(simulated::Simulated::new(config.data_dir.join("text-outbox.jsonl"))),
    })
}

/// Attempts before a text is given up on.
pub const MAX_ATTEMPTS: i64 = 8;
/// A claim older than this is taken to be from an instance that died sending.
const CLAIM_MS: i64 = 2 * 60_000;
/// Texts to one phone: 5 at once, then one an hour.
pub const PER_RECIPIENT: Quota = Quota { burst: 5, every_ms: 3_600_000 };

/// The wait before attempt `attempts + 1` after `attempts` failed: 15 s, doubling, at most
/// half an hour (eight attempts span about an hour).
fn retry_after_ms(attempts: i64) -> i64 {
    let doublings = u32::try_from(attempts.clamp(1, 8) - 1).unwrap_or(0);
    (15_000_i64 << doublings).min(30 * 60_000)
}

/// The organization quota of `per_hour` texts an hour (as many at once).
pub fn org_quota(per_hour: u32) -> Quota {
    let n = per_hour.max(1);
    Quota { burst: n, every_ms: (3_600_000 / i64::from(n)).max(1) }
}

/// Queues a text to `to` (E.164, see [`phone::normalize`]) inside `tx`: sent once `tx`
/// commits. With a `once` key, only if none with that key was ever queued; `order` is the
/// order it is about (staff see its texts there). Its id, or `None`.
pub async fn enqueue(
    tx: &mut Tenant,
    to: &str,
    via: Via,
    body: &str,
    once: Option<&str>,
    order: Option<i64>,
) -> Result<Option<i64>, sqlx::Error> {
    let id = store::enqueue(tx, to, via, body, once, order).await?;
    if id.is_some() {
        tx.texts_queued();
    }
    Ok(id)
}

/// Sends every organization's due texts: one per instance at a time per text.
#[derive(Clone, Debug)]
pub struct Worker {
    db: Db,
    channel: Arc<dyn Channel>,
    limits: Limits,
    org_quota: Quota,
}

impl Worker {
    /// A worker on `db`, sending through `channel`, each organization at most `per_hour`
    /// texts an hour.
    pub fn new(db: Db, channel: Arc<dyn Channel>, per_hour: u32) -> Self {
        let limits = Limits::new(db.clone(), 60);
        Self { db, channel, limits, org_quota: org_quota(per_hour) }
    }

    /// Runs until the process ends: a round when rung (a commit queued texts) or every 5 s.
    pub async fn run(self) {
        let bell = Arc::clone(self.db.text_bell());
        loop {
            if let Err(e) = self.deliver_pending().await {
                tracing::warn!(error = %e, "text delivery failed; the next round retries");
            }
            let _ = tokio::time::timeout(Duration::from_secs(5), bell.notified()).await;
        }
    }

    /// Sends what is due now; how many were sent.
    pub async fn deliver_pending(&self) -> anyhow::Result<usize> {
        let mut system = self.db.system().await?;
        let now = system.now();
        let due = store::due(&mut system, now - CLAIM_MS).await?;
        system.commit().await?;
        let mut sent = 0;
        for id in due {
            let mut system = self.db.system().await?;
            let now = system.now();
            let claimed = store::claim(&mut system, id, now, now - CLAIM_MS).await?;
            system.commit().await?;
            let Some(c) = claimed else { continue }; // another instance has it
            if self.attempt(c).await? {
                sent += 1;
            }
        }
        Ok(sent)
    }

    /// One attempt at claimed text `c`: the limits, then the channel; the outcome recorded.
    async fn attempt(&self, c: store::Claimed) -> anyhow::Result<bool> {
        // The limits first, each its own statement (no transaction of ours is open meanwhile:
        // on SQLite it would hold the writer the buckets need). The organization's bucket
        // first: a text over it waits, spending neither a try nor its phone's allowance. The
        // phone's only on a text's first try (a retry is the same text, not another one). An
        // error reaching the buckets leaves the claim to age out: tried again, nothing decided.
        let now = self.db.clock().now_ms();
        match self.limits.check(&format!("text:org:{}", c.org_id), self.org_quota).await {
            Ok(()) => {}
            Err(ApiError::RateLimited { retry_after }) => {
                let wait_ms = i64::try_from(retry_after).unwrap_or(3600).saturating_mul(1000);
                let mut system = self.db.system().await?;
                let why = "the organization's hourly limit";
                store::wait(&mut system, c.id, now - CLAIM_MS + wait_ms, why, false).await?;
                system.commit().await?;
                return Ok(false);
            }
            Err(other) => return Err(other.into()),
        }
        if c.attempts == 1 {
            // Per organization and phone: one organization's orders cannot silence another's.
            let bucket = format!("text:to:{}:{}", c.org_id, c.recipient);
            match self.limits.check(&bucket, PER_RECIPIENT).await {
                Ok(()) => {}
                Err(ApiError::RateLimited { .. }) => {
                    tracing::warn!(id = c.id, org = c.org_id, "text suppressed: too many to one phone");
                    let mut system = self.db.system().await?;
                    store::suppress(&mut system, c.id, now, "too many texts to this number within the hour")
                        .await?;
                    system.commit().await?;
                    return Ok(false);
                }
                Err(other) => return Err(other.into()),
            }
        }
        let via = Via::parse(&c.via).unwrap_or_default();
        let out = Outgoing { id: c.id, to: c.recipient.clone(), via, body: c.body.clone() };
        let outcome = self.channel.send(&out).await;
        let now = self.db.clock().now_ms();
        let mut system = self.db.system().await?;
        let sent = match outcome {
            Ok(provider_id) => {
                store::sent(&mut system, c.id, now, &provider_id).await?;
                true
            }
            Err(SendError::Refused(why)) => {
                tracing::warn!(id = c.id, %why, channel = self.channel.name(), "text refused by the provider");
                store::failed_for_good(&mut system, c.id, now, &why).await?;
                false
            }
            Err(SendError::Failed(why)) if c.attempts >= MAX_ATTEMPTS => {
                store::failed_for_good(&mut system, c.id, now, &why).await?;
                false
            }
            Err(SendError::Failed(why)) => {
                tracing::warn!(id = c.id, %why, "text not sent; will try again");
                store::wait(&mut system, c.id, now - CLAIM_MS + retry_after_ms(c.attempts), &why, true)
                    .await?;
                false
            }
        };
        system.commit().await?;
        Ok(sent)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn retries_wait_longer_each_time_up_to_half_an_hour() {
        let waits: Vec<i64> = (1..=8).map(super::retry_after_ms).collect();
        assert_eq!(&waits[..3], [15_000, 30_000, 60_000]);
        assert!(waits.windows(2).all(|w| w[0] <= w[1]) && waits[7] == 1_800_000, "{waits:?}");
    }

    #[test]
    fn the_organizations_quota_spreads_its_hour() {
        let q = super::org_quota(600);
        assert_eq!((q.burst, q.every_ms), (600, 6_000));
        assert_eq!(super::org_quota(0).burst, 1);
    }
}
