//! The queries of webhooks: endpoints, the outbox of messages, their deliveries and attempts.
//! Endpoint and log queries run in the organization's transaction; the delivery worker's
//! (claim, record) on a connection of a system transaction, as the mail outbox's do.

use crate::db::{Tenant, values};
use serde::Serialize;
use sqlx::AnyConnection;
use utoipa::ToSchema;

/// An endpoint as stored (its secrets sealed).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct EndpointRow {
    /// Its id.
    pub id: i64,
    /// Where it POSTs.
    pub url: String,
    /// For the organizer.
    pub description: String,
    /// ",order.paid,ticket.checked_in,"
    pub event_types: String,
    /// 1: one message at a time, oldest first.
    pub ordered: i64,
    /// The signing secret (`whsec_…` text), sealed with the master key.
    pub sealed_secret: Vec<u8>,
    /// The secret it replaced, sealed, while it still signs.
    pub sealed_previous: Option<Vec<u8>>,
    /// Until when the replaced secret still signs (Unix ms).
    pub previous_until: Option<i64>,
    /// When it was disabled (absent: enabled).
    pub disabled_at: Option<i64>,
    /// Why it was disabled.
    pub disabled_reason: String,
    /// Who made it.
    pub created_by: String,
    /// When (Unix ms).
    pub created_at: i64,
}

const ENDPOINT: &str = "id, url, description, event_types, ordered, sealed_secret, sealed_previous, previous_until, \
     disabled_at, disabled_reason, created_by, created_at";

/// What a new or changed endpoint is.
pub struct EndpointFields<'a> {
    /// Where it POSTs.
    pub url: &'a str,
    /// For the organizer.
    pub description: &'a str,
    /// As stored: ",a,b,".
    pub event_types: &'a str,
    /// One message at a time, oldest first.
    pub ordered: bool,
}

/// Inserts an endpoint with its sealed secret; its id.
pub async fn insert_endpoint(
    tx: &mut Tenant,
    e: &EndpointFields<'_>,
    sealed: &[u8],
    actor: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO webhook_endpoints (org_id, url, description, event_types, ordered, sealed_secret, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(tx.org())
    .bind(e.url)
    .bind(e.description)
    .bind(e.event_types)
    .bind(i64::from(e.ordered))
    .bind(sealed)
    .bind(actor)
    .bind(tx.now())
    .fetch_one(&mut **tx)
    .await
}

/// The organization's endpoints (not deleted), oldest first.
pub async fn endpoints(tx: &mut Tenant) -> Result<Vec<EndpointRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ENDPOINT} FROM webhook_endpoints WHERE org_id = $1 AND deleted_at IS NULL ORDER BY id"
    )))
    .bind(tx.org())
    .fetch_all(&mut **tx)
    .await
}

/// Endpoint `id` (not deleted).
pub async fn endpoint(tx: &mut Tenant, id: i64) -> Result<Option<EndpointRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ENDPOINT} FROM webhook_endpoints WHERE id = $1 AND org_id = $2 AND deleted_at IS NULL"
    )))
    .bind(id)
    .bind(tx.org())
    .fetch_optional(&mut **tx)
    .await
}

/// Sets endpoint `id`'s address, description, event types and ordering.
pub async fn update_endpoint(tx: &mut Tenant, id: i64, e: &EndpointFields<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE webhook_endpoints SET url = $1, description = $2, event_types = $3, ordered = $4 \
         WHERE id = $5 AND org_id = $6",
    )
    .bind(e.url)
    .bind(e.description)
    .bind(e.event_types)
    .bind(i64::from(e.ordered))
    .bind(id)
    .bind(tx.org())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Enables endpoint `id` again (its failed deliveries stay failed: replay them).
pub async fn enable(tx: &mut Tenant, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE webhook_endpoints SET disabled_at = NULL, disabled_reason = '' WHERE id = $1 AND org_id = $2",
    )
    .bind(id)
    .bind(tx.org())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Disables endpoint `id` at `now` for `reason`, if it is enabled; whether it was.
pub async fn disable(conn: &mut AnyConnection, id: i64, now: i64, reason: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE webhook_endpoints SET disabled_at = $1, disabled_reason = $2 WHERE id = $3 AND disabled_at IS NULL",
    )
    .bind(now)
    .bind(reason)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes endpoint `id` (kept for the log, never sent to again): its pending deliveries fail.
