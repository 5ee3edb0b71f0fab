//! `/reconciliation`: the organization's money against its payment provider's — payout
//! periods and every difference — as `GET /api/v1/reconciliation` answers it (its CSV linked).

use super::{Layout, PageQuery, PageResult, Staff, local_time, money, render};
use crate::error::ApiError;
use crate::state::AppState;
use askama::Template;
use axum::extract::State;
use serde::Deserialize;

struct PeriodRow {
    payout: String,
    charged: String,
    refunded: String,
    fees: String,
    net: String,
    ledger: String,
    agrees: bool,
}

struct DifferenceRow {
    order: String,
    explanation: String,
    provider: String,
    hub: String,
}

#[derive(Template)]
#[template(path = "reconciliation.html")]
struct ReconciliationPage {
    layout: Layout,
    /// Why there is nothing to show (the simulated provider), if so.
    unavailable: Option<String>,
    provider: String,
    since: String,
    since_ms: i64,
    periods: Vec<PeriodRow>,
    differences: Vec<DifferenceRow>,
    others: usize,
}

#[derive(Deserialize)]
pub(super) struct Since {
    since: Option<i64>,
}

/// `GET /reconciliation?since=`.
pub(super) async fn page(
    State(state): State<AppState>,
    staff: Staff,
    PageQuery(q): PageQuery<Since>,
) -> PageResult {
    let layout = staff.layout(&state, "money").await?;
    let found = crate::sales::reconcile::compute(&state.db, &state.sales, &staff.0, q.since).await;
    let r = match found {
        Ok(r) => r,
        Err(ApiError::Conflict { message, .. }) => {
            return Ok(render(&ReconciliationPage {
                layout,
                unavailable: Some(message),
                provider: state.sales.provider.name().to_owned(),
                since: String::new(),
                since_ms: 0,
                periods: Vec::new(),
                differences: Vec::new(),
                others: 0,
            }));
        }
        Err(e) => return Err(e.into()),
    };
    let periods = r
        .report
        .periods
        .iter()
        .map(|p| PeriodRow {
            payout: p.payout.as_ref().map_or_else(
                || "Not paid out yet".to_owned(),
                |po| {
                    format!(
                        "{} · {} · {}",
                        local_time(Some(po.created_ms), "UTC"),
                        money(po.amount_minor, &po.currency),
                        po.id
                    )
                },
            ),
            charged: money(p.charged_minor, &p.currency),
            refunded: money(p.refunded_minor, &p.currency),
            fees: money(p.fees_minor, &p.currency),
            net: money(p.net_minor, &p.currency),
            ledger: money(p.ledger_paid_minor - p.ledger_refunded_minor, &p.currency),
            agrees: p.ledger_paid_minor == p.charged_minor && p.ledger_refunded_minor == p.refunded_minor,
        })
        .collect();
    let differences = r
        .report
        .differences
        .iter()
        .map(|d| DifferenceRow {
            order: d.order.clone(),
            explanation: d.explanation.clone(),
            provider: money(d.provider_minor, &d.currency),
            hub: money(d.hub_minor, &d.currency),
        })
        .collect();
    Ok(render(&ReconciliationPage {
        layout,
        unavailable: None,
        provider: r.provider.to_owned(),
        since: local_time(Some(r.since), "UTC"),
        since_ms: r.since,
        periods,
        differences,
        others: r.report.others,
    }))
}
