//! What the shop's pages say, in each language buyers read ([`Lang`]). One struct of phrases
//! per language: a phrase missing in one language is a compile error, not an English word on
//! a Dutch page. Phrases with a value in them are functions.

use crate::lang::Lang;

/// The shop's phrases in one language.
pub(super) struct Words {
    pub lang: &'static str,
    pub tickets: &'static str,
    pub when: &'static str,
    pub place: &'static str,
    pub organizer: &'static str,
    pub how_many: &'static str,
    pub sold_out: &'static str,
    pub not_yet: &'static str,
    pub closed: &'static str,
    pub your_name: &'static str,
    pub your_email: &'static str,
    pub email_hint: &'static str,
    pub total: &'static str,
    pub no_fees: &'static str,
    pub voucher: &'static str,
    pub with_ticket: &'static str,
    pub includes: &'static str,
    pub apply: &'static str,
    pub buy: &'static str,
    pub next_steps: &'static str,
    pub accept_before: &'static str,
    pub terms: &'static str,
    pub privacy: &'static str,
    pub not_on_sale: &'static str,
    pub choose_some: &'static str,
    pub unreachable: &'static str,
    pub lost: &'static str,
    pub lost_email: &'static str,
    pub lost_send: &'static str,
    pub again_answer: &'static str,
    pub language: &'static str,
    // The order page.
    pub order: &'static str,
    pub paid: &'static str,
    pub pdf: &'static str,
    pub waiting: &'static str,
    pub lapsed: &'static str,
    pub not_paid: &'static str,
    pub number: &'static str,
    pub refunded: &'static str,
    pub mailed: &'static str,
    // The payment page.
    pub card: &'static str,
    pub pay: &'static str,
    pub card_hint: &'static str,
    pub back: &'static str,
    pub declined: &'static str,
    pub three_ds: &'static str,
    pub expired: &'static str,
    pub check_card: &'static str,
    pub no_service: &'static str,
    pub failed: &'static str,
}

impl Words {
    /// "Only 3 left".
    pub(super) fn few_left(&self, n: i64) -> String {
        match self.lang {
            "de" => format!("Nur noch {n}"),
            "nl" => format!("Nog maar {n}"),
            _ => format!("Only {n} left"),
        }
    }
}

/// The phrases of `lang`.
pub(super) fn words(lang: Lang) -> Words {
    match lang {
        Lang::En => ENGLISH,
        Lang::De => GERMAN,
        Lang::Nl => DUTCH,
    }
}

const ENGLISH: Words = Words {
    lang: "en",
    tickets: "Tickets",
    when: "When",
    place: "Where",
    organizer: "Organizer",
    how_many: "How many",
    sold_out: "Sold out",
    not_yet: "Not on sale yet",
    closed: "Sales have closed",
    your_name: "Your name",
    your_email: "E-mail",
    email_hint: "Your tickets are sent here, and shown on screen after paying.",
    total: "Total",
    no_fees: "No booking fees: this is what you pay.",
    voucher: "Voucher code",
    with_ticket: "Add-on: only with a ticket",
    includes: "Includes",
    apply: "Apply",
    buy: "Continue to payment",
    next_steps: "Your tickets are held for you while you pay. After paying you see them on screen and receive them by e-mail as a PDF.",
    accept_before: "By buying you accept the organizer's",
    terms: "terms and conditions",
    privacy: "privacy policy",
    not_on_sale: "Tickets for this event are not on sale.",
    choose_some: "Choose how many tickets you want.",
    unreachable: "The shop cannot be reached. Check your connection and try again.",
    lost: "Lost your tickets?",
    lost_email: "The e-mail address you bought with",
    lost_send: "Send me my tickets again",
    again_answer: "If this address bought tickets for this event, they are on their way to it now. Nothing arrived within a few minutes? Look in your spam folder, or check the address.",
    language: "Language",
    order: "Order",
    paid: "Paid. Show these codes at the entrance, on screen or printed. Each code admits once.",
    pdf: "Tickets as PDF",
    waiting: "Waiting for the payment to be confirmed… this page refreshes by itself.",
    lapsed: "Your payment arrived after your reservation had lapsed, and the tickets were sold meanwhile, so no tickets were issued. The full amount is being paid back to you the way you paid:",
    not_paid: "This order was not paid: no tickets were issued.",
    number: "No.",
    refunded: "refunded",
    mailed: "We have also sent your tickets by e-mail to",
    card: "Card",
    pay: "Pay",
    card_hint: "Your card is checked by the payment service; this site never sees its number.",
    back: "Back to the order",
    declined: "Your card was declined. Try another card, or ask your bank.",
    three_ds: "Your bank's check (3-D Secure) did not pass. Try again, or use another card.",
    expired: "Your card has expired. Use another card.",
    check_card: "Check the card number, expiry date and security code.",
    no_service: "We could not reach the payment service. Check your connection and try again.",
    failed: "The payment did not go through. Try again.",
};

