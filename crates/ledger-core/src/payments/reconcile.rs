//! Background payment work: expiring unapproved sessions and resuming stuck ones.

use serde::Serialize;
use time::Duration;

use super::Payments;
use crate::error::{LedgerError, ProviderError};
use crate::id::PaymentSessionId;
use crate::payment_session::PaymentStatus;
use crate::ports::{CaptureOutcome, OrderState};

/// A session not updated for this long in `capturing`, `captured` or `confirming` is asked
/// about at the provider.
pub const STUCK_AFTER_SECONDS: i64 = 60;

/// What a payment sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PaymentSweepReport {
    /// Sessions expired.
    pub sessions_expired: u64,
    /// Stuck sessions asked about at the provider.
    pub sessions_reconciled: u64,
    /// Paid top-ups of rules charged.
    pub auto_topups_charged: u64,
}

impl Payments {
    /// Expires unapproved sessions past `expires_at` (after canceling the order at a provider
    /// where it could still be paid, and asking the provider, so an order paid without a
    /// webhook is credited instead) and resumes stuck sessions.
    ///
    /// # Errors
    /// Store failures. Provider failures leave the session for the next sweep.
    pub async fn sweep(&self) -> Result<PaymentSweepReport, LedgerError> {
        let now = self.ledger.now();
        let due = self
            .store
            .payment_due_work(now, now - Duration::seconds(STUCK_AFTER_SECONDS), 200)
            .await?;
        let mut report = PaymentSweepReport {
            auto_topups_charged: self.run_auto_topups().await?,
            ..PaymentSweepReport::default()
        };
        for id in &due.expired {
            report.sessions_expired += u64::from(self.expire(id).await?);
        }
        let stuck_before = now - Duration::seconds(STUCK_AFTER_SECONDS);
        for id in &due.stuck {
            if self.reconcile(id).await.is_ok() {
                report.sessions_reconciled += 1;
            }
            self.requeue_if_still_stuck(id, stuck_before).await?;
        }
        Ok(report)
    }

    /// A session the reconciler left as it was (a capture still PENDING at the provider, a
    /// provider that did not answer) goes to the back of the queue: its `updated_at` is set
    /// to now, so the next sweeps reach the other stuck sessions instead of asking about the
    /// same first ones forever.
    async fn requeue_if_still_stuck(
        &self,
        id: &PaymentSessionId,
        stuck_before: time::OffsetDateTime,
    ) -> Result<(), LedgerError> {
        self.update_session(id, |session, now| {
            let still_stuck = matches!(
                session.status,
                PaymentStatus::Capturing | PaymentStatus::Captured | PaymentStatus::Confirming
            ) && session.updated_at <= stuck_before;
            if still_stuck {
                session.updated_at = now;
            }
            Ok(still_stuck)
        })
        .await?;
        Ok(())
    }

    /// Expires a `created` session past `expires_at`, once its provider order can no longer
    /// take money.
    ///
    /// A provider whose orders can be paid without us (Revolut captures by itself) is asked
    /// to cancel the order first, and the session expires only when the provider says the
    /// order is canceled or failed. An order paid meanwhile, or being paid, is followed
    /// instead: it is credited through the capture path. When the outcome is unknown (a
    /// timeout, or a refusal the order's state does not explain) the session stays `created`,
    /// so the next sweep asks again and a payment that lands meanwhile is still seen.
    ///
    /// A provider with nothing to cancel (its orders take no money until we capture them) is
    /// asked for the order's state, so a capture that happened without a webhook is credited;
    /// when it does not answer, the session expires anyway, because a capture reported later
    /// still credits (`expired → captured`).
    async fn expire(&self, id: &PaymentSessionId) -> Result<bool, LedgerError> {
        let session = self.session(id).await?;
        if session.status != PaymentStatus::Created || session.expires_at > self.ledger.now() {
            return Ok(false);
        }
        let (Ok(provider), Some(order_id)) =
            (self.provider(&session.provider), &session.provider_order_id)
        else {
            return self.expire_created(id).await;
        };
        match provider.cancel_order(order_id).await {
            Ok(()) => {}
            Err(ProviderError::Unsupported(_)) => {
                if let Ok(OrderState::Captured(
                    CaptureOutcome::Completed { .. } | CaptureOutcome::Pending { .. },
                )) = provider.order_state(order_id).await
                {
                    self.follow_order(&session, order_id).await?;
                    return Ok(false);
                }
            }
            Err(ProviderError::Timeout | ProviderError::Unavailable(_)) => return Ok(false),
            // Refused: the order was paid, is being paid, or is closed already.
            Err(_) => match provider.order_state(order_id).await {
                Ok(OrderState::Captured(
                    CaptureOutcome::Completed { .. } | CaptureOutcome::Pending { .. },
                )) => {
                    self.follow_order(&session, order_id).await?;
                    return Ok(false);
                }
                Ok(
                    OrderState::Canceled
                    | OrderState::Failed { .. }
                    | OrderState::Captured(CaptureOutcome::Declined { .. }),
                ) => {}
                Ok(
                    OrderState::Created | OrderState::Approved | OrderState::AttemptDeclined { .. },
                )
                | Err(_) => return Ok(false),
            },
        }
        self.expire_created(id).await
    }

