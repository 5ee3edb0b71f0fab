//! Documents: state that people edit concurrently — guest lists checked off at the door while
//! the organizer adds names, event settings overridden at the door — kept as automerge
//! documents and synced with automerge's own sync protocol inside the sync session.
//!
//! Journals carry the facts that only grow (scans, sales); documents carry what people edit.
//! Records are keyed by a unique id per fact (a guest id, a check-in id) rather than letting two
//! writers race on one field: automerge resolves a race on one key by operation id, not time,
//! so "one key per fact" is what makes both edits survive.
//!
//! [`Documents`] holds the loaded documents and the per-peer sync states; the replica persists
//! what it returns (incremental saves) so a document is never rewritten whole on each edit.

mod event_config;
mod guest_list;

/// automerge's document and error types, for callers that read and edit documents.
pub use automerge::{AutoCommit, AutomergeError};
pub use event_config::EventConfig;
pub use guest_list::{Guest, GuestList};

use crate::ids::{DeviceId, EventId};
use automerge::ActorId;
use automerge::sync::{self, SyncDoc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use thiserror::Error;

/// A document's name: `guests/<event>` or `config/<event>`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DocId(String);

/// The longest document id accepted from a peer.
pub const MAX_DOC_ID_LEN: usize = 64;

impl DocId {
    /// The guest list of an event.
    pub fn guest_list(event: EventId) -> Self {
        Self(format!("guests/{event}"))
    }

    /// The door-side settings of an event.
    pub fn event_config(event: EventId) -> Self {
        Self(format!("config/{event}"))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for DocId {
    type Error = DocError;
    fn try_from(s: String) -> Result<Self, DocError> {
        let valid = !s.is_empty()
            && s.len() <= MAX_DOC_ID_LEN
            && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"/_-".contains(&b));
        if valid { Ok(Self(s)) } else { Err(DocError::InvalidId) }
    }
}

impl From<DocId> for String {
    fn from(id: DocId) -> Self {
        id.0
    }
}

impl fmt::Display for DocId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a document operation failed.
#[derive(Debug, Error)]
pub enum DocError {
    /// A document id that is not of the documented shape.
    #[error("invalid document id (at most {MAX_DOC_ID_LEN} characters of a-z, 0-9, '/', '_', '-')")]
    InvalidId,
    /// Stored or received bytes automerge could not read, or an edit it refused.
    #[error("document {doc}: {source}")]
    Automerge {
        /// The document.
        doc: DocId,
        /// automerge's error (boxed: it is large, and errors travel far).
        source: Box<AutomergeError>,
    },
    /// A sync message that is not one.
    #[error("document {doc}: not an automerge sync message")]
    BadSyncMessage {
        /// The document.
        doc: DocId,
    },
}

/// The loaded documents of one replica and its sync state with each peer.
pub struct Documents {
    actor: ActorId,
    docs: BTreeMap<DocId, AutoCommit>,
    peers: HashMap<(DeviceId, DocId), sync::State>,
}

impl Documents {
    /// No documents yet; local edits are made as `actor` (unique per replica).
    pub fn new(actor: &[u8]) -> Self {
        Self { actor: ActorId::from(actor), docs: BTreeMap::new(), peers: HashMap::new() }
    }

    /// Loads a document from its saved chunks (a full save followed by incremental saves).
    pub fn load(&mut self, id: DocId, chunks: &[u8]) -> Result<(), DocError> {
        let mut doc = AutoCommit::load(chunks)
            .map_err(|source| DocError::Automerge { doc: id.clone(), source: Box::new(source) })?;
        doc.set_actor(self.actor.clone());
        // Move the save cursor past what is already on disk, so the next incremental save
        // holds only new changes.
        doc.save_incremental();
        self.docs.insert(id, doc);
        Ok(())
    }

    /// Adds saved chunks another writer appended (a hub instance beside this one) to a loaded
    /// document, or loads it if absent.
    pub fn load_more(&mut self, id: DocId, chunks: &[u8]) -> Result<(), DocError> {
        let Some(doc) = self.docs.get_mut(&id) else { return self.load(id, chunks) };
        doc.load_incremental(chunks)
            .map_err(|source| DocError::Automerge { doc: id.clone(), source: Box::new(source) })?;
        doc.save_incremental();
        Ok(())
    }

    /// Forgets a document's in-memory state (its saved chunks are the truth again).
    pub fn unload(&mut self, id: &DocId) {
        self.docs.remove(id);
    }

    /// A document's heads (sorted): equal heads mean equal documents.
    pub fn heads(&mut self, id: &DocId) -> Vec<automerge::ChangeHash> {
        let mut heads = self.docs.get_mut(id).map(AutoCommit::get_heads).unwrap_or_default();
        heads.sort();
        heads
    }

    /// The ids of every document held.
    pub fn ids(&self) -> impl Iterator<Item = &DocId> {
        self.docs.keys()
    }

    /// A document, if held.
    pub fn get(&self, id: &DocId) -> Option<&AutoCommit> {
        self.docs.get(id)
    }

    /// Reads a document (an empty one if it does not exist yet).
    pub fn read<R>(&self, id: &DocId, f: impl FnOnce(&AutoCommit) -> R) -> R {
        match self.docs.get(id) {
            Some(doc) => f(doc),
            None => f(&AutoCommit::new()),
        }
    }

    /// Edits a document (creating it if new) and returns the edit's result and the bytes to
    /// persist (an incremental save).
    pub fn edit<R>(
        &mut self,
        id: &DocId,
        f: impl FnOnce(&mut AutoCommit) -> Result<R, AutomergeError>,
    ) -> Result<(R, Vec<u8>), DocError> {
        let doc = doc_mut(&mut self.docs, &self.actor, id);
        let result =
            f(doc).map_err(|source| DocError::Automerge { doc: id.clone(), source: Box::new(source) })?;
        Ok((result, doc.save_incremental()))
    }

    /// The next sync message for `peer` about `id`, if there is something to say.
    pub fn generate(&mut self, peer: DeviceId, id: &DocId) -> Option<Vec<u8>> {
        let state = self.peers.entry((peer, id.clone())).or_default();
        let doc = doc_mut(&mut self.docs, &self.actor, id);
        doc.sync().generate_sync_message(state).map(sync::Message::encode)
    }

    /// Checks, changing nothing, that `message` decodes and the changes it carries load.
    pub fn check(&mut self, id: &DocId, message: &[u8]) -> Result<(), DocError> {
        let bad = || DocError::BadSyncMessage { doc: id.clone() };
        let decoded = sync::Message::decode(message).map_err(|_| bad())?;
        if decoded.changes.is_empty() {
            return Ok(());
        }
        let mut fork = self.docs.get_mut(id).map_or_else(AutoCommit::new, AutoCommit::fork);
        for chunk in decoded.changes.iter() {
            fork.load_incremental(chunk)
                .map_err(|source| DocError::Automerge { doc: id.clone(), source: Box::new(source) })?;
        }
        Ok(())
    }

    /// Applies `peer`'s sync message about `id`; returns the bytes to persist if the document
    /// changed. A message that does not decode or apply changes nothing.
    pub fn receive(
        &mut self,
        peer: DeviceId,
        id: &DocId,
        message: &[u8],
    ) -> Result<Option<Vec<u8>>, DocError> {
        let message =
            sync::Message::decode(message).map_err(|_| DocError::BadSyncMessage { doc: id.clone() })?;
        let state = self.peers.entry((peer, id.clone())).or_default();
        let doc = doc_mut(&mut self.docs, &self.actor, id);
        let before = doc.get_heads();
        doc.sync()
            .receive_sync_message(state, message)
            .map_err(|source| DocError::Automerge { doc: id.clone(), source: Box::new(source) })?;
        Ok((doc.get_heads() != before).then(|| doc.save_incremental()))
    }

    /// Begins a new exchange with `peer`: automerge's bookkeeping of messages in flight from
    /// an earlier exchange — whose last message may have been lost — is dropped; the heads both
    /// sides are known to share are kept.
    pub fn restart_peer(&mut self, peer: DeviceId) {
        for ((p, _), state) in &mut self.peers {
            if *p == peer {
                *state = sync::State::decode(&state.encode()).unwrap_or_default();
            }
        }
    }
}

/// The document `id`, created empty (edited as `actor`) if absent.
fn doc_mut<'a>(docs: &'a mut BTreeMap<DocId, AutoCommit>, actor: &ActorId, id: &DocId) -> &'a mut AutoCommit {
    docs.entry(id.clone()).or_insert_with(|| AutoCommit::new().with_actor(actor.clone()))
}
