//! The outbox's queries.

use crate::db::Tenant;
use sqlx::AnyConnection;

/// A claimed message, ready to send.
#[derive(sqlx::FromRow)]
pub struct Claimed {
    /// To whom.
    pub recipient: String,
    /// Its subject.
    pub subject: String,
    /// Its text.
    pub body: String,
}

/// Queues a message in the transaction's organization; its id.
pub async fn enqueue(tx: &mut Tenant, to: &str, subject: &str, body: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO outbox (org_id, recipient, subject, body, created_at, attempts) VALUES ($1, $2, $3, $4, $5, 0) RETURNING id",
    )
    .bind(tx.org())
    .bind(to)
    .bind(subject)
    .bind(body)
    .bind(tx.now())
    .fetch_one(&mut **tx)
    .await
}

/// Up to 100 messages due (unsent, not given up on, not claimed since `claimed_before`).
pub async fn due(
    conn: &mut AnyConnection,
    max_attempts: i64,
    claimed_before: i64,
) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM outbox WHERE sent_at IS NULL AND attempts < $1 AND (claimed_at IS NULL OR claimed_at < $2) ORDER BY id LIMIT 100",
    )
    .bind(max_attempts)
    .bind(claimed_before)
    .fetch_all(conn)
    .await
}

/// Claims message `id` at `now` if nobody holds it: only one instance sends it.
pub async fn claim(
    conn: &mut AnyConnection,
    id: i64,
    now: i64,
    claimed_before: i64,
) -> Result<Option<Claimed>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE outbox SET claimed_at = $1, attempts = attempts + 1 WHERE id = $2 AND sent_at IS NULL \
         AND (claimed_at IS NULL OR claimed_at < $3) RETURNING recipient, subject, body",
    )
    .bind(now)
    .bind(id)
    .bind(claimed_before)
    .fetch_optional(conn)
    .await
}

/// Marks message `id` sent.
pub async fn sent(conn: &mut AnyConnection, id: i64, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE outbox SET sent_at = $1, last_error = NULL WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Releases message `id` after a failed attempt, with what went wrong.
pub async fn failed(conn: &mut AnyConnection, id: i64, error: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE outbox SET claimed_at = NULL, last_error = $1 WHERE id = $2")
        .bind(error)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}
