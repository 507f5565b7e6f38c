//! Wiring: the database URL picks the stores; the configuration picks the clock.

use std::sync::Arc;

use async_trait::async_trait;
use ledger_core::Ledger;
use ledger_core::error::StoreError;
use ledger_core::payments::Payments;
use ledger_core::ports::{
    Clock, DirectoryStore, IdSource, IdempotencyStore, LedgerStore, PaymentStore,
};
use provider_sandbox::SandboxProvider;
use store_memory::MemoryStore;

use crate::clock::{SystemClock, TestClock};
use crate::config::Config;
use crate::http::auth::hash_token;
use crate::http::idempotency::KEY_RETENTION;
use crate::http::{AppState, AppStateInner};
use crate::ids::RandomIds;
use crate::payments_config::{BaseUrls, ProviderRegistry};
use crate::secret_box::SecretBox;

/// What `/readyz` asks: is the database reachable.
#[async_trait]
pub trait Readiness: Send + Sync + std::fmt::Debug {
    /// `Ok` when the database answers.
    ///
    /// # Errors
    /// The store's error when it does not.
    async fn ping(&self) -> Result<(), StoreError>;
}

/// The memory store is always ready.
#[derive(Debug, Clone, Copy, Default)]
pub struct AlwaysReady;

#[async_trait]
impl Readiness for AlwaysReady {
    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

#[async_trait]
impl Readiness for store_sqlx::Database {
    async fn ping(&self) -> Result<(), StoreError> {
        store_sqlx::Database::ping(self).await
    }
}

/// The three stores and their readiness check.
#[derive(Debug, Clone)]
pub struct Stores {
    /// The ledger.
    pub ledger: Arc<dyn LedgerStore>,
    /// The directory.
    pub directory: Arc<dyn DirectoryStore>,
    /// Idempotency keys.
    pub idempotency: Arc<dyn IdempotencyStore>,
    /// Payment sessions, saved methods, settings documents.
    pub payments: Arc<dyn PaymentStore>,
    /// `/readyz`.
    pub readiness: Arc<dyn Readiness>,
    /// The SQL database, when there is one (closed on shutdown).
    pub database: Option<store_sqlx::Database>,
}

impl Stores {
    /// All three ports on one memory store (tests and `memory://`).
    pub fn memory(store: MemoryStore) -> Self {
        let store = Arc::new(store);
        Self {
            ledger: store.clone(),
            directory: store.clone(),
            idempotency: store.clone(),
            payments: store,
            readiness: Arc::new(AlwaysReady),
            database: None,
        }
    }
}

/// Opens the stores of a database URL: `sqlite://…` and `postgres://…` through store-sqlx,
/// `memory://` for a throwaway in-process store. Runs migrations when `migrate` is set.
///
/// # Errors
/// The store's error when the database cannot be opened or migrated.
pub async fn open_stores(config: &Config, migrate: bool) -> Result<Stores, StoreError> {
    if config.database_url.starts_with("memory:") {
        return Ok(Stores::memory(MemoryStore::new()));
    }
    let options = store_sqlx::ConnectOptions {
        max_connections: config.database_pool_size.max(1),
        ..store_sqlx::ConnectOptions::default()
    };
    let database = store_sqlx::Database::connect(&config.database_url, &options).await?;
    if migrate {
        database.migrate().await?;
    }
    Ok(Stores {
        ledger: database.ledger_store(),
        directory: database.directory(),
        idempotency: database.idempotency(),
        payments: database.payments(),
        readiness: Arc::new(database.clone()),
        database: Some(database),
    })
}

/// The clock: the test clock with `PURSE_TEST_CLOCK=1`, else the system clock.
pub fn clock(config: &Config) -> (Arc<dyn Clock>, Option<Arc<TestClock>>) {
    if config.test_clock {
        tracing::warn!("PURSE_TEST_CLOCK is set: the clock can be moved by platform admins");
        let clock = Arc::new(TestClock::default());
        (clock.clone(), Some(clock))
    } else {
        (Arc::new(SystemClock), None)
    }
}

/// The application state over opened stores.
pub fn state(config: &Config, stores: &Stores) -> AppState {
    let (clock, test_clock) = clock(config);
    let ids: Arc<dyn IdSource> = Arc::new(RandomIds);
    let ledger = Ledger::new(stores.ledger.clone(), clock, ids.clone());
    let providers = Arc::new(provider_registry(config, stores, ids));
    let payments = Payments::new(ledger.clone(), stores.payments.clone(), providers.clone());
    let request_timeout = config.request_timeout();
    let stale_after_ms = i64::try_from(request_timeout.as_millis())
        .unwrap_or(i64::MAX / 4)
        .saturating_mul(2)
        .max(60_000);
    AppState::new(AppStateInner {
        ledger,
        directory: stores.directory.clone(),
        idempotency: stores.idempotency.clone(),
        payments,
        payment_store: stores.payments.clone(),
        providers,
        readiness: stores.readiness.clone(),
        bootstrap_token_hash: config
            .bootstrap_token
            .as_ref()
            .map(|secret| hash_token(secret.expose())),
        test_clock,
        body_limit_bytes: config.body_limit_bytes,
        idempotency_stale_after: time::Duration::milliseconds(stale_after_ms).min(KEY_RETENTION),
        request_timeout,
        sweeps: tokio::sync::Mutex::new(()),
    })
}

/// The provider registry: the built-in sandbox (approval pages under `PURSE_PUBLIC_URL`), the
/// master key, and the base-URL overrides.
fn provider_registry(config: &Config, stores: &Stores, ids: Arc<dyn IdSource>) -> ProviderRegistry {
    let sandbox = Arc::new(SandboxProvider::new(
        stores.payments.clone(),
        ids,
        &config.public_url(),
    ));
    let secret_box = config
        .master_key
        .as_ref()
        .and_then(|key| match SecretBox::from_base64(key.expose()) {
            Ok(secret_box) => Some(secret_box),
            Err(error) => {
                tracing::error!(%error, "PURSE_MASTER_KEY is unusable; provider secrets cannot be stored or read");
                None
            }
        });
    ProviderRegistry::new(
        stores.payments.clone(),
        secret_box,
        sandbox,
        BaseUrls {
            paypal: config.paypal_base_url.clone(),
            revolut: config.revolut_base_url.clone(),
        },
        &config.public_url(),
    )
}
