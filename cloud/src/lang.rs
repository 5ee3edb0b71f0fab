//! The languages buyers read: what the shop and the buyer's e-mails are written in, and how
//! dates and amounts look in each.
//!
//! Three languages and a few dozen phrases, so the catalogue is Rust (here and in
//! `sales/buyer_mail.rs`): every phrase is a `match` on [`Lang`], and a language added without
//! its translation is a compile error rather than an English sentence in a German mail. A
//! message catalogue crate (Fluent, gettext) earns its keep when translators, not engineers,
//! own the texts — issue 23's per-organization templates are where that happens.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A language the hub writes to buyers in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// English (the default).
    #[default]
    En,
    /// German.
    De,
    /// Dutch.
    Nl,
}

impl Lang {
    /// Every language, in the order a chooser lists them.
    pub const ALL: [Self; 3] = [Self::En, Self::De, Self::Nl];

    /// Its ISO 639-1 code: "en", "de", "nl".
    pub fn code(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::De => "de",
            Self::Nl => "nl",
        }
    }

    /// Its name in itself: "English", "Deutsch", "Nederlands".
    pub fn name(self) -> &'static str {
        match self {
            Self::En => "English",
            Self::De => "Deutsch",
            Self::Nl => "Nederlands",
        }
    }

    /// The language of a code ("de", "de-AT", "NL"); `None` if it is not one of ours.
    pub fn parse(code: &str) -> Option<Self> {
        let primary = code.trim().split(['-', '_']).next().unwrap_or("").to_ascii_lowercase();
        Self::ALL.into_iter().find(|l| l.code() == primary)
    }

    /// The language a browser prefers among ours, from its `Accept-Language` header
    /// ("nl-BE,nl;q=0.9,en;q=0.8"); `fallback` if it names none of them. Ties keep the
    /// header's order.
    pub fn from_accept_language(header: &str, fallback: Self) -> Self {
        let mut best: Option<(Self, u16)> = None;
        for part in header.split(',').take(32) {
            let mut pieces = part.split(';');
            let Some(lang) = pieces.next().and_then(Self::parse) else { continue };
            // q in thousandths; a malformed q counts as 1, as browsers never send one.
            let q = pieces.find_map(|p| p.trim().strip_prefix("q=")).and_then(thousandths).unwrap_or(1000);
            if q > 0 && best.is_none_or(|(_, b)| q > b) {
                best = Some((lang, q));
            }
        }
        best.map_or(fallback, |(l, _)| l)
    }

    /// `ms` on the venue's clock (`zone`; UTC if unknown here), as this language writes it:
    /// "Sat 13 June 2026, 14:00", "Sa. 13. Juni 2026, 14:00", "za 13 juni 2026, 14:00".
    pub fn date_time(self, ms: i64, zone: &str) -> String {
        let Some(at) = zoned(ms, zone) else { return String::new() };
        format!("{}, {}", self.date(&at), at.strftime("%H:%M"))
    }

    /// From `starts` to `ends` on the venue's clock: "Sat 13 June 2026, 14:00–23:00", or both
    /// in full when they fall on different days.
    pub fn time_range(self, starts: i64, ends: i64, zone: &str) -> String {
        let (Some(a), Some(b)) = (zoned(starts, zone), zoned(ends, zone)) else { return String::new() };
        if a.date() == b.date() {
            format!("{}, {}–{}", self.date(&a), a.strftime("%H:%M"), b.strftime("%H:%M"))
        } else {
            format!("{} – {}", self.date_time(starts, zone), self.date_time(ends, zone))
        }
    }

    fn date(self, at: &jiff::Zoned) -> String {
        let day = usize::try_from(at.weekday().to_monday_zero_offset()).unwrap_or(0);
        let month = usize::try_from(at.month() - 1).unwrap_or(0);
        let (weekdays, months) = match self {
            Self::En => (
                ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
                [
                    "January",
                    "February",
                    "March",
                    "April",
                    "May",
                    "June",
                    "July",
                    "August",
                    "September",
                    "October",
                    "November",
                    "December",
                ],
            ),
            Self::De => (
                ["Mo.", "Di.", "Mi.", "Do.", "Fr.", "Sa.", "So."],
                [
                    "Januar",
                    "Februar",
                    "März",
                    "April",
                    "Mai",
                    "Juni",
                    "Juli",
                    "August",
                    "September",
                    "Oktober",
                    "November",
                    "Dezember",
                ],
            ),
            Self::Nl => (
                ["ma", "di", "wo", "do", "vr", "za", "zo"],
                [
                    "januari",
                    "februari",
                    "maart",
                    "april",
                    "mei",
                    "juni",
                    "juli",
                    "augustus",
                    "september",
                    "oktober",
                    "november",
                    "december",
                ],
            ),
        };
        let dot = if self == Self::De { "." } else { "" };
        format!("{} {}{dot} {} {}", weekdays[day], at.day(), months[month], at.year())
    }

    /// An amount as this language writes it: "45.00 EUR", "45,00 EUR".
    pub fn money(self, minor: i64, currency: &str) -> String {
        let text = sync_core::money::format_minor(minor, currency);
        match self {
            Self::En => text,
            Self::De | Self::Nl => text.replacen('.', ",", 1),
        }
    }
}

