//! Cashier shifts: opened with a cash float, closed with the counted cash, and the closing
//! report — sales by ticket type and payment method, voids, expected against counted cash.
//!
//! The report is a pure function of the box office's own journal entries from the opening on
//! ([`ShiftReport::compute`]): it is what the journal says, so it reconciles with the journal
//! by construction, and the hub can recompute it from the same entries. The closing entry
//! carries it so the hub and the console see exactly what the cashier signed off.

use super::entry::{Entry, Payload, PaymentMethod};
use crate::ids::{Serial, TicketTypeId, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// A shift opening or closing, written by the box office.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ShiftEntry {
    /// A cashier started a shift with `float_minor` in the drawer.
    Open {
        /// Who (as typed at the counter).
        cashier: String,
        /// Cash in the drawer at the start, in minor units.
        float_minor: i64,
        /// ISO 4217 code of the float.
        currency: String,
    },
    /// The shift that opened at journal sequence `opened` was closed.
    Close {
        /// The sequence number of the opening entry: the shift's number.
        opened: u64,
        /// The report as the cashier closed it.
        report: ShiftReport,
    },
}

/// How a sale was paid, without its free text: the report's columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Cash.
    Cash,
    /// A card terminal.
    Card,
    /// Complimentary.
    Comp,
}

impl Method {
    /// The method of a payment.
    pub fn of(payment: &PaymentMethod) -> Self {
        match payment {
            PaymentMethod::Cash => Self::Cash,
            PaymentMethod::Card { .. } => Self::Card,
            PaymentMethod::Comp { .. } => Self::Comp,
        }
    }

    /// Its name on a report.
    pub fn label(self) -> &'static str {
        match self {
            Self::Cash => "cash",
            Self::Card => "card",
            Self::Comp => "comp",
        }
    }
}

/// One line of the report: a ticket type paid one way.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShiftLine {
    /// The ticket type.
    pub ticket_type: u16,
    /// The payment method.
    pub method: Option<Method>,
    /// Tickets sold.
    pub sold: u32,
    /// Their total.
    pub sold_minor: i64,
    /// Of those, tickets voided.
    pub voided: u32,
    /// The voided tickets' total.
    pub voided_minor: i64,
}

impl ShiftLine {
    /// What stays: sold minus voided.
    pub fn net_minor(&self) -> i64 {
        self.sold_minor - self.voided_minor
    }
}

/// The closing report of one shift.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShiftReport {
    /// Who worked the shift.
    pub cashier: String,
    /// The currency of every amount.
    pub currency: String,
    /// When it opened and closed (the device's clock).
    pub opened_at: Timestamp,
    /// When it closed.
    pub closed_at: Timestamp,
    /// Sales (and their voids) by ticket type and method.
    pub lines: Vec<ShiftLine>,
    /// Receipts issued, and how many of them were voided.
    pub receipts: u32,
    /// Receipts voided.
    pub voided_receipts: u32,
    /// The opening float.
    pub float_minor: i64,
    /// Float + cash sales − cash voids: what the drawer should hold.
    pub expected_cash_minor: i64,
    /// What the cashier counted.
    pub counted_cash_minor: i64,
}

impl ShiftReport {
    /// Counted − expected: positive is over, negative is short.
    pub fn difference_minor(&self) -> i64 {
        self.counted_cash_minor - self.expected_cash_minor
    }

    /// Total of all sales, before voids.
    pub fn sold_minor(&self) -> i64 {
        self.lines.iter().map(|l| l.sold_minor).sum()
    }

    /// Total of all voids.
    pub fn voided_minor(&self) -> i64 {
        self.lines.iter().map(|l| l.voided_minor).sum()
    }

