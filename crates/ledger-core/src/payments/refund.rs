//! Admin refunds: refund at the provider, then take the paid credits back.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::Payments;
use super::credit::refund_credits;
use crate::error::{LedgerError, ProviderError, ValidationError};
use crate::id::PaymentSessionId;
use crate::id::ReservationId;
use crate::journal::EntryKind;
use crate::money::{Credits, Money};
use crate::payment_session::{PaymentSession, PaymentStatus};
use crate::ports::UnitOfWork;
use crate::reservation::{REFUND_HOLD_KEY, Reservation};
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

/// What the hold of an admin refund's credits notes of the refund in flight: the session and
/// the money asked. It is the refund's record until the refund is applied, so a retry, a
/// concurrent request and an early webhook all find it.
#[derive(Debug, Deserialize)]
struct RefundHoldNote {
    refund_of: String,
    money: Decimal,
    provider_key: String,
    /// The caller's idempotency key the refund was asked with, if any.
    #[serde(default)]
    request_key: Option<String>,
}

/// The held credits of the admin refund of `session_id` in flight on a wallet the unit has
/// locked, with the money it refunds (at most one: a second refund waits for it).
pub(super) async fn pending_refund_hold(
    uow: &mut dyn UnitOfWork,
    wallet_id: &crate::id::WalletId,
    session_id: &PaymentSessionId,
) -> Result<Option<(Reservation, Decimal)>, LedgerError> {
    Ok(in_flight(uow, wallet_id, session_id)
        .await?
        .map(|(hold, note)| (hold, note.money)))
}

async fn in_flight(
    uow: &mut dyn UnitOfWork,
    wallet_id: &crate::id::WalletId,
    session_id: &PaymentSessionId,
) -> Result<Option<(Reservation, RefundHoldNote)>, LedgerError> {
    let held = uow.held_reservations(wallet_id).await?;
    Ok(held.into_iter().find_map(|hold| {
        let note = refund_note(&hold)?;
        (note.refund_of == session_id.as_str()).then_some((hold, note))
    }))
}

/// The note of a hold the refund path made: metadata that is a JSON object with
/// [`REFUND_HOLD_KEY`] (a caller's reserve with such metadata is refused, so no caller can
/// forge one, in any JSON shape) on a hold that names no user or team, as the refund's own.
fn refund_note(hold: &Reservation) -> Option<RefundHoldNote> {
    if !hold.is_refund_hold() {
        return None;
    }
    serde_json::from_str(hold.metadata.as_deref()?).ok()
}

/// The held credits of an admin refund and the idempotency key its provider call uses.
struct RefundHold {
    id: ReservationId,
    credits: Credits,
    provider_key: String,
}

impl Payments {
    /// Checks that the refund's credits are available (paid, not held, no debt) and holds them
    /// on the wallet, so nothing spends them while the provider refunds.
    ///
    /// A refund of the same money already in flight (its provider call timed out, or runs
    /// now) answers its hold instead: the retry reaches the provider with the same key.
    async fn hold_refund_credits(
        &self,
        session: &PaymentSession,
        money: Money,
        request_key: Option<&str>,
    ) -> Result<RefundHold, LedgerError> {
        let now = self.ledger.now();
        let mut uow = self.ledger.store().begin().await?;
        let mut wallet = uow
            .lock_wallet(&session.wallet_id)
            .await?
            .ok_or_else(|| LedgerError::not_found("wallet", &session.wallet_id))?;
        if let Some((hold, note)) = in_flight(uow.as_mut(), &wallet.id, &session.id).await? {
            // The same refund again (a retry): the same money, and no other request key.
            let same_request = request_key.is_none() || note.request_key.as_deref() == request_key;
            if note.money == money.amount() && same_request {
                return Ok(RefundHold {
                    id: hold.id,
                    credits: hold.amount,
                    provider_key: note.provider_key,
                });
            }
            let in_flight_money = note.money;
            return Err(LedgerError::conflict(
                "refund_in_progress",
                format!(
                    "a refund of {in_flight_money} {} of payment session {} is in flight; \
                     retry it, or wait until it is applied",
                    session.currency.code(),
                    session.id
                ),
            ));
        }
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
        // The caller's idempotency key makes the provider's: a retry after a lost answer is
        // the same refund there, even when its webhook already applied it here.
        let provider_key = match request_key {
            Some(key) => format!("{}-refund-{key}", session.id),
            None => format!("{}-refund-{}", session.id, self.ledger.ids().next_suffix()),
        };
        let (hold, transaction) = self.ledger.new_hold(
            &mut wallet,
            &NewHold {
                user_id: None,
                team_id: None,
                amount: credits,
                fee_type: FeeType::Charge,
                ttl_seconds: REFUND_HOLD_SECONDS,
                metadata: Some(
                    serde_json::json!({
                        REFUND_HOLD_KEY: session.id.as_str(),
                        "money": money.amount().to_string(),
                        "provider_key": provider_key,
                        "request_key": request_key,
                    })
                    .to_string(),
                ),
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
        Ok(RefundHold {
            id: hold.id,
            credits,
            provider_key,
        })
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
        self.refund_with_key(session_id, amount, None).await
    }

    /// [`Payments::refund`] with the caller's idempotency key (a short token of visible ASCII,
    /// unique per intended refund; the HTTP app passes a digest of the request's
    /// `Idempotency-Key`). The provider call is made with a key derived from it, so retrying
    /// after a lost answer never refunds twice at the provider. Without one, only a retry
    /// while the first attempt's credits are still held reuses its key.
    ///
    /// A provider that did not answer (timeout, unavailable) keeps the credits held: the
    /// refund's webhook, or a retry, applies it; the hold expires after 15 minutes otherwise.
    ///
    /// # Errors
    /// As [`Payments::refund`], and [`LedgerError::Conflict`] `refund_in_progress` while a
    /// refund of other money of the same session is in flight.
    pub async fn refund_with_key(
        &self,
        session_id: &PaymentSessionId,
        amount: Option<Decimal>,
        request_key: Option<&str>,
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
        let hold = crate::service::retry_on_conflict!(
            self.hold_refund_credits(&session, money, request_key).await
        )?;
        let provider = self.provider(&session.provider)?;
        let order_id = session.provider_order_id.clone().unwrap_or_default();
        let capture_id = session.provider_capture_id.clone().unwrap_or_default();
        let outcome = match provider
            .refund(&order_id, &capture_id, money, &hold.provider_key)
            .await
        {
            Ok(outcome) => outcome,
            Err(error @ (ProviderError::Timeout | ProviderError::Unavailable(_))) => {
                // The outcome is unknown: keep the credits held. The refund's webhook takes
                // them back if it happened; a retry reaches the provider with the same key.
                return Err(error.into());
            }
            Err(error) => {
                // Refused by the provider: nothing was refunded; free the credits.
                self.ledger.release_refund_hold(&hold.id).await?;
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
                Some(&hold.id)
            )
            .await
        )?;
        Ok(RefundResult {
            session,
            provider_refund_id: outcome.refund_id,
            refunded_amount: outcome.amount.amount(),
            refunded_credits: hold.credits,
        })
    }
}
