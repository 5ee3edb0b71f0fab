//! Sync: how replicas (devices, peers on the venue LAN, the hub) converge.
//!
//! Sans-IO at the core: [`message`] defines the versioned, length-capped wire messages;
//! [`engine`] decides what to send and what to store, over any [`store::SyncStore`] and any
//! [`engine::Transport`]. Transports only move bytes: [`memory`] calls a peer in-process (tests,
//! benchmarks), and the HTTP client and peer server (feature `http`) carry the same messages
//! over the network, signed with the device key.

pub mod auth;
pub mod engine;
#[cfg(feature = "http")]
pub mod http;
pub mod live;
pub mod memory;
pub mod message;
pub mod store;

pub use engine::{SyncError, SyncReport, Transport, TransportError, respond, respond_or_wait, sync_with};
pub use message::{DocMessage, Framed, SyncRequest, SyncResponse};
pub use store::{StoreError, SyncStore};
