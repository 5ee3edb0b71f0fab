//! The wire messages of the sync protocol, version 1, and their strict decoding.
//!
//! A message is `VGSYNC` + protocol version (u16 big-endian) + a postcard-encoded body. The
//! length is capped before anything is decoded, the magic and version are checked before the
//! body, and the body's lists are capped after; so a peer sending garbage, a huge message or a
//! message of a future version gets a typed error and nothing is stored.

use crate::documents::DocId;
use crate::journal::{Entry, VersionVector};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The protocol version this build speaks.
pub const PROTOCOL_VERSION: u16 = 1;
/// Every message starts with these bytes.
pub const MAGIC: &[u8; 6] = b"VGSYNC";
/// The largest message accepted, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 16 << 20;
/// The most entries one message may carry (senders batch below this).
pub const MAX_ENTRIES_PER_MESSAGE: usize = 5_000;
/// The most document messages one message may carry.
pub const MAX_DOCS_PER_MESSAGE: usize = 256;

/// A replica asks its peer (the hub, or another device) to sync.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncRequest {
    /// First request of a new exchange (the peer restarts its document sync states).
    pub restart: bool,
    /// What the requester holds.
    pub have: VersionVector,
    /// Entries the requester believes the peer lacks.
    pub entries: Vec<Entry>,
    /// For each origin's run of `entries`, the entry just before it (see [`Parent`]).
    pub parents: Vec<Parent>,
    /// The requester's latest own entry: a peer holding another entry at that place knows the
    /// requester's history was reset, even when no entries are sent.
    pub tip: Option<Parent>,
    /// Automerge sync messages, one per document.
    pub docs: Vec<DocMessage>,
    /// If the peer has nothing new, it may hold the request this long waiting for news
    /// (long-poll push). 0: answer at once.
    pub wait_ms: u32,
}

/// The peer's answer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncResponse {
    /// What the peer holds after durably storing the request's entries: the acknowledgement.
    pub have: VersionVector,
    /// Entries the requester lacks (per its `have`), in per-origin order, at most one batch.
    pub entries: Vec<Entry>,
    /// For each origin's run of `entries`, the entry just before it (see [`Parent`]).
    pub parents: Vec<Parent>,
    /// More entries are waiting beyond this batch.
    pub more: bool,
    /// Automerge sync messages, one per document.
    pub docs: Vec<DocMessage>,
}

/// The entry a run of entries continues: a receiver that holds `(origin, seq)` with another
/// digest holds a different history of that origin (a device whose data was reset and reused
/// its id, a hub restored from an old backup) and must not append to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parent {
    /// The origin.
    pub origin: crate::ids::DeviceId,
    /// The sequence number just before the run.
    pub seq: u64,
    /// [`Entry::digest`] of that entry.
    pub digest: [u8; 16],
}

/// One automerge sync message about one document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocMessage {
    /// The document.
    pub doc: DocId,
    /// The encoded automerge sync message.
    pub message: Vec<u8>,
}

/// Why a message was refused.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum MessageError {
    /// Over [`MAX_MESSAGE_BYTES`]; nothing was decoded.
    #[error("message of {len} bytes refused: at most {MAX_MESSAGE_BYTES} bytes")]
    TooLarge {
        /// Its length.
        len: usize,
    },
    /// Not a Voelgoed sync message.
    #[error("not a Voelgoed sync message")]
    BadMagic,
    /// A protocol version this build does not speak.
    #[error("sync protocol version {0} is not supported (this device speaks version {PROTOCOL_VERSION})")]
    UnsupportedVersion(u16),
    /// The body does not decode.
    #[error("malformed sync message: {0}")]
    Malformed(String),
    /// Too many entries or documents in one message.
    #[error(
        "sync message carries {entries} entries and {docs} documents (at most {MAX_ENTRIES_PER_MESSAGE} and {MAX_DOCS_PER_MESSAGE})"
    )]
    TooMany {
        /// Entries carried.
        entries: usize,
        /// Document messages carried.
        docs: usize,
    },
}

/// A message body that can be framed.
pub trait Framed: Serialize + for<'de> Deserialize<'de> {
    /// Entries and documents carried, for the caps.
    fn counts(&self) -> (usize, usize);

