//! The two shapes of a transaction: [`Tenant`] (one organization's rows) and [`System`] (the
//! few lookups that cross organizations before one is known).
//!
//! Each carries what every write in it needs, so handlers stop passing it along: the
//! organization, the time the transaction started (from the hub's [`Clock`]), the audit line,
//! and the commit-then-notify step that wakes devices once a change they must learn of is
//! durable. Both dereference to the connection, so a query runs on `&mut *tx` as on sqlx's
//! own transaction.
//!
//! [`Clock`]: crate::clock::Clock

use super::{Backend, Bells, ChangeBell, DbError};
use crate::db::Notifier;
use sqlx::{Any, AnyConnection, Transaction};
use std::ops::{Deref, DerefMut};

/// A transaction that sees only one organization's rows. Every query inside still names the
/// organization (the first wall); on PostgreSQL, row-level security enforces it again.
#[allow(clippy::struct_excessive_bools)] // one per bell rung on commit: independent, not states
pub struct Tenant {
    tx: Transaction<'static, Any>,
    org: i64,
    now: i64,
    backend: Backend,
    /// Rung on commit: the change bell if [`Self::journal_changed`] was called, the seat bell
    /// if [`Self::seats_changed`] was, the webhook bell if [`Self::webhooks_queued`] was, the
    /// text bell if [`Self::texts_queued`] was.
    bells: Bells,
    /// Whether this transaction changed the organization's journal or documents.
    journal_changed: bool,
    /// Whether this transaction changed seats.
    seats_changed: bool,
    /// Whether this transaction queued webhook deliveries.
    webhooks_queued: bool,
    /// Whether this transaction queued texts.
    texts_queued: bool,
    /// The organization's webhook subscriptions (endpoint id and the event types it wants, as
    /// stored), read once per transaction by `webhooks::emit` (`None`: not read yet).
    pub webhook_subscriptions: Option<Vec<(i64, String)>>,
}

/// A transaction across organizations (PostgreSQL: declared to row-level security as such).
pub struct System {
    tx: Transaction<'static, Any>,
    now: i64,
    backend: Backend,
    /// Handed to the tenant transaction it may become.
    bells: Bells,
}

impl Tenant {
    pub(super) fn new(
        tx: Transaction<'static, Any>,
        org: i64,
        now: i64,
        backend: Backend,
        bells: Bells,
    ) -> Self {
        Self {
            tx,
            org,
            now,
            backend,
            bells,
            journal_changed: false,
            seats_changed: false,
            webhooks_queued: false,
            texts_queued: false,
            webhook_subscriptions: None,
        }
    }

    /// This transaction queued webhook deliveries: once it commits, this instance's delivery
    /// worker looks at once (other instances find them on their next round).
    pub fn webhooks_queued(&mut self) {
        self.webhooks_queued = true;
    }

    /// This transaction queued texts: once it commits, this instance's text worker looks at
    /// once.
    pub fn texts_queued(&mut self) {
        self.texts_queued = true;
    }

    /// This transaction changed the organization's journal or documents (what devices sync):
    /// once it commits, the organization's long-polls wake — in this instance, and on
    /// PostgreSQL in every other (a NOTIFY, which PostgreSQL delivers only if the transaction
    /// commits). Called where those rows are written (`journal::append_hub_entry`, devices'
    /// entries, document chunks), so no change can forget to wake the devices, and the hub's
    /// shared reads of the journal, kept per change count, can trust the count.
    pub async fn journal_changed(&mut self) -> Result<(), sqlx::Error> {
        if !self.journal_changed {
            self.journal_changed = true;
            self.tell_other_instances(super::CHANGES_CHANNEL).await?;
        }
        Ok(())
    }

    /// This transaction changed seats: once it commits, the shop's live seat maps of the
    /// organization look again — in this instance, and on PostgreSQL in every other (a NOTIFY,
    /// which PostgreSQL delivers only if the transaction commits).
    pub async fn seats_changed(&mut self) -> Result<(), sqlx::Error> {
        if !self.seats_changed {
            self.seats_changed = true;
            self.tell_other_instances(super::SEATS_CHANNEL).await?;
        }
        Ok(())
    }