pub async fn delete_endpoint(tx: &mut Tenant, id: i64) -> Result<bool, sqlx::Error> {
    let now = tx.now();
    let done = sqlx::query(
        "UPDATE webhook_endpoints SET deleted_at = $1 WHERE id = $2 AND org_id = $3 AND deleted_at IS NULL",
    )
    .bind(now)
    .bind(id)
    .bind(tx.org())
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "UPDATE webhook_deliveries SET state = 'failed', last_answer = 'the endpoint was deleted' \
         WHERE endpoint_id = $1 AND org_id = $2 AND state = 'pending'",
    )
    .bind(id)
    .bind(tx.org())
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Gives endpoint `id` a new sealed secret, keeping the old one until `until`.
pub async fn rotate(
    tx: &mut Tenant,
    id: i64,
    sealed: &[u8],
    previous: &[u8],
    until: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE webhook_endpoints SET sealed_secret = $1, sealed_previous = $2, previous_until = $3 \
         WHERE id = $4 AND org_id = $5",
    )
    .bind(sealed)
    .bind(previous)
    .bind(until)
    .bind(id)
    .bind(tx.org())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The endpoints of the organization and the event types each wants (as stored). A disabled
/// one is among them: its events are kept for it until it is enabled again (only deleting an
/// endpoint stops them).
pub async fn subscriptions(tx: &mut Tenant) -> Result<Vec<(i64, String)>, sqlx::Error> {
    sqlx::query_as("SELECT id, event_types FROM webhook_endpoints WHERE org_id = $1 AND deleted_at IS NULL")
        .bind(tx.org())
        .fetch_all(&mut **tx)
        .await
}

/// A message to queue: its `webhook-id`, type and body.
pub struct NewMessage {
    /// Its `webhook-id`.
    pub msg_id: String,
    /// Its event type.
    pub event_type: &'static str,
    /// The JSON body, as it is signed and sent.
    pub payload: String,
    /// The endpoints it goes to.
    pub endpoints: Vec<i64>,
}

/// Queues `messages`, each with a delivery to each of its endpoints due now: two statements
/// for any number of messages.
pub async fn queue(tx: &mut Tenant, messages: &[NewMessage]) -> Result<(), sqlx::Error> {
    let (org, now) = (tx.org(), tx.now());
    // 5 parameters a row: 1,000 rows stay far under PostgreSQL's 65,535.
    for chunk in messages.chunks(1_000) {
        let sql = format!(
            "INSERT INTO webhook_messages (org_id, msg_id, event_type, payload, created_at) VALUES {} RETURNING id, msg_id",
            values(chunk.len(), "(?, ?, ?, ?, ?)")
        );
        let mut insert = sqlx::query_as::<_, (i64, String)>(sqlx::AssertSqlSafe(sql));
        for m in chunk {
            insert = insert.bind(org).bind(&m.msg_id).bind(m.event_type).bind(&m.payload).bind(now);
        }
        let ids: std::collections::HashMap<String, i64> =
            insert.fetch_all(&mut **tx).await?.into_iter().map(|(id, msg)| (msg, id)).collect();
        let pairs: Vec<(i64, i64)> = chunk
            .iter()
            .filter_map(|m| ids.get(&m.msg_id).map(|id| m.endpoints.iter().map(move |e| (*e, *id))))
            .flatten()
            .collect();
        for pairs in pairs.chunks(5_000) {
            // 4 parameters a row: under SQLite's 32,766
            let sql = format!(
                "INSERT INTO webhook_deliveries (org_id, endpoint_id, message_id, next_at) VALUES {}",
                values(pairs.len(), "(?, ?, ?, ?)")
            );
            let mut insert = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (endpoint, message) in pairs {
                insert = insert.bind(org).bind(endpoint).bind(message).bind(now);
            }
            insert.execute(&mut **tx).await?;
        }
    }
    Ok(())
}

/// Up to `limit` deliveries due at `now` (all organizations), oldest first, with their
/// endpoints: pending, not claimed since `claimed_before`, their endpoint enabled — and for an
/// endpoint that asked for order, only its oldest pending one.
pub async fn due(
    conn: &mut AnyConnection,
    now: i64,
    claimed_before: i64,
    limit: i64,
) -> Result<Vec<(i64, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT d.id, d.endpoint_id FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id \
         WHERE d.state = 'pending' AND d.next_at <= $1 AND (d.claimed_at IS NULL OR d.claimed_at < $2) \
         AND e.disabled_at IS NULL AND e.deleted_at IS NULL \
         AND (e.ordered = 0 OR NOT EXISTS (SELECT 1 FROM webhook_deliveries o WHERE o.endpoint_id = d.endpoint_id \
              AND o.state = 'pending' AND o.message_id < d.message_id)) \
         ORDER BY d.next_at, d.id LIMIT $3",
    )
    .bind(now)
    .bind(claimed_before)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// A claimed delivery, with what its attempt needs.
