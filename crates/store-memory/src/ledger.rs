use std::ops::Bound;

use async_trait::async_trait;
use ledger_core::cost_ticket::CostTicket;
use ledger_core::cost_ticket::CostTicketStatus;
use ledger_core::error::StoreError;
use ledger_core::id::{CostTicketId, OrgId, ReservationId, WalletId};
use ledger_core::journal::WalletLine;
use ledger_core::money::Currency;
use ledger_core::ports::{
    AuditSnapshot, CostTicketFilter, DueWork, LedgerStore, Page, PageRequest, UnitOfWork,
    WalletFilter, WalletLineFilter,
};
use ledger_core::reservation::{Reservation, ReservationStatus};
use ledger_core::topup_rule::RuleTrigger;
use ledger_core::wallet::{Owner, Wallet, WalletStatus};
use rust_decimal::Decimal;
use time::OffsetDateTime;

use crate::MemoryStore;
use crate::state::State;
use crate::unit_of_work::MemoryUnitOfWork;

pub(crate) fn cascade_wallets(
    state: &State,
    org_id: &OrgId,
    owners: &[Owner],
    currency: Currency,
) -> Vec<Wallet> {
    let Some(by_owner) = state.wallets_by_owner.get(org_id) else {
        return Vec::new();
    };
    let mut wallets: Vec<Wallet> = owners
        .iter()
        .enumerate()
        // An owner named twice contributes its wallets once.
        .filter(|(position, owner)| !owners[..*position].contains(owner))
        .filter_map(|(_, owner)| by_owner.get(owner))
        .flatten()
        .filter_map(|id| state.wallets.get(id))
        .filter(|wallet| wallet.currency == currency)
        .cloned()
        .collect();
    // The same order as a scan of the id-ordered map would give.
    wallets.sort_by(|a, b| a.id.cmp(&b.id));
    wallets
}

fn page<T: Clone>(items: &[T], request: PageRequest) -> Page<T> {
    let offset = usize::try_from(request.offset()).unwrap_or(usize::MAX);
    let per_page = usize::try_from(request.per_page).unwrap_or(usize::MAX);
    Page {
        items: items.iter().skip(offset).take(per_page).cloned().collect(),
        total: items.len() as u64,
    }
}

fn wallet_matches(wallet: &Wallet, filter: &WalletFilter) -> bool {
    filter
        .org_id
        .as_ref()
        .is_none_or(|org| wallet.org_id == *org)
        && filter
            .owner_type
            .is_none_or(|owner_type| wallet.owner.owner_type() == owner_type)
        && filter
            .owner_id
            .as_deref()
            .is_none_or(|id| wallet.owner.id_str() == id)
        && filter.status.is_none_or(|status| wallet.status == status)
        && filter
            .visible_to
            .as_ref()
            .is_none_or(|owners| owners.contains(&wallet.owner))
}

fn line_matches(line: &WalletLine, filter: &WalletLineFilter) -> bool {
    filter.kind.is_none_or(|kind| line.kind == kind)
        && filter.from.is_none_or(|from| line.created_at >= from)
        && filter.to.is_none_or(|to| line.created_at <= to)
}

#[async_trait]
impl LedgerStore for MemoryStore {
    async fn begin(&self) -> Result<Box<dyn UnitOfWork>, StoreError> {
        let guard = self.state.clone().lock_owned().await;
        Ok(Box::new(MemoryUnitOfWork::new(guard)))
    }

    async fn wallet(&self, id: &WalletId) -> Result<Option<Wallet>, StoreError> {
        Ok(self.state.lock().await.wallets.get(id).cloned())
    }

    async fn list_wallets(&self, filter: &WalletFilter) -> Result<Page<Wallet>, StoreError> {
        let state = self.state.lock().await;
        let mut wallets: Vec<Wallet> = state
            .wallets
            .values()
            .filter(|w| wallet_matches(w, filter))
            .cloned()
            .collect();
        wallets.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        Ok(page(&wallets, filter.page))
    }

    async fn cascade_wallets(
        &self,
        org_id: &OrgId,
        owners: &[Owner],
        currency: Currency,
    ) -> Result<Vec<Wallet>, StoreError> {
        Ok(cascade_wallets(
            &*self.state.lock().await,
            org_id,
            owners,
            currency,
        ))
    }

