//! `kagiya-server`: `migrate` brings the schema up to date; `serve` answers HTTP until SIGTERM or
//! Ctrl-C, then finishes the requests in flight (bounded) and stops.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use kagiya_server::config::Config;
use kagiya_server::http::{router, AppState};
use kagiya_server::store::PgPort;
use kagiya_server::{db, demo, import, migrate, tls};

#[derive(Parser)]
#[command(name = "kagiya-server", version, about = "Kagiya's central server")]
struct Args {
    /// The configuration file (TOML); KAGIYA_SERVER_* variables override it.
    #[arg(long, env = "KAGIYA_SERVER_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Brings the database's schema up to date and exits.
    Migrate,
    /// Serves HTTP.
    Serve,
    /// Writes the demo customers (only into a server without customers) and prints how to sign in.
    Demo,
    /// Records the directory events a branch exported (`kagiya audit export-directory FILE`);
    /// a second run of the same file adds nothing.
    Import { file: PathBuf },
    /// Checks every customer's audit chain and that the tables are the fold of the chains; exits
    /// 0 when both hold, 2 when not (and says where).
    Check,
    /// Branch PCs that sync: enrolment codes and revocation.
    #[command(subcommand)]
    Device(DeviceCommand),
    /// The mail outbox: its key, and the mails in a state (the undeliverable ones, `dead` and
    /// `held`, are what operators watch).
    #[command(subcommand)]
    Mail(MailCommand),
}

