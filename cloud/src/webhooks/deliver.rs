//! The delivery worker: every hub instance runs one. It wakes when a transaction of this
//! instance queued messages (the database's webhook bell) and at least every
//! [`POLL`] otherwise (messages another instance queued, retries coming due), claims due
//! deliveries one by one, and attempts each in a task of its own — at most [`IN_FLIGHT`] at
//! once, and [`PER_ENDPOINT`] to one endpoint — so a partner that answers slowly holds a few
//! slots for at most the attempt's timeout each, never checkout, scanning, or the other
//! partners.
//!
//! **At least once, once per attempt.** A delivery is claimed with a conditional UPDATE
//! before it is attempted (an instance that loses the race skips it), and its outcome is
//! recorded after: delivered, due again after [`super::send::retry_after`], or failed for good
//! after [`super::send::MAX_ATTEMPTS`] — which disables the endpoint and tells the
//! organization's owners and admins by mail. A claim older than [`CLAIM_MS`] is from an
//! instance that died mid-attempt; the delivery is attempted again (the partner deduplicates
//! by `webhook-id`, as the specification asks).

use super::send::{self, Sender};
use super::signature::Secret;
use super::store::{self, Claimed, Outcome};
use crate::crypto::MasterKey;
use crate::db::{Db, Tenant};
use crate::messages::context::{EndpointFacts, Org};
use crate::messages::{self, Context, Kind};
use crate::tenancy::Role;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// How often the worker looks without being woken.
pub const POLL: Duration = Duration::from_secs(1);
/// After a round that could start nothing, the least wait before the next (a new message
/// waits at most this long more).
const QUIET: Duration = Duration::from_millis(200);
/// Attempts under way at once, per instance.
pub const IN_FLIGHT: usize = 64;
/// Attempts under way at once to one endpoint, per instance: a slow partner's backlog never
/// takes every slot.
pub const PER_ENDPOINT: usize = 8;
/// A claim this old is from an instance that died: longer than an attempt may take.
const CLAIM_MS: i64 = 60_000;
/// The label the endpoints' secrets are sealed under.
pub const SEAL_LABEL: &str = "webhook-secret";

/// Delivers webhooks of every organization.
#[derive(Clone)]
pub struct Deliverer {
    db: Db,
    master: MasterKey,
    sender: Sender,
    /// The hub's public address, for the console links in the organizer's notices.
    public_url: Arc<str>,
    slots: Arc<Semaphore>,
    /// Attempts under way, per endpoint.
    busy: Arc<std::sync::Mutex<HashMap<i64, usize>>>,
}

impl Deliverer {
    /// A worker on `db`, opening secrets with `master`, sending with `sender`; the hub is at
    /// `public_url`.
    pub fn new(db: Db, master: MasterKey, sender: Sender, public_url: &str) -> Self {
        let public_url = public_url.trim_end_matches('/').into();
        Self {
            db,
            master,
            sender,
            public_url,
            slots: Arc::new(Semaphore::new(IN_FLIGHT)),
            busy: Arc::default(),
        }
    }

    /// Whether endpoints may be on private addresses (the development setting).
    pub fn allow_private(&self) -> bool {
        self.sender.allow_private()
    }

    /// Runs until the process ends.
    pub async fn run(self) {
        let bell = Arc::clone(self.db.webhook_bell());
        loop {
            match self.round().await {
                // Slots free and more may be due: look again at once.
                Ok(started) if started > 0 && self.slots.available_permits() > 0 => continue,
                Ok(0) => {
                    // Nothing could start (nothing due, or only for endpoints with their share
                    // under way): a flash sale's commits ring the bell dozens of times a
                    // second, and looking again at each cost checkout a fifth of its
                    // throughput (docs/benchmarks.md). Wait a little before listening again.
                    tokio::time::sleep(QUIET).await;
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "webhook deliveries: could not look for due ones"),
            }
            let _ = tokio::time::timeout(POLL, bell.notified()).await;
        }
    }

    /// Starts an attempt of every due delivery there is a free slot for; how many it started.
    pub async fn round(&self) -> anyhow::Result<usize> {
        let free = self.slots.available_permits();
        if free == 0 {
            return Ok(0);
        }
        let mut system = self.db.system().await?;
        let now = system.now();
        // More than the free slots: some may be for endpoints that have their share under way.
        let due = store::due(&mut system, now, now - CLAIM_MS, i64::try_from(free * 4)?).await?;
        system.commit().await?;
        let mut started = 0;
        for (id, endpoint) in due {
            if !self.take_turn(endpoint) {
                continue;
            }
            let Ok(slot) = Arc::clone(&self.slots).try_acquire_owned() else {
                self.end_turn(endpoint);
                break;
            };
            let mut system = self.db.system().await?;
            let now = system.now();
            let claimed = store::claim(&mut system, id, now, now - CLAIM_MS).await?;
            system.commit().await?;
            let Some(claimed) = claimed else {
                self.end_turn(endpoint); // another instance has it
                continue;
            };
            started += 1;
            let me = self.clone();
            tokio::spawn(async move {
                if let Err(e) = me.attempt(id, claimed).await {
                    tracing::warn!(delivery = id, error = %e, "webhook attempt not recorded; it will be tried again");
                }
                me.end_turn(endpoint);
                drop(slot);
                me.db.webhook_bell().notify_one(); // a slot is free: the next one may go
            });
        }
        Ok(started)
    }

