//! `ringback serve`, and `demo`'s serving: the runtime, the listener, the signals that stop it.

use std::io::Write;

use clap::Args;

use super::error::{CommandError, fail};
use crate::app::App;
use crate::config::Config;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port; overrides server.listen.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
}

/// Text printed once the server's address is known (the demo's token and curl commands), from
/// its scheme and address.
pub type Banner = Box<dyn FnOnce(&str, std::net::SocketAddr) -> String>;

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

/// The runtime's threads: one core fewer than the machine has, for the database writer keeps a
/// core busy on its own under load. With as many workers as cores, a report's steps were handed
/// between three busy threads on two cores, and the switches cost more than a worker gives.
/// `TOKIO_WORKER_THREADS` overrides it.
fn worker_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).max(1))
}

/// Serves until Ctrl-C or SIGTERM. `banner`, when given, is printed once the port is known.
pub fn serve(config: Config, banner: Option<Banner>) -> Result<(), CommandError> {
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if std::env::var_os("TOKIO_WORKER_THREADS").is_none() {
        runtime.worker_threads(worker_threads());
    }
    let runtime = runtime
        .enable_all()
        .build()
        .map_err(|e| fail(format!("cannot start the runtime: {e}")))?;
    runtime.block_on(async move {
        let app = App::build(config).await.map_err(|e| fail(e.to_string()))?;
        let addr = app.local_addr()?;
        let started = app.started().clone();
        let scheme = if started.tls { "https" } else { "http" };
        let base_url = format!("{scheme}://{addr}");
        if let Some(banner) = banner {
            // For a person to read: a stdout closed early (`ringback demo | head -n 3`) must not
            // stop the server, as `println!` would.
            let _ = writeln!(std::io::stdout(), "{}", banner(scheme, addr));
        }
        tracing::info!(
            version = env!("CARGO_PKG_VERSION"),
            database = %started.database,
            listen = %base_url,
            transport = started.transport.as_str(),
            restaurants_enabled = started.restaurants_enabled,
            webhooks = started.webhooks,
            replication = started.replication.as_str(),
            key_file = %started.key_file,
            "ringback started, listening on {base_url}"
        );
        app.run_until_stopped(shutdown_signal()).await?;
        tracing::info!("stopped");
        Ok(())
    })
}
