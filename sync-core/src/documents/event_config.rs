//! Door-side event settings: overrides people change on the spot (a gate opened late, the
//! re-entry rule relaxed for an hour), edited concurrently in the console and at the door.
//!
//! Each setting is one key on the root map (`setting/<name>` = text). Two people changing the
//! same setting apart is a real conflict: automerge keeps both values and picks one
//! deterministically (by operation id, not by time); [`EventConfig::conflicts`] lists such
//! settings so the console can ask a person to decide.

use automerge::transaction::Transactable;
use automerge::{AutoCommit, AutomergeError, ROOT, ReadDoc, ScalarValue, Value};
use std::collections::BTreeMap;

/// Operations on an event-settings document.
pub struct EventConfig;

const PREFIX: &str = "setting/";

fn text(value: &Value<'_>) -> Option<String> {
    match value {
        Value::Scalar(v) => match v.as_ref() {
            ScalarValue::Str(s) => Some(s.to_string()),
            _ => None,
        },
        Value::Object(_) => None,
    }
}

impl EventConfig {
    /// Sets a setting.
    pub fn set(doc: &mut AutoCommit, name: &str, value: &str) -> Result<(), AutomergeError> {
        doc.put(ROOT, format!("{PREFIX}{name}"), value)
    }

    /// Every setting with its current (winning) value.
    pub fn settings(doc: &AutoCommit) -> BTreeMap<String, String> {
        doc.keys(ROOT)
            .filter_map(|k| {
                let name = k.strip_prefix(PREFIX)?.to_owned();
                let (value, _) = doc.get(ROOT, &k).ok().flatten()?;
                Some((name, text(&value)?))
            })
            .collect()
    }

    /// Settings changed concurrently to different values: every value still held.
    pub fn conflicts(doc: &AutoCommit) -> Vec<(String, Vec<String>)> {
        doc.keys(ROOT)
            .filter_map(|k| {
                let name = k.strip_prefix(PREFIX)?.to_owned();
                let mut values: Vec<String> =
                    doc.get_all(ROOT, &k).ok()?.iter().filter_map(|(v, _)| text(v)).collect();
                values.sort();
                values.dedup();
                (values.len() > 1).then_some((name, values))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::documents::{DocId, Documents};
    use crate::ids::{DeviceId, EventId};

    #[test]
    fn concurrent_changes_to_one_setting_are_surfaced_and_others_merge() {
        let id = DocId::event_config(EventId(1));
        let mut console = Documents::new(b"console");
        let mut door = Documents::new(b"door");
        console.edit(&id, |d| EventConfig::set(d, "gate/2/open", "true")).unwrap();
        door.edit(&id, |d| EventConfig::set(d, "gate/2/open", "false")).unwrap();
        door.edit(&id, |d| EventConfig::set(d, "reentry", "allowed")).unwrap();
        for _ in 0..10 {
            let to_door = console.generate(DeviceId(2), &id);
            let to_console = door.generate(DeviceId(1), &id);
            if to_door.is_none() && to_console.is_none() {
                break;
            }
            if let Some(m) = to_door {
                door.receive(DeviceId(1), &id, &m).unwrap();
            }
            if let Some(m) = to_console {
                console.receive(DeviceId(2), &id, &m).unwrap();
            }
        }
        let (a, b) = (console.get(&id).unwrap(), door.get(&id).unwrap());
        assert_eq!(EventConfig::settings(a), EventConfig::settings(b), "both sides agree on the winner");
        assert_eq!(EventConfig::settings(a)["reentry"], "allowed");
        assert_eq!(
            EventConfig::conflicts(a),
            vec![("gate/2/open".to_owned(), vec!["false".into(), "true".into()])]
        );
    }
}
