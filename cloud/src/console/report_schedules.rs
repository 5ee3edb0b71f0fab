//! `/events/{id}/report-schedules`: the event's scheduled reports — add one (which report, at
//! what time on the venue's clock, on which days, to which roles), see each one's next time
//! and latest runs, send one now, pause, resume or delete it. Owners and admins, as in the
//! API, whose functions this page calls ([`crate::schedules`]).

use super::{Layout, PagePath, PageResult, Staff, render};
use crate::schedules::views::{self, MANAGERS, ReportChoice, ScheduleView};
use crate::state::AppState;
use crate::tenancy::Role;
use askama::Template;
use axum::extract::State;

/// A schedule as the page lists it.
struct Row {
    view: ScheduleView,
    /// "Every day", or "mon, wed".
    days: String,
    /// "Owner, Viewer".
    roles: String,
}

#[derive(Template)]
#[template(path = "report_schedules.html")]
struct SchedulesPage {
    layout: Layout,
    event: i64,
    event_name: String,
    time_zone: String,
    rows: Vec<Row>,
    reports: Vec<ReportChoice>,
    /// Every role, as (name, label).
    roles: Vec<(&'static str, &'static str)>,
}

/// `GET /events/{id}/report-schedules`.
pub(super) async fn page(
    State(state): State<AppState>,
    staff: Staff,
    PagePath(event): PagePath<i64>,
) -> PageResult {
    staff.0.require(MANAGERS)?;
    let layout = staff.layout(&state, "events").await?;
    let detail = super::event(&state, staff.0.org_id, event).await?;
    let found = views::schedules(&state.db, &staff.0, event).await?;
    let rows = found
        .schedules
        .into_iter()
        .map(|view| Row {
            days: if view.days.len() == 7 {
                "Every day".into()
            } else {
                view.days.iter().map(|d| d.as_str()).collect::<Vec<_>>().join(", ")
            },
            roles: view.roles.iter().map(|r| r.label()).collect::<Vec<_>>().join(", "),
            view,
        })
        .collect();
    let roles = [Role::Owner, Role::Admin, Role::BoxOffice, Role::GateStaff, Role::Viewer]
        .into_iter()
        .map(|r| (r.as_str(), r.label()))
        .collect();
    Ok(render(&SchedulesPage {
        layout,
        event,
        event_name: detail.name,
        time_zone: detail.time_zone,
        rows,
        reports: found.reports,
        roles,
    }))
}
