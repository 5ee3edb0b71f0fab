//! The report queries. Each aggregates in SQL as far as both backends allow, then shapes the
//! rows in Rust (local days and times, names, totals).

use super::{Cell, Table};
use crate::db::Tenant;
use crate::error::ApiError;
use std::collections::BTreeMap;

/// 15 minutes: the bucket every time zone's offset divides.
const BUCKET_MS: i64 = 900_000;

/// The event's time zone; 404 if the event is not the organization's.
pub async fn event_zone(tx: &mut Tenant, event: i64) -> Result<jiff::tz::TimeZone, ApiError> {
    let zone: String = sqlx::query_scalar("SELECT time_zone FROM events WHERE id = $1 AND org_id = $2")
        .bind(event)
        .bind(tx.org())
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(jiff::tz::TimeZone::get(&zone).unwrap_or(jiff::tz::TimeZone::UTC))
}

fn local(ms: i64, zone: &jiff::tz::TimeZone, format: &str) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.to_zoned(zone.clone()).strftime(format).to_string())
        .unwrap_or_default()
}

fn day(ms: i64, zone: &jiff::tz::TimeZone) -> String {
    local(ms, zone, "%Y-%m-%d")
}

fn minute(ms: i64, zone: &jiff::tz::TimeZone) -> String {
    local(ms, zone, "%Y-%m-%d %H:%M")
}

#[derive(sqlx::FromRow)]
struct SalesRow {
    bucket: i64,
    number: i64,
    name: String,
    channel: String,
    box_office: String,
    status: String,
    tickets: i64,
    amount: i64,
    list: i64,
    currency: String,
}

#[derive(Default)]
struct SalesCell {
    sold: i64,
    refunded: i64,
    list: i64,
    gross: i64,
    refunds: i64,
}

/// Tickets sold and refunded by local day, ticket type, channel and box office: at list price,
/// the discounts (vouchers and automatic discounts; the `discounts` report says which), what
/// was paid, refunded and kept.
pub(super) async fn sales(tx: &mut Tenant, event: i64, zone: &jiff::tz::TimeZone) -> Result<Table, ApiError> {
    let rows: Vec<SalesRow> = sqlx::query_as(
        "SELECT k.issued_at / 900000 AS bucket, t.number, t.name, o.channel, COALESCE(d.name, '') AS box_office, k.status, \
                COUNT(*) AS tickets, CAST(SUM(k.price_minor) AS BIGINT) AS amount, \
                CAST(SUM(COALESCE(l.unit_price_minor, k.price_minor)) AS BIGINT) AS list, o.currency \
         FROM tickets k JOIN ticket_types t ON t.id = k.ticket_type_id JOIN orders o ON o.id = k.order_id \
         LEFT JOIN order_lines l ON l.order_id = k.order_id AND l.ticket_type_id = k.ticket_type_id \
         LEFT JOIN devices d ON d.id = o.device_id WHERE k.event_id = $1 AND k.org_id = $2 \
         GROUP BY k.issued_at / 900000, t.number, t.name, o.channel, d.name, k.status, o.currency",
    )
    .bind(event)
    .bind(tx.org())
    .fetch_all(&mut **tx)
    .await?;
    let mut cells: BTreeMap<(String, i64, String, String, String, String), SalesCell> = BTreeMap::new();
    for r in rows {
        let key = (day(r.bucket * BUCKET_MS, zone), r.number, r.name, r.channel, r.box_office, r.currency);
        let cell = cells.entry(key).or_default();
        cell.sold += r.tickets;
        cell.list += r.list;
        cell.gross += r.amount;
        if r.status == "revoked" {
            cell.refunded += r.tickets;
            cell.refunds += r.amount;
        }
    }
    let mut table = Table::new(&[
        "day",
        "ticket_type",
        "ticket_type_name",
        "channel",
        "box_office",
        "tickets_sold",
        "tickets_refunded",
        "list_minor",
        "discount_minor",
        "gross_minor",
        "refunds_minor",
        "net_minor",
        "currency",
    ]);
    for ((day, number, name, channel, device, currency), c) in cells {
        table.rows.push(vec![
            Cell::from(day),
            Cell::from(number),
            Cell::from(name),
            Cell::from(channel),
            Cell::from(device),
            Cell::from(c.sold),
            Cell::from(c.refunded),
            Cell::from(c.list),
            Cell::from(c.list - c.gross),
            Cell::from(c.gross),
            Cell::from(c.refunds),
            Cell::from(c.gross - c.refunds),
            Cell::from(currency),
        ]);
    }
    Ok(table)
}

