//! Seating over HTTP: the organization's plans (create from the native or pretix's format,
//! list, show, export to pretix, replace, delete), an event's seating (assign a plan and map
//! its categories, show, remove), its seats (list, block, unblock), and the public seat map.
//! Owners and admins change; box office and viewers read.

use super::store;
use super::{NewSeating, PlanRow, SeatRow, SeatingView};
use crate::auth::Caller;
use crate::db::{Db, Tenant};
use crate::error::{ApiError, ProblemDetails};
use crate::json::ApiJson;
use crate::path::ApiPath;
use crate::query::ApiQuery;
use crate::state::AppState;
use crate::tenancy::Role;
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use sync_core::seating::{Plan, PlanError, Summary, pretix};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

/// The largest plan accepted (a 20,000-seat arena in pretix's format is about 2.5 MB).
pub const MAX_PLAN_BYTES: usize = 8 * 1024 * 1024;

/// The routes, with their OpenAPI documentation.
pub fn routes() -> OpenApiRouter<AppState> {
    let uploads = OpenApiRouter::new()
        .routes(routes!(create_plan, list_plans))
        .routes(routes!(show_plan, replace_plan, delete_plan))
        .layer(DefaultBodyLimit::max(MAX_PLAN_BYTES));
    OpenApiRouter::new()
        .merge(uploads)
        .routes(routes!(export_plan))
        .routes(routes!(assign, show_seating, remove_seating))
        .routes(routes!(list_seats))
        .routes(routes!(block_seats))
        .routes(routes!(unblock_seats))
        .routes(routes!(public_seats))
}

/// Who makes and changes plans and seating.
pub const MANAGERS: &[Role] = &[Role::Owner, Role::Admin];
/// Who reads them.
pub const READERS: &[Role] = &[Role::Owner, Role::Admin, Role::BoxOffice, Role::Viewer];

/// Which format a plan is sent or wanted in.
#[derive(Clone, Copy, Debug, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
enum PlanFormat {
    /// Voelgoed's own (sync-core's `seating::Plan`).
    Native,
    /// pretix's seating-plan JSON.
    Pretix,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct FormatQuery {
    /// The body's format: `native` or `pretix`; when not given, a body with `zones` is pretix's.
    #[param(inline)]
    format: Option<PlanFormat>,
}

/// A plan with what it holds and its drawing.
#[derive(Serialize, ToSchema)]
struct PlanView {
    #[serde(flatten)]
    row: PlanRow,
    /// Seats per category.
    seats_per_category: BTreeMap<String, u32>,
    /// Standing places per category.
    standing_per_category: BTreeMap<String, u32>,
    /// The plan in the native format.
    #[schema(value_type = Plan)]
    plan: serde_json::Value,
}

fn refused(e: &PlanError) -> ApiError {
    ApiError::invalid(format!("plan.{}", e.path).replace("plan.plan", "plan"), e.message.clone())
}

/// Reads and checks a plan body (either format): the plan, its summary, its native JSON.
fn read_plan(
    body: Result<Bytes, BytesRejection>,
    format: Option<PlanFormat>,
) -> Result<(Plan, Summary, String), ApiError> {
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge { limit: MAX_PLAN_BYTES }
        } else {
            ApiError::invalid("body", e.body_text())
        }
    })?;
    let format = if let Some(f) = format {
        f
    } else {
        let value: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|e| ApiError::invalid("plan", format!("not a seat plan: {e}")))?;
        if value.get("zones").is_some() { PlanFormat::Pretix } else { PlanFormat::Native }
    };
    let plan = match format {
        PlanFormat::Native => Plan::from_json(&body),
        PlanFormat::Pretix => pretix::import(&body),
    }
    .map_err(|e| refused(&e))?;
    let summary = plan.check().map_err(|e| refused(&e))?;
    let json = serde_json::to_string(&plan).map_err(anyhow::Error::from)?;
    Ok((plan, summary, json))
}

fn view(row: PlanRow, plan: &Plan, summary: Summary) -> Result<PlanView, ApiError> {
    Ok(PlanView {
        row,
        seats_per_category: summary.seats,
        standing_per_category: summary.standing,
        plan: serde_json::to_value(plan).map_err(anyhow::Error::from)?,
    })
}

async fn stored_plan(tx: &mut Tenant, id: i64) -> Result<(PlanRow, Plan), ApiError> {
    let (row, json) = store::plan(tx, id).await?.ok_or(ApiError::NotFound)?;
    let plan = Plan::from_json(json.as_bytes()).map_err(anyhow::Error::from)?;
    Ok((row, plan))
}