    async fn reservation(&self, id: &ReservationId) -> Result<Option<Reservation>, StoreError> {
        Ok(self.state.lock().await.reservations.get(id).cloned())
    }

    async fn cost_ticket(&self, id: &CostTicketId) -> Result<Option<CostTicket>, StoreError> {
        Ok(self.state.lock().await.tickets.get(id).cloned())
    }

    async fn list_cost_tickets(
        &self,
        filter: &CostTicketFilter,
    ) -> Result<Page<CostTicket>, StoreError> {
        let state = self.state.lock().await;
        let mut tickets: Vec<CostTicket> = state
            .tickets
            .values()
            .filter(|ticket| {
                filter
                    .org_id
                    .as_ref()
                    .is_none_or(|org| ticket.org_id == *org)
                    && filter.status.is_none_or(|status| ticket.status == status)
                    && filter
                        .user_id
                        .as_ref()
                        .is_none_or(|user| ticket.user_id.as_ref() == Some(user))
            })
            .cloned()
            .collect();
        tickets.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        Ok(page(&tickets, filter.page))
    }

    async fn wallet_lines(
        &self,
        filter: &WalletLineFilter,
    ) -> Result<Page<WalletLine>, StoreError> {
        let state = self.state.lock().await;
        let lines: Vec<WalletLine> = state
            .wallet_lines
            .get(&filter.wallet_id)
            .map(|history| {
                history
                    .newest_first()
                    .filter(|line| line_matches(line, filter))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        Ok(page(&lines, filter.page))
    }

    async fn due_work(&self, now: OffsetDateTime, limit: u32) -> Result<DueWork, StoreError> {
        let state = self.state.lock().await;
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let mut due = DueWork {
            expired_reservations: state
                .reservations
                .values()
                .filter(|r| r.status == ReservationStatus::Held && r.expires_at <= now)
                .map(|r| r.id.clone())
                .take(limit)
                .collect(),
            wallets_to_activate: state
                .wallets
                .values()
                .filter(|w| {
                    w.status == WalletStatus::Pending && w.activates_at.is_some_and(|at| at <= now)
                })
                .map(|w| w.id.clone())
                .take(limit)
                .collect(),
            wallets_to_expire: state
                .wallets
                .values()
                .filter(|w| w.status != WalletStatus::Terminated && w.is_expired(now))
                .map(|w| w.id.clone())
                .take(limit)
                .collect(),
            tickets_to_expire: state
                .tickets
                .values()
                .filter(|t| t.status == CostTicketStatus::Open && t.expires_at <= now)
                .map(|t| t.id.clone())
                .take(limit)
                .collect(),
        };
        due.expired_reservations.sort();
        due.tickets_to_expire.sort();
        Ok(due)
    }

    async fn interval_rule_wallets(
        &self,
        after: Option<WalletId>,
        limit: u32,
    ) -> Result<Vec<Wallet>, StoreError> {
        let state = self.state.lock().await;
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        // The map is ordered by wallet id, so the range is the keyset page.
        let from = match after {
            Some(ref after) => Bound::Excluded(after),
            None => Bound::Unbounded,
        };
        Ok(state
            .wallets
            .range::<WalletId, _>((from, Bound::Unbounded))
            .map(|(_, wallet)| wallet)
            .filter(|w| {
                w.status == WalletStatus::Active
                    && w.rules.iter().any(|r| r.trigger == RuleTrigger::Interval)
            })
            .take(limit)
            .cloned()
            .collect())
    }

    async fn audit_snapshot(&self) -> Result<AuditSnapshot, StoreError> {
        let state = self.state.lock().await;
        let mut open_hold_sums: std::collections::BTreeMap<WalletId, Decimal> =
            std::collections::BTreeMap::new();
        for reservation in state
            .reservations
            .values()
            .filter(|r| r.status == ReservationStatus::Held)
        {
            *open_hold_sums
                .entry(reservation.wallet_id.clone())
                .or_default() += reservation.amount.value();
        }
        let mut account_sums: Vec<(String, Decimal)> = state
            .account_sums
            .iter()
            .map(|(account, sum)| (account.code(), *sum))
            .collect();
        account_sums.sort();
        Ok(AuditSnapshot {
            wallets: state.wallets.values().cloned().collect(),
            account_sums,
            unbalanced_transactions: state.unbalanced.clone(),
            open_hold_sums: open_hold_sums.into_iter().collect(),
            cross_org_references: state.cross_org_references(),
        })
    }
}