/// Money received and refunded by payment method, read from the ledger: every transaction
/// that moves the event's revenue, classified by its other account; and beside it what
/// vouchers, automatic discounts and comps took off the list price of the paid orders of each
/// method (from the orders' lines: the ledger holds money, not what was not charged).
pub(super) async fn revenue(tx: &mut Tenant, event: i64) -> Result<Table, ApiError> {
    let revenue = crate::payments::ledger::revenue(event);
    let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(
        "SELECT e.account, e.currency, CAST(SUM(CASE WHEN e.amount_minor > 0 THEN e.amount_minor ELSE 0 END) AS BIGINT), \
                CAST(SUM(CASE WHEN e.amount_minor < 0 THEN -e.amount_minor ELSE 0 END) AS BIGINT) \
         FROM ledger_entries e WHERE e.org_id = $2 AND e.account <> $1 AND e.transaction_id IN \
              (SELECT transaction_id FROM ledger_entries WHERE account = $1 AND org_id = $2) \
         GROUP BY e.account, e.currency",
    )
    .bind(&revenue)
    .bind(tx.org())
    .fetch_all(&mut **tx)
    .await?;
    let discounted: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT p.method, o.currency, CAST(SUM(l.discount_minor) AS BIGINT) FROM order_lines l \
         JOIN orders o ON o.id = l.order_id \
         JOIN payments p ON p.id = (SELECT MIN(id) FROM payments WHERE order_id = o.id AND status = 'succeeded') \
         WHERE l.org_id = $2 AND l.discount_minor > 0 AND o.event_id = $1 AND o.org_id = $2 AND o.status = 'paid' \
         GROUP BY p.method, o.currency",
    )
    .bind(event)
    .bind(tx.org())
    .fetch_all(&mut **tx)
    .await?;
    let mut methods: BTreeMap<(&'static str, String), (i64, i64, i64)> = BTreeMap::new();
    for (method, currency, discount) in discounted {
        let method = match method.as_str() {
            "online" => "online",
            "cash" => "cash",
            "card_present" => "card_present",
            "comp" => "comp",
            _ => "other",
        };
        methods.entry((method, currency)).or_default().2 += discount;
    }
    for (account, currency, received, refunded) in rows {
        let method = match account.split(':').next() {
            Some("psp") => "online",
            Some("cash") => "cash",
            Some("card") => "card_present",
            Some("comp") => "comp",
            _ => "other",
        };
        let m = methods.entry((method, currency)).or_default();
        m.0 += received;
        m.1 += refunded;
    }
    let mut table = Table::new(&[
        "method",
        "received_minor",
        "refunded_minor",
        "net_minor",
        "discounts_minor",
        "currency",
    ]);
    for ((method, currency), (received, refunded, discounts)) in methods {
        table.rows.push(vec![
            Cell::from(method),
            Cell::from(received),
            Cell::from(refunded),
            Cell::from(received - refunded),
            Cell::from(discounts),
            Cell::from(currency),
        ]);
    }
    Ok(table)
}

