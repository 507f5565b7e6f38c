use async_trait::async_trait;
use ledger_core::cost_ticket::CostTicket;
use ledger_core::error::StoreError;
use ledger_core::id::{CostTicketId, OrgId, PaymentSessionId, ReservationId, WalletId};
use ledger_core::journal::JournalTransaction;
use ledger_core::money::Currency;
use ledger_core::payment_session::PaymentSession;
use ledger_core::ports::UnitOfWork;
use ledger_core::reservation::{Reservation, ReservationStatus};
use ledger_core::tenancy::WalletSettings;
use ledger_core::wallet::{Owner, Wallet};
use tokio::sync::OwnedMutexGuard;

use crate::state::State;

/// What to put back when a unit is dropped without commit.
#[derive(Debug)]
enum Undo {
    Wallet(WalletId, Option<Wallet>),
    Reservation(ReservationId, Option<Reservation>),
    Ticket(CostTicketId, Option<CostTicket>),
    Session(PaymentSessionId, Option<Box<PaymentSession>>),
    Event((String, String)),
}

/// A unit of work holding the store-wide lock.
#[derive(Debug)]
pub(crate) struct MemoryUnitOfWork {
    state: OwnedMutexGuard<State>,
    undo: Vec<Undo>,
    journal: Vec<JournalTransaction>,
    committed: bool,
}

impl MemoryUnitOfWork {
    pub(crate) fn new(state: OwnedMutexGuard<State>) -> Self {
        Self {
            state,
            undo: Vec::new(),
            journal: Vec::new(),
            committed: false,
        }
    }
}

impl Drop for MemoryUnitOfWork {
    fn drop(&mut self) {
        if self.committed {
            return;
        }
        while let Some(undo) = self.undo.pop() {
            match undo {
                Undo::Wallet(id, previous) => match previous {
                    Some(previous) => {
                        self.state.put_wallet(previous);
                    }
                    None => {
                        self.state.remove_wallet(&id);
                    }
                },
                Undo::Reservation(id, previous) => {
                    restore(&mut self.state.reservations, id, previous)
                }
                Undo::Ticket(id, previous) => restore(&mut self.state.tickets, id, previous),
                Undo::Session(id, previous) => restore(
                    &mut self.state.sessions,
                    id,
                    previous.map(|session| *session),
                ),
                Undo::Event(key) => {
                    self.state.provider_events.remove(&key);
                }
            }
        }
    }
}

trait Map<K, V> {
    fn put(&mut self, key: K, value: V);
    fn remove_key(&mut self, key: &K);
}

impl<K: Ord, V> Map<K, V> for std::collections::BTreeMap<K, V> {
    fn put(&mut self, key: K, value: V) {
        self.insert(key, value);
    }
    fn remove_key(&mut self, key: &K) {
        self.remove(key);
    }
}

impl<K: std::hash::Hash + Eq, V> Map<K, V> for std::collections::HashMap<K, V> {
    fn put(&mut self, key: K, value: V) {
        self.insert(key, value);
    }
    fn remove_key(&mut self, key: &K) {
        self.remove(key);
    }
}

fn restore<K, V>(map: &mut impl Map<K, V>, key: K, previous: Option<V>) {
    match previous {
        Some(value) => map.put(key, value),
        None => map.remove_key(&key),
    }
}

#[async_trait]
impl UnitOfWork for MemoryUnitOfWork {
    async fn lock_wallet(&mut self, id: &WalletId) -> Result<Option<Wallet>, StoreError> {
        Ok(self.state.wallets.get(id).cloned())
    }

    async fn cascade_wallets(
        &mut self,
        org_id: &OrgId,
        owners: &[Owner],
        currency: Currency,
    ) -> Result<Vec<Wallet>, StoreError> {
        Ok(crate::ledger::cascade_wallets(
            &self.state,
            org_id,
            owners,
            currency,
        ))
    }

    async fn insert_wallet(&mut self, wallet: &Wallet) -> Result<(), StoreError> {
        if self.state.wallets.contains_key(&wallet.id) {
            return Err(StoreError::Duplicate(format!("wallet {}", wallet.id)));
        }
        self.undo.push(Undo::Wallet(wallet.id.clone(), None));
        self.state.put_wallet(wallet.clone());
        Ok(())
    }

    async fn update_wallet(&mut self, wallet: &Wallet) -> Result<(), StoreError> {
        let previous = self.state.put_wallet(wallet.clone());
        self.undo.push(Undo::Wallet(wallet.id.clone(), previous));
        Ok(())
    }

