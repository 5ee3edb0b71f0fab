//! The hub's own wording of every message, in every language: `cloud/messages/<lang>/<kind>.md`,
//! built into the binary. Each file is a `Subject:` line, a blank line, and the body in
//! Markdown — written in the same template language an organization rewords them in, so a
//! default is also the example to start from.
//!
//! The `match` below names every kind in every language: a kind or a language added without
//! its texts does not compile; the tests render each with every sample.

use super::{Kind, Wording};
use crate::lang::Lang;

/// The default file of `kind` in `lang`.
fn source(kind: Kind, lang: Lang) -> &'static str {
    macro_rules! file {
        ($lang:literal, $kind:literal) => {
            include_str!(concat!("../../messages/", $lang, "/", $kind, ".md"))
        };
    }
    macro_rules! kinds {
        ($lang:literal) => {
            match kind {
                Kind::OrderConfirmation => file!($lang, "order_confirmation"),
                Kind::TicketsResent => file!($lang, "tickets_resent"),
                Kind::SeatChanged => file!($lang, "seat_changed"),
                Kind::RefundNotice => file!($lang, "refund_notice"),
                Kind::DoorSaleTickets => file!($lang, "door_sale_tickets"),
                Kind::AccountInvitation => file!($lang, "account_invitation"),
                Kind::MemberInvitation => file!($lang, "member_invitation"),
                Kind::WebhookDisabled => file!($lang, "webhook_disabled"),
                Kind::TicketLinkText => file!($lang, "ticket_link_text"),
                Kind::ScheduledReport => file!($lang, "scheduled_report"),
            }
        };
    }
    match lang {
        Lang::En => kinds!("en"),
        Lang::De => kinds!("de"),
        Lang::Nl => kinds!("nl"),
    }
}

/// The hub's wording of `kind` in `lang` (a text message's file is its body alone).
pub fn wording(kind: Kind, lang: Lang) -> Wording {
    let text = source(kind, lang);
    if kind.is_text() {
        return Wording { subject: String::new(), body: text.trim_end().to_owned() };
    }
    let (first, body) = text.split_once('\n').unwrap_or((text, ""));
    Wording {
        subject: first.strip_prefix("Subject:").unwrap_or(first).trim().to_owned(),
        body: body.trim_start_matches('\n').to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::{check, context};

    #[test]
    fn every_default_is_a_valid_template_in_every_language() {
        for lang in Lang::ALL {
            for kind in Kind::ALL {
                let w = wording(kind, lang);
                assert!(kind.is_text() || !w.subject.is_empty(), "{kind:?} {lang:?}");
                assert!(!w.subject.contains("Subject") && !w.body.contains("Subject:"), "{kind:?} {lang:?}");
                check(kind, lang, "Paradiso Live", &w).unwrap_or_else(|e| panic!("{kind:?} {lang:?}: {e:?}"));
            }
        }
    }

    #[test]
    fn the_confirmation_reads_as_before_in_each_language() {
        let sample = &context::samples(Kind::OrderConfirmation, Lang::De, "Paradiso Live")[0];
        let letter =
            crate::messages::render(Lang::De, &wording(Kind::OrderConfirmation, Lang::De), sample).unwrap();
        assert_eq!(letter.subject, "Ihre Tickets für Summer Nights");
        let text = letter.text();
        for expected in [
            "Hallo Ada Lovelace,",
            "- Wann: Sa. 13. Juni 2026, 20:00–23:00",
            "- Wo: Paradiso, Weteringschans 6, Amsterdam",
            "- Tickets: 2 × Standing, 1 × Balcony",
            "135,00 EUR",
            "<https://tickets.example/shop/orders/K7Q2MX4P/s3cr3t>",
            "-- \nParadiso Live",
        ] {
            assert!(text.contains(expected), "{expected} in {text}");
        }
        assert!(letter.html().contains("lang=\"de\""));
    }
}