const GERMAN: Words = Words {
    lang: "de",
    tickets: "Tickets",
    when: "Wann",
    place: "Wo",
    organizer: "Veranstalter",
    how_many: "Anzahl",
    sold_out: "Ausverkauft",
    not_yet: "Noch nicht im Verkauf",
    closed: "Verkauf beendet",
    your_name: "Ihr Name",
    your_email: "E-Mail",
    email_hint: "Ihre Tickets werden hierhin geschickt und nach der Zahlung angezeigt.",
    total: "Gesamt",
    no_fees: "Keine Buchungsgebühren: Das ist, was Sie bezahlen.",
    voucher: "Gutscheincode",
    with_ticket: "Zusatzleistung: nur mit einem Ticket",
    includes: "Enthält",
    apply: "Einlösen",
    buy: "Weiter zur Zahlung",
    next_steps: "Ihre Tickets sind für Sie reserviert, während Sie bezahlen. Danach sehen Sie sie auf dem Bildschirm und erhalten sie per E-Mail als PDF.",
    accept_before: "Mit dem Kauf akzeptieren Sie die",
    terms: "Geschäftsbedingungen",
    privacy: "Datenschutzerklärung",
    not_on_sale: "Für diese Veranstaltung werden keine Tickets verkauft.",
    choose_some: "Wählen Sie, wie viele Tickets Sie möchten.",
    unreachable: "Der Shop ist nicht erreichbar. Prüfen Sie Ihre Verbindung und versuchen Sie es erneut.",
    lost: "Tickets verloren?",
    lost_email: "Die E-Mail-Adresse, mit der Sie gekauft haben",
    lost_send: "Tickets erneut senden",
    again_answer: "Wenn mit dieser Adresse Tickets für diese Veranstaltung gekauft wurden, sind sie jetzt unterwegs. Nach ein paar Minuten nichts angekommen? Sehen Sie im Spam-Ordner nach oder prüfen Sie die Adresse.",
    language: "Sprache",
    order: "Bestellung",
    paid: "Bezahlt. Zeigen Sie diese Codes am Eingang vor, auf dem Bildschirm oder ausgedruckt. Jeder Code gilt für einen Einlass.",
    pdf: "Tickets als PDF",
    waiting: "Die Zahlung wird bestätigt … diese Seite aktualisiert sich selbst.",
    lapsed: "Ihre Zahlung kam an, nachdem Ihre Reservierung abgelaufen war, und die Tickets waren inzwischen verkauft; deshalb wurden keine Tickets ausgestellt. Der volle Betrag wird Ihnen auf dem Zahlungsweg erstattet:",
    not_paid: "Diese Bestellung wurde nicht bezahlt: Es wurden keine Tickets ausgestellt.",
    number: "Nr.",
    refunded: "erstattet",
    mailed: "Wir haben Ihre Tickets auch per E-Mail geschickt an",
    card: "Karte",
    pay: "Bezahlen",
    card_hint: "Ihre Karte prüft der Zahlungsdienst; diese Seite sieht ihre Nummer nie.",
    back: "Zurück zur Bestellung",
    declined: "Ihre Karte wurde abgelehnt. Versuchen Sie eine andere Karte oder fragen Sie Ihre Bank.",
    three_ds: "Die Prüfung Ihrer Bank (3-D Secure) war nicht erfolgreich. Versuchen Sie es erneut oder nutzen Sie eine andere Karte.",
    expired: "Ihre Karte ist abgelaufen. Nutzen Sie eine andere Karte.",
    check_card: "Prüfen Sie Kartennummer, Ablaufdatum und Prüfziffer.",
    no_service: "Der Zahlungsdienst war nicht erreichbar. Prüfen Sie Ihre Verbindung und versuchen Sie es erneut.",
    failed: "Die Zahlung ist nicht durchgegangen. Versuchen Sie es erneut.",
};

