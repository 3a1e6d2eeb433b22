//! `kagiya-server`: `migrate` brings the schema up to date; `serve` answers HTTP until SIGTERM or
//! Ctrl-C, then finishes the requests in flight (bounded) and stops.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use kagiya_server::config::Config;
use kagiya_server::http::{router, AppState};
use kagiya_server::{db, migrate};

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
}

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
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), String> {
    let config = Config::load(args.config.as_deref(), |k| std::env::var(k).ok())
        .map_err(|e| e.to_string())?;
    let pool = db::pool(&config.database_url, config.pool_size)?;
    match args.command {
        Command::Migrate => {
            let r = migrate::run(&pool).await?;
            tracing::info!(from = r.from, to = r.to, applied = ?r.applied, "schema up to date");
            Ok(())
        }
        Command::Serve => {
            if config.migrate_on_start {
                let r = migrate::run(&pool).await?;
                tracing::info!(from = r.from, to = r.to, "schema up to date");
            }
            let listener = tokio::net::TcpListener::bind(config.listen)
                .await
                .map_err(|e| format!("listen on {}: {e}", config.listen))?;
            tracing::info!(listen = %config.listen, "serving");
            let app = router(AppState::new(pool));
            let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
            let server = axum::serve(
                listener,
                app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
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
