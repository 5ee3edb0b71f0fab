//! Report schedules over HTTP: an event's schedules (made, listed, changed, paused, deleted)
//! and "send now". Owners and admins; the console's page calls the same functions.

use super::views::{self, Day, MANAGERS, ScheduleView, Schedules};
use super::{MAX_PER_EVENT, Scheduled, run, slots, store};
use crate::auth::Caller;
use crate::db::{Db, Tenant};
use crate::error::{ApiError, ProblemDetails};
use crate::json::ApiJson;
use crate::path::ApiPath;
use crate::sales::Sales;
use crate::state::{AppState, PublicUrl};
use crate::tenancy::Role;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

/// The routes, with their OpenAPI documentation.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(show, change, delete))
        .routes(routes!(send_now))
}

/// What a schedule sends: one of the event's reports, or the organization's reconciliation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
#[allow(missing_docs, reason = "the reports, as crate::reports lists them")]
pub enum ReportName {
    Sales,
    Revenue,
    Checkins,
    Inside,
    DoubleAdmissions,
    Devices,
    Shifts,
    Discounts,
    Seats,
    Reconciliation,
}

impl ReportName {
    /// What it names.
    fn scheduled(self) -> Scheduled {
        use crate::reports::Report as R;
        match self {
            Self::Sales => Scheduled::Event(R::Sales),
            Self::Revenue => Scheduled::Event(R::Revenue),
            Self::Checkins => Scheduled::Event(R::Checkins),
            Self::Inside => Scheduled::Event(R::Inside),
            Self::DoubleAdmissions => Scheduled::Event(R::DoubleAdmissions),
            Self::Devices => Scheduled::Event(R::Devices),
            Self::Shifts => Scheduled::Event(R::Shifts),
            Self::Discounts => Scheduled::Event(R::Discounts),
            Self::Seats => Scheduled::Event(R::Seats),
            Self::Reconciliation => Scheduled::Reconciliation,
        }
    }
}

/// A new schedule.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSchedule {
    /// Which report: one of the event's, or the organization's reconciliation.
    pub report: ReportName,
    /// The local time it goes out, on the event's clock (24-hour).
    #[schema(pattern = r"^([01]?[0-9]|2[0-3]):[0-5][0-9]$", example = "08:00")]
    pub time: String,
    /// The weekdays it goes out on (default: every day).
    #[serde(default)]
    #[schema(min_items = 1, max_items = 7)]
    pub days: Option<Vec<Day>>,
    /// The roles whose members get it; each must be allowed to read the report.
    #[schema(min_items = 1, max_items = 5)]
    pub roles: Vec<Role>,
    /// Made paused.
    #[serde(default)]
    pub paused: bool,
}

/// What to change of a schedule; absent fields stay. Any change counts slots from now.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleChanges {
    /// Which report.
    pub report: Option<ReportName>,
    /// The local time.
    #[schema(pattern = r"^([01]?[0-9]|2[0-3]):[0-5][0-9]$")]
    pub time: Option<String>,
    /// The weekdays.
    #[schema(min_items = 1, max_items = 7)]
    pub days: Option<Vec<Day>>,
    /// The roles.
    #[schema(min_items = 1, max_items = 5)]
    pub roles: Option<Vec<Role>>,
    /// `true` pauses it; `false` resumes it (from now: what passed while paused is not sent).
    pub paused: Option<bool>,
}

/// A report sent now.
#[derive(Serialize, ToSchema)]
pub struct SentNow {
    /// How many members it was queued for (0: nobody has the schedule's roles).
    pub recipients: i64,
}

/// A schedule's fields, checked: (report, minute, days, roles).
struct Checked {
    report: Scheduled,
    rule: slots::Rule,
    roles: String,
    paused: bool,
}

fn check(
    sales: &Sales,
    scheduled: Scheduled,
    time: &str,
    days: Option<&[Day]>,
    roles: &[Role],
    paused: bool,
) -> Result<Checked, ApiError> {
    let minute =
        slots::parse_time(time).ok_or_else(|| ApiError::invalid("time", "a time of day like 08:00"))?;
    if days.is_some_and(|d| d.len() > 7) {
        return Err(ApiError::invalid("days", "at most the seven days of the week"));
    }
    let days = match days {
        None => Some(0x7F),
        Some(days) => slots::parse_days(days.iter().map(|d| d.as_str())),
    };
    let rule = days
        .and_then(|d| slots::Rule::new(minute, d))
        .ok_or_else(|| ApiError::invalid("days", "one or more of mon, tue, wed, thu, fri, sat, sun"))?;
    if roles.is_empty() || roles.len() > 5 {
        return Err(ApiError::invalid("roles", "one to five roles whose members get the report"));
    }
    if let Some(role) = roles.iter().find(|r| !scheduled.readers().contains(r)) {
        return Err(ApiError::invalid(
            "roles",
            format!("{} may not read the {} report", role.as_str(), scheduled.name()),
        ));
    }
    if scheduled == Scheduled::Reconciliation && sales.provider.name() == "simulated" {
        return Err(ApiError::Conflict {
            code: "no_provider_books",
            message: "The simulated payment provider moves no money: there is nothing to reconcile.".into(),
        });
    }
    // In the roles' own order (owner first), as the members page lists them.
    let mut roles = roles.to_vec();
    roles.sort_unstable();
    roles.dedup();
    let roles: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
    Ok(Checked { report: scheduled, rule, roles: roles.join(","), paused })
}

