//! Money: an amount in a currency's minor units, read exactly from what people type and written
//! as they read it. One type for the apps, the hub and its console; the front ends have its
//! twin in `apps/ui/common/money.js`, with the same rules and the same sentences (the box
//! office's end-to-end tests hold the two to each other).
//!
//! ## Amounts
//!
//! A [`Money`] is an `i64` of minor units — cents for EUR, yen for JPY, fils for BHD — and a
//! [`Currency`], an ISO 4217 code (three capital letters). How many decimals a currency has
//! (its exponent) comes from ISO 4217: none for BIF, CLP, DJF, GNF, ISK, JPY, KMF, KRW, PYG,
//! RWF, UGX, UYI, VND, VUV, XAF, XOF and XPF; three for BHD, IQD, JOD, KWD, LYD, OMR and TND;
//! four for CLF and UYW; two for every other code, known or not ([`exponent`]).
//!
//! ## Writing
//!
//! `45.00 EUR`, `-0.05 EUR`, `4500 JPY`, `1.250 BHD`: a minus sign for a negative amount (zero
//! never has one), the whole units without grouping, a point and exactly the currency's
//! decimals, a space and the code ([`Money`]'s `Display`; [`format_minor`] for an amount
//! stored as minor units beside a code, [`format_amount`] without the code, for an input
//! field).
//!
//! ## Reading
//!
//! [`Money::parse`] takes what a person types, with no floating point anywhere:
//!
//! - spaces around the amount are ignored (ASCII white space, no-break space U+00A0, narrow
//!   no-break space U+202F);
//! - a leading `-` makes it negative (`-0.05`); `-0` is zero;
//! - the decimals follow one point or one comma: `12.50`, `12,50`, `12.5` (= 12.50), `12.`
//!   and `.5` are amounts; there is never more than one point or comma, so `1,234.50` and
//!   `1.234,50` are refused rather than guessed at;
//! - the whole units may be grouped by threes with a space (or U+00A0, U+202F), as many
//!   locales write them: `1 234 567.50`; any other grouping (`12 34`) is refused;
//! - more decimals than the currency has are refused, even zeros (`12.500` in EUR, `1500.0`
//!   in JPY): a comma typed as a thousands separator is caught instead of read as decimals;
//! - the currency's code may follow, as [`Money`] writes it (`45.00 EUR`, `45.00eur`); another
//!   code is refused;
//! - digits are ASCII only; anything else is refused, and so is an amount beyond the `i64` of
//!   minor units. Parsing never panics.
//!
//! Formatting and then parsing gives the same amount back, for every `i64`.

use std::fmt;
use std::str::FromStr;

/// The ISO 4217 currencies whose minor unit is not a hundredth, with their exponents.
const EXPONENTS: [(&str, u32); 26] = [
    ("BIF", 0),
    ("CLP", 0),
    ("DJF", 0),
    ("GNF", 0),
    ("ISK", 0),
    ("JPY", 0),
    ("KMF", 0),
    ("KRW", 0),
    ("PYG", 0),
    ("RWF", 0),
    ("UGX", 0),
    ("UYI", 0),
    ("VND", 0),
    ("VUV", 0),
    ("XAF", 0),
    ("XOF", 0),
    ("XPF", 0),
    ("BHD", 3),
    ("IQD", 3),
    ("JOD", 3),
    ("KWD", 3),
    ("LYD", 3),
    ("OMR", 3),
    ("TND", 3),
    ("CLF", 4),
    ("UYW", 4),
];

/// How many decimals amounts in `code` have: from the ISO 4217 table above, 2 for any other
/// code (also one that is not a code at all).
pub fn exponent(code: &str) -> u32 {
    EXPONENTS.iter().find(|(c, _)| *c == code).map_or(2, |(_, e)| *e)
}

/// Why a text is not an amount (or a code not a currency), in words for the person who typed
/// it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// Nothing but spaces.
    #[error("Enter an amount.")]
    Empty,
    /// Not digits with at most one point or comma (and correct grouping).
    #[error("That is not an amount: type digits, with one point or comma before the decimals.")]
    Invalid,
    /// More decimals than the currency has.
    #[error("{}", decimals_sentence(*.currency))]
    TooManyDecimals {
        /// The currency the amount is in.
        currency: Currency,
    },
    /// Beyond what an `i64` of minor units holds.
    #[error("That amount is too large.")]
    TooLarge,
    /// The amount names another currency than the one asked for.
    #[error("That amount is in {found}, not in {expected}.")]
    WrongCurrency {
        /// The code that followed the amount (upper-cased).
        found: String,
        /// The currency asked for.
        expected: Currency,
    },
    /// Not three capital letters.
    #[error("{0:?} is not a currency code: use three capital letters, such as EUR.")]
    NotACurrency(String),
}

