//! Settling payments in batches: group commit for the provider's webhooks.
//!
//! Every settlement of an event sells from the same ticket type rows and takes serials from
//! the same counter, and each held those locks to its commit: settlements queued one behind
//! another, one commit each (the profile of issue 24: nine in ten busy database sessions waited
//! on that lock). So a webhook does not settle its payment alone: it queues it for its
//! organization, and a few workers per organization each take whatever has queued and settle it
//! in one transaction ([`super::fulfil::settle_all`]). Idle, a webhook waits for nobody; under
//! load one commit serves dozens. Each webhook is still answered only after its payment's
//! transaction committed (nothing acknowledged is lost), with exactly the answer it would have
//! got alone; a batch whose transaction fails (a deadlock with another instance, say) is
//! settled again one payment per transaction, so one payment cannot fail the others.

use super::Sales;
use super::fulfil::{Settled, Succeeded, settle, settle_all};
use crate::crypto::MasterKey;
use crate::db::Db;
use crate::error::ApiError;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{Mutex as AsyncMutex, mpsc, oneshot};

/// Payments waiting per organization before the webhook is told to come back later (503):
/// a provider retries.
const QUEUE: usize = 4096;

type Reply = oneshot::Sender<Result<Settled, ApiError>>;
type Job = (Succeeded, Reply);

/// The settling workers of one hub instance, per organization, started on first use.
#[derive(Clone)]
pub struct Settlers {
    orgs: Arc<Mutex<HashMap<i64, mpsc::Sender<Job>>>>,
    /// Most payments settled in one transaction.
    max_batch: usize,
    /// Transactions in flight per organization: while one holds the hot rows and commits, the
    /// next does the part that touches only its own orders' rows.
    workers: usize,
}

impl Settlers {
    /// Up to `workers` transactions per organization, each settling up to `max_batch`.
    pub fn new(max_batch: usize, workers: usize) -> Self {
        // Each payment of a batch writes in a savepoint of its own; PostgreSQL keeps 64
        // subtransactions per session in shared memory and slows everyone's reads beyond that.
        Self { orgs: Arc::default(), max_batch: max_batch.clamp(1, 60), workers: workers.max(1) }
    }

    /// Settles `paid` (a payment of `org`) in a batch with whatever else is queued.
    pub async fn settle(
        &self,
        db: &Db,
        master: &MasterKey,
        sales: &Sales,
        org: i64,
        paid: Succeeded,
    ) -> Result<Settled, ApiError> {
        let sender = {
            let mut orgs = self.orgs.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            orgs.entry(org)
                .or_insert_with(|| {
                    let (tx, rx) = mpsc::channel(QUEUE);
                    let rx = Arc::new(AsyncMutex::new(rx));
                    for _ in 0..self.workers {
                        let worker =
                            Worker { db: db.clone(), master: master.clone(), sales: sales.clone(), org };
                        tokio::spawn(worker.run(rx.clone(), self.max_batch));
                    }
                    tx
                })
                .clone()
        };
        let (reply, answer) = oneshot::channel();
        match sender.try_send((paid, reply)) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => return Err(ApiError::Unavailable),
            Err(mpsc::error::TrySendError::Closed(_)) => {
                // Its workers are gone (each one panicked): the next payment starts new ones.
                self.orgs.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&org);
                return Err(ApiError::Unavailable);
            }
        }
        answer.await.map_err(|_| ApiError::Unavailable)?
    }
}

struct Worker {
    db: Db,
    master: MasterKey,
    sales: Sales,
    org: i64,
}

impl Worker {
    async fn run(self, queue: Arc<AsyncMutex<mpsc::Receiver<Job>>>, max_batch: usize) {
        loop {
            let batch = {
                let mut queue = queue.lock().await;
                let Some(first) = queue.recv().await else { return };
                let mut batch = vec![first];
                while batch.len() < max_batch {
                    match queue.try_recv() {
                        Ok(next) => batch.push(next),
                        Err(_) => break,
                    }
                }
                batch
            };
            let (payments, replies): (Vec<Succeeded>, Vec<Reply>) = batch.into_iter().unzip();
            match settle_all(&self.db, &self.master, &self.sales, self.org, &payments).await {
                Ok(outcomes) => {
                    for (reply, outcome) in replies.into_iter().zip(outcomes) {
                        let _ = reply.send(outcome);
                    }
                }
                Err(e) if payments.len() == 1 => {
                    let _ = replies.into_iter().next().map(|reply| reply.send(Err(e)));
                }
                Err(e) => {
                    // All at once, so a database that is down costs every caller one timeout,
                    // not one each after the other.
                    tracing::warn!(error = %e, payments = payments.len(), "settling a batch failed: one per transaction");
                    let alone = payments
                        .into_iter()
                        .map(|paid| settle(&self.db, &self.master, &self.sales, self.org, paid));
                    let outcomes = futures_util::future::join_all(alone).await;
                    for (reply, outcome) in replies.into_iter().zip(outcomes) {
                        let _ = reply.send(outcome);
                    }
                }
            }
        }
    }
}