/// An Accept-Language weight ("0.8", "1", "0.125") in thousandths; `None` if it is not one.
fn thousandths(q: &str) -> Option<u16> {
    let (whole, fraction) = q.trim().split_once('.').unwrap_or((q.trim(), ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let fraction: u16 = format!("{fraction:0<3}").parse().ok()?;
    match whole {
        "0" => Some(fraction),
        "1" if fraction == 0 => Some(1000),
        _ => None,
    }
}

impl std::fmt::Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

impl TryFrom<String> for Lang {
    type Error = String;
    fn try_from(code: String) -> Result<Self, String> {
        Self::parse(&code).ok_or_else(|| format!("not a language the hub writes: {code:?}"))
    }
}

fn zoned(ms: i64, zone: &str) -> Option<jiff::Zoned> {
    let at = jiff::Timestamp::from_millisecond(ms).ok()?;
    let tz = jiff::tz::TimeZone::get(zone).unwrap_or(jiff::tz::TimeZone::UTC);
    Some(at.to_zoned(tz))
}

#[cfg(test)]
mod tests {
    use super::Lang;

    // 2026-06-13 12:00 UTC: 14:00 in Amsterdam (summer time).
    const NOON: i64 = 1_781_352_000_000;
    const HOUR: i64 = 3_600_000;

    #[test]
    fn dates_read_as_each_language_writes_them_on_the_venues_clock() {
        let zone = "Europe/Amsterdam";
        assert_eq!(Lang::En.date_time(NOON, zone), "Sat 13 June 2026, 14:00");
        assert_eq!(Lang::De.date_time(NOON, zone), "Sa. 13. Juni 2026, 14:00");
        assert_eq!(Lang::Nl.date_time(NOON, zone), "za 13 juni 2026, 14:00");
        assert_eq!(Lang::En.time_range(NOON, NOON + 9 * HOUR, zone), "Sat 13 June 2026, 14:00–23:00");
        assert_eq!(
            Lang::Nl.time_range(NOON, NOON + 12 * HOUR, zone),
            "za 13 juni 2026, 14:00 – zo 14 juni 2026, 02:00"
        );
        assert_eq!(Lang::En.date_time(NOON, "Nowhere/Else"), "Sat 13 June 2026, 12:00");
    }

    #[test]
    fn amounts_use_each_languages_decimal_mark() {
        assert_eq!(Lang::En.money(4500, "EUR"), "45.00 EUR");
        assert_eq!(Lang::De.money(4500, "EUR"), "45,00 EUR");
        assert_eq!(Lang::Nl.money(123_456, "EUR"), "1234,56 EUR");
        assert_eq!(Lang::De.money(500, "JPY"), "500 JPY");
    }

    #[test]
    fn the_browsers_preference_wins_among_the_languages_we_write() {
        let pick = |h| Lang::from_accept_language(h, Lang::En);
        assert_eq!(pick("nl-BE,nl;q=0.9,en;q=0.8"), Lang::Nl);
        assert_eq!(pick("fr-FR,fr;q=0.9,de;q=0.7,en;q=0.5"), Lang::De);
        assert_eq!(pick("en;q=0.4, de;q=0.8"), Lang::De);
        assert_eq!(pick("fr, es"), Lang::En);
        assert_eq!(pick("de;q=0, nl;q=0.1"), Lang::Nl);
        assert_eq!(pick(""), Lang::En);
        assert_eq!(Lang::from_accept_language("fr", Lang::Nl), Lang::Nl);
        assert_eq!(pick("DE-at"), Lang::De);
    }
}
