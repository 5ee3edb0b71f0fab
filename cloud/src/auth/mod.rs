//! Who is calling: console sessions (a cookie) and API tokens (a bearer header), each tied to
//! one organization and a role.
//!
//! - Sessions: a random 256-bit token in an `HttpOnly; SameSite=Lax` cookie, a fresh one at
//!   every login (no fixation); only its SHA-256 is stored. Idle timeout 2 h, absolute 12 h.
//!   State-changing requests with a session must carry the session's CSRF token in
//!   `X-CSRF-Token` (double submit, compared in constant time).
//! - API tokens: random, shown once, stored hashed; no CSRF (not sent by browsers by themselves).
//! - Login is rate limited per e-mail and per client address, and each API token has a request
//!   quota (429 with Retry-After) — limits shared by every hub instance ([`crate::limits`]).

pub mod device;
mod extract;
mod routes;
pub mod store;

pub use device::{DeviceCaller, Nonces};
pub use extract::{Caller, Via};
pub use routes::routes;

use sha2::{Digest, Sha256};

/// Session idle timeout.
pub const IDLE_TIMEOUT_MS: i64 = 2 * 3_600_000;
/// Session absolute lifetime.
pub const ABSOLUTE_TIMEOUT_MS: i64 = 12 * 3_600_000;
/// The session cookie's name.
pub const SESSION_COOKIE: &str = "voelgoed_session";
/// The CSRF header's name.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// A fresh random token (256 bits, hex).
pub fn random_token() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("system random source: {e}"))?;
    Ok(hex::encode(bytes))
}

/// What is stored for a token: its SHA-256, hex.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Deletes the sessions past their idle or absolute timeout (a request with one is refused
/// anyway; this keeps the table from growing). Returns how many went.
pub async fn end_expired_sessions(db: &crate::db::Db) -> Result<u64, crate::db::DbError> {
    let mut system = db.system().await?;
    let now = system.now();
    let gone =
        store::end_expired_sessions(&mut system, now - IDLE_TIMEOUT_MS, now - ABSOLUTE_TIMEOUT_MS).await?;
    system.commit().await?;
    Ok(gone)
}

pub use crate::codes::constant_time_eq;
