//! The report queries. Each aggregates in SQL as far as both backends allow, then shapes the
//! rows in Rust (local days and times, names, totals).

use super::Table;
use crate::error::ApiError;
use serde_json::{Value, json};
use sqlx::{Any, Row, Transaction};
use std::collections::BTreeMap;

/// 15 minutes: the bucket every time zone's offset divides.
const BUCKET_MS: i64 = 900_000;

/// The event's time zone; 404 if the event is not the organization's.
pub(crate) async fn event_zone(
    tx: &mut Transaction<'static, Any>,
    org: i64,
    event: i64,
) -> Result<jiff::tz::TimeZone, ApiError> {
    let zone: String = sqlx::query("SELECT time_zone FROM events WHERE id = $1 AND org_id = $2")
        .bind(event)
        .bind(org)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(ApiError::NotFound)?
        .get(0);
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

#[derive(Default)]
struct SalesCell {
    sold: i64,
    refunded: i64,
    gross: i64,
    refunds: i64,
}

/// Tickets sold and refunded by local day, ticket type, channel and box office.
pub(super) async fn sales(
    tx: &mut Transaction<'static, Any>,
    event: i64,
    zone: &jiff::tz::TimeZone,
) -> Result<Table, ApiError> {
    let rows = sqlx::query(
        "SELECT k.issued_at / 900000, t.number, t.name, o.channel, COALESCE(d.name, ''), k.status, COUNT(*), \
                CAST(SUM(k.price_minor) AS BIGINT), o.currency \
         FROM tickets k JOIN ticket_types t ON t.id = k.ticket_type_id JOIN orders o ON o.id = k.order_id \
         LEFT JOIN devices d ON d.id = o.device_id WHERE k.event_id = $1 \
         GROUP BY k.issued_at / 900000, t.number, t.name, o.channel, d.name, k.status, o.currency",
    )
    .bind(event)
    .fetch_all(&mut **tx)
    .await?;
    let mut cells: BTreeMap<(String, i64, String, String, String, String), SalesCell> = BTreeMap::new();
    for r in rows {
        let key =
            (day(r.get::<i64, _>(0) * BUCKET_MS, zone), r.get(1), r.get(2), r.get(3), r.get(4), r.get(8));
        let cell = cells.entry(key).or_default();
        let (count, amount): (i64, i64) = (r.get(6), r.get(7));
        cell.sold += count;
        cell.gross += amount;
        if r.get::<String, _>(5) == "revoked" {
            cell.refunded += count;
            cell.refunds += amount;
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
        "gross_minor",
        "refunds_minor",
        "net_minor",
        "currency",
    ]);
    for ((day, number, name, channel, device, currency), c) in cells {
        table.rows.push(vec![
            json!(day),
            json!(number),
            json!(name),
            json!(channel),
            json!(device),
            json!(c.sold),
            json!(c.refunded),
            json!(c.gross),
            json!(c.refunds),
            json!(c.gross - c.refunds),
            json!(currency),
        ]);
    }
    Ok(table)
}

/// Money received and refunded by payment method, read from the ledger: every transaction
/// that moves the event's revenue, classified by its other account.
pub(super) async fn revenue(tx: &mut Transaction<'static, Any>, event: i64) -> Result<Table, ApiError> {
    let revenue = crate::payments::ledger::revenue(event);
    let rows = sqlx::query(
        "SELECT e.account, e.currency, CAST(SUM(CASE WHEN e.amount_minor > 0 THEN e.amount_minor ELSE 0 END) AS BIGINT), \
                CAST(SUM(CASE WHEN e.amount_minor < 0 THEN -e.amount_minor ELSE 0 END) AS BIGINT) \
         FROM ledger_entries e WHERE e.account <> $1 AND e.transaction_id IN \
              (SELECT transaction_id FROM ledger_entries WHERE account = $1) \
         GROUP BY e.account, e.currency",
    )
    .bind(&revenue)
    .fetch_all(&mut **tx)
    .await?;
    let mut methods: BTreeMap<(&'static str, String), (i64, i64)> = BTreeMap::new();
    for r in rows {
        let account: String = r.get(0);
        let method = match account.split(':').next() {
            Some("psp") => "online",
            Some("cash") => "cash",
            Some("card") => "card_present",
            Some("comp") => "comp",
            _ => "other",
        };
        let m = methods.entry((method, r.get(1))).or_default();
        m.0 += r.get::<i64, _>(2);
        m.1 += r.get::<i64, _>(3);
    }
    let mut table = Table::new(&["method", "received_minor", "refunded_minor", "net_minor", "currency"]);
    for ((method, currency), (received, refunded)) in methods {
        table.rows.push(vec![
            json!(method),
            json!(received),
            json!(refunded),
            json!(received - refunded),
            json!(currency),
        ]);
    }
    Ok(table)
}

/// Number → name of the event's gates (`table` = "gates") or ticket types ("ticket_types").
async fn names(
    tx: &mut Transaction<'static, Any>,
    table: &'static str,
    event: i64,
) -> Result<BTreeMap<i64, String>, ApiError> {
    // `table` is one of two constants, never input.
    Ok(sqlx::query(sqlx::AssertSqlSafe(format!("SELECT number, name FROM {table} WHERE event_id = $1")))
        .bind(event)
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect())
}

/// Entries, exits and refusals by gate per 15 minutes (local time).
pub(super) async fn checkins(
    tx: &mut Transaction<'static, Any>,
    event: i64,
    zone: &jiff::tz::TimeZone,
) -> Result<Table, ApiError> {
    let gates = names(tx, "gates", event).await?;
    let rows = sqlx::query(
        "SELECT at / 900000, gate, verdict, COUNT(*) FROM checkins WHERE event_id = $1 GROUP BY at / 900000, gate, verdict",
    )
    .bind(event)
    .fetch_all(&mut **tx)
    .await?;
    let mut cells: BTreeMap<(i64, i64), [i64; 3]> = BTreeMap::new();
    for r in rows {
        let cell = cells.entry((r.get(0), r.get(1))).or_default();
        let slot = match r.get::<String, _>(2).as_str() {
            "admitted" | "re_entry" => 0,
            "exit_recorded" => 1,
            _ => 2,
        };
        cell[slot] += r.get::<i64, _>(3);
    }
    let mut table = Table::new(&["from", "gate", "gate_name", "entries", "exits", "refused"]);
    for ((bucket, gate), [entries, exits, refused]) in cells {
        table.rows.push(vec![
            json!(minute(bucket * BUCKET_MS, zone)),
            json!(gate),
            json!(gates.get(&gate).cloned().unwrap_or_default()),
            json!(entries),
            json!(exits),
            json!(refused),
        ]);
    }
    Ok(table)
}

/// Who is inside: tickets whose latest movement is an entry, by ticket type, with a total.
pub(crate) async fn inside(tx: &mut Transaction<'static, Any>, event: i64) -> Result<Table, ApiError> {
    let names = names(tx, "ticket_types", event).await?;
    let rows = sqlx::query(
        "SELECT ticket_type, COUNT(*) FROM ( \
             SELECT ticket_type, verdict, ROW_NUMBER() OVER (PARTITION BY serial ORDER BY hlc DESC, origin DESC, seq DESC) AS n \
             FROM checkins WHERE event_id = $1 AND serial IS NOT NULL AND verdict IN ('admitted', 're_entry', 'exit_recorded') \
         ) latest WHERE n = 1 AND verdict <> 'exit_recorded' GROUP BY ticket_type ORDER BY ticket_type",
    )
    .bind(event)
    .fetch_all(&mut **tx)
    .await?;
    let mut table = Table::new(&["ticket_type", "ticket_type_name", "inside"]);
    let mut total = 0;
    for r in rows {
        let (number, count): (i64, i64) = (r.get(0), r.get(1));
        total += count;
        table.rows.push(vec![
            json!(number),
            json!(names.get(&number).cloned().unwrap_or_default()),
            json!(count),
        ]);
    }
    table.rows.push(vec![Value::Null, json!("total"), json!(total)]);
    Ok(table)
}

/// (serial, ticket type) of every ticket admitted more than once where its entry policy allows
/// one admission.
pub(crate) async fn doubly_admitted(
    tx: &mut Transaction<'static, Any>,
    event: i64,
) -> Result<Vec<(i64, i64)>, ApiError> {
    Ok(sqlx::query(
        "SELECT c.serial, c.ticket_type FROM checkins c \
         JOIN ticket_types t ON t.event_id = c.event_id AND t.number = c.ticket_type \
         WHERE c.event_id = $1 AND c.verdict = 'admitted' AND t.entry_policy <> 'multi_entry' \
         GROUP BY c.serial, c.ticket_type HAVING COUNT(*) > 1 ORDER BY c.serial",
    )
    .bind(event)
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect())
}

/// Tickets admitted more than once where the entry policy allows one admission (gates that
/// were apart when both admitted it).
pub(super) async fn double_admissions(
    tx: &mut Transaction<'static, Any>,
    event: i64,
    zone: &jiff::tz::TimeZone,
) -> Result<Table, ApiError> {
    let gates = names(tx, "gates", event).await?;
    let serials = doubly_admitted(tx, event).await?;
    let mut table = Table::new(&["serial", "ticket_type", "admissions", "first_at", "last_at", "where"]);
    for (serial, ticket_type) in serials {
        let admissions = sqlx::query(
            "SELECT c.at, c.gate, COALESCE(d.name, '') FROM checkins c LEFT JOIN devices d ON d.id = c.origin \
             WHERE c.event_id = $1 AND c.serial = $2 AND c.verdict = 'admitted' ORDER BY c.at",
        )
        .bind(event)
        .bind(serial)
        .fetch_all(&mut **tx)
        .await?;
        let at: Vec<i64> = admissions.iter().map(|r| r.get(0)).collect();
        let places: Vec<String> = admissions
            .iter()
            .map(|r| {
                let gate = gates.get(&r.get::<i64, _>(1)).cloned().unwrap_or_default();
                format!("{gate} ({})", r.get::<String, _>(2))
            })
            .collect();
        table.rows.push(vec![
            json!(serial),
            json!(ticket_type),
            json!(at.len()),
            json!(minute(at[0], zone)),
            json!(minute(at[at.len() - 1], zone)),
            json!(places.join("; ")),
        ]);
    }
    Ok(table)
}

/// The event's devices and how their sync stands.
pub(super) async fn devices(
    tx: &mut Transaction<'static, Any>,
    event: i64,
    zone: &jiff::tz::TimeZone,
) -> Result<Table, ApiError> {
    let rows = sqlx::query(
        "SELECT d.id, d.name, d.role, d.app_version, d.last_seen_at, d.pending_entries, d.revoked_at, \
                (SELECT COUNT(*) FROM checkins c WHERE c.origin = d.id AND c.event_id = $1) \
         FROM devices d JOIN device_events de ON de.device_id = d.id WHERE de.event_id = $1 ORDER BY d.id",
    )
    .bind(event)
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
            json!(r.get::<i64, _>(0)),
            json!(r.get::<String, _>(1)),
            json!(r.get::<String, _>(2)),
            json!(r.get::<String, _>(3)),
            json!(r.get::<Option<i64>, _>(4).map(|t| minute(t, zone))),
            json!(r.get::<i64, _>(5)),
            json!(r.get::<Option<i64>, _>(6).is_some()),
            json!(r.get::<i64, _>(7)),
        ]);
    }
    Ok(table)
}

