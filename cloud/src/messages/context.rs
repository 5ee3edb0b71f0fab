//! What a message's template is given: the facts of its kind, already written for its reader
//! (dates on the venue's clock in the message's language, amounts with their currency) — a
//! template words them, it does not compute them. And made-up samples of each, to check a
//! template on save and to preview it when the organization has no real one yet.

use super::Kind;
use crate::lang::Lang;
use serde::Serialize;

/// The organization, as its messages name it.
#[derive(Clone, Debug, Serialize)]
pub struct Org {
    /// Its name.
    pub name: String,
}

/// An event, as a buyer's message names it.
#[derive(Clone, Debug, Serialize)]
pub struct EventFacts {
    /// Its name.
    pub name: String,
    /// From doors to end, on the venue's clock, in the message's language.
    pub when: String,
    /// The venue's name ("" if not said).
    pub venue: String,
    /// The venue's address ("" if not said).
    pub address: String,
    /// Venue and address, joined ("" if neither is said).
    pub place: String,
}

impl EventFacts {
    /// The facts of an event (`starts`/`ends` in Unix ms, on the clock of `zone`), for `lang`.
    pub fn new(
        lang: Lang,
        name: &str,
        starts: i64,
        ends: i64,
        zone: &str,
        venue: &str,
        address: &str,
    ) -> Self {
        let place = [venue, address].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(", ");
        Self {
            name: name.to_owned(),
            when: lang.time_range(starts, ends, zone),
            venue: venue.to_owned(),
            address: address.to_owned(),
            place,
        }
    }
}

/// A buyer.
#[derive(Clone, Debug, Serialize)]
pub struct Buyer {
    /// Their name ("" for a door sale).
    pub name: String,
    /// Their address.
    pub email: String,
}

/// Tickets of one type in an order.
#[derive(Clone, Debug, Serialize)]
pub struct TicketLine {
    /// The ticket type's name.
    pub name: String,
    /// How many.
    pub count: i64,
}

/// An order.
#[derive(Clone, Debug, Serialize)]
pub struct OrderFacts {
    /// Its code.
    pub code: String,
    /// Its page (with the tickets), for the buyer.
    pub url: String,
    /// What was paid, written in the message's language.
    pub total: String,
    /// Its tickets by type.
    pub tickets: Vec<TicketLine>,
    /// The same in a line: "2 × Standing, 1 × VIP".
    pub tickets_text: String,
}

impl OrderFacts {
    /// `tickets` in a line.
    pub fn tickets_text(tickets: &[TicketLine]) -> String {
        tickets.iter().map(|t| format!("{} × {}", t.count, t.name)).collect::<Vec<_>>().join(", ")
    }
}

/// A refund.
#[derive(Clone, Debug, Serialize)]
pub struct RefundFacts {
    /// How much, written in the message's language.
    pub amount: String,
    /// How many tickets it cancelled.
    pub cancelled: usize,
    /// False when the payment came after the reservation lapsed and no ticket was issued.
    pub tickets_issued: bool,
}

/// One order of a door sale.
#[derive(Clone, Debug, Serialize)]
pub struct DoorOrder {
    /// Its code.
    pub code: String,
    /// Its tickets as a PDF.
    pub tickets_url: String,
}

/// A member of the organization.
#[derive(Clone, Debug, Serialize)]
pub struct MemberFacts {
    /// Their name.
    pub name: String,
    /// Their address (their login).
    pub email: String,
    /// Their role, in words.
    pub role: String,
}

/// Someone named in a message by name only.
#[derive(Clone, Debug, Serialize)]
pub struct Named {
    /// Their name.
    pub name: String,
}

/// A webhook endpoint.
#[derive(Clone, Debug, Serialize)]
pub struct EndpointFacts {
    /// Its URL.
    pub url: String,
    /// Why it was disabled.
    pub reason: String,
    /// Its page in the console.
    pub page_url: String,
}

/// A report sent by its schedule.
#[derive(Clone, Debug, Serialize)]
pub struct ReportFacts {
    /// Its title, in the message's language.
    pub title: String,
    /// When it was due, on the venue's clock.
    pub due: String,
    /// Earlier times it was due while the hub was down, which this one covers (on the venue's
    /// clock; usually none).
    pub missed: Vec<String>,
    /// How many rows it has.
    pub rows: usize,
    /// The event's reports in the console.
    pub page_url: String,
    /// The schedule in the console.
    pub schedule_url: String,
}

/// What a message's template is given, by kind.
#[allow(missing_docs, reason = "each field is a name templates use, described by Kind::names")]
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum Context {
    /// Confirmation, tickets again, seat changed.
    Order { org: Org, event: EventFacts, buyer: Buyer, order: OrderFacts },
    /// A refund.
    Refund { org: Org, event: EventFacts, buyer: Buyer, order: OrderFacts, refund: RefundFacts },
    /// A door sale's tickets.
    DoorSale { org: Org, event: EventFacts, buyer: Buyer, orders: Vec<DoorOrder> },
    /// An invitation, with or without a new account.
    Invitation { org: Org, member: MemberFacts, inviter: Named, sign_in_url: String },
    /// A webhook endpoint disabled.
    Webhook { org: Org, endpoint: EndpointFacts },
    /// A scheduled report.
    Report { org: Org, event: EventFacts, report: ReportFacts },
}

