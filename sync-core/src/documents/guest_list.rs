//! The guest list: names the organizer adds, check-ins the door records, concurrently.
//!
//! Every fact is its own key on the document's root map:
//!
//! ```text
//! guest/<guest id>/name       = str
//! guest/<guest id>/plus_ones  = int
//! checkin/<guest id>/<device>-<hlc> = int (people checked in)
//! ```
//!
//! Flat keys on the root, not nested maps: two replicas that each create a nested map under the
//! same key make two different objects, and automerge keeps only one of them visible — the other
//! side's check-ins would vanish. The root always exists, so nothing is ever created twice.
//! Each check-in's key names its device and clock, so two doors checking in the same party at
//! once both count.

use crate::hlc::Hlc;
use crate::ids::DeviceId;
use automerge::transaction::Transactable;
use automerge::{AutoCommit, AutomergeError, ROOT, ReadDoc, ScalarValue, Value};
use std::collections::BTreeMap;

/// One guest as read from the list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Guest {
    /// The guest's id.
    pub id: String,
    /// Their name.
    pub name: String,
    /// How many companions may come with them.
    pub plus_ones: u32,
    /// How many people of the party have been checked in (all doors together).
    pub checked_in: u32,
}

/// Operations on a guest-list document.
pub struct GuestList;

impl GuestList {
    /// Adds (or renames) a guest. `id` must not contain '/'.
    pub fn add_guest(
        doc: &mut AutoCommit,
        id: &str,
        name: &str,
        plus_ones: u32,
    ) -> Result<(), AutomergeError> {
        doc.put(ROOT, format!("guest/{id}/name"), name)?;
        doc.put(ROOT, format!("guest/{id}/plus_ones"), i64::from(plus_ones))?;
        Ok(())
    }

    /// Takes a guest off the list. Their check-ins stay in the document (they happened) but
    /// no longer show; an organizer's concurrent rename wins over the removal, as automerge
    /// keeps a value written concurrently with its deletion.
    pub fn remove_guest(doc: &mut AutoCommit, id: &str) -> Result<(), AutomergeError> {
        doc.delete(ROOT, format!("guest/{id}/name"))?;
        doc.delete(ROOT, format!("guest/{id}/plus_ones"))?;
        Ok(())
    }

    /// Records that `count` people of a guest's party came in through `device`; `hlc` (the
    /// device's clock) makes the check-in its own fact.
    pub fn check_in(
        doc: &mut AutoCommit,
        guest_id: &str,
        count: u32,
        device: DeviceId,
        hlc: Hlc,
    ) -> Result<(), AutomergeError> {
        doc.put(ROOT, format!("checkin/{guest_id}/{device}-{}", hlc.0), i64::from(count))
    }

    /// Every guest, sorted by name.
    pub fn guests(doc: &AutoCommit) -> Vec<Guest> {
        let mut guests: BTreeMap<String, Guest> = BTreeMap::new();
        let mut checkins: BTreeMap<String, u32> = BTreeMap::new();
        for key in doc.keys(ROOT) {
            let value = doc.get(ROOT, &key).ok().flatten().map(|(v, _)| v);
            if let Some(rest) = key.strip_prefix("guest/") {
                let Some((id, field)) = rest.rsplit_once('/') else { continue };
                let entry = guests.entry(id.to_owned()).or_insert_with(|| Guest {
                    id: id.to_owned(),
                    name: String::new(),
                    plus_ones: 0,
                    checked_in: 0,
                });
                match field {
                    "name" => entry.name = text(value.as_ref()),
                    "plus_ones" => entry.plus_ones = count(value.as_ref()),
                    _ => {}
                }
            } else if let Some(rest) = key.strip_prefix("checkin/") {
                let Some((id, _)) = rest.split_once('/') else { continue };
                *checkins.entry(id.to_owned()).or_default() += count(value.as_ref());
            }
        }
        for (id, n) in checkins {
            if let Some(g) = guests.get_mut(&id) {
                g.checked_in = n;
            }
        }
        let mut list: Vec<Guest> = guests.into_values().collect();
        list.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
        list
    }
}

fn count(value: Option<&Value<'_>>) -> u32 {
    match value {
        Some(Value::Scalar(v)) => match v.as_ref() {
            ScalarValue::Int(i) => u32::try_from(*i).unwrap_or(0),
            ScalarValue::Uint(u) => u32::try_from(*u).unwrap_or(0),
            _ => 0,
        },
        _ => 0,
    }
}