fn decimals_sentence(currency: Currency) -> String {
    match currency.exponent() {
        0 => format!("{currency} amounts have no decimals."),
        n => format!("{currency} amounts have at most {n} decimals."),
    }
}

/// An ISO 4217 currency code: three capital ASCII letters.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

impl Currency {
    /// The euro.
    pub const EUR: Self = Self(*b"EUR");

    /// The currency with `code`; refused unless it is three capital letters. Codes outside
    /// the exponent table are accepted (with two decimals).
    pub fn new(code: &str) -> Result<Self, MoneyError> {
        match *code.as_bytes() {
            [a, b, c] if [a, b, c].iter().all(u8::is_ascii_uppercase) => Ok(Self([a, b, c])),
            _ => Err(MoneyError::NotACurrency(code.chars().take(16).collect())),
        }
    }

    /// The code, "EUR".
    pub fn code(&self) -> &str {
        // Three ASCII capitals, checked in `new`.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }

    /// How many decimals its amounts have.
    pub fn exponent(self) -> u32 {
        exponent(self.code())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Currency({})", self.code())
    }
}

impl FromStr for Currency {
    type Err = MoneyError;

    fn from_str(code: &str) -> Result<Self, MoneyError> {
        Self::new(code)
    }
}

/// An amount: minor units of a currency.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Money {
    minor: i64,
    currency: Currency,
}

impl Money {
    /// `minor` units of `currency` (4500 EUR cents: 45.00 EUR).
    pub const fn new(minor: i64, currency: Currency) -> Self {
        Self { minor, currency }
    }

    /// Reads what a person typed as an amount in `currency`, exactly (the rules are in the
    /// [module documentation](self)).
    pub fn parse(text: &str, currency: Currency) -> Result<Self, MoneyError> {
        let text = text.trim_matches(is_space);
        if text.is_empty() {
            return Err(MoneyError::Empty);
        }
        let (number, code) = split_code(text);
        let number = number.trim_end_matches(is_space);
        if number.is_empty() {
            return Err(MoneyError::Invalid);
        }
        if let Some(code) = code
            && !code.eq_ignore_ascii_case(currency.code())
        {
            return Err(MoneyError::WrongCurrency { found: code.to_ascii_uppercase(), expected: currency });
        }
        Ok(Self { minor: parse_minor(number, currency)?, currency })
    }

    /// The amount in minor units.
    pub const fn minor(self) -> i64 {
        self.minor
    }

    /// Its currency.
    pub const fn currency(self) -> Currency {
        self.currency
    }

    /// The amount without its code, "45.00": what an input field shows.
    pub fn amount(self) -> String {
        amount_text(self.minor, self.currency.exponent())
    }
}

impl fmt::Display for Money {
    /// "45.00 EUR".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount(), self.currency)
    }
}

/// `minor` units of the currency `code` as people read them, "45.00 EUR" — for amounts kept
/// as minor units beside a code (database rows, journal entries). Never fails: a code that is
/// not one is written as given, with two decimals; an empty one leaves the code out ("45.00").
pub fn format_minor(minor: i64, code: &str) -> String {
    let code = code.trim();
    let amount = format_amount(minor, code);
    if code.is_empty() { amount } else { format!("{amount} {code}") }
}

/// `minor` units of the currency `code` without the code, "45.00": what an input field for
/// the amount starts with ([`Money::parse`] reads it back).
pub fn format_amount(minor: i64, code: &str) -> String {
    amount_text(minor, exponent(code.trim()))
}

fn amount_text(minor: i64, exponent: u32) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let digits = minor.unsigned_abs().to_string();
    let decimals = usize::try_from(exponent).unwrap_or(0);
    if decimals == 0 {
        return format!("{sign}{digits}");
    }
    let digits = format!("{digits:0>width$}", width = decimals + 1);
    let (whole, fraction) = digits.split_at(digits.len() - decimals);
    format!("{sign}{whole}.{fraction}")
}

/// The spaces around an amount (and, but for the ASCII control ones, between its groups).
fn is_space(c: char) -> bool {
    c.is_ascii_whitespace() || is_group_space(c)
}

/// What may separate groups of three digits.
fn is_group_space(c: char) -> bool {
    matches!(c, ' ' | '\u{a0}' | '\u{202f}')
}