    /// The framed bytes.
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&PROTOCOL_VERSION.to_be_bytes());
        // Serialising plain data into a Vec cannot fail.
        postcard::to_extend(self, out).unwrap_or_default()
    }

    /// Decodes framed bytes, refusing anything oversized, foreign, of another version,
    /// malformed or over the caps.
    fn decode(bytes: &[u8]) -> Result<Self, MessageError> {
        if bytes.len() > MAX_MESSAGE_BYTES {
            return Err(MessageError::TooLarge { len: bytes.len() });
        }
        let rest = bytes.strip_prefix(MAGIC.as_slice()).ok_or(MessageError::BadMagic)?;
        let (version, body) = rest.split_first_chunk::<2>().ok_or(MessageError::BadMagic)?;
        let version = u16::from_be_bytes(*version);
        if version != PROTOCOL_VERSION {
            return Err(MessageError::UnsupportedVersion(version));
        }
        let (message, trailing): (Self, _) =
            postcard::take_from_bytes(body).map_err(|e| MessageError::Malformed(e.to_string()))?;
        if !trailing.is_empty() {
            return Err(MessageError::Malformed(format!("{} bytes after the message", trailing.len())));
        }
        let (entries, docs) = message.counts();
        if entries > MAX_ENTRIES_PER_MESSAGE || docs > MAX_DOCS_PER_MESSAGE {
            return Err(MessageError::TooMany { entries, docs });
        }
        Ok(message)
    }
}

impl Framed for SyncRequest {
    fn counts(&self) -> (usize, usize) {
        (self.entries.len(), self.docs.len())
    }
}

impl Framed for SyncResponse {
    fn counts(&self) -> (usize, usize) {
        (self.entries.len(), self.docs.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hlc::Hlc;
    use crate::ids::{DeviceId, EventId, GateId, Timestamp};
    use crate::journal::{Payload, ScanEntry};
    use crate::manifest::Direction;
    use crate::verdict::VerdictKind;

    fn request() -> SyncRequest {
        let mut have = VersionVector::new();
        have.advance(DeviceId(3), 7);
        SyncRequest {
            restart: true,
            have,
            entries: vec![Entry {
                origin: DeviceId(3),
                seq: 8,
                hlc: Hlc(99),
                event: EventId(1),
                payload: Payload::Scan(ScanEntry {
                    gate: GateId(1),
                    direction: Direction::Entry,
                    at: Timestamp(5),
                    verdict: VerdictKind::Malformed,
                    ticket: None,
                }),
            }],
            parents: vec![],
            tip: None,
            docs: vec![DocMessage { doc: DocId::guest_list(EventId(1)), message: vec![1, 2, 3] }],
            wait_ms: 0,
        }
    }

    proptest::proptest! {
        /// The stable-toolchain companion of the `sync_message` fuzz target: arbitrary bytes
        /// behind a valid header never panic the decoder, and what decodes re-encodes.
        #[test]
        fn arbitrary_bodies_never_panic(body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2000)) {
            let mut bytes = b"VGSYNC\x00\x01".to_vec();
            bytes.extend_from_slice(&body);
            if let Ok(r) = SyncRequest::decode(&bytes) {
                proptest::prop_assert_eq!(SyncRequest::decode(&r.encode()).unwrap(), r);
            }
            if let Ok(r) = SyncResponse::decode(&bytes) {
                proptest::prop_assert_eq!(SyncResponse::decode(&r.encode()).unwrap(), r);
            }
        }
    }

    #[test]
    fn round_trips() {
        let r = request();
        assert_eq!(SyncRequest::decode(&r.encode()).unwrap(), r);
    }

    #[test]
    fn bad_messages_get_typed_errors() {
        let good = request().encode();
        assert_eq!(SyncRequest::decode(b"HTTP/1.1 200 OK"), Err(MessageError::BadMagic));
        let mut future = good.clone();
        future[7] = 2;
        assert_eq!(SyncRequest::decode(&future), Err(MessageError::UnsupportedVersion(2)));
        assert!(matches!(SyncRequest::decode(&good[..good.len() - 3]), Err(MessageError::Malformed(_))));
        let mut trailing = good.clone();
        trailing.push(0);
        assert!(matches!(SyncRequest::decode(&trailing), Err(MessageError::Malformed(_))));
        let huge = vec![0u8; MAX_MESSAGE_BYTES + 1];
        assert_eq!(SyncRequest::decode(&huge), Err(MessageError::TooLarge { len: MAX_MESSAGE_BYTES + 1 }));
        // A document id of the wrong shape inside an otherwise valid message.
        let mut bytes = request().encode();
        let at = bytes.windows(8).position(|w| w == b"guests/1").unwrap();
        bytes[at..at + 8].copy_from_slice(b"GUESTS/1");
        assert!(matches!(SyncRequest::decode(&bytes), Err(MessageError::Malformed(_))));
    }
}
