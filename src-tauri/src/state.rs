//! The console held by the app, or the reason it could not be opened (shown in the window instead
//! of crashing, e.g. for a damaged or unreadable database file).

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use kagiya_core::ErrorKind;
use kagiya_desk::{Console, ConsoleOptions, Error, ErrorView, Lang};

use crate::options::LaunchOptions;

/// The folder exports are written to, chosen at launch.
pub struct ExportDir(pub std::path::PathBuf);

pub enum AppState {
    /// The console, and the claim on the data folder that keeps a second window out.
    Ready {
        console: Box<Mutex<Console>>,
        _claim: kagiya_desk::instance::InstanceLock,
    },
    Failed(ErrorView),
}

impl AppState {
    pub fn open(db_path: &Path, opts: &LaunchOptions) -> AppState {
        let locale = sys_locale::get_locale();
        let lang = locale.as_deref().map(Lang::from_locale).unwrap_or(Lang::En);
        let mut o = ConsoleOptions::new(db_path.to_path_buf());
        o.os_locale = locale;
        o.idle_lock_seconds_override = opts.idle_lock_seconds;
        // One window per data folder (issue 12): a second one shows why it cannot open.
        let claim = match kagiya_desk::instance::claim(db_path) {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(db = %db_path.display(), error = %e, "the data folder is open in another window");
                return AppState::Failed(ErrorView::new(&e, lang));
            }
        };
        let opened = Console::open(o).and_then(|mut c| {
            if opts.demo && c.seed_demo()? {
                tracing::info!("filled the empty database with demo data");
            }
            Ok(c)
        });
        match opened {
            Ok(c) => {
                tracing::info!(db = %db_path.display(), "console opened");
                AppState::Ready {
                    console: Box::new(Mutex::new(c)),
                    _claim: claim,
                }
            }
            Err(e) => {
                tracing::error!(db = %db_path.display(), error = %e, "could not open the console");
                AppState::Failed(ErrorView::new(&e, lang))
            }
        }
    }

    /// Runs `f` on the console, turning every error into `{code, message}` in the UI language.
    pub fn with<T>(
        &self,
        f: impl FnOnce(&mut Console) -> Result<T, Error>,
    ) -> Result<T, ErrorView> {
        match self {
            AppState::Failed(e) => Err(e.clone()),
            AppState::Ready { console: m, .. } => {
                let mut c: MutexGuard<'_, Console> = m.lock().unwrap_or_else(|p| p.into_inner());
                f(&mut c).map_err(|e| {
                    if matches!(e.kind(), ErrorKind::Internal | ErrorKind::Unavailable) {
                        tracing::error!(error = %e, "command failed");
                    }
                    ErrorView::new(&e, c.lang())
                })
            }
        }
    }
}
