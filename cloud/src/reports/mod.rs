//! Reports of one event, as JSON (`{"columns": […], "rows": […]}`) or CSV (`?format=csv`):
//!
//! | report | what | who |
//! |---|---|---|
//! | `sales` | tickets sold and refunded, list value, discounts, money in and back, by day, ticket type, channel and box office | owner, admin, box office, viewer |
//! | `revenue` | money received and refunded by payment method, from the ledger; discounts given per method | owner, admin, viewer |
//! | `checkins` | entries, exits and refusals by gate per 15 minutes | everyone |
//! | `inside` | who is inside now, by ticket type | everyone |
//! | `double-admissions` | single-entry tickets admitted more than once (offline gates) | everyone |
//! | `devices` | the event's devices: last seen, entries not yet synced, scans | owner, admin, viewer |
//! | `shifts` | closed box-office shifts: cashier, receipts, sales, voids, expected vs counted cash | owner, admin, box office, viewer |
//! | `discounts` | vouchers and automatic discounts in paid orders, by tag and code or rule: list value, discount, paid | owner, admin, box office, viewer |
//! | `seats` | an event sold by seat: its seats by category, free, held, sold, blocked and leased | owner, admin, box office, viewer |
//!
//! Days and times are the venue's (the event's time zone). Queries aggregate in SQL to 15-minute
//! buckets (every time zone's offset is a multiple of 15 minutes), and Rust turns buckets into
//! local days and times — so a report over 500,000 tickets reads thousands of rows, not
//! hundreds of thousands, and both backends share the SQL. Scans are read through what
//! triggers on `checkins` keep (migration 0024): `checkin_counts` (scans per quarter hour,
//! gate, device and verdict: the check-ins and devices reports, the admissions count) and
//! `presence` (per ticket: admissions, latest movement, inside or not: the inside and
//! double-admissions reports, the inside count) — a million check-ins are not read again for
//! every dashboard update.

pub mod live;
mod queries;

pub use queries::event_zone;

/// How many people are inside now (tickets whose latest movement is an entry).
pub async fn inside_now(tx: &mut crate::db::Tenant, event: i64) -> Result<i64, ApiError> {
    let table = queries::inside(tx, event).await?;
    Ok(table.rows.last().and_then(|total| total[2].as_i64()).unwrap_or(0))
}

/// How many single-entry tickets were admitted more than once.
pub async fn double_admission_count(tx: &mut crate::db::Tenant, event: i64) -> Result<i64, ApiError> {
    Ok(i64::try_from(queries::doubly_admitted(tx, event).await?.len()).unwrap_or(i64::MAX))
}

use crate::auth::Caller;
use crate::db::Db;
use crate::error::ApiError;
use crate::path::ApiPath;
use crate::query::ApiQuery;
use crate::state::AppState;
use crate::tenancy::Role;
use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};

/// The routes, with their OpenAPI documentation.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(report)).routes(routes!(live_now))
}

/// When a device counts as offline.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LiveOptions {
    /// A device counts as offline after this many minutes without contact (default 5).
    #[param(minimum = 1, maximum = 1440)]
    pub offline_minutes: Option<i64>,
}

impl LiveOptions {
    /// The minutes, 5 if not given.
    pub fn minutes(&self) -> Result<i64, ApiError> {
        let minutes = self.offline_minutes.unwrap_or(5);
        crate::checks::range("offline_minutes", minutes, 1, 24 * 60)?;
        Ok(minutes)
    }
}

/// Who reads the live figures: every role (the gate figures are everyone's).
const LIVE_READERS: &[Role] = &[Role::Owner, Role::Admin, Role::BoxOffice, Role::GateStaff, Role::Viewer];

#[utoipa::path(
    get,
    path = "/api/v1/events/{id}/live",
    tag = "reports",
    params(("id" = i64, Path, description = "The event"), LiveOptions),
    responses(
        (status = 200, description = "The event's live figures now: admissions, inside, sold today, double admissions, admissions per minute, devices offline", body = live::Snapshot),
    ),
)]
async fn live_now(
    State(db): State<Db>,
    caller: Caller,
    ApiPath(event): ApiPath<i64>,
    ApiQuery(options): ApiQuery<LiveOptions>,
) -> Result<Json<live::Snapshot>, ApiError> {
    caller.require(LIVE_READERS)?;
    Ok(Json(live::snapshot(&db, caller.org_id, event, options.minutes()?).await?))
}

/// A report: named columns and rows of values.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Table {
    /// Column names.
    pub columns: Vec<&'static str>,
    /// Rows, each as long as `columns`.
    pub rows: Vec<Vec<Cell>>,
}

