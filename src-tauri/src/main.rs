//! The `kagiya` executable: starts the desktop console.

// No console window behind the app on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    kagiya_app::run();
}
