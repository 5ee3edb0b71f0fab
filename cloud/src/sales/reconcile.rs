//! The organization's books against its payment provider's: `GET /api/v1/reconciliation`
//! (JSON, or `?format=csv`) and the console's page. What the provider moved since a time is
//! asked of it ([`crate::payments::PaymentProvider::books`]); what the hub holds is read from
//! its payments and refunds; the comparison is [`crate::payments::reconcile::reconcile`].

use super::Sales;
use super::store;
use crate::auth::Caller;
use crate::db::Db;
use crate::error::{ApiError, ProblemDetails};
use crate::payments::reconcile::{DifferenceKind, Report, reconcile};
use crate::query::ApiQuery;
use crate::reports::{Cell, Format, Table};
use crate::state::AppState;
use crate::tenancy::Role;
use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

/// Who may see the money's reconciliation.
pub const RECONCILERS: &[Role] = &[Role::Owner, Role::Admin, Role::Viewer];
/// The window when none is asked for: the last 30 days.
const DEFAULT_WINDOW_MS: i64 = 30 * 86_400_000;
/// The longest window: Stripe keeps balance transactions for ever, but a reconciliation of
/// more than a year is for its own reports.
const MAX_WINDOW_MS: i64 = 366 * 86_400_000;

/// The route, with its OpenAPI documentation.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(reconciliation))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct Window {
    /// From when (Unix ms); default 30 days ago; an earlier time is taken as a year ago.
    since: Option<i64>,
    /// json (default) or csv.
    #[param(inline)]
    format: Option<Format>,
}

/// The reconciliation, with what it covers.
#[derive(Serialize, ToSchema)]
pub struct Reconciliation {
    /// The provider's name.
    pub provider: &'static str,
    /// From when (Unix ms).
    pub since: i64,
    /// Until when: now (Unix ms).
    pub until: i64,
    /// Periods and differences.
    #[serde(flatten)]
    pub report: Report,
}

#[utoipa::path(
    get,
    path = "/api/v1/reconciliation",
    tag = "payments",
    params(Window),
    responses(
        (status = 200, description = "The provider's payouts and movements against the hub's ledger, with every difference. Owners, admins, viewers.", content(
            (Reconciliation = "application/json"),
            (String = "text/csv"),
        )),
        (status = 409, description = "The simulated provider moves no money: nothing to reconcile (`no_provider_books`)", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 503, description = "The provider could not be asked: try again", body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
async fn reconciliation(
    State(db): State<Db>,
    State(sales): State<Sales>,
    caller: Caller,
    ApiQuery(window): ApiQuery<Window>,
) -> Result<Response, ApiError> {
    let found = compute(&db, &sales, &caller, window.since).await?;
    if window.format.unwrap_or_default() == Format::Csv {
        return Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (header::CONTENT_DISPOSITION, "attachment; filename=\"reconciliation.csv\""),
            ],
            to_table(&found).to_csv()?,
        )
            .into_response());
    }
    Ok(Json(found).into_response())
}

/// The caller's organization's reconciliation since `since` (default 30 days ago).
pub async fn compute(
    db: &Db,
    sales: &Sales,
    caller: &Caller,
    since: Option<i64>,
) -> Result<Reconciliation, ApiError> {
    caller.require(RECONCILERS)?;
    compute_for(db, sales, caller.org_id, since).await
}

/// Organization `org`'s reconciliation since `since` (default 30 days ago): for a caller who
/// may read it, or a schedule whose readers may.
pub async fn compute_for(
    db: &Db,
    sales: &Sales,
    org: i64,
    since: Option<i64>,
) -> Result<Reconciliation, ApiError> {
    let until = db.clock().now_ms();
    // Any time is taken, kept within the last year (a later one is an empty window).
    let since = since.unwrap_or(until - DEFAULT_WINDOW_MS).clamp(until - MAX_WINDOW_MS, until);
    let books = sales.provider.books(since).await.map_err(|e| {
        tracing::warn!(error = %e, "the payment provider could not be asked for its books");
        ApiError::Unavailable
    })?;
    let Some(books) = books else {
        return Err(ApiError::Conflict {
            code: "no_provider_books",
            message: "The simulated payment provider moves no money: there is nothing to reconcile.".into(),
        });
    };
    let named: Vec<&str> = books.movements.iter().filter_map(|m| m.payment.as_deref()).collect();
    let mut tx = db.tenant(org).await?;
    let payments = store::reconcilable_payments(&mut tx, since, &named).await?;
    tx.commit().await?;
    let report = reconcile(&books, &payments, since);
    Ok(Reconciliation { provider: sales.provider.name(), since, until, report })
}

/// The words a CSV row uses for a difference.
fn kind_word(kind: DifferenceKind) -> &'static str {
    match kind {
        DifferenceKind::ChargedNotSeen => "charged_not_seen",
        DifferenceKind::Amount => "amount",
        DifferenceKind::PaidWithoutCharge => "paid_without_charge",
        DifferenceKind::Refund => "refund",
    }
}

/// The reconciliation as a table: one row per period (its payout, the provider's figures and
/// the ledger's), then one per difference. Its CSV is the API's, its PDF a scheduled report's.
pub fn to_table(r: &Reconciliation) -> Table {
    let mut table = Table::new(&[
        "row",
        "payout",
        "payout_at",
        "currency",
        "charged_minor",
        "refunded_minor",
        "fees_minor",
        "net_minor",
        "ledger_paid_minor",
        "ledger_refunded_minor",
        "difference",
        "order",
        "provider_payment",
        "provider_minor",
        "hub_minor",
        "explanation",
    ]);
    for p in &r.report.periods {
        let (payout, at) = p.payout.as_ref().map_or((Cell::from("(open)"), Cell::Null), |p| {
            (Cell::from(p.id.as_str()), Cell::from(p.created_ms))
        });
        let mut row = vec![Cell::from("period"), payout, at, Cell::from(p.currency.as_str())];
        row.extend(
            [
                p.charged_minor,
                p.refunded_minor,
                p.fees_minor,
                p.net_minor,
                p.ledger_paid_minor,
                p.ledger_refunded_minor,
            ]
            .map(Cell::from),
        );
        row.extend(std::iter::repeat_n(Cell::Null, 6));
        table.rows.push(row);
    }
    for d in &r.report.differences {
        let mut row = vec![Cell::from("difference"), Cell::Null, Cell::Null, Cell::from(d.currency.as_str())];
        row.extend(std::iter::repeat_n(Cell::Null, 6));
        row.extend([
            Cell::from(kind_word(d.kind)),
            Cell::from(d.order.as_str()),
            Cell::from(d.provider_payment.as_str()),
            Cell::from(d.provider_minor),
            Cell::from(d.hub_minor),
            Cell::from(d.explanation.as_str()),
        ]);
        table.rows.push(row);
    }
    table
}
