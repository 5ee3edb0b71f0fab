//! What the buyer is told by e-mail, in the event's language and on the venue's clock: the
//! confirmation with the tickets attached, the refund notice, and the tickets sent again.
//!
//! Each is queued in the transaction that causes it (the payment's, the refund's), through
//! the outbox, so it is sent if and only if that committed. The confirmation is queued under
//! the key `confirmation:<order>`: however often a payment is reported (a webhook retried, the
//! periodic recovery, two instances at once), the buyer gets one.

use super::store::{self, MailFacts};
use crate::db::Tenant;
use crate::lang::Lang;
use crate::mail::{self, Letter};
use crate::state::PublicUrl;

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

/// Queues the tickets of paid order `order` to its buyer, for `reason`. `false` if nothing was
/// queued: no address, not paid, or sent already for this reason (and window).
pub async fn tickets(
    tx: &mut Tenant,
    public_url: &PublicUrl,
    order: i64,
    reason: Reason,
) -> anyhow::Result<bool> {
    let Some(facts) = store::mail_facts(tx, order).await? else { return Ok(false) };
    if !deliverable(&facts.email) || facts.status != "paid" {
        return Ok(false);
    }
    let lines = store::line_names(tx, order).await?;
    let letter = confirmation(&facts, &lines, public_url, reason);
    let once = match reason {
        Reason::Paid => format!("confirmation:{order}"),
        Reason::Again { window } => format!("again:{order}:{window}"),
        Reason::Reseated { serial } => format!("reseated:{order}:{serial}"),
    };
    Ok(mail::enqueue_letter(tx, &facts.email, &letter, Some(order), Some(&once)).await?.is_some())
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
    let letter = refund_letter(&facts, public_url, amount_minor, cancelled, issued == 0);
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

fn order_link(facts: &MailFacts, public_url: &PublicUrl) -> String {
    format!("{}/shop/orders/{}/{}", public_url.base(), facts.code, facts.secret)
}

/// The facts every letter about an order lists.
fn details(facts: &MailFacts, l: Lang) -> Vec<(String, String)> {
    let (event, when, place, order) = match l {
        Lang::En => ("Event", "When", "Where", "Order"),
        Lang::De => ("Veranstaltung", "Wann", "Wo", "Bestellung"),
        Lang::Nl => ("Evenement", "Wanneer", "Waar", "Bestelling"),
    };
    let mut out = vec![
        (event.to_owned(), facts.event_name.clone()),
        (when.to_owned(), l.time_range(facts.starts_at, facts.ends_at, &facts.time_zone)),
    ];
    let venue = [facts.venue_name.as_str(), facts.venue_address.as_str()]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    if !venue.is_empty() {
        out.push((place.to_owned(), venue));
    }
    out.push((order.to_owned(), facts.code.clone()));
    out
}

fn confirmation(
    facts: &MailFacts,
    lines: &[(String, i64)],
    public_url: &PublicUrl,
    reason: Reason,
) -> Letter {
    let l = lang(facts);
    let event = &facts.event_name;
    let tickets = lines.iter().map(|(name, n)| format!("{n} × {name}")).collect::<Vec<_>>().join(", ");
    let total = l.money(facts.total_minor, &facts.currency);
    let (subject, heading, first, tickets_label, total_label, link, closing) = match l {
        Lang::En => (
            match reason {
                Reason::Paid => format!("Your tickets for {event}"),
                Reason::Again { .. } => format!("Your tickets for {event} (sent again)"),
                Reason::Reseated { .. } => format!("Your new seat for {event}"),
            },
            format!("Hello {},", facts.name),
            match reason {
                Reason::Paid => "Thank you for your order: it is paid and your tickets are attached to this e-mail as a PDF.",
                Reason::Again { .. } => "As asked, here are your tickets again, attached to this e-mail as a PDF.",
                Reason::Reseated { .. } => "The organizer has moved you to another seat. Your tickets, with the new seat, are attached to this e-mail as a PDF: the ticket for your old seat no longer admits.",
            }
            .to_owned(),
            "Tickets",
            "Total paid",
            "Your order and tickets online",
            vec![
                "Show each ticket's code at the entrance, on your phone or printed. Each code admits once: keep it to yourself.".to_owned(),
                "Questions about the event? Reply to this e-mail.".to_owned(),
            ],
        ),
        Lang::De => (
            match reason {
                Reason::Paid => format!("Ihre Tickets für {event}"),
                Reason::Again { .. } => format!("Ihre Tickets für {event} (erneut gesendet)"),
                Reason::Reseated { .. } => format!("Ihr neuer Platz für {event}"),
            },
            format!("Hallo {},", facts.name),
            match reason {
                Reason::Paid => "Vielen Dank für Ihre Bestellung: Sie ist bezahlt, und Ihre Tickets hängen als PDF an dieser E-Mail.",
                Reason::Again { .. } => "Wie gewünscht erhalten Sie Ihre Tickets noch einmal, als PDF im Anhang dieser E-Mail.",
                Reason::Reseated { .. } => "Der Veranstalter hat Ihnen einen anderen Platz gegeben. Ihre Tickets mit dem neuen Platz hängen als PDF an dieser E-Mail: Das Ticket für Ihren alten Platz gilt nicht mehr.",
            }
            .to_owned(),
            "Tickets",
            "Bezahlt",
            "Ihre Bestellung und Tickets online",
            vec![
                "Zeigen Sie den Code jedes Tickets am Eingang vor, auf dem Handy oder ausgedruckt. Jeder Code gilt für einen Einlass: Geben Sie ihn nicht weiter.".to_owned(),
                "Fragen zur Veranstaltung? Antworten Sie einfach auf diese E-Mail.".to_owned(),
            ],
        ),
        Lang::Nl => (
            match reason {
                Reason::Paid => format!("Je tickets voor {event}"),
                Reason::Again { .. } => format!("Je tickets voor {event} (opnieuw verstuurd)"),
                Reason::Reseated { .. } => format!("Je nieuwe plaats voor {event}"),
            },
            format!("Hallo {},", facts.name),
            match reason {
                Reason::Paid => "Bedankt voor je bestelling: die is betaald, en je tickets zitten als pdf bij deze e-mail.",
                Reason::Again { .. } => "Zoals gevraagd sturen we je tickets opnieuw, als pdf bij deze e-mail.",
                Reason::Reseated { .. } => "De organisator heeft je een andere plaats gegeven. Je tickets met de nieuwe plaats zitten als pdf bij deze e-mail: het ticket voor je oude plaats geeft geen toegang meer.",
            }
            .to_owned(),
            "Tickets",
            "Totaal betaald",
            "Je bestelling en tickets online",
            vec![
                "Laat de code van elk ticket zien bij de ingang, op je telefoon of geprint. Elke code geeft één keer toegang: houd hem voor jezelf.".to_owned(),
                "Vragen over het evenement? Beantwoord deze e-mail.".to_owned(),
            ],
        ),
    };
    let mut details = details(facts, l);
    details.push((tickets_label.to_owned(), tickets));
    details.push((total_label.to_owned(), total));
    Letter {
        lang: l.code(),
        subject,
        sender: facts.org_name.clone(),
        heading,
        paragraphs: vec![first],
        details,
        link: Some((link.to_owned(), order_link(facts, public_url))),
        closing,
    }
}

fn refund_letter(
    facts: &MailFacts,
    public_url: &PublicUrl,
    amount_minor: i64,
    cancelled: usize,
    never_issued: bool,
) -> Letter {
    let l = lang(facts);
    let amount = l.money(amount_minor, &facts.currency);
    let code = &facts.code;
    let (subject, heading, mut paragraphs, link) = match l {
        Lang::En => (
            format!("Refund for your order {code}"),
            format!("Hello {},", facts.name),
            vec![format!(
                "We have refunded {amount} for your order {code}. It goes back the way you paid; your bank may take a few days to show it."
            )],
            "Your order online",
        ),
        Lang::De => (
            format!("Erstattung für Ihre Bestellung {code}"),
            format!("Hallo {},", facts.name),
            vec![format!(
                "Wir haben {amount} für Ihre Bestellung {code} erstattet. Das Geld geht auf dem Weg zurück, auf dem Sie bezahlt haben; Ihre Bank kann einige Tage brauchen, bis es erscheint."
            )],
            "Ihre Bestellung online",
        ),
        Lang::Nl => (
            format!("Terugbetaling van je bestelling {code}"),
            format!("Hallo {},", facts.name),
            vec![format!(
                "We hebben {amount} van je bestelling {code} terugbetaald. Het gaat terug zoals je betaald hebt; je bank kan er een paar dagen over doen."
            )],
            "Je bestelling online",
        ),
    };
    if never_issued {
        paragraphs.push(
            match l {
                Lang::En => "Your payment arrived after your reservation had lapsed and the tickets were sold meanwhile, so no tickets were issued. We are sorry.",
                Lang::De => "Ihre Zahlung kam an, nachdem Ihre Reservierung abgelaufen war, und die Tickets waren inzwischen verkauft; deshalb wurden keine Tickets ausgestellt. Das tut uns leid.",
                Lang::Nl => "Je betaling kwam binnen nadat je reservering was verlopen, en de tickets waren intussen verkocht; daarom zijn er geen tickets uitgegeven. Het spijt ons.",
            }
            .to_owned(),
        );
    } else if cancelled > 0 {
        paragraphs.push(match (l, cancelled) {
            (Lang::En, 1) => {
                "1 ticket of this order is cancelled: its code no longer admits anyone.".to_owned()
            }
            (Lang::En, n) => {
                format!("{n} tickets of this order are cancelled: their codes no longer admit anyone.")
            }
            (Lang::De, 1) => {
                "1 Ticket dieser Bestellung ist storniert: Sein Code gilt nicht mehr.".to_owned()
            }
            (Lang::De, n) => {
                format!("{n} Tickets dieser Bestellung sind storniert: Ihre Codes gelten nicht mehr.")
            }
            (Lang::Nl, 1) => {
                "1 ticket van deze bestelling is geannuleerd: de code geeft geen toegang meer.".to_owned()
            }
            (Lang::Nl, n) => {
                format!(
                    "{n} tickets van deze bestelling zijn geannuleerd: hun codes geven geen toegang meer."
                )
            }
        });
    }
    Letter {
        lang: l.code(),
        subject,
        sender: facts.org_name.clone(),
        heading,
        paragraphs,
        details: details(facts, l),
        link: Some((link.to_owned(), order_link(facts, public_url))),
        closing: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(language: &str) -> MailFacts {
        MailFacts {
            code: "K7Q2MX4P".into(),
            secret: "s3cr3t".into(),
            status: "paid".into(),
            name: "Ada".into(),
            email: "ada@example.org".into(),
            currency: "EUR".into(),
            total_minor: 9000,
            event_name: "Summer Nights".into(),
            starts_at: 1_781_352_000_000,
            ends_at: 1_781_352_000_000 + 9 * 3_600_000,
            time_zone: "Europe/Amsterdam".into(),
            language: language.into(),
            venue_name: "Paradiso".into(),
            venue_address: "Weteringschans 6, Amsterdam".into(),
            org_name: "Paradiso Live".into(),
        }
    }

    #[test]
    fn the_confirmation_is_written_in_the_events_language_on_the_venues_clock() {
        let url = PublicUrl("https://tickets.example/".into());
        let lines = [("Standing".to_owned(), 2)];
        let en = confirmation(&facts("en"), &lines, &url, Reason::Paid);
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
        let de = confirmation(&facts("de"), &lines, &url, Reason::Paid);
        assert_eq!(de.subject, "Ihre Tickets für Summer Nights");
        assert!(de.text().contains("Sa. 13. Juni 2026, 14:00–23:00") && de.text().contains("90,00 EUR"));
        let nl = confirmation(&facts("nl"), &lines, &url, Reason::Again { window: 1 });
        assert_eq!(nl.subject, "Je tickets voor Summer Nights (opnieuw verstuurd)");
        assert!(nl.text().contains("za 13 juni 2026"));
        assert!(nl.html().contains("lang=\"nl\""));
    }

    #[test]
    fn the_refund_notice_says_what_happened_to_the_tickets() {
        let url = PublicUrl("https://tickets.example".into());
        let two = refund_letter(&facts("en"), &url, 4500, 2, false).text();
        assert!(
            two.contains("refunded 45.00 EUR") && two.contains("2 tickets of this order are cancelled"),
            "{two}"
        );
        let lapsed = refund_letter(&facts("en"), &url, 9000, 0, true).text();
        assert!(lapsed.contains("no tickets were issued"), "{lapsed}");
        let part = refund_letter(&facts("de"), &url, 1000, 0, false).text();
        assert!(part.contains("10,00 EUR") && !part.contains("storniert"), "{part}");
    }
}
