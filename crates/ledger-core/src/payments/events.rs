//! Provider webhooks: each event is applied at most once, in the same unit as its effect.

use super::Payments;
use super::credit::{Capture, EventMark, Shortfall, refund_credits, take_back};
use crate::error::LedgerError;
use crate::id::{PaymentSessionId, ReservationId, TransactionId};
use crate::journal::{EntryKind, JournalBuilder};
use crate::money::Money;
use crate::payment_session::{PaymentSession, PaymentStatus};
use crate::ports::{ProviderEvent, ProviderEventKind};
use crate::reservation::ReservationStatus;

impl Payments {
    /// Applies a verified provider event. Events for unknown sessions and unknown event
    /// types are acknowledged and ignored; a duplicate event id changes nothing.
    ///
    /// A revoked saved method concerns no session (answers `None`): the method is deleted and
    /// the rules naming it pause (see `revoked_method`).
    ///
    /// # Errors
    /// Store failures (the provider will deliver again).
    pub async fn apply_event(
        &self,
        provider: &str,
        event: &ProviderEvent,
    ) -> Result<Option<PaymentSession>, LedgerError> {
        if let ProviderEventKind::PaymentMethodRevoked { method_token } = &event.kind {
            self.revoke_saved_method(provider, &event.event_id, method_token)
                .await?;
            return Ok(None);
        }
        let Some(session) = self.event_session(provider, event).await? else {
            return Ok(None);
        };
        let mark = EventMark {
            provider,
            event_id: &event.event_id,
        };
        let session = match &event.kind {
            ProviderEventKind::OrderApproved => {
                if !self.mark_event(&session.id, mark).await? {
                    return Ok(Some(session));
                }
                if session.status == PaymentStatus::Created {
                    match self.capture(&session).await {
                        Ok(session) => session,
                        // The buyer may retry with another instrument; the session stays.
                        Err(LedgerError::Provider(_) | LedgerError::Conflict { .. }) => {
                            self.session(&session.id).await?
                        }
                        Err(error) => return Err(error),
                    }
                } else {
                    session
                }
            }
            ProviderEventKind::CaptureCompleted { capture_id, amount } => {
                let capture = Capture {
                    capture_id: capture_id.clone(),
                    amount: Some(*amount),
                };
                self.credit_capture(&session.id, &capture, Some(mark))
                    .await?
            }
            ProviderEventKind::CaptureDenied { code } => {
                if !self.mark_event(&session.id, mark).await? {
                    return Ok(Some(session));
                }
                self.fail(
                    &session.id,
                    &[
                        PaymentStatus::Created,
                        PaymentStatus::Capturing,
                        PaymentStatus::Captured,
                    ],
                    code,
                    "the provider denied the capture",
                )
                .await?
            }
            ProviderEventKind::Refunded { refund_id, amount } => {
                self.apply_provider_refund(&session.id, refund_id, *amount, EntryKind::Refund, mark)
                    .await?
            }
            ProviderEventKind::Reversed {
                reversal_id,
                amount,
            } => {
                self.apply_provider_refund(
                    &session.id,
                    reversal_id,
                    *amount,
                    EntryKind::Reversal,
                    mark,
                )
                .await?
            }
            ProviderEventKind::OrderCanceled { code } => {
                if !self.mark_event(&session.id, mark).await? {
                    return Ok(Some(session));
                }
                match self
                    .move_if(
                        &session.id,
                        &[PaymentStatus::Created],
                        PaymentStatus::Canceled,
                    )
                    .await?
                {
                    Some(session) => session,
                    None => {
                        self.fail(
                            &session.id,
                            &[PaymentStatus::Capturing],
                            code,
                            "the order was canceled at the provider",
                        )
                        .await?
                    }
                }
            }
            // Saved methods are recorded by the checkout that saved them (see `saved_method`);
            // these events carry nothing the session needs. Revocations were applied above.
            ProviderEventKind::PaymentMethodSaved(_)
            | ProviderEventKind::PaymentMethodRevoked { .. }
            | ProviderEventKind::Other(_) => session,
        };
        Ok(Some(session))
    }

    async fn event_session(
        &self,
        provider: &str,
        event: &ProviderEvent,
    ) -> Result<Option<PaymentSession>, LedgerError> {
        if let Some(id) = event
            .session_id
            .as_deref()
            .and_then(|id| PaymentSessionId::parse(id).ok())
            && let Some(session) = self.store.payment_session(&id).await?
            && session.provider == provider
        {
            return Ok(Some(session));
        }
        match &event.order_id {
            Some(order_id) => Ok(self
                .store
                .payment_session_by_order(provider, order_id)
                .await?),
            None => Ok(None),
        }
    }

    /// Records an event on its own; `false` when it was applied before.
    async fn mark_event(
        &self,
        session_id: &PaymentSessionId,
        mark: EventMark<'_>,
    ) -> Result<bool, LedgerError> {
        crate::service::retry_on_conflict!(
            async {
                let mut uow = self.ledger.store().begin().await?;
                let _ = session_id;
                let fresh = uow
                    .record_provider_event(mark.provider, mark.event_id)
                    .await?;
                uow.commit().await?;
                Ok(fresh)
            }
            .await
        )
    }

