//! Each organization's automerge documents (guest lists, configuration): chunks in
//! `doc_chunks`, kept loaded per hub instance with the per-device automerge sync states, and
//! reloaded from what another instance wrote.

use super::{OrgJournal, db_err, store};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use sync_core::documents::{AutoCommit, AutomergeError, DocId, Documents};
use sync_core::sync::store::StoreError;

/// Loaded documents of every organization, with their per-device sync states.
#[derive(Clone)]
pub struct DocCache {
    pub(super) orgs: Arc<Mutex<HashMap<i64, OrgDocs>>>,
    /// The automerge actor this hub instance edits as (organizers' guest-list edits). Unique
    /// per process: two instances editing as one actor would both write "change 1 of actor X"
    /// with different contents, and automerge would refuse the second everywhere.
    actor: Arc<[u8]>,
}

impl Default for DocCache {
    fn default() -> Self {
        let mut random = [0u8; 8];
        // If the random source fails, std's per-process hash keys (seeded from the operating
        // system once per process) still make the actor distinct per process.
        if getrandom::fill(&mut random).is_err() {
            use std::hash::{BuildHasher, Hasher};
            let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
            hasher.write_u32(std::process::id());
            random = hasher.finish().to_le_bytes();
        }
        let actor = format!("voelgoed-hub-{}", hex::encode(random));
        Self { orgs: Arc::default(), actor: actor.into_bytes().into() }
    }
}

pub(super) struct OrgDocs {
    pub(super) docs: Documents,
    last_chunk: HashMap<DocId, i64>,
}

/// The event a document belongs to (`guests/<event>`, `config/<event>`).
pub(super) fn event_of(doc: &DocId) -> Option<i64> {
    doc.as_str().split_once('/').and_then(|(_, e)| e.parse::<i64>().ok())
}

/// How often saving a document chunk is retried when another writer took the same number.
const CHUNK_ATTEMPTS: usize = 5;

impl DocCache {
    /// `org`'s documents in `orgs` (the locked map), created empty if none was loaded yet.
    fn org<'a>(&self, orgs: &'a mut HashMap<i64, OrgDocs>, org: i64) -> &'a mut OrgDocs {
        orgs.entry(org)
            .or_insert_with(|| OrgDocs { docs: Documents::new(&self.actor), last_chunk: HashMap::new() })
    }
}

impl OrgJournal {
    /// Reads the hub's copy of a document (an empty one if nobody wrote it yet).
    pub async fn read_doc<R>(&self, doc: &DocId, f: impl FnOnce(&AutoCommit) -> R) -> Result<R, StoreError> {
        self.with_docs(doc, |docs| docs.read(doc, f)).await
    }

    /// Edits the hub's copy of a document (an organizer's change) and saves the change, which
    /// wakes the devices' long-polls: they receive it through sync like any peer's change.
    pub async fn edit_doc<R>(
        &self,
        doc: &DocId,
        f: impl FnOnce(&mut AutoCommit) -> Result<R, AutomergeError>,
    ) -> Result<R, StoreError> {
        let (result, bytes) = self.with_docs(doc, |docs| docs.edit(doc, f)).await??;
        self.persist(doc, bytes).await?;
        Ok(result)
    }

    /// Loads new chunks of `doc` (written by any instance) into the cache, then runs `f`.
    /// Once the document is loaded, the check for new chunks is shared by the requests at the
    /// same change count (see [`super::JournalReads`]).
    pub(super) async fn with_docs<R>(
        &self,
        doc: &DocId,
        f: impl FnOnce(&mut Documents) -> R,
    ) -> Result<R, StoreError> {
        let mut loaded = self.cached(|o| o.last_chunk.get(doc).copied()).is_some();
        loop {
            match &self.reads {
                Some(reads) if loaded => {
                    let key = (self.org, doc.clone());
                    reads.chunks.get(&key, self.wanted(), || self.load_chunks(doc)).await?;
                }
                _ => self.load_chunks(doc).await?,
            }
            let mut orgs = self.docs.orgs.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let org = self.docs.org(&mut orgs, self.org);
            if org.last_chunk.contains_key(doc) {
                return Ok(f(&mut org.docs));
            }
            // Unloaded meanwhile (a chunk failed to save): load it whole before `f` sees it.
            loaded = false;
        }
    }

    /// Reads the chunks of `doc` after the last one loaded and loads them (a document without
    /// chunks counts as loaded, at none). A document unloaded while the read ran is left
    /// unloaded: these chunks alone would be a document without its beginning, and
    /// [`Self::with_docs`] loads it whole.
    async fn load_chunks(&self, doc: &DocId) -> Result<(), StoreError> {
        let last = self.cached(|o| o.last_chunk.get(doc).copied()).unwrap_or(-1);
        let mut tx = self.db.tenant_read(self.org).await.map_err(db_err)?;
        let rows = store::chunks_after(&mut tx, doc.as_str(), last).await.map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        let mut orgs = self.docs.orgs.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let org = self.docs.org(&mut orgs, self.org);
        if last >= 0 && !org.last_chunk.contains_key(doc) {
            return Ok(());
        }
        let mut newest = last;
        if !rows.is_empty() {
            let mut bytes = Vec::new();
            for row in rows {
                newest = row.chunk;
                bytes.extend_from_slice(&row.data);
            }
            org.docs.load_more(doc.clone(), &bytes)?;
        }
        // Two loads may overlap (automerge ignores the changes it already holds): the one
        // that read further wins.
        let at = org.last_chunk.entry(doc.clone()).or_insert(newest);
        *at = (*at).max(newest);
        Ok(())
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
    pub(super) async fn persist(&self, doc: &DocId, bytes: Vec<u8>) -> Result<(), StoreError> {
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
        let chunk = store::insert_chunk(&mut tx, doc.as_str(), bytes).await.map_err(db_err)?;
        tx.journal_changed().await.map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(chunk)
    }

    /// Whether `doc` names a document of one of this organization's events.
    pub(super) async fn known_doc(&self, doc: &DocId) -> Result<bool, StoreError> {
        let Some(event) = event_of(doc).filter(|_| self.in_scope(doc)) else {
            return Ok(false);
        };
        let mut tx = self.db.tenant_read(self.org).await.map_err(db_err)?;
        let exists = store::has_event(&mut tx, event).await.map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(exists)
    }
}
