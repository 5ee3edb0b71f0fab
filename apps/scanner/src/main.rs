//! The gate scanner's entry point; everything is in the library.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    scanner_app::run();
}