    /// On PostgreSQL, a NOTIFY of this organization on `channel`, sent with the commit.
    async fn tell_other_instances(&mut self, channel: &str) -> Result<(), sqlx::Error> {
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(channel)
                .bind(self.org.to_string())
                .execute(&mut *self.tx)
                .await?;
        }
        Ok(())
    }

    /// The organization whose rows this transaction sees.
    pub fn org(&self) -> i64 {
        self.org
    }

    /// When the transaction began (Unix ms, from the hub's clock): the time every row written
    /// in it carries.
    pub fn now(&self) -> i64 {
        self.now
    }

    /// The database engine (for the few statements that differ, like `FOR UPDATE`).
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Records who changed what, in this transaction: an audit line exists exactly when the
    /// change does. `detail` is free-form by design (each action records what matters to it).
    pub async fn audit(
        &mut self,
        actor: &str,
        action: &str,
        object: &str,
        detail: serde_json::Value,
    ) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO audit_log (org_id, actor, action, object, detail, at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(self.org)
        .bind(actor)
        .bind(action)
        .bind(object)
        .bind(detail.to_string())
        .bind(self.now)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Commits, and rings the bells of what changed.
    pub async fn commit(self) -> Result<(), DbError> {
        // The change bell rings however the commit ends: done, failed, or its request dropped
        // while it ran (a device that went out of range) — the rows may be committed though
        // the await never returned, and a count that did not move would leave the shared
        // journal reads behind. A ring for a transaction that did not commit only makes
        // readers look again.
        let _ring = self.journal_changed.then(|| RingOnDrop(self.bells.changes.clone(), self.org));
        self.tx.commit().await?;
        if self.seats_changed {
            self.bells.seats.ring(self.org);
        }
        if self.webhooks_queued {
            self.bells.webhooks.notify_one();
        }
        if self.texts_queued {
            self.bells.texts.notify_one();
        }
        Ok(())
    }

    /// Commits, then wakes the organization's devices (here and in every other instance)
    /// even if nothing they sync changed in it (a transaction that did change the journal
    /// wakes them by itself: see [`Self::journal_changed`]).
    pub async fn commit_and_notify(self, notifier: &Notifier) -> Result<(), DbError> {
        let (org, rang) = (self.org, self.journal_changed);
        self.commit().await?;
        if !rang {
            notifier.notify(org);
        }
        Ok(())
    }
}

/// Rings an organization's change bell when dropped.
struct RingOnDrop(ChangeBell, i64);

impl Drop for RingOnDrop {
    fn drop(&mut self) {
        self.0.ring(self.1);
    }
}

impl System {
    pub(super) fn new(tx: Transaction<'static, Any>, now: i64, backend: Backend, bells: Bells) -> Self {
        Self { tx, now, backend, bells }
    }

    /// When the transaction began (Unix ms, from the hub's clock).
    pub fn now(&self) -> i64 {
        self.now
    }

    /// The database engine.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Continues as organization `org`'s transaction, once a lookup found it (an enrollment
    /// code names its organization): what was done so far commits or rolls back with what
    /// follows. On PostgreSQL row-level security narrows to `org` from here on.
    pub async fn into_tenant(mut self, org: i64) -> Result<Tenant, DbError> {
        if self.backend == Backend::Postgres {
            // `org` is a number: safe to inline. Both settings last until the transaction ends.
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT set_config('voelgoed.system', '', true), set_config('voelgoed.org_id', '{org}', true)"
            )))
            .execute(&mut *self.tx)
            .await?;
        }
        Ok(Tenant::new(self.tx, org, self.now, self.backend, self.bells))
    }

    /// Commits.
    pub async fn commit(self) -> Result<(), DbError> {
        self.tx.commit().await?;
        Ok(())
    }
}

impl Deref for Tenant {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.tx
    }
}

impl DerefMut for Tenant {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }
}

impl Deref for System {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.tx
    }
}

impl DerefMut for System {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }
}
