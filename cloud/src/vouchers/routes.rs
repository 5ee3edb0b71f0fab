//! Vouchers and automatic discounts over HTTP: create one or a batch, list (JSON or CSV),
//! show with redemptions, block, label; add, list and delete discount rules. Owners and admins
//! change them; box office and viewers read.

use super::rules::{self, NewRule, RuleView};
use super::store::{self, Redemption};
use super::{MAX_BATCH, NewBatch, NewVoucher, Terms, VoucherView, normalize};
use crate::auth::Caller;
use crate::capacity;
use crate::db::{Db, Tenant};
use crate::error::{ApiError, ProblemDetails};
use crate::json::ApiJson;
use crate::path::ApiPath;
use crate::query::ApiQuery;
use crate::reports::Format;
use crate::state::AppState;
use crate::tenancy::Role;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

/// The routes, with their OpenAPI documentation.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(create_batch))
        .routes(routes!(show, change))
        .routes(routes!(add_rule, list_rules))
        .routes(routes!(delete_rule))
}

/// Who makes and changes vouchers and discounts.
pub const MANAGERS: &[Role] = &[Role::Owner, Role::Admin];
/// Who reads them.
pub const READERS: &[Role] = &[Role::Owner, Role::Admin, Role::BoxOffice, Role::Viewer];

/// The event's ticket type numbers (404 if the event is not the caller's).
async fn type_numbers(tx: &mut Tenant, event: i64) -> Result<Vec<i64>, ApiError> {
    crate::events::status(tx, event).await?;
    Ok(crate::events::store::ticket_types(tx, event).await?.iter().map(|t| t.number).collect())
}

/// Creates vouchers with `codes` and the terms of `v`; sets their tickets aside. 409 if a code
/// is taken (one voucher) or too few tickets are left to set aside.
async fn insert(
    tx: &mut Tenant,
    caller: &Caller,
    event: i64,
    v: &Terms,
    codes: &[String],
) -> Result<Vec<String>, ApiError> {
    let scope = super::check(v, &type_numbers(tx, event).await?)?;
    let inserted = store::insert(tx, event, codes, v, &scope, &caller.actor()).await?;
    if inserted.len() < codes.len() && codes.len() == 1 {
        return Err(ApiError::Conflict {
            code: "voucher_exists",
            message: "this event has a voucher with this code".into(),
        });
    }
    if v.reserves {
        let number: i64 = scope.parse().map_err(anyhow::Error::from)?;
        let ticket_type = store::type_id(tx, event, number).await?;
        let n = v.max_uses * i64::try_from(inserted.len()).unwrap_or(i64::MAX);
        if !capacity::reserve(tx, ticket_type, n).await? {
            return Err(ApiError::Conflict {
                code: "not_enough_tickets",
                message: format!("fewer than {n} tickets of type {number} are left to set aside"),
            });
        }
    }
    Ok(inserted)
}

