//! The box office's entry point; everything is in the library.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    boxoffice_app::run();
}
