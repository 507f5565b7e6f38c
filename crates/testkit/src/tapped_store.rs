//! A pass-through `LedgerStore` for tests that watch or break the units of work of a real
//! store: every call goes to the wrapped store, and a [`UnitTap`] made for each unit sees the
//! unit's calls on the way. A tap may refuse a call (a fault the test injects; the wrapped
//! store is not called), note the payment sessions the unit writes, and learn when the unit
//! committed.
//!
//! One wrapper serves every such test, so a new method of the port is delegated once, here.

use std::sync::Arc;

use async_trait::async_trait;
use ledger_core::cost_ticket::CostTicket;
use ledger_core::error::StoreError;
use ledger_core::id::{CostTicketId, OrgId, PaymentSessionId, ReservationId, WalletId};
use ledger_core::journal::{JournalTransaction, WalletLine};
use ledger_core::money::Currency;
use ledger_core::payment_session::PaymentSession;
use ledger_core::ports::{
    AuditSnapshot, CostTicketFilter, DueWork, LedgerStore, Page, UnitOfWork, WalletFilter,
    WalletLineFilter,
};
use ledger_core::reservation::Reservation;
use ledger_core::tenancy::WalletSettings;
use ledger_core::wallet::{Owner, Wallet};
use time::OffsetDateTime;

/// A call of a unit of work, as a tap sees it before it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitCall {
    /// `lock_wallet`.
    LockWallet,
    /// `cascade_wallets`.
    CascadeWallets,
    /// `insert_wallet`.
    InsertWallet,
    /// `update_wallet`.
    UpdateWallet,
    /// `append_journal`.
    AppendJournal,
    /// `lock_reservation`.
    LockReservation,
    /// `held_reservations`.
    HeldReservations,
    /// `insert_reservation`.
    InsertReservation,
    /// `update_reservation`.
    UpdateReservation,
    /// `lock_cost_ticket`.
    LockCostTicket,
    /// `insert_cost_ticket`.
    InsertCostTicket,
    /// `update_cost_ticket`.
    UpdateCostTicket,
    /// `wallet_settings`.
    WalletSettings,
    /// `lock_payment_session`.
    LockPaymentSession,
    /// `insert_payment_session`.
    InsertPaymentSession,
    /// `update_payment_session`.
    UpdatePaymentSession,
    /// `record_provider_event`.
    RecordProviderEvent,
    /// `commit`. A refusal drops the wrapped unit, which rolls it back.
    Commit,
}

/// What a test does with one unit of work. Every method has a default that does nothing.
pub trait UnitTap: Send {
    /// Before `call` runs: an error is the call's answer, and the wrapped store is not called.
    ///
    /// # Errors
    /// The fault the test injects.
    fn before(&mut self, call: UnitCall) -> Result<(), StoreError> {
        let _ = call;
        Ok(())
    }

    /// After the wrapped unit wrote `session` (`inserted` for a new one), not yet committed.
    fn session_written(&mut self, session: &PaymentSession, inserted: bool) {
        let _ = (session, inserted);
    }

    /// After the wrapped unit committed.
    fn committed(self: Box<Self>) {}
}

/// Makes the tap of each unit the store begins.
pub trait Tap: Send + Sync + std::fmt::Debug {
    /// The tap of a unit beginning now.
    fn unit(&self) -> Box<dyn UnitTap>;
}

/// The wrapped store.
#[derive(Debug, Clone)]
pub struct TappedStore {
    inner: Arc<dyn LedgerStore>,
    tap: Arc<dyn Tap>,
}

impl TappedStore {
    /// Wraps `inner`; `tap` makes the tap of every unit.
    pub fn new(inner: Arc<dyn LedgerStore>, tap: Arc<dyn Tap>) -> Self {
        Self { inner, tap }
    }
}

#[async_trait]
impl LedgerStore for TappedStore {
    async fn begin(&self) -> Result<Box<dyn UnitOfWork>, StoreError> {
        let tap = self.tap.unit();
        Ok(Box::new(TappedUnit {
            inner: self.inner.begin().await?,
            tap,
        }))
    }

    async fn wallet(&self, id: &WalletId) -> Result<Option<Wallet>, StoreError> {
        self.inner.wallet(id).await
    }

    async fn list_wallets(&self, filter: &WalletFilter) -> Result<Page<Wallet>, StoreError> {
        self.inner.list_wallets(filter).await
    }

    async fn cascade_wallets(
        &self,
        org_id: &OrgId,
        owners: &[Owner],
        currency: Currency,
    ) -> Result<Vec<Wallet>, StoreError> {
        self.inner.cascade_wallets(org_id, owners, currency).await
    }

    async fn reservation(&self, id: &ReservationId) -> Result<Option<Reservation>, StoreError> {
        self.inner.reservation(id).await
    }

    async fn cost_ticket(&self, id: &CostTicketId) -> Result<Option<CostTicket>, StoreError> {
        self.inner.cost_ticket(id).await
    }

    async fn list_cost_tickets(
        &self,
        filter: &CostTicketFilter,
    ) -> Result<Page<CostTicket>, StoreError> {
        self.inner.list_cost_tickets(filter).await
    }

    async fn wallet_lines(
        &self,
        filter: &WalletLineFilter,
    ) -> Result<Page<WalletLine>, StoreError> {
        self.inner.wallet_lines(filter).await
    }

