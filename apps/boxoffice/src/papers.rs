//! What the box office prints: a sale's receipt followed by its tickets, and a shift's closing
//! report — PDFs through `voelgoed-print`, so they look like the hub's tickets.

use app_core::clock::date_time_of;
use print::{Line, Page, PrintedTicket, document, ticket_page};
use sync_core::display::DisplayClock;
use sync_core::ids::DeviceId;
use sync_core::journal::PaymentMethod;
use sync_core::journal::shift::ShiftReport;
use sync_core::manifest::EventManifest;
use sync_core::money::format_minor;
use sync_core::replica::Sale;

use crate::desk::type_name;

/// The receipt page, then one page per ticket.
pub fn receipt(
    sale: &Sale,
    manifest: &EventManifest,
    seats: &[String],
    device: DeviceId,
    cashier: &str,
    clock: DisplayClock,
) -> anyhow::Result<Vec<u8>> {
    let name = type_name(manifest, sale.ticket_type);
    let count = i64::try_from(sale.serials.len())?;
    let paid = match &sale.payment {
        PaymentMethod::Cash => "Paid in cash".to_owned(),
        PaymentMethod::Card { reference } => format!("Paid by card, terminal reference {reference}"),
        PaymentMethod::Comp { reason } => format!("Complimentary: {reason}"),
    };
    let mut lines = vec![
        Line::bold(22.0, &manifest.name),
        Line::plain(12.0, format!("Receipt {}-{}", device.0, sale.receipt)),
        Line::plain(12.0, date_time_of(sale.at, clock)),
        Line::plain(12.0, ""),
        Line::bold(13.0, format!("{count} × {name}")),
        Line::plain(12.0, format!("{} each", format_minor(sale.total_minor / count.max(1), &sale.currency))),
        Line::bold(16.0, format!("Total {}", format_minor(sale.total_minor, &sale.currency))),
        Line::plain(12.0, paid),
    ];
    if !cashier.is_empty() {
        lines.push(Line::plain(11.0, format!("Served by {cashier}")));
    }
    if sale.voided {
        lines.push(Line::bold(16.0, "VOIDED: these tickets are not valid."));
    }
    let mut pages = vec![Page { lines, ..Page::default() }];
    for (i, (serial, text)) in sale.serials.iter().zip(&sale.tickets).enumerate() {
        pages.push(ticket_page(&PrintedTicket {
            event: manifest.name.clone(),
            starts: date_time_of(sale.at, clock),
            ticket_type: name.clone(),
            seat: seats.get(i).cloned(),
            price: format_minor(sale.total_minor / count.max(1), &sale.currency),
            holder: "Door sale".into(),
            order: format!("{}-{}", device.0, sale.receipt),
            serial: *serial,
            text: text.clone(),
        }));
    }
    document(&pages)
}

/// The closing report of a shift.
pub fn shift_report(
    report: &ShiftReport,
    manifest: &EventManifest,
    device: DeviceId,
    clock: DisplayClock,
) -> anyhow::Result<Vec<u8>> {
    let m = |minor| format_minor(minor, &report.currency);
    let mut lines = vec![
        Line::bold(20.0, format!("Shift report · {}", manifest.name)),
        Line::plain(12.0, format!("Box office {} · cashier {}", device.0, report.cashier)),
        Line::plain(
            12.0,
            format!("{} to {}", date_time_of(report.opened_at, clock), date_time_of(report.closed_at, clock)),
        ),
        Line::plain(12.0, ""),
        Line::bold(13.0, "Sales by ticket type and payment"),
    ];
    for l in &report.lines {
        lines.push(Line::plain(
            11.0,
            format!(
                "{} · {}: {} sold {} · {} voided {} · net {}",
                type_name(manifest, l.ticket_type),
                l.method.map_or("", sync_core::journal::shift::Method::label),
                l.sold,
                m(l.sold_minor),
                l.voided,
                m(l.voided_minor),
                m(l.net_minor()),
            ),
        ));
    }
    lines.extend([
        Line::plain(11.0, format!("Receipts {} · voided {}", report.receipts, report.voided_receipts)),
        Line::plain(12.0, ""),
        Line::bold(13.0, "Cash"),
        Line::plain(12.0, format!("Float {}", m(report.float_minor))),
        Line::plain(12.0, format!("Expected in the drawer {}", m(report.expected_cash_minor))),
        Line::plain(12.0, format!("Counted {}", m(report.counted_cash_minor))),
        Line::bold(14.0, format!("Difference {}", m(report.difference_minor()))),
    ]);
    document(&[Page { lines, ..Page::default() }])
}
