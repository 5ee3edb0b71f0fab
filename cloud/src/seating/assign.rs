//! Assigning a plan to an event: the category map checked against the plan and the event's
//! ticket types, the plan copied, its seats made and numbered, each mapped ticket type's
//! capacity set to its places, the seat map published to devices (seated tickets carry the
//! numbers, gates name seats from the map) — refused while anything seated is sold, held or
//! leased (invariant 3 of the module). Taking the seating away again publishes an empty map.

use super::NewSeating;
use super::store::{self, NewSeat};
use crate::db::Tenant;
use crate::error::ApiError;
use std::collections::{BTreeMap, BTreeSet};
use sync_core::ids::TicketTypeId;
use sync_core::journal::Payload;
use sync_core::seating::{Plan, SeatMap, Summary};

/// Sells `event` by seat as `new` says (in the caller's transaction).
pub async fn assign(tx: &mut Tenant, event: i64, new: &NewSeating) -> Result<(), ApiError> {
    crate::events::status(tx, event).await?;
    let plan = stored_plan(tx, new.plan)
        .await
        .map_err(|_| ApiError::invalid("plan", format!("no seat plan {}", new.plan)))?;
    let summary = plan.check().map_err(anyhow::Error::from)?;
    let types = mapped_types(tx, event, new, &summary).await?;
    let mut touched: BTreeSet<i64> = store::seated_types(tx, event).await?.into_iter().collect();
    touched.extend(types.values());
    if store::in_use(tx, event, &touched.iter().copied().collect::<Vec<_>>()).await? > 0 {
        return Err(ApiError::Conflict {
            code: "seats_in_use",
            message: "tickets of the seated ticket types are sold, held or leased: the plan can change only before sales".into(),
        });
    }
    store::remove(tx, event).await?;
    let seats = new_seats(&plan, &types);
    let plan_json = serde_json::to_string(&plan).map_err(anyhow::Error::from)?;
    let categories_json = serde_json::to_string(&new.categories).map_err(anyhow::Error::from)?;
    store::assign(tx, event, new.plan, &plan_json, &categories_json, &seats).await?;
    set_capacities(tx, new, &types, &summary).await?;
    let map = SeatMap::from_plan(&plan, |category| new.categories.get(category).copied().map(TicketTypeId));
    publish(tx, event, map).await
}

/// Sells `event` by ticket type again (in the caller's transaction): 404 if it is not sold
/// by seat, 409 while seats are sold or held.
pub async fn unassign(tx: &mut Tenant, event: i64) -> Result<(), ApiError> {
    crate::events::status(tx, event).await?;
    if store::seating(tx, event).await?.is_none() {
        return Err(ApiError::NotFound);
    }
    let types = store::seated_types(tx, event).await?;
    if store::in_use(tx, event, &types).await? > 0 {
        return Err(ApiError::Conflict {
            code: "seats_in_use",
            message: "seats are sold or held: the event stays sold by seat".into(),
        });
    }
    store::remove(tx, event).await?;
    publish(tx, event, SeatMap::default()).await
}

/// Publishes `map` as the event's seat map in force, to every device of the event.
async fn publish(tx: &mut Tenant, event: i64, map: SeatMap) -> Result<(), ApiError> {
    crate::journal::append_hub_entry(tx, event, Payload::Seats(Box::new(map))).await?;
    Ok(())
}

async fn stored_plan(tx: &mut Tenant, id: i64) -> Result<Plan, ApiError> {
    let (_, json) = store::plan(tx, id).await?.ok_or(ApiError::NotFound)?;
    Ok(Plan::from_json(json.as_bytes()).map_err(anyhow::Error::from)?)
}

