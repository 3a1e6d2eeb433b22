//! The connection pool. Handlers borrow a client for a statement or a transaction; the engine's
//! synchronous storage port (a later part) drives one from a blocking thread.

use std::str::FromStr;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::NoTls;

/// A pool of at most `size` connections to `url`. Nothing connects until the first use.
pub fn pool(url: &str, size: usize) -> Result<Pool, String> {
    let pg = tokio_postgres::Config::from_str(url).map_err(|e| format!("database_url: {e}"))?;
    // Fast recycling: a connection that broke is found at its next use and replaced then.
    let manager = Manager::from_config(
        pg,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(size)
        .runtime(deadpool_postgres::Runtime::Tokio1)
        .build()
        .map_err(|e| format!("database pool: {e}"))
}

/// What went wrong, for an error message: tokio-postgres's own text is only "db error", the
/// server's message says what.
pub fn message(e: tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(d) => format!("database: {}", d.message()),
        None => format!("database: {e}"),
    }
}
