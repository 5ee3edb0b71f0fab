//! Changing an event after it was created: its name, zone and times; a ticket type's name,
//! price, capacity, sales window, entry policy and gates; more ticket types and gates.
//!
//! Each change publishes a new manifest in the same transaction (devices learn it at their
//! next sync) and is audited. Ticket types and gates are only added, never removed or
//! renumbered: their numbers are inside tickets already signed. A type's currency stays (its
//! sold tickets were paid in it), and its capacity never goes below what is sold, held and
//! leased — the same invariant the database checks.

use super::views::Numbered;
use super::{
    About, MANAGERS, NewGate, NewTicketType, Policy, bundles, check_about, check_event, check_type,
    publish_manifest, status, store,
};
use crate::auth::Caller;
use crate::checks;
use crate::db::{Db, Notifier, Tenant};
use crate::error::{ApiError, ProblemDetails};
use crate::identity::HubKey;
use crate::json::ApiJson;
use crate::lang::Lang;
use crate::path::ApiPath;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

/// The routes, with their OpenAPI documentation.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(edit_event))
        .routes(routes!(add_type))
        .routes(routes!(edit_type))
        .routes(routes!(add_gate))
}

/// An event that may still change: not ended, not cancelled. 404 for others' events.
async fn changeable(tx: &mut Tenant, event: i64) -> Result<(), ApiError> {
    let current = status(tx, event).await?;
    if !current.is_open() {
        return Err(ApiError::Conflict {
            code: "event_closed",
            message: format!("the event is {}: it can no longer change", current.as_str()),
        });
    }
    Ok(())
}

/// What every change ends with: the manifest published, the change audited, committed, the
/// devices woken.
async fn finish(
    mut tx: Tenant,
    hub_key: &HubKey,
    notifier: &Notifier,
    caller: &Caller,
    event: i64,
    action: &str,
    detail: Value,
) -> Result<(), ApiError> {
    publish_manifest(&mut tx, event, hub_key.public_key()).await?;
    tx.audit(&caller.actor(), action, &format!("event:{event}"), detail).await?;
    tx.commit_and_notify(notifier).await?;
    Ok(())
}

/// What to change of an event; absent fields stay. The result must still have `ends_at`
/// after `starts_at`.
#[derive(Deserialize, serde::Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct EventChanges {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00-\x1f\x7f-\x9f]*$"
    )]
    name: Option<String>,
    #[schema(max_length = 64, pattern = "^[A-Za-z0-9/_+-]*/[A-Za-z0-9/_+-]*$")]
    time_zone: Option<String>,
    starts_at: Option<i64>,
    ends_at: Option<i64>,
    /// The shop's language and the buyers' e-mails'.
    language: Option<Lang>,
    #[schema(max_length = 5000, pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$")]
    description: Option<String>,
    #[schema(max_length = 200, pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$")]
    venue_name: Option<String>,
    #[schema(max_length = 300, pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$")]
    venue_address: Option<String>,
}

