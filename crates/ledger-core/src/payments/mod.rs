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
mod revoked_method;

use std::sync::Arc;

pub use checkout::{SESSION_TTL_SECONDS_DEFAULT, StartCheckout};
pub use confirm::ConfirmOutcome;
pub use reconcile::{PaymentSweepReport, STUCK_AFTER_SECONDS};
pub use refund::RefundResult;

use time::OffsetDateTime;

use crate::Ledger;
use crate::error::LedgerError;
use crate::id::PaymentSessionId;
use crate::payment_session::PaymentSession;
use crate::ports::{PaymentProvider, PaymentStore};

/// Finds the adapter of a provider by its wire name (`paypal`, `revolut_pro`, `sandbox`).
pub trait ProviderResolver: Send + Sync + std::fmt::Debug {
    /// The provider, or `None` when it is not configured.
    fn provider(&self, name: &str) -> Option<Arc<dyn PaymentProvider>>;

    /// Whether the provider may start new payments: merchant-initiated charges of saved
    /// methods (and, in the HTTP app, checkouts). A provider an operator switched off takes
    /// no new money, while sessions already started through it still finish through
    /// [`ProviderResolver::provider`]. Every configured provider, by default.
    fn takes_new_payments(&self, name: &str) -> bool {
        self.provider(name).is_some()
    }
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

    /// Locks a session in a unit of its own and lets `change` edit it; writes and commits when
    /// `change` answers `true` (the compare-and-set of the state machine: `change` checks the
    /// stored status). Answers the session as it stands after, and whether it changed. The unit
    /// reruns on a storage conflict, so `change` must only depend on the session it is given.
    pub(super) async fn update_session(
        &self,
        id: &PaymentSessionId,
        change: impl Fn(&mut PaymentSession, OffsetDateTime) -> Result<bool, LedgerError>,
    ) -> Result<(PaymentSession, bool), LedgerError> {
        let now = self.ledger.now();
        crate::service::retry_on_conflict!(
            async {
                let mut uow = self.ledger.store().begin().await?;
                let mut session = uow
                    .lock_payment_session(id)
                    .await?
                    .ok_or_else(|| LedgerError::not_found("payment_session", id))?;
                if !change(&mut session, now)? {
                    return Ok((session, false));
                }
                uow.update_payment_session(&session).await?;
                uow.commit().await?;
                Ok((session, true))
            }
            .await
        )
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

/// Locks a session's wallet, then the session: the port's lock order, for the units that move
/// credits for a session.
async fn lock_wallet_and_session(
    uow: &mut dyn crate::ports::UnitOfWork,
    wallet_id: &crate::id::WalletId,
    session_id: &PaymentSessionId,
) -> Result<(crate::wallet::Wallet, PaymentSession), LedgerError> {
    let wallet = uow
        .lock_wallet(wallet_id)
        .await?
        .ok_or_else(|| LedgerError::not_found("wallet", wallet_id))?;
    let session = uow
        .lock_payment_session(session_id)
        .await?
        .ok_or_else(|| LedgerError::not_found("payment_session", session_id))?;
    Ok((wallet, session))
}
