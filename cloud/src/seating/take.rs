//! Holding the seats of a whole batch of orders at once (checkout's batch, after its
//! capacity): a few statements for the batch however many orders in it want seats, where one
//! order at a time cost two or three each — while the ticket types' rows are locked.
//!
//! 1. **Read** the free seats the batch may get: those it names (by the event's unique key
//!    index) and, if an order asks for the best available, every free seat of its ticket type.
//! 2. **Plan** in arrival order, in memory ([`plan`], pure): each order gets all its seats or
//!    none, never one an earlier order of the batch got; best available chooses among what is
//!    left. This is what taking them order by order would give.
//! 3. **Write** every planned seat `free → held` in one conditional UPDATE. A seat changed
//!    since the read (staff blocked or leased it: those paths do not lock the ticket type)
//!    is not returned; an order missing one is refused and what it did get is freed again
//!    (one more statement, only then).
//! 4. **Record** each order's seats in `order_seats` (one INSERT).
//!
//! Seat, order, organization and ticket type ids are numbers from the database, inlined into
//! the SQL (as the vouchers' batch does); seat keys, which buyers send, are bound.

use super::holds::{NoSeats, Wanted};
use super::store::numbered;
use crate::db::Tenant;
use std::collections::{BTreeMap, HashMap, HashSet};
use sync_core::seating::Point;
use sync_core::seating::best::{self, Spot};

/// One order of the batch and the seats it wants.
#[derive(Clone, Copy, Debug)]
pub struct Ask<'a> {
    /// The order (already inserted, pending).
    pub order: i64,
    /// What it wants, per seated ticket type.
    pub wanted: &'a [Wanted],
    /// Where best available measures from (the stage's middle).
    pub focus: Point,
}

/// A free seat as the read found it.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct FreeSeat {
    /// Row id.
    pub id: i64,
    /// Its ticket type.
    pub ticket_type_id: i64,
    /// Its id in the plan (what buyers name).
    pub seat_key: String,
    /// Compact number within the event: the answer lists seats in this (plan) order.
    pub number: i64,
    /// Which row it stands in (best available: neighbours share it)…
    pub row_key: i64,
    /// …and where in it.
    pub pos: i64,
    /// Where it is drawn (best available measures distance to the focus).
    pub x: i64,
    /// Where it is drawn.
    pub y: i64,
    /// Its section, row and label, for the answer ("Stalls · Row F · Seat 12").
    pub section: String,
    /// Its row's label.
    pub row_label: String,
    /// Its own label.
    pub label: String,
}

