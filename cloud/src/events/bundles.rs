//! Bundles: a ticket type that contains others.
//!
//! A bundle's parts are other ticket types of the event. Buying one bundle takes, besides the
//! bundle's own capacity, `quantity` of each part (checkout holds them in the same
//! all-or-nothing step, so a part that is sold out refuses the bundle). A part with
//! `separate_ticket` is issued as a signed ticket of its own beside the bundle's (a VIP
//! package's parking ticket and drinks voucher: separate admissions at the gate); one without
//! only counts against its type's capacity (a weekend pass: one ticket, allowed at both days'
//! gates, that takes a place of each day).
//!
//! Invariants, checked on every change ([`check`]):
//! 1. a part is another ticket type of the same event, named once per bundle;
//! 2. bundles do not nest: a part is not a bundle, and a bundle is not a part of another;
//! 3. 1–10 parts, each 1–10 per bundle.
//!
//! What an order's bundles took is fixed when it is placed (`order_parts`), so changing a
//! bundle later never changes what an earlier order holds, pays for or gives back.

use crate::db::Tenant;
use crate::error::ApiError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// Most parts of one bundle.
pub const MAX_PARTS: usize = 10;
/// Most of one part per bundle.
pub const MAX_PART_QUANTITY: u32 = 10;

/// One ticket type a bundle contains.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Part {
    /// The part's ticket type number (another type of the same event, not a bundle itself).
    pub ticket_type: u16,
    /// How many of it one bundle contains.
    #[serde(default = "one")]
    #[schema(minimum = 1, maximum = 10, default = 1)]
    pub quantity: u32,
    /// Issued as a ticket of its own (a parking ticket in a VIP package); `false`: only counted
    /// against its type's capacity (a weekend pass takes a place of each day).
    #[serde(default = "yes")]
    #[schema(default = true)]
    pub separate_ticket: bool,
}

fn one() -> u32 {
    1
}

fn yes() -> bool {
    true
}

/// Checks the parts of ticket type `number`, given every type's parts after the change
/// (`all`: number → its parts; a type without parts may be absent). `field` names the
/// refusal's field ("includes" or "ticket_types[2].includes").
pub fn check(
    field: &str,
    number: i64,
    parts: &[Part],
    all: &BTreeMap<i64, Vec<Part>>,
    types: usize,
) -> Result<(), ApiError> {
    if parts.is_empty() {
        return Ok(());
    }
    if parts.len() > MAX_PARTS {
        return Err(ApiError::invalid(field, format!("a bundle has at most {MAX_PARTS} parts")));
    }
    if let Some((outer, _)) =
        all.iter().find(|(b, p)| **b != number && p.iter().any(|p| i64::from(p.ticket_type) == number))
    {
        return Err(ApiError::invalid(
            field,
            format!("ticket type {number} is a part of bundle {outer}: bundles do not nest"),
        ));
    }
    for (i, part) in parts.iter().enumerate() {
        let at = format!("{field}[{i}]");
        let part_number = i64::from(part.ticket_type);
        if part_number == number {
            return Err(ApiError::invalid(format!("{at}.ticket_type"), "a bundle cannot contain itself"));
        }
        if part_number < 1 || part_number > i64::try_from(types).unwrap_or(i64::MAX) {
            return Err(ApiError::invalid(
                format!("{at}.ticket_type"),
                format!("no ticket type {part_number}"),
            ));
        }
        if all.get(&part_number).is_some_and(|p| !p.is_empty()) {
            return Err(ApiError::invalid(
                format!("{at}.ticket_type"),
                format!("ticket type {part_number} is a bundle itself: bundles do not nest"),
            ));
        }
        if parts[..i].iter().any(|p| p.ticket_type == part.ticket_type) {
            return Err(ApiError::invalid(
                format!("{at}.ticket_type"),
                format!("ticket type {part_number} is named twice"),
            ));
        }
        if part.quantity == 0 || part.quantity > MAX_PART_QUANTITY {
            return Err(ApiError::invalid(format!("{at}.quantity"), format!("1–{MAX_PART_QUANTITY}")));
        }
    }
    Ok(())
}

