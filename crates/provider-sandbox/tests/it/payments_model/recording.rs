//! A pass-through `LedgerStore` that watches every committed write of a payment session, so
//! the property test can check each status move against the graph of `domain.md`, not only
//! the state between two steps. It changes nothing: every call goes to the wrapped store.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use ledger_core::StoreError;
use ledger_core::cost_ticket::CostTicket;
use ledger_core::id::{CostTicketId, OrgId, PaymentSessionId, ReservationId, WalletId};
use ledger_core::journal::{JournalTransaction, WalletLine};
use ledger_core::money::Currency;
use ledger_core::payment_session::{PaymentSession, PaymentStatus};
use ledger_core::ports::{
    AuditSnapshot, CostTicketFilter, DueWork, LedgerStore, Page, UnitOfWork, WalletFilter,
    WalletLineFilter,
};
use ledger_core::reservation::Reservation;
use ledger_core::tenancy::WalletSettings;
use ledger_core::wallet::{Owner, Wallet};
use time::OffsetDateTime;

/// The moves of `domain.md`'s payment-session diagram, plus the two its prose and the
/// `Payments::confirm` contract add: a capture reported after the session expired or failed
/// still credits (`expired|failed → captured`), and a capture the provider refuses as not
/// approved or declined puts the session back to `created` (the buyer may approve again).
fn is_spec_edge(from: PaymentStatus, to: PaymentStatus) -> bool {
    use PaymentStatus::{
        Canceled, Captured, Capturing, Completed, Confirmed, Confirming, Created, Expired, Failed,
        Refunded,
    };
    matches!(
        (from, to),
        (Created, Capturing | Canceled | Expired)
            | (Capturing, Captured | Failed | Created)
            | (Captured, Confirming | Failed)
            | (Confirming, Confirmed)
            | (Confirmed, Completed)
            | (Completed, Refunded)
            | (Expired | Failed, Captured)
    )
}

/// Whether `to` can be reached from `from` along the spec's edges (one committed write may
/// take several moves: crediting goes `captured → confirming → confirmed → completed` in one
/// unit). Staying put is always allowed.
pub(super) fn is_reachable(from: PaymentStatus, to: PaymentStatus) -> bool {
    let mut seen = vec![from];
    let mut frontier = vec![from];
    while let Some(status) = frontier.pop() {
        if status == to {
            return true;
        }
        for next in PaymentStatus::ALL {
            if is_spec_edge(status, next) && !seen.contains(&next) {
                seen.push(next);
                frontier.push(next);
            }
        }
    }
    false
}

/// What the recorder saw: the committed status of each session, and every illegal move.
#[derive(Debug, Default)]
pub(super) struct Transitions {
    committed: HashMap<PaymentSessionId, PaymentStatus>,
    /// Each committed move that the spec's graph does not allow, in words.
    pub(super) illegal: Vec<String>,
    /// How many session writes were committed (a sanity check that the recorder is wired).
    pub(super) writes: u64,
}

impl Transitions {
    fn commit(&mut self, writes: Vec<(PaymentSessionId, PaymentStatus, bool)>) {
        for (id, status, inserted) in writes {
            self.writes += 1;
            match self.committed.get(&id) {
                None if inserted && status != PaymentStatus::Created => self
                    .illegal
                    .push(format!("{id} was inserted as {status}, not created")),
                Some(&from) if !is_reachable(from, status) => {
                    self.illegal.push(format!("{id} moved {from} → {status}"));
                }
                _ => {}
            }
            self.committed.insert(id, status);
        }
    }
}

/// The wrapped store.
#[derive(Debug)]
pub(super) struct RecordingStore {
    inner: Arc<dyn LedgerStore>,
    transitions: Arc<Mutex<Transitions>>,
}

impl RecordingStore {
    pub(super) fn new(inner: Arc<dyn LedgerStore>) -> Self {
        Self {
            inner,
            transitions: Arc::default(),
        }
    }

    pub(super) fn transitions(&self) -> Arc<Mutex<Transitions>> {
        self.transitions.clone()
    }
}

