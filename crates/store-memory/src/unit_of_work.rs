use std::collections::hash_map::Entry;

use async_trait::async_trait;
use ledger_core::cost_ticket::CostTicket;
use ledger_core::error::StoreError;
use ledger_core::id::{
    CostTicketId, OrgId, PaymentSessionId, ReservationId, TransactionId, WalletId,
};
use ledger_core::journal::{JournalTransaction, Posting, WalletLine};
use ledger_core::money::Currency;
use ledger_core::payment_session::PaymentSession;
use ledger_core::ports::UnitOfWork;
use ledger_core::reservation::{Reservation, ReservationStatus};
use ledger_core::tenancy::WalletSettings;
use ledger_core::wallet::{Owner, Wallet};
use rust_decimal::Decimal;
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

/// What a unit keeps of its journal transactions until commit: only what the store keeps of
/// them (postings for the account sums, history lines), not the transactions' own strings.
#[derive(Debug, Default)]
struct PendingJournal {
    /// Each transaction's id and organization, the sum of its postings, and how many of
    /// `postings` are its.
    transactions: Vec<(TransactionId, OrgId, Decimal, usize)>,
    postings: Vec<Posting>,
    lines: Vec<WalletLine>,
}

impl PendingJournal {
    fn clear(&mut self) {
        self.transactions.clear();
        self.postings.clear();
        self.lines.clear();
    }

    fn capacity(&self) -> usize {
        self.transactions
            .capacity()
            .max(self.postings.capacity())
            .max(self.lines.capacity())
    }
}

/// A unit's buffers, empty, kept in the store between units so that a unit allocates none of
/// them (every reserve and settle needed five).
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    undo: Vec<Undo>,
    journal: PendingJournal,
}

impl Scratch {
    /// The largest buffer kept for the next unit, in items: a rare large unit (a sweep, a
    /// termination with many holds) does not pin its memory.
    const CAPACITY_KEPT_MAX: usize = 64;
}

/// A unit of work holding the store-wide lock.
#[derive(Debug)]
pub(crate) struct MemoryUnitOfWork {
    state: OwnedMutexGuard<State>,
    undo: Vec<Undo>,
    journal: PendingJournal,
    committed: bool,
}

impl MemoryUnitOfWork {
    pub(crate) fn new(mut state: OwnedMutexGuard<State>) -> Self {
        let Scratch { undo, journal } = std::mem::take(&mut state.scratch);
        debug_assert!(
            undo.is_empty() && journal.transactions.is_empty(),
            "a unit's buffers are handed back empty"
        );
        Self {
            state,
            undo,
            journal,
            committed: false,
        }
    }
}

impl Drop for MemoryUnitOfWork {
    fn drop(&mut self) {
        if !self.committed {
            self.roll_back();
        }
        self.undo.clear();
        self.journal.clear();
        if self.undo.capacity() <= Scratch::CAPACITY_KEPT_MAX
            && self.journal.capacity() <= Scratch::CAPACITY_KEPT_MAX
        {
            self.state.scratch = Scratch {
                undo: std::mem::take(&mut self.undo),
                journal: std::mem::take(&mut self.journal),
            };
        }
    }
}

impl MemoryUnitOfWork {
    /// Puts back everything the unit changed, newest change first.
    fn roll_back(&mut self) {
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

impl MemoryUnitOfWork {
    /// One provider order belongs to one payment session (as the SQL stores' unique index
    /// `payment_session_order_key`): another session naming the same order is a duplicate.
    fn check_order_free(&self, session: &PaymentSession) -> Result<(), StoreError> {
        let Some(order_id) = session.provider_order_id.as_deref() else {
            return Ok(());
        };
        let taken = self.state.sessions.values().any(|other| {
            other.id != session.id
                && other.provider == session.provider
                && other.provider_order_id.as_deref() == Some(order_id)
        });
        if taken {
            return Err(StoreError::Duplicate(format!(
                "{} order {order_id} already belongs to a payment session",
                session.provider
            )));
        }
        Ok(())
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

impl<K: std::hash::Hash + Eq, V, S: std::hash::BuildHasher> Map<K, V>
    for std::collections::HashMap<K, V, S>
{
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

    async fn append_journal(&mut self, transaction: JournalTransaction) -> Result<(), StoreError> {
        let duplicate = self.state.transaction_orgs.contains_key(&transaction.id)
            || self
                .journal
                .transactions
                .iter()
                .any(|(pending, _, _, _)| *pending == transaction.id);
        if duplicate {
            return Err(StoreError::Duplicate(format!(
                "transaction {}",
                transaction.id
            )));
        }
        let sum = transaction
            .postings
            .iter()
            .map(|posting| posting.amount)
            .sum();
        let JournalTransaction {
            id,
            org_id,
            postings,
            wallet_lines,
            ..
        } = transaction;
        self.journal
            .transactions
            .push((id, org_id, sum, postings.len()));
        self.journal.postings.extend(postings);
        self.journal.lines.extend(wallet_lines);
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
        match self.state.reservations.entry(reservation.id.clone()) {
            Entry::Occupied(_) => {
                return Err(StoreError::Duplicate(format!(
                    "reservation {}",
                    reservation.id
                )));
            }
            Entry::Vacant(slot) => {
                slot.insert(reservation.clone());
            }
        }
        self.undo
            .push(Undo::Reservation(reservation.id.clone(), None));
        Ok(())
    }

    async fn update_reservation(&mut self, reservation: &Reservation) -> Result<(), StoreError> {
        // In place when stored (the common case): no key clone, one lookup.
        let previous = match self.state.reservations.get_mut(&reservation.id) {
            Some(stored) => Some(std::mem::replace(stored, reservation.clone())),
            None => self
                .state
                .reservations
                .insert(reservation.id.clone(), reservation.clone()),
        };
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
        self.check_order_free(session)?;
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
        self.check_order_free(session)?;
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
        // Drained, not consumed: the emptied buffers go back to the store for the next unit.
        let Self { state, journal, .. } = &mut *self;
        let mut postings = journal.postings.drain(..);
        for (id, org_id, sum, count) in journal.transactions.drain(..) {
            state.apply_postings(id, org_id, postings.by_ref().take(count), sum);
        }
        drop(postings);
        state.append_lines(journal.lines.drain(..));
        self.committed = true;
        Ok(())
    }
}