/// Splits a trailing currency code (three ASCII letters not preceded by a letter) off `text`.
fn split_code(text: &str) -> (&str, Option<&str>) {
    let bytes = text.as_bytes();
    let Some(start) = bytes.len().checked_sub(3) else { return (text, None) };
    let letters = bytes.get(start..).is_some_and(|b| b.iter().all(u8::is_ascii_alphabetic));
    let after_letter = start.checked_sub(1).and_then(|i| bytes.get(i)).is_some_and(u8::is_ascii_alphabetic);
    match (letters && !after_letter, text.get(..start), text.get(start..)) {
        (true, Some(number), Some(code)) => (number, Some(code)),
        _ => (text, None),
    }
}

/// `-`, whole units (grouped by threes or not), one separator, at most the currency's decimals
/// → minor units.
fn parse_minor(number: &str, currency: Currency) -> Result<i64, MoneyError> {
    let (negative, unsigned) = match number.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, number),
    };
    let mut separators = unsigned.match_indices(['.', ',']);
    let (whole, fraction) = match (separators.next(), separators.next()) {
        (None, _) => (unsigned, ""),
        (Some((at, _)), None) => (unsigned.get(..at).unwrap_or(""), unsigned.get(at + 1..).unwrap_or("")),
        (Some(_), Some(_)) => return Err(MoneyError::Invalid),
    };
    let whole = whole_digits(whole).ok_or(MoneyError::Invalid)?;
    if !fraction.bytes().all(|b| b.is_ascii_digit()) || (whole.is_empty() && fraction.is_empty()) {
        return Err(MoneyError::Invalid);
    }
    let decimals = usize::try_from(currency.exponent()).unwrap_or(0);
    if fraction.len() > decimals {
        return Err(MoneyError::TooManyDecimals { currency });
    }
    // The magnitude, digit by digit, stopped as soon as it passes what an i64 can hold.
    let limit = u128::from(i64::MIN.unsigned_abs());
    let padding = std::iter::repeat_n(b'0', decimals - fraction.len());
    let mut magnitude: u128 = 0;
    for digit in whole.bytes().chain(fraction.bytes()).chain(padding) {
        magnitude = magnitude * 10 + u128::from(digit - b'0');
        if magnitude > limit {
            return Err(MoneyError::TooLarge);
        }
    }
    let magnitude = i128::try_from(magnitude).map_err(|_| MoneyError::TooLarge)?;
    i64::try_from(if negative { -magnitude } else { magnitude }).map_err(|_| MoneyError::TooLarge)
}

