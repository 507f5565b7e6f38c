//! Crediting a wallet for a capture, and taking credits back for refunds and reversals.

use rust_decimal::Decimal;

use super::Payments;
use crate::error::LedgerError;
use crate::id::{PaymentSessionId, TransactionId};
use crate::journal::{Account, EntryKind, JournalBuilder, WalletPool};
use crate::money::{Credits, Money};
use crate::payment_session::{PaymentSession, PaymentStatus};
use crate::service::admin::add_paid;
use crate::wallet::Wallet;

/// A provider event to record in the same unit as its effect (applied at most once).
#[derive(Debug, Clone, Copy)]
pub(super) struct EventMark<'a> {
    pub(super) provider: &'a str,
    pub(super) event_id: &'a str,
}

/// A capture to credit.
#[derive(Debug, Clone)]
pub(super) struct Capture {
    pub(super) capture_id: String,
    pub(super) amount: Option<Money>,
}

impl Payments {
    /// Credits the session's wallet for a capture and completes the session, in one unit.
    /// Does nothing when the session was credited before or the event was applied before.
    pub(super) async fn credit_capture(
        &self,
        session_id: &PaymentSessionId,
        capture: &Capture,
        event: Option<EventMark<'_>>,
    ) -> Result<PaymentSession, LedgerError> {
        crate::service::retry_on_conflict!(
            self.credit_capture_once(session_id, capture, event).await
        )
    }

    async fn credit_capture_once(
        &self,
        session_id: &PaymentSessionId,
        capture: &Capture,
        event: Option<EventMark<'_>>,
    ) -> Result<PaymentSession, LedgerError> {
        let now = self.ledger.now();
        let snapshot = self.session(session_id).await?;
        let wallet_id = self.creditable_wallet(&snapshot).await?;
        let mut uow = self.ledger.store().begin().await?;
        let (mut wallet, mut session) =
            super::lock_wallet_and_session(uow.as_mut(), &wallet_id, session_id).await?;
        if let Some(event) = event
            && !uow
                .record_provider_event(event.provider, event.event_id)
                .await?
        {
            return Ok(session);
        }
        if session.status.is_credited() {
            uow.commit().await?;
            return Ok(session);
        }
        if !wallet.is_active_at(now) {
            // Terminated or expired since the snapshot: run again, crediting the owner's
            // current top-up wallet (credits put here would be forfeited).
            return Err(LedgerError::Store(crate::error::StoreError::Conflict(
                format!("wallet {} is no longer creditable", wallet.id),
            )));
        }
        if session.status != PaymentStatus::Captured {
            session.move_to(PaymentStatus::Captured, now)?;
        }
        session.provider_capture_id = Some(capture.capture_id.clone());
        session.move_to(PaymentStatus::Confirming, now)?;
        let money = capture
            .amount
            .map_or(session.amount, |amount| amount.amount());
        let money = Money::try_new(money, session.currency)
            .map_err(|error| LedgerError::conflict("capture_amount_invalid", error.to_string()))?;
        let credits = money.to_credits(wallet.rate_amount);
        let transaction_id = self.ledger.new_id(TransactionId::from_suffix);
        let mut journal = JournalBuilder::new(
            transaction_id.clone(),
            wallet.org_id.clone(),
            EntryKind::Topup,
            ("payment_session", session.id.as_str()),
            &format!("provider:{}", session.provider),
            now,
        );
        add_paid(
            &mut journal,
            &mut wallet,
            credits,
            Account::PaymentClearing(session.provider.clone()),
        );
        session.wallet_id = wallet.id.clone();
        session.amount = money.amount();
        session.credited_amount = Some(credits);
        session.wallet_balance_after = Some(wallet.balance());
        session.wallet_transaction_id = Some(transaction_id);
        session.error_code = None;
        session.error_message = None;
        session.move_to(PaymentStatus::Confirmed, now)?;
        session.move_to(PaymentStatus::Completed, now)?;
        if session.surface == crate::service::AUTO_TOPUP_SURFACE {
            super::auto_topup::settle_rule_state(&mut wallet, &session, credits);
        }
        let rule_transactions = self
            .ledger
            .evaluate_thresholds(uow.as_mut(), &mut wallet, now, false)
            .await?;
        uow.update_wallet(&wallet).await?;
        uow.append_journal(journal.finish()).await?;
        for rule_transaction in rule_transactions {
            uow.append_journal(rule_transaction).await?;
        }
        uow.update_payment_session(&session).await?;
        uow.commit().await?;
        Ok(session)
    }