#[utoipa::path(
    post,
    path = "/api/v1/events/{id}/vouchers",
    tag = "vouchers",
    request_body = NewVoucher,
    params(("id" = i64, Path, description = "The event")),
    responses(
        (status = 201, description = "Created. Owners and admins.", body = VoucherView),
        (status = 409, description = "The code is taken (`voucher_exists`), too few tickets are left to set aside (`not_enough_tickets`), or a voucher that sets tickets aside does not name exactly one ticket type (`reserve_needs_one_ticket_type`)", body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
async fn create(
    State(db): State<Db>,
    caller: Caller,
    ApiPath(event): ApiPath<i64>,
    ApiJson(new): ApiJson<NewVoucher>,
) -> Result<(StatusCode, Json<VoucherView>), ApiError> {
    caller.require(MANAGERS)?;
    let code = match &new.code {
        Some(code) => {
            normalize(code).ok_or_else(|| ApiError::invalid("code", "3–32 letters, digits and dashes"))?
        }
        None => crate::codes::readable(super::GENERATED_LENGTH)?,
    };
    let mut tx = db.tenant(caller.org_id).await?;
    insert(&mut tx, &caller, event, &new.terms, std::slice::from_ref(&code)).await?;
    let view =
        store::by_code(&mut tx, event, &code).await?.ok_or_else(|| anyhow::anyhow!("voucher vanished"))?;
    tx.audit(&caller.actor(), "voucher.create", "event", json!({"event": event, "code": code, "terms": new}))
        .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// The codes a batch made.
#[derive(Serialize, ToSchema)]
struct Batch {
    /// The new codes.
    codes: Vec<String>,
    /// Their tag (the list and its CSV export filter by it).
    tag: String,
}

#[utoipa::path(
    post,
    path = "/api/v1/events/{id}/voucher-batches",
    tag = "vouchers",
    request_body = NewBatch,
    params(("id" = i64, Path, description = "The event")),
    responses(
        (status = 201, description = "Created: `count` vouchers with the same terms and their own random codes (export them with the list's `?format=csv&tag=`). Owners and admins.", body = Batch),
        (status = 409, description = "Too few tickets are left to set aside (`not_enough_tickets`), or a voucher that sets tickets aside does not name exactly one ticket type (`reserve_needs_one_ticket_type`)", body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
async fn create_batch(
    State(db): State<Db>,
    caller: Caller,
    ApiPath(event): ApiPath<i64>,
    ApiJson(batch): ApiJson<NewBatch>,
) -> Result<(StatusCode, Json<Batch>), ApiError> {
    caller.require(MANAGERS)?;
    crate::checks::range("count", i64::from(batch.count), 1, i64::from(MAX_BATCH))?;
    let mut wanted: Vec<String> = Vec::with_capacity(batch.count as usize);
    let mut seen = std::collections::HashSet::new();
    while wanted.len() < batch.count as usize {
        let code = crate::codes::readable(super::GENERATED_LENGTH)?;
        if seen.insert(code.clone()) {
            wanted.push(code);
        }
    }
    let mut tx = db.tenant(caller.org_id).await?;
    let mut codes = insert(&mut tx, &caller, event, &batch.terms, &wanted).await.map_err(|e| match e {
        ApiError::Validation { field, message } => {
            ApiError::Validation { field: format!("voucher.{field}"), message }
        }
        other => other,
    })?;
    // A clash with an existing code (one in 10¹³ per code) is made up for with fresh codes.
    while codes.len() < wanted.len() {
        let more = insert(
            &mut tx,
            &caller,
            event,
            &batch.terms,
            &[crate::codes::readable(super::GENERATED_LENGTH)?],
        )
        .await
        .or_else(|e| {
            if matches!(e, ApiError::Conflict { code: "voucher_exists", .. }) {
                Ok(Vec::new())
            } else {
                Err(e)
            }
        })?;
        codes.extend(more);
    }
    let detail = json!({"event": event, "count": codes.len(), "tag": batch.terms.tag, "terms": batch.terms});
    tx.audit(&caller.actor(), "voucher.batch", "event", detail).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(Batch { codes, tag: batch.terms.tag.trim().to_owned() })))
}

/// Which vouchers to list, and how.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Only those with this tag.
    #[param(max_length = 100)]
    tag: Option<String>,
    /// After this code (the previous page's `next`).
    #[param(max_length = 32)]
    after: Option<String>,
    /// At most this many (JSON: default 500, at most 5,000; CSV: every one).
    #[param(minimum = 1, maximum = 5000)]
    limit: Option<i64>,
    /// json (default) or csv.
    #[param(inline)]
    format: Option<Format>,
}

/// A page of vouchers.
#[derive(Serialize, ToSchema)]
struct Vouchers {
    /// By code.
    vouchers: Vec<VoucherView>,
    /// The code to ask for the next page after; absent on the last page.
    next: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/events/{id}/vouchers",
    tag = "vouchers",
    params(("id" = i64, Path, description = "The event"), ListQuery),
    responses(
        (status = 200, description = "The event's vouchers with their use, by code (CSV with `?format=csv`: every one, for printing or mailing)", content(
            (Vouchers = "application/json"),
            (String = "text/csv"),
        )),
    ),
)]
async fn list(
    State(db): State<Db>,
    caller: Caller,
    ApiPath(event): ApiPath<i64>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Response, ApiError> {
    caller.require(READERS)?;
    let csv = query.format == Some(Format::Csv);
    let limit = query.limit.unwrap_or(500);
    crate::checks::range("limit", limit, 1, 5000)?;
    if query.tag.as_ref().is_some_and(|t| t.chars().count() > 100) {
        return Err(ApiError::invalid("tag", "at most 100 characters"));
    }
    if query.after.as_ref().is_some_and(|a| a.chars().count() > 32) {
        return Err(ApiError::invalid("after", "at most 32 characters"));
    }
    let mut tx = db.tenant(caller.org_id).await?;
    crate::events::status(&mut tx, event).await?;
    let after = query.after.as_deref().unwrap_or("").to_ascii_uppercase();
    let tag = query.tag.as_deref();
    // A tag or code no one can have (a NUL: PostgreSQL cannot even compare it) matches none.
    if !tag.is_none_or(|t| crate::checks::lookupable(t, 400)) || !crate::checks::lookupable(&after, 128) {
        return Ok(Json(Vouchers { vouchers: Vec::new(), next: None }).into_response());
    }
    let page = if csv { 1_000_000 } else { limit };
    let vouchers = store::list(&mut tx, event, tag, &after, page + 1).await?;
    tx.commit().await?;
    if csv {
        let disposition = format!("attachment; filename=\"event-{event}-vouchers.csv\"");
        let headers = [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ];
        return Ok((headers, to_csv(&vouchers)?).into_response());
    }
    let mut vouchers = vouchers;
    let next = (vouchers.len() > usize::try_from(limit).unwrap_or(usize::MAX)).then(|| {
        vouchers.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        vouchers.last().map(|v| v.code.clone()).unwrap_or_default()
    });
    Ok(Json(Vouchers { vouchers, next }).into_response())
}

/// The vouchers as CSV: what an organizer prints, mails or hands to a sponsor.
fn to_csv(vouchers: &[VoucherView]) -> anyhow::Result<Vec<u8>> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record([
        "code",
        "mode",
        "value",
        "ticket_types",
        "max_uses",
        "redeemed",
        "held",
        "valid_from",
        "valid_until",
        "tag",
        "blocked",
    ])?;
    for v in vouchers {
        let opt = |t: Option<i64>| t.map(|t| t.to_string()).unwrap_or_default();
        out.write_record([
            v.code.clone(),
            v.mode.0.as_str().to_owned(),
            v.value.to_string(),
            v.ticket_types.clone(),
            v.max_uses.to_string(),
            v.redeemed.to_string(),
            v.held.to_string(),
            opt(v.valid_from),
            opt(v.valid_until),
            v.tag.clone(),
            v.blocked_at.is_some().to_string(),
        ])?;
    }
    out.into_inner().map_err(|e| anyhow::anyhow!("{e}"))
}

/// A voucher with the orders that used it.
#[derive(Serialize, ToSchema)]
pub struct VoucherDetail {
    /// The voucher.
    pub voucher: VoucherView,
    /// Orders that used it (pending, paid, lapsed or cancelled; door sales too), newest first.
    pub redemptions: Vec<Redemption>,
    /// Its uses leased to box offices, oldest first.
    pub leases: Vec<store::VoucherLeaseRow>,
}

/// Voucher `code` of the caller's `event` with its redemptions (the API and the console).
pub async fn detail(db: &Db, caller: &Caller, event: i64, code: &str) -> Result<VoucherDetail, ApiError> {
    caller.require(READERS)?;
    let code = normalize(code).ok_or(ApiError::NotFound)?;
    let mut tx = db.tenant(caller.org_id).await?;
    crate::events::status(&mut tx, event).await?;
    let voucher = store::by_code(&mut tx, event, &code).await?.ok_or(ApiError::NotFound)?;
    let redemptions = store::redemptions(&mut tx, voucher.id).await?;
    let leases = store::leases(&mut tx, voucher.id).await?;
    tx.commit().await?;
    Ok(VoucherDetail { voucher, redemptions, leases })
}

#[utoipa::path(
    get,
    path = "/api/v1/events/{id}/vouchers/{code}",
    tag = "vouchers",
    params(("id" = i64, Path, description = "The event"), ("code" = String, Path, description = "The voucher's code")),
    responses((status = 200, description = "The voucher and the orders that used it", body = VoucherDetail)),
)]
async fn show(
    State(db): State<Db>,
    caller: Caller,
    ApiPath((event, code)): ApiPath<(i64, String)>,
) -> Result<Json<VoucherDetail>, ApiError> {
    Ok(Json(detail(&db, &caller, event, &code).await?))
}