/// The whole units' digits, without their grouping spaces; `None` if grouped wrongly or not
/// digits.
fn whole_digits(whole: &str) -> Option<String> {
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if digits(whole) {
        return Some(whole.to_owned());
    }
    let mut groups = whole.split(is_group_space);
    let first = groups.next()?;
    if !(1..=3).contains(&first.len()) || !digits(first) {
        return None;
    }
    let mut out = first.to_owned();
    for group in groups {
        if group.len() != 3 || !digits(group) {
            return None;
        }
        out.push_str(group);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn c(code: &str) -> Currency {
        Currency::new(code).unwrap()
    }

    fn parse(text: &str, code: &str) -> Result<i64, MoneyError> {
        Money::parse(text, c(code)).map(Money::minor)
    }

    #[test]
    fn money_is_written_as_people_read_it() {
        // What the box office's receipts, the hub's tickets and its console printed before.
        assert_eq!(Money::new(4_500, c("EUR")).to_string(), "45.00 EUR");
        assert_eq!(format_minor(4_500, "EUR"), "45.00 EUR");
        assert_eq!(format_minor(-505, "EUR"), "-5.05 EUR");
        // One of the three formatters this replaces lost this minus sign.
        assert_eq!(format_minor(-5, "EUR"), "-0.05 EUR");
        assert_eq!(format_minor(-99, "EUR"), "-0.99 EUR");
        assert_eq!(format_minor(0, "EUR"), "0.00 EUR");
        assert_eq!(format_minor(7, "EUR"), "0.07 EUR");
        assert_eq!(format_minor(123_456_789, "EUR"), "1234567.89 EUR");
        assert_eq!(format_minor(4_500, "JPY"), "4500 JPY");
        assert_eq!(format_minor(-1, "JPY"), "-1 JPY");
        assert_eq!(format_minor(1_250, "BHD"), "1.250 BHD");
        assert_eq!(format_minor(5, "KWD"), "0.005 KWD");
        assert_eq!(format_minor(12_345, "CLF"), "1.2345 CLF");
        assert_eq!(format_minor(i64::MIN, "EUR"), "-92233720368547758.08 EUR");
        assert_eq!(format_minor(i64::MAX, "JPY"), "9223372036854775807 JPY");
        // Codes that are not codes still print, with two decimals; none leaves it out.
        assert_eq!(format_minor(4_500, ""), "45.00");
        assert_eq!(format_minor(4_500, "euro"), "45.00 euro");
        assert_eq!(format_amount(4_500, "EUR"), "45.00");
        assert_eq!(format_amount(4_500, "JPY"), "4500");
        assert_eq!(Money::new(-5, c("EUR")).amount(), "-0.05");
    }

    #[test]
    fn the_exponent_follows_iso_4217() {
        for (code, e) in [("EUR", 2), ("USD", 2), ("ZAR", 2), ("JPY", 0), ("KRW", 0), ("ISK", 0)] {
            assert_eq!(c(code).exponent(), e, "{code}");
        }
        for code in ["BHD", "KWD", "JOD", "OMR", "TND", "IQD", "LYD"] {
            assert_eq!(c(code).exponent(), 3, "{code}");
        }
        assert_eq!(exponent("QQQ"), 2);
        assert_eq!(exponent("jpy"), 2);
    }

    #[test]
    fn a_currency_is_three_capital_letters() {
        assert_eq!(c("EUR"), Currency::EUR);
        assert_eq!("JPY".parse::<Currency>().unwrap().code(), "JPY");
        for bad in ["", "EU", "EURO", "eur", "E1R", "ÉUR", " EUR"] {
            assert_eq!(Currency::new(bad), Err(MoneyError::NotACurrency(bad.to_owned())), "{bad:?}");
        }
        assert_eq!(
            Currency::new("euro").unwrap_err().to_string(),
            "\"euro\" is not a currency code: use three capital letters, such as EUR."
        );
    }

    #[test]
    fn amounts_are_read_exactly_as_typed() {
        let cases: &[(&str, &str, i64)] = &[
            ("12.50", "EUR", 1_250),
            ("12,50", "EUR", 1_250),
            ("12.5", "EUR", 1_250),
            ("12", "EUR", 1_200),
            ("12.", "EUR", 1_200),
            (".5", "EUR", 50),
            ("0.07", "EUR", 7),
            ("-0.05", "EUR", -5),
            ("-0", "EUR", 0),
            ("-.99", "EUR", -99),
            ("007.10", "EUR", 710),
            ("  12.50\t", "EUR", 1_250),
            ("\u{a0}12.50\n", "EUR", 1_250),
            ("1 234.50", "EUR", 123_450),
            ("1 234 567,89", "EUR", 123_456_789),
            ("1\u{a0}234,5", "EUR", 123_450),
            ("1\u{202f}234", "EUR", 123_400),
            ("-1 000", "EUR", -100_000),
            ("45.00 EUR", "EUR", 4_500),
            ("45.00EUR", "EUR", 4_500),
            ("45.00 eur", "EUR", 4_500),
            ("-0.05 EUR", "EUR", -5),
            ("4500", "JPY", 4_500),
            ("4 500 JPY", "JPY", 4_500),
            ("4500.", "JPY", 4_500),
            ("1.250", "BHD", 1_250),
            ("1,25", "BHD", 1_250),
            ("0.005 KWD", "KWD", 5),
            // Rounding by float would make this 0.29 * 100 = 28.999999999999996.
            ("0.29", "EUR", 29),
            ("1.15", "EUR", 115),
            ("92233720368547758.07", "EUR", i64::MAX),
            ("-92233720368547758.08", "EUR", i64::MIN),
            ("9223372036854775807", "JPY", i64::MAX),
        ];
        for (text, code, minor) in cases {
            assert_eq!(parse(text, code), Ok(*minor), "{text:?} in {code}");
        }
    }

    #[test]
    fn what_is_not_an_amount_is_refused_in_words() {
        use MoneyError::{Empty, Invalid, TooLarge};
        let decimals = |code: &str| MoneyError::TooManyDecimals { currency: c(code) };
        let cases: Vec<(&str, &str, MoneyError)> = vec![
            ("", "EUR", Empty),
            ("   ", "EUR", Empty),
            ("abc", "EUR", Invalid),
            ("EUR", "EUR", Invalid),
            ("-", "EUR", Invalid),
            (".", "EUR", Invalid),
            ("-.", "EUR", Invalid),
            ("--5", "EUR", Invalid),
            ("+5", "EUR", Invalid),
            ("- 5", "EUR", Invalid),
            ("5-", "EUR", Invalid),
            ("1,234.50", "EUR", Invalid),
            ("1.234,50", "EUR", Invalid),
            ("1..5", "EUR", Invalid),
            ("12 34", "EUR", Invalid),
            ("1 2345", "EUR", Invalid),
            ("1234 567", "EUR", Invalid),
            ("1  234", "EUR", Invalid),
            ("1\t234", "EUR", Invalid),
            (" 1 234.5 0", "EUR", Invalid),
            ("12.5 0", "EUR", Invalid),
            ("1e3", "EUR", Invalid),
            ("0x10", "EUR", Invalid),
            ("١٢", "EUR", Invalid),
            ("12,50 EURO", "EUR", Invalid),
            ("NaN", "EUR", Invalid),
            ("Infinity", "EUR", Invalid),
            ("12.505", "EUR", decimals("EUR")),
            ("12.500", "EUR", decimals("EUR")),
            ("1,500", "EUR", decimals("EUR")),
            ("1500.0", "JPY", decimals("JPY")),
            ("1.500", "JPY", decimals("JPY")),
            ("1.2345", "BHD", decimals("BHD")),
            ("92233720368547758.08", "EUR", TooLarge),
            ("-92233720368547758.09", "EUR", TooLarge),
            ("99999999999999999999999999999999999999999", "EUR", TooLarge),
            ("12.50 USD", "EUR", MoneyError::WrongCurrency { found: "USD".into(), expected: c("EUR") }),
            ("12.50 usd", "EUR", MoneyError::WrongCurrency { found: "USD".into(), expected: c("EUR") }),
        ];
        for (text, code, error) in cases {
            assert_eq!(parse(text, code), Err(error), "{text:?} in {code}");
        }
        let sentences = [
            (parse("", "EUR"), "Enter an amount."),
            (
                parse("x", "EUR"),
                "That is not an amount: type digits, with one point or comma before the decimals.",
            ),
            (parse("1.234", "EUR"), "EUR amounts have at most 2 decimals."),
            (parse("1.5", "JPY"), "JPY amounts have no decimals."),
            (parse("1.2345", "KWD"), "KWD amounts have at most 3 decimals."),
            (
                parse("1e99999", "EUR"),
                "That is not an amount: type digits, with one point or comma before the decimals.",
            ),
            (parse("99999999999999999999", "EUR"), "That amount is too large."),
            (parse("1 USD", "EUR"), "That amount is in USD, not in EUR."),
        ];
        for (result, sentence) in sentences {
            assert_eq!(result.unwrap_err().to_string(), sentence);
        }
    }

    fn currencies() -> impl Strategy<Value = Currency> {
        prop_oneof![
            Just(c("EUR")),
            Just(c("JPY")),
            Just(c("BHD")),
            Just(c("CLF")),
            "[A-Z]{3}".prop_map(|code| c(&code)),
        ]
    }

    proptest! {
        #[test]
        fn written_then_read_is_the_same_amount(minor in any::<i64>(), currency in currencies()) {
            let money = Money::new(minor, currency);
            prop_assert_eq!(Money::parse(&money.to_string(), currency), Ok(money));
            prop_assert_eq!(Money::parse(&money.amount(), currency), Ok(money));
            prop_assert_eq!(format_minor(minor, currency.code()), money.to_string());
        }

        #[test]
        fn small_amounts_keep_their_sign(minor in -10_000i64..10_000, currency in currencies()) {
            let text = Money::new(minor, currency).to_string();
            prop_assert_eq!(text.starts_with('-'), minor < 0, "{}", text);
        }

        #[test]
        fn reading_never_panics(text in "\\PC{0,40}", currency in currencies()) {
            let _ = Money::parse(&text, currency);
        }

        #[test]
        fn reading_amount_like_text_never_panics(
            text in "[-+ \u{a0}\u{202f}0-9.,a-zA-Z\t]{0,30}",
            currency in currencies(),
        ) {
            if let Ok(money) = Money::parse(&text, currency) {
                // Whatever was accepted is written back in the one canonical form.
                prop_assert_eq!(Money::parse(&money.to_string(), currency), Ok(money));
            }
        }

        #[test]
        fn grouping_by_threes_reads_as_the_plain_digits(whole in 0u64..1_000_000_000_000, cents in 0u32..100) {
            let plain = whole.to_string();
            let mut grouped = String::new();
            for (i, digit) in plain.chars().enumerate() {
                if i > 0 && (plain.len() - i) % 3 == 0 {
                    grouped.push(' ');
                }
                grouped.push(digit);
            }
            let expected = i64::try_from(whole).unwrap() * 100 + i64::from(cents);
            prop_assert_eq!(parse(&format!("{grouped},{cents:02}"), "EUR"), Ok(expected));
        }
    }
}
