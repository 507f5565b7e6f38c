//! Background work: expiring holds and tickets, activating and expiring wallets, firing the
//! due periods of interval rules.
//!
//! Safe with several processes on one store: every item is re-checked under its lock, so an
//! item that another process already handled is skipped. Each item is processed exactly once.

use serde::Serialize;
use time::OffsetDateTime;

use super::lifecycle::TerminationCause;
use super::{Ledger, found, retry_on_conflict};
use crate::cost_ticket::CostTicketStatus;
use crate::error::{LedgerError, StoreError};
use crate::id::{CostTicketId, ReservationId, WalletId};
use crate::reservation::ReservationStatus;
use crate::wallet::Wallet;

/// The principal background work acts as.
pub const SYSTEM_PRINCIPAL: &str = "system";

/// How many items of each kind one sweep round takes.
const SWEEP_BATCH: u32 = 200;

/// What a sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SweepReport {
    /// Reservations expired.
    pub reservations_expired: u64,
    /// Wallets activated.
    pub wallets_activated: u64,
    /// Wallets terminated because they expired.
    pub wallets_expired: u64,
    /// Cost tickets expired.
    pub cost_tickets_expired: u64,
    /// Interval-rule periods fired.
    pub rule_periods_fired: u64,
}

impl Ledger {
    /// Runs every piece of background work due now, until none is left.
    ///
    /// # Errors
    /// Store failures; the work done before the failure stays done.
    pub async fn sweep(&self) -> Result<SweepReport, LedgerError> {
        let mut report = SweepReport::default();
        // Bounded: each round handles up to SWEEP_BATCH items of each kind; items another
        // process handles meanwhile disappear from the next round.
        for _round in 0..1000 {
            let now = self.now();
            let due = self.store.due_work(now, SWEEP_BATCH).await?;
            if due.expired_reservations.is_empty()
                && due.wallets_to_activate.is_empty()
                && due.wallets_to_expire.is_empty()
                && due.tickets_to_expire.is_empty()
            {
                break;
            }
            let before = report;
            for id in &due.wallets_to_expire {
                let done = retry_on_conflict!(
                    self.terminate_once(id, TerminationCause::Expired, SYSTEM_PRINCIPAL)
                        .await
                )?;
                report.wallets_expired += u64::from(done.is_some());
            }
            for id in &due.expired_reservations {
                report.reservations_expired +=
                    u64::from(retry_on_conflict!(self.expire_reservation(id, now).await)?);
            }
            for id in &due.wallets_to_activate {
                let done = retry_on_conflict!(self.activate_once(id, Some(now)).await)?;
                report.wallets_activated += u64::from(done.is_some());
            }
            for id in &due.tickets_to_expire {
                report.cost_tickets_expired +=
                    u64::from(retry_on_conflict!(self.expire_ticket(id, now).await)?);
            }
            if report == before {
                // Everything listed was handled elsewhere; the next round would list it again
                // only if the store is inconsistent, so stop rather than spin.
                break;
            }
        }
        // Interval rules last: a wallet that expired above is skipped by its status.
        report.rule_periods_fired = self.fire_interval_rules().await?;
        Ok(report)
    }

    /// Fires the due periods of every ACTIVE wallet with an interval rule.
    ///
    /// Pages through all of them by wallet id (keyset), SWEEP_BATCH at a time, so no wallet is
    /// starved however many there are. Each snapshot is checked without a lock and only a
    /// wallet with a due period is locked and evaluated (`fire_due_intervals` re-checks under
    /// the lock): a sweep costs one read per page plus one unit of work per due wallet, not one
    /// per wallet. A snapshot is committed state and `last_period_fired` only grows, so the
    /// unlocked check never skips a period due at `now`; one that falls due during the sweep,
    /// or a rule saved after the page was read, is caught by the next sweep.
    async fn fire_interval_rules(&self) -> Result<u64, LedgerError> {
        let now = self.now();
        let mut fired = 0;
        let mut after: Option<WalletId> = None;
        loop {
            let page = self
                .store
                .interval_rule_wallets(after.clone(), SWEEP_BATCH)
                .await?;
            let Some(last) = page.last() else { break };
            // The keyset must move forward, or a faulty store would make the sweep spin.
            if let Some(after) = after.as_ref().filter(|after| page[0].id <= **after) {
                return Err(StoreError::Corrupt(format!(
                    "interval rule wallets after {after} answered {}",
                    page[0].id
                ))
                .into());
            }
            let next = last.id.clone();
            for wallet in page.iter().filter(|w| has_due_interval_period(w, now)) {
                fired += self.fire_due_intervals(&wallet.id).await?;
            }
            if page.len() < usize::try_from(SWEEP_BATCH).unwrap_or(usize::MAX) {
                break;
            }
            after = Some(next);
        }
        Ok(fired)
    }

    async fn expire_reservation(
        &self,
        id: &ReservationId,
        now: OffsetDateTime,
    ) -> Result<bool, LedgerError> {
        let snapshot = found(self.store.reservation(id).await, "reservation", id)?;
        let mut uow = self.store.begin().await?;
        let mut wallet = found(
            uow.lock_wallet(&snapshot.wallet_id).await,
            "wallet",
            &snapshot.wallet_id,
        )?;
        let mut reservation = found(uow.lock_reservation(id).await, "reservation", id)?;
        if reservation.status != ReservationStatus::Held || reservation.expires_at > now {
            return Ok(false);
        }
        self.end_hold(
            uow.as_mut(),
            &mut wallet,
            &mut reservation,
            ReservationStatus::Expired,
            "expired",
            SYSTEM_PRINCIPAL,
            now,
        )
        .await?;
        uow.commit().await?;
        Ok(true)
    }

    async fn expire_ticket(
        &self,
        id: &CostTicketId,
        now: OffsetDateTime,
    ) -> Result<bool, LedgerError> {
        let mut uow = self.store.begin().await?;
        let mut ticket = found(uow.lock_cost_ticket(id).await, "cost_ticket", id)?;
        if ticket.status != CostTicketStatus::Open || ticket.expires_at > now {
            return Ok(false);
        }
        ticket.status = CostTicketStatus::Expired;
        uow.update_cost_ticket(&ticket).await?;
        uow.commit().await?;
        Ok(true)
    }
}

/// Whether an unlocked snapshot of a wallet shows an interval period due at `now`: the same
/// test `fire_due_intervals` makes under the lock, for the first period not yet fired.
fn has_due_interval_period(wallet: &Wallet, now: OffsetDateTime) -> bool {
    wallet.is_active_at(now)
        && wallet
            .rules
            .iter()
            .any(|rule| rule.due_interval_period(now).is_some())
}
