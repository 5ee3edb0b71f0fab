//! The live seat map: `GET /shop/{event}/seats/live`, server-sent events the shop's map
//! listens to, so a seat another buyer holds turns colour within milliseconds.
//!
//! The stream opens with every seat that is not free (`event: seats`, `{"seats": {id:
//! state}}`), then sends only what changed (`event: changes`, the same shape, `free` for a
//! seat given back) each time a transaction that changed the organization's seats commits
//! — the [`SeatBell`](crate::db::SeatBell) every such transaction rings (in other instances
//! too, on PostgreSQL). Rings that come while the seats are being read fold into the next read,
//! and the open maps of one event share each read ([`Snapshots`]: the first stream to wake
//! reads, the others take its answer), so a flash sale costs one query per ring, not one per
//! hold and open map. A read that finds nothing new for this event (the ring was for another
//! event) sends nothing.

use super::store;
use crate::db::Db;
use crate::error::ApiError;
use crate::shared_reads::{SharedReads, Wanted};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream};
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Read again at least this often, rung or not (a missed notification heals by itself).
const HEARTBEAT: Duration = Duration::from_secs(15);

/// A fresh read (a map opening, a heartbeat) takes one begun at most this long ago: the maps
/// of a flash sale open within seconds of each other, and so beat together; each asking for
/// a read begun after it asked made thousands of reads in a row every 15 s.
const FRESH_WITHIN: Duration = Duration::from_secs(1);

/// Seat id → state (`held`, `sold`, `blocked`; `free` in a change).
type States = HashMap<String, String>;

/// The last read of each event's seats, shared by its open maps (one per hub instance).
#[derive(Clone, Default)]
pub struct Snapshots(Arc<SharedReads<i64, States>>);

impl Snapshots {
    /// `event`'s seats as of bell count `rung`: read by the first caller, shared with the
    /// others (they wait for that read); `fresh` wants a read begun within [`FRESH_WITHIN`].
    async fn read(
        &self,
        db: &Db,
        org: i64,
        event: i64,
        rung: u64,
        fresh: bool,
    ) -> Result<Arc<States>, ApiError> {
        let since = fresh.then(|| Instant::now().checked_sub(FRESH_WITHIN)).flatten();
        let wanted = Wanted { count: rung, since };
        self.0.get(&event, wanted, || read(db, org, event)).await
    }
}

/// The stream for `event`, for buyers: 404 unless it is on sale (or past) and sold by seat.
pub async fn stream(
    db: Db,
    snapshots: Snapshots,
    event: i64,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let org = store::event_org(&db, event).await?.ok_or(ApiError::NotFound)?;
    let mut tx = db.tenant(org).await?;
    if crate::events::status(&mut tx, event).await? == crate::events::Status::Draft
        || store::seating(&mut tx, event).await?.is_none()
    {
        return Err(ApiError::NotFound);
    }
    tx.commit().await?;
    let bell = db.seat_bell().subscribe(org);
    Ok(Sse::new(changes(db, snapshots, org, event, bell)).keep_alive(KeepAlive::default()))
}

fn changes(
    db: Db,
    snapshots: Snapshots,
    org: i64,
    event: i64,
    bell: watch::Receiver<u64>,
) -> impl Stream<Item = Result<Event, Infallible>> {
    let state = (db, snapshots, bell, None::<Arc<States>>);
    stream::unfold(state, move |(db, snapshots, mut bell, mut shown)| async move {
        loop {
            let mut fresh = shown.is_none();
            if shown.is_some() {
                // A ring, or the heartbeat (read afresh: it heals a missed ring); a closed bell
                // (the hub shutting down) ends the stream.
                match tokio::time::timeout(HEARTBEAT, bell.changed()).await {
                    Ok(Err(_)) => return None,
                    Err(_) => fresh = true,
                    Ok(Ok(())) => {}
                }
            }
            let rung = *bell.borrow_and_update();
            let now = match snapshots.read(&db, org, event, rung, fresh).await {
                Ok(now) => now,
                Err(e) => {
                    tracing::warn!(error = %e, event, "live seat map read failed");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            let (name, delta) = match &shown {
                None => ("seats", (*now).clone()),
                Some(before) => ("changes", delta(before, &now)),
            };
            let first = shown.is_none();
            shown = Some(now);
            if first || !delta.is_empty() {
                let data = serde_json::json!({ "seats": delta });
                let sse = Event::default().event(name).json_data(data).unwrap_or_else(|_| Event::default());
                return Some((Ok(sse), (db, snapshots, bell, shown)));
            }
        }
    })
}

async fn read(db: &Db, org: i64, event: i64) -> Result<States, ApiError> {
    let mut tx = db.tenant(org).await?;
    let seats = store::not_free(&mut tx, event).await?;
    tx.commit().await?;
    Ok(seats.into_iter().collect())
}

/// What changed from `before` to `now`: new or changed states, and `free` for seats no longer
/// taken.
fn delta(before: &States, now: &States) -> States {
    let mut changed: States =
        now.iter().filter(|(k, v)| before.get(*k) != Some(v)).map(|(k, v)| (k.clone(), v.clone())).collect();
    changed.extend(before.keys().filter(|k| !now.contains_key(*k)).map(|k| (k.clone(), "free".to_owned())));
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn states(pairs: &[(&str, &str)]) -> States {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn a_change_names_new_holds_sales_and_seats_given_back() {
        let before = states(&[("A-1", "held"), ("A-2", "sold"), ("A-3", "held")]);
        let now = states(&[("A-1", "sold"), ("A-2", "sold"), ("B-1", "held")]);
        assert_eq!(delta(&before, &now), states(&[("A-1", "sold"), ("A-3", "free"), ("B-1", "held")]));
        assert!(delta(&now, &now).is_empty());
    }
}
