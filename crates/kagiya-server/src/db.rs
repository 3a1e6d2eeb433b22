//! The connection pool. Handlers borrow a client for a statement or a transaction; the engine's
//! synchronous storage port (a later part) drives one from a blocking thread.

use std::str::FromStr;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::NoTls;

/// A pool of at most `size` connections to `url`. Nothing connects until the first use.
pub fn pool(url: &str, size: usize) -> Result<Pool, String> {
    let mut pg = tokio_postgres::Config::from_str(url).map_err(|e| format!("database_url: {e}"))?;
    // No statement waits on a lock for more than 5 s (ours: a customer's writers hold its chain
    // head for milliseconds; a wait that long means something is stuck, and the request should
    // fail visibly rather than hold a worker for ever).
    let options = format!("{} -c lock_timeout=5s", pg.get_options().unwrap_or(""))
        .trim()
        .to_owned();
    pg.options(&options);
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
        // A request waits at most 5 s for a connection, and a new connection 5 s to open (ours:
        // then the database is down or saturated, and the answer is 503, not a hang).
        .wait_timeout(Some(std::time::Duration::from_secs(5)))
        .create_timeout(Some(std::time::Duration::from_secs(5)))
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

/// A transaction on a pooled connection.
pub type Tx<'a> = deadpool_postgres::Transaction<'a>;

type Params<'a> = &'a [&'a (dyn tokio_postgres::types::ToSql + Sync)];

// The hot path's statements are prepared once per connection and kept (deadpool's statement
// cache): a statement then costs one round trip, not a parse and plan first.

/// The rows of `sql`.
pub async fn query(
    tx: &Tx<'_>,
    sql: &str,
    params: Params<'_>,
) -> Result<Vec<tokio_postgres::Row>, tokio_postgres::Error> {
    let st = tx.prepare_cached(sql).await?;
    tx.query(&st, params).await
}

/// The row of `sql`, if any.
pub async fn query_opt(
    tx: &Tx<'_>,
    sql: &str,
    params: Params<'_>,
) -> Result<Option<tokio_postgres::Row>, tokio_postgres::Error> {
    let st = tx.prepare_cached(sql).await?;
    tx.query_opt(&st, params).await
}

/// The one row of `sql`.
pub async fn query_one(
    tx: &Tx<'_>,
    sql: &str,
    params: Params<'_>,
) -> Result<tokio_postgres::Row, tokio_postgres::Error> {
    let st = tx.prepare_cached(sql).await?;
    tx.query_one(&st, params).await
}

/// Runs `sql`; the rows it touched.
pub async fn execute(
    tx: &Tx<'_>,
    sql: &str,
    params: Params<'_>,
) -> Result<u64, tokio_postgres::Error> {
    let st = tx.prepare_cached(sql).await?;
    tx.execute(&st, params).await
}
