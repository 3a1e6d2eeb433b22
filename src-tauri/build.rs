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
    "set_theme",
    "recent_events",
    "dashboard",
    "choices",
    "customers",
    "customer",
    "create_customer",
    "set_customer_policy",
    "ip_rule_warnings",
    "set_ip_rules",
    "release_ip_restrictions",
    "check_ip",
    "user_page",
    "user_detail",
    "create_user",
    "unlock_users",
    "set_user_passwords",
    "add_address",
    "set_address_flags",
    "delete_address",
    "set_users_suspended",
    "init_requests",
    "init_request_preview",
    "record_init_request",
    "decide_init_request",
    "execute_init_request",
    "certificates",
    "certificate_report",
    "import_certificate",
    "audit_page",
    "verify_audit_chain",
    "export_audit_csv",
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