/// Schedule `id` of the caller (404 otherwise).
async fn found(tx: &mut Tenant, id: i64) -> Result<store::ScheduleRow, ApiError> {
    store::schedule(tx, id).await?.ok_or(ApiError::NotFound)
}

/// Stores `c` for `event` as schedule `id` (or a new one), counting slots from `since` (now,
/// unless a change keeps the schedule's: one that passed unrun is still due); its id.
async fn save(
    tx: &mut Tenant,
    event: i64,
    id: Option<i64>,
    c: &Checked,
    since: Option<i64>,
    actor: &str,
) -> Result<i64, ApiError> {
    let zone = crate::reports::event_zone(tx, event).await?;
    let now = tx.now();
    let since = since.unwrap_or(now);
    let days = slots::days_text(c.rule.days);
    let fields = store::Fields {
        event,
        report: c.report.name(),
        minute: i64::from(c.rule.minute),
        days: &days,
        roles: &c.roles,
        paused: c.paused,
        since,
        next_at: slots::next(c.rule, &zone, since).unwrap_or(i64::MAX),
    };
    match id {
        Some(id) => {
            store::update(tx, id, &fields).await?;
            Ok(id)
        }
        None => Ok(store::insert(tx, &fields, actor).await?),
    }
}

#[utoipa::path(
    post,
    path = "/api/v1/events/{id}/report-schedules",
    tag = "reports",
    request_body = NewSchedule,
    params(("id" = i64, Path, description = "The event")),
    responses(
        (status = 201, description = "Scheduled: the report goes out at its next slot. Owners and admins.", body = ScheduleView),
        (status = 409, description = "The event has 20 schedules already (`too_many_schedules`), or a reconciliation with the simulated provider (`no_provider_books`)", body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
async fn create(
    State(db): State<Db>,
    State(sales): State<Sales>,
    caller: Caller,
    ApiPath(event): ApiPath<i64>,
    ApiJson(new): ApiJson<NewSchedule>,
) -> Result<(StatusCode, Json<ScheduleView>), ApiError> {
    caller.require(MANAGERS)?;
    let checked =
        check(&sales, new.report.scheduled(), &new.time, new.days.as_deref(), &new.roles, new.paused)?;
    let mut tx = db.tenant(caller.org_id).await?;
    crate::reports::event_zone(&mut tx, event).await?;
    if store::count(&mut tx, event).await? >= MAX_PER_EVENT {
        return Err(ApiError::Conflict {
            code: "too_many_schedules",
            message: format!("an event has at most {MAX_PER_EVENT} report schedules"),
        });
    }
    let id = save(&mut tx, event, None, &checked, None, &caller.actor()).await?;
    tx.audit(
        &caller.actor(),
        "report_schedule.create",
        "report_schedule",
        json!({"schedule": id, "event": event, "report": new.report}),
    )
    .await?;
    let row = found(&mut tx, id).await?;
    let view = views::view(&mut tx, &row).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(view)))
}

#[utoipa::path(
    get,
    path = "/api/v1/events/{id}/report-schedules",
    tag = "reports",
    params(("id" = i64, Path, description = "The event")),
    responses((status = 200, description = "The event's report schedules with their latest runs, and the reports a schedule may send. Owners and admins.", body = Schedules)),
)]
async fn list(
    State(db): State<Db>,
    caller: Caller,
    ApiPath(event): ApiPath<i64>,
) -> Result<Json<Schedules>, ApiError> {
    Ok(Json(views::schedules(&db, &caller, event).await?))
}