/// One value of a report: text, a whole number, a yes/no, or nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum Cell {
    /// Text (names, local times, currencies).
    Text(String),
    /// A count or an amount in minor units.
    Int(i64),
    /// A yes/no.
    Bool(bool),
    /// No value (a total's empty key, a device never seen).
    Null,
}

impl Cell {
    /// The number, if it is one.
    pub fn as_i64(&self) -> Option<i64> {
        if let Self::Int(n) = self { Some(*n) } else { None }
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Self {
        Self::Text(s)
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Self::Text(s.to_owned())
    }
}

impl From<i64> for Cell {
    fn from(n: i64) -> Self {
        Self::Int(n)
    }
}

impl From<bool> for Cell {
    fn from(b: bool) -> Self {
        Self::Bool(b)
    }
}

impl<T: Into<Cell>> From<Option<T>> for Cell {
    fn from(v: Option<T>) -> Self {
        v.map_or(Self::Null, Into::into)
    }
}

impl std::fmt::Display for Cell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Text(s) => f.write_str(s),
            Self::Int(n) => write!(f, "{n}"),
            Self::Bool(b) => write!(f, "{b}"),
            Self::Null => Ok(()),
        }
    }
}

/// A cell as people read it: a `…_minor` column's amounts as money in the row's `currency`
/// ("4500" → "45.00"), everything else as it is.
pub fn cell_text(column: &str, value: &Cell, currency: &str) -> String {
    match value {
        Cell::Int(minor) if column.ends_with("_minor") => sync_core::money::format_amount(*minor, currency),
        other => other.to_string(),
    }
}

impl Table {
    /// A table of `columns`, no rows yet.
    pub fn new(columns: &[&'static str]) -> Self {
        Self { columns: columns.to_vec(), rows: Vec::new() }
    }

    /// The currency of a row's `cells`, if the table has a `currency` column.
    pub fn currency_of<'a>(&self, cells: &'a [Cell]) -> &'a str {
        match self.columns.iter().position(|c| *c == "currency").and_then(|i| cells.get(i)) {
            Some(Cell::Text(c)) => c,
            _ => "",
        }
    }

    /// As people read it (the console's tables, the printed reports): column names in words
    /// ("gross_minor" → "gross"), amounts as money.
    pub fn as_text(&self) -> (Vec<String>, Vec<Vec<String>>) {
        let columns = self.columns.iter().map(|c| c.trim_end_matches("_minor").replace('_', " ")).collect();
        let rows = self
            .rows
            .iter()
            .map(|row| {
                row.iter().zip(&self.columns).map(|(v, c)| cell_text(c, v, self.currency_of(row))).collect()
            })
            .collect();
        (columns, rows)
    }

    /// As CSV with a header row (RFC 4180, via the csv crate).
    pub fn to_csv(&self) -> anyhow::Result<Vec<u8>> {
        let mut out = csv::Writer::from_writer(Vec::new());
        out.write_record(&self.columns)?;
        for row in &self.rows {
            out.write_record(row.iter().map(ToString::to_string))?;
        }
        out.into_inner().map_err(|e| anyhow::anyhow!("{e}"))
    }
}

/// Runs `report` for the organization's `event` (404 if the event is not theirs).
pub async fn compute(tx: &mut crate::db::Tenant, event: i64, report: Report) -> Result<Table, ApiError> {
    let zone = queries::event_zone(tx, event).await?;
    match report {
        Report::Sales => queries::sales(tx, event, &zone).await,
        Report::Revenue => queries::revenue(tx, event).await,
        Report::Checkins => queries::checkins(tx, event, &zone).await,
        Report::Inside => queries::inside(tx, event).await,
        Report::DoubleAdmissions => queries::double_admissions(tx, event, &zone).await,
        Report::Devices => queries::devices(tx, event, &zone).await,
        Report::Shifts => queries::shifts(tx, event, &zone).await,
        Report::Discounts => queries::discounts(tx, event).await,
        Report::Seats => queries::seats(tx, event).await,
    }
}

/// Every report the caller's `role` may read, in the console's order: (name in the URL,
/// title, table).
pub async fn readable(
    db: &Db,
    org: i64,
    event: i64,
    role: Role,
) -> Result<Vec<(&'static str, &'static str, Table)>, ApiError> {
    let mut tx = db.tenant(org).await?;
    let mut out = Vec::new();
    for report in Report::ALL {
        let (name, title) = (report.name(), report.title());
        if report.readers().contains(&role) {
            let table = compute(&mut tx, event, report).await?;
            // An event sold by ticket type has no seats to report.
            if name != "seats" || !table.rows.is_empty() {
                out.push((name, title, table));
            }
        }
    }
    tx.commit().await?;
    Ok(out)
}