/// Discounts in paid orders, by tag and then by reason (a voucher code, or an automatic
/// discount's name): orders, tickets, their list value, what was taken off and what was paid,
/// with a subtotal per tag and a total — exact to the minor unit, from the orders' lines.
pub(super) async fn discounts(tx: &mut Tenant, event: i64) -> Result<Table, ApiError> {
    let rows: Vec<(String, String, String, i64, i64, i64, i64)> = sqlx::query_as(
        "SELECT COALESCE(v.tag, ''), l.discount_reason, o.currency, CAST(COUNT(DISTINCT o.id) AS BIGINT), \
                CAST(SUM(l.quantity) AS BIGINT), CAST(SUM(l.quantity * l.unit_price_minor) AS BIGINT), \
                CAST(SUM(l.discount_minor) AS BIGINT) \
         FROM order_lines l JOIN orders o ON o.id = l.order_id LEFT JOIN vouchers v ON v.id = l.voucher_id \
         WHERE l.org_id = $2 AND (l.discount_minor > 0 OR l.voucher_id IS NOT NULL) \
           AND o.event_id = $1 AND o.org_id = $2 AND o.status = 'paid' \
         GROUP BY COALESCE(v.tag, ''), l.discount_reason, o.currency ORDER BY 1, 2, 3",
    )
    .bind(event)
    .bind(tx.org())
    .fetch_all(&mut **tx)
    .await?;
    let mut table = Table::new(&[
        "tag",
        "reason",
        "orders",
        "tickets",
        "list_minor",
        "discount_minor",
        "paid_minor",
        "currency",
    ]);
    let row = |tag: Cell, reason: Cell, n: [i64; 4], currency: &str| {
        vec![
            tag,
            reason,
            Cell::from(n[0]),
            Cell::from(n[1]),
            Cell::from(n[2]),
            Cell::from(n[3]),
            Cell::from(n[2] - n[3]),
            Cell::from(currency),
        ]
    };
    let mut by_tag: BTreeMap<(String, String), [i64; 4]> = BTreeMap::new();
    let mut total: BTreeMap<String, [i64; 4]> = BTreeMap::new();
    for (tag, reason, currency, orders, tickets, list, discount) in &rows {
        table.rows.push(row(
            Cell::from(tag.as_str()),
            Cell::from(reason.as_str()),
            [*orders, *tickets, *list, *discount],
            currency,
        ));
        for sums in [
            by_tag.entry((tag.clone(), currency.clone())).or_default(),
            total.entry(currency.clone()).or_default(),
        ] {
            for (sum, n) in sums.iter_mut().zip([*orders, *tickets, *list, *discount]) {
                *sum += n;
            }
        }
    }
    // Orders are counted once per reason: a subtotal's orders may count an order twice.
    for ((tag, currency), sums) in by_tag {
        table.rows.push(row(Cell::from(tag), Cell::Null, sums, &currency));
    }
    for (currency, sums) in total {
        table.rows.push(row(Cell::Null, Cell::Null, sums, &currency));
    }
    Ok(table)
}

/// Number → name of the event's gates (`table` = "gates") or ticket types ("ticket_types").
async fn names(tx: &mut Tenant, table: &'static str, event: i64) -> Result<BTreeMap<i64, String>, ApiError> {
    // `table` is one of two constants, never input.
    let rows: Vec<(i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT number, name FROM {table} WHERE event_id = $1 AND org_id = $2"
    )))
    .bind(event)
    .bind(tx.org())
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows.into_iter().collect())
}

/// Entries, exits and refusals by gate per 15 minutes (local time).
pub(super) async fn checkins(
    tx: &mut Tenant,
    event: i64,
    zone: &jiff::tz::TimeZone,
) -> Result<Table, ApiError> {
    let gates = names(tx, "gates", event).await?;
    let rows: Vec<(i64, i64, String, i64)> = sqlx::query_as(
        "SELECT bucket, gate, verdict, CAST(SUM(scans) AS BIGINT) FROM checkin_counts WHERE event_id = $1 AND org_id = $2 \
         GROUP BY bucket, gate, verdict",
    )
    .bind(event)
    .bind(tx.org())
    .fetch_all(&mut **tx)
    .await?;
    let mut cells: BTreeMap<(i64, i64), [i64; 3]> = BTreeMap::new();
    for (bucket, gate, verdict, count) in rows {
        let cell = cells.entry((bucket, gate)).or_default();
        let slot = match verdict.as_str() {
            "admitted" | "re_entry" => 0,
            "exit_recorded" => 1,
            _ => 2,
        };
        cell[slot] += count;
    }
    let mut table = Table::new(&["from", "gate", "gate_name", "entries", "exits", "refused"]);
    for ((bucket, gate), [entries, exits, refused]) in cells {
        table.rows.push(vec![
            Cell::from(minute(bucket * BUCKET_MS, zone)),
            Cell::from(gate),
            Cell::from(gates.get(&gate).cloned().unwrap_or_default()),
            Cell::from(entries),
            Cell::from(exits),
            Cell::from(refused),
        ]);
    }
    Ok(table)
}

