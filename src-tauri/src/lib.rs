//! The desktop shell: opens the console on the local database and exposes its use cases to the
//! webview as commands. It decides nothing itself; see `crates/kagiya-desk` and `crates/kagiya-engine`.

mod bindings;
mod commands;
mod desk;
mod options;
mod state;

use tauri::Manager;

use crate::options::LaunchOptions;
use crate::state::{AppState, ExportDir};

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
    let commands = bindings::builder();
    let result = tauri::Builder::default()
        .setup(move |app| {
            let data_dir = match &opts.data_dir {
                Some(d) => d.clone(),
                None => app.path().app_data_dir()?,
            };
            let state = AppState::open(&data_dir.join(DB_FILE), &opts);
            app.manage(state);
            let exports = match &opts.export_dir {
                Some(d) => d.clone(),
                None => app
                    .path()
                    .download_dir()
                    .or_else(|_| app.path().document_dir())
                    .unwrap_or_else(|_| data_dir.join("exports")),
            };
            app.manage(ExportDir(exports));
            Ok(())
        })
        .invoke_handler(commands.invoke_handler())
        .run(tauri::generate_context!());
    if let Err(e) = result {
        tracing::error!("Kagiya could not start: {e}");
        eprintln!("Kagiya could not start: {e}");
        std::process::exit(1);
    }
}
