//! The one list of commands: it builds Tauri's invoke handler and generates
//! `ui/src/lib/bindings.ts`, the TypeScript functions and types the UI calls. A test fails when
//! the committed file differs from what the Rust signatures produce, so the two cannot drift.

use tauri_specta::{collect_commands, Builder, ErrorHandlingMode};

use crate::{commands, desk};

/// Where the generated bindings live, relative to the workspace root.
#[cfg(test)]
pub const BINDINGS_PATH: &str = "ui/src/lib/bindings.ts";

pub fn builder() -> Builder<tauri::Wry> {
    Builder::<tauri::Wry>::new()
        .commands(collect_commands![
            commands::app_status,
            commands::check_operator_password,
            commands::create_first_supervisor,
            commands::sign_in,
            commands::resume_session,
            commands::touch_session,
            commands::lock_session,
            commands::sign_out,
            commands::set_language,
            commands::set_idle_lock_minutes,
            commands::set_theme,
            commands::recent_events,
            desk::dashboard,
            desk::choices,
            desk::customers,
            desk::customer,
            desk::create_customer,
            desk::set_customer_policy,
            desk::ip_rule_warnings,
            desk::set_ip_rules,
            desk::release_ip_restrictions,
            desk::check_ip,
            desk::user_page,
            desk::user_detail,
            desk::create_user,
            desk::unlock_users,
            desk::set_user_passwords,
            desk::add_address,
            desk::set_address_flags,
            desk::delete_address,
            desk::set_users_suspended,
            desk::init_requests,
            desk::init_request_preview,
            desk::record_init_request,
            desk::decide_init_request,
            desk::execute_init_request,
            desk::certificates,
            desk::certificate_report,
            desk::import_certificate,
            desk::audit_page,
            desk::verify_audit_chain,
            desk::export_audit_csv,
        ])
        .error_handling(ErrorHandlingMode::Throw)
        // One TypeScript type per Rust type (the views are only sent, the forms only received).
        .disable_serde_phases()
        // Millis (i64) are timestamps far below 2^53: exact as JavaScript numbers.
        .dangerously_cast_bigints_to_number()
}

/// Writes the bindings to `path`.
#[cfg(test)]
pub fn export(path: &std::path::Path) -> Result<(), String> {
    let ts = specta_typescript::Typescript::default()
        .header("// Generated from the Rust commands by src-tauri/src/bindings.rs. Do not edit.\n// Regenerate: KAGIYA_BLESS=1 cargo test -p kagiya bindings\n/* eslint-disable */");
    builder().export(ts, path).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    #[test]
    fn bindings_match_the_rust_commands() {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let committed = root.join(super::BINDINGS_PATH);
        let dir = tempfile_dir();
        let fresh = dir.join("bindings.ts");
        super::export(&fresh).unwrap();
        let want = std::fs::read_to_string(&fresh).unwrap();
        if std::env::var_os("KAGIYA_BLESS").is_some() {
            std::fs::write(&committed, &want).unwrap();
            return;
        }
        let have = std::fs::read_to_string(&committed).unwrap_or_default();
        assert!(
            have == want,
            "{} is out of date with the Rust commands: run KAGIYA_BLESS=1 cargo test -p kagiya bindings",
            super::BINDINGS_PATH
        );
    }

    fn tempfile_dir() -> PathBuf {
        let d = std::env::temp_dir().join(format!("kagiya-bindings-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }
}