/// Holds the seats each of `asks` wants (orders of `event`, in arrival order), each all or
/// none; one result per ask: the seats it got, described, in plan order.
pub async fn take(
    tx: &mut Tenant,
    event: i64,
    asks: &[Ask<'_>],
) -> Result<Vec<Result<Vec<String>, NoSeats>>, sqlx::Error> {
    if asks.is_empty() {
        return Ok(Vec::new());
    }
    let free = read_free(tx, event, asks).await?;
    let mut planned = plan(asks, &free);
    let seats: Vec<(i64, i64)> = asks
        .iter()
        .zip(&planned)
        .filter_map(|(a, p)| p.as_ref().ok().map(|got| got.iter().map(|&i| (free[i].id, a.order))))
        .flatten()
        .collect();
    let held = hold(tx, &seats).await?;
    // An order whose seats changed since the read gets none of them.
    let mut undo = Vec::new();
    for p in &mut planned {
        if let Ok(got) = p
            && !got.iter().all(|&i| held.contains(&free[i].id))
        {
            undo.extend(got.iter().map(|&i| free[i].id).filter(|id| held.contains(id)));
            *p = Err(NoSeats::Taken);
        }
    }
    unhold(tx, &undo).await?;
    let rows: Vec<(i64, i64, i64)> = asks
        .iter()
        .zip(&planned)
        .filter_map(|(a, p)| {
            p.as_ref().ok().map(|got| got.iter().map(|&i| (a.order, free[i].id, free[i].ticket_type_id)))
        })
        .flatten()
        .collect();
    record(tx, &rows).await?;
    if !held.is_empty() {
        tx.seats_changed().await?;
    }
    Ok(planned
        .into_iter()
        .map(|p| {
            p.map(|mut got| {
                got.sort_by_key(|&i| free[i].number);
                got.iter()
                    .map(|&i| super::describe(&free[i].section, &free[i].row_label, &free[i].label))
                    .collect()
            })
        })
        .collect())
}

const COLUMNS: &str = "id, ticket_type_id, seat_key, number, row_key, pos, x, y, section, row_label, label";

/// The free seats `asks` may get: those named, and all of each ticket type some ask wants the
/// best available of (by row and place), each once.
async fn read_free(tx: &mut Tenant, event: i64, asks: &[Ask<'_>]) -> Result<Vec<FreeSeat>, sqlx::Error> {
    let wanted = asks.iter().flat_map(|a| a.wanted.iter());
    let keys: Vec<&str> = wanted.clone().flat_map(|w| w.keys.iter().map(String::as_str)).collect();
    let best: Vec<String> = wanted
        .filter(|w| w.keys.is_empty())
        .map(|w| w.ticket_type.to_string())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let mut free: Vec<FreeSeat> = Vec::new();
    if !best.is_empty() {
        free = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM seats WHERE org_id = $1 AND ticket_type_id IN ({}) AND state = 'free' \
             ORDER BY row_key, pos",
            best.join(",")
        )))
        .bind(tx.org())
        .fetch_all(&mut **tx)
        .await?;
    }
    if !keys.is_empty() {
        let sql = format!(
            "SELECT {COLUMNS} FROM seats WHERE event_id = $1 AND org_id = $2 AND state = 'free' AND seat_key IN ({})",
            numbered(3, keys.len())
        );
        let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(event).bind(tx.org());
        for k in &keys {
            q = q.bind(*k);
        }
        let known: HashSet<i64> = free.iter().map(|s| s.id).collect();
        let named: Vec<FreeSeat> = q.fetch_all(&mut **tx).await?;
        free.extend(named.into_iter().filter(|s| !known.contains(&s.id)));
    }
    Ok(free)
}