/// Who is inside: tickets whose latest movement is an entry, by ticket type, with a total.
pub(crate) async fn inside(tx: &mut Tenant, event: i64) -> Result<Table, ApiError> {
    let names = names(tx, "ticket_types", event).await?;
    let rows: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT ticket_type, COUNT(*) FROM presence WHERE event_id = $1 AND org_id = $2 AND inside = 1 \
         GROUP BY ticket_type ORDER BY ticket_type",
    )
    .bind(event)
    .bind(tx.org())
    .fetch_all(&mut **tx)
    .await?;
    let mut table = Table::new(&["ticket_type", "ticket_type_name", "inside"]);
    let mut total = 0;
    for (number, count) in rows {
        total += count;
        table.rows.push(vec![
            Cell::from(number),
            Cell::from(names.get(&number).cloned().unwrap_or_default()),
            Cell::from(count),
        ]);
    }
    table.rows.push(vec![Cell::Null, Cell::from("total"), Cell::from(total)]);
    Ok(table)
}

/// (serial, ticket type) of every ticket admitted more than once where its entry policy allows
/// one admission.
pub(crate) async fn doubly_admitted(tx: &mut Tenant, event: i64) -> Result<Vec<(i64, i64)>, ApiError> {
    Ok(sqlx::query_as(
        "SELECT p.serial, p.ticket_type FROM presence p \
         JOIN ticket_types t ON t.event_id = p.event_id AND t.number = p.ticket_type \
         WHERE p.event_id = $1 AND p.org_id = $2 AND p.admissions > 1 AND t.entry_policy <> 'multi_entry' \
         ORDER BY p.serial",
    )
    .bind(event)
    .bind(tx.org())
    .fetch_all(&mut **tx)
    .await?)
}

/// Tickets admitted more than once where the entry policy allows one admission (gates that
/// were apart when both admitted it).
pub(super) async fn double_admissions(
    tx: &mut Tenant,
    event: i64,
    zone: &jiff::tz::TimeZone,
) -> Result<Table, ApiError> {
    let gates = names(tx, "gates", event).await?;
    let serials = doubly_admitted(tx, event).await?;
    let mut table = Table::new(&["serial", "ticket_type", "admissions", "first_at", "last_at", "where"]);
    for (serial, ticket_type) in serials {
        let admissions: Vec<(i64, i64, String)> = sqlx::query_as(
            "SELECT c.at, c.gate, COALESCE(d.name, '') FROM checkins c LEFT JOIN devices d ON d.id = c.origin \
             WHERE c.event_id = $1 AND c.org_id = $2 AND c.serial = $3 AND c.verdict = 'admitted' ORDER BY c.at",
        )
        .bind(event)
        .bind(tx.org())
        .bind(serial)
        .fetch_all(&mut **tx)
        .await?;
        let at: Vec<i64> = admissions.iter().map(|a| a.0).collect();
        let places: Vec<String> = admissions
            .iter()
            .map(|(_, gate, device)| format!("{} ({device})", gates.get(gate).cloned().unwrap_or_default()))
            .collect();
        table.rows.push(vec![
            Cell::from(serial),
            Cell::from(ticket_type),
            Cell::from(i64::try_from(at.len()).unwrap_or(i64::MAX)),
            Cell::from(minute(at[0], zone)),
            Cell::from(minute(at[at.len() - 1], zone)),
            Cell::from(places.join("; ")),
        ]);
    }
    Ok(table)
}

#[derive(sqlx::FromRow)]
struct DeviceRow {
    id: i64,
    name: String,
    role: String,
    app_version: String,
    last_seen_at: Option<i64>,
    pending_entries: i64,
    revoked_at: Option<i64>,
    scans: i64,
}

