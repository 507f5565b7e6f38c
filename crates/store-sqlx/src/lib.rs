//! # store-sqlx
//!
//! The durable adapters of the purse ledger's storage ports, on [sqlx]: PostgreSQL (the
//! production store, several stateless `purse` processes on one database) and SQLite (the
//! embedded default, one file).
//!
//! Both engines implement the three storage ports of `ledger-core` — [`LedgerStore`] with its
//! [`UnitOfWork`], [`DirectoryStore`] and [`IdempotencyStore`] — and pass the same storage
//! contract suite as `store-memory` (`testkit::contract`).
//!
//! - A unit of work is one database transaction. On PostgreSQL it locks the rows it reads with
//!   `SELECT … FOR UPDATE` (READ COMMITTED); on SQLite it is opened with `BEGIN IMMEDIATE`, so
//!   writers queue on the database's write lock instead of failing on upgrade.
//! - Deadlocks, serialization failures, lock timeouts and `SQLITE_BUSY` become
//!   [`StoreError::Conflict`]; the `Ledger` service runs the whole unit again, bounded. Unique
//!   violations become [`StoreError::Duplicate`].
//! - Amounts are `NUMERIC` on PostgreSQL and canonical decimal `TEXT` on SQLite; instants are
//!   integer microseconds since the Unix epoch on both (see `codec`).
//!
//! ```ignore
//! let db = store_sqlx::Database::connect("sqlite://purse.db", &Default::default()).await?;
//! db.migrate().await?;
//! let ledger = ledger_core::Ledger::new(db.ledger_store(), clock, ids);
//! ```
//!
//! [`LedgerStore`]: ledger_core::ports::LedgerStore
//! [`UnitOfWork`]: ledger_core::ports::UnitOfWork
//! [`DirectoryStore`]: ledger_core::ports::DirectoryStore
//! [`IdempotencyStore`]: ledger_core::ports::IdempotencyStore
#![expect(
    clippy::duplicate_mod,
    reason = "src/sql/ is engine-neutral source compiled once per engine (pg/, sqlite/), each \
              against its own `Db`, `Amount` and `FOR_UPDATE`: one text, no generic bounds"
)]

mod codec;
mod error;
mod pg;
mod sqlite;

use std::sync::Arc;

use ledger_core::error::StoreError;
use ledger_core::ports::{DirectoryStore, IdempotencyStore, LedgerStore, PaymentStore};

use crate::pg::PgStore;
use crate::sqlite::SqliteStore;

/// The PostgreSQL migrations (`migrations/postgres`), embedded.
pub static PG_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/postgres");

/// The SQLite migrations (`migrations/sqlite`), embedded.
pub static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/sqlite");

/// Which database engine a [`Database`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// PostgreSQL.
    Postgres,
    /// SQLite.
    Sqlite,
}

/// How a [`Database`] pools its connections. Every field is explicit; nothing relies on sqlx's
/// defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectOptions {
    /// The most connections the pool opens.
    pub max_connections: u32,
    /// How long a caller waits for a free connection before the store reports it unavailable.
    pub acquire_timeout_ms: u64,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            max_connections: 10,
            acquire_timeout_ms: 5_000,
        }
    }
}

/// A connection pool to PostgreSQL or SQLite, and the storage ports on it. Cloning shares the
/// pool.
#[derive(Debug, Clone)]
pub struct Database {
    store: Store,
}

#[derive(Debug, Clone)]
enum Store {
    Postgres(PgStore),
    Sqlite(SqliteStore),
}

