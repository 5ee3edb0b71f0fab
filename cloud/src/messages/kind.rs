//! Every kind of message the hub sends, what it is for and the names its template may use.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The most SMS parts a text message may take (each part is billed as one SMS).
pub const TEXT_PARTS: usize = 3;

/// A kind of message the hub sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// To the buyer when an order is paid: the tickets attached.
    OrderConfirmation,
    /// To the buyer when the tickets are sent again (asked by the buyer or the organizer).
    TicketsResent,
    /// To the buyer when the organizer moved a ticket to another seat.
    SeatChanged,
    /// To the buyer when money is refunded.
    RefundNotice,
    /// To a door-sale buyer who asked the box office for the tickets by e-mail.
    DoorSaleTickets,
    /// To a person an account was made for, when they are added to the organization.
    AccountInvitation,
    /// To someone with an account, when they are added to another organization.
    MemberInvitation,
    /// To the owners and admins when a webhook endpoint is disabled after failing.
    WebhookDisabled,
    /// To a buyer who gave a phone number, when the order is paid: the link to the tickets,
    /// by SMS or WhatsApp (plain text, no subject).
    TicketLinkText,
    /// To the members a report schedule names, at its time: the report as CSV and PDF.
    ScheduledReport,
}

/// Who reads a kind of message, which decides its language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reader {
    /// A buyer: the event's language; the message may be reworded per event.
    Buyer,
    /// A member of the organization: the organization's language.
    Member,
}

impl Kind {
    /// Every kind, in the order the console lists them.
    pub const ALL: [Self; 10] = [
        Self::OrderConfirmation,
        Self::TicketsResent,
        Self::SeatChanged,
        Self::RefundNotice,
        Self::DoorSaleTickets,
        Self::AccountInvitation,
        Self::MemberInvitation,
        Self::WebhookDisabled,
        Self::TicketLinkText,
        Self::ScheduledReport,
    ];

    /// Its name in the API and in URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OrderConfirmation => "order_confirmation",
            Self::TicketsResent => "tickets_resent",
            Self::SeatChanged => "seat_changed",
            Self::RefundNotice => "refund_notice",
            Self::DoorSaleTickets => "door_sale_tickets",
            Self::AccountInvitation => "account_invitation",
            Self::MemberInvitation => "member_invitation",
            Self::WebhookDisabled => "webhook_disabled",
            Self::TicketLinkText => "ticket_link_text",
            Self::ScheduledReport => "scheduled_report",
        }
    }

    /// The kind named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// What it is, in a few words (the console's list).
    pub fn describe(self) -> &'static str {
        match self {
            Self::OrderConfirmation => "Order confirmation, with the tickets",
            Self::TicketsResent => "Tickets sent again",
            Self::SeatChanged => "A ticket moved to another seat",
            Self::RefundNotice => "Refund",
            Self::DoorSaleTickets => "Door-sale tickets by e-mail",
            Self::AccountInvitation => "Invitation with a new account",
            Self::MemberInvitation => "Invitation to an existing account",
            Self::WebhookDisabled => "A webhook endpoint was disabled",
            Self::TicketLinkText => "Ticket link by text message (SMS or WhatsApp)",
            Self::ScheduledReport => "A scheduled report, with its CSV and PDF",
        }
    }

    /// Whether it is a text message (plain, no subject, at most [`TEXT_PARTS`] SMS) rather than
    /// an e-mail.
    pub fn is_text(self) -> bool {
        self == Self::TicketLinkText
    }

    /// Who reads it.
    pub fn reader(self) -> Reader {
        match self {
            Self::AccountInvitation
            | Self::MemberInvitation
            | Self::WebhookDisabled
            | Self::ScheduledReport => Reader::Member,
            _ => Reader::Buyer,
        }
    }

    /// The names its template may use, each with what it holds.
    pub fn names(self) -> Vec<(&'static str, &'static str)> {
        let org = [("org.name", "Your organization's name")];
        let event = [
            ("event.name", "The event's name"),
            ("event.when", "When it is, on the venue's clock (\"Sat 13 June 2026, 20:00–23:00\")"),
            ("event.venue", "The venue's name (may be empty)"),
            ("event.address", "The venue's address (may be empty)"),
            ("event.place", "Venue and address together (may be empty)"),
        ];
        let order = [
            ("buyer.name", "The buyer's name"),
            ("buyer.email", "The buyer's e-mail address"),
            ("order.code", "The order's code"),
            ("order.url", "The order's page, with its tickets"),
            ("order.total", "What was paid, with its currency"),
            ("order.tickets", "The tickets as a list: each has name and count"),
            ("order.tickets_text", "The tickets in a line (\"2 × Standing, 1 × VIP\")"),
        ];
        let mut names: Vec<_> = org.to_vec();
        match self {
            Self::OrderConfirmation | Self::TicketsResent | Self::SeatChanged | Self::TicketLinkText => {
                names.extend(event);
                names.extend(order);
            }
            Self::RefundNotice => {
                names.extend(event);
                names.extend(order);
                names.extend([
                    ("refund.amount", "The amount refunded, with its currency"),
                    ("refund.cancelled", "How many tickets the refund cancelled (a number)"),
                    ("refund.tickets_issued", "false if the payment came too late and no ticket was issued"),
                ]);
            }
            Self::DoorSaleTickets => {
                names.extend(event);
                names.extend([
                    ("orders", "The sale's orders as a list: each has code and tickets_url (a PDF)"),
                    ("buyer.email", "The address the box office entered"),
                ]);
            }
            Self::AccountInvitation | Self::MemberInvitation => names.extend([
                ("member.name", "The new member's name"),
                ("member.email", "The new member's e-mail address (their login)"),
                ("member.role", "Their role (owner, admin, box office, scanner, …)"),
                ("inviter.name", "Who added them"),
                ("sign_in_url", "The console's sign-in page"),
            ]),
            Self::WebhookDisabled => names.extend([
                ("endpoint.url", "The endpoint's URL"),
                ("endpoint.reason", "Why it was disabled"),
                ("endpoint.page_url", "Its page in the console"),
            ]),
            Self::ScheduledReport => {
                names.extend(event);
                names.extend([
                    ("report.title", "The report's title (\"Sales\")"),
                    ("report.due", "When it was due, on the venue's clock"),
                    ("report.missed", "Earlier times it was due while the hub was down, which this one covers (a list; usually empty)"),
                    ("report.rows", "How many rows it has (a number)"),
                    ("report.page_url", "The event's reports in the console"),
                    ("report.schedule_url", "Where to change or stop the schedule"),
                ]);
            }
        }
        names
    }
}

#[cfg(test)]
mod tests {
    use super::Kind;

    #[test]
    fn every_kind_has_a_name_that_reads_back() {
        for kind in Kind::ALL {
            assert_eq!(Kind::parse(kind.as_str()), Some(kind));
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
        }
        assert_eq!(Kind::parse("order"), None);
    }
}
