//! Automatic discounts: rules on an event that price tickets without a code — early-bird
//! prices until a date, "4 or more: 10 % off", "buy 3 get 1". How they combine is
//! [`crate::pricing`]'s to say.

use crate::checks;
use crate::db::Tenant;
use crate::error::ApiError;
use crate::pricing::{Effect, PriceMode, Rule};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What a rule gives the tickets it covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(tag = "mode", rename_all = "snake_case", deny_unknown_fields)]
pub enum RuleEffect {
    /// Each ticket costs this: an early-bird price.
    Set {
        /// In minor units.
        #[schema(minimum = 0, maximum = 100_000_000)]
        price_minor: i64,
    },
    /// This much off each ticket.
    Subtract {
        /// In minor units.
        #[schema(minimum = 0, maximum = 100_000_000)]
        amount_minor: i64,
    },
    /// This many percent off each ticket.
    Percent {
        /// 1–100.
        #[schema(minimum = 1, maximum = 100)]
        percent: i64,
    },
    /// Of every `buy + free` tickets, the `free` cheapest cost nothing ("buy 3 get 1").
    BuyGet {
        /// Tickets paid for (1–100).
        #[schema(minimum = 1, maximum = 100)]
        buy: i64,
        /// Tickets given with them (1–100).
        #[schema(minimum = 1, maximum = 100)]
        free: i64,
    },
}

impl RuleEffect {
    /// As stored: mode, value, free.
    fn stored(self) -> (&'static str, i64, i64) {
        match self {
            Self::Set { price_minor } => ("set", price_minor, 0),
            Self::Subtract { amount_minor } => ("subtract", amount_minor, 0),
            Self::Percent { percent } => ("percent", percent, 0),
            Self::BuyGet { buy, free } => ("buy_get", buy, free),
        }
    }
}

/// A new automatic discount.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRule {
    /// Its name, shown to buyers beside the discount ("Early bird").
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub name: String,
    /// What it gives.
    pub effect: RuleEffect,
    /// Ticket type numbers it covers; empty = every type.
    #[serde(default)]
    #[schema(max_items = 100)]
    pub ticket_types: Vec<u16>,
    /// Tickets in its scope an order must have (default 1): "4 or more".
    #[serde(default = "one")]
    #[schema(minimum = 1, maximum = 50)]
    pub min_quantity: i64,
    /// Valid from (Unix ms).
    pub valid_from: Option<i64>,
    /// Valid until (Unix ms, after `valid_from`): an early-bird price ends here.
    pub valid_until: Option<i64>,
    /// A price tier: only the first this many tickets of each type in scope ("the first 500
    /// at 20.00"), counting every ticket sold or held; a later tier is another rule with a
    /// higher number and a dearer price (each ticket takes the cheapest that applies).
    #[schema(minimum = 1, maximum = 10_000_000)]
    pub first_tickets: Option<i64>,
}

fn one() -> i64 {
    1
}

/// An automatic discount of an event.
#[derive(Clone, Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct RuleView {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// `set`, `subtract`, `percent` or `buy_get`.
    pub mode: String,
    /// Price, amount or percent off, or tickets paid for.
    pub value: i64,
    /// Tickets given (`buy_get`).
    pub free: i64,
    /// Ticket type numbers it covers, comma-separated ("" = every type).
    pub ticket_types: String,
    /// Tickets in its scope an order must have.
    pub min_quantity: i64,
    /// Valid from (Unix ms).
    pub valid_from: Option<i64>,
    /// Valid until (Unix ms).
    pub valid_until: Option<i64>,
    /// Only the first this many tickets of each type (a price tier).
    pub first_tickets: Option<i64>,
}

impl RuleView {
    /// As pricing applies it (`None` for a mode this build does not know).
    pub fn rule(&self) -> Option<Rule> {
        let effect = match self.mode.as_str() {
            "set" => Effect::Price(PriceMode::Set(self.value)),
            "subtract" => Effect::Price(PriceMode::Subtract(self.value)),
            "percent" => Effect::Price(PriceMode::Percent(self.value)),
            "buy_get" => Effect::BuyGet { buy: self.value, free: self.free },
            _ => return None,
        };
        Some(Rule {
            name: self.name.clone(),
            effect,
            scope: super::scope_of(&self.ticket_types),
            min_quantity: self.min_quantity,
            valid_from: self.valid_from,
            valid_until: self.valid_until,
            first: self.first_tickets,
        })
    }
}