#[utoipa::path(
    post,
    path = "/api/v1/seat-plans",
    tag = "seating",
    params(FormatQuery),
    request_body(content = PlanBody, description = "A seat plan: Voelgoed's native format (`?format=native`, the default) or pretix's seating-plan JSON (`?format=pretix`); at most 8 MB. Checked whole: a broken rule is refused with its path and nothing is stored"),
    responses(
        (status = 201, description = "Stored, with what it holds. Owners and admins.", body = PlanView),
        (status = 413, description = "Larger than 8 MB", body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
async fn create_plan(
    State(db): State<Db>,
    caller: Caller,
    ApiQuery(query): ApiQuery<FormatQuery>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<PlanView>), ApiError> {
    caller.require(MANAGERS)?;
    let (plan, summary, json) = read_plan(body, query.format)?;
    let mut tx = db.tenant(caller.org_id).await?;
    let id = store::insert_plan(&mut tx, &plan, &json, i64::from(summary.total_seats())).await?;
    tx.audit(&caller.actor(), "seat_plan.create", "org", json!({"plan": id, "name": plan.name})).await?;
    let (row, _) = stored_plan(&mut tx, id).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(view(row, &plan, summary)?)))
}

#[utoipa::path(
    get,
    path = "/api/v1/seat-plans",
    tag = "seating",
    responses((status = 200, description = "The organization's plans, by name", body = Vec<PlanRow>)),
)]
async fn list_plans(State(db): State<Db>, caller: Caller) -> Result<Json<Vec<PlanRow>>, ApiError> {
    caller.require(READERS)?;
    let mut tx = db.tenant(caller.org_id).await?;
    let plans = store::plans(&mut tx).await?;
    tx.commit().await?;
    Ok(Json(plans))
}