#[utoipa::path(
    patch,
    path = "/api/v1/events/{id}",
    tag = "events",
    request_body = EventChanges,
    params(("id" = i64, Path, description = "The event")),
    responses(
        (status = 204, description = "Changed; devices get the new manifest at their next sync. Owners and admins."),
        (status = 409, description = "The event has ended or was cancelled (`event_closed`)", body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
async fn edit_event(
    State(db): State<Db>,
    State(hub_key): State<HubKey>,
    State(notifier): State<Notifier>,
    caller: Caller,
    ApiPath(event): ApiPath<i64>,
    ApiJson(changes): ApiJson<EventChanges>,
) -> Result<StatusCode, ApiError> {
    caller.require(MANAGERS)?;
    let mut tx = db.tenant(caller.org_id).await?;
    changeable(&mut tx, event).await?;
    let current = store::event(&mut tx, event).await?.ok_or(ApiError::NotFound)?;
    let name = changes.name.clone().unwrap_or(current.name);
    let zone = changes.time_zone.clone().unwrap_or(current.time_zone);
    let starts = changes.starts_at.unwrap_or(current.starts_at);
    let ends = changes.ends_at.unwrap_or(current.ends_at);
    check_event(&name, &zone, starts, ends)?;
    let was = store::about(&mut tx, event).await?.unwrap_or_default();
    let about = About {
        language: changes.language.unwrap_or(was.language),
        description: changes.description.as_deref().map_or(was.description, |d| d.trim().to_owned()),
        venue_name: changes.venue_name.as_deref().map_or(was.venue_name, |d| d.trim().to_owned()),
        venue_address: changes.venue_address.as_deref().map_or(was.venue_address, |d| d.trim().to_owned()),
    };
    check_about(&about)?;
    store::update_event(&mut tx, event, name.trim(), &zone, starts, ends).await?;
    store::set_about(&mut tx, event, &about).await?;
    finish(tx, &hub_key, &notifier, &caller, event, "event.edit", json!(changes)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Checks `parts` as the parts of ticket type `number` of `event` (new or changed).
async fn check_parts(
    tx: &mut Tenant,
    event: i64,
    number: i64,
    parts: &[bundles::Part],
) -> Result<(), ApiError> {
    let seated = store::seated_numbers(tx, event).await?;
    if !parts.is_empty()
        && (seated.contains(&number) || parts.iter().any(|p| seated.contains(&i64::from(p.ticket_type))))
    {
        return Err(ApiError::Conflict {
            code: "seated_type",
            message:
                "a ticket type that sells reserved seats is not bundled (and a bundle does not sell seats)"
                    .into(),
        });
    }
    let mut all = bundles::of_event(tx, event).await?;
    all.insert(number, parts.to_vec());
    let types = usize::try_from(store::next_type_number(tx, event).await?.max(number + 1) - 1).unwrap_or(0);
    bundles::check("includes", number, parts, &all, types)
}

async fn gate_count(tx: &mut Tenant, event: i64) -> Result<usize, ApiError> {
    Ok(usize::try_from(store::gate_count(tx, event).await?).unwrap_or(0))
}

/// An event has at most 200 ticket types and 200 gates.
fn within_limit(next: i64, field: &str) -> Result<i64, ApiError> {
    if next > 200 { Err(ApiError::invalid(field, "an event has at most 200")) } else { Ok(next) }
}

#[utoipa::path(
    post,
    path = "/api/v1/events/{id}/ticket-types",
    tag = "events",
    request_body = NewTicketType,
    params(("id" = i64, Path, description = "The event")),
    responses(
        (status = 201, description = "Added with the next number. Owners and admins.", body = Numbered),
        (status = 409, description = "The event has ended or was cancelled (`event_closed`)", body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
async fn add_type(
    State(db): State<Db>,
    State(hub_key): State<HubKey>,
    State(notifier): State<Notifier>,
    caller: Caller,
    ApiPath(event): ApiPath<i64>,
    ApiJson(new): ApiJson<NewTicketType>,
) -> Result<(StatusCode, Json<Numbered>), ApiError> {
    caller.require(MANAGERS)?;
    let mut tx = db.tenant(caller.org_id).await?;
    changeable(&mut tx, event).await?;
    check_type(str::to_owned, &new, gate_count(&mut tx, event).await?)?;
    let number = within_limit(store::next_type_number(&mut tx, event).await?, "ticket_types")?;
    check_parts(&mut tx, event, number, &new.includes).await?;
    store::insert_type(&mut tx, event, number, &new).await?;
    if !new.includes.is_empty() {
        bundles::set(&mut tx, event, number, &new.includes).await?;
    }
    let detail = json!({"number": number, "name": new.name});
    finish(tx, &hub_key, &notifier, &caller, event, "ticket_type.add", detail).await?;
    Ok((StatusCode::CREATED, Json(Numbered { number })))
}

/// What to change of a ticket type; absent fields stay. The result must still have
/// `sales_end` after `sales_start`, gates that exist, and a capacity no less than what is
/// sold, held and leased.
#[derive(Deserialize, serde::Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct TypeChanges {
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00-\x1f\x7f-\x9f]*$"
    )]
    name: Option<String>,
    #[schema(minimum = 0, maximum = 100_000_000)]
    price_minor: Option<i64>,
    #[schema(minimum = 0, maximum = 10_000_000)]
    capacity: Option<i64>,
    entry_policy: Option<Policy>,
    #[schema(max_items = 200)]
    allowed_gates: Option<Vec<u16>>,
    sales_start: Option<i64>,
    sales_end: Option<i64>,
    #[schema(max_length = 1000, pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$")]
    description: Option<String>,
    /// Sold only with a voucher that unlocks it.
    hidden: Option<bool>,
    /// An add-on: sold only with a ticket.
    addon: Option<bool>,
    /// A bundle's parts, all of them (`[]`: no longer a bundle). Orders placed before keep
    /// what they took.
    #[schema(max_items = 10)]
    includes: Option<Vec<bundles::Part>>,
}

#[utoipa::path(
    patch,
    path = "/api/v1/events/{id}/ticket-types/{number}",
    tag = "events",
    request_body = TypeChanges,
    params(("id" = i64, Path, description = "The event"), ("number" = i64, Path, description = "The ticket type's number")),
    responses(
        (status = 204, description = "Changed. Owners and admins."),
        (status = 409, description = "Capacity below what is sold, held and leased (`capacity_below_sold`); a bundle made of a type leased to box offices (`bundle_not_leasable`); a seated type's capacity or parts (`seated_type`); or the event is closed (`event_closed`)", body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
async fn edit_type(
    State(db): State<Db>,
    State(hub_key): State<HubKey>,
    State(notifier): State<Notifier>,
    caller: Caller,
    ApiPath((event, number)): ApiPath<(i64, i64)>,
    ApiJson(changes): ApiJson<TypeChanges>,
) -> Result<StatusCode, ApiError> {
    caller.require(MANAGERS)?;
    let mut tx = db.tenant(caller.org_id).await?;
    changeable(&mut tx, event).await?;
    let current = store::ticket_type(&mut tx, event, number).await?.ok_or(ApiError::NotFound)?;
    let taken = current.sold + current.held + current.leased + current.reserved;
    let t = NewTicketType {
        name: changes.name.clone().unwrap_or(current.name),
        price_minor: changes.price_minor.unwrap_or(current.price_minor),
        currency: current.currency,
        capacity: changes.capacity.unwrap_or(current.capacity),
        entry_policy: changes.entry_policy.unwrap_or(current.entry_policy),
        allowed_gates: changes.allowed_gates.clone().unwrap_or(current.allowed_gates.0),
        sales_start: changes.sales_start.or(current.sales_start),
        sales_end: changes.sales_end.or(current.sales_end),
        description: changes.description.clone().unwrap_or(current.description),
        hidden: changes.hidden.unwrap_or(current.hidden.0),
        addon: changes.addon.unwrap_or(current.addon.0),
        includes: changes.includes.clone().unwrap_or(current.includes),
    };
    check_type(str::to_owned, &t, gate_count(&mut tx, event).await?)?;
    check_parts(&mut tx, event, number, &t.includes).await?;
    if t.capacity != current.capacity && store::seated_numbers(&mut tx, event).await?.contains(&number) {
        return Err(ApiError::Conflict {
            code: "seated_type",
            message:
                "this ticket type sells reserved seats: its capacity is its number of seats (change the plan)"
                    .into(),
        });
    }
    if !t.includes.is_empty() && current.leased > 0 {
        return Err(bundles::not_at_the_door());
    }
    if t.capacity < taken {
        return Err(ApiError::Conflict {
            code: "capacity_below_sold",
            message: format!(
                "{taken} are sold, held, leased or set aside for vouchers: the capacity cannot be less"
            ),
        });
    }
    store::update_type(&mut tx, event, number, &t).await?;
    if changes.includes.is_some() {
        bundles::set(&mut tx, event, number, &t.includes).await?;
    }
    let detail = json!({"number": number, "changes": changes});
    finish(tx, &hub_key, &notifier, &caller, event, "ticket_type.edit", detail).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post,
    path = "/api/v1/events/{id}/gates",
    tag = "events",
    request_body = NewGate,
    params(("id" = i64, Path, description = "The event")),
    responses(
        (status = 201, description = "Added with the next number. Owners and admins.", body = Numbered),
        (status = 409, description = "The event has ended or was cancelled (`event_closed`)", body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
async fn add_gate(
    State(db): State<Db>,
    State(hub_key): State<HubKey>,
    State(notifier): State<Notifier>,
    caller: Caller,
    ApiPath(event): ApiPath<i64>,
    ApiJson(new): ApiJson<NewGate>,
) -> Result<(StatusCode, Json<Numbered>), ApiError> {
    caller.require(MANAGERS)?;
    let mut tx = db.tenant(caller.org_id).await?;
    changeable(&mut tx, event).await?;
    checks::text("name", &new.name, 100)?;
    let number = within_limit(store::next_gate_number(&mut tx, event).await?, "name")?;
    store::insert_gate(&mut tx, event, number, &new).await?;
    let detail = json!({"number": number, "name": new.name});
    finish(tx, &hub_key, &notifier, &caller, event, "gate.add", detail).await?;
    Ok((StatusCode::CREATED, Json(Numbered { number })))
}