/// Every bundle of `event`: bundle number → its parts, by part number.
pub async fn of_event(tx: &mut Tenant, event: i64) -> Result<BTreeMap<i64, Vec<Part>>, sqlx::Error> {
    let rows: Vec<(i64, i64, i64, i64)> = sqlx::query_as(
        "SELECT b.number, p.number, bp.quantity, bp.ticket FROM bundle_parts bp \
         JOIN ticket_types b ON b.id = bp.bundle_type_id JOIN ticket_types p ON p.id = bp.part_type_id \
         WHERE b.event_id = $1 AND bp.org_id = $2 ORDER BY b.number, p.number",
    )
    .bind(event)
    .bind(tx.org())
    .fetch_all(&mut **tx)
    .await?;
    let mut all: BTreeMap<i64, Vec<Part>> = BTreeMap::new();
    for (bundle, part, quantity, ticket) in rows {
        all.entry(bundle).or_default().push(Part {
            ticket_type: u16::try_from(part).map_err(|e| sqlx::Error::Decode(e.into()))?,
            quantity: u32::try_from(quantity).map_err(|e| sqlx::Error::Decode(e.into()))?,
            separate_ticket: ticket == 1,
        });
    }
    Ok(all)
}

/// Whether ticket type `id` is a bundle.
pub async fn is_bundle(tx: &mut Tenant, id: i64) -> Result<bool, sqlx::Error> {
    let parts: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM bundle_parts WHERE bundle_type_id = $1 AND org_id = $2")
            .bind(id)
            .bind(tx.org())
            .fetch_one(&mut **tx)
            .await?;
    Ok(parts > 0)
}

/// Bundles are sold online only: a box office's lease signs tickets of one type, and could
/// not take or issue the parts. Refused in words the organizer can act on.
pub fn not_at_the_door() -> ApiError {
    ApiError::Conflict {
        code: "bundle_not_leasable",
        message: "a bundle is sold online only: lease the ticket types it contains to the box office".into(),
    }
}

/// Replaces the parts of ticket type `number` of `event` (checked before).
pub async fn set(tx: &mut Tenant, event: i64, number: i64, parts: &[Part]) -> Result<(), ApiError> {
    let bundle: i64 =
        sqlx::query_scalar("SELECT id FROM ticket_types WHERE event_id = $1 AND number = $2 AND org_id = $3")
            .bind(event)
            .bind(number)
            .bind(tx.org())
            .fetch_one(&mut **tx)
            .await?;
    sqlx::query("DELETE FROM bundle_parts WHERE bundle_type_id = $1 AND org_id = $2")
        .bind(bundle)
        .bind(tx.org())
        .execute(&mut **tx)
        .await?;
    for part in parts {
        sqlx::query(
            "INSERT INTO bundle_parts (org_id, bundle_type_id, part_type_id, quantity, ticket) \
             SELECT $1, $2, id, $3, $4 FROM ticket_types WHERE event_id = $5 AND number = $6 AND org_id = $1",
        )
        .bind(tx.org())
        .bind(bundle)
        .bind(i64::from(part.quantity))
        .bind(i64::from(part.separate_ticket))
        .bind(event)
        .bind(i64::from(part.ticket_type))
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(ticket_type: u16) -> Part {
        Part { ticket_type, quantity: 1, separate_ticket: true }
    }

    fn refusal(result: Result<(), ApiError>) -> String {
        match result {
            Err(e) => format!("{e:?}"),
            Ok(()) => panic!("accepted"),
        }
    }

    #[test]
    fn a_bundle_of_other_plain_types_is_accepted() {
        let all = BTreeMap::from([(3, vec![part(1), part(2)])]);
        assert!(check("includes", 3, &[part(1), part(2)], &all, 3).is_ok());
        assert!(check("includes", 1, &[], &all, 3).is_ok());
    }

    #[test]
    fn itself_unknown_twice_nested_and_bad_quantities_are_refused() {
        let none = BTreeMap::new();
        assert!(refusal(check("includes", 3, &[part(3)], &none, 3)).contains("itself"));
        assert!(refusal(check("includes", 3, &[part(4)], &none, 3)).contains("no ticket type 4"));
        assert!(refusal(check("includes", 3, &[part(1), part(1)], &none, 3)).contains("twice"));
        let nested = BTreeMap::from([(2, vec![part(1)])]);
        assert!(refusal(check("includes", 3, &[part(2)], &nested, 3)).contains("bundle itself"));
        assert!(refusal(check("includes", 1, &[part(3)], &nested, 3)).contains("part of bundle 2"));
        let many = Part { quantity: 11, ..part(1) };
        assert!(refusal(check("includes", 3, &[many], &none, 3)).contains("quantity"));
        let zero = Part { quantity: 0, ..part(1) };
        assert!(refusal(check("includes", 3, &[zero], &none, 3)).contains("quantity"));
        let eleven: Vec<Part> = (1..=11).map(part).collect();
        assert!(refusal(check("includes", 20, &eleven, &none, 20)).contains("at most 10"));
    }
}