fn text(value: Option<&Value<'_>>) -> String {
    match value {
        Some(Value::Scalar(v)) => match v.as_ref() {
            ScalarValue::Str(s) => s.to_string(),
            _ => String::new(),
        },
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::documents::{DocId, Documents};
    use crate::ids::EventId;

    /// Syncs two document sets until neither has anything to say.
    fn sync_pair(a: &mut Documents, b: &mut Documents, id: &DocId) {
        let (pa, pb) = (DeviceId(1), DeviceId(2));
        for _ in 0..20 {
            let to_b = a.generate(pb, id);
            let to_a = b.generate(pa, id);
            if to_a.is_none() && to_b.is_none() {
                return;
            }
            if let Some(m) = to_b {
                b.receive(pa, id, &m).unwrap();
            }
            if let Some(m) = to_a {
                a.receive(pb, id, &m).unwrap();
            }
        }
        panic!("documents did not converge in 20 rounds");
    }

    #[test]
    fn a_door_check_in_and_an_organizer_edit_both_survive() {
        let id = DocId::guest_list(EventId(1));
        let mut console = Documents::new(b"console");
        let mut door = Documents::new(b"door-1");
        console.edit(&id, |d| GuestList::add_guest(d, "g1", "Ada Lovelace", 1)).unwrap();
        sync_pair(&mut console, &mut door, &id);

        // Apart: the door checks Ada's party in, the organizer adds a name and a plus-one.
        door.edit(&id, |d| GuestList::check_in(d, "g1", 2, DeviceId(5), Hlc(77))).unwrap();
        console.edit(&id, |d| GuestList::add_guest(d, "g2", "Grace Hopper", 0)).unwrap();
        console.edit(&id, |d| GuestList::add_guest(d, "g1", "Ada Lovelace", 2)).unwrap();
        sync_pair(&mut console, &mut door, &id);

        let expected = vec![
            Guest { id: "g1".into(), name: "Ada Lovelace".into(), plus_ones: 2, checked_in: 2 },
            Guest { id: "g2".into(), name: "Grace Hopper".into(), plus_ones: 0, checked_in: 0 },
        ];
        assert_eq!(GuestList::guests(console.get(&id).unwrap()), expected);
        assert_eq!(GuestList::guests(door.get(&id).unwrap()), expected);
    }

    #[test]
    fn a_removed_guest_is_gone_everywhere_after_sync() {
        let id = DocId::guest_list(EventId(1));
        let mut console = Documents::new(b"console");
        let mut door = Documents::new(b"door-1");
        console.edit(&id, |d| GuestList::add_guest(d, "g1", "Ada", 0)).unwrap();
        console.edit(&id, |d| GuestList::add_guest(d, "g2", "Grace", 0)).unwrap();
        sync_pair(&mut console, &mut door, &id);
        console.edit(&id, |d| GuestList::remove_guest(d, "g1")).unwrap();
        sync_pair(&mut console, &mut door, &id);
        let names = |docs: &Documents| {
            docs.read(&id, GuestList::guests).into_iter().map(|g| g.name).collect::<Vec<_>>()
        };
        assert_eq!(names(&console), ["Grace"]);
        assert_eq!(names(&door), ["Grace"]);
    }

    #[test]
    fn two_doors_checking_in_the_same_party_both_count() {
        let id = DocId::guest_list(EventId(1));
        let mut a = Documents::new(b"door-a");
        let mut b = Documents::new(b"door-b");
        a.edit(&id, |d| GuestList::add_guest(d, "g1", "Party", 3)).unwrap();
        sync_pair(&mut a, &mut b, &id);
        a.edit(&id, |d| GuestList::check_in(d, "g1", 1, DeviceId(1), Hlc(10))).unwrap();
        b.edit(&id, |d| GuestList::check_in(d, "g1", 2, DeviceId(2), Hlc(10))).unwrap();
        sync_pair(&mut a, &mut b, &id);
        assert_eq!(GuestList::guests(a.get(&id).unwrap())[0].checked_in, 3);
        assert_eq!(GuestList::guests(b.get(&id).unwrap())[0].checked_in, 3);
    }

    #[test]
    fn garbage_is_not_a_sync_message_and_changes_nothing() {
        let id = DocId::guest_list(EventId(1));
        let mut a = Documents::new(b"a");
        a.edit(&id, |d| GuestList::add_guest(d, "g1", "X", 0)).unwrap();
        assert!(a.receive(DeviceId(2), &id, b"not automerge").is_err());
        assert_eq!(GuestList::guests(a.get(&id).unwrap()).len(), 1);
        assert!(DocId::try_from("Guests/../x".to_string()).is_err());
    }
}