/// Closed cashier shifts: who, when, receipts, sales and voids, and the cash count.
pub(super) async fn shifts(
    tx: &mut Transaction<'static, Any>,
    event: i64,
    zone: &jiff::tz::TimeZone,
) -> Result<Table, ApiError> {
    let rows = sqlx::query(
        "SELECT s.device_id, COALESCE(d.name, ''), s.cashier, s.opened_at, s.closed_at, s.receipts, s.voided_receipts, \
                s.sold_minor, s.voided_minor, s.float_minor, s.expected_cash_minor, s.counted_cash_minor, s.currency \
         FROM shifts s LEFT JOIN devices d ON d.id = s.device_id WHERE s.event_id = $1 ORDER BY s.closed_at, s.id",
    )
    .bind(event)
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
        let (sold, voided): (i64, i64) = (r.get(7), r.get(8));
        let (expected, counted): (i64, i64) = (r.get(10), r.get(11));
        table.rows.push(vec![
            json!(r.get::<i64, _>(0)),
            json!(r.get::<String, _>(1)),
            json!(r.get::<String, _>(2)),
            json!(minute(r.get(3), zone)),
            json!(minute(r.get(4), zone)),
            json!(r.get::<i64, _>(5)),
            json!(r.get::<i64, _>(6)),
            json!(sold),
            json!(voided),
            json!(sold - voided),
            json!(r.get::<i64, _>(9)),
            json!(expected),
            json!(counted),
            json!(counted - expected),
            json!(r.get::<String, _>(12)),
        ]);
    }
    Ok(table)
}