#[async_trait]
impl LedgerStore for RecordingStore {
    async fn begin(&self) -> Result<Box<dyn UnitOfWork>, StoreError> {
        Ok(Box::new(RecordingUnit {
            inner: self.inner.begin().await?,
            writes: Vec::new(),
            transitions: self.transitions.clone(),
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

/// A unit of work of the wrapped store that remembers its session writes until commit.
struct RecordingUnit {
    inner: Box<dyn UnitOfWork>,
    /// `(session, status written, whether it was an insert)`, in write order.
    writes: Vec<(PaymentSessionId, PaymentStatus, bool)>,
    transitions: Arc<Mutex<Transitions>>,
}

#[async_trait]
impl UnitOfWork for RecordingUnit {
    async fn lock_wallet(&mut self, id: &WalletId) -> Result<Option<Wallet>, StoreError> {
        self.inner.lock_wallet(id).await
    }

    async fn cascade_wallets(
        &mut self,
        org_id: &OrgId,
        owners: &[Owner],
        currency: Currency,
    ) -> Result<Vec<Wallet>, StoreError> {
        self.inner.cascade_wallets(org_id, owners, currency).await
    }

    async fn insert_wallet(&mut self, wallet: &Wallet) -> Result<(), StoreError> {
        self.inner.insert_wallet(wallet).await
    }

    async fn update_wallet(&mut self, wallet: &Wallet) -> Result<(), StoreError> {
        self.inner.update_wallet(wallet).await
    }

    async fn append_journal(&mut self, transaction: JournalTransaction) -> Result<(), StoreError> {
        self.inner.append_journal(transaction).await
    }

    async fn lock_reservation(
        &mut self,
        id: &ReservationId,
    ) -> Result<Option<Reservation>, StoreError> {
        self.inner.lock_reservation(id).await
    }

    async fn held_reservations(
        &mut self,
        wallet_id: &WalletId,
    ) -> Result<Vec<Reservation>, StoreError> {
        self.inner.held_reservations(wallet_id).await
    }

    async fn insert_reservation(&mut self, reservation: &Reservation) -> Result<(), StoreError> {
        self.inner.insert_reservation(reservation).await
    }

    async fn update_reservation(&mut self, reservation: &Reservation) -> Result<(), StoreError> {
        self.inner.update_reservation(reservation).await
    }

    async fn lock_cost_ticket(
        &mut self,
        id: &CostTicketId,
    ) -> Result<Option<CostTicket>, StoreError> {
        self.inner.lock_cost_ticket(id).await
    }

    async fn insert_cost_ticket(&mut self, ticket: &CostTicket) -> Result<(), StoreError> {
        self.inner.insert_cost_ticket(ticket).await
    }

    async fn update_cost_ticket(&mut self, ticket: &CostTicket) -> Result<(), StoreError> {
        self.inner.update_cost_ticket(ticket).await
    }

    async fn wallet_settings(&mut self, org_id: &OrgId) -> Result<WalletSettings, StoreError> {
        self.inner.wallet_settings(org_id).await
    }

    async fn lock_payment_session(
        &mut self,
        id: &PaymentSessionId,
    ) -> Result<Option<PaymentSession>, StoreError> {
        self.inner.lock_payment_session(id).await
    }

    async fn insert_payment_session(&mut self, session: &PaymentSession) -> Result<(), StoreError> {
        self.inner.insert_payment_session(session).await?;
        self.writes.push((session.id.clone(), session.status, true));
        Ok(())
    }

    async fn update_payment_session(&mut self, session: &PaymentSession) -> Result<(), StoreError> {
        self.inner.update_payment_session(session).await?;
        self.writes
            .push((session.id.clone(), session.status, false));
        Ok(())
    }

    async fn record_provider_event(
        &mut self,
        provider: &str,
        event_id: &str,
    ) -> Result<bool, StoreError> {
        self.inner.record_provider_event(provider, event_id).await
    }

    async fn commit(self: Box<Self>) -> Result<(), StoreError> {
        let Self {
            inner,
            writes,
            transitions,
        } = *self;
        inner.commit().await?;
        transitions
            .lock()
            .expect("no test code panics while holding the transitions lock")
            .commit(writes);
        Ok(())
    }
}
