//! Reports of one event, as JSON (`{"columns": […], "rows": […]}`) or CSV (`?format=csv`):
//!
//! | report | what | who |
//! |---|---|---|
//! | `sales` | tickets sold and refunded, money in and back, by day, ticket type, channel and box office | owner, admin, box office, viewer |
//! | `revenue` | money received and refunded by payment method, from the ledger | owner, admin, viewer |
//! | `checkins` | entries, exits and refusals by gate per 15 minutes | everyone |
//! | `inside` | who is inside now, by ticket type | everyone |
//! | `double-admissions` | single-entry tickets admitted more than once (offline gates) | everyone |
//! | `devices` | the event's devices: last seen, entries not yet synced, scans | owner, admin, viewer |
//! | `shifts` | closed box-office shifts: cashier, receipts, sales, voids, expected vs counted cash | owner, admin, box office, viewer |
//!
//! Days and times are the venue's (the event's time zone). Queries aggregate in SQL to 15-minute
//! buckets (every time zone's offset is a multiple of 15 minutes), and Rust turns buckets into
//! local days and times — so a report over 500,000 tickets reads thousands of rows, not
//! hundreds of thousands, and both backends share the SQL.

mod queries;

pub(crate) use queries::event_zone;

/// How many people are inside now (tickets whose latest movement is an entry).
pub(crate) async fn inside_now(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    event: i64,
) -> Result<i64, ApiError> {
    let table = queries::inside(tx, event).await?;
    Ok(table.rows.last().and_then(|total| total[2].as_i64()).unwrap_or(0))
}

/// How many single-entry tickets were admitted more than once.
pub(crate) async fn double_admission_count(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    event: i64,
) -> Result<i64, ApiError> {
    Ok(i64::try_from(queries::doubly_admitted(tx, event).await?.len()).unwrap_or(i64::MAX))
}

use crate::auth::Caller;
use crate::error::ApiError;
use crate::path::ApiPath;
use crate::server::AppState;
use crate::tenancy::Role;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa_axum::{router::OpenApiRouter, routes};

/// The routes, with their OpenAPI documentation.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(report))
}

/// A report: named columns and rows of values.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Table {
    /// Column names.
    pub columns: Vec<&'static str>,
    /// Rows, each as long as `columns`.
    #[schema(value_type = Vec<Vec<serde_json::Value>>)]
    pub rows: Vec<Vec<Value>>,
}

impl Table {
    fn new(columns: &[&'static str]) -> Self {
        Self { columns: columns.to_vec(), rows: Vec::new() }
    }

    /// As CSV with a header row (RFC 4180, via the csv crate).
    pub fn to_csv(&self) -> anyhow::Result<Vec<u8>> {
        let mut out = csv::Writer::from_writer(Vec::new());
        out.write_record(&self.columns)?;
        for row in &self.rows {
            out.write_record(row.iter().map(|v| match v {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                other => other.to_string(),
            }))?;
        }
        out.into_inner().map_err(|e| anyhow::anyhow!("{e}"))
    }
}

/// Runs `report` for the organization's `event` (404 if the event is not theirs).
async fn compute(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    org: i64,
    event: i64,
    report: Report,
) -> Result<Table, ApiError> {
    let zone = queries::event_zone(tx, org, event).await?;
    match report {
        Report::Sales => queries::sales(tx, event, &zone).await,
        Report::Revenue => queries::revenue(tx, event).await,
        Report::Checkins => queries::checkins(tx, event, &zone).await,
        Report::Inside => queries::inside(tx, event).await,
        Report::DoubleAdmissions => queries::double_admissions(tx, event, &zone).await,
        Report::Devices => queries::devices(tx, event, &zone).await,
        Report::Shifts => queries::shifts(tx, event, &zone).await,
    }
}

/// Every report the caller's `role` may read, in the console's order: (name in the URL,
/// title, table).
pub(crate) async fn readable(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    org: i64,
    event: i64,
    role: Role,
) -> Result<Vec<(&'static str, &'static str, Table)>, ApiError> {
    let mut out = Vec::new();
    for (name, title) in [
        ("sales", "Sales"),
        ("revenue", "Revenue"),
        ("checkins", "Check-ins per 15 minutes"),
        ("inside", "Inside now"),
        ("double-admissions", "Double admissions"),
        ("devices", "Devices"),
        ("shifts", "Box-office shifts"),
    ] {
        let report = Report::parse(name).ok_or(ApiError::NotFound)?;
        if report.readers().contains(&role) {
            out.push((name, title, compute(tx, org, event, report).await?));
        }
    }
    Ok(out)
}

#[derive(Clone, Copy)]
enum Report {
    Sales,
    Revenue,
    Checkins,
    Inside,
    DoubleAdmissions,
    Devices,
    Shifts,
}

impl Report {
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "sales" => Self::Sales,
            "revenue" => Self::Revenue,
            "checkins" => Self::Checkins,
            "inside" => Self::Inside,
            "double-admissions" => Self::DoubleAdmissions,
            "devices" => Self::Devices,
            "shifts" => Self::Shifts,
            _ => return None,
        })
    }

    fn readers(self) -> &'static [Role] {
        match self {
            Self::Sales | Self::Shifts => &[Role::Owner, Role::Admin, Role::BoxOffice, Role::Viewer],
            Self::Revenue | Self::Devices => &[Role::Owner, Role::Admin, Role::Viewer],
            Self::Checkins | Self::Inside | Self::DoubleAdmissions => {
                &[Role::Owner, Role::Admin, Role::BoxOffice, Role::GateStaff, Role::Viewer]
            }
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Format {
    #[serde(default)]
    format: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/events/{id}/reports/{name}",
    tag = "reports",
    params(
        ("id" = i64, Path, description = "The event"),
        ("name" = String, Path, description = "sales, revenue, checkins, inside, double-admissions, devices or shifts"),
        ("format" = Option<String>, Query, description = "json (default) or csv"),
    ),
    responses(
        (status = 200, description = "The report: columns and rows, or CSV", body = Table),
    ),
)]
async fn report(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((event, name)): ApiPath<(i64, String)>,
    Query(format): Query<Format>,
) -> Result<Response, ApiError> {
    let report = Report::parse(&name).ok_or(ApiError::NotFound)?;
    caller.require(report.readers())?;
    let csv = match format.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => return Err(ApiError::invalid("format", "json or csv")),
    };
    let mut tx = state.db.tenant(caller.org_id).await?;
    let table = compute(&mut tx, caller.org_id, event, report).await?;
    tx.commit().await?;
    if csv {
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
    use serde_json::json;

    #[test]
    fn csv_quotes_what_needs_quoting() {
        let mut t = super::Table::new(&["name", "count"]);
        t.rows.push(vec![json!("Gate, \"North\""), json!(3)]);
        t.rows.push(vec![json!(null), json!(0)]);
        assert_eq!(
            String::from_utf8(t.to_csv().unwrap()).unwrap(),
            "name,count\n\"Gate, \"\"North\"\"\",3\n,0\n"
        );
    }
}
