//! Confirming a checkout after the buyer approved: capture once, credit once.

use super::Payments;
use super::credit::Capture;
use crate::error::{LedgerError, ProviderError, ValidationError};
use crate::id::PaymentSessionId;
use crate::payment_session::{PaymentSession, PaymentStatus};
use crate::ports::{CaptureOutcome, OrderState};

/// What confirm answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfirmOutcome {
    /// Processed: `completed`, `failed`, or a final state it found (HTTP 200).
    Done(PaymentSession),
    /// The capture is running or pending at the provider (HTTP 202).
    Pending(PaymentSession),
}

impl ConfirmOutcome {
    /// The session either way.
    pub fn session(&self) -> &PaymentSession {
        match self {
            Self::Done(session) | Self::Pending(session) => session,
        }
    }

    fn of(session: PaymentSession) -> Self {
        match session.status {
            PaymentStatus::Capturing | PaymentStatus::Captured | PaymentStatus::Confirming => {
                Self::Pending(session)
            }
            PaymentStatus::Created
            | PaymentStatus::Confirmed
            | PaymentStatus::Completed
            | PaymentStatus::Canceled
            | PaymentStatus::Failed
            | PaymentStatus::Refunded
            | PaymentStatus::Expired => Self::Done(session),
        }
    }
}

impl Payments {
    /// Confirms a checkout: checks the `checkout_state`, captures at the provider exactly once
    /// (a compare-and-set `created → capturing` elects one caller), and credits the wallet.
    /// Confirming a session that is past `created` never captures again: it answers the
    /// session's current state.
    ///
    /// # Errors
    /// [`LedgerError::Invalid`] for a wrong `checkout_state` or provider token;
    /// [`LedgerError::Conflict`] `payment_not_approved` (session stays `created`), or for a
    /// canceled, expired or failed session; [`LedgerError::Provider`] `Declined` when the
    /// instrument was declined (session back to `created`, the buyer may pick another).
    pub async fn confirm(
        &self,
        session_id: &PaymentSessionId,
        provider_token: Option<&str>,
        checkout_state: &str,
    ) -> Result<ConfirmOutcome, LedgerError> {
        let session = self.session(session_id).await?;
        if session.checkout_state != checkout_state {
            return Err(ValidationError::with_code(
                "invalid_checkout_state",
                "checkout_state does not match the session",
            )
            .into());
        }
        if let Some(token) = provider_token
            && session.provider_order_id.as_deref() != Some(token)
        {
            return Err(ValidationError::with_code(
                "invalid_provider_token",
                "provider_session_token does not match the session",
            )
            .into());
        }
        match session.status {
            PaymentStatus::Created => {}
            PaymentStatus::Canceled | PaymentStatus::Expired | PaymentStatus::Failed => {
                return Err(LedgerError::conflict(
                    "payment_session_closed",
                    format!("payment session {} is {}", session.id, session.status),
                ));
            }
            PaymentStatus::Capturing
            | PaymentStatus::Captured
            | PaymentStatus::Confirming
            | PaymentStatus::Confirmed
            | PaymentStatus::Completed
            | PaymentStatus::Refunded => return Ok(ConfirmOutcome::of(session)),
        }
        self.capture(&session).await.map(ConfirmOutcome::of)
    }

    /// Runs the capture of a `created` session: elects one caller, asks the provider, and
    /// records the outcome. Used by confirm, the approved webhook and the reconciler.
    pub(super) async fn capture(
        &self,
        session: &PaymentSession,
    ) -> Result<PaymentSession, LedgerError> {
        let provider = self.provider(&session.provider)?;
        let order_id = session.provider_order_id.clone().ok_or_else(|| {
            LedgerError::conflict(
                "payment_session_corrupt",
                "the session has no provider order",
            )
        })?;
        if provider.name() == "revolut_pro" {
            // Revolut captures by itself: confirm reads the order instead of capturing.
            return self.follow_order(session, &order_id).await;
        }
        let Some(elected) = self
            .move_if(
                &session.id,
                &[PaymentStatus::Created],
                PaymentStatus::Capturing,
            )
            .await?
        else {
            return self.session(&session.id).await;
        };
        match provider.capture(&order_id, elected.id.as_str()).await {
            Ok(CaptureOutcome::Completed {
                capture_id, amount, ..
            }) => {
                self.credit_capture(
                    &elected.id,
                    &Capture {
                        capture_id,
                        amount: Some(amount),
                    },
                    None,
                )
                .await
            }
            Ok(CaptureOutcome::Pending { capture_id }) => {
                self.record_pending(&elected.id, capture_id).await
            }
            Ok(CaptureOutcome::Declined { code }) => {
                self.fail(
                    &elected.id,
                    &[PaymentStatus::Capturing],
                    &code,
                    "the provider declined the capture",
                )
                .await
            }
            Err(ProviderError::NotApproved) => {
                self.move_if(
                    &elected.id,
                    &[PaymentStatus::Capturing],
                    PaymentStatus::Created,
                )
                .await?;
                Err(LedgerError::conflict(
                    "payment_not_approved",
                    "the buyer has not approved the payment yet",
                ))
            }
            Err(error @ ProviderError::Declined { .. }) => {
                self.move_if(
                    &elected.id,
                    &[PaymentStatus::Capturing],
                    PaymentStatus::Created,
                )
                .await?;
                Err(error.into())
            }
            Err(ProviderError::Timeout | ProviderError::Unavailable(_)) => {
                // The outcome is unknown: the session stays `capturing` and the reconciler
                // asks the provider later (the capture is idempotent on the session id).
                self.session(&elected.id).await
            }
            // Anything else: we cannot tell whether the provider captured. The session stays
            // `capturing` so the reconciler asks the provider for the order's state; failing it
            // here could lose a capture that did happen.
            Err(error) => Err(error.into()),
        }
    }

