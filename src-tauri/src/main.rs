//! Entry point of the kiosk: everything lives in the library.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    borne::run()
}
