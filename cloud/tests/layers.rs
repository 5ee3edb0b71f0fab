//! The hub's modules stand in layers, and each calls only down: no module reaches sideways or
//! up, so there are no cycles (journal ⇄ leases, sales ⇄ payments, auth ⇄ tenancy and
//! config → sales were the ones this test was written against). And the hub reads time only
//! from its clock.
//!
//! Read from the sources themselves: every `crate::<module>` a module's code names (its tests
//! excepted) must be of a lower layer in [`LAYERS`] — or `state`, the composition root every
//! handler's state type lives in.

use std::collections::BTreeMap;
use std::path::Path;

/// The layers, lowest first. A module may use modules of lower layers only.
const LAYERS: &[&[&str]] = &[
    &["clock", "config", "crypto", "codes", "shared_reads"],
    &["db"],
    &["error"],
    &["checks", "json", "lang", "path", "pricing", "query"],
    &["printing"],
    &["capacity", "identity", "limits", "mail", "tenancy", "payments"],
    &["messages", "texts"],
    &["webhooks"],
    &["journal"],
    &["auth", "health"],
    &["events", "members", "reports", "settings", "webhook_api"],
    &["vouchers", "seating"],
    &["devices", "guests", "sales"],
    &["leases", "message_api", "schedules"],
    &["openapi", "console", "demo", "maintenance"],
    &["server"],
    &["cli"],
];

/// Every module may name this one: the state handlers extract their pieces from.
const ROOT: &str = "state";

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

/// The source of every file of `cloud/src`, by top-level module, tests cut off.
fn sources() -> BTreeMap<String, Vec<(String, String)>> {
    fn walk(dir: &Path, root: &Path, out: &mut BTreeMap<String, Vec<(String, String)>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, root, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let relative = path.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                let module = relative.split(['/', '.']).next().unwrap().to_owned();
                let text = std::fs::read_to_string(&path).unwrap();
                let code = text.split("#[cfg(test)]").next().unwrap().to_owned();
                out.entry(module).or_default().push((relative, code));
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = BTreeMap::new();
    walk(&root, &root, &mut out);
    out
}

#[test]
fn every_module_calls_only_down() {
    let mut wrong = Vec::new();
    for (module, files) in sources() {
        if ["lib", "main", ROOT].contains(&module.as_str()) {
            continue;
        }
        let Some(mine) = layer_of(&module) else {
            wrong.push(format!("module {module} is in no layer: add it to LAYERS"));
            continue;
        };
        for (file, code) in files {
            for used in code.split("crate::").skip(1) {
                let name: String = used.chars().take_while(|c| c.is_ascii_lowercase() || *c == '_').collect();
                if name == module || name == ROOT || name.is_empty() {
                    continue;
                }
                match layer_of(&name) {
                    Some(theirs) if theirs < mine => {}
                    Some(_) => wrong.push(format!("{file}: {module} uses {name}, not below it")),
                    None => wrong.push(format!("{file}: {module} uses {name}, in no layer")),
                }
            }
        }
    }
    wrong.sort();
    wrong.dedup();
    assert!(wrong.is_empty(), "modules reaching sideways or up:\n{}", wrong.join("\n"));
}

#[test]
fn time_comes_from_the_clock_only() {
    // The system clock's doors (a monotonic `Instant` for throttles and timeouts is not the
    // hub's time and is allowed).
    let doors =
        ["SystemTime::now", "Timestamp::now()", "jiff::Timestamp::now", "Utc::now", "OffsetDateTime::now"];
    let mut wrong = Vec::new();
    for (module, files) in sources() {
        for (file, code) in files {
            for door in doors {
                if code.contains(door) && module != "clock" {
                    wrong.push(format!("{file}: {door}"));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "wall-clock reads outside the clock:\n{}", wrong.join("\n"));
}
