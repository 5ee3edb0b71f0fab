//! The replica as a [`SyncStore`]: what the sync engine reads and writes.

use super::{Inner, Replica, ReplicaError, entry_from_row, insert_entry, to_sql_u64};
use crate::documents::DocId;
use crate::ids::{DeviceId, Timestamp};
use crate::journal::{Entry, VersionVector};
use crate::sync::engine::{SyncError, check_incoming};
use crate::sync::store::{StoreError, SyncStore};
use rusqlite::params;
use tokio::sync::watch;

impl From<ReplicaError> for StoreError {
    fn from(e: ReplicaError) -> Self {
        match e {
            ReplicaError::Doc(d) => StoreError::Doc(d),
            other => StoreError::Database(other.to_string()),
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Database(e.to_string())
    }
}

impl Inner {
    /// Stores a batch in one transaction (durable on commit), then applies it.
    fn append_batch(
        &mut self,
        me: DeviceId,
        entries: Vec<Entry>,
        now: Timestamp,
        max_drift_ms: i64,
    ) -> Result<VersionVector, StoreError> {
        let fresh = check_incoming(me, &self.have, entries, now, max_drift_ms).map_err(|e| match e {
            SyncError::Store(s) => s,
            other => StoreError::Invalid(other.to_string()),
        })?;
        if fresh.is_empty() {
            return Ok(self.have.clone());
        }
        if let Some(latest) = fresh.iter().map(|e| e.hlc).max() {
            self.clock.observe(latest, now)?;
        }
        let tx = self.conn.transaction()?;
        for entry in &fresh {
            insert_entry(&tx, entry)?;
        }
        tx.commit()?;
        for entry in &fresh {
            self.have.advance(entry.origin, entry.seq);
            self.events.entry(entry.event).or_default().apply(entry);
        }
        Ok(self.have.clone())
    }
}

impl SyncStore for Replica {
    fn origin(&self) -> DeviceId {
        self.origin
    }

    fn now(&self) -> Timestamp {
        Replica::now(self)
    }

    async fn have(&self) -> Result<VersionVector, StoreError> {
        Ok(self.lock().have.clone())
    }

    async fn entries_after(
        &self,
        origin: DeviceId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<Entry>, StoreError> {
        let inner = self.lock();
        let mut stmt = inner.conn.prepare_cached(
            "SELECT origin, seq, hlc, event, payload FROM journal WHERE origin = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
        )?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut rows = stmt.query(params![origin.0, to_sql_u64(after)?, limit])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(entry_from_row(row)?);
        }
        Ok(out)
    }

    async fn append(&self, entries: Vec<Entry>) -> Result<VersionVector, StoreError> {
        let now = Replica::now(self);
        let have = self.lock().append_batch(self.origin, entries, now, self.config.max_drift_ms)?;
        self.notify();
        Ok(have)
    }

    async fn doc_ids(&self) -> Result<Vec<DocId>, StoreError> {
        Ok(self.lock().docs.ids().cloned().collect())
    }

    fn doc_wanted(&self, doc: &DocId) -> bool {
        let inner = self.lock();
        let published = inner.events.iter().filter(|(_, s)| s.manifest.is_some()).map(|(e, _)| e);
        let mut events = inner.manifests.keys().chain(published);
        inner.docs.get(doc).is_some()
            || events.any(|&e| *doc == DocId::guest_list(e) || *doc == DocId::event_config(e))
    }

    async fn doc_check(&self, doc: &DocId, message: &[u8]) -> Result<(), StoreError> {
        if !self.doc_wanted(doc) {
            return Ok(()); // ignored when received
        }
        Ok(self.lock().docs.check(doc, message)?)
    }

    async fn doc_restart(&self, peer: DeviceId) -> Result<(), StoreError> {
        self.lock().docs.restart_peer(peer);
        Ok(())
    }

    async fn doc_generate(&self, peer: DeviceId, doc: &DocId) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.lock().docs.generate(peer, doc))
    }

    async fn doc_receive(&self, peer: DeviceId, doc: &DocId, message: &[u8]) -> Result<(), StoreError> {
        if !self.doc_wanted(doc) {
            return Ok(());
        }
        let mut inner = self.lock();
        if let Some(bytes) = inner.docs.receive(peer, doc, message)? {
            inner.save_doc_chunk(doc, &bytes)?;
            drop(inner);
            self.notify();
        }
        Ok(())
    }

    async fn peer_have(&self, peer: DeviceId) -> Result<Option<VersionVector>, StoreError> {
        Ok(self.lock().peer_have(peer)?)
    }

    async fn set_peer_have(&self, peer: DeviceId, have: &VersionVector) -> Result<(), StoreError> {
        let bytes = postcard::to_stdvec(have).map_err(|e| StoreError::Database(e.to_string()))?;
        let now = Replica::now(self).0;
        self.lock()
            .conn
            .prepare_cached(
                "INSERT INTO peers (peer, have, synced_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (peer) DO UPDATE SET have = excluded.have, synced_at = excluded.synced_at",
            )?
            .execute(params![peer.0, bytes, now])?;
        Ok(())
    }

    fn changes(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }
}

#[cfg(feature = "http")]
impl crate::sync::http::Identity for Replica {
    fn device(&self) -> DeviceId {
        self.origin
    }

    fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.lock().key.sign(message)
    }

    fn now(&self) -> crate::Timestamp {
        (self.config.clock)()
    }

    fn key_of(&self, device: DeviceId) -> Option<ed25519_dalek::VerifyingKey> {
        if let Some(anchor) = self.trusted_key(device) {
            return crate::keys::strict_public_key(&anchor);
        }
        let inner = self.lock();
        // A hub-signed revocation outranks every manifest that still lists the device.
        if inner.events.values().any(|s| s.revoked_devices.contains_key(&device)) {
            return None;
        }
        // Per event, the manifest in force: the published one once there is one, else the one
        // enrollment brought (an older list would still name a device since removed).
        let events: std::collections::BTreeSet<_> =
            inner.manifests.keys().chain(inner.events.keys()).copied().collect();
        events
            .into_iter()
            .filter_map(|e| inner.manifest(e))
            .flat_map(|m| &m.devices)
            .find(|d| d.id == device)
            .and_then(|d| d.public_key)
    }

    fn revocation_notice(&self, device: DeviceId) -> Option<crate::revoked::SignedNotice> {
        let inner = self.lock();
        inner.events.values().find_map(|s| s.revoked_devices.get(&device).cloned())
    }
}
