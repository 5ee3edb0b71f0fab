//! What the API answers and the console shows of report schedules (one set of views for both).

use super::store::{self, RunRow, ScheduleRow};
use super::{Scheduled, roles_of, slots};
use crate::auth::Caller;
use crate::db::{Db, Tenant};
use crate::error::ApiError;
use crate::lang::Lang;
use crate::tenancy::Role;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Who manages schedules: owners and admins (a schedule mails reports to other members).
pub const MANAGERS: &[Role] = &[Role::Owner, Role::Admin];
/// Runs shown with a schedule.
const RUNS_SHOWN: i64 = 10;

/// A weekday.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs, reason = "the days of the week")]
pub enum Day {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Day {
    const ALL: [Self; 7] = [Self::Mon, Self::Tue, Self::Wed, Self::Thu, Self::Fri, Self::Sat, Self::Sun];

    /// Its name as stored.
    pub fn as_str(self) -> &'static str {
        slots::DAY_NAMES[Self::ALL.iter().position(|d| *d == self).unwrap_or(0)]
    }

    fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == name)
    }
}

/// One run of a schedule.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct RunView {
    /// The run.
    #[serde(flatten)]
    pub run: RunRow,
    /// When it was due, on the venue's clock ("Sat 13 June 2026, 08:00").
    pub due: String,
}

/// A report schedule.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ScheduleView {
    /// Its id.
    pub id: i64,
    /// The event whose report (and clock) it is.
    pub event: i64,
    /// The report's name.
    pub report: String,
    /// The report's title.
    pub title: String,
    /// The local time it runs ("08:00"), on the event's clock.
    pub time: String,
    /// The weekdays it runs on.
    pub days: Vec<Day>,
    /// The roles whose members get it.
    pub roles: Vec<Role>,
    /// Paused: its slots pass unsent.
    pub paused: bool,
    /// The event's time zone.
    pub time_zone: String,
    /// Its next slot (Unix ms; absent while paused).
    pub next_at: Option<i64>,
    /// The next slot on the venue's clock ("" while paused).
    pub next: String,
    /// Its latest runs, newest first.
    pub runs: Vec<RunView>,
    /// Why its last run failed, while it keeps failing ("" otherwise): it is tried again at
    /// `next_at`, its slots still due.
    pub problem: String,
    /// Who made it.
    pub created_by: String,
    /// When (Unix ms).
    pub created_at: i64,
}

/// A report a schedule may send, and who may receive it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ReportChoice {
    /// Its name.
    pub name: &'static str,
    /// Its title.
    pub title: &'static str,
    /// The roles that may receive it.
    pub readers: Vec<Role>,
}

/// An event's schedules, and what they may send.
#[derive(Serialize, ToSchema)]
pub struct Schedules {
    /// Oldest first.
    pub schedules: Vec<ScheduleView>,
    /// The reports a schedule may send.
    pub reports: Vec<ReportChoice>,
}

/// A schedule as shown.
pub async fn view(tx: &mut Tenant, s: &ScheduleRow) -> Result<ScheduleView, ApiError> {
    let zone_name = store::event_facts(tx, s.event_id).await?.map(|e| e.time_zone).unwrap_or_default();
    let runs = store::runs(tx, s.id, RUNS_SHOWN).await?;
    let local = |ms: i64| Lang::En.date_time(ms, &zone_name);
    let paused = s.paused == 1;
    // Set to 0 when the event's zone changed: the next round sets it; shown already.
    let next_at = if s.next_at == 0 {
        let zone = jiff::tz::TimeZone::get(&zone_name).unwrap_or(jiff::tz::TimeZone::UTC);
        super::run::rule_of(s)
            .ok()
            .and_then(|rule| slots::next(rule, &zone, s.since.max(tx.now())))
            .unwrap_or(i64::MAX)
    } else {
        s.next_at
    };
    Ok(ScheduleView {
        id: s.id,
        event: s.event_id,
        report: s.report.clone(),
        title: Scheduled::parse(&s.report).map(|r| r.title(Lang::En)).unwrap_or_default().to_owned(),
        time: slots::time_text(u16::try_from(s.minute).unwrap_or(0)),
        days: s.days.split(',').filter_map(Day::parse).collect(),
        roles: roles_of(&s.roles),
        paused,
        next_at: (!paused && next_at < i64::MAX).then_some(next_at),
        next: if paused || next_at == i64::MAX { String::new() } else { local(next_at) },
        runs: runs.into_iter().map(|run| RunView { due: local(run.slot_at), run }).collect(),
        problem: s.last_error.clone(),
        time_zone: zone_name,
        created_by: s.created_by.clone(),
        created_at: s.created_at,
    })
}

/// The caller's schedules of `event` (404 if the event is not theirs).
pub async fn schedules(db: &Db, caller: &Caller, event: i64) -> Result<Schedules, ApiError> {
    caller.require(MANAGERS)?;
    let mut tx = db.tenant(caller.org_id).await?;
    crate::reports::event_zone(&mut tx, event).await?;
    let mut schedules = Vec::new();
    for row in store::of_event(&mut tx, event).await? {
        schedules.push(view(&mut tx, &row).await?);
    }
    tx.commit().await?;
    let reports = Scheduled::all()
        .map(|s| ReportChoice { name: s.name(), title: s.title(Lang::En), readers: s.readers().to_vec() })
        .collect();
    Ok(Schedules { schedules, reports })
}
