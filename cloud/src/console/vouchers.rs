//! `/events/{id}/vouchers`: the event's vouchers with their use — make one or a batch, export
//! them as CSV, block one — and `/events/{id}/vouchers/{code}`: a voucher with the orders
//! that used it. The writes go through `/api/v1/events/{id}/vouchers` and `…/voucher-batches`.

use super::{Layout, PagePath, PageQuery, PageResult, Staff, local_time, money, render};
use crate::state::AppState;
use crate::vouchers::VoucherView;
use askama::Template;
use axum::extract::State;
use serde::Deserialize;

/// Vouchers listed on one page (the rest through "next", or the CSV export).
const PAGE: usize = 200;

struct VoucherRow {
    code: String,
    price: String,
    covers: String,
    used: String,
    valid: String,
    tag: String,
    blocked: bool,
}

/// What a voucher or an automatic discount does to a price, in words: its stored mode
/// (`set`, `subtract`, `percent`, `unlock`, `buy_get`), value and (`buy_get`) free tickets.
pub(super) fn gives(mode: &str, value: i64, free: i64, currency: &str) -> String {
    match mode {
        "set" => format!("costs {}", money(value, currency)),
        "subtract" => format!("{} off", money(value, currency)),
        "percent" => format!("{value} % off"),
        "buy_get" => format!("buy {value} get {free} free"),
        _ => "price unchanged".into(),
    }
}

/// The currency of an event's ticket types (a voucher's or discount's amounts are in it).
pub(super) fn currency(event: &crate::events::EventDetail) -> String {
    event.ticket_types.first().map_or_else(|| "EUR".to_owned(), |t| t.currency.clone())
}

/// What a row is in the interval `from`–`until` on the venue's clock, or "always".
pub(super) fn period(from: Option<i64>, until: Option<i64>, zone: &str) -> String {
    match (from, until) {
        (None, None) => "always".into(),
        (from, until) => format!("{} – {}", local_time(from, zone), local_time(until, zone)),
    }
}

fn row(v: &VoucherView, currency: &str, zone: &str) -> VoucherRow {
    let price = gives(v.mode.0.as_str(), v.value, 0, currency);
    let mut covers =
        if v.ticket_types.is_empty() { "all types".to_owned() } else { format!("types {}", v.ticket_types) };
    if v.reserves.0 {
        covers = format!("{covers} · {} set aside", v.reserved);
    }
    if v.unlocks_hidden.0 {
        covers.push_str(" · opens hidden types");
    }
    let valid = period(v.valid_from, v.valid_until, zone);
    VoucherRow {
        code: v.code.clone(),
        price,
        covers,
        used: if v.leased > 0 {
            format!(
                "{} paid + {} pending + {} at box offices of {}",
                v.redeemed, v.held, v.leased, v.max_uses
            )
        } else {
            format!("{} paid + {} pending of {}", v.redeemed, v.held, v.max_uses)
        },
        valid,
        tag: v.tag.clone(),
        blocked: v.blocked_at.is_some(),
    }
}

#[derive(Template)]
#[template(path = "vouchers.html")]
struct VouchersPage {
    layout: Layout,
    event: i64,
    event_name: String,
    currency: String,
    types: Vec<(i64, String)>,
    tag: String,
    vouchers: Vec<VoucherRow>,
    next: Option<String>,
}

/// `?tag=&after=` on the list.
#[derive(Deserialize)]
pub(super) struct ListQuery {
    tag: Option<String>,
    after: Option<String>,
}