    /// The report from the box office's own entries: `opening` (its [`ShiftEntry::Open`])
    /// and every later entry of the same origin. Door sales count by their price per ticket;
    /// a voided ticket is booked back against the line it was sold on. `None` if `opening`
    /// is not a shift opening.
    pub fn compute(
        opening: &Entry,
        later: &[Entry],
        counted_cash_minor: i64,
        closed_at: Timestamp,
    ) -> Option<Self> {
        let Payload::Shift(shift) = &opening.payload else { return None };
        let ShiftEntry::Open { cashier, float_minor, currency } = &**shift else { return None };
        // What each serial was sold for, and on which line, to book voids back.
        let mut sold_on: BTreeMap<Serial, ((TicketTypeId, Method), i64, u64)> = BTreeMap::new();
        let mut lines: BTreeMap<(TicketTypeId, Method), ShiftLine> = BTreeMap::new();
        let mut receipts = BTreeSet::new();
        let mut voided_receipts = BTreeSet::new();
        for entry in later.iter().filter(|e| e.origin == opening.origin && e.seq > opening.seq) {
            match &entry.payload {
                Payload::DoorSale(sale) => {
                    let key = (sale.ticket_type, Method::of(&sale.payment));
                    let line = lines.entry(key).or_default();
                    let n = i64::try_from(sale.serials.len()).unwrap_or(i64::MAX);
                    line.sold += u32::try_from(sale.serials.len()).unwrap_or(u32::MAX);
                    line.sold_minor += sale.total_minor;
                    // The total split over the tickets, the remainder on the first ones, so
                    // voiding every ticket books back exactly the total.
                    let (each, extra) = (sale.total_minor / n.max(1), sale.total_minor % n.max(1));
                    for (i, serial) in (0_i64..).zip(&sale.serials) {
                        sold_on.insert(*serial, (key, each + i64::from(i < extra), sale.receipt));
                    }
                    receipts.insert(sale.receipt);
                }
                Payload::Void(void) => {
                    for serial in &void.serials {
                        if let Some((key, price, receipt)) = sold_on.remove(serial) {
                            let line = lines.entry(key).or_default();
                            line.voided += 1;
                            line.voided_minor += price;
                            voided_receipts.insert(receipt);
                        }
                    }
                }
                _ => {}
            }
        }
        let cash: i64 =
            lines.iter().filter(|((_, m), _)| *m == Method::Cash).map(|(_, l)| l.net_minor()).sum();
        Some(Self {
            cashier: cashier.clone(),
            currency: currency.clone(),
            opened_at: opening.hlc.time(),
            closed_at,
            lines: lines
                .into_iter()
                .map(|((t, m), line)| ShiftLine { ticket_type: t.0, method: Some(m), ..line })
                .collect(),
            receipts: u32::try_from(receipts.len()).unwrap_or(u32::MAX),
            voided_receipts: u32::try_from(voided_receipts.len()).unwrap_or(u32::MAX),
            float_minor: *float_minor,
            expected_cash_minor: float_minor + cash,
            counted_cash_minor,
        })
    }

    /// The report as CSV (RFC 4180, through the csv crate): one row per line, then the totals
    /// and the cash count. Amounts in minor units, as the hub's CSV reports give them.
    pub fn to_csv(&self, type_name: impl Fn(u16) -> String) -> String {
        let mut out = csv::Writer::from_writer(Vec::new());
        let currency = self.currency.clone();
        let mut rows: Vec<[String; 9]> = vec![
            [
                "section",
                "ticket_type",
                "method",
                "sold",
                "sold_minor",
                "voided",
                "voided_minor",
                "net_minor",
                "currency",
            ]
            .map(str::to_owned),
        ];
        for l in &self.lines {
            rows.push([
                "sale".into(),
                spreadsheet_safe(&type_name(l.ticket_type)),
                l.method.map_or("", Method::label).into(),
                l.sold.to_string(),
                l.sold_minor.to_string(),
                l.voided.to_string(),
                l.voided_minor.to_string(),
                l.net_minor().to_string(),
                currency.clone(),
            ]);
        }
        let (sold, voided): (u32, u32) =
            self.lines.iter().fold((0, 0), |(s, v), l| (s + l.sold, v + l.voided));
        rows.push([
            "total".into(),
            String::new(),
            String::new(),
            sold.to_string(),
            self.sold_minor().to_string(),
            voided.to_string(),
            self.voided_minor().to_string(),
            (self.sold_minor() - self.voided_minor()).to_string(),
            currency.clone(),
        ]);
        for (name, value) in [
            ("float", self.float_minor),
            ("expected_cash", self.expected_cash_minor),
            ("counted_cash", self.counted_cash_minor),
            ("difference", self.difference_minor()),
        ] {
            let blank = String::new;
            rows.push([
                "cash".into(),
                blank(),
                name.into(),
                blank(),
                blank(),
                blank(),
                blank(),
                value.to_string(),
                currency.clone(),
            ]);
        }
        for row in rows {
            // Writing to memory cannot fail.
            let _ = out.write_record(&row);
        }
        String::from_utf8(out.into_inner().unwrap_or_default()).unwrap_or_default()
    }
}

/// A name that starts like a spreadsheet formula gets a leading `'`, so a ticket type called
/// "=1+1" shows as text rather than running.
fn spreadsheet_safe(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@']) { format!("'{s}") } else { s.to_owned() }
}
