//! The outbox's queries.

use crate::db::Tenant;
use sqlx::AnyConnection;

/// A claimed message, ready to send.
#[derive(sqlx::FromRow)]
pub struct Claimed {
    /// Whose message it is.
    pub org_id: i64,
    /// To whom.
    pub recipient: String,
    /// Its subject.
    pub subject: String,
    /// Its text.
    pub body: String,
    /// Its HTML alternative, if it has one.
    pub html: Option<String>,
    /// The order whose valid tickets go with it as a PDF (made when it is sent).
    pub order_id: Option<i64>,
    /// Attempts so far, this one included.
    pub attempts: i64,
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

/// Queues a letter in the transaction's organization; its id, or `None` if a message with the
/// same `once` key was queued before (the unique index decides, so two transactions racing
/// to queue one confirmation queue one).
pub async fn enqueue_letter(
    tx: &mut Tenant,
    to: &str,
    subject: &str,
    text: &str,
    html: &str,
    order: Option<i64>,
    once: Option<&str>,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO outbox (org_id, recipient, subject, body, html, order_id, dedupe_key, created_at, attempts) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
    )
    .bind(tx.org())
    .bind(to)
    .bind(subject)
    .bind(text)
    .bind(html)
    .bind(order)
    .bind(once)
    .bind(tx.now())
    .fetch_optional(&mut **tx)
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
         AND (claimed_at IS NULL OR claimed_at < $3) RETURNING org_id, recipient, subject, body, html, order_id, attempts",
    )
    .bind(now)
    .bind(id)
    .bind(claimed_before)
    .fetch_optional(conn)
    .await
}

/// Marks message `id` sent; its files, delivered, are not kept (a report's are as many as its
/// recipients, every day).
pub async fn sent(conn: &mut AnyConnection, id: i64, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE outbox SET sent_at = $1, last_error = NULL WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM outbox_attachments WHERE outbox_id = $1").bind(id).execute(conn).await?;
    Ok(())
}

/// Records a failed attempt with what went wrong; the claim stays, dated `claim_at` (in the
/// past), so the message is due again once it ages — that is the wait before the next try.
pub async fn failed(
    conn: &mut AnyConnection,
    id: i64,
    error: &str,
    claim_at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE outbox SET claimed_at = $1, last_error = $2 WHERE id = $3")
        .bind(claim_at)
        .bind(error)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Puts `file` beside message `id` (queued in this transaction).
pub async fn attach(tx: &mut Tenant, id: i64, file: &super::File) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO outbox_attachments (org_id, outbox_id, name, content_type, body) VALUES ($1, $2, $3, $4, $5)")
        .bind(tx.org())
        .bind(id)
        .bind(&file.name)
        .bind(&file.content_type)
        .bind(&file.body)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The files queued with message `id`, in the order they were attached.
pub async fn attachments(conn: &mut AnyConnection, id: i64) -> Result<Vec<super::File>, sqlx::Error> {
    let rows: Vec<(String, String, Vec<u8>)> = sqlx::query_as(
        "SELECT name, content_type, body FROM outbox_attachments WHERE outbox_id = $1 ORDER BY id",
    )
    .bind(id)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|(name, content_type, body)| super::File { name, content_type, body }).collect())
}