/// Which of `free` each ask gets (indexes), in arrival order, each all or none and none twice.
pub fn plan(asks: &[Ask<'_>], free: &[FreeSeat]) -> Vec<Result<Vec<usize>, NoSeats>> {
    let by_key: HashMap<(i64, &str), usize> =
        free.iter().enumerate().map(|(i, s)| ((s.ticket_type_id, s.seat_key.as_str()), i)).collect();
    let mut rows = BestRows::new(asks, free);
    let mut taken = vec![false; free.len()];
    asks.iter()
        .map(|ask| {
            let mut got: Vec<usize> = Vec::new();
            let result = ask.wanted.iter().try_for_each(|w| {
                let seats = if w.keys.is_empty() {
                    rows.choose(w.ticket_type, w.count, ask.focus).ok_or(NoSeats::NotTogether)?
                } else {
                    let mut seats = Vec::new();
                    for key in &w.keys {
                        match by_key.get(&(w.ticket_type, key.as_str())) {
                            Some(&i) if !taken[i] && !seats.contains(&i) => seats.push(i),
                            _ => return Err(NoSeats::Taken),
                        }
                    }
                    seats
                };
                if i64::try_from(seats.len()).ok() != Some(w.count) {
                    return Err(NoSeats::Taken);
                }
                for &i in &seats {
                    taken[i] = true;
                    rows.mark(i, false);
                }
                got.extend(seats);
                Ok(())
            });
            match result {
                Ok(()) => Ok(got),
                Err(no) => {
                    for &i in &got {
                        taken[i] = false;
                        rows.mark(i, true);
                    }
                    Err(no)
                }
            }
        })
        .collect()
}

/// The free seats of each ticket type asked for by best available, as [`best::choose`] sees
/// them; a seat the batch gave away is marked not free (a gap no block spans).
struct BestRows {
    /// Ticket type → the indexes into `free` of its seats, by row and place, and their spots.
    types: BTreeMap<i64, (Vec<usize>, Vec<Spot>)>,
    /// Index into `free` → (its ticket type, its place in that type's spots).
    at: HashMap<usize, (i64, usize)>,
}

impl BestRows {
    fn new(asks: &[Ask<'_>], free: &[FreeSeat]) -> Self {
        let best: HashSet<i64> = asks
            .iter()
            .flat_map(|a| a.wanted.iter())
            .filter(|w| w.keys.is_empty())
            .map(|w| w.ticket_type)
            .collect();
        let mut order: Vec<usize> =
            (0..free.len()).filter(|&i| best.contains(&free[i].ticket_type_id)).collect();
        order.sort_by_key(|&i| (free[i].row_key, free[i].pos));
        let (mut types, mut at) = (BTreeMap::<i64, (Vec<usize>, Vec<Spot>)>::new(), HashMap::new());
        for i in order {
            let s = &free[i];
            let (indexes, spots) = types.entry(s.ticket_type_id).or_default();
            at.insert(i, (s.ticket_type_id, spots.len()));
            indexes.push(i);
            #[allow(clippy::cast_precision_loss)] // plan coordinates are at most 100,000
            spots.push(Spot {
                row: u32::try_from(s.row_key).unwrap_or(u32::MAX),
                pos: u32::try_from(s.pos).unwrap_or(u32::MAX),
                x: s.x as f64,
                y: s.y as f64,
                free: true,
            });
        }
        Self { types, at }
    }

    /// The best `count` free seats of `ticket_type` together (indexes into `free`).
    fn choose(&self, ticket_type: i64, count: i64, focus: Point) -> Option<Vec<usize>> {
        let (indexes, spots) = self.types.get(&ticket_type)?;
        let chosen = best::choose(spots, usize::try_from(count).ok()?, focus)?;
        Some(chosen.into_iter().map(|j| indexes[j]).collect())
    }

    fn mark(&mut self, i: usize, free: bool) {
        if let Some(&(ticket_type, j)) = self.at.get(&i)
            && let Some((_, spots)) = self.types.get_mut(&ticket_type)
        {
            spots[j].free = free;
        }
    }
}

/// `(seat, order)`: each seat still free is held by its order; the seats held.
async fn hold(tx: &mut Tenant, seats: &[(i64, i64)]) -> Result<HashSet<i64>, sqlx::Error> {
    if seats.is_empty() {
        return Ok(HashSet::new());
    }
    let cases =
        seats.iter().map(|(seat, order)| format!("WHEN {seat} THEN {order}")).collect::<Vec<_>>().join(" ");
    let ids = seats.iter().map(|(seat, _)| seat.to_string()).collect::<Vec<_>>().join(",");
    let held: Vec<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "UPDATE seats SET state = 'held', order_id = CASE id {cases} END \
         WHERE org_id = $1 AND state = 'free' AND id IN ({ids}) RETURNING id"
    )))
    .bind(tx.org())
    .fetch_all(&mut **tx)
    .await?;
    Ok(held.into_iter().collect())
}

/// Frees `seats` this batch held for orders that then did not get all of theirs.
async fn unhold(tx: &mut Tenant, seats: &[i64]) -> Result<(), sqlx::Error> {
    if seats.is_empty() {
        return Ok(());
    }
    let ids = seats.iter().map(ToString::to_string).collect::<Vec<_>>().join(",");
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE seats SET state = 'free', order_id = NULL WHERE org_id = $1 AND state = 'held' AND id IN ({ids})"
    )))
    .bind(tx.org())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// `(order, seat, ticket type)`: what each order chose, kept in `order_seats`.
