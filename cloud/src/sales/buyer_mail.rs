//! What the buyer is told by e-mail, in the event's language and on the venue's clock: the
//! confirmation with the tickets attached, the refund notice, and the tickets sent again —
//! each in the organization's wording if it has one ([`crate::messages`]).
//!
//! Each is queued in the transaction that causes it (the payment's, the refund's), through
//! the outbox, so it is sent if and only if that committed. The confirmation is queued under
//! the key `confirmation:<order>`: however often a payment is reported (a webhook retried, the
//! periodic recovery, two instances at once), the buyer gets one.

use super::store::{self, MailFacts};
use crate::db::Tenant;
use crate::lang::Lang;
use crate::mail;
use crate::messages::context::{Buyer, EventFacts, OrderFacts, Org, RefundFacts, TicketLine};
use crate::messages::{self, Context, Kind};
use crate::state::PublicUrl;
use crate::texts::{self, Via};

/// Why a message is sent: its wording and its `once` key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// The order was paid: the first confirmation, at most once per order.
    Paid,
    /// Someone asked for the tickets again (the organizer, or the buyer through the shop).
    /// `window` bounds how often: at most one per order and window (say, the hour).
    Again {
        /// The window's number (e.g. the hour since the epoch).
        window: i64,
    },
    /// The organizer moved a ticket to another seat: the new ticket replaces the old, which
    /// no longer admits. Once per move (the new ticket's serial).
    Reseated {
        /// The new ticket's serial.
        serial: i64,
    },
}

impl Reason {
    fn kind(self) -> Kind {
        match self {
            Self::Paid => Kind::OrderConfirmation,
            Self::Again { .. } => Kind::TicketsResent,
            Self::Reseated { .. } => Kind::SeatChanged,
        }
    }
}

/// Queues the tickets of paid order `order` to its buyer, for `reason` — and, when it is
/// first paid and the buyer gave a phone number, the link to them by text. `false` if no
/// e-mail was queued: no address, not paid, or sent already for this reason (and window).
pub async fn tickets(
    tx: &mut Tenant,
    public_url: &PublicUrl,
    order: i64,
    reason: Reason,
) -> anyhow::Result<bool> {
    let Some(facts) = store::mail_facts(tx, order).await? else { return Ok(false) };
    let texting = reason == Reason::Paid && !facts.phone.is_empty();
    let emailing = deliverable(&facts.email);
    if facts.status != "paid" || !(texting || emailing) {
        return Ok(false);
    }
    let lines = store::line_names(tx, order).await?;
    let context = order_context(&facts, lines, public_url);
    if texting {
        ticket_link_text(tx, order, &facts, &context).await?;
    }
    if !emailing {
        return Ok(false);
    }
    let once = match reason {
        Reason::Paid => format!("confirmation:{order}"),
        Reason::Again { window } => format!("again:{order}:{window}"),
        Reason::Reseated { serial } => format!("reseated:{order}:{serial}"),
    };
    let letter = messages::letter(tx, reason.kind(), lang(&facts), Some(facts.event_id), &context).await?;
    Ok(mail::enqueue_letter(tx, &facts.email, &letter, Some(order), Some(&once)).await?.is_some())
}

/// Queues the text with the link to order `order`'s tickets to the buyer's phone, once per
/// order.
async fn ticket_link_text(
    tx: &mut Tenant,
    order: i64,
    facts: &MailFacts,
    context: &Context,
) -> anyhow::Result<()> {
    let text =
        match messages::text(tx, Kind::TicketLinkText, lang(facts), Some(facts.event_id), context).await {
            Ok(text) => text,
            Err(e) if e.is::<messages::Unrenderable>() => {
                // Too long even in the default wording (very long names): the bare link.
                tracing::warn!(order, error = %e, "the ticket link goes as the bare link");
                let org: String = facts.org_name.chars().take(40).collect();
                format!("{org}: {}", order_url(context))
            }
            Err(e) => return Err(e),
        };
    let via = Via::parse(&facts.text_via).unwrap_or_default();
    texts::enqueue(tx, &facts.phone, via, &text, Some(&format!("ticket-link:{order}")), Some(order)).await?;
    Ok(())
}

/// The order's page, as `context` links it.
fn order_url(context: &Context) -> &str {
    match context {
        Context::Order { order, .. } | Context::Refund { order, .. } => &order.url,
        _ => "",
    }
}

/// Queues the notice of refund `refund` (of `amount_minor`, cancelling `cancelled` tickets) of
/// `order` to its buyer, once per refund — when the money is on its way (cash handed back, or
/// the provider confirmed). Nothing for an order without an address.
pub async fn refund_notice(
    tx: &mut Tenant,
    public_url: &PublicUrl,
    order: i64,
    refund: i64,
    amount_minor: i64,
    cancelled: usize,
) -> anyhow::Result<()> {
    let Some(facts) = store::mail_facts(tx, order).await? else { return Ok(()) };
    if !deliverable(&facts.email) {
        return Ok(());
    }
    let (issued, _) = store::ticket_count(tx, order).await?;
    let l = lang(&facts);
    let lines = store::line_names(tx, order).await?;
    let refund_facts =
        RefundFacts { amount: l.money(amount_minor, &facts.currency), cancelled, tickets_issued: issued > 0 };
    let context = refund_context(order_context(&facts, lines, public_url), refund_facts);
    let letter = messages::letter(tx, Kind::RefundNotice, l, Some(facts.event_id), &context).await?;
    mail::enqueue_letter(tx, &facts.email, &letter, None, Some(&format!("refund:{refund}"))).await?;
    Ok(())
}

