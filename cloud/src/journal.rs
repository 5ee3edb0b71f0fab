//! The hub's side of the sync engine: each organization's journal in the database, as a
//! [`SyncStore`] the sync-core engine drives.
//!
//! - Entries from devices are stored and **materialized** (scans → `checkins`) in the same
//!   transaction, so what is acknowledged is committed, and a replayed entry changes nothing.
//! - The hub writes its own entries (manifests, revocations, lease grants) into the
//!   organization's hub log (origin 0) through [`append_hub_entry`], inside the caller's
//!   transaction. One `hub_log` row per organization serialises those appends across hub
//!   instances: sequence numbers without gaps, clocks strictly increasing.
//! - Documents live as chunks in `doc_chunks`; each hub instance keeps them loaded with the
//!   per-device automerge sync states, and picks up chunks another instance wrote.

use crate::db::Db;
use crate::tenancy::now_ms;
use sqlx::{Any, Row, Transaction};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use sync_core::documents::{AutoCommit, AutomergeError, DocId, Documents};
use sync_core::hlc::{DEFAULT_MAX_DRIFT_MS, Hlc};
use sync_core::ids::{DeviceId, EventId, Timestamp};
use sync_core::journal::{Entry, HUB, Payload, VersionVector};
use sync_core::sync::engine::{SyncError, check_incoming};
use sync_core::sync::store::{StoreError, SyncStore};
use tokio::sync::watch;

fn db_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Database(e.to_string())
}

/// The PostgreSQL channel hub instances tell each other about changes on (payload: the
/// organization's id).
pub const CHANGES_CHANNEL: &str = "voelgoed_changes";

type Watchers = Arc<Mutex<HashMap<i64, watch::Sender<u64>>>>;

/// Wakes long-polls when an organization's journal or documents change — in this instance,
/// and on PostgreSQL in every other instance too, through LISTEN/NOTIFY (see [`Self::listen`]).
#[derive(Clone, Default)]
pub struct Notifier {
    orgs: Watchers,
    /// The database to NOTIFY through (PostgreSQL only).
    db: Option<Db>,
}

impl Notifier {
    /// A notifier for a hub on `db`.
    pub fn new(db: &Db) -> Self {
        let db = (db.backend() == crate::db::Backend::Postgres).then(|| db.clone());
        Self { orgs: Watchers::default(), db }
    }