/// What to change of a voucher; absent fields stay.
#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VoucherChanges {
    /// Blocked: it is refused from now on (orders placed with it stay), and the tickets it set
    /// aside go back on sale. Unblocking sets them aside again, if they are still there.
    pub blocked: Option<bool>,
    /// Its label for reports.
    #[schema(max_length = 100, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")]
    pub tag: Option<String>,
    /// The team's note.
    #[schema(max_length = 1000, pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$")]
    pub note: Option<String>,
    /// How many tickets it may cover in all; not fewer than it covers already (paid, pending
    /// and leased to box offices: 409 `uses_taken`). A voucher that sets tickets aside sets
    /// aside more or gives back accordingly (409 `not_enough_tickets` if too few are left).
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub max_uses: Option<i64>,
    /// How many in one order; `null`: up to `max_uses`.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>, nullable, minimum = 1, maximum = 1_000_000)]
    pub max_per_order: Option<Option<i64>>,
    /// Valid from (Unix ms); `null`: from now on.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>, nullable)]
    pub valid_from: Option<Option<i64>>,
    /// Valid until (Unix ms), after `valid_from`; `null`: no end.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>, nullable)]
    pub valid_until: Option<Option<i64>>,
}

/// A field that is present, `null` included (`Some(None)`: clear it); absent fields are
/// `None` by `#[serde(default)]`. (serde alone reads `null` as absent.)
#[allow(clippy::option_option)] // absent, null (clear it) and a value are three different changes
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<i64>>, D::Error> {
    Option::<i64>::deserialize(d).map(Some)
}