impl Database {
    /// Connects to `url`: `postgres://…` (or `postgresql://…`), `sqlite://relative.db` or
    /// `sqlite:///absolute.db`. A SQLite file is created when missing.
    ///
    /// # Errors
    /// `StoreError::Unavailable` when the URL names another engine, is malformed, or the
    /// database cannot be reached.
    pub async fn connect(url: &str, options: &ConnectOptions) -> Result<Database, StoreError> {
        let store = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Store::Postgres(PgStore::connect(url, options).await?)
        } else if url.starts_with("sqlite:") {
            Store::Sqlite(SqliteStore::connect(url, options).await?)
        } else {
            return Err(StoreError::Unavailable(
                format!(
                    "database url must start with postgres:// or sqlite:, got `{}`",
                    redact_url(url)
                )
                .into(),
            ));
        };
        Ok(Database { store })
    }

    /// Applies the engine's pending migrations.
    ///
    /// # Errors
    /// `StoreError::Unavailable` when a migration fails or an applied one was edited.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match &self.store {
            Store::Postgres(store) => store.migrate().await,
            Store::Sqlite(store) => store.migrate().await,
        }
    }

    /// Checks that the database answers (for `/readyz`).
    ///
    /// # Errors
    /// `StoreError::Unavailable` when it does not.
    pub async fn ping(&self) -> Result<(), StoreError> {
        match &self.store {
            Store::Postgres(store) => store.ping().await,
            Store::Sqlite(store) => store.ping().await,
        }
    }

    /// The ledger storage port.
    pub fn ledger_store(&self) -> Arc<dyn LedgerStore> {
        match &self.store {
            Store::Postgres(store) => Arc::new(store.clone()),
            Store::Sqlite(store) => Arc::new(store.clone()),
        }
    }

    /// The directory port (tenancy, tokens, wallet settings).
    pub fn directory(&self) -> Arc<dyn DirectoryStore> {
        match &self.store {
            Store::Postgres(store) => Arc::new(store.clone()),
            Store::Sqlite(store) => Arc::new(store.clone()),
        }
    }

    /// The idempotency-key port.
    pub fn idempotency(&self) -> Arc<dyn IdempotencyStore> {
        match &self.store {
            Store::Postgres(store) => Arc::new(store.clone()),
            Store::Sqlite(store) => Arc::new(store.clone()),
        }
    }

    /// The payment port (session reads, saved payment methods, settings documents); session
    /// writes go through the ledger store's unit of work.
    pub fn payments(&self) -> Arc<dyn PaymentStore> {
        match &self.store {
            Store::Postgres(store) => Arc::new(store.clone()),
            Store::Sqlite(store) => Arc::new(store.clone()),
        }
    }

    /// The engine behind this database.
    pub fn engine(&self) -> Engine {
        match &self.store {
            Store::Postgres(_) => Engine::Postgres,
            Store::Sqlite(_) => Engine::Sqlite,
        }
    }

    /// Closes the pool: waits for checked-out connections to come back, then closes them.
    pub async fn close(&self) {
        match &self.store {
            Store::Postgres(store) => store.close().await,
            Store::Sqlite(store) => store.close().await,
        }
    }
}

/// The URL without its password, for error messages.
fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.find(':') {
                Some(colon) => format!(
                    "{}{}:[REDACTED]{}",
                    &url[..scheme_end + 3],
                    &credentials[..colon],
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migration_folders_list_the_same_names() {
        let names = |migrator: &sqlx::migrate::Migrator| {
            migrator
                .iter()
                .map(|migration| (migration.version, migration.description.to_string()))
                .collect::<Vec<_>>()
        };

        let postgres = names(&PG_MIGRATOR);
        let sqlite = names(&SQLITE_MIGRATOR);

        assert!(!postgres.is_empty());
        assert_eq!(
            postgres, sqlite,
            "migrations/postgres and migrations/sqlite drifted"
        );
    }

    #[test]
    fn redact_url_hides_the_password_only() {
        assert_eq!(
            redact_url("postgres://purse:secret@db:5432/purse"),
            "postgres://purse:[REDACTED]@db:5432/purse"
        );
        assert_eq!(redact_url("sqlite://purse.db"), "sqlite://purse.db");
    }
}
