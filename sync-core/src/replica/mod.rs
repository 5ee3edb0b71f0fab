//! The device replica: one SQLite file (WAL, `synchronous=FULL`) holding everything a device
//! needs to work for hours with no network — its identity and key, event manifests, every
//! journal entry it has seen, automerge documents, and what each peer has acknowledged.
//!
//! On open it rebuilds the derived state (admissions, revocations, leases) from the journal;
//! afterwards every new entry — local or synced — is committed first and applied second, so
//! what the screen shows is always something the disk holds.
//!
//! - `schema`: the migrations;
//! - `gate`: the scan pipeline ([`Gate`]);
//! - `box_office`: selling under leases, voids, returns and shifts ([`BoxOffice`]);
//! - `store`: [`crate::sync::SyncStore`] for the replica, so it syncs with the hub and peers.

mod box_office;
mod door_seats;
mod gate;
mod schema;
mod store;

pub use box_office::{
    BoxOffice, LeaseStatus, LeaseView, MAX_TICKETS_PER_SALE, Quote, Sale, SaleRequest, SellError,
    VoucherLeaseView,
};
pub use gate::{DEBOUNCE_MS, Gate};

use crate::documents::{DocError, DocId, Documents};
use crate::hlc::{DEFAULT_MAX_DRIFT_MS, Hlc, HlcClock};
use crate::ids::{DeviceId, EventId, Timestamp};
use crate::journal::{Entry, EventState, Payload, VersionVector};
use crate::keys::DeviceKey;
use crate::manifest::{EventManifest, ManifestError};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use thiserror::Error;
use tokio::sync::watch;