#[utoipa::path(
    patch,
    path = "/api/v1/events/{id}/vouchers/{code}",
    tag = "vouchers",
    request_body = VoucherChanges,
    params(("id" = i64, Path, description = "The event"), ("code" = String, Path, description = "The voucher's code")),
    responses(
        (status = 204, description = "Changed. Owners and admins."),
        (status = 409, description = "Unblocking, or more uses of a voucher that sets tickets aside: too few tickets are left to set aside (`not_enough_tickets`); `max_uses` below the uses taken (`uses_taken`)", body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
async fn change(
    State(db): State<Db>,
    caller: Caller,
    ApiPath((event, code)): ApiPath<(i64, String)>,
    ApiJson(changes): ApiJson<VoucherChanges>,
) -> Result<StatusCode, ApiError> {
    change_voucher(&db, &caller, event, &code, &changes).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Changes voucher `code` of the caller's `event` (the API and the console).
pub async fn change_voucher(
    db: &Db,
    caller: &Caller,
    event: i64,
    code: &str,
    changes: &VoucherChanges,
) -> Result<(), ApiError> {
    caller.require(MANAGERS)?;
    let code = normalize(code).ok_or(ApiError::NotFound)?;
    let tag = changes.tag.as_deref().map(str::trim);
    let note = changes.note.as_deref().map(str::trim);
    if let Some(tag) = tag {
        super::check_tag("tag", tag)?;
    }
    if let Some(note) = note {
        crate::checks::optional_text("note", note, 1000)?;
    }
    let mut tx = db.tenant(caller.org_id).await?;
    crate::events::status(&mut tx, event).await?;
    let v = store::by_code(&mut tx, event, &code).await?.ok_or(ApiError::NotFound)?;
    match changes.blocked {
        Some(true) => block(&mut tx, event, &v).await?,
        Some(false) if v.blocked_at.is_some() => unblock(&mut tx, event, &v).await?,
        _ => {}
    }
    store::label(&mut tx, v.id, tag.unwrap_or(&v.tag), note.unwrap_or(&v.note)).await?;
    if changes.limits_change() {
        change_limits(&mut tx, event, &v, changes).await?;
    }
    tx.audit(
        &caller.actor(),
        "voucher.edit",
        "event",
        json!({"event": event, "code": code, "changes": changes}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

impl VoucherChanges {
    fn limits_change(&self) -> bool {
        self.max_uses.is_some()
            || self.max_per_order.is_some()
            || self.valid_from.is_some()
            || self.valid_until.is_some()
    }
}

/// Sets `v`'s uses, uses per order and validity as `changes` say. Checkout reads a voucher's
/// terms through a two-second cache (`sales::routes::find_voucher`), so a new per-order limit
/// or period applies to orders placed from then on, at most two seconds later; `max_uses` is
/// checked by the batch's UPDATE itself and holds at once.
async fn change_limits(
    tx: &mut Tenant,
    event: i64,
    v: &VoucherView,
    changes: &VoucherChanges,
) -> Result<(), ApiError> {
    let max_uses = changes.max_uses.unwrap_or(v.max_uses);
    crate::checks::range("max_uses", max_uses, 1, 1_000_000)?;
    let per_order = changes.max_per_order.unwrap_or(v.max_per_order);
    if let Some(per_order) = per_order {
        crate::checks::range("max_per_order", per_order, 1, 1_000_000)?;
    }
    let from = changes.valid_from.unwrap_or(v.valid_from);
    let until = changes.valid_until.unwrap_or(v.valid_until);
    super::check_period("valid_until", from, until)?;
    // The row locked, then its ticket type: checkout's order.
    let now = store::lock(tx, v.id).await?;
    let taken = now.max_uses - now.uses_left();
    if max_uses < taken {
        return Err(ApiError::Conflict {
            code: "uses_taken",
            message: format!(
                "{taken} uses are taken already (paid, pending or leased): max_uses cannot be fewer"
            ),
        });
    }
    let more = if now.reserves.0 && now.blocked_at.is_none() { max_uses - now.max_uses } else { 0 };
    if more != 0 {
        let number: i64 = v.ticket_types.parse().map_err(anyhow::Error::from)?;
        let ticket_type = store::type_id(tx, event, number).await?;
        if more < 0 {
            capacity::unreserve(tx, ticket_type, -more).await?;
        } else if !capacity::reserve(tx, ticket_type, more).await? {
            return Err(ApiError::Conflict {
                code: "not_enough_tickets",
                message: format!("fewer than {more} more tickets of type {number} are left to set aside"),
            });
        }
    }
    store::set_limits(tx, v.id, max_uses, per_order, (from, until), more).await?;
    Ok(())
}

async fn block(tx: &mut Tenant, event: i64, v: &VoucherView) -> Result<(), ApiError> {
    let now = tx.now();
    if let Some(reserved) = store::block(tx, v.id, now).await?
        && reserved > 0
    {
        let number: i64 = v.ticket_types.parse().map_err(anyhow::Error::from)?;
        let ticket_type = store::type_id(tx, event, number).await?;
        capacity::unreserve(tx, ticket_type, reserved).await?;
    }
    Ok(())
}

async fn unblock(tx: &mut Tenant, event: i64, v: &VoucherView) -> Result<(), ApiError> {
    let reserve = if v.reserves.0 { v.uses_left() } else { 0 };
    if reserve > 0 {
        let number: i64 = v.ticket_types.parse().map_err(anyhow::Error::from)?;
        let ticket_type = store::type_id(tx, event, number).await?;
        if !capacity::reserve(tx, ticket_type, reserve).await? {
            return Err(ApiError::Conflict {
                code: "not_enough_tickets",
                message: format!("fewer than {reserve} tickets of type {number} are left to set aside again"),
            });
        }
    }
    store::unblock(tx, v.id, reserve).await?;
    Ok(())
}

/// An event's automatic discounts.
#[derive(Serialize, ToSchema)]
struct Rules {
    /// Oldest first.
    discounts: Vec<RuleView>,
}

#[utoipa::path(
    post,
    path = "/api/v1/events/{id}/discounts",
    tag = "vouchers",
    request_body = NewRule,
    params(("id" = i64, Path, description = "The event")),
    responses((status = 201, description = "Added: checkout applies it within 2 s. Owners and admins.", body = RuleView)),
)]
async fn add_rule(
    State(db): State<Db>,
    caller: Caller,
    ApiPath(event): ApiPath<i64>,
    ApiJson(new): ApiJson<NewRule>,
) -> Result<(StatusCode, Json<RuleView>), ApiError> {
    Ok((StatusCode::CREATED, Json(add_discount(&db, &caller, event, &new).await?)))
}

/// Adds automatic discount `new` to the caller's `event` (the API and the console).
pub async fn add_discount(db: &Db, caller: &Caller, event: i64, new: &NewRule) -> Result<RuleView, ApiError> {
    caller.require(MANAGERS)?;
    let mut tx = db.tenant(caller.org_id).await?;
    let scope = rules::check(new, &type_numbers(&mut tx, event).await?)?;
    let id = rules::insert(&mut tx, event, new, &scope).await?;
    let view = rules::list(&mut tx, event)
        .await?
        .into_iter()
        .find(|r| r.id == id)
        .ok_or_else(|| anyhow::anyhow!("rule vanished"))?;
    rules::publish(&mut tx, event).await?;
    tx.audit(&caller.actor(), "discount.add", "event", json!({"event": event, "rule": new})).await?;
    tx.commit().await?;
    Ok(view)
}

#[utoipa::path(
    get,
    path = "/api/v1/events/{id}/discounts",
    tag = "vouchers",
    params(("id" = i64, Path, description = "The event")),
    responses((status = 200, description = "The event's automatic discounts", body = Rules)),
)]
async fn list_rules(
    State(db): State<Db>,
    caller: Caller,
    ApiPath(event): ApiPath<i64>,
) -> Result<Json<Rules>, ApiError> {
    caller.require(READERS)?;
    let mut tx = db.tenant(caller.org_id).await?;
    crate::events::status(&mut tx, event).await?;
    let discounts = rules::list(&mut tx, event).await?;
    tx.commit().await?;
    Ok(Json(Rules { discounts }))
}

#[utoipa::path(
    delete,
    path = "/api/v1/events/{id}/discounts/{rule}",
    tag = "vouchers",
    params(("id" = i64, Path, description = "The event"), ("rule" = i64, Path, description = "The discount's id")),
    responses((status = 204, description = "Deleted: orders placed with it keep their prices. Owners and admins.")),
)]
async fn delete_rule(
    State(db): State<Db>,
    caller: Caller,
    ApiPath((event, rule)): ApiPath<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    caller.require(MANAGERS)?;
    let mut tx = db.tenant(caller.org_id).await?;
    crate::events::status(&mut tx, event).await?;
    if !rules::delete(&mut tx, event, rule).await? {
        return Err(ApiError::NotFound);
    }
    rules::publish(&mut tx, event).await?;
    tx.audit(&caller.actor(), "discount.delete", "event", json!({"event": event, "rule": rule})).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
