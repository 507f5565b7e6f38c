//! Admin refunds: refund at the provider, then take the paid credits back.

use rust_decimal::Decimal;
use serde::Serialize;

use super::Payments;
use super::credit::{Shortfall, refund_credits};
use crate::error::{LedgerError, ValidationError};
use crate::id::PaymentSessionId;
use crate::journal::EntryKind;
use crate::money::{Credits, Money};
use crate::payment_session::{PaymentSession, PaymentStatus};

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

impl Payments {
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
        let wallet = self
            .ledger
            .store()
            .wallet(&session.wallet_id)
            .await?
            .ok_or_else(|| LedgerError::not_found("wallet", &session.wallet_id))?;
        let credits = refund_credits(&session, money.amount(), wallet.rate_amount);
        let takeable = wallet
            .paid
            .min(wallet.balance().saturating_minus(wallet.held));
        if credits > takeable || !wallet.debt.is_zero() {
            return Err(LedgerError::conflict(
                "insufficient_balance_for_refund",
                format!("the refund needs {credits} credits; {takeable} are available"),
            ));
        }
        let provider = self.provider(&session.provider)?;
        let order_id = session.provider_order_id.clone().unwrap_or_default();
        let capture_id = session.provider_capture_id.clone().unwrap_or_default();
        let idempotency_key = format!(
            "{}-refund-{}",
            session.id,
            session.applied_refund_ids.len() + 1
        );
        let outcome = provider
            .refund(&order_id, &capture_id, money, &idempotency_key)
            .await?;
        // The money went back: take the credits even if they were spent meanwhile (as debt),
        // never leave the refund unbooked.
        let session = crate::service::retry_on_conflict!(
            self.apply_refund_once(
                session_id,
                &outcome.refund_id,
                outcome.amount,
                EntryKind::Refund,
                None,
                Shortfall::Debt
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
