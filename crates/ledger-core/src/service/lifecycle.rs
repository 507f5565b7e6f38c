//! The wallet lifecycle: PENDING → ACTIVE → TERMINATED.

use time::OffsetDateTime;

use super::{Ledger, found, retry_on_conflict};
use crate::error::LedgerError;
use crate::id::WalletId;
use crate::journal::{Account, EntryKind, WalletPool};
use crate::reservation::ReservationStatus;
use crate::wallet::{Wallet, WalletStatus};

/// Why a wallet is terminated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TerminationCause {
    /// An admin asked.
    Requested,
    /// Its `expiration_at` passed.
    Expired,
}

impl Ledger {
    /// Activates a PENDING wallet.
    ///
    /// # Errors
    /// [`LedgerError::InvalidTransition`] from ACTIVE or TERMINATED.
    pub async fn activate(&self, wallet_id: &WalletId) -> Result<Wallet, LedgerError> {
        retry_on_conflict!(self.activate_once(wallet_id, None).await)
            .and_then(|wallet| wallet.ok_or_else(|| LedgerError::not_found("wallet", wallet_id)))
    }

    /// Activates a PENDING wallet whose `activates_at` is due; `Ok(None)` when it is not
    /// (another process did it, or it is not due).
    pub(super) async fn activate_once(
        &self,
        wallet_id: &WalletId,
        due_at: Option<OffsetDateTime>,
    ) -> Result<Option<Wallet>, LedgerError> {
        let now = self.now();
        let mut uow = self.store.begin().await?;
        let mut wallet = found(uow.lock_wallet(wallet_id).await, "wallet", wallet_id)?;
        if wallet.status == WalletStatus::Pending && wallet.is_expired(now) {
            // Expired before it was activated: the expiry sweep terminates it; an admin's
            // activation is refused.
            return match due_at {
                Some(_) => Ok(None),
                None => super::admin::ensure_not_expired(&wallet, now).map(|()| None),
            };
        }
        if let Some(due_at) = due_at {
            let due = wallet.status == WalletStatus::Pending
                && wallet.activates_at.is_some_and(|at| at <= due_at);
            if !due {
                return Ok(None);
            }
        }
        wallet.status = wallet.status.activate()?;
        // Interval periods that ended while the wallet was PENDING do not fire: the wallet
        // could not be used then, and catching them up would add them all at once. Periods
        // after the scheduled activation (a sweep that ran late) still catch up.
        let active_from = match due_at {
            Some(_) => wallet.activates_at.unwrap_or(now),
            None => now,
        };
        for rule in &mut wallet.rules {
            while rule
                .period_at(rule.last_period_fired + 1)
                .is_some_and(|at| at <= active_from)
            {
                rule.last_period_fired += 1;
            }
        }
        wallet.updated_at = now;
        uow.update_wallet(&wallet).await?;
        uow.commit().await?;
        Ok(Some(wallet))
    }

    /// Terminates a wallet: releases its open holds, then forfeits its credits through the
    /// journal. Final.
    ///
    /// # Errors
    /// [`LedgerError::InvalidTransition`] when already TERMINATED.
    pub async fn terminate(
        &self,
        wallet_id: &WalletId,
        principal: &str,
    ) -> Result<Wallet, LedgerError> {
        retry_on_conflict!(
            self.terminate_once(wallet_id, TerminationCause::Requested, principal)
                .await
        )
        .and_then(|wallet| wallet.ok_or_else(|| LedgerError::not_found("wallet", wallet_id)))
    }

    pub(super) async fn terminate_once(
        &self,
        wallet_id: &WalletId,
        cause: TerminationCause,
        principal: &str,
    ) -> Result<Option<Wallet>, LedgerError> {
        let now = self.now();
        let mut uow = self.store.begin().await?;
        let mut wallet = found(uow.lock_wallet(wallet_id).await, "wallet", wallet_id)?;
        if cause == TerminationCause::Expired
            && (wallet.status == WalletStatus::Terminated || !wallet.is_expired(now))
        {
            return Ok(None);
        }
        wallet.status = wallet.status.terminate()?;
        let reason = match cause {
            TerminationCause::Requested => "wallet_terminated",
            TerminationCause::Expired => "wallet_expired",
        };
        for mut reservation in uow.held_reservations(wallet_id).await? {
            let mut locked = found(
                uow.lock_reservation(&reservation.id).await,
                "reservation",
                &reservation.id,
            )?;
            if locked.status != ReservationStatus::Held {
                continue;
            }
            self.end_hold(
                uow.as_mut(),
                &mut wallet,
                &mut locked,
                ReservationStatus::Released,
                reason,
                principal,
                now,
            )
            .await?;
            reservation.status = locked.status;
        }
        let mut journal = self.admin_journal(&wallet, EntryKind::Forfeit, principal, now);
        let (paid, granted) = (wallet.paid, wallet.granted);
        journal.move_wallet(
            &mut wallet,
            WalletPool::Paid,
            -paid.value(),
            Account::Expiry,
        );
        journal.move_wallet(
            &mut wallet,
            WalletPool::Granted,
            -granted.value(),
            Account::Expiry,
        );
        wallet.updated_at = now;
        uow.update_wallet(&wallet).await?;
        if !journal.is_empty() {
            uow.append_journal(journal.finish()).await?;
        }
        uow.commit().await?;
        Ok(Some(wallet))
    }
}