const DUTCH: Words = Words {
    lang: "nl",
    tickets: "Tickets",
    when: "Wanneer",
    place: "Waar",
    organizer: "Organisator",
    how_many: "Aantal",
    sold_out: "Uitverkocht",
    not_yet: "Nog niet te koop",
    closed: "Verkoop gesloten",
    your_name: "Je naam",
    your_email: "E-mail",
    email_hint: "Je tickets worden hierheen gestuurd, en na betalen op het scherm getoond.",
    total: "Totaal",
    no_fees: "Geen boekingskosten: dit is wat je betaalt.",
    voucher: "Kortingscode",
    with_ticket: "Extra: alleen bij een ticket",
    includes: "Inclusief",
    apply: "Toepassen",
    buy: "Naar betalen",
    next_steps: "Je tickets worden voor je vastgehouden terwijl je betaalt. Daarna zie je ze op het scherm en krijg je ze per e-mail als pdf.",
    accept_before: "Met je aankoop ga je akkoord met de",
    terms: "algemene voorwaarden",
    privacy: "privacyverklaring",
    not_on_sale: "Voor dit evenement zijn geen tickets te koop.",
    choose_some: "Kies hoeveel tickets je wilt.",
    unreachable: "De shop is niet bereikbaar. Controleer je verbinding en probeer het opnieuw.",
    lost: "Tickets kwijt?",
    lost_email: "Het e-mailadres waarmee je kocht",
    lost_send: "Stuur mijn tickets opnieuw",
    again_answer: "Als met dit adres tickets voor dit evenement zijn gekocht, zijn ze nu onderweg. Na een paar minuten niets ontvangen? Kijk in je spammap, of controleer het adres.",
    language: "Taal",
    order: "Bestelling",
    paid: "Betaald. Laat deze codes zien bij de ingang, op het scherm of geprint. Elke code geeft één keer toegang.",
    pdf: "Tickets als pdf",
    waiting: "De betaling wordt bevestigd… deze pagina ververst vanzelf.",
    lapsed: "Je betaling kwam binnen nadat je reservering was verlopen, en de tickets waren intussen verkocht; daarom zijn er geen tickets uitgegeven. Het hele bedrag wordt teruggestort zoals je betaald hebt:",
    not_paid: "Deze bestelling is niet betaald: er zijn geen tickets uitgegeven.",
    number: "Nr.",
    refunded: "terugbetaald",
    mailed: "We hebben je tickets ook gemaild naar",
    card: "Kaart",
    pay: "Betaal",
    card_hint: "Je kaart wordt gecontroleerd door de betaaldienst; deze site ziet het nummer nooit.",
    back: "Terug naar de bestelling",
    declined: "Je kaart is geweigerd. Probeer een andere kaart, of vraag het je bank.",
    three_ds: "De controle van je bank (3-D Secure) is niet gelukt. Probeer het opnieuw, of gebruik een andere kaart.",
    expired: "Je kaart is verlopen. Gebruik een andere kaart.",
    check_card: "Controleer het kaartnummer, de vervaldatum en de beveiligingscode.",
    no_service: "De betaaldienst was niet bereikbaar. Controleer je verbinding en probeer het opnieuw.",
    failed: "De betaling is niet gelukt. Probeer het opnieuw.",
};

/// The language a shop page is shown in: the one asked for in the address (`?lang=de`, the
/// page's language chooser), else the browser's preference among ours, else the event's.
pub(super) fn choose(asked: Option<&str>, accept_language: Option<&str>, event: Lang) -> Lang {
    asked
        .and_then(Lang::parse)
        .unwrap_or_else(|| accept_language.map_or(event, |h| Lang::from_accept_language(h, event)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_address_wins_then_the_browser_then_the_event() {
        assert_eq!(choose(Some("nl"), Some("de"), Lang::En), Lang::Nl);
        assert_eq!(choose(Some("fr"), Some("de-DE,de;q=0.9"), Lang::En), Lang::De);
        assert_eq!(choose(None, Some("fr"), Lang::Nl), Lang::Nl);
        assert_eq!(choose(None, None, Lang::De), Lang::De);
        assert_eq!(words(Lang::Nl).few_left(3), "Nog maar 3");
    }
}