#[utoipa::path(
    get,
    path = "/api/v1/seat-plans/{id}",
    tag = "seating",
    params(("id" = i64, Path, description = "The plan")),
    responses((status = 200, description = "The plan, with what it holds", body = PlanView)),
)]
async fn show_plan(
    State(db): State<Db>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<PlanView>, ApiError> {
    caller.require(READERS)?;
    let mut tx = db.tenant(caller.org_id).await?;
    let (row, plan) = stored_plan(&mut tx, id).await?;
    tx.commit().await?;
    let summary = plan.check().map_err(anyhow::Error::from)?;
    Ok(Json(view(row, &plan, summary)?))
}

/// A plan as sent: the native format, or pretix's as `?format=pretix` says. Documents the
/// body only: the handlers read the bytes with sync-core's parsers, which name the path of
/// the first rule broken.
#[derive(ToSchema)]
#[serde(untagged)]
#[allow(dead_code)] // never built: it describes what `create_plan` and `replace_plan` read
enum PlanBody {
    /// Voelgoed's own format (sync-core's `seating::Plan`).
    Native(Plan),
    /// pretix's seating-plan JSON.
    Pretix(PretixPlanFile),
}

/// pretix's seating-plan JSON, as exported (its public `seating-plan.schema.json`: zones of
/// rows of seats, areas, categories, the size). Only documents the answer: the export is
/// sync-core's `seating::pretix::PretixPlan`.
#[derive(ToSchema)]
#[allow(dead_code)] // never built: it describes what `export_plan` writes
struct PretixPlanFile {
    /// The plan's name.
    name: String,
    /// `{name, color}` of each category.
    #[schema(value_type = Vec<Object>)]
    categories: Vec<()>,
    /// One zone per section: `{name, zone_id, position, rows: [{row_number, seats: [{seat_guid, seat_number, position, category}]}], areas}`.
    #[schema(value_type = Vec<Object>)]
    zones: Vec<()>,
    /// `{width, height}`.
    #[schema(value_type = Object)]
    size: (),
}

#[utoipa::path(
    get,
    path = "/api/v1/seat-plans/{id}/pretix",
    tag = "seating",
    params(("id" = i64, Path, description = "The plan")),
    responses((status = 200, description = "The plan in pretix's seating-plan JSON, as a download (accessibility flags, standing areas and the focus have no place there: see sync-core's `seating::pretix`)", body = PretixPlanFile)),
)]
async fn export_plan(
    State(db): State<Db>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, ApiError> {
    caller.require(READERS)?;
    let mut tx = db.tenant(caller.org_id).await?;
    let (row, plan) = stored_plan(&mut tx, id).await?;
    tx.commit().await?;
    let body = serde_json::to_vec_pretty(&pretix::export(&plan)).map_err(anyhow::Error::from)?;
    let file = format!("attachment; filename=\"seat-plan-{}.json\"", row.id);
    Ok(([(header::CONTENT_TYPE, "application/json".to_owned()), (header::CONTENT_DISPOSITION, file)], body)
        .into_response())
}

#[utoipa::path(
    put,
    path = "/api/v1/seat-plans/{id}",
    tag = "seating",
    params(("id" = i64, Path, description = "The plan"), FormatQuery),
    request_body(content = PlanBody, description = "The new plan, in either format as `format` says (events keep the copy they were assigned)"),
    responses((status = 200, description = "Replaced. Owners and admins.", body = PlanView)),
)]
async fn replace_plan(
    State(db): State<Db>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(query): ApiQuery<FormatQuery>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<PlanView>, ApiError> {
    caller.require(MANAGERS)?;
    let (plan, summary, json) = read_plan(body, query.format)?;
    let mut tx = db.tenant(caller.org_id).await?;
    if !store::update_plan(&mut tx, id, &plan, &json, i64::from(summary.total_seats())).await? {
        return Err(ApiError::NotFound);
    }
    tx.audit(&caller.actor(), "seat_plan.replace", "org", json!({"plan": id, "name": plan.name})).await?;
    let (row, _) = stored_plan(&mut tx, id).await?;
    tx.commit().await?;
    Ok(Json(view(row, &plan, summary)?))
}

#[utoipa::path(
    delete,
    path = "/api/v1/seat-plans/{id}",
    tag = "seating",
    params(("id" = i64, Path, description = "The plan")),
    responses(
        (status = 204, description = "Deleted. Owners and admins."),
        (status = 409, description = "An event is sold by it (`plan_in_use`)", body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
async fn delete_plan(
    State(db): State<Db>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    caller.require(MANAGERS)?;
    let mut tx = db.tenant(caller.org_id).await?;
    match store::delete_plan(&mut tx, id).await? {
        Ok(true) => {}
        Ok(false) => return Err(ApiError::NotFound),
        Err(event) => {
            return Err(ApiError::Conflict {
                code: "plan_in_use",
                message: format!("event {event} is sold by this plan: remove its seating first"),
            });
        }
    }
    tx.audit(&caller.actor(), "seat_plan.delete", "org", json!({"plan": id})).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    put,
    path = "/api/v1/events/{id}/seating",
    tag = "seating",
    request_body = NewSeating,
    params(("id" = i64, Path, description = "The event")),
    responses(
        (status = 200, description = "The event is sold by seat: the plan copied, its seats made, each mapped ticket type's capacity set to its seats (or its standing places). Owners and admins.", body = SeatingView),
        (status = 409, description = "Seats or seated ticket types are sold, held or leased already (`seats_in_use`); a ticket type is a bundle or part of one (`seated_type`); tickets set aside for vouchers exceed the new capacity (`capacity_below_sold`)", body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
async fn assign(
    State(db): State<Db>,
    State(notifier): State<crate::db::Notifier>,
    caller: Caller,
    ApiPath(event): ApiPath<i64>,
    ApiJson(new): ApiJson<NewSeating>,
) -> Result<Json<SeatingView>, ApiError> {
    caller.require(MANAGERS)?;
    let mut tx = db.tenant(caller.org_id).await?;
    super::assign::assign(&mut tx, event, &new).await?;
    tx.audit(&caller.actor(), "event.seating", "event", json!({"event": event, "seating": new})).await?;
    let view =
        super::seating_view(&mut tx, event).await?.ok_or_else(|| anyhow::anyhow!("seating vanished"))?;
    // The seat map is a hub entry: the event's devices are woken to fetch it.
    tx.commit_and_notify(&notifier).await?;
    Ok(Json(view))
}

#[utoipa::path(
    get,
    path = "/api/v1/events/{id}/seating",
    tag = "seating",
    params(("id" = i64, Path, description = "The event")),
    responses((status = 200, description = "The event's seating and its seats by state (404 if it is not sold by seat)", body = SeatingView)),
)]
async fn show_seating(
    State(db): State<Db>,
    caller: Caller,
    ApiPath(event): ApiPath<i64>,
) -> Result<Json<SeatingView>, ApiError> {
    caller.require(READERS)?;
    let mut tx = db.tenant(caller.org_id).await?;
    crate::events::status(&mut tx, event).await?;
    let view = super::seating_view(&mut tx, event).await?.ok_or(ApiError::NotFound)?;
    tx.commit().await?;
    Ok(Json(view))
}

#[utoipa::path(
    delete,
    path = "/api/v1/events/{id}/seating",
    tag = "seating",
    params(("id" = i64, Path, description = "The event")),
    responses(
        (status = 204, description = "The event is no longer sold by seat (its ticket types keep their capacity). Owners and admins."),
        (status = 409, description = "Seats are sold or held (`seats_in_use`)", body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
async fn remove_seating(
    State(db): State<Db>,
    State(notifier): State<crate::db::Notifier>,
    caller: Caller,
    ApiPath(event): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    caller.require(MANAGERS)?;
    let mut tx = db.tenant(caller.org_id).await?;
    super::assign::unassign(&mut tx, event).await?;
    tx.audit(&caller.actor(), "event.seating.remove", "event", json!({"event": event})).await?;
    tx.commit_and_notify(&notifier).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct SeatsQuery {
    /// Only seats in this state.
    #[param(inline)]
    state: Option<SeatState>,
}

/// A seat's state.
#[derive(Clone, Copy, Debug, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
enum SeatState {
    /// Free to sell.
    Free,
    /// Held by an unpaid order.
    Held,
    /// Sold.
    Sold,
    /// Blocked.
    Blocked,
    /// Leased to a box office.
    Leased,
}

impl SeatState {
    fn as_str(self) -> &'static str {
        match self {
            Self::Free => "free",
            Self::Held => "held",
            Self::Sold => "sold",
            Self::Blocked => "blocked",
            Self::Leased => "leased",
        }
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/events/{id}/seats",
    tag = "seating",
    params(("id" = i64, Path, description = "The event"), SeatsQuery),
    responses((status = 200, description = "The event's seats in plan order, with their state and the order holding each", body = Vec<SeatRow>)),
)]
async fn list_seats(
    State(db): State<Db>,
    caller: Caller,
    ApiPath(event): ApiPath<i64>,
    ApiQuery(query): ApiQuery<SeatsQuery>,
) -> Result<Json<Vec<SeatRow>>, ApiError> {
    caller.require(READERS)?;
    let mut tx = db.tenant(caller.org_id).await?;
    crate::events::status(&mut tx, event).await?;
    let seats = store::seats(&mut tx, event, query.state.map(SeatState::as_str)).await?;
    tx.commit().await?;
    Ok(Json(seats))
}

/// Seats to free.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SeatChange {
    /// The seats' ids in the plan.
    #[schema(min_items = 1, max_items = 1000)]
    pub seats: Vec<String>,
}

/// Seats to block, and why.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SeatBlock {
    /// The seats' ids in the plan.
    #[schema(min_items = 1, max_items = 1000)]
    pub seats: Vec<String>,
    /// Why (the sound desk, press), shown to staff.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub reason: String,
}

/// The event's seats named by `change`, each found and distinct.
async fn named(tx: &mut Tenant, event: i64, change: &SeatChange) -> Result<Vec<SeatRow>, ApiError> {
    if change.seats.is_empty() || change.seats.len() > 1000 {
        return Err(ApiError::invalid("seats", "1–1,000 seats"));
    }
    if let Some(bad) = change.seats.iter().position(|k| !super::seat_id(k)) {
        return Err(ApiError::invalid(format!("seats[{bad}]"), "a seat id: 1–64 printable ASCII characters"));
    }
    let distinct: BTreeSet<&String> = change.seats.iter().collect();
    if distinct.len() != change.seats.len() {
        return Err(ApiError::invalid("seats", "each seat once"));
    }
    crate::events::status(tx, event).await?;
    let found = store::by_keys(tx, event, &change.seats).await?;
    if let Some(missing) = change.seats.iter().find(|k| !found.iter().any(|s| &s.seat_key == *k)) {
        return Err(ApiError::invalid("seats", format!("no seat {missing:?} in this event")));
    }
    Ok(found)
}

#[utoipa::path(
    post,
    path = "/api/v1/events/{id}/seats/block",
    tag = "seating",
    request_body = SeatBlock,
    params(("id" = i64, Path, description = "The event")),
    responses(
        (status = 200, description = "Blocked, all of them: no longer sold until freed. Owners and admins.", body = Vec<SeatRow>),
        (status = 409, description = "A seat is held, sold or blocked already (`seat_not_free`): none was blocked", body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
async fn block_seats(
    State(db): State<Db>,
    caller: Caller,
    ApiPath(event): ApiPath<i64>,
    ApiJson(block): ApiJson<SeatBlock>,
) -> Result<Json<Vec<SeatRow>>, ApiError> {
    crate::checks::text("reason", &block.reason, 200)?;
    restate(&db, &caller, event, &SeatChange { seats: block.seats }, Some(&block.reason)).await
}

#[utoipa::path(
    post,
    path = "/api/v1/events/{id}/seats/unblock",
    tag = "seating",
    request_body = SeatChange,
    params(("id" = i64, Path, description = "The event")),
    responses(
        (status = 200, description = "Free to sell again, all of them. Owners and admins.", body = Vec<SeatRow>),
        (status = 409, description = "A seat is not blocked (`seat_not_blocked`): none was freed", body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
async fn unblock_seats(
    State(db): State<Db>,
    caller: Caller,
    ApiPath(event): ApiPath<i64>,
    ApiJson(change): ApiJson<SeatChange>,
) -> Result<Json<Vec<SeatRow>>, ApiError> {
    restate(&db, &caller, event, &change, None).await
}

/// Blocks the event's seats `change` names with `reason`, or frees them (`None`): all of them
/// or, if one is not in the state it leaves, none. The seats as they are then.
async fn restate(
    db: &Db,
    caller: &Caller,
    event: i64,
    change: &SeatChange,
    reason: Option<&str>,
) -> Result<Json<Vec<SeatRow>>, ApiError> {
    caller.require(MANAGERS)?;
    let mut tx = db.tenant(caller.org_id).await?;
    let found = named(&mut tx, event, change).await?;
    let ids: Vec<i64> = found.iter().map(|s| s.id).collect();
    let (moved, from, code, words, action) = match reason {
        Some(r) => {
            (store::block(&mut tx, &ids, r.trim()).await?, "free", "seat_not_free", "blocked", "seats.block")
        }
        None => {
            (store::unblock(&mut tx, &ids).await?, "blocked", "seat_not_blocked", "freed", "seats.unblock")
        }
    };
    if moved != ids.len() as u64 {
        let other = found.iter().find(|s| s.state != from).map_or("a seat", |s| s.seat_key.as_str());
        return Err(ApiError::Conflict {
            code,
            message: format!("{other} is not {from}: nothing was {words}"),
        });
    }
    tx.audit(
        &caller.actor(),
        action,
        "event",
        json!({"event": event, "seats": change.seats, "reason": reason}),
    )
    .await?;
    let seats = store::by_keys(&mut tx, event, &change.seats).await?;
    tx.commit().await?;
    Ok(Json(seats))
}

/// What the shop's seat map draws.
#[derive(Serialize, ToSchema)]
pub struct PublicSeating {
    /// The plan (native format).
    #[schema(value_type = Plan)]
    pub plan: serde_json::Value,
    /// Category → the ticket type number it sells as.
    pub categories: BTreeMap<String, u16>,
    /// Seats not free to buy (held, sold or blocked), by id.
    pub taken: Vec<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/public/events/{id}/seats",
    tag = "checkout",
    params(("id" = i64, Path, description = "The event")),
    responses((status = 200, description = "The seat map: the plan, which ticket type each category sells as, and the seats taken (404 if the event is not sold by seat)", body = PublicSeating)),
    security(()),
)]
async fn public_seats(
    State(db): State<Db>,
    ApiPath(event): ApiPath<i64>,
) -> Result<Json<PublicSeating>, ApiError> {
    let org = store::event_org(&db, event).await?.ok_or(ApiError::NotFound)?;
    let mut tx = db.tenant(org).await?;
    if crate::events::status(&mut tx, event).await? == crate::events::Status::Draft {
        return Err(ApiError::NotFound);
    }
    let (_, plan, categories) = store::seating(&mut tx, event).await?.ok_or(ApiError::NotFound)?;
    let taken = store::taken(&mut tx, event).await?;
    tx.commit().await?;
    Ok(Json(PublicSeating {
        plan: serde_json::from_str(&plan).map_err(anyhow::Error::from)?,
        categories: serde_json::from_str(&categories).map_err(anyhow::Error::from)?,
        taken,
    }))
}
