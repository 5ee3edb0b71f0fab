//! The queries of console sessions and API tokens. Both are looked up by the SHA-256 of the
//! secret the caller holds; the secret itself is never stored.

use crate::db::Tenant;
use crate::tenancy::Role;
use sqlx::AnyConnection;

/// A valid API token's owner, organization and role there.
#[derive(sqlx::FromRow)]
pub struct TokenHolder {
    /// The token's id (its quota is counted per token).
    pub id: i64,
    /// The person.
    pub user_id: i64,
    /// The organization.
    pub org_id: i64,
    /// Their role there.
    #[sqlx(try_from = "String")]
    pub role: Role,
}

/// A session, with the person's role in its organization.
#[derive(sqlx::FromRow)]
pub struct Session {
    /// The person.
    pub user_id: i64,
    /// The organization it acts for.
    pub org_id: i64,
    /// Their role there.
    #[sqlx(try_from = "String")]
    pub role: Role,
    /// Its CSRF token.
    pub csrf_token: String,
    /// When it began (Unix ms).
    pub created_at: i64,
    /// When it was last used (at a minute's grain).
    pub last_seen_at: i64,
}

/// The holder of the token with this hash, unless it was revoked or they left.
pub async fn token(conn: &mut AnyConnection, hash: &str) -> Result<Option<TokenHolder>, sqlx::Error> {
    sqlx::query_as(
        "SELECT t.id, t.user_id, t.org_id, m.role FROM api_tokens t \
         JOIN memberships m ON m.org_id = t.org_id AND m.user_id = t.user_id \
         WHERE t.token_hash = $1 AND t.revoked_at IS NULL",
    )
    .bind(hash)
    .fetch_optional(conn)
    .await
}

/// The session with this hash, while its person is still a member.
pub async fn session(conn: &mut AnyConnection, hash: &str) -> Result<Option<Session>, sqlx::Error> {
    sqlx::query_as(
        "SELECT s.user_id, s.org_id, m.role, s.csrf_token, s.created_at, s.last_seen_at FROM sessions s \
         JOIN memberships m ON m.org_id = s.org_id AND m.user_id = s.user_id WHERE s.token_hash = $1",
    )
    .bind(hash)
    .fetch_optional(conn)
    .await
}

/// A new session.
pub async fn insert_session(
    conn: &mut AnyConnection,
    hash: &str,
    user: i64,
    org: i64,
    csrf: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, org_id, csrf_token, created_at, last_seen_at) VALUES ($1, $2, $3, $4, $5, $5)",
    )
    .bind(hash)
    .bind(user)
    .bind(org)
    .bind(csrf)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Ends the session with this hash.
pub async fn end_session(conn: &mut AnyConnection, hash: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(hash).execute(conn).await?;
    Ok(())
}

/// Marks the session used now.
pub async fn touch_session(conn: &mut AnyConnection, hash: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
        .bind(now)
        .bind(hash)
        .execute(conn)
        .await?;
    Ok(())
}

/// Moves the session to another organization.
pub async fn switch_session(conn: &mut AnyConnection, hash: &str, org: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sessions SET org_id = $1 WHERE token_hash = $2")
        .bind(org)
        .bind(hash)
        .execute(conn)
        .await?;
    Ok(())
}

/// Deletes sessions idle since `idle_before` or begun before `begun_before`; how many went.
pub async fn end_expired_sessions(
    conn: &mut AnyConnection,
    idle_before: i64,
    begun_before: i64,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM sessions WHERE last_seen_at < $1 OR created_at < $2")
        .bind(idle_before)
        .bind(begun_before)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

/// A new API token of `user`, stored by its hash; its id.
pub async fn insert_token(tx: &mut Tenant, user: i64, name: &str, hash: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO api_tokens (org_id, user_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(tx.org())
    .bind(user)
    .bind(name)
    .bind(hash)
    .bind(tx.now())
    .fetch_one(&mut **tx)
    .await
}

/// Revokes a token; `false` if there is no such (unrevoked) token.
pub async fn revoke_token(tx: &mut Tenant, id: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND org_id = $3 AND revoked_at IS NULL",
    )
    .bind(tx.now())
    .bind(id)
    .bind(tx.org())
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A device's organization and public key, and when it was revoked.
#[derive(sqlx::FromRow)]
pub struct DeviceKey {
    /// Its organization.
    pub org_id: i64,
    /// Its Ed25519 public key.
    pub public_key: Vec<u8>,
    /// When the organizer revoked it.
    pub revoked_at: Option<i64>,
}

/// Device `id`'s key. A lookup across organizations.
pub async fn device_key(conn: &mut AnyConnection, id: i64) -> Result<Option<DeviceKey>, sqlx::Error> {
    sqlx::query_as("SELECT org_id, public_key, revoked_at FROM devices WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// Remembers a device request's nonce; `false` if it was remembered before (a replay).
pub async fn remember_nonce(
    conn: &mut AnyConnection,
    device: i64,
    nonce: &str,
    at: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO request_nonces (device_id, nonce, at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    )
    .bind(device)
    .bind(nonce)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Forgets the nonces of requests dated before `before`.
pub async fn forget_nonces(conn: &mut AnyConnection, before: i64) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM request_nonces WHERE at < $1")
        .bind(before)
        .execute(conn)
        .await?
        .rows_affected())
}