    /// A refund or reversal started at the provider: takes back what is left of the session's
    /// paid credits and books the rest as debt. A refund id applied before (our own admin
    /// refund, reported back) changes nothing.
    async fn apply_provider_refund(
        &self,
        session_id: &PaymentSessionId,
        refund_id: &str,
        amount: Money,
        kind: EntryKind,
        mark: EventMark<'_>,
    ) -> Result<PaymentSession, LedgerError> {
        crate::service::retry_on_conflict!(
            self.apply_refund_once(session_id, refund_id, amount, kind, Some(mark), None)
                .await
        )
    }

    /// Takes back the credits of a refund or reversal in one unit.
    pub(super) async fn apply_refund_once(
        &self,
        session_id: &PaymentSessionId,
        refund_id: &str,
        amount: Money,
        kind: EntryKind,
        mark: Option<EventMark<'_>>,
        refund_hold: Option<&ReservationId>,
    ) -> Result<PaymentSession, LedgerError> {
        let now = self.ledger.now();
        let mut snapshot = self.session(session_id).await?;
        if mark.is_some() && !snapshot.status.is_credited() {
            // A refund or reversal reported before we credited the capture: the capture
            // happened, so credit it first (ask the provider), then take the refund back.
            if let Some(order_id) = snapshot.provider_order_id.clone() {
                snapshot = self.follow_order(&snapshot, &order_id).await?;
            }
            if !snapshot.status.is_credited() {
                // Not recorded: the provider delivers the event again and it applies then.
                return Err(LedgerError::conflict(
                    "refund_before_capture",
                    format!(
                        "payment session {} is {}; the refund applies once it is credited",
                        snapshot.id, snapshot.status
                    ),
                ));
            }
        }
        let mut uow = self.ledger.store().begin().await?;
        let (mut wallet, mut session) =
            super::lock_wallet_and_session(uow.as_mut(), &snapshot.wallet_id, session_id).await?;
        if session.wallet_id != wallet.id {
            // The capture landed on another wallet after the snapshot: lock that one instead.
            return Err(
                crate::StoreError::Conflict("payment session changed wallet".to_owned()).into(),
            );
        }
        if let Some(mark) = mark
            && !uow
                .record_provider_event(mark.provider, mark.event_id)
                .await?
        {
            return Ok(session);
        }
        let applicable = matches!(session.status, PaymentStatus::Completed)
            && !session.applied_refund_ids.iter().any(|id| id == refund_id);
        // An admin refund held its credits before calling the provider: free them for the
        // take-back below, in the same unit, so nothing can spend them in between. The admin
        // call names its hold; a refund webhook that arrives first (another replica, a slow
        // answer, a timeout) frees the hold of the admin refund in flight for the same money,
        // so the credits it took back are not booked as debt.
        let hold = match refund_hold {
            Some(hold_id) => uow.lock_reservation(hold_id).await?,
            None if applicable && kind == EntryKind::Refund => {
                super::refund::pending_refund_hold(uow.as_mut(), &wallet.id, &session.id)
                    .await?
                    .filter(|(_, money)| *money == amount.amount())
                    .map(|(hold, _)| hold)
            }
            None => None,
        };
        if let Some(mut hold) = hold
            && hold.status == ReservationStatus::Held
        {
            self.ledger
                .end_hold(
                    uow.as_mut(),
                    &mut wallet,
                    &mut hold,
                    ReservationStatus::Released,
                    "refund",
                    "system",
                    now,
                )
                .await?;
        }
        if !applicable {
            uow.commit().await?;
            return Ok(session);
        }
        let money = amount
            .amount()
            .min(session.amount - session.refunded_amount);
        let credits = refund_credits(&session, money, wallet.rate_amount);
        let mut journal = JournalBuilder::new(
            self.ledger.new_id(TransactionId::from_suffix),
            wallet.org_id.clone(),
            kind,
            ("payment_session", session.id.as_str()),
            &format!("provider:{}", session.provider),
            now,
        );
        take_back(
            &mut journal,
            &mut wallet,
            credits,
            &session.provider,
            Shortfall::Debt,
        )?;
        session.refunded_amount += money;
        session.refunded_credits = session.refunded_credits.plus(credits);
        session.applied_refund_ids.push(refund_id.to_owned());
        session.provider_refund_id = Some(refund_id.to_owned());
        session.updated_at = now;
        if session.refunded_amount >= session.amount {
            session.move_to(PaymentStatus::Refunded, now)?;
        }
        uow.update_wallet(&wallet).await?;
        if !journal.is_empty() {
            uow.append_journal(journal.finish()).await?;
        }
        uow.update_payment_session(&session).await?;
        uow.commit().await?;
        Ok(session)
    }
}
