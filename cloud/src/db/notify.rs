//! Waking long-polls when an organization's journal or documents change: in this instance
//! through a watch channel, and on PostgreSQL in every other instance too, through
//! LISTEN/NOTIFY (the one piece of cross-instance signalling; SQLite is one instance).
//!
//! The [`SeatBell`] is the same for seats: a transaction that changed seats (a hold, a sale, a
//! lapse, a block) rings it when it commits, and the shop's live seat maps look again. It is
//! separate so that a flash sale's holds never wake devices.

use super::Db;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

/// The PostgreSQL channel hub instances tell each other about changes on (payload: the
/// organization's id).
pub const CHANGES_CHANNEL: &str = "voelgoed_changes";
/// The PostgreSQL channel seat changes are announced on (payload: the organization's id).
pub const SEATS_CHANNEL: &str = "voelgoed_seats";

type Watchers = Arc<Mutex<Channels>>;

/// Each organization's count, which its receivers watch.
#[derive(Default)]
struct Channels {
    orgs: HashMap<i64, watch::Sender<u64>>,
    /// The hub is shutting down ([`Bells::close`]): every sender is dropped, so every
    /// receiver's `changed()` fails at once — a waiting long-poll answers, a live stream ends,
    /// and their clients reconnect to an instance that stays. Subscribing afterwards gives a
    /// receiver already closed.
    closed: bool,
    /// Each organization's count when they closed: requests still finishing read it (a read
    /// begun after count `n` has seen every change counted up to `n` must stay true).
    last: HashMap<i64, u64>,
}

/// Wakes long-polls when an organization's journal or documents change — in this instance,
/// and on PostgreSQL in every other instance too, through LISTEN/NOTIFY (see [`Self::listen`]).
#[derive(Clone, Default)]
pub struct Notifier {
    orgs: Watchers,
    /// The database to NOTIFY through (PostgreSQL only).
    db: Option<Db>,
    /// The database's seat bell, rung here when another instance's seats change.
    seats: SeatBell,
}

/// What a database's transactions ring when they commit.
#[derive(Clone, Default)]
pub struct Bells {
    /// An organization's journal or documents changed (the [`Notifier`]'s count moves).
    pub changes: ChangeBell,
    /// Seats changed.
    pub seats: SeatBell,
    /// Webhook deliveries were queued (one waiter: the instance's delivery worker).
    pub webhooks: Arc<tokio::sync::Notify>,
    /// Texts were queued (one waiter: the instance's text worker).
    pub texts: Arc<tokio::sync::Notify>,
    /// Mail was queued (one waiter: the instance's mail worker).
    pub mail: Arc<tokio::sync::Notify>,
}

impl Bells {
    /// The hub is shutting down: answers every long-poll waiting on this instance now and
    /// ends its live streams (dashboards, seat maps), instead of holding the shutdown until
    /// they time out; their clients come back through the load balancer to an instance that
    /// stays. Nothing is lost: a long-poll answers with what it has, a stream's client
    /// reconnects and reads afresh.
    pub fn close(&self) {
        for watchers in [&self.changes.0, &self.seats.0] {
            let mut channels = watchers.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            channels.closed = true;
            let last = channels.orgs.drain().map(|(org, sender)| (org, *sender.borrow())).collect();
            channels.last = last;
        }
    }
}

/// Rings when an organization's seats change (a transaction that changed them committed, here
/// or — on PostgreSQL — in another instance): the shop's live seat maps wait on it. Every
/// [`Db`] has one; its transactions ring it ([`super::Tenant::seats_changed`]).
#[derive(Clone, Default)]
pub struct SeatBell(Watchers);

impl SeatBell {
    /// A receiver that moves when `org`'s seats change.
    pub fn subscribe(&self, org: i64) -> watch::Receiver<u64> {
        Notifier::sender(&self.0, org).subscribe()
    }

    /// `org`'s seats changed (committed) in this instance.
    pub(super) fn ring(&self, org: i64) {
        Notifier::wake(&self.0, org);
    }
}

/// Rings when an organization's journal or documents change: a transaction that wrote them
/// committed ([`super::Tenant::journal_changed`]). It moves the same counts the [`Notifier`]
/// of the database moves, so long-polls wake and the hub's shared journal reads read again.
#[derive(Clone, Default)]
pub struct ChangeBell(Watchers);

