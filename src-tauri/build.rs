//! Build script of the desktop shell. Declaring the app manifest makes Tauri check every app
//! command against the capabilities (without it, app commands bypass the ACL).

/// Every command the webview may call; each gets `allow-<name>` / `deny-<name>` permissions.
const COMMANDS: &[&str] = &[
    "app_status",
    "check_operator_password",
    "create_first_supervisor",
    "sign_in",
    "resume_session",
    "touch_session",
    "lock_session",
    "sign_out",
    "set_language",
    "set_idle_lock_minutes",
    "recent_events",
];

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
