//! # purse-api
//!
//! The `purse` service: the HTTP API of `api.md` over `ledger-core` and the stores, the
//! background worker, and the command line (`serve`, `migrate`, `audit`, `token create`).
//!
//! Only this crate knows HTTP and the environment. [`build`] starts the whole service
//! in-process (the end-to-end tests use it on port 0); [`http::router`] is the bare router the
//! HTTP tests drive with `oneshot`.

pub mod cli;
pub mod clock;
pub mod config;
pub mod http;
pub mod ids;
pub mod payments_config;
pub mod secret_box;
pub mod wiring;
pub mod worker;

use std::net::SocketAddr;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use crate::config::Config;
use crate::wiring::Stores;

/// A running service.
#[derive(Debug)]
pub struct App {
    address: SocketAddr,
    shutdown: watch::Sender<bool>,
    server: JoinHandle<std::io::Result<()>>,
    worker: JoinHandle<()>,
    stores: Stores,
}

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database could not be opened or migrated.
    #[error("database: {0}")]
    Store(#[from] ledger_core::error::StoreError),
    /// The address could not be bound.
    #[error("listen on {address}: {source}")]
    Bind {
        /// The address.
        address: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
}

/// Opens the database (running migrations), binds the listen address and starts serving and
/// the background worker.
///
/// # Errors
/// [`StartError`] when the database or the address is not usable.
pub async fn build(config: Config) -> Result<App, StartError> {
    let stores = wiring::open_stores(&config, true).await?;
    build_on(config, stores).await
}

/// As [`build`], on stores already opened.
///
/// # Errors
/// [`StartError::Bind`].
pub async fn build_on(config: Config, stores: Stores) -> Result<App, StartError> {
    let state = wiring::state(&config, &stores);
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| StartError::Bind {
            address: config.listen,
            source,
        })?;
    let address = listener.local_addr().map_err(|source| StartError::Bind {
        address: config.listen,
        source,
    })?;
    let (shutdown, signal) = watch::channel(false);
    let worker = worker::spawn(state.clone(), config.sweep_interval(), signal.clone());
    let router = http::router(state);
    let mut stop = signal;
    let server = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = stop.wait_for(|stopped| *stopped).await;
            })
            .await
    });
    tracing::info!(%address, "purse is serving");
    Ok(App {
        address,
        shutdown,
        server,
        worker,
        stores,
    })
}

impl App {
    /// The bound address (the real port when the configuration asked for port 0).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// `http://address`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The stores the service runs on.
    pub fn stores(&self) -> &Stores {
        &self.stores
    }

    /// A handle that stops the service from elsewhere.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle(self.shutdown.clone())
    }

    /// Stops accepting connections, lets in-flight requests finish, stops the worker, closes
    /// the database.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        self.wait().await;
    }

    /// Runs until the shutdown handle fires (or the server fails), then cleans up.
    pub async fn wait(self) {
        match self.server.await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::error!(%error, "server failed"),
            Err(error) => tracing::error!(%error, "server task failed"),
        }
        let _ = self.shutdown.send(true);
        if let Err(error) = self.worker.await {
            tracing::error!(%error, "worker task failed");
        }
        if let Some(database) = &self.stores.database {
            database.close().await;
        }
        tracing::info!("purse stopped");
    }
}

/// Stops a running [`App`].
#[derive(Debug, Clone)]
pub struct ShutdownHandle(watch::Sender<bool>);

impl ShutdownHandle {
    /// Asks the service to stop gracefully.
    pub fn shutdown(&self) {
        let _ = self.0.send(true);
    }
}