impl Context {
    /// The values a template reads.
    pub fn value(&self) -> minijinja::Value {
        minijinja::Value::from(minijinja::value::Serde(self))
    }
}

/// A report on time with rows, and one caught up after an outage with none.
fn report_samples(lang: Lang, org: &Org, event: EventFacts, bare: EventFacts, starts: i64) -> Vec<Context> {
    let report = |missed: Vec<String>, rows| ReportFacts {
        title: "Sales".into(),
        due: lang.date_time(starts - 12 * 3_600_000, "Europe/Amsterdam"),
        missed,
        rows,
        page_url: "https://tickets.example/events/7/reports".into(),
        schedule_url: "https://tickets.example/events/7/report-schedules".into(),
    };
    let earlier = vec![lang.date_time(starts - 36 * 3_600_000, "Europe/Amsterdam")];
    vec![
        Context::Report { org: org.clone(), event, report: report(Vec::new(), 12) },
        Context::Report { org: org.clone(), event: bare, report: report(earlier, 0) },
    ]
}

/// Made-up facts of `kind` in `lang`, for `org`: every case its template must handle (a
/// refund that cancelled tickets, one that cancelled none, one for tickets never issued; an
/// event with and without a venue). Checking a template renders it with each.
pub fn samples(kind: Kind, lang: Lang, org: &str) -> Vec<Context> {
    let org = || Org { name: org.to_owned() };
    // Sat 13 June 2026, 20:00–23:00 in Amsterdam.
    let (starts, ends) = (1_781_373_600_000, 1_781_384_400_000);
    let event = EventFacts::new(
        lang,
        "Summer Nights",
        starts,
        ends,
        "Europe/Amsterdam",
        "Paradiso",
        "Weteringschans 6, Amsterdam",
    );
    let bare = EventFacts::new(lang, "Summer Nights", starts, ends, "Europe/Amsterdam", "", "");
    let buyer = Buyer { name: "Ada Lovelace".into(), email: "ada@example.org".into() };
    let tickets = vec![
        TicketLine { name: "Standing".into(), count: 2 },
        TicketLine { name: "Balcony".into(), count: 1 },
    ];
    let order = OrderFacts {
        code: "K7Q2MX4P".into(),
        url: "https://tickets.example/shop/orders/K7Q2MX4P/s3cr3t".into(),
        total: lang.money(13_500, "EUR"),
        tickets_text: OrderFacts::tickets_text(&tickets),
        tickets,
    };
    let refund = |cancelled, tickets_issued| RefundFacts {
        amount: lang.money(4_500, "EUR"),
        cancelled,
        tickets_issued,
    };
    let member = |role: &str| MemberFacts {
        name: "Grace Hopper".into(),
        email: "grace@example.org".into(),
        role: role.into(),
    };
    match kind {
        Kind::OrderConfirmation | Kind::TicketsResent | Kind::SeatChanged | Kind::TicketLinkText => {
            [event, bare]
                .into_iter()
                .map(|event| Context::Order { org: org(), event, buyer: buyer.clone(), order: order.clone() })
                .collect()
        }
        Kind::RefundNotice => [(event, 0, true), (bare.clone(), 1, true), (bare, 2, true)]
            .into_iter()
            .chain([(
                EventFacts::new(lang, "Summer Nights", starts, ends, "Europe/Amsterdam", "Paradiso", ""),
                0,
                false,
            )])
            .map(|(event, cancelled, issued)| Context::Refund {
                org: org(),
                event,
                buyer: buyer.clone(),
                order: order.clone(),
                refund: refund(cancelled, issued),
            })
            .collect(),
        Kind::DoorSaleTickets => {
            let one = |code: &str| DoorOrder {
                code: code.into(),
                tickets_url: format!(
                    "https://tickets.example/api/v1/public/orders/{code}/s3cr3t/tickets.pdf"
                ),
            };
            let door_buyer = Buyer { name: String::new(), email: "ada@example.org".into() };
            vec![
                Context::DoorSale {
                    org: org(),
                    event,
                    buyer: door_buyer.clone(),
                    orders: vec![one("D7K2M4QX")],
                },
                Context::DoorSale {
                    org: org(),
                    event: bare,
                    buyer: door_buyer,
                    orders: vec![one("D7K2M4QX"), one("D9P3R5TW")],
                },
            ]
        }
        Kind::AccountInvitation | Kind::MemberInvitation => ["scanner", "admin"]
            .into_iter()
            .map(|role| Context::Invitation {
                org: org(),
                member: member(role),
                inviter: Named { name: "Ada Lovelace".into() },
                sign_in_url: "https://tickets.example/login".into(),
            })
            .collect(),
        Kind::ScheduledReport => report_samples(lang, &org(), event, bare, starts),
        Kind::WebhookDisabled => vec![Context::Webhook {
            org: org(),
            endpoint: EndpointFacts {
                url: "https://partner.example/voelgoed".into(),
                reason: "every delivery failed for a day: the last answer was 503".into(),
                page_url: "https://tickets.example/webhooks/7".into(),
            },
        }],
    }
}
