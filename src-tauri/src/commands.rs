//! The session and settings commands the webview may call (each also listed in build.rs and
//! granted in capabilities/main.json). Each is a few lines handing over to the console.
//!
//! Commands are `async` so that Tauri runs them off the main thread: a sync command would hold
//! the window's event loop for the argon2 check or the query (measured: a users-table search
//! answered in 8–20 ms from the main thread against 1–7 ms for the same work off it).

use kagiya_core::password::RuleStatus;
use kagiya_core::Lang;
use kagiya_desk::{ErrorView, EventView, FirstSupervisor, Secret, Status, Theme};
use tauri::State;

use crate::state::AppState;

pub(crate) type Reply<T> = Result<T, ErrorView>;

#[tauri::command]
#[specta::specta]
pub async fn app_status(state: State<'_, AppState>) -> Reply<Status> {
    state.with(|c| c.status())
}

#[tauri::command]
#[specta::specta]
pub async fn check_operator_password(
    state: State<'_, AppState>,
    operator_id: String,
    password: Secret,
    login_password: Option<Secret>,
) -> Reply<Vec<RuleStatus>> {
    state.with(|c| Ok(c.check_operator_password(&operator_id, &password, login_password.as_ref())))
}

#[tauri::command]
#[specta::specta]
pub async fn create_first_supervisor(
    state: State<'_, AppState>,
    form: FirstSupervisor,
) -> Reply<Status> {
    state.with(|c| c.create_first_supervisor(&form))
}

#[tauri::command]
#[specta::specta]
pub async fn sign_in(
    state: State<'_, AppState>,
    operator_id: String,
    password: Secret,
) -> Reply<Status> {
    state.with(|c| c.sign_in(&operator_id, &password))
}

#[tauri::command]
#[specta::specta]
pub async fn resume_session(state: State<'_, AppState>, password: Secret) -> Reply<Status> {
    state.with(|c| c.resume(&password))
}

#[tauri::command]
#[specta::specta]
pub async fn touch_session(state: State<'_, AppState>) -> Reply<Status> {
    state.with(|c| c.touch())
}

#[tauri::command]
#[specta::specta]
pub async fn lock_session(state: State<'_, AppState>) -> Reply<Status> {
    state.with(|c| c.lock_now())
}

#[tauri::command]
#[specta::specta]
pub async fn sign_out(state: State<'_, AppState>) -> Reply<Status> {
    state.with(|c| c.sign_out())
}

#[tauri::command]
#[specta::specta]
pub async fn set_language(state: State<'_, AppState>, lang: Lang) -> Reply<Status> {
    state.with(|c| c.set_language(lang))
}

#[tauri::command]
#[specta::specta]
pub async fn set_idle_lock_minutes(
    state: State<'_, AppState>,
    minutes: u32,
    confirmation: Secret,
) -> Reply<Status> {
    state.with(|c| c.set_idle_lock_minutes(minutes, &confirmation))
}

#[tauri::command]
#[specta::specta]
pub async fn set_theme(state: State<'_, AppState>, theme: Theme) -> Reply<Status> {
    state.with(|c| c.set_theme(theme))
}

#[tauri::command]
#[specta::specta]
pub async fn recent_events(state: State<'_, AppState>, limit: u32) -> Reply<Vec<EventView>> {
    state.with(|c| c.recent_events(limit))
}
