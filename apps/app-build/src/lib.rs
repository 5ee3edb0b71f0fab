//! # voelgoed-app-build
//!
//! The build step of both Tauri apps (`apps/scanner`, `apps/boxoffice`): one base
//! configuration, [`BASE`] (the `tauri.conf.json` at the top of the repository: bundle
//! metadata, the icons in the top-level `icons/`, the global API), under each app's own
//! `tauri.conf.json` (name, identifier, window, content security policy). Paths in the base are
//! relative to the app's directory, as Tauri reads them (`../../icons/icon.png`).
//!
//! Tauri has no include mechanism for its configuration, but both places that read it at build
//! time — `tauri-build` in the build script and `generate_context!` in the app — merge the JSON
//! in the `TAURI_CONFIG` environment variable over the app's file. [`build`] sets that variable
//! for both. Because the merge puts the base *over* the app's file, a key in both would
//! silently take the base's value; [`build`] refuses that instead, naming the key.

use serde_json::Value;

/// The shared configuration (`tauri.conf.json` at the top of the repository).
pub const BASE: &str = include_str!("../../../tauri.conf.json");

/// The app's build script: `fn main() { voelgoed_app_build::build() }`.
///
/// # Panics
/// When the app's `tauri.conf.json` cannot be read or repeats a key of the base: the build
/// stops with the reason.
pub fn build() {
    let app: Value = std::fs::read_to_string("tauri.conf.json")
        .map_err(|e| e.to_string())
        .and_then(|text| serde_json::from_str(&text).map_err(|e| e.to_string()))
        .unwrap_or_else(|e| panic!("tauri.conf.json: {e}"));
    let from_cli = std::env::var("TAURI_CONFIG").ok();
    let merged = overlay(&app, from_cli.as_deref()).unwrap_or_else(|e| panic!("{e}"));
    let merged = merged.to_string();
    // SAFETY: a build script runs on one thread; tauri-build reads the variable just below.
    #[allow(unsafe_code)]
    unsafe {
        std::env::set_var("TAURI_CONFIG", &merged);
    }
    // … and generate_context! reads it while the app's crate compiles.
    println!("cargo:rustc-env=TAURI_CONFIG={merged}");
    tauri_build::build();
}

/// What goes into `TAURI_CONFIG`: the base, then whatever the Tauri CLI passed (its
/// `--config`), checked against the app's own file `app`.
pub fn overlay(app: &Value, from_cli: Option<&str>) -> Result<Value, String> {
    let mut base: Value =
        serde_json::from_str(BASE).map_err(|e| format!("the top-level tauri.conf.json: {e}"))?;
    // Both files name the schema, for editors; it is not configuration.
    if let Value::Object(fields) = &mut base {
        fields.remove("$schema");
    }
    if let Some(key) = repeated_key(&base, app, String::new()) {
        return Err(format!(
            "tauri.conf.json sets {key}, which the top-level tauri.conf.json already sets for both apps: \
             keep it in one place"
        ));
    }
    if let Some(cli) = from_cli {
        let cli: Value = serde_json::from_str(cli).map_err(|e| format!("TAURI_CONFIG: {e}"))?;
        json_patch::merge(&mut base, &cli);
    }
    Ok(base)
}

/// The first leaf key of `base` that `app` also sets (as a dotted path).
fn repeated_key(base: &Value, app: &Value, path: String) -> Option<String> {
    let (Value::Object(base), Value::Object(app)) = (base, app) else {
        return Some(path);
    };
    base.iter().find_map(|(key, value)| {
        let inner = app.get(key)?;
        repeated_key(value, inner, if path.is_empty() { key.clone() } else { format!("{path}.{key}") })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_base_goes_under_the_app_and_the_cli_over_both() {
        let app = json!({"productName": "Scanner", "bundle": {"shortDescription": "gates"}});
        let merged = overlay(&app, Some(r#"{"bundle": {"targets": ["deb"]}}"#)).unwrap();
        assert_eq!(merged["bundle"]["targets"], json!(["deb"]));
        assert_eq!(merged["bundle"]["icon"], json!(["../../icons/icon.png"]));
        assert_eq!(merged["app"]["withGlobalTauri"], json!(true));
        assert!(merged.get("productName").is_none());
    }

    #[test]
    fn an_app_repeating_a_shared_key_is_refused_by_name() {
        let app = json!({"bundle": {"category": "Game", "shortDescription": "x"}});
        assert_eq!(
            overlay(&app, None).unwrap_err(),
            "tauri.conf.json sets bundle.category, which the top-level tauri.conf.json already sets for \
             both apps: keep it in one place"
        );
    }

    #[test]
    fn the_base_names_icons_that_exist_from_each_app() {
        let base: Value = serde_json::from_str(BASE).unwrap();
        for app in ["../scanner", "../boxoffice"] {
            for icon in base["bundle"]["icon"].as_array().unwrap() {
                let path = std::path::Path::new(app).join(icon.as_str().unwrap());
                assert!(path.exists(), "{} from {app}", path.display());
            }
        }
    }

    #[test]
    fn neither_apps_configuration_shares_a_key_with_the_base() {
        for app in ["../scanner/tauri.conf.json", "../boxoffice/tauri.conf.json"] {
            let text = std::fs::read_to_string(app).unwrap();
            overlay(&serde_json::from_str(&text).unwrap(), None).unwrap_or_else(|e| panic!("{app}: {e}"));
        }
    }
}
