//! Automatic top-up rules: THRESHOLD rules evaluated after every write of a wallet, INTERVAL
//! rules fired by the sweep, once per period.
//!
//! Granted credits are added in the same unit of work as the operation that triggered the
//! rule. Paid credits are money: the rule stores an `auto_topup` payment session (status
//! `created`) in the same unit, and the payments service charges the saved payment method
//! after the commit (`Payments::run_auto_topups`). While that charge is pending the rule
//! starts no other paid top-up.

use rust_decimal::{Decimal, RoundingStrategy};
use time::OffsetDateTime;

use super::{Ledger, found, retry_on_conflict};
use crate::error::LedgerError;
use crate::id::{PaymentSessionId, TransactionId, WalletId};
use crate::journal::{Account, EntryKind, JournalBuilder, JournalTransaction, WalletPool};
use crate::money::Credits;
use crate::payment_session::{PaymentSession, PaymentStatus};
use crate::ports::UnitOfWork;
use crate::topup_rule::{RuleRun, RuleRunStatus, RuleTrigger, TopupRule};
use crate::wallet::{Wallet, WalletStatus};

/// The surface of payment sessions started by rules.
pub const AUTO_TOPUP_SURFACE: &str = "auto_topup";

/// The longest catch-up an interval rule does in one sweep (periods).
const CATCH_UP_PERIODS_MAX: u32 = 1000;

impl Ledger {
    /// Arms the wallet's THRESHOLD rules against its available balance, and fires them when
    /// `lowered`: only an operation that lowered the available credits (a reserve, a settle
    /// above nothing, a debit, an allocation out) is a downward crossing; a credit, a release
    /// or a top-up never fires a rule, even below its threshold. Answers the journal
    /// transactions of granted top-ups, for the caller to append after its own.
    pub(crate) async fn evaluate_thresholds(
        &self,
        uow: &mut dyn UnitOfWork,
        wallet: &mut Wallet,
        now: OffsetDateTime,
        lowered: bool,
    ) -> Result<Vec<JournalTransaction>, LedgerError> {
        let mut transactions = Vec::new();
        if wallet.status != WalletStatus::Active || wallet.rules.is_empty() {
            return Ok(transactions);
        }
        for index in 0..wallet.rules.len() {
            let rule = &wallet.rules[index];
            let Some(threshold) = rule
                .threshold_credits
                .filter(|_| rule.trigger == RuleTrigger::Threshold)
            else {
                continue;
            };
            // Re-armed only once the balance is back above the threshold (not at it).
            if wallet.available() > threshold {
                wallet.rules[index].armed = true;
                continue;
            }
            if wallet.available() == threshold || !lowered {
                continue;
            }
            if !wallet.rules[index].armed {
                continue;
            }
            // One fire per downward crossing: disarmed until the balance is back above.
            wallet.rules[index].armed = false;
            transactions.extend(self.fire_rule(uow, wallet, index, now).await?);
            if wallet.available() > threshold {
                wallet.rules[index].armed = true;
            }
        }
        Ok(transactions)
    }

    /// Fires one rule: adds its granted credits now, and starts a paid charge unless a rail
    /// stops it (paused, backing off, a charge already pending, the monthly cap). Every run,
    /// blocked or not, is recorded on the rule.
    async fn fire_rule(
        &self,
        uow: &mut dyn UnitOfWork,
        wallet: &mut Wallet,
        index: usize,
        now: OffsetDateTime,
    ) -> Result<Option<JournalTransaction>, LedgerError> {
        let (paid, granted) = wallet.rules[index].amounts(wallet.available());
        let rule_id = wallet.rules[index].id.clone();
        let mut transaction = None;
        if !granted.is_zero() {
            let mut journal = JournalBuilder::new(
                self.new_id(TransactionId::from_suffix),
                wallet.org_id.clone(),
                EntryKind::RuleTopup,
                ("rule", rule_id.as_str()),
                super::SYSTEM_PRINCIPAL,
                now,
            );
            journal.move_wallet(
                wallet,
                WalletPool::Granted,
                granted.value(),
                Account::PromotionalGrants,
            );
            transaction = Some(journal.finish());
        }
        let mut run = RuleRun {
            at: now,
            status: RuleRunStatus::Succeeded,
            paid_credits: paid,
            granted_credits: granted,
            payment_session_id: None,
            error_code: None,
            message: None,
        };
        if !paid.is_zero() {
            match paid_blocker(&wallet.rules[index], paid, now) {
                Some((code, message)) => {
                    // A crossing a paid-only threshold rule could not serve (backing off,
                    // capped, paused) is not used up: the rule stays armed, so a later write
                    // below the threshold tries again once the rail lets it. A pending charge
                    // does serve the crossing.
                    if code != "pending_topup" && granted.is_zero() {
                        wallet.rules[index].armed = true;
                    }
                    run.status = RuleRunStatus::Failed;
                    run.error_code = Some(code.to_owned());
                    run.message = Some(message);
                }
                None => {
                    let session =
                        self.auto_topup_session(wallet, &wallet.rules[index], paid, now)?;
                    uow.insert_payment_session(&session).await?;
                    wallet.rules[index].state.pending_session_id = Some(session.id.clone());
                    run.status = RuleRunStatus::Pending;
                    run.payment_session_id = Some(session.id);
                }
            }
        }
        if paid.is_zero() && granted.is_zero() {
            run.status = RuleRunStatus::Failed;
            run.error_code = Some("nothing_to_add".to_owned());
            run.message = Some("the balance is already at the target".to_owned());
        }
        wallet.rules[index].state.last_run = Some(run);
        Ok(transaction)
    }