/// Checks `r` against the event's ticket type numbers; returns the scope as stored.
pub fn check(r: &NewRule, types: &[i64]) -> Result<String, ApiError> {
    checks::text("name", &r.name, 100)?;
    match r.effect {
        RuleEffect::Percent { percent } => checks::range("effect.percent", percent, 1, 100)?,
        RuleEffect::Set { price_minor: amount } | RuleEffect::Subtract { amount_minor: amount } => {
            checks::range("effect", amount, 0, 100_000_000)?;
        }
        RuleEffect::BuyGet { buy, free } => {
            checks::range("effect.buy", buy, 1, 100)?;
            checks::range("effect.free", free, 1, 100)?;
        }
    }
    checks::range("min_quantity", r.min_quantity, 1, 50)?;
    if let Some(first) = r.first_tickets {
        checks::range("first_tickets", first, 1, 10_000_000)?;
    }
    super::check_period("valid_until", r.valid_from, r.valid_until)?;
    Ok(super::stored_scope(&super::scope_numbers("ticket_types", &r.ticket_types, types)?))
}

/// Inserts rule `r` (scope as stored) on `event`; its id.
pub async fn insert(tx: &mut Tenant, event: i64, r: &NewRule, scope: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO discount_rules (org_id, event_id, name, mode, value, free, scope, min_quantity, valid_from, \
         valid_until, created_at, first_tickets) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
    )
    .bind(tx.org())
    .bind(event)
    .bind(r.name.trim())
    .bind(r.effect.stored().0)
    .bind(r.effect.stored().1)
    .bind(r.effect.stored().2)
    .bind(scope)
    .bind(r.min_quantity)
    .bind(r.valid_from)
    .bind(r.valid_until)
    .bind(tx.now())
    .bind(r.first_tickets)
    .fetch_one(&mut **tx)
    .await
}

/// Publishes the event's automatic discounts to its devices (a hub journal entry: box offices
/// apply them offline, as checkout does online), in the transaction that changed them.
pub async fn publish(tx: &mut Tenant, event: i64) -> Result<(), ApiError> {
    let rules: Vec<Rule> = list(tx, event).await?.iter().filter_map(RuleView::rule).collect();
    crate::journal::append_hub_entry(tx, event, sync_core::journal::Payload::Discounts(rules)).await?;
    Ok(())
}

/// The rules of `event`, oldest first.
pub async fn list(tx: &mut Tenant, event: i64) -> Result<Vec<RuleView>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, name, mode, value, free, scope AS ticket_types, min_quantity, valid_from, valid_until, first_tickets \
         FROM discount_rules WHERE event_id = $1 AND org_id = $2 ORDER BY id",
    )
    .bind(event)
    .bind(tx.org())
    .fetch_all(&mut **tx)
    .await
}

/// Deletes rule `id` of `event`; `false` if there is none.
pub async fn delete(tx: &mut Tenant, event: i64, id: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM discount_rules WHERE id = $1 AND event_id = $2 AND org_id = $3")
        .bind(id)
        .bind(event)
        .bind(tx.org())
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_rules_are_refused_with_the_field_named() {
        let rule = |v: serde_json::Value| serde_json::from_value::<NewRule>(v).unwrap();
        let field = |r: NewRule| match check(&r, &[1]) {
            Err(ApiError::Validation { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        let percent = |p: i64| serde_json::json!({"mode": "percent", "percent": p});
        assert_eq!(field(rule(serde_json::json!({"name": "x", "effect": percent(150)}))), "effect.percent");
        let b3g0 = serde_json::json!({"mode": "buy_get", "buy": 3, "free": 0});
        assert_eq!(field(rule(serde_json::json!({"name": "x", "effect": b3g0}))), "effect.free");
        assert_eq!(
            field(rule(serde_json::json!({"name": "x", "effect": percent(5), "ticket_types": [4]}))),
            "ticket_types[0]"
        );
        let until = serde_json::json!({"name": "x", "effect": percent(5), "valid_from": 9, "valid_until": 9});
        assert_eq!(field(rule(until)), "valid_until");
        assert_eq!(field(rule(serde_json::json!({"name": " ", "effect": percent(5)}))), "name");
        assert!(
            serde_json::from_value::<NewRule>(
                serde_json::json!({"name": "x", "effect": {"mode": "percent", "value": 5}})
            )
            .is_err()
        );
    }
}
