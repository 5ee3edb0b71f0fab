//! The text outbox's queries.

use super::Via;
use crate::db::Tenant;
use sqlx::AnyConnection;

/// A claimed text, ready to send.
#[derive(Debug, sqlx::FromRow)]
pub struct Claimed {
    /// The row.
    pub id: i64,
    /// Whose text it is.
    pub org_id: i64,
    /// To which phone (E.164).
    pub recipient: String,
    /// "sms" or "whatsapp".
    pub via: String,
    /// What it says.
    pub body: String,
    /// Attempts so far, this one included.
    pub attempts: i64,
}

/// A text as the organizer sees it.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema, sqlx::FromRow)]
pub struct TextRow {
    /// The phone.
    pub recipient: String,
    /// "sms" or "whatsapp".
    pub via: String,
    /// pending, sent, suppressed (over the per-phone limit) or failed.
    pub state: String,
    /// When it was queued (Unix ms).
    pub created_at: i64,
    /// When it was sent.
    pub sent_at: Option<i64>,
    /// Why it is not sent (yet).
    pub last_error: Option<String>,
}

/// Queues a text in the transaction's organization; its id, or `None` if one with the same
/// `once` key was queued before.
pub async fn enqueue(
    tx: &mut Tenant,
    to: &str,
    via: Via,
    body: &str,
    once: Option<&str>,
    order: Option<i64>,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO text_messages (org_id, recipient, via, body, dedupe_key, order_id, state, created_at, attempts) \
         VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, 0) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
    )
    .bind(tx.org())
    .bind(to)
    .bind(via.as_str())
    .bind(body)
    .bind(once)
    .bind(order)
    .bind(tx.now())
    .fetch_optional(&mut **tx)
    .await
}

/// Up to 100 texts due (pending, not claimed since `claimed_before`).
pub async fn due(conn: &mut AnyConnection, claimed_before: i64) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM text_messages WHERE state = 'pending' AND (claimed_at IS NULL OR claimed_at < $1) \
         ORDER BY id LIMIT 100",
    )
    .bind(claimed_before)
    .fetch_all(conn)
    .await
}

/// Claims text `id` at `now` if nobody holds it.
pub async fn claim(
    conn: &mut AnyConnection,
    id: i64,
    now: i64,
    claimed_before: i64,
) -> Result<Option<Claimed>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE text_messages SET claimed_at = $1, attempts = attempts + 1 WHERE id = $2 AND state = 'pending' \
         AND (claimed_at IS NULL OR claimed_at < $3) RETURNING id, org_id, recipient, via, body, attempts",
    )
    .bind(now)
    .bind(id)
    .bind(claimed_before)
    .fetch_optional(conn)
    .await
}

/// Text `id` was sent; the provider calls it `provider_id`.
pub async fn sent(conn: &mut AnyConnection, id: i64, now: i64, provider_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE text_messages SET state = 'sent', sent_at = $1, provider_id = $2, last_error = NULL WHERE id = $3")
        .bind(now)
        .bind(provider_id)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Text `id` is not sent and never will be: over the per-phone limit.
pub async fn suppress(conn: &mut AnyConnection, id: i64, now: i64, why: &str) -> Result<(), sqlx::Error> {
    finish(conn, id, now, "suppressed", why).await
}

/// Text `id` failed for good.
pub async fn failed_for_good(
    conn: &mut AnyConnection,
    id: i64,
    now: i64,
    why: &str,
) -> Result<(), sqlx::Error> {
    finish(conn, id, now, "failed", why).await
}

async fn finish(
    conn: &mut AnyConnection,
    id: i64,
    now: i64,
    state: &str,
    why: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE text_messages SET state = $1, finished_at = $2, last_error = $3 WHERE id = $4")
        .bind(state)
        .bind(now)
        .bind(why)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Text `id` waits: its claim dated `claim_at` (in the past) so that it is due again once that
/// ages past the claim's length; `why` recorded. A wait for a rate limit (`counted` false)
/// gives back the try its claim took.
pub async fn wait(
    conn: &mut AnyConnection,
    id: i64,
    claim_at: i64,
    why: &str,
    counted: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE text_messages SET claimed_at = $1, last_error = $2, attempts = attempts - $3 WHERE id = $4",
    )
    .bind(claim_at)
    .bind(why)
    .bind(i64::from(!counted))
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// The texts queued for the order's buyer (by its once key's prefix), oldest first.
pub async fn of_order(tx: &mut Tenant, order: i64) -> Result<Vec<TextRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT recipient, via, state, created_at, sent_at, last_error FROM text_messages \
         WHERE org_id = $1 AND order_id = $2 ORDER BY id",
    )
    .bind(tx.org())
    .bind(order)
    .fetch_all(&mut **tx)
    .await
}
