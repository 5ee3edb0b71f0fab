//! Writing events to the outbox, inside the transaction of the change that causes them: a
//! message exists if and only if its change committed, so a hub that dies after the commit
//! still delivers it (the worker finds it), and one that dies before sends nothing false.
//!
//! A transaction reads its organization's subscriptions once ([`Tenant::webhook_subscriptions`]);
//! an organization without endpoints pays that one indexed read per transaction that could
//! emit, and nothing more. Callers whose payload costs a query ask [`wants`] first.

use super::events::EventType;
use super::store::{self, NewMessage};
use crate::db::Tenant;
use serde::Serialize;

/// The endpoints of the transaction's organization that want `t` (read once per transaction).
async fn subscribers(tx: &mut Tenant, t: EventType) -> Result<Vec<i64>, sqlx::Error> {
    if tx.webhook_subscriptions.is_none() {
        tx.webhook_subscriptions = Some(store::subscriptions(tx).await?);
    }
    let wanted = format!(",{},", t.as_str());
    Ok(tx
        .webhook_subscriptions
        .iter()
        .flatten()
        .filter(|(_, types)| types.contains(&wanted))
        .map(|(id, _)| *id)
        .collect())
}

/// Whether any endpoint of the organization wants `t`.
pub async fn wants(tx: &mut Tenant, t: EventType) -> Result<bool, sqlx::Error> {
    Ok(!subscribers(tx, t).await?.is_empty())
}

/// Queues one event of type `t` for every endpoint that wants it.
pub async fn emit<T: Serialize>(tx: &mut Tenant, t: EventType, data: &T) -> anyhow::Result<()> {
    emit_all(tx, t, std::slice::from_ref(data)).await
}

/// Queues events of type `t`, one per item of `data` (in order), for every endpoint that wants
/// them: two statements for all of them (a checkout batch's orders).
pub async fn emit_all<T: Serialize>(tx: &mut Tenant, t: EventType, data: &[T]) -> anyhow::Result<()> {
    let endpoints = subscribers(tx, t).await?;
    if endpoints.is_empty() || data.is_empty() {
        return Ok(());
    }
    queue(tx, t, data, &endpoints).await
}

/// Queues one event of type `t` for `endpoint` alone, whatever it wants (the test event).
pub async fn emit_to<T: Serialize>(
    tx: &mut Tenant,
    endpoint: i64,
    t: EventType,
    data: &T,
) -> anyhow::Result<()> {
    queue(tx, t, std::slice::from_ref(data), &[endpoint]).await
}

async fn queue<T: Serialize>(
    tx: &mut Tenant,
    t: EventType,
    data: &[T],
    endpoints: &[i64],
) -> anyhow::Result<()> {
    let timestamp = jiff::Timestamp::from_millisecond(tx.now())?.to_string();
    let mut messages = Vec::with_capacity(data.len());
    for d in data {
        let body = Envelope { event_type: t, timestamp: &timestamp, data: d };
        messages.push(NewMessage {
            msg_id: format!("msg_{}", crate::codes::readable(26)?.to_ascii_lowercase()),
            event_type: t.as_str(),
            payload: serde_json::to_string(&body)?,
            endpoints: endpoints.to_vec(),
        });
    }
    store::queue(tx, &messages).await?;
    tx.webhooks_queued();
    Ok(())
}

/// The body of every webhook, as the Standard Webhooks specification recommends.
#[derive(Serialize)]
struct Envelope<'a, T> {
    /// The event type ("order.paid").
    #[serde(rename = "type")]
    event_type: EventType,
    /// When the event happened (RFC 3339, UTC).
    timestamp: &'a str,
    /// The event's object.
    data: &'a T,
}