    async fn expire_created(&self, id: &PaymentSessionId) -> Result<bool, LedgerError> {
        Ok(self
            .move_if(id, &[PaymentStatus::Created], PaymentStatus::Expired)
            .await?
            .is_some())
    }

    /// Resumes a session stuck in `capturing`, `captured` or `confirming` by asking the
    /// provider for the order's state. Public so an operator (or a test) can run it at once.
    ///
    /// # Errors
    /// Store or provider failures.
    pub async fn reconcile(
        &self,
        id: &PaymentSessionId,
    ) -> Result<crate::payment_session::PaymentSession, LedgerError> {
        let session = self.session(id).await?;
        if session.surface == crate::service::AUTO_TOPUP_SURFACE
            && session.status == PaymentStatus::Capturing
        {
            return self.reconcile_auto_topup(&session).await;
        }
        let order_id = session.provider_order_id.clone().unwrap_or_default();
        match session.status {
            PaymentStatus::Capturing => {
                let provider = self.provider(&session.provider)?;
                match provider.order_state(&order_id).await? {
                    // Approved but not captured (the process died before the capture call):
                    // capture now; the idempotency key makes a capture that did happen a no-op.
                    OrderState::Approved => {
                        self.move_if(id, &[PaymentStatus::Capturing], PaymentStatus::Created)
                            .await?;
                        let session = self.session(id).await?;
                        self.capture(&session).await
                    }
                    OrderState::Created | OrderState::AttemptDeclined { .. } => {
                        self.move_if(id, &[PaymentStatus::Capturing], PaymentStatus::Created)
                            .await?;
                        self.session(id).await
                    }
                    _ => self.follow_order(&session, &order_id).await,
                }
            }
            PaymentStatus::Captured | PaymentStatus::Confirming => {
                self.follow_order(&session, &order_id).await
            }
            PaymentStatus::Created
            | PaymentStatus::Confirmed
            | PaymentStatus::Completed
            | PaymentStatus::Canceled
            | PaymentStatus::Failed
            | PaymentStatus::Refunded
            | PaymentStatus::Expired => Ok(session),
        }
    }

    /// Resumes a rule's paid top-up whose charge never reported back.
    ///
    /// Without an order the charge is repeated with the same idempotency key, which the
    /// provider answers with the first charge if there was one. With an order (prepared and
    /// stored before the payment call, or reported by an earlier attempt) the order says what
    /// happened: paid or paying is followed, and an order still unpaid is charged again as
    /// that same order. Never a new one: for Revolut a new order would be a second charge.
    /// An order whose payment attempt was declined (its answer lost) is followed too: the
    /// charge failed as a decline, and the order is not paid a second time.
    async fn reconcile_auto_topup(
        &self,
        session: &crate::payment_session::PaymentSession,
    ) -> Result<crate::payment_session::PaymentSession, LedgerError> {
        if let Some(order_id) = &session.provider_order_id {
            let provider = self.provider(&session.provider)?;
            match provider.order_state(order_id).await? {
                OrderState::Created | OrderState::Approved => {}
                OrderState::Captured(_)
                | OrderState::AttemptDeclined { .. }
                | OrderState::Canceled
                | OrderState::Failed { .. } => {
                    return self.follow_order(session, order_id).await;
                }
            }
        }
        self.move_if(
            &session.id,
            &[PaymentStatus::Capturing],
            PaymentStatus::Created,
        )
        .await?;
        let session = self.session(&session.id).await?;
        self.charge_auto_topup(&session).await
    }

    /// The buyer canceled at the provider (returned through the cancel URL).
    ///
    /// # Errors
    /// [`LedgerError::Conflict`] when the session is past `created`.
    pub async fn cancel(
        &self,
        id: &PaymentSessionId,
    ) -> Result<crate::payment_session::PaymentSession, LedgerError> {
        match self
            .move_if(id, &[PaymentStatus::Created], PaymentStatus::Canceled)
            .await?
        {
            Some(session) => Ok(session),
            None => {
                let session = self.session(id).await?;
                if session.status == PaymentStatus::Canceled {
                    Ok(session)
                } else {
                    Err(LedgerError::conflict(
                        "payment_session_not_cancelable",
                        format!("payment session {id} is {}", session.status),
                    ))
                }
            }
        }
    }
}