    /// Counts an attempt to `endpoint` as under way, unless it has [`PER_ENDPOINT`] already.
    fn take_turn(&self, endpoint: i64) -> bool {
        let mut busy = self.busy.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = busy.entry(endpoint).or_default();
        if *n >= PER_ENDPOINT {
            return false;
        }
        *n += 1;
        true
    }

    /// An attempt to `endpoint` is over.
    fn end_turn(&self, endpoint: i64) {
        let mut busy = self.busy.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = busy.get_mut(&endpoint) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                busy.remove(&endpoint);
            }
        }
    }

    /// Attempts claimed delivery `id` and records what came of it.
    async fn attempt(&self, id: i64, c: Claimed) -> anyhow::Result<()> {
        let secrets = self.secrets(&c)?;
        let secrets: Vec<&Secret> = secrets.iter().collect();
        let timestamp = self.db.clock().now_ms() / 1000;
        let sent = self.sender.attempt(&c.url, &secrets, &c.msg_id, timestamp, &c.payload).await;
        let mut system = self.db.system().await?;
        let now = system.now();
        let attempts = u32::try_from(c.attempts).unwrap_or(u32::MAX);
        let next = if sent.delivered { None } else { send::retry_after(attempts, jitter()) };
        let next_at = next.map(|wait| now + i64::try_from(wait.as_millis()).unwrap_or(i64::MAX));
        let outcome = Outcome {
            at: now,
            status: sent.status,
            answer: &sent.answer,
            millis: i64::try_from(sent.millis).unwrap_or(i64::MAX),
        };
        store::record(&mut system, c.org_id, id, &outcome, sent.delivered, next_at).await?;
        if sent.delivered || next_at.is_some() {
            system.commit().await?;
            return Ok(());
        }
        let mut tx = system.into_tenant(c.org_id).await?;
        give_up(&mut tx, &c, &sent, &self.public_url).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The secrets to sign with: the current one, and the one it replaced while that is still
    /// valid.
    fn secrets(&self, c: &Claimed) -> anyhow::Result<Vec<Secret>> {
        let open = |sealed: &[u8]| -> anyhow::Result<Secret> {
            let text = String::from_utf8(self.master.open(sealed, SEAL_LABEL)?)?;
            Secret::parse(&text).map_err(|_| anyhow::anyhow!("a stored webhook secret does not parse"))
        };
        let mut secrets = vec![open(&c.sealed_secret)?];
        if let (Some(previous), Some(until)) = (&c.sealed_previous, c.previous_until)
            && until > self.db.clock().now_ms()
        {
            secrets.push(open(previous)?);
        }
        Ok(secrets)
    }
}

/// The last attempt of a delivery failed: its endpoint is disabled (once) and the
/// organization's owners and admins are told why and what to do ([`Kind::WebhookDisabled`],
/// in the organization's wording and language) — in the transaction that records the attempt.
async fn give_up(tx: &mut Tenant, c: &Claimed, last: &send::Attempt, public_url: &str) -> anyhow::Result<()> {
    let last = match (last.status, last.answer.trim()) {
        (Some(status), "") => format!("HTTP {status}"),
        (Some(status), answer) => format!("HTTP {status} {}", answer.chars().take(200).collect::<String>()),
        (None, why) => why.to_owned(),
    };
    let reason = format!("{} attempts over a day failed; the last: {last}", send::MAX_ATTEMPTS);
    let now = tx.now();
    if !store::disable(tx, c.endpoint_id, now, &reason).await? {
        return Ok(());
    }
    tracing::warn!(endpoint = c.endpoint_id, "webhook endpoint disabled after its deliveries kept failing");
    // A URL may be 2,000 characters; the subject line, 1 KiB.
    let url = if c.url.chars().count() > 200 {
        format!("{}…", c.url.chars().take(200).collect::<String>())
    } else {
        c.url.clone()
    };
    let context = Context::Webhook {
        org: Org { name: messages::store::org_name(tx).await? },
        endpoint: EndpointFacts {
            url,
            reason: reason.clone(),
            page_url: format!("{public_url}/webhooks/{}", c.endpoint_id),
        },
    };
    let lang = messages::store::org_language(tx).await?;
    match messages::letter(tx, Kind::WebhookDisabled, lang, None, &context).await {
        Ok(letter) => {
            let managers = crate::tenancy::store::members_in(tx, &[Role::Owner, Role::Admin]).await?;
            for manager in managers {
                crate::mail::enqueue_letter(tx, &manager.email, &letter, None, None).await?;
            }
        }
        // The endpoint is disabled and the audit log says so, told or not.
        Err(e) if e.is::<messages::Unrenderable>() => tracing::error!(error = %e, "the owners were not told"),
        Err(e) => return Err(e),
    }
    let detail = serde_json::json!({"endpoint": c.endpoint_id, "reason": reason});
    tx.audit("system", "webhook.disable", "webhook", detail).await?;
    Ok(())
}

/// A number in 0.0–1.0 from the system's random source (0.5 if it fails: no jitter).
fn jitter() -> f64 {
    let mut bytes = [0u8; 4];
    match getrandom::fill(&mut bytes) {
        Ok(()) => f64::from(u32::from_le_bytes(bytes)) / f64::from(u32::MAX),
        Err(_) => 0.5,
    }
}
