//! Admin refunds: refund at the provider, then take the paid credits back.

use rust_decimal::Decimal;
use serde::Serialize;

use super::Payments;
use super::credit::refund_credits;
use crate::error::{LedgerError, ValidationError};
use crate::id::PaymentSessionId;
use crate::id::ReservationId;
use crate::journal::EntryKind;
use crate::money::{Credits, Money};
use crate::payment_session::{PaymentSession, PaymentStatus};
use crate::service::hold::NewHold;
use crate::wallet::FeeType;

/// What an admin refund did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RefundResult {
    /// The session after the refund.
    #[serde(skip)]
    pub session: PaymentSession,
    /// The provider's refund id.
    pub provider_refund_id: String,
    /// Money refunded by this refund.
    pub refunded_amount: Decimal,
    /// Credits taken back by this refund.
    pub refunded_credits: Credits,
}

/// How long the credits of an admin refund stay held while the provider answers; after that
/// the sweeper frees them (the process died between the hold and the refund).
const REFUND_HOLD_SECONDS: i64 = 15 * 60;

impl Payments {
    /// Checks that the refund's credits are available (paid, not held, no debt) and holds them
    /// on the wallet, so nothing spends them while the provider refunds.
    async fn hold_refund_credits(
        &self,
        session: &PaymentSession,
        money: Money,
    ) -> Result<(ReservationId, Credits), LedgerError> {
        let now = self.ledger.now();
        let mut uow = self.ledger.store().begin().await?;
        let mut wallet = uow
            .lock_wallet(&session.wallet_id)
            .await?
            .ok_or_else(|| LedgerError::not_found("wallet", &session.wallet_id))?;
        let credits = refund_credits(session, money.amount(), wallet.rate_amount);
        let takeable = wallet
            .paid
            .min(wallet.balance().saturating_minus(wallet.held));
        if credits > takeable || !wallet.debt.is_zero() {
            return Err(LedgerError::Conflict {
                code: "insufficient_balance_for_refund",
                message: format!("the refund needs {credits} credits; {takeable} are available"),
            });
        }
        let (hold, transaction) = self.ledger.new_hold(
            &mut wallet,
            &NewHold {
                user_id: None,
                team_id: None,
                amount: credits,
                fee_type: FeeType::Charge,
                ttl_seconds: REFUND_HOLD_SECONDS,
                metadata: Some(format!("{{\"refund_of\":\"{}\"}}", session.id)),
                principal: "system",
            },
            now,
        );
        if !credits.is_zero() {
            // Written without evaluating top-up rules: the refund, not a spend, lowers it.
            uow.insert_reservation(&hold).await?;
            uow.update_wallet(&wallet).await?;
            uow.append_journal(transaction).await?;
        }
        uow.commit().await?;
        Ok((hold.id, credits))
    }

    /// Refunds a completed session (all that is left, or `amount`) at the provider and takes
    /// the paid credits back. Refused, with nothing changed, when the credits are no longer
    /// available (held credits count as spent): an admin refund never creates debt.
    ///
    /// # Errors
    /// [`LedgerError::Conflict`] `payment_not_refundable` when the session is not completed,
    /// `insufficient_balance_for_refund` when the credits were spent;
    /// [`LedgerError::Invalid`] for an amount above what is left; provider failures.
    pub async fn refund(
        &self,
        session_id: &PaymentSessionId,
        amount: Option<Decimal>,
    ) -> Result<RefundResult, LedgerError> {
        let session = self.session(session_id).await?;
        if session.status != PaymentStatus::Completed {
            return Err(LedgerError::conflict(
                "payment_not_refundable",
                format!(
                    "payment session {} is {}; only completed sessions are refunded",
                    session.id, session.status
                ),
            ));
        }
        let left = session.amount - session.refunded_amount;
        let money = amount.unwrap_or(left);
        if money <= Decimal::ZERO || money > left {
            return Err(ValidationError::field(
                "amount",
                format!("amount must be above 0 and at most {left}"),
            )
            .into());
        }
        let money = Money::try_new(money, session.currency)
            .map_err(|error| ValidationError::field("amount", error.to_string()))?;
        let (hold, credits) =
            crate::service::retry_on_conflict!(self.hold_refund_credits(&session, money).await)?;
        let provider = self.provider(&session.provider)?;
        let order_id = session.provider_order_id.clone().unwrap_or_default();
        let capture_id = session.provider_capture_id.clone().unwrap_or_default();
        let idempotency_key = format!(
            "{}-refund-{}",
            session.id,
            session.applied_refund_ids.len() + 1
        );
        let outcome = match provider
            .refund(&order_id, &capture_id, money, &idempotency_key)
            .await
        {
            Ok(outcome) => outcome,
            Err(error) => {
                // Refused or unknown at the provider: free the credits. Should the refund have
                // happened after all, its webhook takes the credits back then.
                self.ledger.release(&hold, "system").await?;
                return Err(error.into());
            }
        };
        // The held credits are freed and taken back in one unit: the admin refund never books
        // debt, because nothing could spend them meanwhile.
        let session = crate::service::retry_on_conflict!(
            self.apply_refund_once(
                session_id,
                &outcome.refund_id,
                outcome.amount,
                EntryKind::Refund,
                None,
                Some(&hold)
            )
            .await
        )?;
        Ok(RefundResult {
            session,
            provider_refund_id: outcome.refund_id,
            refunded_amount: outcome.amount.amount(),
            refunded_credits: credits,
        })
    }
}