    /// Reads the order at the provider and moves the session the way the order says.
    pub(super) async fn follow_order(
        &self,
        session: &PaymentSession,
        order_id: &str,
    ) -> Result<PaymentSession, LedgerError> {
        let provider = self.provider(&session.provider)?;
        match provider.order_state(order_id).await {
            Ok(OrderState::Captured(CaptureOutcome::Completed {
                capture_id, amount, ..
            })) => {
                self.credit_capture(
                    &session.id,
                    &Capture {
                        capture_id,
                        amount: Some(amount),
                    },
                    None,
                )
                .await
            }
            Ok(OrderState::Captured(CaptureOutcome::Pending { capture_id })) => {
                self.record_pending(&session.id, capture_id).await
            }
            Ok(
                OrderState::Captured(CaptureOutcome::Declined { code })
                | OrderState::Failed { code },
            ) => {
                self.fail(
                    &session.id,
                    &[
                        PaymentStatus::Created,
                        PaymentStatus::Capturing,
                        PaymentStatus::Captured,
                    ],
                    &code,
                    "the provider declined the payment",
                )
                .await
            }
            Ok(OrderState::Canceled) => {
                self.fail(
                    &session.id,
                    &[PaymentStatus::Capturing, PaymentStatus::Captured],
                    "order_canceled",
                    "the order was canceled at the provider",
                )
                .await
            }
            // A rule's charge was declined after it was sent (the order is unpaid again):
            // the same decline as a synchronous one. A buyer's checkout waits for another try.
            Ok(OrderState::AttemptDeclined { code })
                if session.surface == crate::service::AUTO_TOPUP_SURFACE =>
            {
                self.fail_declined_charge(session, order_id, &code).await
            }
            Ok(OrderState::Created | OrderState::Approved | OrderState::AttemptDeclined { .. }) => {
                self.session(&session.id).await
            }
            Err(ProviderError::Timeout | ProviderError::Unavailable(_)) => {
                self.session(&session.id).await
            }
            Err(error) => Err(error.into()),
        }
    }

    pub(super) async fn record_pending(
        &self,
        id: &PaymentSessionId,
        capture_id: String,
    ) -> Result<PaymentSession, LedgerError> {
        let (session, _) = self
            .update_session(id, |session, now| {
                if !matches!(
                    session.status,
                    PaymentStatus::Created | PaymentStatus::Capturing
                ) {
                    return Ok(false);
                }
                session.move_to(PaymentStatus::Captured, now)?;
                session.provider_capture_id = Some(capture_id.clone());
                Ok(true)
            })
            .await?;
        Ok(session)
    }

    pub(super) async fn fail(
        &self,
        id: &PaymentSessionId,
        from: &[PaymentStatus],
        code: &str,
        message: &str,
    ) -> Result<PaymentSession, LedgerError> {
        if self.session(id).await?.surface == crate::service::AUTO_TOPUP_SURFACE {
            return self.fail_auto_topup(id, code, message).await;
        }
        let (session, _) = self
            .update_session(id, |session, now| {
                if !from.contains(&session.status) {
                    return Ok(false);
                }
                session.move_to(PaymentStatus::Failed, now)?;
                session.error_code = Some(code.to_owned());
                session.error_message = Some(message.to_owned());
                Ok(true)
            })
            .await?;
        Ok(session)
    }

    /// Compare-and-set of the status: moves to `to` when the stored status is one of `from`;
    /// `None` when it is not (another caller moved it first).
    pub(super) async fn move_if(
        &self,
        id: &PaymentSessionId,
        from: &[PaymentStatus],
        to: PaymentStatus,
    ) -> Result<Option<PaymentSession>, LedgerError> {
        let (session, moved) = self
            .update_session(id, |session, now| {
                if !from.contains(&session.status) {
                    return Ok(false);
                }
                session.move_to(to, now)?;
                Ok(true)
            })
            .await?;
        Ok(moved.then_some(session))
    }
}