/// Whether mail can go to `address`: a door sale has none, and checkout takes some that no
/// mail server would (no dot in the domain); queueing those would only fail ten times.
fn deliverable(address: &str) -> bool {
    mail::check_address(address).is_ok()
}

fn lang(facts: &MailFacts) -> Lang {
    Lang::parse(&facts.language).unwrap_or_default()
}

/// What a message about an order (of `facts`, with its tickets by type `lines`) says of
/// it: the facts of the order, its event and its buyer, in the event's language. Also the
/// console's preview of these messages, with the organization's latest order.
pub fn order_context(facts: &MailFacts, lines: Vec<(String, i64)>, public_url: &PublicUrl) -> Context {
    let l = lang(facts);
    let tickets: Vec<TicketLine> =
        lines.into_iter().map(|(name, count)| TicketLine { name, count }).collect();
    Context::Order {
        org: Org { name: facts.org_name.clone() },
        event: event_facts(facts),
        buyer: Buyer { name: facts.name.clone(), email: facts.email.clone() },
        order: OrderFacts {
            code: facts.code.clone(),
            url: format!("{}/shop/orders/{}/{}", public_url.base(), facts.code, facts.secret),
            total: l.money(facts.total_minor, &facts.currency),
            tickets_text: OrderFacts::tickets_text(&tickets),
            tickets,
        },
    }
}

/// The event of `facts`, as a message to its buyer names it (in the event's language).
pub fn event_facts(facts: &MailFacts) -> EventFacts {
    EventFacts::new(
        lang(facts),
        &facts.event_name,
        facts.starts_at,
        facts.ends_at,
        &facts.time_zone,
        &facts.venue_name,
        &facts.venue_address,
    )
}

/// An order's context with a refund's facts added.
pub fn refund_context(order_context: Context, refund: RefundFacts) -> Context {
    match order_context {
        Context::Order { org, event, buyer, order } => Context::Refund { org, event, buyer, order, refund },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::defaults;

    fn facts(language: &str) -> MailFacts {
        MailFacts {
            code: "K7Q2MX4P".into(),
            secret: "s3cr3t".into(),
            status: "paid".into(),
            name: "Ada".into(),
            email: "ada@example.org".into(),
            currency: "EUR".into(),
            total_minor: 9000,
            event_id: 1,
            event_name: "Summer Nights".into(),
            starts_at: 1_781_352_000_000,
            ends_at: 1_781_352_000_000 + 9 * 3_600_000,
            time_zone: "Europe/Amsterdam".into(),
            language: language.into(),
            venue_name: "Paradiso".into(),
            venue_address: "Weteringschans 6, Amsterdam".into(),
            org_name: "Paradiso Live".into(),
            phone: String::new(),
            text_via: "sms".into(),
        }
    }

    fn letter(kind: Kind, facts: &MailFacts, context: &Context) -> mail::Letter {
        let l = lang(facts);
        messages::render(l, &defaults::wording(kind, l), context).unwrap()
    }

    #[test]
    fn the_confirmation_is_written_in_the_events_language_on_the_venues_clock() {
        let url = PublicUrl("https://tickets.example/".into());
        let lines = || vec![("Standing".to_owned(), 2)];
        let en_facts = facts("en");
        let en = letter(Kind::OrderConfirmation, &en_facts, &order_context(&en_facts, lines(), &url));
        assert_eq!(en.subject, "Your tickets for Summer Nights");
        let text = en.text();
        for expected in [
            "Sat 13 June 2026, 14:00–23:00",
            "Paradiso, Weteringschans 6, Amsterdam",
            "2 × Standing",
            "90.00 EUR",
            "https://tickets.example/shop/orders/K7Q2MX4P/s3cr3t",
        ] {
            assert!(text.contains(expected), "{expected} in {text}");
        }
        let de_facts = facts("de");
        let de = letter(Kind::OrderConfirmation, &de_facts, &order_context(&de_facts, lines(), &url));
        assert_eq!(de.subject, "Ihre Tickets für Summer Nights");
        assert!(de.text().contains("Sa. 13. Juni 2026, 14:00–23:00") && de.text().contains("90,00 EUR"));
        let nl_facts = facts("nl");
        let nl = letter(Kind::TicketsResent, &nl_facts, &order_context(&nl_facts, lines(), &url));
        assert_eq!(nl.subject, "Je tickets voor Summer Nights (opnieuw verstuurd)");
        assert!(nl.text().contains("za 13 juni 2026"));
        assert!(nl.html().contains("lang=\"nl\""));
    }

    #[test]
    fn the_refund_notice_says_what_happened_to_the_tickets() {
        let url = PublicUrl("https://tickets.example".into());
        let refund = |language: &str, minor, cancelled, issued| {
            let f = facts(language);
            let l = lang(&f);
            let facts = RefundFacts { amount: l.money(minor, "EUR"), cancelled, tickets_issued: issued };
            letter(Kind::RefundNotice, &f, &refund_context(order_context(&f, vec![], &url), facts)).text()
        };
        let two = refund("en", 4500, 2, true);
        assert!(
            two.contains("refunded 45.00 EUR") && two.contains("2 tickets of this order are cancelled"),
            "{two}"
        );
        let lapsed = refund("en", 9000, 0, false);
        assert!(lapsed.contains("no tickets were issued"), "{lapsed}");
        let part = refund("de", 1000, 0, true);
        assert!(part.contains("10,00 EUR") && !part.contains("storniert"), "{part}");
    }
}
