//! The console's use cases — first run, sign-in with lockout, idle lock and re-sign-in, language
//! and idle-lock settings, the recent audit entries — over the store, free of Tauri so that they
//! are tested without a window. The desktop shell calls these and only presents the results.

mod auth;
mod clock;
mod console;
pub mod demo;
mod demo_branch;
pub mod desk;
pub mod engine;
mod view;

pub use clock::{Clock, FixedClock, SystemClock};
pub use console::{Console, ConsoleOptions, FirstSupervisor};
pub use engine::{Engine, EngineOptions};
pub use view::{ErrorView, EventView, SessionView, Status};

pub use kagiya_core::secret::Secret;
pub use kagiya_core::{Error, Lang};
