//! Vouchers (discount codes) and automatic discounts of an event.
//!
//! ```text
//!  organizer ──▶ POST …/vouchers (one) / …/vouchers/batches (thousands, CSV) ──▶ vouchers
//!  organizer ──▶ POST …/discounts (early bird, 4 or more, buy 3 get 1)       ──▶ discount_rules
//!  buyer ──▶ checkout with "voucher" ──▶ pricing (sales::pricing) ──▶ the order's transaction
//!                                         └─▶ a conditional UPDATE takes the uses (sales::redeem)
//!  organizer ──▶ POST …/vouchers/{code}/leases ──▶ uses leased to a box office (leases::vouchers)
//!  box office (offline) ──▶ DoorPrice entries ──▶ sync ──▶ leased uses become redeemed
//! ```
//!
//! **Invariants.**
//! 1. A voucher is never used more than `max_uses` times: uses are taken by a conditional
//!    UPDATE (`redeemed + held + reserved + leased + n <= max_uses`) in the transaction that
//!    places the order or leases uses to a box office, and the table's CHECK says it again. A
//!    lapsed or cancelled order gives its uses back; a refund only when the organizer asks; a
//!    box office its unused leased uses when it returns them (the hub never takes them back
//!    alone: the device may have redeemed them offline).
//! 2. A voucher that reserves holds its uses left out of its ticket type's general sale
//!    (`ticket_types.reserved`): they exist for its holders even when the event sells out, and
//!    are not sold twice — redeeming moves one reserved ticket to held, never adds capacity.
//! 3. Codes are not guessable: generated codes are 12 characters of a 31-letter alphabet
//!    (59 bits), and unknown codes cost the address one of its [`attempts`] allowance.
//!
//! Codes are case-insensitive (kept in capitals), unique per event.

pub mod attempts;
pub mod routes;
pub mod rules;
pub mod store;

use crate::checks;
use crate::error::ApiError;
use crate::json::Flag;
use crate::pricing::{PriceMode, Scope, VoucherTerms};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Characters of a generated code.
pub const GENERATED_LENGTH: usize = 12;
/// Most vouchers one batch makes.
pub const MAX_BATCH: u32 = 10_000;

/// What a voucher does to the price of each ticket it covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Each covered ticket costs `value` (minor units).
    Set,
    /// `value` minor units off each covered ticket.
    Subtract,
    /// `value` percent off each covered ticket (1–100).
    Percent,
    /// The price stays: the voucher opens hidden ticket types, or its reserved tickets.
    Unlock,
}

impl Mode {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Set => "set",
            Self::Subtract => "subtract",
            Self::Percent => "percent",
            Self::Unlock => "unlock",
        }
    }

    /// From storage.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "set" => Self::Set,
            "subtract" => Self::Subtract,
            "percent" => Self::Percent,
            "unlock" => Self::Unlock,
            _ => return None,
        })
    }

    /// With its value, as pricing applies it.
    pub fn price_mode(self, value: i64) -> PriceMode {
        match self {
            Self::Set => PriceMode::Set(value),
            Self::Subtract => PriceMode::Subtract(value),
            Self::Percent => PriceMode::Percent(value),
            Self::Unlock => PriceMode::Unlock,
        }
    }
}

/// What a voucher does to the price of each ticket it covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(tag = "mode", rename_all = "snake_case", deny_unknown_fields)]
pub enum Price {
    /// Each covered ticket costs this (never more than its list price).
    Set {
        /// In minor units.
        #[schema(minimum = 0, maximum = 100_000_000)]
        price_minor: i64,
    },
    /// This much off each covered ticket.
    Subtract {
        /// In minor units.
        #[schema(minimum = 0, maximum = 100_000_000)]
        amount_minor: i64,
    },
    /// This many percent off each covered ticket.
    Percent {
        /// 1–100.
        #[schema(minimum = 1, maximum = 100)]
        percent: i64,
    },
    /// The price stays: the voucher opens hidden ticket types, or its reserved tickets.
    Unlock,
}

impl Price {
    /// As stored: mode and value.
    pub fn stored(self) -> (Mode, i64) {
        match self {
            Self::Set { price_minor } => (Mode::Set, price_minor),
            Self::Subtract { amount_minor } => (Mode::Subtract, amount_minor),
            Self::Percent { percent } => (Mode::Percent, percent),
            Self::Unlock => (Mode::Unlock, 0),
        }
    }
}