/// One of an event's reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs, reason = "the module's table says what each is")]
pub enum Report {
    Sales,
    Revenue,
    Checkins,
    Inside,
    DoubleAdmissions,
    Devices,
    Shifts,
    Discounts,
    Seats,
}

impl Report {
    /// Every report, in the console's order.
    pub const ALL: [Self; 9] = [
        Self::Sales,
        Self::Revenue,
        Self::Checkins,
        Self::Inside,
        Self::DoubleAdmissions,
        Self::Devices,
        Self::Shifts,
        Self::Discounts,
        Self::Seats,
    ];

    /// The report named `name` (as in the URL).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.name() == name)
    }

    /// Its name in the URL.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sales => "sales",
            Self::Revenue => "revenue",
            Self::Checkins => "checkins",
            Self::Inside => "inside",
            Self::DoubleAdmissions => "double-admissions",
            Self::Devices => "devices",
            Self::Shifts => "shifts",
            Self::Discounts => "discounts",
            Self::Seats => "seats",
        }
    }

    /// Its title.
    pub fn title(self) -> &'static str {
        match self {
            Self::Sales => "Sales",
            Self::Revenue => "Revenue",
            Self::Checkins => "Check-ins per 15 minutes",
            Self::Inside => "Inside now",
            Self::DoubleAdmissions => "Double admissions",
            Self::Devices => "Devices",
            Self::Shifts => "Box-office shifts",
            Self::Discounts => "Discounts by tag and code",
            Self::Seats => "Seats by category",
        }
    }

    /// The roles that may read it.
    pub fn readers(self) -> &'static [Role] {
        match self {
            Self::Sales | Self::Shifts | Self::Discounts | Self::Seats => {
                &[Role::Owner, Role::Admin, Role::BoxOffice, Role::Viewer]
            }
            Self::Revenue | Self::Devices => &[Role::Owner, Role::Admin, Role::Viewer],
            Self::Checkins | Self::Inside | Self::DoubleAdmissions => {
                &[Role::Owner, Role::Admin, Role::BoxOffice, Role::GateStaff, Role::Viewer]
            }
        }
    }
}

/// How a report is answered (the reports here, and the reconciliation).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// JSON.
    #[default]
    Json,
    /// Comma-separated values with a header row.
    Csv,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct FormatQuery {
    /// json (default) or csv.
    #[serde(default)]
    #[param(inline)]
    format: Option<Format>,
}

/// A report's name, as in the URL.
#[derive(Clone, Copy, Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
#[allow(dead_code)] // documentation only: the handler parses the name itself
enum ReportName {
    Sales,
    Revenue,
    Checkins,
    Inside,
    DoubleAdmissions,
    Devices,
    Shifts,
    Discounts,
    Seats,
}

#[utoipa::path(
    get,
    path = "/api/v1/events/{id}/reports/{name}",
    tag = "reports",
    params(
        ("id" = i64, Path, description = "The event"),
        ("name" = inline(ReportName), Path, description = "Which report"),
        FormatQuery,
    ),
    responses(
        (status = 200, description = "The report: columns and rows as JSON, or CSV", content(
            (Table = "application/json"),
            (String = "text/csv"),
        )),
    ),
)]
async fn report(
    State(db): State<Db>,
    caller: Caller,
    ApiPath((event, name)): ApiPath<(i64, String)>,
    ApiQuery(format): ApiQuery<FormatQuery>,
) -> Result<Response, ApiError> {
    let report = Report::parse(&name).ok_or(ApiError::NotFound)?;
    caller.require(report.readers())?;
    let mut tx = db.tenant(caller.org_id).await?;
    let table = compute(&mut tx, event, report).await?;
    tx.commit().await?;
    if format.format.unwrap_or_default() == Format::Csv {
        let disposition = format!("attachment; filename=\"event-{event}-{name}.csv\"");
        Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (header::CONTENT_DISPOSITION, disposition),
            ],
            table.to_csv()?,
        )
            .into_response())
    } else {
        Ok(Json(table).into_response())
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn csv_quotes_what_needs_quoting() {
        use super::Cell;
        let mut t = super::Table::new(&["name", "count"]);
        t.rows.push(vec![Cell::from("Gate, \"North\""), Cell::from(3)]);
        t.rows.push(vec![Cell::Null, Cell::from(0)]);
        assert_eq!(
            String::from_utf8(t.to_csv().unwrap()).unwrap(),
            "name,count\n\"Gate, \"\"North\"\"\",3\n,0\n"
        );
    }
}