/// Why the replica could not do what was asked. A scan that fails with this error has **not**
/// been recorded, and its verdict must not be shown.
#[derive(Debug, Error)]
pub enum ReplicaError {
    /// SQLite failed (disk full, I/O error, locked by another process).
    #[error("local database: {0}")]
    Database(#[from] rusqlite::Error),
    /// The schema could not be brought up to date.
    #[error("local database migration: {0}")]
    Migration(#[from] rusqlite_migration::Error),
    /// Stored bytes that do not decode: the file is damaged.
    #[error("local database is damaged: {0}")]
    Corrupt(String),
    /// The file belongs to another device.
    #[error("this database belongs to device {found}, not device {expected}")]
    WrongDevice {
        /// The device asked for.
        expected: DeviceId,
        /// The device in the file.
        found: DeviceId,
    },
    /// No manifest for the event: the device has not received the event's data yet.
    #[error("no data for event {0} on this device yet: sync it first")]
    NoManifest(EventId),
    /// A manifest that cannot be used.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// A document operation failed.
    #[error(transparent)]
    Doc(#[from] DocError),
    /// Sealing what a revoked device leaves failed.
    #[error("sealing the unsynced entries: {0}")]
    Revoked(String),
}

/// How a replica is opened.
#[derive(Clone)]
pub struct ReplicaConfig {
    /// This device's id (as assigned at enrollment).
    pub device: DeviceId,
    /// How far ahead of this device's clock a synced entry may be before it is refused.
    pub max_drift_ms: i64,
    /// The wall clock. Tests pass a controlled one.
    pub clock: Arc<dyn Fn() -> Timestamp + Send + Sync>,
}

impl ReplicaConfig {
    /// Defaults for `device`: an hour of drift ([`DEFAULT_MAX_DRIFT_MS`]), the system clock.
    pub fn new(device: DeviceId) -> Self {
        Self { device, max_drift_ms: DEFAULT_MAX_DRIFT_MS, clock: Arc::new(Timestamp::now) }
    }
}

/// A device's local replica. Cheap to share (`Arc<Replica>`); all access is serialised by one
/// lock, which is also what makes "commit, then apply" atomic for readers.
pub struct Replica {
    origin: DeviceId,
    config: ReplicaConfig,
    inner: Mutex<Inner>,
    changes: watch::Sender<u64>,
}

pub(crate) struct Inner {
    conn: Connection,
    key: DeviceKey,
    have: VersionVector,
    clock: HlcClock,
    events: HashMap<EventId, EventState>,
    manifests: HashMap<EventId, EventManifest>,
    docs: Documents,
    doc_chunks: HashMap<DocId, i64>,
    broken_docs: Vec<(DocId, String)>,
    last_scan: Option<gate::LastScan>,
}

impl Replica {
    /// Opens (creating if needed) the replica at `path` and rebuilds its derived state.
    pub fn open(path: impl AsRef<Path>, config: ReplicaConfig) -> Result<Self, ReplicaError> {
        Self::from_connection(Connection::open(path)?, config, None)
    }

    /// Creates (or opens) the replica at `path` for a device that enrolled with `key`: a new
    /// replica keeps that key instead of generating one.
    pub fn create(
        path: impl AsRef<Path>,
        config: ReplicaConfig,
        key: DeviceKey,
    ) -> Result<Self, ReplicaError> {
        Self::from_connection(Connection::open(path)?, config, Some(key))
    }

    /// A replica in memory (tests, benchmarks): nothing survives it.
    pub fn open_in_memory(config: ReplicaConfig) -> Result<Self, ReplicaError> {
        Self::from_connection(Connection::open_in_memory()?, config, None)
    }

    fn from_connection(
        mut conn: Connection,
        config: ReplicaConfig,
        key: Option<DeviceKey>,
    ) -> Result<Self, ReplicaError> {
        // WAL: readers never block the writer; FULL: a commit is on disk when it returns — a
        // verdict is shown only after its scan is durable (≈4 ms per commit on this hardware).
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        schema::migrations().to_latest(&mut conn)?;
        let key = load_identity(&conn, config.device, key)?;
        let (have, last_hlc) = load_clock(&conn)?;
        let mut inner = Inner {
            key,
            have,
            clock: HlcClock::new(last_hlc, config.max_drift_ms),
            events: HashMap::new(),
            manifests: load_manifests(&conn)?,
            docs: Documents::new(&load_actor(&conn)?),
            doc_chunks: HashMap::new(),
            broken_docs: Vec::new(),
            last_scan: None,
            conn,
        };
        inner.rebuild_events()?;
        inner.load_docs()?;
        let (changes, _) = watch::channel(0);
        Ok(Self { origin: config.device, config, inner: Mutex::new(inner), changes })
    }

    /// SQLite's `synchronous` setting on the replica's connection (2 = FULL: every commit is
    /// on disk when it returns).
    pub fn durability(&self) -> i64 {
        self.lock().conn.pragma_query_value(None, "synchronous", |r| r.get(0)).unwrap_or(-1)
    }

    /// This device's id.
    pub fn device(&self) -> DeviceId {
        self.origin
    }

    /// Trusts `key` as `device`'s (the hub's key, received at enrollment), before any manifest.
    pub fn trust(&self, device: DeviceId, key: &[u8; 32]) -> Result<(), ReplicaError> {
        self.lock().conn.execute(
            "INSERT INTO trusted_keys (device, public_key) VALUES (?1, ?2)
             ON CONFLICT (device) DO UPDATE SET public_key = excluded.public_key",
            params![device.0, key.to_vec()],
        )?;
        Ok(())
    }

    pub(crate) fn trusted_key(&self, device: DeviceId) -> Option<[u8; 32]> {
        let inner = self.lock();
        let bytes: Option<Vec<u8>> = inner
            .conn
            .query_row("SELECT public_key FROM trusted_keys WHERE device = ?1", [device.0], |r| r.get(0))
            .optional()
            .ok()
            .flatten();
        bytes.and_then(|b| b.try_into().ok())
    }

    /// This device's public key (registered with the hub at enrollment).
    pub fn public_key(&self) -> [u8; 32] {
        self.lock().key.public_key()
    }

    /// Stores (or replaces) an event's manifest.
    pub fn set_manifest(&self, manifest: &EventManifest) -> Result<(), ReplicaError> {
        manifest.check()?;
        let mut inner = self.lock();
        inner.conn.execute(
            "INSERT INTO manifests (event, json) VALUES (?1, ?2)
             ON CONFLICT (event) DO UPDATE SET json = excluded.json",
            params![manifest.event.0, manifest.to_json()],
        )?;
        inner.manifests.insert(manifest.event, manifest.clone());
        Ok(())
    }

    /// An event's manifest in force: the latest the hub published through the journal, else
    /// one set locally.
    pub fn manifest(&self, event: EventId) -> Option<EventManifest> {
        self.lock().manifest(event).cloned()
    }

    /// A gate handle for `event`.
    pub fn gate(self: &Arc<Self>, event: EventId) -> Gate {
        Gate::new(Arc::clone(self), event)
    }

    /// A box-office handle for `event`.
    pub fn box_office(self: &Arc<Self>, event: EventId) -> BoxOffice {
        BoxOffice::new(Arc::clone(self), event)
    }

    /// What this replica holds.
    pub fn have(&self) -> VersionVector {
        self.lock().have.clone()
    }

    /// A copy of an event's derived state.
    pub fn event_state(&self, event: EventId) -> EventState {
        self.lock().events.get(&event).cloned().unwrap_or_default()
    }

    /// Reads an event's derived state without copying it.
    pub fn with_event_state<R>(&self, event: EventId, f: impl FnOnce(&EventState) -> R) -> R {
        let inner = self.lock();
        match inner.events.get(&event) {
            Some(state) => f(state),
            None => f(&EventState::default()),
        }
    }

    /// Appends a local entry (a door sale, a void, …): committed durably before it is applied.
    pub fn record(&self, event: EventId, payload: Payload) -> Result<Entry, ReplicaError> {
        let now = self.now();
        let entry = self.lock().append_local(self.origin, event, payload, now)?;
        self.notify();
        Ok(entry)
    }

    /// Appends several local entries in one transaction (one commit, all or nothing).
    pub fn record_all(&self, event: EventId, payloads: Vec<Payload>) -> Result<Vec<Entry>, ReplicaError> {
        let now = self.now();
        let entries = self.lock().append_all(self.origin, event, payloads, now)?;
        self.notify();
        Ok(entries)
    }

    /// Edits a document; the change is committed before this returns.
    pub fn edit_doc<R>(
        &self,
        doc: &DocId,
        f: impl FnOnce(&mut automerge::AutoCommit) -> Result<R, automerge::AutomergeError>,
    ) -> Result<R, ReplicaError> {
        let mut inner = self.lock();
        let (result, bytes) = inner.docs.edit(doc, f)?;
        inner.save_doc_chunk(doc, &bytes)?;
        drop(inner);
        self.notify();
        Ok(result)
    }

    /// Reads a document (an empty one if it does not exist yet).
    pub fn read_doc<R>(&self, doc: &DocId, f: impl FnOnce(&automerge::AutoCommit) -> R) -> R {
        self.lock().docs.read(doc, f)
    }

    /// A document's heads (sorted): replicas with equal heads hold equal documents.
    pub fn doc_heads(&self, doc: &DocId) -> Vec<automerge::ChangeHash> {
        self.lock().docs.heads(doc)
    }

    /// Documents that could not be loaded from disk (damaged), with the reason.
    pub fn broken_docs(&self) -> Vec<(DocId, String)> {
        self.lock().broken_docs.clone()
    }

    /// How many of this device's own entries the peer has not acknowledged (the outbox).
    pub fn pending_for(&self, peer: DeviceId) -> Result<u64, ReplicaError> {
        let inner = self.lock();
        let acked = inner.peer_have(peer)?.map_or(0, |vv| vv.get(self.origin));
        Ok(inner.have.get(self.origin).saturating_sub(acked))
    }

    /// What the hub revoked this device with leaves behind (see [`crate::revoked`]): this
    /// device's own entries the hub has not acknowledged — signed with the device's key and
    /// sealed to the hub's (trusted at enrollment), as the bytes of an export file. `made_at`
    /// is the device's clock. Fails if the replica trusts no hub key.
    pub fn seal_unsynced(
        &self,
        notice: crate::revoked::RevocationNotice,
    ) -> Result<(Vec<u8>, usize), ReplicaError> {
        let hub = self.trusted_key(crate::journal::HUB).ok_or_else(|| {
            ReplicaError::Revoked("this device trusts no hub key to seal its entries to".into())
        })?;
        let inner = self.lock();
        let acked = inner.peer_have(crate::journal::HUB)?.map_or(0, |vv| vv.get(self.origin));
        let mut stmt = inner.conn.prepare(
            "SELECT origin, seq, hlc, event, payload FROM journal WHERE origin = ?1 AND seq > ?2 ORDER BY seq",
        )?;
        let mut rows = stmt.query(params![self.origin.0, to_sql_u64(acked)?])?;
        let mut entries = Vec::new();
        while let Some(row) = rows.next()? {
            entries.push(entry_from_row(row)?);
        }
        let count = entries.len();
        let export = crate::revoked::Export { device: self.origin, made_at: self.now(), notice, entries };
        let file = crate::revoked::SealedExport::seal(&export, &inner.key, &hub)
            .map_err(|e| ReplicaError::Revoked(e.to_string()))?;
        Ok((file, count))
    }

    /// The newest settings the organizer set for this device from the console (its PIN),
    /// opened with this device's key and verified against the hub's; `None` if there are none
    /// (or the newest does not open and verify: only a forgery would not, and it changes nothing).
    pub fn remote_settings(&self) -> Option<crate::remote::RemoteSettings> {
        let hub = self.trusted_key(crate::journal::HUB).and_then(|k| crate::keys::strict_public_key(&k))?;
        let inner = self.lock();
        let newest = inner
            .events
            .values()
            .filter_map(|s| s.device_settings.get(&self.origin))
            .max_by_key(|change| change.set_at)?;
        newest.open(&inner.key, &hub).ok()
    }

    /// Erases what this replica holds, for a device the hub revoked (after
    /// [`Self::seal_unsynced`]): every table emptied with SQLite's `secure_delete` on (freed
    /// pages are overwritten with zeros), the file vacuumed and its write-ahead log truncated,
    /// and in memory the events, manifests, documents and key dropped (a fresh key takes the
    /// old one's place). The replica holds nothing after; the caller deletes its files.
    pub fn wipe(&self) -> Result<(), ReplicaError> {
        let mut inner = self.lock();
        let conn = &inner.conn;
        conn.pragma_update(None, "secure_delete", "ON")?;
        let tables: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        for table in tables {
            conn.execute(&format!("DELETE FROM \"{table}\""), [])?;
        }
        conn.execute_batch("VACUUM")?;
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        inner.key = DeviceKey::generate().map_err(|e| ReplicaError::Revoked(e.to_string()))?;
        inner.have = VersionVector::default();
        inner.events.clear();
        inner.manifests.clear();
        inner.docs = Documents::new(&[0; 16]);
        inner.doc_chunks.clear();
        inner.broken_docs.clear();
        inner.last_scan = None;
        Ok(())
    }

    /// When the peer last acknowledged this replica's entries (the last successful exchange),
    /// by this device's clock; `None` if never. The badge's "age of the revocation list" is
    /// the time since the last sync with the hub.
    pub fn last_synced(&self, peer: DeviceId) -> Result<Option<Timestamp>, ReplicaError> {
        let at: Option<i64> = self
            .lock()
            .conn
            .query_row("SELECT synced_at FROM peers WHERE peer = ?1", [peer.0], |r| r.get(0))
            .optional()?;
        Ok(at.map(Timestamp))
    }

    /// The latest HLC this replica has issued or seen.
    pub fn clock(&self) -> Hlc {
        self.lock().clock.last()
    }

    pub(crate) fn now(&self) -> Timestamp {
        (self.config.clock)()
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves nothing half-written in SQLite (every write is
        // one transaction), so the data behind a poisoned lock is still consistent.
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn notify(&self) {
        self.changes.send_modify(|n| *n = n.wrapping_add(1));
    }
}

impl Inner {
    /// The event's manifest in force (see [`Replica::manifest`]).
    fn manifest(&self, event: EventId) -> Option<&EventManifest> {
        let published = self.events.get(&event).and_then(|s| s.manifest.as_ref()).map(|(_, m)| m);
        published.or_else(|| self.manifests.get(&event))
    }

    /// Commits one new local entry, then applies it.
    fn append_local(
        &mut self,
        origin: DeviceId,
        event: EventId,
        payload: Payload,
        now: Timestamp,
    ) -> Result<Entry, ReplicaError> {
        let entry =
            Entry { origin, seq: self.have.get(origin) + 1, hlc: self.clock.tick(now), event, payload };
        insert_entry(&self.conn, &entry)?;
        self.have.advance(origin, entry.seq);
        self.events.entry(event).or_default().apply(&entry);
        Ok(entry)
    }

    /// Commits several new local entries in one transaction, then applies them.
    fn append_all(
        &mut self,
        origin: DeviceId,
        event: EventId,
        payloads: Vec<Payload>,
        now: Timestamp,
    ) -> Result<Vec<Entry>, ReplicaError> {
        let mut seq = self.have.get(origin);
        let entries: Vec<Entry> = payloads
            .into_iter()
            .map(|payload| {
                seq += 1;
                Entry { origin, seq, hlc: self.clock.tick(now), event, payload }
            })
            .collect();
        let tx = self.conn.unchecked_transaction()?;
        for entry in &entries {
            insert_entry(&tx, entry)?;
        }
        tx.commit()?;
        for entry in &entries {
            self.have.advance(origin, entry.seq);
            self.events.entry(event).or_default().apply(entry);
        }
        Ok(entries)
    }

    /// `origin`'s entries of `event` after `after_seq`, in order.
    fn entries_after(
        &self,
        origin: DeviceId,
        event: EventId,
        after_seq: u64,
    ) -> Result<Vec<Entry>, ReplicaError> {
        let mut stmt = self.conn.prepare(
            "SELECT origin, seq, hlc, event, payload FROM journal WHERE origin = ?1 AND event = ?2 AND seq > ?3 ORDER BY seq",
        )?;
        let mut rows = stmt.query(params![origin.0, event.0, to_sql_u64(after_seq)?])?;
        let mut entries = Vec::new();
        while let Some(row) = rows.next()? {
            entries.push(entry_from_row(row)?);
        }
        Ok(entries)
    }

    fn rebuild_events(&mut self) -> Result<(), ReplicaError> {
        let mut stmt = self.conn.prepare("SELECT origin, seq, hlc, event, payload FROM journal")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let entry = entry_from_row(row)?;
            self.events.entry(entry.event).or_default().apply(&entry);
        }
        Ok(())
    }

    fn load_docs(&mut self) -> Result<(), ReplicaError> {
        self.load_docs_matching(None)
    }

    /// Loads every document (or one). A document whose chunks do not load is left out and
    /// named in `broken_docs`: a damaged guest list must not stop the gate from scanning.
    fn load_docs_matching(&mut self, only: Option<&DocId>) -> Result<(), ReplicaError> {
        let mut stmt = self.conn.prepare(
            "SELECT doc, chunk, data FROM doc_chunks WHERE ?1 IS NULL OR doc = ?1 ORDER BY doc, chunk",
        )?;
        let mut docs: Vec<(DocId, i64, Vec<u8>)> = Vec::new();
        let mut rows = stmt.query([only.map(DocId::as_str)])?;
        while let Some(row) = rows.next()? {
            let id = DocId::try_from(row.get::<_, String>(0)?)
                .map_err(|e| ReplicaError::Corrupt(e.to_string()))?;
            let (chunk, data): (i64, Vec<u8>) = (row.get(1)?, row.get(2)?);
            match docs.last_mut() {
                Some((last, n, bytes)) if *last == id => {
                    bytes.extend_from_slice(&data);
                    *n = chunk;
                }
                _ => docs.push((id, chunk, data)),
            }
        }
        drop(rows);
        drop(stmt);
        for (id, last_chunk, bytes) in docs {
            match self.docs.load(id.clone(), &bytes) {
                Ok(()) => {
                    self.doc_chunks.insert(id, last_chunk);
                }
                Err(e) => self.broken_docs.push((id, e.to_string())),
            }
        }
        Ok(())
    }

    /// Persists a document change. If that fails, the in-memory document (which already has
    /// the change) is reloaded from disk, so memory never shows — or syncs — an edit the disk
    /// does not hold.
    fn save_doc_chunk(&mut self, doc: &DocId, bytes: &[u8]) -> Result<(), ReplicaError> {
        if bytes.is_empty() {
            return Ok(());
        }
        let next = self.doc_chunks.get(doc).map_or(0, |n| n + 1);
        let saved = self.conn.execute(
            "INSERT INTO doc_chunks (doc, chunk, data) VALUES (?1, ?2, ?3)",
            params![doc.as_str(), next, bytes],
        );
        match saved {
            Ok(_) => {
                self.doc_chunks.insert(doc.clone(), next);
                Ok(())
            }
            Err(e) => {
                self.docs.unload(doc);
                self.doc_chunks.remove(doc);
                // Best effort: if even reading fails, the document stays unloaded until restart.
                let _ = self.load_docs_matching(Some(doc));
                Err(e.into())
            }
        }
    }

    fn peer_have(&self, peer: DeviceId) -> Result<Option<VersionVector>, ReplicaError> {
        let bytes: Option<Vec<u8>> = self
            .conn
            .query_row("SELECT have FROM peers WHERE peer = ?1", [peer.0], |r| r.get(0))
            .optional()?;
        bytes.map(|b| postcard::from_bytes(&b).map_err(|e| ReplicaError::Corrupt(e.to_string()))).transpose()
    }
}

fn insert_entry(conn: &Connection, e: &Entry) -> Result<(), ReplicaError> {
    let payload = postcard::to_stdvec(&e.payload).map_err(|err| ReplicaError::Corrupt(err.to_string()))?;
    // Cached: a batch of 2,000 received entries parsed this statement 2,000 times (a fifth of
    // a device's CPU in the reconnect storm).
    conn.prepare_cached(
        "INSERT INTO journal (origin, seq, hlc, event, payload) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![e.origin.0, to_sql_u64(e.seq)?, to_sql_u64(e.hlc.0)?, e.event.0, payload])?;
    Ok(())
}

fn entry_from_row(row: &rusqlite::Row<'_>) -> Result<Entry, ReplicaError> {
    let payload: Vec<u8> = row.get(4)?;
    Ok(Entry {
        origin: DeviceId(row.get(0)?),
        seq: from_sql_u64(row.get(1)?)?,
        hlc: Hlc(from_sql_u64(row.get(2)?)?),
        event: EventId(row.get(3)?),
        payload: postcard::from_bytes(&payload).map_err(|e| ReplicaError::Corrupt(e.to_string()))?,
    })
}

/// SQLite integers are signed 64-bit; sequence numbers and HLCs stay far below 2^63.
fn to_sql_u64(v: u64) -> Result<i64, ReplicaError> {
    i64::try_from(v).map_err(|_| ReplicaError::Corrupt(format!("value {v} does not fit the database")))
}

fn from_sql_u64(v: i64) -> Result<u64, ReplicaError> {
    u64::try_from(v).map_err(|_| ReplicaError::Corrupt(format!("negative value {v} in the journal")))
}

fn load_identity(
    conn: &Connection,
    device: DeviceId,
    new_key: Option<DeviceKey>,
) -> Result<DeviceKey, ReplicaError> {
    let row: Option<(u32, Vec<u8>)> = conn
        .query_row("SELECT device, secret_key FROM identity WHERE singleton = 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    if let Some((found, secret)) = row {
        if found != device.0 {
            return Err(ReplicaError::WrongDevice { expected: device, found: DeviceId(found) });
        }
        let seed: [u8; 32] =
            secret.try_into().map_err(|_| ReplicaError::Corrupt("device key is not 32 bytes".into()))?;
        return Ok(DeviceKey::from_seed(seed));
    }
    let key = match new_key {
        Some(k) => k,
        None => DeviceKey::generate().map_err(|e| ReplicaError::Corrupt(e.to_string()))?,
    };
    let mut actor = [0u8; 16];
    getrandom::fill(&mut actor).map_err(|e| ReplicaError::Corrupt(e.to_string()))?;
    let seed = key.secret_seed().to_vec();
    conn.execute(
        "INSERT INTO identity (singleton, device, secret_key, actor) VALUES (1, ?1, ?2, ?3)",
        params![device.0, seed, actor.to_vec()],
    )?;
    Ok(key)
}

fn load_actor(conn: &Connection) -> Result<Vec<u8>, ReplicaError> {
    Ok(conn.query_row("SELECT actor FROM identity WHERE singleton = 1", [], |r| r.get(0))?)
}

fn load_clock(conn: &Connection) -> Result<(VersionVector, Hlc), ReplicaError> {
    let mut have = VersionVector::new();
    let mut stmt = conn.prepare("SELECT origin, MAX(seq) FROM journal GROUP BY origin")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        have.advance(DeviceId(row.get(0)?), from_sql_u64(row.get(1)?)?);
    }
    let last: Option<i64> = conn.query_row("SELECT MAX(hlc) FROM journal", [], |r| r.get(0))?;
    Ok((have, Hlc(last.map(from_sql_u64).transpose()?.unwrap_or(0))))
}

fn load_manifests(conn: &Connection) -> Result<HashMap<EventId, EventManifest>, ReplicaError> {
    let mut stmt = conn.prepare("SELECT json FROM manifests")?;
    let mut rows = stmt.query([])?;
    let mut manifests = HashMap::new();
    while let Some(row) = rows.next()? {
        let m = EventManifest::from_json(&row.get::<_, String>(0)?)?;
        manifests.insert(m.event, m);
    }
    Ok(manifests)
}
