//! The payments service: checkout sessions at a provider that top up wallets.
//!
//! Every status move is a compare-and-set: the session is locked inside a unit of work, its
//! status checked against the graph of [`PaymentStatus`](crate::payment_session::PaymentStatus),
//! and written back. Provider calls happen between units, never while holding a lock. Crediting
//! the wallet and moving the session to `completed` is one unit, so a session credits its
//! wallet at most once; a capture the provider reports late (after expiry or failure) still
//! credits, because money taken is never lost.

pub mod audit;
mod auto_topup;
mod checkout;
mod confirm;
mod credit;
mod events;
mod reconcile;
mod refund;

use std::sync::Arc;

pub use checkout::{SESSION_TTL_SECONDS_DEFAULT, StartCheckout};
pub use confirm::ConfirmOutcome;
pub use reconcile::{PaymentSweepReport, STUCK_AFTER_SECONDS};
pub use refund::RefundResult;

use crate::Ledger;
use crate::error::LedgerError;
use crate::ports::{PaymentProvider, PaymentStore};

/// Finds the adapter of a provider by its wire name (`paypal`, `revolut_pro`, `sandbox`).
pub trait ProviderResolver: Send + Sync + std::fmt::Debug {
    /// The provider, or `None` when it is not configured.
    fn provider(&self, name: &str) -> Option<Arc<dyn PaymentProvider>>;
}

/// The payments service.
#[derive(Debug, Clone)]
pub struct Payments {
    ledger: Ledger,
    store: Arc<dyn PaymentStore>,
    providers: Arc<dyn ProviderResolver>,
}

impl Payments {
    /// Builds the service over the ledger, the payment store and the providers.
    pub fn new(
        ledger: Ledger,
        store: Arc<dyn PaymentStore>,
        providers: Arc<dyn ProviderResolver>,
    ) -> Self {
        Self {
            ledger,
            store,
            providers,
        }
    }

    /// The payment store.
    pub fn store(&self) -> &Arc<dyn PaymentStore> {
        &self.store
    }

    /// The ledger.
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    fn provider(&self, name: &str) -> Result<Arc<dyn PaymentProvider>, LedgerError> {
        self.providers.provider(name).ok_or_else(|| {
            LedgerError::conflict(
                "no_payment_provider",
                format!("payment provider {name} is not configured"),
            )
        })
    }
}
