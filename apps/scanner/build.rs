//! Tauri's build step: reads tauri.conf.json and the capabilities, embeds the front end.
fn main() {
    tauri_build::build();
}
