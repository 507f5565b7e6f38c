//! The `Ledger` service: the API the HTTP app and embedders call.
//!
//! Every operation is one [`UnitOfWork`](crate::ports::UnitOfWork): it reads and locks what it
//! changes, decides with the pure rules of this crate, writes, and commits. A retryable store
//! conflict (deadlock, serialization failure) runs the whole unit again, a bounded number of
//! times; nothing of a failed attempt was applied.

pub(crate) mod admin;
pub mod audit;
mod balance;
pub(crate) mod hold;
mod lifecycle;
pub(crate) mod rules;
mod sweep;

use std::sync::Arc;

use time::OffsetDateTime;

pub use admin::{AllocationResult, NewWallet, RULE_ID_UNSET, WalletPatch};
pub use audit::{AuditReport, Breach};
pub use balance::BalanceView;
pub use hold::{ChargeRequest, RESERVATION_TTL_SECONDS_MAX, ReserveRequest, Settlement};
pub use rules::AUTO_TOPUP_SURFACE;
pub use sweep::{SYSTEM_PRINCIPAL, SweepReport};

use crate::error::{LedgerError, StoreError};
use crate::ports::{Clock, IdSource, LedgerStore};

/// How many times a unit of work runs when the store reports a retryable conflict.
pub const ATTEMPTS_MAX: u32 = 32;

/// Runs `$body` (an expression that awaits one attempt) again while it fails with a retryable
/// store conflict, at most [`ATTEMPTS_MAX`] times.
macro_rules! retry_on_conflict {
    ($body:expr) => {{
        let mut attempt = 0_u32;
        loop {
            attempt += 1;
            match $body {
                Err($crate::error::LedgerError::Store($crate::error::StoreError::Conflict(_)))
                    if attempt < $crate::service::ATTEMPTS_MAX =>
                {
                    continue;
                }
                outcome => break outcome,
            }
        }
    }};
}
pub(crate) use retry_on_conflict;

/// The ledger service over its ports.
#[derive(Debug, Clone)]
pub struct Ledger {
    store: Arc<dyn LedgerStore>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdSource>,
}

impl Ledger {
    /// Builds the service.
    pub fn new(store: Arc<dyn LedgerStore>, clock: Arc<dyn Clock>, ids: Arc<dyn IdSource>) -> Self {
        Self { store, clock, ids }
    }

    /// The store, for reads the service does not wrap.
    pub fn store(&self) -> &Arc<dyn LedgerStore> {
        &self.store
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The id source.
    pub fn ids(&self) -> &Arc<dyn IdSource> {
        &self.ids
    }

    pub(crate) fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    pub(crate) fn new_id<T>(&self, build: fn(&str) -> T) -> T {
        build(&self.ids.next_suffix())
    }
}

/// Maps a missing row to a not-found outcome.
fn found<T>(
    value: Result<Option<T>, StoreError>,
    kind: &'static str,
    id: &dyn std::fmt::Display,
) -> Result<T, LedgerError> {
    value?.ok_or_else(|| LedgerError::not_found(kind, id))
}