/// A voucher's terms: what it does, to what, how often, when.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Terms {
    /// What it does to the price.
    pub price: Price,
    /// The ticket type numbers it covers; empty = every type.
    #[serde(default)]
    #[schema(max_items = 100)]
    pub ticket_types: Vec<u16>,
    /// How many tickets it may cover in all (default 1: single use).
    #[serde(default = "one")]
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub max_uses: i64,
    /// How many tickets it may cover in one order; absent = up to `max_uses`.
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub max_per_order: Option<i64>,
    /// Valid from (Unix ms).
    pub valid_from: Option<i64>,
    /// Valid until (Unix ms), after `valid_from`.
    pub valid_until: Option<i64>,
    /// Sets `max_uses` tickets of its ticket type aside for its holders, out of general sale:
    /// they exist even when the event sells out. Needs exactly one ticket type in
    /// `ticket_types` (409 `reserve_needs_one_ticket_type` otherwise).
    #[serde(default)]
    pub reserves: bool,
    /// Opens the hidden ticket types it covers.
    #[serde(default)]
    pub unlocks_hidden: bool,
    /// A label for reports ("sponsors", "newsletter-may"); one line.
    #[serde(default)]
    #[schema(max_length = 100, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")]
    pub tag: String,
    /// A note for the organizer's team.
    #[serde(default)]
    #[schema(max_length = 1000, pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$")]
    pub note: String,
}

/// A new voucher.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewVoucher {
    /// The code buyers enter: 3–32 letters, digits and dashes, case-insensitive. Absent: 12
    /// random characters that cannot be misread.
    #[schema(pattern = "^[A-Za-z0-9][A-Za-z0-9-]{2,31}$")]
    pub code: Option<String>,
    /// What it does.
    pub terms: Terms,
}

fn one() -> i64 {
    1
}

/// Many vouchers at once, each with the same terms and its own random code.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBatch {
    /// How many vouchers (1–10,000).
    #[schema(minimum = 1, maximum = 10_000)]
    pub count: u32,
    /// Each voucher's terms.
    pub terms: Terms,
}

/// A voucher as the organizer sees it, with its use.
#[derive(Clone, Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct VoucherView {
    /// Its row id.
    #[serde(skip)]
    pub id: i64,
    /// Its code.
    pub code: String,
    /// What it does to the price.
    #[sqlx(try_from = "String")]
    #[schema(value_type = Mode)]
    pub mode: ModeText,
    /// Price, amount off (minor units) or percent off.
    pub value: i64,
    /// Ticket type numbers it covers, comma-separated ("" = every type).
    pub ticket_types: String,
    /// How many tickets it may cover in all.
    pub max_uses: i64,
    /// How many in one order.
    pub max_per_order: Option<i64>,
    /// Uses in paid orders.
    pub redeemed: i64,
    /// Uses in pending orders (given back if they lapse).
    pub held: i64,
    /// Uses leased to box offices and not redeemed there yet (given back when they return
    /// them).
    pub leased: i64,
    /// Whether it sets tickets aside.
    #[sqlx(try_from = "i64")]
    #[schema(value_type = bool)]
    pub reserves: Flag,
    /// Tickets set aside for it now.
    pub reserved: i64,
    /// Whether it opens hidden ticket types.
    #[sqlx(try_from = "i64")]
    #[schema(value_type = bool)]
    pub unlocks_hidden: Flag,
    /// Valid from (Unix ms).
    pub valid_from: Option<i64>,
    /// Valid until (Unix ms).
    pub valid_until: Option<i64>,
    /// Its label for reports.
    pub tag: String,
    /// The team's note.
    pub note: String,
    /// When it was blocked (absent: it is not).
    pub blocked_at: Option<i64>,
    /// Who made it.
    pub created_by: String,
    /// When.
    pub created_at: i64,
}

/// A stored mode, checked as it is read.
#[derive(Clone, Copy, Debug, Serialize, ToSchema)]
#[serde(transparent)]
pub struct ModeText(pub Mode);

impl TryFrom<String> for ModeText {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Mode::parse(&s).map(ModeText).ok_or_else(|| format!("unknown voucher mode {s:?}"))
    }
}

impl VoucherView {
    /// Its terms, as pricing applies them.
    pub fn terms(&self) -> VoucherTerms {
        VoucherTerms {
            code: self.code.clone(),
            mode: self.mode.0.price_mode(self.value),
            scope: scope_of(&self.ticket_types),
            max_per_order: self.max_per_order,
            unlocks_hidden: self.unlocks_hidden.0,
        }
    }

    /// Uses left.
    pub fn uses_left(&self) -> i64 {
        self.max_uses - self.redeemed - self.held - self.leased
    }
}

/// A stored scope ("1,3" or "" for all).
pub fn scope_of(stored: &str) -> Scope {
    if stored.is_empty() {
        Scope::All
    } else {
        Scope::Types(stored.split(',').filter_map(|n| n.parse().ok()).collect())
    }
}

/// Normalizes a code as buyers type it: trimmed, in capitals. `None` if it cannot be a code.
pub fn normalize(code: &str) -> Option<String> {
    let code = code.trim().to_ascii_uppercase();
    let ok = (3..=32).contains(&code.len())
        && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && code.as_bytes()[0] != b'-';
    ok.then_some(code)
}

