//! Tauri's build step, with the configuration shared by both apps merged under this app's
//! tauri.conf.json (see voelgoed-app-build).
fn main() {
    voelgoed_app_build::build();
}