/// The event's devices and how their sync stands.
pub(super) async fn devices(
    tx: &mut Tenant,
    event: i64,
    zone: &jiff::tz::TimeZone,
) -> Result<Table, ApiError> {
    let rows: Vec<DeviceRow> = sqlx::query_as(
        "SELECT d.id, d.name, d.role, d.app_version, d.last_seen_at, d.pending_entries, d.revoked_at, \
                COALESCE(s.scans, 0) AS scans \
         FROM devices d JOIN device_events de ON de.device_id = d.id \
         LEFT JOIN (SELECT origin, CAST(SUM(scans) AS BIGINT) AS scans FROM checkin_counts \
                    WHERE event_id = $1 AND org_id = $2 GROUP BY origin) s ON s.origin = d.id \
         WHERE de.event_id = $1 AND de.org_id = $2 ORDER BY d.id",
    )
    .bind(event)
    .bind(tx.org())
    .fetch_all(&mut **tx)
    .await?;
    let mut table = Table::new(&[
        "device",
        "name",
        "role",
        "app_version",
        "last_seen",
        "entries_not_synced",
        "revoked",
        "scans",
    ]);
    for r in rows {
        table.rows.push(vec![
            Cell::from(r.id),
            Cell::from(r.name),
            Cell::from(r.role),
            Cell::from(r.app_version),
            Cell::from(r.last_seen_at.map(|t| minute(t, zone))),
            Cell::from(r.pending_entries),
            Cell::from(r.revoked_at.is_some()),
            Cell::from(r.scans),
        ]);
    }
    Ok(table)
}

#[derive(sqlx::FromRow)]
struct ShiftRow {
    device_id: i64,
    device_name: String,
    cashier: String,
    opened_at: i64,
    closed_at: i64,
    receipts: i64,
    voided_receipts: i64,
    sold_minor: i64,
    voided_minor: i64,
    float_minor: i64,
    expected_cash_minor: i64,
    counted_cash_minor: i64,
    currency: String,
}

/// Closed cashier shifts: who, when, receipts, sales and voids, and the cash count.
pub(super) async fn shifts(
    tx: &mut Tenant,
    event: i64,
    zone: &jiff::tz::TimeZone,
) -> Result<Table, ApiError> {
    let rows: Vec<ShiftRow> = sqlx::query_as(
        "SELECT s.device_id, COALESCE(d.name, '') AS device_name, s.cashier, s.opened_at, s.closed_at, s.receipts, \
                s.voided_receipts, s.sold_minor, s.voided_minor, s.float_minor, s.expected_cash_minor, s.counted_cash_minor, \
                s.currency \
         FROM shifts s LEFT JOIN devices d ON d.id = s.device_id WHERE s.event_id = $1 AND s.org_id = $2 ORDER BY s.closed_at, s.id",
    )
    .bind(event)
    .bind(tx.org())
    .fetch_all(&mut **tx)
    .await?;
    let mut table = Table::new(&[
        "device",
        "device_name",
        "cashier",
        "opened",
        "closed",
        "receipts",
        "voided_receipts",
        "sold_minor",
        "voided_minor",
        "net_minor",
        "float_minor",
        "expected_cash_minor",
        "counted_cash_minor",
        "difference_minor",
        "currency",
    ]);
    for r in rows {
        table.rows.push(vec![
            Cell::from(r.device_id),
            Cell::from(r.device_name),
            Cell::from(r.cashier),
            Cell::from(minute(r.opened_at, zone)),
            Cell::from(minute(r.closed_at, zone)),
            Cell::from(r.receipts),
            Cell::from(r.voided_receipts),
            Cell::from(r.sold_minor),
            Cell::from(r.voided_minor),
            Cell::from(r.sold_minor - r.voided_minor),
            Cell::from(r.float_minor),
            Cell::from(r.expected_cash_minor),
            Cell::from(r.counted_cash_minor),
            Cell::from(r.counted_cash_minor - r.expected_cash_minor),
            Cell::from(r.currency),
        ]);
    }
    Ok(table)
}

/// Admissions per minute and gate since `since` (Unix ms): (minute, gate name, count).
pub(super) async fn admissions_per_minute(
    tx: &mut Tenant,
    event: i64,
    since: i64,
) -> Result<Vec<(i64, String, i64)>, ApiError> {
    Ok(sqlx::query_as(
        "SELECT c.at / 60000, COALESCE(g.name, ''), COUNT(*) FROM checkins c \
         LEFT JOIN gates g ON g.event_id = c.event_id AND g.number = c.gate \
         WHERE c.event_id = $1 AND c.org_id = $2 AND c.at >= $3 AND c.verdict IN ('admitted', 're_entry') \
         GROUP BY c.at / 60000, g.name ORDER BY 1",
    )
    .bind(event)
    .bind(tx.org())
    .bind(since)
    .fetch_all(&mut **tx)
    .await?)
}