async fn record(tx: &mut Tenant, rows: &[(i64, i64, i64)]) -> Result<(), sqlx::Error> {
    if rows.is_empty() {
        return Ok(());
    }
    let org = tx.org();
    let values = rows
        .iter()
        .map(|(order, seat, ticket_type)| format!("({order}, {org}, {seat}, {ticket_type})"))
        .collect::<Vec<_>>()
        .join(", ");
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO order_seats (order_id, org_id, seat_id, ticket_type_id) VALUES {values}"
    )))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One row of `n` seats of ticket type 1, keys "0".."n-1", drawn 10 apart.
    fn row(n: i64) -> Vec<FreeSeat> {
        (0..n)
            .map(|i| FreeSeat {
                id: 100 + i,
                ticket_type_id: 1,
                seat_key: i.to_string(),
                number: i,
                row_key: 0,
                pos: i,
                x: 10 * i,
                y: 0,
                section: "Stalls".into(),
                row_label: "A".into(),
                label: (i + 1).to_string(),
            })
            .collect()
    }

    fn named(keys: &[&str]) -> Vec<Wanted> {
        vec![Wanted {
            ticket_type: 1,
            keys: keys.iter().map(|k| (*k).to_owned()).collect(),
            count: i64::try_from(keys.len()).unwrap(),
        }]
    }

    fn best(count: i64) -> Vec<Wanted> {
        vec![Wanted { ticket_type: 1, keys: Vec::new(), count }]
    }

    fn asks(wanted: &[Vec<Wanted>]) -> Vec<Ask<'_>> {
        wanted
            .iter()
            .enumerate()
            .map(|(i, w)| Ask {
                order: i64::try_from(i).unwrap(),
                wanted: w,
                focus: Point { x: 0.0, y: 0.0 },
            })
            .collect()
    }

    #[test]
    fn the_first_to_ask_for_a_seat_gets_it_and_a_refused_order_takes_nothing() {
        let free = row(5);
        // 0 wants 1+2; 1 wants 2+3 (2 is gone: refused, so 3 stays free); 2 wants 3.
        let wanted = [named(&["1", "2"]), named(&["2", "3"]), named(&["3"])];
        assert_eq!(plan(&asks(&wanted), &free), vec![Ok(vec![1, 2]), Err(NoSeats::Taken), Ok(vec![3])]);
    }

    #[test]
    fn a_seat_not_free_or_of_another_type_or_named_twice_refuses_the_order() {
        let free = row(3);
        let other = vec![Wanted { ticket_type: 2, keys: vec!["0".into()], count: 1 }];
        let wanted = [named(&["7"]), other, named(&["1", "1"]), named(&["0"])];
        assert_eq!(
            plan(&asks(&wanted), &free),
            vec![Err(NoSeats::Taken), Err(NoSeats::Taken), Err(NoSeats::Taken), Ok(vec![0])]
        );
    }

    #[test]
    fn best_available_chooses_around_what_earlier_orders_of_the_batch_got() {
        let free = row(6);
        // Closest to x = 0: the first pair is 0+1; an order naming 2 then leaves 3+4 together,
        // and a third pair does not fit beside the single seat 5.
        let wanted = [best(2), named(&["2"]), best(2), best(2)];
        let got = plan(&asks(&wanted), &free);
        assert_eq!(got[0], Ok(vec![0, 1]));
        assert_eq!(got[1], Ok(vec![2]));
        assert_eq!(got[2], Ok(vec![3, 4]));
        assert_eq!(got[3], Err(NoSeats::NotTogether));
    }

    #[test]
    fn an_order_refused_for_its_second_type_gives_back_its_first() {
        let free = row(4);
        let both = vec![
            Wanted { ticket_type: 1, keys: Vec::new(), count: 2 },
            Wanted { ticket_type: 2, keys: Vec::new(), count: 1 },
        ];
        let wanted = [both, best(4)];
        assert_eq!(plan(&asks(&wanted), &free), vec![Err(NoSeats::NotTogether), Ok(vec![0, 1, 2, 3])]);
    }
}