#[derive(sqlx::FromRow)]
pub struct Claimed {
    /// Whose delivery it is.
    pub org_id: i64,
    /// The endpoint it goes to.
    pub endpoint_id: i64,
    /// Attempts so far, this one included.
    pub attempts: i64,
    /// Where it POSTs.
    pub url: String,
    /// The signing secret, sealed.
    pub sealed_secret: Vec<u8>,
    /// The replaced secret, sealed, while rotating.
    pub sealed_previous: Option<Vec<u8>>,
    /// Until when the replaced secret signs.
    pub previous_until: Option<i64>,
    /// The message's `webhook-id`.
    pub msg_id: String,
    /// The body.
    pub payload: String,
}

/// Claims delivery `id` at `now` if it is still pending and nobody holds it (a claim from
/// before `claimed_before` is from an instance that died): only one instance attempts it.
pub async fn claim(
    conn: &mut AnyConnection,
    id: i64,
    now: i64,
    claimed_before: i64,
) -> Result<Option<Claimed>, sqlx::Error> {
    let claimed: Option<(i64, i64)> = sqlx::query_as(
        "UPDATE webhook_deliveries SET claimed_at = $1, attempts = attempts + 1 WHERE id = $2 AND state = 'pending' \
         AND (claimed_at IS NULL OR claimed_at < $3) RETURNING endpoint_id, message_id",
    )
    .bind(now)
    .bind(id)
    .bind(claimed_before)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((endpoint, message)) = claimed else { return Ok(None) };
    sqlx::query_as(
        "SELECT d.org_id, d.endpoint_id, d.attempts, e.url, e.sealed_secret, e.sealed_previous, e.previous_until, \
         m.msg_id, m.payload FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = $1 \
         JOIN webhook_messages m ON m.id = $2 WHERE d.id = $3",
    )
    .bind(endpoint)
    .bind(message)
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// What an attempt came to, as the log keeps it.
pub struct Outcome<'a> {
    /// When it ended (Unix ms).
    pub at: i64,
    /// The partner's status, if it answered.
    pub status: Option<u16>,
    /// The start of its answer, or why there was none.
    pub answer: &'a str,
    /// How long it took.
    pub millis: i64,
}

/// Records an attempt of delivery `id` of `org` and what follows: `next` — `Some(at)`: due
/// again then; `None` with `delivered`: done; `None` otherwise: failed for good.
pub async fn record(
    conn: &mut AnyConnection,
    org: i64,
    id: i64,
    o: &Outcome<'_>,
    delivered: bool,
    next: Option<i64>,
) -> Result<(), sqlx::Error> {
    let status = o.status.map(i64::from);
    sqlx::query(
        "INSERT INTO webhook_attempts (org_id, delivery_id, at, status, answer, millis) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(org)
    .bind(id)
    .bind(o.at)
    .bind(status)
    .bind(o.answer)
    .bind(o.millis)
    .execute(&mut *conn)
    .await?;
    let state = match (delivered, next) {
        (true, _) => "delivered",
        (false, Some(_)) => "pending",
        (false, None) => "failed",
    };
    sqlx::query(
        "UPDATE webhook_deliveries SET state = $1, next_at = COALESCE($2, next_at), claimed_at = NULL, \
         last_status = $3, last_answer = $4, last_at = $5 WHERE id = $6",
    )
    .bind(state)
    .bind(next)
    .bind(status)
    .bind(o.answer)
    .bind(o.at)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// A line of the delivery log.
#[derive(Clone, Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct DeliveryRow {
    /// The delivery's id.
    pub id: i64,
    /// The message's `webhook-id` (the same on every attempt and replay).
    pub msg_id: String,
    /// Its event type.
    pub event_type: String,
    /// `pending`, `delivered` or `failed`.
    pub state: String,
    /// Attempts made.
    pub attempts: i64,
    /// When the next attempt is due (pending ones; Unix ms).
    pub next_at: i64,
    /// The last answer's status (absent: none, or no answer).
    pub last_status: Option<i64>,
    /// The start of the last answer, or why there was none.
    pub last_answer: String,
    /// When the last attempt was made.
    pub last_at: Option<i64>,
    /// When the event happened.
    pub created_at: i64,
}

const DELIVERY: &str = "d.id, m.msg_id, m.event_type, d.state, d.attempts, d.next_at, d.last_status, d.last_answer, \
     d.last_at, m.created_at";

/// Endpoint `endpoint`'s deliveries, newest first, with ids below `before`, of `state` if given.
pub async fn deliveries(
    tx: &mut Tenant,
    endpoint: i64,
    before: i64,
    state: Option<&str>,
    limit: i64,
) -> Result<Vec<DeliveryRow>, sqlx::Error> {
    let (filter, state) = match state {
        Some(s) => ("AND d.state = $5", s),
        None => ("AND $5 = ''", ""),
    };
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {DELIVERY} FROM webhook_deliveries d JOIN webhook_messages m ON m.id = d.message_id \
         WHERE d.endpoint_id = $1 AND d.org_id = $2 AND d.id < $3 {filter} ORDER BY d.id DESC LIMIT $4"
    )))
    .bind(endpoint)
    .bind(tx.org())
    .bind(before)
    .bind(limit)
    .bind(state)
    .fetch_all(&mut **tx)
    .await
}