#[utoipa::path(
    get,
    path = "/api/v1/report-schedules/{id}",
    tag = "reports",
    params(("id" = i64, Path, description = "The schedule")),
    responses((status = 200, description = "The schedule with its latest runs. Owners and admins.", body = ScheduleView)),
)]
async fn show(
    State(db): State<Db>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ScheduleView>, ApiError> {
    caller.require(MANAGERS)?;
    let mut tx = db.tenant(caller.org_id).await?;
    let row = found(&mut tx, id).await?;
    let view = views::view(&mut tx, &row).await?;
    tx.commit().await?;
    Ok(Json(view))
}

/// Changes schedule `id` as `changes` asks (the console's form and the API).
pub async fn change_schedule(
    db: &Db,
    sales: &Sales,
    caller: &Caller,
    id: i64,
    changes: &ScheduleChanges,
) -> Result<ScheduleView, ApiError> {
    caller.require(MANAGERS)?;
    let mut tx = db.tenant(caller.org_id).await?;
    let now = found(&mut tx, id).await?;
    let days: Vec<Day> = match &changes.days {
        Some(days) => days.clone(),
        None => views::view(&mut tx, &now).await?.days,
    };
    let roles = changes.roles.clone().unwrap_or_else(|| super::roles_of(&now.roles));
    let time =
        changes.time.clone().unwrap_or_else(|| slots::time_text(u16::try_from(now.minute).unwrap_or(0)));
    let report = match changes.report {
        Some(name) => name.scheduled(),
        None => Scheduled::parse(&now.report).ok_or(ApiError::NotFound)?,
    };
    let paused = changes.paused.unwrap_or(now.paused == 1);
    let checked = check(sales, report, &time, Some(&days), &roles, paused)?;
    // A new time or new days count from now (the old rule's passed slots were not this
    // one's), as does resuming (what passed while paused is not sent); any other change
    // keeps what is due.
    let new_rule =
        i64::from(checked.rule.minute) != now.minute || slots::days_text(checked.rule.days) != now.days;
    let resumed = now.paused == 1 && !checked.paused;
    let since = (!new_rule && !resumed).then_some(now.since);
    save(&mut tx, now.event_id, Some(id), &checked, since, &caller.actor()).await?;
    tx.audit(
        &caller.actor(),
        "report_schedule.change",
        "report_schedule",
        json!({"schedule": id, "changes": changes}),
    )
    .await?;
    let row = found(&mut tx, id).await?;
    let view = views::view(&mut tx, &row).await?;
    tx.commit().await?;
    Ok(view)
}

#[utoipa::path(
    patch,
    path = "/api/v1/report-schedules/{id}",
    tag = "reports",
    request_body = ScheduleChanges,
    params(("id" = i64, Path, description = "The schedule")),
    responses((status = 200, description = "Changed; slots count from now. Owners and admins.", body = ScheduleView)),
)]
async fn change(
    State(db): State<Db>,
    State(sales): State<Sales>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(changes): ApiJson<ScheduleChanges>,
) -> Result<Json<ScheduleView>, ApiError> {
    Ok(Json(change_schedule(&db, &sales, &caller, id, &changes).await?))
}

#[utoipa::path(
    delete,
    path = "/api/v1/report-schedules/{id}",
    tag = "reports",
    params(("id" = i64, Path, description = "The schedule")),
    responses((status = 204, description = "Deleted with its runs; reports already queued still go. Owners and admins.")),
)]
async fn delete(
    State(db): State<Db>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    caller.require(MANAGERS)?;
    let mut tx = db.tenant(caller.org_id).await?;
    if !store::delete(&mut tx, id).await? {
        return Err(ApiError::NotFound);
    }
    tx.audit(&caller.actor(), "report_schedule.delete", "report_schedule", json!({"schedule": id})).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sends schedule `id`'s report now (the console's button and the API).
pub async fn send_report_now(
    db: &Db,
    sales: &Sales,
    public_url: &PublicUrl,
    caller: &Caller,
    id: i64,
) -> Result<SentNow, ApiError> {
    caller.require(MANAGERS)?;
    let with = run::Services { sales, public_url: public_url.base() };
    let sent = run::send_now(db, with, caller.org_id, id).await.map_err(|e| {
        tracing::warn!(schedule = id, error = %e, "report not sent now");
        ApiError::Unavailable
    })?;
    let recipients = sent.ok_or(ApiError::NotFound)?;
    crate::mail::kick(db);
    Ok(SentNow { recipients })
}

#[utoipa::path(
    post,
    path = "/api/v1/report-schedules/{id}/send",
    tag = "reports",
    params(("id" = i64, Path, description = "The schedule")),
    responses(
        (status = 202, description = "The report is made now and queued for the members with the schedule's roles (its next slot still comes). Owners and admins.", body = SentNow),
        (status = 503, description = "The report could not be made (the payment provider could not be asked): try again", body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
async fn send_now(
    State(db): State<Db>,
    State(sales): State<Sales>,
    State(public_url): State<PublicUrl>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<(StatusCode, Json<SentNow>), ApiError> {
    let sent = send_report_now(&db, &sales, &public_url, &caller, id).await?;
    Ok((StatusCode::ACCEPTED, Json(sent)))
}