/// Checks `v` against the event's ticket type numbers `types`; returns the scope as stored.
pub fn check(v: &Terms, types: &[i64]) -> Result<String, ApiError> {
    match v.price {
        Price::Percent { percent } => checks::range("terms.price.percent", percent, 1, 100)?,
        Price::Set { price_minor: amount } | Price::Subtract { amount_minor: amount } => {
            checks::range("terms.price", amount, 0, 100_000_000)?;
        }
        Price::Unlock => {}
    }
    checks::range("terms.max_uses", v.max_uses, 1, 1_000_000)?;
    if let Some(per_order) = v.max_per_order {
        checks::range("terms.max_per_order", per_order, 1, 1_000_000)?;
    }
    check_period("terms.valid_until", v.valid_from, v.valid_until)?;
    let scope = scope_numbers("terms.ticket_types", &v.ticket_types, types)?;
    check_tag("terms.tag", &v.tag)?;
    checks::optional_text("terms.note", &v.note, 1000)?;
    if v.reserves && scope.len() != 1 {
        return Err(ApiError::Conflict {
            code: "reserve_needs_one_ticket_type",
            message: "a voucher that sets tickets aside covers exactly one ticket type".into(),
        });
    }
    Ok(stored_scope(&scope))
}

/// A validity period: `until` after `from` when both are given (refused as `field`).
pub fn check_period(field: &str, from: Option<i64>, until: Option<i64>) -> Result<(), ApiError> {
    match (from, until) {
        (Some(from), Some(until)) if until <= from => {
            Err(ApiError::invalid(field, "must be after valid_from"))
        }
        _ => Ok(()),
    }
}

/// The ticket type numbers `asked` names, each once and sorted; each must be one of the
/// event's `types` (else refused as `field[i]`).
pub fn scope_numbers(field: &str, asked: &[u16], types: &[i64]) -> Result<Vec<i64>, ApiError> {
    if asked.len() > 100 {
        return Err(ApiError::invalid(field, "at most 100 ticket types"));
    }
    let mut scope: Vec<i64> = Vec::new();
    for (i, number) in asked.iter().enumerate() {
        let number = i64::from(*number);
        if !types.contains(&number) {
            return Err(ApiError::invalid(format!("{field}[{i}]"), format!("no ticket type {number}")));
        }
        if !scope.contains(&number) {
            scope.push(number);
        }
    }
    scope.sort_unstable();
    Ok(scope)
}

/// A scope as stored: "1,3", or "" for every type.
pub fn stored_scope(scope: &[i64]) -> String {
    scope.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")
}

/// A tag: one line of at most 100 characters.
pub fn check_tag(field: &str, tag: &str) -> Result<(), ApiError> {
    checks::optional_text(field, tag, 100)?;
    if tag.contains(['\n', '\r', '\t']) {
        return Err(ApiError::invalid(field, "one line"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms() -> Terms {
        serde_json::from_value(serde_json::json!({"price": {"mode": "percent", "percent": 10}})).unwrap()
    }

    #[test]
    fn bad_terms_are_refused_with_the_field_named() {
        let refused = |v: Terms| match check(&v, &[1, 2]) {
            Err(ApiError::Validation { field, .. }) => field,
            Err(ApiError::Conflict { code, .. }) => code.to_owned(),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            refused(Terms { price: Price::Percent { percent: 101 }, ..terms() }),
            "terms.price.percent"
        );
        assert_eq!(refused(Terms { price: Price::Set { price_minor: -1 }, ..terms() }), "terms.price");
        assert_eq!(
            refused(Terms { valid_from: Some(10), valid_until: Some(5), ..terms() }),
            "terms.valid_until"
        );
        assert_eq!(refused(Terms { ticket_types: vec![1, 7], ..terms() }), "terms.ticket_types[1]");
        assert_eq!(refused(Terms { reserves: true, ..terms() }), "reserve_needs_one_ticket_type");
        assert_eq!(refused(Terms { tag: "a\tb".into(), ..terms() }), "terms.tag");
        assert_eq!(check(&Terms { ticket_types: vec![2, 1, 2], ..terms() }, &[1, 2]).unwrap(), "1,2");
    }

    #[test]
    fn codes_are_case_insensitive_and_plain() {
        assert_eq!(normalize(" spring-26 ").as_deref(), Some("SPRING-26"));
        assert_eq!(normalize("ab"), None);
        assert_eq!(normalize("-abc"), None);
        assert_eq!(normalize("abc\0"), None);
        assert_eq!(scope_of(""), Scope::All);
        assert_eq!(scope_of("1,3"), Scope::Types(vec![1, 3]));
    }
}