    /// The wallet a capture credits: the session's wallet, or — when it was terminated since
    /// the checkout or is past its `expiration_at` — the owner's current top-up wallet, so paid
    /// money is never lost.
    async fn creditable_wallet(
        &self,
        session: &PaymentSession,
    ) -> Result<crate::id::WalletId, LedgerError> {
        let now = self.ledger.now();
        let wallet = self.ledger.store().wallet(&session.wallet_id).await?;
        if wallet.is_some_and(|wallet| wallet.is_active_at(now)) {
            return Ok(session.wallet_id.clone());
        }
        let money = Money::try_new(session.amount, session.currency)
            .map_err(|error| LedgerError::conflict("session_amount_invalid", error.to_string()))?;
        self.target_wallet(&super::StartCheckout {
            org_id: session.org_id.clone(),
            user_id: session.user_id.clone(),
            provider: session.provider.clone(),
            target_owner: session.target_owner.clone(),
            amount: money,
            surface: session.surface.clone(),
            return_url: String::new(),
            cancel_url: String::new(),
            checkout_state: String::new(),
            save_payment_method: false,
            principal: "system".to_owned(),
        })
        .await
    }

    pub(super) async fn session(
        &self,
        id: &PaymentSessionId,
    ) -> Result<PaymentSession, LedgerError> {
        self.store
            .payment_session(id)
            .await?
            .ok_or_else(|| LedgerError::not_found("payment_session", id))
    }
}

/// How a take-back treats credits that are no longer there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Shortfall {
    /// Book what is missing as debt (provider refunds and reversals).
    Debt,
    /// Refuse (admin refunds): checked by the caller before the provider call.
    Refuse,
}

/// Takes back up to `credits` paid credits; what is not there becomes debt.
pub(super) fn take_back(
    journal: &mut JournalBuilder,
    wallet: &mut Wallet,
    credits: Credits,
    provider: &str,
    shortfall: Shortfall,
) -> Result<(), LedgerError> {
    // Held credits are spoken for: only paid credits outside holds can be taken.
    let takeable = wallet
        .paid
        .min(wallet.balance().saturating_minus(wallet.held));
    let taken = credits.min(takeable);
    let missing = credits.saturating_minus(taken);
    if !missing.is_zero() && shortfall == Shortfall::Refuse {
        return Err(LedgerError::conflict(
            "insufficient_balance_for_refund",
            format!("the wallet has {takeable} paid credits available, the refund needs {credits}"),
        ));
    }
    let clearing = Account::PaymentClearing(provider.to_owned());
    journal.move_wallet(wallet, WalletPool::Paid, -taken.value(), clearing.clone());
    journal.move_wallet(wallet, WalletPool::Debt, missing.value(), clearing);
    Ok(())
}

/// The credits a refund of `money` takes back: all that is left for a full refund, else the
/// money at the wallet's rate rounded **up** (a partial refund never leaves a fraction of a
/// credit that was paid back), capped at what is left.
pub(super) fn refund_credits(session: &PaymentSession, money: Decimal, rate: Decimal) -> Credits {
    let left_credits = session
        .credited_amount
        .unwrap_or_default()
        .saturating_minus(session.refunded_credits);
    let left_money = session.amount - session.refunded_amount;
    if money >= left_money {
        return left_credits;
    }
    let exact = (money / rate).round_dp_with_strategy(
        crate::money::CREDIT_SCALE_MAX,
        rust_decimal::RoundingStrategy::AwayFromZero,
    );
    Credits::try_new(exact).map_or(left_credits, |credits| credits.min(left_credits))
}
