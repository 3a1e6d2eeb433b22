//! What only the desktop window needs, free of Tauri so that it is tested without a window: the
//! session (first run, operator sign-in with lockout, idle lock and re-sign-in, language, theme
//! and idle-lock settings), the branch administrator's screens as use cases with their views and
//! labels (`desk`), and the demo branch. The decisions are the engine's (`kagiya-engine`), the
//! storage the branch database's (`kagiya-store`); the desktop shell only presents the results.

mod console;
pub mod demo;
mod demo_branch;
pub mod desk;
pub mod instance;
pub mod sync;
mod view;

pub use console::{Console, ConsoleOptions};
pub use view::{ErrorView, EventView, SessionView, Status, Theme};

pub use kagiya_core::secret::Secret;
pub use kagiya_core::{Error, Lang};
pub use kagiya_engine::{Clock, Engine, FirstSupervisor, FixedClock, SystemClock};