impl ChangeBell {
    /// `org`'s journal or documents changed (committed) in this instance.
    pub(super) fn ring(&self, org: i64) {
        Notifier::wake(&self.0, org);
    }
}

impl Notifier {
    /// A notifier for a hub on `db`: it shares the counts `db`'s transactions move when they
    /// commit a change to the journal.
    pub fn new(db: &Db) -> Self {
        let seats = db.seat_bell().clone();
        let orgs = db.change_bell().0.clone();
        let db = (db.backend() == super::Backend::Postgres).then(|| db.clone());
        Self { orgs, db, seats }
    }

    fn sender(orgs: &Watchers, org: i64) -> watch::Sender<u64> {
        let mut channels = orgs.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if channels.closed {
            // Its receivers see it dropped at once; it holds the count the channel had.
            return watch::channel(channels.last.get(&org).copied().unwrap_or(0)).0;
        }
        channels.orgs.entry(org).or_insert_with(|| watch::channel(0).0).clone()
    }

    fn wake(orgs: &Watchers, org: i64) {
        Self::sender(orgs, org).send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Something changed for `org` (committed): wake its long-polls here and elsewhere.
    pub fn notify(&self, org: i64) {
        Self::wake(&self.orgs, org);
        if let Some(db) = self.db.clone() {
            tokio::spawn(async move {
                let sent = sqlx::query("SELECT pg_notify($1, $2)")
                    .bind(CHANGES_CHANNEL)
                    .bind(org.to_string())
                    .execute(db.pool())
                    .await;
                if let Err(e) = sent {
                    tracing::warn!(error = %e, org, "could not tell other hub instances about a change");
                }
            });
        }
    }

    /// A receiver that moves when `org` changes.
    pub fn subscribe(&self, org: i64) -> watch::Receiver<u64> {
        Self::sender(&self.orgs, org).subscribe()
    }

    /// How many changes of `org` this instance has learnt of (its own commits, and on
    /// PostgreSQL other instances' NOTIFYs): a read begun after the count was `n` has seen
    /// every change counted up to `n`.
    pub fn count(&self, org: i64) -> u64 {
        *Self::sender(&self.orgs, org).borrow()
    }

    /// Listens for other instances' changes (PostgreSQL; `url` as configured) until this
    /// notifier is dropped. Notifications missed while the connection was down cannot be
    /// known, so after a reconnect every organization's long-polls are woken to look.
    pub async fn listen(self, url: String) {
        // Only a weak hold: the hub dropping its notifier ends this task.
        let orgs = Arc::downgrade(&self.orgs);
        let seats = Arc::downgrade(&self.seats.0);
        drop(self);
        let mut failures = 0u32;
        loop {
            let connected = sqlx::postgres::PgListener::connect(&url).await;
            let mut listener = match connected {
                Ok(mut l) => match l.listen_all([CHANGES_CHANNEL, SEATS_CHANNEL]).await {
                    Ok(()) => l,
                    Err(e) => {
                        tracing::warn!(error = %e, "LISTEN failed; retrying");
                        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                        continue;
                    }
                },
                Err(e) => {
                    failures += 1;
                    if failures % 10 == 1 {
                        tracing::warn!(error = %e, "cannot listen for other hub instances' changes; retrying");
                    }
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    if orgs.strong_count() == 0 {
                        return;
                    }
                    continue;
                }
            };
            failures = 0;
            for watchers in [orgs.upgrade(), seats.upgrade()].into_iter().flatten() {
                let all: Vec<i64> = watchers
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .orgs
                    .keys()
                    .copied()
                    .collect();
                for org in all {
                    Self::wake(&watchers, org);
                }
            }
            // `try_recv` gives `None` (or an error) when the connection dropped: reconnect.
            while let Ok(Some(n)) = listener.try_recv().await {
                let watchers = if n.channel() == SEATS_CHANNEL { seats.upgrade() } else { orgs.upgrade() };
                let Some(watchers) = watchers else { return };
                if let Ok(org) = n.payload().parse() {
                    Self::wake(&watchers, org);
                }
            }
            if orgs.strong_count() == 0 {
                return;
            }
        }
    }
}
