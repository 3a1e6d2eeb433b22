//! Build script of the desktop shell. Declaring the app manifest makes Tauri check every app
//! command against the capabilities (without it, app commands bypass the ACL).

// The one list of window commands (also read by the test that compares it with the generated
// bindings and the capabilities).
include!("src/command_names.rs");

fn main() {
    println!("cargo:rerun-if-changed=src-tauri/capabilities");
    println!("cargo:rerun-if-changed=tauri.conf.json");
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .capabilities_path_pattern("./src-tauri/capabilities/**/*")
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri-build failed");
}