    fn auto_topup_session(
        &self,
        wallet: &Wallet,
        rule: &TopupRule,
        paid: Credits,
        now: OffsetDateTime,
    ) -> Result<PaymentSession, LedgerError> {
        // Money for the paid credits, rounded up to the currency's minor units: the credits
        // bought (money / rate, rounded down) are then never fewer than the rule asked for.
        let money = (paid.value() * wallet.rate_amount).round_dp_with_strategy(
            wallet.currency.minor_units(),
            RoundingStrategy::AwayFromZero,
        );
        let id = self.new_id(PaymentSessionId::from_suffix);
        Ok(PaymentSession {
            id,
            org_id: wallet.org_id.clone(),
            user_id: None,
            // Filled from the saved method when the charge runs.
            provider: String::new(),
            surface: AUTO_TOPUP_SURFACE.to_owned(),
            target_owner: wallet.owner.clone(),
            wallet_id: wallet.id.clone(),
            amount: money,
            currency: wallet.currency,
            status: PaymentStatus::Created,
            checkout_state: rule.id.to_string(),
            provider_order_id: None,
            provider_capture_id: None,
            approval_url: None,
            return_url: None,
            cancel_url: None,
            save_payment_method: false,
            payment_method_id: rule.payment_method_id.clone(),
            credited_amount: None,
            wallet_balance_after: None,
            wallet_transaction_id: None,
            refunded_amount: Decimal::ZERO,
            refunded_credits: Credits::ZERO,
            applied_refund_ids: Vec::new(),
            provider_refund_id: None,
            error_code: None,
            error_message: None,
            created_at: now,
            updated_at: now,
            expires_at: now + time::Duration::days(1),
        })
    }

    /// Fires the wallet's due INTERVAL rules: each period `started_at + k × interval` (k ≥ 1)
    /// fires once, including periods missed while no process ran (one top-up per missed
    /// period). Answers how many periods fired.
    pub(super) async fn fire_due_intervals(
        &self,
        wallet_id: &WalletId,
    ) -> Result<u64, LedgerError> {
        retry_on_conflict!(self.fire_due_intervals_once(wallet_id).await)
    }

    async fn fire_due_intervals_once(&self, wallet_id: &WalletId) -> Result<u64, LedgerError> {
        let now = self.now();
        let mut uow = self.store.begin().await?;
        let mut wallet = found(uow.lock_wallet(wallet_id).await, "wallet", wallet_id)?;
        if !wallet.is_active_at(now) {
            return Ok(0);
        }
        let mut fired = 0_u64;
        let mut transactions = Vec::new();
        for index in 0..wallet.rules.len() {
            for _ in 0..CATCH_UP_PERIODS_MAX {
                let Some(next) = wallet.rules[index].due_interval_period(now) else {
                    break;
                };
                wallet.rules[index].last_period_fired = next;
                transactions.extend(
                    self.fire_rule(uow.as_mut(), &mut wallet, index, now)
                        .await?,
                );
                fired += 1;
            }
        }
        if fired == 0 {
            return Ok(0);
        }
        transactions.extend(
            self.evaluate_thresholds(uow.as_mut(), &mut wallet, now, false)
                .await?,
        );
        wallet.updated_at = now;
        uow.update_wallet(&wallet).await?;
        for transaction in transactions {
            uow.append_journal(transaction).await?;
        }
        uow.commit().await?;
        Ok(fired)
    }
}

/// Why a rule may not start a paid charge now, if it may not.
fn paid_blocker(
    rule: &TopupRule,
    paid: Credits,
    now: OffsetDateTime,
) -> Option<(&'static str, String)> {
    let state = &rule.state;
    if state.paused {
        let reason = state.paused_reason.clone().unwrap_or_default();
        return Some(("rule_paused", format!("the rule is paused: {reason}")));
    }
    if let Some(pending) = &state.pending_session_id {
        return Some((
            "pending_topup",
            format!("paid top-up {pending} is still pending"),
        ));
    }
    if let Some(until) = state.backoff_until
        && until > now
    {
        return Some((
            "backing_off",
            format!("backing off after a decline until {until}"),
        ));
    }
    if let Some(cap) = rule.max_paid_credits_per_month {
        let month = month_key(now);
        let used = if state.month.as_deref() == Some(month.as_str()) {
            state.month_paid_credits
        } else {
            Credits::ZERO
        };
        if used.plus(paid) > cap {
            return Some((
                "monthly_cap",
                format!(
                    "{paid} more paid credits would pass the monthly cap of {cap} ({used} used)"
                ),
            ));
        }
    }
    None
}

/// The calendar month of an instant, `YYYY-MM`.
pub(crate) fn month_key(at: OffsetDateTime) -> String {
    format!("{:04}-{:02}", at.year(), u8::from(at.month()))
}