#[derive(Subcommand)]
enum MailCommand {
    /// Writes a new outbox key to FILE (readable by this user only; never overwritten). Name it
    /// as `outbox_key_file` in `[mail]`.
    NewKey { file: PathBuf },
    /// Lists the mails in STATE (queued, sent, held, dead, expired), newest first, as JSON lines.
    List {
        #[arg(long, default_value = "dead")]
        state: String,
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
    /// Puts a dead or held mail back in the queue (not one whose code or link is gone).
    Retry { id: i64 },
}

#[derive(Subcommand)]
enum DeviceCommand {
    /// Prints a one-time code (15 minutes) that enrols one PC of `branch`; each `--customer`
    /// (contract number) is added to the customers the branch serves.
    Enroll {
        #[arg(long)]
        branch: String,
        #[arg(long = "customer")]
        customers: Vec<String>,
    },
    /// Revokes a device: its pushes and pulls are refused from now on.
    Revoke { device_id: String },
}

/// The error `check` stops with when the log or the tables do not check out (exit code 2).
const CHECK_FAILED: &str = "the check failed";

/// How long requests in flight may take to finish after a stop signal.
const DRAIN: Duration = Duration::from_secs(20);

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the runtime");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "stopped");
            eprintln!("kagiya-server: {e}");
            if e == CHECK_FAILED {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

async fn run(args: Args) -> Result<(), String> {
    // The key is made before any configuration exists (the configuration names it).
    if let Command::Mail(MailCommand::NewKey { file }) = &args.command {
        kagiya_server::mail::seal::OutboxKey::create(file)?;
        eprintln!("outbox key written to {}", file.display());
        return Ok(());
    }
    let config = Config::load(args.config.as_deref(), |k| std::env::var(k).ok())
        .map_err(|e| e.to_string())?;
    let pool = db::pool(&config.database_url, config.pool_size)?;
    match args.command {
        Command::Migrate => {
            let r = migrate::run(&pool).await?;
            tracing::info!(from = r.from, to = r.to, applied = ?r.applied, "schema up to date");
            Ok(())
        }
        Command::Demo => {
            let port = PgPort::new(pool.clone(), tokio::runtime::Handle::current());
            blocking(move || {
                let hasher = kagiya_core::password::PasswordHasher::new(Default::default())
                    .map_err(|e| e.to_string())?;
                let now = kagiya_engine::Clock::now(&kagiya_engine::SystemClock);
                demo::seed(&port, &hasher, now).map_err(|e| e.to_string())
            })
            .await?;
            println!("Demo customers written. Sign in with any of:");
            for (contract_no, name, _, _, users) in demo::COMPANIES {
                let ids: Vec<&str> = users.iter().map(|u| u.0).collect();
                println!("  {contract_no} {name}: {}", ids.join(", "));
            }
            println!(
                "login password {:?} ({:?} for {}), confirmation password {:?}; {} must change \
                 the login password first",
                demo::LOGIN_PASSWORD,
                demo::BIZ_MAIL_LOGIN_PASSWORD,
                demo::COMPANIES[1].0,
                demo::CONFIRMATION_PASSWORD,
                demo::MUST_CHANGE
            );
            Ok(())
        }
        Command::Check => {
            let r = kagiya_server::check::run(&pool).await?;
            println!(
                "{} chains, {} entries; broken chains: {:?}; tables differing from the log: {:?}",
                r.chains, r.entries, r.broken, r.mismatched
            );
            if r.ok() {
                Ok(())
            } else {
                Err(CHECK_FAILED.into())
            }
        }
        Command::Device(DeviceCommand::Enroll { branch, customers }) => {
            let now = kagiya_engine::Clock::now(&kagiya_engine::SystemClock);
            let code = kagiya_server::devices::issue_code(&pool, &branch, &customers, now).await?;
            println!("{code}");
            eprintln!(
                "Enter this code in the branch PC's Settings within 15 minutes; it works once."
            );
            Ok(())
        }
        Command::Device(DeviceCommand::Revoke { device_id }) => {
            let now = kagiya_engine::Clock::now(&kagiya_engine::SystemClock);
            if kagiya_server::devices::revoke(&pool, &device_id, now).await? {
                println!("{device_id} revoked");
                Ok(())
            } else {
                Err(format!("no active device {device_id}"))
            }
        }
        Command::Mail(MailCommand::NewKey { .. }) => Ok(()),
        Command::Mail(MailCommand::List { state, limit }) => {
            for row in kagiya_server::mail::list(&pool, &state, limit).await? {
                println!(
                    "{}",
                    serde_json::to_string(&row).map_err(|e| e.to_string())?
                );
            }
            Ok(())
        }
        Command::Mail(MailCommand::Retry { id }) => {
            let now = kagiya_engine::Clock::now(&kagiya_engine::SystemClock);
            kagiya_server::mail::retry(&pool, id, now).await?;
            println!("mail {id} queued again");
            Ok(())
        }
        Command::Import { file } => {
            let text =
                std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            let port = PgPort::new(pool.clone(), tokio::runtime::Handle::current());
            let r = blocking(move || import::run(&port, &text)).await?;
            println!(
                "{} entries recorded, {} already there",
                r.recorded, r.skipped
            );
            Ok(())
        }
        Command::Serve => {
            if config.migrate_on_start {
                let r = migrate::run(&pool).await?;
                tracing::info!(from = r.from, to = r.to, "schema up to date");
            }
            kagiya_server::store::ensure_typed_id_key(&pool).await?;
            let tls = match (&config.tls_cert, &config.tls_key) {
                (Some(cert), Some(key)) => Some(tls::acceptor(cert, key)?),
                _ => None,
            };
            let listener = tokio::net::TcpListener::bind(config.listen)
                .await
                .map_err(|e| format!("listen on {}: {e}", config.listen))?;
            tracing::info!(listen = %config.listen, tls = tls.is_some(), "serving");
            let state = AppState::new(pool, &config, tokio::runtime::Handle::current())?;
            tokio::spawn(maintenance(state.clone()));
            kagiya_server::mail::start(&state, &config)?;
            let app = router(state);
            match tls {
                Some(acceptor) => {
                    let listener = tls::TlsListener::new(listener, acceptor)
                        .map_err(|e| format!("listen on {}: {e}", config.listen))?;
                    serve_until_stopped(listener, app).await
                }
                None => serve_until_stopped(listener, app).await,
            }
        }
    }
}

/// Serves `app` on `listener` until SIGTERM or Ctrl-C, then lets the requests in flight finish
/// (at most `DRAIN`).
async fn serve_until_stopped<L>(listener: L, app: axum::Router) -> Result<(), String>
where
    L: axum::serve::Listener<Addr = std::net::SocketAddr>,
    tls::Peer: for<'a> axum::extract::connect_info::Connected<axum::serve::IncomingStream<'a, L>>,
{
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let server = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<tls::Peer>(),
    )
    .with_graceful_shutdown(async move {
        let mut rx = stop_rx;
        let _ = rx.wait_for(|s| *s).await;
    });
    let serving = tokio::spawn(async move { server.await });
    stop_signal().await;
    tracing::info!("stop signal: finishing the requests in flight");
    let _ = stop_tx.send(true);
    // An idle keep-alive connection must not hold the stop for ever.
    match tokio::time::timeout(DRAIN, serving).await {
        Ok(Ok(Ok(()))) => Ok(()),
        Ok(Ok(Err(e))) => Err(format!("server: {e}")),
        Ok(Err(e)) => Err(format!("server task: {e}")),
        Err(_) => {
            tracing::warn!("requests still open after the drain time; stopping anyway");
            Ok(())
        }
    }
}

/// Runs `f` on a blocking thread (the engine's port is synchronous).
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| format!("task: {e}"))?
}

/// Now and then: forgets idle throttle keys and deletes sessions that ended a day ago.
async fn maintenance(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    loop {
        tick.tick().await;
        state.throttle.forget_idle();
        let now = state.engine.now();
        if let Err(e) = kagiya_server::sessions::purge(&state.pool, now).await {
            tracing::warn!(error = %e, "old sessions not purged");
        }
    }
}

async fn stop_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
