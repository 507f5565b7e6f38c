//! # store-memory
//!
//! An in-memory adapter of the purse ledger's storage ports ([`LedgerStore`] with its unit of
//! work, [`DirectoryStore`], [`IdempotencyStore`]), safe under concurrent tasks. For tests and
//! for embedders who want no database; nothing survives the process.
//!
//! A unit of work holds one store-wide async lock from `begin` to `commit` (or drop), so units
//! are serializable; writes to wallets, reservations and tickets apply in place with an undo
//! log that a dropped unit replays, and journal transactions apply at commit.
//!
//! ```ignore
//! let store = std::sync::Arc::new(store_memory::MemoryStore::default());
//! let ledger = ledger_core::Ledger::new(store, clock, ids);
//! ```
//!
//! [`LedgerStore`]: ledger_core::ports::LedgerStore
//! [`DirectoryStore`]: ledger_core::ports::DirectoryStore
//! [`IdempotencyStore`]: ledger_core::ports::IdempotencyStore

mod directory;
mod idempotency;
mod ledger;
mod payments;
mod state;
mod tenancy_audit;
mod unit_of_work;

use std::sync::Arc;

use tokio::sync::Mutex;

use crate::state::State;

/// The in-memory store. Cloning shares the same data.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    state: Arc<Mutex<State>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}