/// Admissions so far.
pub(super) async fn admitted(tx: &mut Tenant, event: i64) -> Result<i64, ApiError> {
    Ok(sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(scans), 0) AS BIGINT) FROM checkin_counts \
         WHERE event_id = $1 AND org_id = $2 AND verdict IN ('admitted', 're_entry')",
    )
    .bind(event)
    .bind(tx.org())
    .fetch_one(&mut **tx)
    .await?)
}

/// Tickets of paid orders paid since `since` (Unix ms).
pub(super) async fn sold_since(tx: &mut Tenant, event: i64, since: i64) -> Result<i64, ApiError> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM tickets t JOIN orders o ON o.id = t.order_id \
         WHERE t.event_id = $1 AND t.org_id = $2 AND o.status = 'paid' AND o.paid_at >= $3",
    )
    .bind(event)
    .bind(tx.org())
    .bind(since)
    .fetch_one(&mut **tx)
    .await?)
}

/// The event's unrevoked devices not heard from since `since` (Unix ms): (name, last seen).
pub(super) async fn quiet_devices(
    tx: &mut Tenant,
    event: i64,
    since: i64,
) -> Result<Vec<(String, Option<i64>)>, ApiError> {
    Ok(sqlx::query_as(
        "SELECT d.name, d.last_seen_at FROM devices d JOIN device_events de ON de.device_id = d.id \
         WHERE de.event_id = $1 AND de.org_id = $2 AND d.revoked_at IS NULL AND (d.last_seen_at IS NULL OR d.last_seen_at < $3) \
         ORDER BY d.last_seen_at, d.name",
    )
    .bind(event)
    .bind(tx.org())
    .bind(since)
    .fetch_all(&mut **tx)
    .await?)
}

/// The event's seats by category and state: free, held by unpaid orders, sold, blocked (with
/// a reason, for technicians or press) and leased to box offices, with a total row — what is
/// left to sell in each price level at a glance. Empty for an event not sold by seat.
pub(super) async fn seats(tx: &mut Tenant, event: i64) -> Result<Table, ApiError> {
    const STATES: [&str; 5] = ["free", "held", "sold", "blocked", "leased"];
    let rows: Vec<(String, String, String, i64)> = sqlx::query_as(
        "SELECT s.category, t.name, s.state, CAST(COUNT(*) AS BIGINT) FROM seats s \
         JOIN ticket_types t ON t.id = s.ticket_type_id WHERE s.event_id = $1 AND s.org_id = $2 \
         GROUP BY s.category, t.name, s.state ORDER BY s.category, t.name",
    )
    .bind(event)
    .bind(tx.org())
    .fetch_all(&mut **tx)
    .await?;
    let mut by_category: BTreeMap<(String, String), [i64; 5]> = BTreeMap::new();
    for (category, type_name, state, n) in rows {
        let counts = by_category.entry((category, type_name)).or_default();
        if let Some(i) = STATES.iter().position(|s| *s == state) {
            counts[i] += n;
        }
    }
    let mut table =
        Table::new(&["category", "ticket_type", "seats", "free", "held", "sold", "blocked", "leased"]);
    let row = |category: Cell, type_name: Cell, n: &[i64; 5]| {
        let mut cells = vec![category, type_name, Cell::from(n.iter().sum::<i64>())];
        cells.extend(n.iter().map(|c| Cell::from(*c)));
        cells
    };
    let mut total = [0; 5];
    for ((category, type_name), counts) in &by_category {
        table.rows.push(row(Cell::from(category.as_str()), Cell::from(type_name.as_str()), counts));
        for (sum, n) in total.iter_mut().zip(counts) {
            *sum += n;
        }
    }
    if !by_category.is_empty() {
        table.rows.push(row(Cell::Null, Cell::Null, &total));
    }
    Ok(table)
}