    async fn append_journal(&mut self, transaction: &JournalTransaction) -> Result<(), StoreError> {
        let duplicate = self.state.transaction_ids.contains(&transaction.id)
            || self
                .journal
                .iter()
                .any(|pending| pending.id == transaction.id);
        if duplicate {
            return Err(StoreError::Duplicate(format!(
                "transaction {}",
                transaction.id
            )));
        }
        self.journal.push(transaction.clone());
        Ok(())
    }

    async fn lock_reservation(
        &mut self,
        id: &ReservationId,
    ) -> Result<Option<Reservation>, StoreError> {
        Ok(self.state.reservations.get(id).cloned())
    }

    async fn held_reservations(
        &mut self,
        wallet_id: &WalletId,
    ) -> Result<Vec<Reservation>, StoreError> {
        let mut held: Vec<Reservation> = self
            .state
            .reservations
            .values()
            .filter(|reservation| {
                reservation.wallet_id == *wallet_id && reservation.status == ReservationStatus::Held
            })
            .cloned()
            .collect();
        held.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(held)
    }

    async fn insert_reservation(&mut self, reservation: &Reservation) -> Result<(), StoreError> {
        if self.state.reservations.contains_key(&reservation.id) {
            return Err(StoreError::Duplicate(format!(
                "reservation {}",
                reservation.id
            )));
        }
        self.undo
            .push(Undo::Reservation(reservation.id.clone(), None));
        self.state
            .reservations
            .insert(reservation.id.clone(), reservation.clone());
        Ok(())
    }

    async fn update_reservation(&mut self, reservation: &Reservation) -> Result<(), StoreError> {
        let previous = self
            .state
            .reservations
            .insert(reservation.id.clone(), reservation.clone());
        self.undo
            .push(Undo::Reservation(reservation.id.clone(), previous));
        Ok(())
    }

    async fn lock_cost_ticket(
        &mut self,
        id: &CostTicketId,
    ) -> Result<Option<CostTicket>, StoreError> {
        Ok(self.state.tickets.get(id).cloned())
    }

    async fn insert_cost_ticket(&mut self, ticket: &CostTicket) -> Result<(), StoreError> {
        if self.state.tickets.contains_key(&ticket.id) {
            return Err(StoreError::Duplicate(format!("cost ticket {}", ticket.id)));
        }
        self.undo.push(Undo::Ticket(ticket.id.clone(), None));
        self.state.tickets.insert(ticket.id.clone(), ticket.clone());
        Ok(())
    }

    async fn update_cost_ticket(&mut self, ticket: &CostTicket) -> Result<(), StoreError> {
        let previous = self.state.tickets.insert(ticket.id.clone(), ticket.clone());
        self.undo.push(Undo::Ticket(ticket.id.clone(), previous));
        Ok(())
    }

    async fn wallet_settings(&mut self, org_id: &OrgId) -> Result<WalletSettings, StoreError> {
        Ok(self.state.settings.get(org_id).cloned().unwrap_or_default())
    }

    async fn lock_payment_session(
        &mut self,
        id: &PaymentSessionId,
    ) -> Result<Option<PaymentSession>, StoreError> {
        Ok(self.state.sessions.get(id).cloned())
    }

    async fn insert_payment_session(&mut self, session: &PaymentSession) -> Result<(), StoreError> {
        if self.state.sessions.contains_key(&session.id) {
            return Err(StoreError::Duplicate(format!(
                "payment session {}",
                session.id
            )));
        }
        self.undo.push(Undo::Session(session.id.clone(), None));
        self.state
            .sessions
            .insert(session.id.clone(), session.clone());
        Ok(())
    }

    async fn update_payment_session(&mut self, session: &PaymentSession) -> Result<(), StoreError> {
        let previous = self
            .state
            .sessions
            .insert(session.id.clone(), session.clone());
        self.undo
            .push(Undo::Session(session.id.clone(), previous.map(Box::new)));
        Ok(())
    }

    async fn record_provider_event(
        &mut self,
        provider: &str,
        event_id: &str,
    ) -> Result<bool, StoreError> {
        let key = (provider.to_owned(), event_id.to_owned());
        if !self.state.provider_events.insert(key.clone()) {
            return Ok(false);
        }
        self.undo.push(Undo::Event(key));
        Ok(true)
    }

    async fn commit(mut self: Box<Self>) -> Result<(), StoreError> {
        let journal = std::mem::take(&mut self.journal);
        for transaction in journal {
            self.state.apply_journal(transaction);
        }
        self.committed = true;
        Ok(())
    }
}