/// `GET /events/{id}/vouchers`.
pub(super) async fn list(
    State(state): State<AppState>,
    staff: Staff,
    PagePath(event): PagePath<i64>,
    PageQuery(q): PageQuery<ListQuery>,
) -> PageResult {
    staff.0.require(crate::vouchers::routes::READERS)?;
    let layout = staff.layout(&state, "events").await?;
    let detail = super::event(&state, staff.0.org_id, event).await?;
    let tag = q.tag.unwrap_or_default().trim().to_owned();
    let mut tx = state.db.tenant(staff.0.org_id).await?;
    let after = q.after.unwrap_or_default().to_ascii_uppercase();
    let lookupable = crate::checks::lookupable(&tag, 400) && crate::checks::lookupable(&after, 128);
    let mut found = if lookupable {
        let tag = (!tag.is_empty()).then_some(tag.as_str());
        crate::vouchers::store::list(&mut tx, event, tag, &after, 201).await? // PAGE + 1: is there a next?
    } else {
        Vec::new()
    };
    tx.commit().await?;
    let next = (found.len() > PAGE).then(|| {
        found.truncate(PAGE);
        found.last().map(|v| v.code.clone()).unwrap_or_default()
    });
    let currency = currency(&detail);
    Ok(render(&VouchersPage {
        vouchers: found.iter().map(|v| row(v, &currency, &detail.time_zone)).collect(),
        types: detail.ticket_types.iter().map(|t| (t.number, t.name.clone())).collect(),
        layout,
        event,
        event_name: detail.name,
        currency,
        tag,
        next,
    }))
}

struct RedemptionRow {
    order: String,
    status: String,
    name: String,
    email: String,
    uses: i64,
    discount: String,
    at: String,
}

#[derive(Template)]
#[template(path = "voucher.html")]
struct VoucherPage {
    layout: Layout,
    event: i64,
    event_name: String,
    voucher: VoucherRow,
    note: String,
    redemptions: Vec<RedemptionRow>,
    /// Its uses leased to box offices: (device, uses, used, until or "returned").
    leases: Vec<(String, i64, i64, String)>,
    /// Box offices of the event, to lease uses to: (id, name).
    box_offices: Vec<(i64, String)>,
    /// It may be leased (not blocked, not setting tickets aside).
    leasable: bool,
    /// What the uses and validity form starts with.
    limits: Limits,
}

struct Limits {
    max_uses: i64,
    max_per_order: Option<i64>,
    valid_from: Option<i64>,
    valid_until: Option<i64>,
    /// Paid, pending and leased uses.
    taken: i64,
}

/// `GET /events/{id}/vouchers/{code}`.
pub(super) async fn detail(
    State(state): State<AppState>,
    staff: Staff,
    PagePath((event, code)): PagePath<(i64, String)>,
) -> PageResult {
    let layout = staff.layout(&state, "events").await?;
    let found = crate::vouchers::routes::detail(&state.db, &staff.0, event, &code).await?;
    let e = super::event(&state, staff.0.org_id, event).await?;
    let currency = currency(&e);
    let mut tx = state.db.tenant(staff.0.org_id).await?;
    let box_offices = crate::leases::store::box_offices(&mut tx, event).await?;
    tx.commit().await?;
    let leases = found
        .leases
        .iter()
        .map(|l| {
            let until = match l.returned_at {
                Some(_) => "returned".to_owned(),
                None => format!("until {}", local_time(Some(l.expires_at), &e.time_zone)),
            };
            (l.device_name.clone(), l.uses, l.used, until)
        })
        .collect();
    Ok(render(&VoucherPage {
        leases,
        box_offices,
        leasable: found.voucher.blocked_at.is_none() && !found.voucher.reserves.0,
        limits: Limits {
            max_uses: found.voucher.max_uses,
            max_per_order: found.voucher.max_per_order,
            valid_from: found.voucher.valid_from,
            valid_until: found.voucher.valid_until,
            taken: found.voucher.max_uses - found.voucher.uses_left(),
        },
        voucher: row(&found.voucher, &currency, &e.time_zone),
        note: found.voucher.note.clone(),
        redemptions: found
            .redemptions
            .iter()
            .map(|r| RedemptionRow {
                order: r.order.clone(),
                status: r.status.clone(),
                name: r.name.clone(),
                email: r.email.clone(),
                uses: r.uses,
                discount: money(r.discount_minor, &r.currency),
                at: local_time(Some(r.created_at), &e.time_zone),
            })
            .collect(),
        layout,
        event,
        event_name: e.name,
    }))
}
