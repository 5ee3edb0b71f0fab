//! What the simulator's tests share: the binary that runs hubs, the PostgreSQL server, and
//! the assertion that a run kept every promise.
#![allow(dead_code, unreachable_pub)]

use sim::report::Summary;
use std::path::PathBuf;

/// The simulator binary (it is also the hub: `voelgoed-sim hub serve`).
pub fn exe() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_voelgoed-sim"))
}

/// The local PostgreSQL server's admin URL (or `VOELGOED_TEST_POSTGRES`).
pub fn postgres() -> String {
    std::env::var("VOELGOED_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// Every check held; else the failures and the whole summary.
pub fn assert_passed(summary: &Summary) {
    assert!(summary.passed(), "{}\n{}", summary.failures(), serde_json::to_string_pretty(summary).unwrap());
}