/// Checks the category map against the plan and the event's ticket types: category → ticket
/// type id.
async fn mapped_types(
    tx: &mut Tenant,
    event: i64,
    new: &NewSeating,
    summary: &Summary,
) -> Result<BTreeMap<String, i64>, ApiError> {
    let ids = store::type_ids(tx, event).await?;
    let bundles = crate::events::bundles::of_event(tx, event).await?;
    let mut types = BTreeMap::new();
    let (mut seated, mut standing) = (BTreeSet::new(), BTreeSet::new());
    for (category, number) in &new.categories {
        let field = format!("categories.{category}");
        let seats = summary.seats.get(category).copied();
        let places = summary.standing.get(category).copied().unwrap_or(0);
        if seats.is_none() {
            return Err(ApiError::invalid(field, format!("the plan has no category {category:?}")));
        }
        let number = i64::from(*number);
        let id =
            *ids.get(&number).ok_or_else(|| ApiError::invalid(&field, format!("no ticket type {number}")))?;
        if bundles.get(&number).is_some_and(|p| !p.is_empty())
            || bundles.values().flatten().any(|p| i64::from(p.ticket_type) == number)
        {
            return Err(ApiError::Conflict {
                code: "seated_type",
                message: format!("ticket type {number} is a bundle or part of one: it cannot sell seats"),
            });
        }
        if seats.unwrap_or(0) > 0 {
            seated.insert(number);
        }
        if places > 0 {
            standing.insert(number);
        }
        types.insert(category.clone(), id);
    }
    if let Some(both) = seated.intersection(&standing).next() {
        return Err(ApiError::invalid(
            "categories",
            format!(
                "ticket type {both} would sell both seats and standing places: give each its own ticket type"
            ),
        ));
    }
    for (category, n) in summary.seats.iter().chain(&summary.standing) {
        if *n > 0 && !new.categories.contains_key(category) {
            return Err(ApiError::invalid(
                format!("categories.{category}"),
                format!("the plan's category {category:?} has {n} places: name its ticket type"),
            ));
        }
    }
    Ok(types)
}

/// The plan's seats as stored for the event, in plan order.
fn new_seats(plan: &Plan, types: &BTreeMap<String, i64>) -> Vec<NewSeat> {
    let mut rows = BTreeMap::new();
    let mut seats = Vec::new();
    for (number, (s, r, seat)) in plan.seats().enumerate() {
        let next = rows.len();
        let row_key = *rows.entry((s, r)).or_insert(next);
        let pos = plan.sections[s].rows[r].seats.iter().position(|x| x.id == seat.id).unwrap_or(0);
        let flags: Vec<&str> = [
            (seat.wheelchair, "wheelchair"),
            (seat.companion, "companion"),
            (seat.restricted_view, "restricted_view"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect();
        #[allow(clippy::cast_possible_truncation)] // checked to be within ±100,000
        seats.push(NewSeat {
            number: i64::try_from(number).unwrap_or(i64::MAX),
            key: seat.id.clone(),
            ticket_type_id: types[&seat.category],
            category: seat.category.clone(),
            section: plan.sections[s].name.clone(),
            row_label: plan.sections[s].rows[r].label.clone(),
            label: seat.label.clone(),
            row_key: i64::try_from(row_key).unwrap_or(i64::MAX),
            pos: i64::try_from(pos).unwrap_or(i64::MAX),
            x: seat.x.round() as i64,
            y: seat.y.round() as i64,
            flags: flags.join(","),
        });
    }
    seats
}

/// Sets each mapped ticket type's capacity to its seats or standing places.
async fn set_capacities(
    tx: &mut Tenant,
    new: &NewSeating,
    types: &BTreeMap<String, i64>,
    summary: &Summary,
) -> Result<(), ApiError> {
    let mut capacity: BTreeMap<i64, (u16, i64)> = BTreeMap::new();
    for (category, id) in types {
        let n = summary.seats.get(category).copied().unwrap_or(0)
            + summary.standing.get(category).copied().unwrap_or(0);
        capacity.entry(*id).or_insert((new.categories[category], 0)).1 += i64::from(n);
    }
    for (id, (number, n)) in capacity {
        if !store::set_capacity(tx, id, n).await? {
            return Err(ApiError::Conflict {
                code: "capacity_below_sold",
                message: format!("ticket type {number} has more set aside for vouchers than its {n} places"),
            });
        }
    }
    Ok(())
}