    async fn due_work(&self, now: OffsetDateTime, limit: u32) -> Result<DueWork, StoreError> {
        self.inner.due_work(now, limit).await
    }

    async fn interval_rule_wallets(
        &self,
        after: Option<WalletId>,
        limit: u32,
    ) -> Result<Vec<Wallet>, StoreError> {
        self.inner.interval_rule_wallets(after, limit).await
    }

    async fn audit_snapshot(&self) -> Result<AuditSnapshot, StoreError> {
        self.inner.audit_snapshot().await
    }
}

/// A unit of the wrapped store with its tap.
struct TappedUnit {
    inner: Box<dyn UnitOfWork>,
    tap: Box<dyn UnitTap>,
}

#[async_trait]
impl UnitOfWork for TappedUnit {
    async fn lock_wallet(&mut self, id: &WalletId) -> Result<Option<Wallet>, StoreError> {
        self.tap.before(UnitCall::LockWallet)?;
        self.inner.lock_wallet(id).await
    }

    async fn cascade_wallets(
        &mut self,
        org_id: &OrgId,
        owners: &[Owner],
        currency: Currency,
    ) -> Result<Vec<Wallet>, StoreError> {
        self.tap.before(UnitCall::CascadeWallets)?;
        self.inner.cascade_wallets(org_id, owners, currency).await
    }

    async fn insert_wallet(&mut self, wallet: &Wallet) -> Result<(), StoreError> {
        self.tap.before(UnitCall::InsertWallet)?;
        self.inner.insert_wallet(wallet).await
    }

    async fn update_wallet(&mut self, wallet: &Wallet) -> Result<(), StoreError> {
        self.tap.before(UnitCall::UpdateWallet)?;
        self.inner.update_wallet(wallet).await
    }

    async fn append_journal(&mut self, transaction: JournalTransaction) -> Result<(), StoreError> {
        self.tap.before(UnitCall::AppendJournal)?;
        self.inner.append_journal(transaction).await
    }

    async fn lock_reservation(
        &mut self,
        id: &ReservationId,
    ) -> Result<Option<Reservation>, StoreError> {
        self.tap.before(UnitCall::LockReservation)?;
        self.inner.lock_reservation(id).await
    }

    async fn held_reservations(
        &mut self,
        wallet_id: &WalletId,
    ) -> Result<Vec<Reservation>, StoreError> {
        self.tap.before(UnitCall::HeldReservations)?;
        self.inner.held_reservations(wallet_id).await
    }

    async fn insert_reservation(&mut self, reservation: &Reservation) -> Result<(), StoreError> {
        self.tap.before(UnitCall::InsertReservation)?;
        self.inner.insert_reservation(reservation).await
    }

    async fn update_reservation(&mut self, reservation: &Reservation) -> Result<(), StoreError> {
        self.tap.before(UnitCall::UpdateReservation)?;
        self.inner.update_reservation(reservation).await
    }

    async fn lock_cost_ticket(
        &mut self,
        id: &CostTicketId,
    ) -> Result<Option<CostTicket>, StoreError> {
        self.tap.before(UnitCall::LockCostTicket)?;
        self.inner.lock_cost_ticket(id).await
    }

    async fn insert_cost_ticket(&mut self, ticket: &CostTicket) -> Result<(), StoreError> {
        self.tap.before(UnitCall::InsertCostTicket)?;
        self.inner.insert_cost_ticket(ticket).await
    }

    async fn update_cost_ticket(&mut self, ticket: &CostTicket) -> Result<(), StoreError> {
        self.tap.before(UnitCall::UpdateCostTicket)?;
        self.inner.update_cost_ticket(ticket).await
    }

    async fn wallet_settings(&mut self, org_id: &OrgId) -> Result<WalletSettings, StoreError> {
        self.tap.before(UnitCall::WalletSettings)?;
        self.inner.wallet_settings(org_id).await
    }

    async fn lock_payment_session(
        &mut self,
        id: &PaymentSessionId,
    ) -> Result<Option<PaymentSession>, StoreError> {
        self.tap.before(UnitCall::LockPaymentSession)?;
        self.inner.lock_payment_session(id).await
    }

    async fn insert_payment_session(&mut self, session: &PaymentSession) -> Result<(), StoreError> {
        self.tap.before(UnitCall::InsertPaymentSession)?;
        self.inner.insert_payment_session(session).await?;
        self.tap.session_written(session, true);
        Ok(())
    }

    async fn update_payment_session(&mut self, session: &PaymentSession) -> Result<(), StoreError> {
        self.tap.before(UnitCall::UpdatePaymentSession)?;
        self.inner.update_payment_session(session).await?;
        self.tap.session_written(session, false);
        Ok(())
    }

    async fn record_provider_event(
        &mut self,
        provider: &str,
        event_id: &str,
    ) -> Result<bool, StoreError> {
        self.tap.before(UnitCall::RecordProviderEvent)?;
        self.inner.record_provider_event(provider, event_id).await
    }

    async fn commit(self: Box<Self>) -> Result<(), StoreError> {
        let Self { inner, mut tap } = *self;
        // A refusal drops `inner` uncommitted: rolled back, as a refused database commit.
        tap.before(UnitCall::Commit)?;
        inner.commit().await?;
        tap.committed();
        Ok(())
    }
}
