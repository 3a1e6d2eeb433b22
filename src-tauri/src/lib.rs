//! The desktop shell: opens the console on the local database and exposes its use cases to the
//! webview as commands. It decides nothing itself; see `crates/kagiya-console`.

mod commands;
mod options;
mod state;

use tauri::Manager;

use crate::options::LaunchOptions;
use crate::state::AppState;

/// The database file name inside the data directory.
const DB_FILE: &str = "kagiya.db";

/// Starts the app.
pub fn run() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "kagiya=info,kagiya_app=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let (opts, ignored) = LaunchOptions::parse(
        std::env::args().skip(1),
        std::env::var("KAGIYA_DATA_DIR").ok(),
    );
    if !ignored.is_empty() {
        tracing::warn!(?ignored, "ignoring unknown or invalid launch arguments");
    }
    let result = tauri::Builder::default()
        .setup(move |app| {
            let data_dir = match &opts.data_dir {
                Some(d) => d.clone(),
                None => app.path().app_data_dir()?,
            };
            let state = AppState::open(&data_dir.join(DB_FILE), &opts);
            app.manage(state);
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
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
            commands::recent_events,
        ])
        .run(tauri::generate_context!());
    if let Err(e) = result {
        tracing::error!("Kagiya could not start: {e}");
        eprintln!("Kagiya could not start: {e}");
        std::process::exit(1);
    }
}