/// A delivery with the body it sends.
#[derive(sqlx::FromRow)]
pub struct DeliveryWithBody {
    /// The delivery.
    #[sqlx(flatten)]
    pub row: DeliveryRow,
    /// The JSON body.
    pub payload: String,
}

/// Delivery `id` of `endpoint`, with the body it sends.
pub async fn delivery(
    tx: &mut Tenant,
    endpoint: i64,
    id: i64,
) -> Result<Option<DeliveryWithBody>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {DELIVERY}, m.payload FROM webhook_deliveries d JOIN webhook_messages m ON m.id = d.message_id \
         WHERE d.id = $1 AND d.endpoint_id = $2 AND d.org_id = $3"
    )))
    .bind(id)
    .bind(endpoint)
    .bind(tx.org())
    .fetch_optional(&mut **tx)
    .await
}

/// One attempt, as the log shows it.
#[derive(Clone, Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct AttemptRow {
    /// When (Unix ms).
    pub at: i64,
    /// The partner's status (absent: no answer).
    pub status: Option<i64>,
    /// The start of its answer (1 KB), or why there was none.
    pub answer: String,
    /// How long it took.
    pub millis: i64,
}

/// The attempts of delivery `id`, oldest first.
pub async fn attempts(tx: &mut Tenant, id: i64) -> Result<Vec<AttemptRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT at, status, answer, millis FROM webhook_attempts WHERE delivery_id = $1 AND org_id = $2 ORDER BY id",
    )
    .bind(id)
    .bind(tx.org())
    .fetch_all(&mut **tx)
    .await
}

/// Makes delivery `id` of `endpoint` due again now, with a fresh count of attempts (it is not
/// claimed by an attempt under way); whether there was one.
pub async fn replay_one(tx: &mut Tenant, endpoint: i64, id: i64) -> Result<bool, sqlx::Error> {
    let now = tx.now();
    let done = sqlx::query(
        "UPDATE webhook_deliveries SET state = 'pending', attempts = 0, next_at = $1, claimed_at = NULL \
         WHERE id = $2 AND endpoint_id = $3 AND org_id = $4 AND claimed_at IS NULL",
    )
    .bind(now)
    .bind(id)
    .bind(endpoint)
    .bind(tx.org())
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Makes every delivery of `endpoint` for events since `since` due again now (`failed_only`:
/// those that failed; else delivered ones too); how many.
pub async fn replay_since(
    tx: &mut Tenant,
    endpoint: i64,
    since: i64,
    failed_only: bool,
) -> Result<u64, sqlx::Error> {
    let now = tx.now();
    let states = if failed_only { "('failed')" } else { "('failed', 'delivered')" };
    let done = sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE webhook_deliveries SET state = 'pending', attempts = 0, next_at = $1, claimed_at = NULL \
         WHERE endpoint_id = $2 AND org_id = $3 AND state IN {states} \
         AND message_id IN (SELECT id FROM webhook_messages WHERE org_id = $3 AND created_at >= $4)"
    )))
    .bind(now)
    .bind(endpoint)
    .bind(tx.org())
    .bind(since)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected())
}
