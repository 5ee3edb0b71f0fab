//! `/events/{id}/reports`: the hub's reports as tables (each with its CSV export), two charts,
//! and `/events/{id}/reports/summary.pdf`, the same figures printable.

use super::{Layout, PagePath, PageResult, Staff, render};
use crate::error::ApiError;
use crate::reports::{Table, cell_text};
use crate::state::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// A report as the page shows it: cells as text.
struct Shown {
    name: &'static str,
    title: &'static str,
    columns: Vec<String>,
    rows: Vec<Vec<String>>,
}

fn shown(name: &'static str, title: &'static str, table: &Table) -> Shown {
    let (columns, rows) = table.as_text();
    Shown { name, title, columns, rows }
}

/// Sums column `value` per distinct `label`, in label order.
fn totals(table: &Table, label: &str, value: &str) -> Vec<(String, i64)> {
    let (Some(l), Some(v)) =
        (table.columns.iter().position(|c| *c == label), table.columns.iter().position(|c| *c == value))
    else {
        return Vec::new();
    };
    let mut sums: BTreeMap<String, i64> = BTreeMap::new();
    for row in &table.rows {
        *sums.entry(cell_text(label, &row[l], table.currency_of(row))).or_default() +=
            row[v].as_i64().unwrap_or(0);
    }
    sums.into_iter().collect()
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A bar chart: the bars as SVG (made here, so the page needs no chart library; stretched to
/// the page's width, so its labels are HTML beside it), and the first and last label.
#[derive(Default)]
struct Chart {
    svg: String,
    first: String,
    last: String,
}

fn bars(points: &[(String, i64)]) -> Chart {
    let (Some(first), Some(last)) = (points.first(), points.last()) else { return Chart::default() };
    let max = points.iter().map(|p| p.1).max().unwrap_or(1).max(1);
    let width = 24 * points.len().max(10);
    let mut svg = format!(
        "<svg viewBox=\"0 0 {width} 120\" width=\"100%\" height=\"120\" preserveAspectRatio=\"none\" role=\"img\">"
    );
    for (i, (label, value)) in points.iter().enumerate() {
        let h = (120 * value / max).max(i64::from(*value > 0));
        let _ = write!(
            svg,
            "<rect x=\"{}\" y=\"{}\" width=\"20\" height=\"{h}\" fill=\"#2563eb\"><title>{}: {value}</title></rect>",
            24 * i + 2,
            120 - h,
            xml_escape(label)
        );
    }
    svg.push_str("</svg>");
    Chart { svg, first: first.0.clone(), last: last.0.clone() }
}

#[derive(Template)]
#[template(path = "reports.html")]
struct ReportsPage {
    layout: Layout,
    event: i64,
    event_name: String,
    reports: Vec<Shown>,
    sales_chart: Chart,
    checkins_chart: Chart,
    /// Whether the caller may schedule reports (the link to that page).
    can_schedule: bool,
}

async fn readable(
    state: &AppState,
    staff: &Staff,
    event: i64,
) -> Result<Vec<(&'static str, &'static str, Table)>, ApiError> {
    crate::reports::readable(&state.db, staff.0.org_id, event, staff.0.role).await
}

/// `GET /events/{id}/reports`.
pub(super) async fn page(
    State(state): State<AppState>,
    staff: Staff,
    PagePath(event): PagePath<i64>,
) -> PageResult {
    let layout = staff.layout(&state, "events").await?;
    let event_name = super::event(&state, staff.0.org_id, event).await?.name;
    let tables = readable(&state, &staff, event).await?;
    let chart = |name: &str, label: &str, value: &str| {
        tables.iter().find(|t| t.0 == name).map(|t| bars(&totals(&t.2, label, value))).unwrap_or_default()
    };
    let sales_chart = chart("sales", "day", "tickets_sold");
    let checkins_chart = chart("checkins", "from", "entries");
    let reports = tables.iter().map(|(name, title, table)| shown(name, title, table)).collect();
    let can_schedule = crate::schedules::views::MANAGERS.contains(&staff.0.role);
    Ok(render(&ReportsPage { layout, event, event_name, reports, sales_chart, checkins_chart, can_schedule }))
}

/// `GET /events/{id}/reports/summary.pdf`: every report the caller may read, printable.
pub(super) async fn summary(
    State(state): State<AppState>,
    staff: Staff,
    PagePath(event): PagePath<i64>,
) -> PageResult {
    let name = super::event(&state, staff.0.org_id, event).await?.name;
    let tables = readable(&state, &staff, event).await?;
    let mut lines = vec![
        print::Line::bold(20.0, &name),
        print::Line::plain(
            10.0,
            format!(
                "Printed {} UTC; times in the tables are the venue's.",
                super::local_time(Some(state.clock.now_ms()), "UTC")
            ),
        ),
    ];
    for (_, title, table) in &tables {
        let report = shown("", title, table);
        lines.push(print::Line::bold(13.0, *title));
        lines.push(print::Line::plain(8.0, report.columns.join(" | ")));
        if report.rows.is_empty() {
            lines.push(print::Line::plain(9.0, "(nothing)"));
        }
        for row in &report.rows {
            lines.push(print::Line::plain(9.0, row.join(" | ")));
        }
    }
    let pdf = print::document(&[print::Page { lines, code: None, footer: Vec::new() }])?;
    let disposition = format!("attachment; filename=\"event-{event}-summary.pdf\"");
    Ok((
        [(header::CONTENT_TYPE, "application/pdf".to_owned()), (header::CONTENT_DISPOSITION, disposition)],
        pdf,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::Cell;

    #[test]
    fn money_columns_read_as_money_and_charts_sum_per_label() {
        assert_eq!(cell_text("gross_minor", &Cell::Int(4500), "EUR"), "45.00");
        assert_eq!(cell_text("net_minor", &Cell::Int(-505), "EUR"), "-5.05");
        assert_eq!(cell_text("net_minor", &Cell::Int(-5), "EUR"), "-0.05", "the sign of amounts under one");
        assert_eq!(cell_text("net_minor", &Cell::Int(4500), "JPY"), "4500", "yen have no minor unit");
        assert_eq!(cell_text("entries", &Cell::Int(3), "EUR"), "3");
        let text = |s: &str| Cell::Text(s.into());
        let table = Table {
            columns: vec!["day", "tickets_sold"],
            rows: vec![
                vec![text("2026-11-28"), Cell::Int(2)],
                vec![text("2026-11-28"), Cell::Int(3)],
                vec![text("2026-11-29"), Cell::Int(1)],
            ],
        };
        assert_eq!(
            totals(&table, "day", "tickets_sold"),
            [("2026-11-28".to_owned(), 5), ("2026-11-29".to_owned(), 1)]
        );
        let chart = bars(&totals(&table, "day", "tickets_sold"));
        assert_eq!(chart.svg.matches("<rect").count(), 2);
        assert_eq!((chart.first.as_str(), chart.last.as_str()), ("2026-11-28", "2026-11-29"));
        assert!(bars(&[("<b>".into(), 1)]).svg.contains("&lt;b&gt;"));
    }
}
