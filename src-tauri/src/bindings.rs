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
            desk::unlock_candidates,
            desk::set_user_passwords,
            desk::add_address,
            desk::set_address_flags,
            desk::delete_address,
            desk::set_users_suspended,
            desk::disable_user_mfa,
            desk::staff,
            desk::set_operator_disabled,
            desk::set_operator_role,
            desk::reset_operator_passwords,
            desk::set_operator_expiry_days,
            desk::change_own_operator_passwords,
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
            desk::sync_view,
            desk::enrol_sync,
            desk::sync_now,
            desk::sync_review,
            desk::sync_review_done,
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
        .header("// Generated from the Rust commands by src-tauri/src/bindings.rs. Do not edit.\n// Regenerate: KAGIYA_BLESS=1 cargo test -p kagiya-desktop bindings\n/* eslint-disable */");
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
            "{} is out of date with the Rust commands: run KAGIYA_BLESS=1 cargo test -p kagiya-desktop bindings",
            super::BINDINGS_PATH
        );
    }

    fn tempfile_dir() -> PathBuf {
        let d = std::env::temp_dir().join(format!("kagiya-bindings-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }
}

/// The three lists of window commands — the ACL manifest in build.rs, the generated bindings and
/// the main window's capability — name the same commands, so that none is callable without a
/// permission or permitted without existing.
#[cfg(test)]
mod command_lists {
    use std::collections::BTreeSet;
    use std::path::PathBuf;

    include!("command_names.rs");

    fn root() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
    }

    fn manifest() -> BTreeSet<String> {
        let names: BTreeSet<String> = COMMANDS.iter().map(|s| s.to_string()).collect();
        assert_eq!(
            names.len(),
            COMMANDS.len(),
            "a command is listed twice in build.rs"
        );
        names
    }

    /// The command names the generated TypeScript invokes.
    fn bindings() -> BTreeSet<String> {
        let ts = std::fs::read_to_string(root().join(super::BINDINGS_PATH)).unwrap();
        ts.split("__TAURI_INVOKE")
            .skip(1)
            .filter_map(|rest| {
                let start = rest.find("(\"")? + 2;
                let len = rest[start..].find('"')?;
                Some(rest[start..start + len].to_owned())
            })
            .collect()
    }

    /// The commands the main window's capability allows (`allow-a-b` for `a_b`).
    fn capability() -> BTreeSet<String> {
        let path = root().join("src-tauri/capabilities/main.json");
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        json["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                let p = p.as_str().expect("permissions are plain identifiers");
                p.strip_prefix("allow-")
                    .unwrap_or_else(|| panic!("not an allow permission: {p}"))
                    .replace('-', "_")
            })
            .collect()
    }

    #[test]
    fn build_rs_bindings_and_capabilities_list_the_same_commands() {
        let manifest = manifest();
        assert!(manifest.len() > 30, "the list was read");
        assert_eq!(bindings(), manifest, "bindings.ts vs build.rs");
        assert_eq!(capability(), manifest, "capabilities/main.json vs build.rs");
    }
}
