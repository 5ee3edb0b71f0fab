//! What a buyer pays: sync-core's pricing (`sync_core::pricing`), shared with the box office so
//! the door and the shop price alike. Re-exported here where the hub's layers find it.

pub use sync_core::pricing::*;
