//! `/webhooks` (the organization's endpoints: add one, see each one's state) and
//! `/webhooks/{id}` (one endpoint: its secret, rotation, a test event, pause, the delivery log
//! with replay, and everything since a time sent again), with `/webhooks/{id}/deliveries/{d}`
//! (one delivery: the body sent and every attempt). Owners and admins, as in the API, whose
//! functions these pages call ([`crate::webhook_api`]).

use super::{Layout, PagePath, PageQuery, PageResult, Staff, local_time, render};
use crate::webhook_api::views::{self, EndpointView};
use crate::webhook_api::{DeliveryQuery, DeliveryState, MANAGERS};
use crate::webhooks::EventType;
use crate::webhooks::store::{AttemptRow, DeliveryRow};
use askama::Template;
use axum::extract::State;
use serde::Deserialize;

use crate::state::AppState;

/// An event type as a checkbox: (name, what it means, checked).
type TypeChoice = (&'static str, &'static str, bool);

fn choices(wanted: &[EventType]) -> Vec<TypeChoice> {
    EventType::ALL.iter().map(|t| (t.as_str(), t.describe(), wanted.contains(t))).collect()
}

/// An endpoint's event types in words.
fn listed(types: &[EventType]) -> String {
    if types.len() == EventType::ALL.len() {
        return "every event".into();
    }
    types.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", ")
}

struct EndpointRow {
    id: i64,
    url: String,
    description: String,
    types: String,
    enabled: bool,
    disabled_reason: String,
}

#[derive(Template)]
#[template(path = "webhooks.html")]
struct EndpointsPage {
    layout: Layout,
    endpoints: Vec<EndpointRow>,
    types: Vec<TypeChoice>,
}

/// `GET /webhooks`.
pub(super) async fn list(State(state): State<AppState>, staff: Staff) -> PageResult {
    staff.0.require(MANAGERS)?;
    let layout = staff.layout(&state, "webhooks").await?;
    let found = views::endpoints(&state.db, &staff.0).await?;
    let endpoints = found
        .endpoints
        .into_iter()
        .map(|e| EndpointRow {
            types: listed(&e.event_types),
            id: e.id,
            url: e.url,
            description: e.description,
            enabled: e.enabled,
            disabled_reason: e.disabled_reason,
        })
        .collect();
    Ok(render(&EndpointsPage { layout, endpoints, types: choices(&[]) }))
}

struct LogRow {
    id: i64,
    at: String,
    event_type: String,
    msg_id: String,
    state: String,
    attempts: i64,
    status: String,
    answer: String,
    next: String,
}

fn log_row(d: DeliveryRow) -> LogRow {
    LogRow {
        at: local_time(Some(d.created_at), "UTC"),
        next: if d.state == "pending" { local_time(Some(d.next_at), "UTC") } else { String::new() },
        status: d.last_status.map(|s| s.to_string()).unwrap_or_default(),
        answer: d.last_answer.chars().take(120).collect(),
        id: d.id,
        event_type: d.event_type,
        msg_id: d.msg_id,
        state: d.state,
        attempts: d.attempts,
    }
}

#[derive(Template)]
#[template(path = "webhook.html")]
struct EndpointPage {
    layout: Layout,
    e: EndpointView,
    types: Vec<TypeChoice>,
    /// Its signing secret (owners and admins only see this page).
    secret: String,
    /// Until when the replaced secret still signs, if it does.
    previous_until: String,
    log: Vec<LogRow>,
    /// The state the log is filtered by ("" for all).
    filter: &'static str,
    /// The next page's `before`.
    next: Option<i64>,
}

/// The log's filter and page.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LogQuery {
    state: Option<DeliveryState>,
    before: Option<i64>,
}

/// `GET /webhooks/{id}`.
pub(super) async fn detail(
    State(state): State<AppState>,
    staff: Staff,
    PagePath(id): PagePath<i64>,
    PageQuery(q): PageQuery<LogQuery>,
) -> PageResult {
    staff.0.require(MANAGERS)?;
    let layout = staff.layout(&state, "webhooks").await?;
    let mut tx = state.db.tenant(staff.0.org_id).await?;
    let row = crate::webhooks::store::endpoint(&mut tx, id).await?.ok_or(crate::error::ApiError::NotFound)?;
    tx.commit().await?;
    let secret = crate::webhook_api::secret_view(&state.master, &row, state.db.clock().now_ms())?;
    let query = DeliveryQuery { state: q.state, before: q.before, limit: Some(50) };
    let page = views::deliveries(&state.db, &staff.0, id, &query).await?;
    let e = views::endpoint(&row);
    Ok(render(&EndpointPage {
        types: choices(&e.event_types),
        e,
        secret: secret.secret,
        previous_until: secret.previous_valid_until.map(|t| local_time(Some(t), "UTC")).unwrap_or_default(),
        log: page.deliveries.into_iter().map(log_row).collect(),
        filter: q.state.map_or("", DeliveryState::as_str),
        next: page.next_before,
        layout,
    }))
}

struct AttemptLine {
    at: String,
    status: String,
    answer: String,
    millis: i64,
}

#[derive(Template)]
#[template(path = "webhook_delivery.html")]
struct DeliveryPage {
    layout: Layout,
    endpoint: i64,
    d: LogRow,
    /// The body, pretty-printed.
    payload: String,
    attempts: Vec<AttemptLine>,
}

/// `GET /webhooks/{id}/deliveries/{delivery}`.
pub(super) async fn delivery(
    State(state): State<AppState>,
    staff: Staff,
    PagePath((id, delivery)): PagePath<(i64, i64)>,
) -> PageResult {
    staff.0.require(MANAGERS)?;
    let layout = staff.layout(&state, "webhooks").await?;
    let found = views::delivery(&state.db, &staff.0, id, delivery).await?;
    let payload = serde_json::from_str::<serde_json::Value>(&found.payload)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or(found.payload);
    let attempts = found
        .attempts
        .into_iter()
        .map(|a: AttemptRow| AttemptLine {
            at: local_time(Some(a.at), "UTC"),
            status: a.status.map_or_else(|| "no answer".into(), |s| s.to_string()),
            answer: a.answer,
            millis: a.millis,
        })
        .collect();
    Ok(render(&DeliveryPage { layout, endpoint: id, d: log_row(found.delivery), payload, attempts }))
}