    fn sender(orgs: &Watchers, org: i64) -> watch::Sender<u64> {
        let mut orgs = orgs.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        orgs.entry(org).or_insert_with(|| watch::channel(0).0).clone()
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

    /// Listens for other instances' changes (PostgreSQL; `url` as configured) until this
    /// notifier is dropped. Notifications missed while the connection was down cannot be
    /// known, so after a reconnect every organization's long-polls are woken to look.
    pub async fn listen(self, url: String) {
        // Only a weak hold: the hub dropping its notifier ends this task.
        let orgs = Arc::downgrade(&self.orgs);
        drop(self);
        let mut failures = 0u32;
        loop {
            let connected = sqlx::postgres::PgListener::connect(&url).await;
            let mut listener = match connected {
                Ok(mut l) => match l.listen(CHANGES_CHANNEL).await {
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
            if let Some(orgs) = orgs.upgrade() {
                let all: Vec<i64> =
                    orgs.lock().unwrap_or_else(std::sync::PoisonError::into_inner).keys().copied().collect();
                for org in all {
                    Self::wake(&orgs, org);
                }
            }
            // `try_recv` gives `None` (or an error) when the connection dropped: reconnect.
            while let Ok(Some(n)) = listener.try_recv().await {
                let Some(orgs) = orgs.upgrade() else { return };
                if let Ok(org) = n.payload().parse() {
                    Self::wake(&orgs, org);
                }
            }
            if orgs.strong_count() == 0 {
                return;
            }
        }
    }
}

/// Loaded documents of every organization, with their per-device sync states.
#[derive(Clone)]
pub struct DocCache {
    orgs: Arc<Mutex<HashMap<i64, OrgDocs>>>,
    /// The automerge actor this hub instance edits as (organizers' guest-list edits). Unique
    /// per process: two instances editing as one actor would both write "change 1 of actor X"
    /// with different contents, and automerge would refuse the second everywhere.
    actor: Arc<[u8]>,
}

impl Default for DocCache {
    fn default() -> Self {
        let mut random = [0u8; 8];
        // A clock-based fallback keeps the hub starting if the random source fails; it is
        // still distinct per process in practice (nanoseconds and the process id).
        if getrandom::fill(&mut random).is_err() {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos());
            random = (u64::from(nanos) << 32 | u64::from(std::process::id())).to_le_bytes();
        }
        let actor = format!("voelgoed-hub-{}", hex::encode(random));
        Self { orgs: Arc::default(), actor: actor.into_bytes().into() }
    }
}

struct OrgDocs {
    docs: Documents,
    last_chunk: HashMap<DocId, i64>,
}

/// Appends an entry to organization `org`'s hub log inside `tx` (commit it with the change
/// it records). Returns the entry.
pub async fn append_hub_entry(
    tx: &mut Transaction<'static, Any>,
    org: i64,
    event: i64,
    payload: Payload,
) -> Result<Entry, anyhow::Error> {
    let now = Hlc::from_time(Timestamp::now()).0;
    sqlx::query("INSERT INTO hub_log (org_id, seq, hlc) VALUES ($1, 0, 0) ON CONFLICT (org_id) DO NOTHING")
        .bind(org)
        .execute(&mut **tx)
        .await?;
    let row = sqlx::query(
        "UPDATE hub_log SET seq = seq + 1, hlc = CASE WHEN hlc + 1 > $2 THEN hlc + 1 ELSE $2 END \
         WHERE org_id = $1 RETURNING seq, hlc",
    )
    .bind(org)
    .bind(i64::try_from(now)?)
    .fetch_one(&mut **tx)
    .await?;
    let entry = Entry {
        origin: HUB,
        seq: u64::try_from(row.get::<i64, _>(0))?,
        hlc: Hlc(u64::try_from(row.get::<i64, _>(1))?),
        event: EventId(u32::try_from(event)?),
        payload,
    };
    insert(tx, org, &entry).await?;
    Ok(entry)
}

async fn insert(tx: &mut Transaction<'static, Any>, org: i64, e: &Entry) -> Result<(), anyhow::Error> {
    let payload = postcard::to_stdvec(&e.payload)?;
    sqlx::query(
        "INSERT INTO journal (org_id, origin, seq, hlc, event_id, payload) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(org)
    .bind(i64::from(e.origin.0))
    .bind(i64::try_from(e.seq)?)
    .bind(i64::try_from(e.hlc.0)?)
    .bind(i64::from(e.event.0))
    .bind(payload)
    .execute(&mut **tx)
    .await?;
    // Entries of an origin arrive in order (the engine refuses gaps), so this entry is its head.
    sqlx::query(
        "INSERT INTO journal_heads (org_id, origin, seq) VALUES ($1, $2, $3) \
         ON CONFLICT (org_id, origin) DO UPDATE SET seq = excluded.seq WHERE excluded.seq > journal_heads.seq",
    )
    .bind(org)
    .bind(i64::from(e.origin.0))
    .bind(i64::try_from(e.seq)?)
    .execute(&mut **tx)
    .await?;
    materialize(tx, org, e).await
}

/// Relational views of journal entries, written with the entry (idempotent by origin, seq).
async fn materialize(tx: &mut Transaction<'static, Any>, org: i64, e: &Entry) -> Result<(), anyhow::Error> {
    match &e.payload {
        Payload::DoorSale(sale) => return crate::leases::materialize_door_sale(tx, org, e, sale).await,
        Payload::Void(void) => return crate::leases::materialize_void(tx, org, e, void).await,
        Payload::LeaseReturn(ret) => return crate::leases::materialize_return(tx, org, e, ret).await,
        Payload::Shift(shift) => return crate::leases::materialize_shift(tx, org, e, shift).await,
        _ => {}
    }
    if let Payload::Scan(scan) = &e.payload {
        sqlx::query(
            "INSERT INTO checkins (org_id, origin, seq, event_id, serial, ticket_type, direction, gate, verdict, at, hlc) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING",
        )
        .bind(org)
        .bind(i64::from(e.origin.0))
        .bind(i64::try_from(e.seq)?)
        .bind(i64::from(e.event.0))
        .bind(scan.ticket.map(|t| i64::from(t.serial.0)))
        .bind(scan.ticket.map(|t| i64::from(t.ticket_type.0)))
        .bind(match scan.direction {
            sync_core::manifest::Direction::Entry => "entry",
            sync_core::manifest::Direction::Exit => "exit",
        })
        .bind(i64::from(scan.gate.0))
        .bind(scan.verdict.code())
        .bind(scan.at.0)
        .bind(i64::try_from(e.hlc.0)?)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// The event a document belongs to (`guests/<event>`, `config/<event>`).
fn event_of(doc: &DocId) -> Option<i64> {
    doc.as_str().split_once('/').and_then(|(_, e)| e.parse::<i64>().ok())
}

/// How often saving a document chunk is retried when another writer took the same number.
const CHUNK_ATTEMPTS: usize = 5;

/// One organization's journal and documents, as the sync engine sees them.
pub struct OrgJournal {
    db: Db,
    org: i64,
    notifier: Notifier,
    docs: DocCache,
    /// The events whose documents this peer may read and write; `None`: all of them.
    scope: Option<Vec<i64>>,
}

impl OrgJournal {
    /// The journal of `org`.
    pub fn new(db: Db, org: i64, notifier: Notifier, docs: DocCache) -> Self {
        Self { db, org, notifier, docs, scope: None }
    }

    /// Limits documents to those of `events` (a device's events): a gate of one event neither
    /// receives another event's guest list nor writes into it.
    #[must_use]
    pub fn scoped_to(mut self, events: Vec<i64>) -> Self {
        self.scope = Some(events);
        self
    }

    fn in_scope(&self, doc: &DocId) -> bool {
        match (&self.scope, event_of(doc)) {
            (_, None) => false,
            (None, Some(_)) => true,
            (Some(events), Some(event)) => events.contains(&event),
        }
    }

    /// Reads the hub's copy of a document (an empty one if nobody wrote it yet).
    pub async fn read_doc<R>(&self, doc: &DocId, f: impl FnOnce(&AutoCommit) -> R) -> Result<R, StoreError> {
        self.with_docs(doc, |docs| docs.read(doc, f)).await
    }

    /// Edits the hub's copy of a document (an organizer's change), saves the change and wakes
    /// the devices' long-polls: they receive it through sync like any peer's change.
    pub async fn edit_doc<R>(
        &self,
        doc: &DocId,
        f: impl FnOnce(&mut AutoCommit) -> Result<R, AutomergeError>,
    ) -> Result<R, StoreError> {
        let (result, bytes) = self.with_docs(doc, |docs| docs.edit(doc, f)).await??;
        self.persist(doc, bytes).await?;
        self.notifier.notify(self.org);
        Ok(result)
    }

    async fn have_in(&self, tx: &mut Transaction<'static, Any>) -> Result<VersionVector, StoreError> {
        let rows = sqlx::query("SELECT origin, seq FROM journal_heads WHERE org_id = $1")
            .bind(self.org)
            .fetch_all(&mut **tx)
            .await
            .map_err(db_err)?;
        let mut have = VersionVector::new();
        for row in rows {
            let origin = u32::try_from(row.get::<i64, _>(0)).map_err(db_err)?;
            have.advance(DeviceId(origin), u64::try_from(row.get::<i64, _>(1)).map_err(db_err)?);
        }
        Ok(have)
    }

    /// Loads new chunks of `doc` (written by any instance) into the cache, then runs `f`.
    async fn with_docs<R>(&self, doc: &DocId, f: impl FnOnce(&mut Documents) -> R) -> Result<R, StoreError> {
        let last = self.cached(|o| o.last_chunk.get(doc).copied()).unwrap_or(-1);
        let mut tx = self.db.tenant(self.org).await.map_err(db_err)?;
        let rows = sqlx::query(
            "SELECT chunk, data FROM doc_chunks WHERE org_id = $1 AND doc = $2 AND chunk > $3 ORDER BY chunk",
        )
        .bind(self.org)
        .bind(doc.as_str())
        .bind(last)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        let mut orgs = self.docs.orgs.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let org = orgs.entry(self.org).or_insert_with(|| OrgDocs {
            docs: Documents::new(&self.docs.actor),
            last_chunk: HashMap::new(),
        });
        if !rows.is_empty() {
            let mut bytes = Vec::new();
            let mut newest = last;
            for row in rows {
                newest = row.get(0);
                bytes.extend_from_slice(&row.get::<Vec<u8>, _>(1));
            }
            org.docs.load_more(doc.clone(), &bytes)?;
            org.last_chunk.insert(doc.clone(), newest);
        }
        Ok(f(&mut org.docs))
    }

    fn cached<R>(&self, f: impl FnOnce(&OrgDocs) -> Option<R>) -> Option<R> {
        let orgs = self.docs.orgs.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        orgs.get(&self.org).and_then(f)
    }

    /// Saves the bytes of a change already applied to the cached document as the document's
    /// next chunk. Another writer (a hub instance beside this one, a request beside this one)
    /// may take the same number first: then the next free one is taken. If saving fails, the
    /// cached copy is dropped, so it is reloaded from what is saved: nothing is served that
    /// is not durable, and the peer that sent it sends it again in a later exchange.
    async fn persist(&self, doc: &DocId, bytes: Vec<u8>) -> Result<(), StoreError> {
        let mut result = Err(StoreError::Database("no attempt made".into()));
        for attempt in 0..CHUNK_ATTEMPTS {
            result = self.insert_chunk(doc, &bytes).await;
            if result.is_ok() || attempt + 1 == CHUNK_ATTEMPTS {
                break;
            }
            // Writers that collided take the next numbers one after another, not all at once.
            tokio::time::sleep(std::time::Duration::from_millis(5 << attempt)).await;
        }
        let mut orgs = self.docs.orgs.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(org) = orgs.get_mut(&self.org) else { return result.map(drop) };
        match result {
            Ok(chunk) => {
                // Only advance past chunks actually loaded; a gap (another writer's chunk in
                // between) is loaded by the next `with_docs`, with ours again (automerge
                // ignores changes it already holds).
                let last = org.last_chunk.get(doc).copied().unwrap_or(-1);
                if chunk == last + 1 {
                    org.last_chunk.insert(doc.clone(), chunk);
                }
                Ok(())
            }
            Err(e) => {
                org.docs.unload(doc);
                org.last_chunk.remove(doc);
                Err(e)
            }
        }
    }

    /// Inserts `bytes` as the document's next chunk number; returns the number.
    async fn insert_chunk(&self, doc: &DocId, bytes: &[u8]) -> Result<i64, StoreError> {
        let mut tx = self.db.tenant(self.org).await.map_err(db_err)?;
        let chunk: i64 = sqlx::query(
            "INSERT INTO doc_chunks (org_id, doc, chunk, data) \
             SELECT $1, $2, COALESCE(MAX(chunk), -1) + 1, $3 FROM doc_chunks WHERE org_id = $1 AND doc = $2 \
             RETURNING chunk",
        )
        .bind(self.org)
        .bind(doc.as_str())
        .bind(bytes)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?
        .get(0);
        tx.commit().await.map_err(db_err)?;
        Ok(chunk)
    }

    /// Whether `doc` names a document of one of this organization's events.
    async fn known_doc(&self, doc: &DocId) -> Result<bool, StoreError> {
        let Some(event) = event_of(doc).filter(|_| self.in_scope(doc)) else {
            return Ok(false);
        };
        let mut tx = self.db.tenant(self.org).await.map_err(db_err)?;
        let exists = sqlx::query("SELECT 1 FROM events WHERE id = $1 AND org_id = $2")
            .bind(event)
            .bind(self.org)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(exists.is_some())
    }
}

impl SyncStore for OrgJournal {
    fn origin(&self) -> DeviceId {
        HUB
    }

    fn now(&self) -> Timestamp {
        Timestamp::now()
    }

    async fn have(&self) -> Result<VersionVector, StoreError> {
        let mut tx = self.db.tenant(self.org).await.map_err(db_err)?;
        self.have_in(&mut tx).await
    }

    async fn entries_after(
        &self,
        origin: DeviceId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<Entry>, StoreError> {
        let mut tx = self.db.tenant(self.org).await.map_err(db_err)?;
        let rows = sqlx::query(
            "SELECT seq, hlc, event_id, payload FROM journal WHERE org_id = $1 AND origin = $2 AND seq > $3 ORDER BY seq LIMIT $4",
        )
        .bind(self.org)
        .bind(i64::from(origin.0))
        .bind(i64::try_from(after).map_err(db_err)?)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        rows.into_iter()
            .map(|row| {
                Ok(Entry {
                    origin,
                    seq: u64::try_from(row.get::<i64, _>(0)).map_err(db_err)?,
                    hlc: Hlc(u64::try_from(row.get::<i64, _>(1)).map_err(db_err)?),
                    event: EventId(u32::try_from(row.get::<i64, _>(2)).map_err(db_err)?),
                    payload: postcard::from_bytes(&row.get::<Vec<u8>, _>(3)).map_err(db_err)?,
                })
            })
            .collect()
    }

    async fn append(&self, entries: Vec<Entry>) -> Result<VersionVector, StoreError> {
        let mut tx = self.db.tenant(self.org).await.map_err(db_err)?;
        let mut have = self.have_in(&mut tx).await?;
        let fresh = check_incoming(HUB, &have, entries, Timestamp::now(), DEFAULT_MAX_DRIFT_MS).map_err(
            |e| match e {
                SyncError::Store(s) => s,
                other => StoreError::Invalid(other.to_string()),
            },
        )?;
        if fresh.is_empty() {
            return Ok(have);
        }
        // Entries must belong to this organization's events.
        for event in fresh.iter().map(|e| e.event).collect::<std::collections::BTreeSet<_>>() {
            let ours = sqlx::query("SELECT 1 FROM events WHERE id = $1 AND org_id = $2")
                .bind(i64::from(event.0))
                .bind(self.org)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?;
            if ours.is_none() {
                return Err(StoreError::Invalid(format!(
                    "event {event} is not an event of this organization"
                )));
            }
        }
        for entry in &fresh {
            insert(&mut tx, self.org, entry).await.map_err(db_err)?;
            have.advance(entry.origin, entry.seq);
        }
        tx.commit().await.map_err(db_err)?;
        self.notifier.notify(self.org);
        Ok(have)
    }

    async fn doc_ids(&self) -> Result<Vec<DocId>, StoreError> {
        let mut tx = self.db.tenant(self.org).await.map_err(db_err)?;
        let rows = sqlx::query("SELECT DISTINCT doc FROM doc_chunks WHERE org_id = $1")
            .bind(self.org)
            .fetch_all(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(rows
            .into_iter()
            .filter_map(|r| DocId::try_from(r.get::<String, _>(0)).ok())
            .filter(|doc| self.in_scope(doc))
            .collect())
    }

    fn doc_wanted(&self, doc: &DocId) -> bool {
        // The cheap, synchronous part: the shape. `doc_check` and `doc_receive` ask the
        // database whether the event is this organization's.
        doc.as_str().starts_with("guests/") || doc.as_str().starts_with("config/")
    }

    async fn doc_check(&self, doc: &DocId, message: &[u8]) -> Result<(), StoreError> {
        if !self.known_doc(doc).await? {
            return Ok(());
        }
        self.with_docs(doc, |docs| docs.check(doc, message)).await??;
        Ok(())
    }

    async fn doc_restart(&self, peer: DeviceId) -> Result<(), StoreError> {
        let mut orgs = self.docs.orgs.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(org) = orgs.get_mut(&self.org) {
            org.docs.restart_peer(peer);
        }
        Ok(())
    }

    async fn doc_generate(&self, peer: DeviceId, doc: &DocId) -> Result<Option<Vec<u8>>, StoreError> {
        self.with_docs(doc, |docs| docs.generate(peer, doc)).await
    }

    async fn doc_receive(&self, peer: DeviceId, doc: &DocId, message: &[u8]) -> Result<(), StoreError> {
        if !self.known_doc(doc).await? {
            return Ok(());
        }
        if let Some(bytes) = self.with_docs(doc, |docs| docs.receive(peer, doc, message)).await?? {
            self.persist(doc, bytes).await?;
            self.notifier.notify(self.org);
        }
        Ok(())
    }

    async fn peer_have(&self, peer: DeviceId) -> Result<Option<VersionVector>, StoreError> {
        let mut tx = self.db.tenant(self.org).await.map_err(db_err)?;
        let row = sqlx::query("SELECT have FROM peer_acks WHERE org_id = $1 AND peer = $2")
            .bind(self.org)
            .bind(i64::from(peer.0))
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        row.map(|r| postcard::from_bytes(&r.get::<Vec<u8>, _>(0)).map_err(db_err)).transpose()
    }

    async fn set_peer_have(&self, peer: DeviceId, have: &VersionVector) -> Result<(), StoreError> {
        let mut tx = self.db.tenant(self.org).await.map_err(db_err)?;
        sqlx::query(
            "INSERT INTO peer_acks (org_id, peer, have) VALUES ($1, $2, $3) \
             ON CONFLICT (org_id, peer) DO UPDATE SET have = excluded.have",
        )
        .bind(self.org)
        .bind(i64::from(peer.0))
        .bind(postcard::to_stdvec(have).map_err(db_err)?)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(())
    }

    fn changes(&self) -> watch::Receiver<u64> {
        self.notifier.subscribe(self.org)
    }
}

/// Decides when a device's status is worth a write. Every sync request used to write
/// `last_seen_at` — and one push wakes every live device of the event, each answering with a
/// request or two, so on SQLite (one writer) a push to 21 devices queued some 40 commits: the
/// fleet simulator measured ~200 ms from a scan to another device. Now a device's row is
/// written when its count of pending entries changes, or when it was last written more than
/// [`SEEN_EVERY`] ago; the console shows "last seen" in minutes.
#[derive(Clone, Default)]
pub struct SeenThrottle(Arc<Mutex<HashMap<(i64, DeviceId), LastWrite>>>);

/// When a device's status was last written, and its pending count then.
type LastWrite = (std::time::Instant, u64);

/// How stale a device's `last_seen_at` may get while it syncs without news.
pub const SEEN_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

impl SeenThrottle {
    /// Whether to write `device`'s status now (and, if so, remembers that it was).
    pub fn due(&self, org: i64, device: DeviceId, pending: u64) -> bool {
        let mut last = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = std::time::Instant::now();
        match last.get(&(org, device)) {
            Some(&(at, was)) if was == pending && now.duration_since(at) < SEEN_EVERY => false,
            _ => {
                last.insert((org, device), (now, pending));
                true
            }
        }
    }

    /// Forgets `device`'s last write (it failed: the next request writes again).
    pub fn forget(&self, org: i64, device: DeviceId) {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&(org, device));
    }
}

/// Records that `device` was seen now with `pending` of its own entries not yet on the hub.
pub async fn device_seen(db: &Db, org: i64, device: DeviceId, pending: u64) -> Result<(), anyhow::Error> {
    let mut tx = db.tenant(org).await?;
    sqlx::query("UPDATE devices SET last_seen_at = $1, pending_entries = $2 WHERE id = $3 AND org_id = $4")
        .bind(now_ms())
        .bind(i64::try_from(pending)?)
        .bind(i64::from(device.0))
        .bind(org)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_status_is_written_when_it_changes_or_grows_stale_not_on_every_request() {
        let seen = SeenThrottle::default();
        let (org, gate) = (1, DeviceId(7));
        assert!(seen.due(org, gate, 0), "the first request writes");
        assert!(!seen.due(org, gate, 0), "a second one within 5 s with nothing new does not");
        assert!(seen.due(org, gate, 3), "a change of the pending count does");
        assert!(seen.due(2, gate, 3), "another organization's device is its own");
        seen.forget(org, gate);
        assert!(seen.due(org, gate, 3), "after a failed write the next request writes again");
    }
}
