//! Paid top-ups started by rules: charging the saved payment method, and the rule's rails.

use super::Payments;
use super::credit::Capture;
use crate::error::{LedgerError, ProviderError};
use crate::id::PaymentSessionId;
use crate::money::{Credits, Money};
use crate::payment_session::{PaymentSession, PaymentStatus};
use crate::ports::{
    CaptureOutcome, OrderState, PageRequest, PaymentProvider, PaymentSessionFilter,
};
use crate::service::AUTO_TOPUP_SURFACE;
use crate::service::rules::month_key;
use crate::topup_rule::{
    DECLINES_BEFORE_PAUSE, RuleRun, RuleRunStatus, decline_backoff, is_never_retry,
};
use crate::wallet::Wallet;

/// The most pages of `created` sessions one sweep reads looking for rules' charges.
const AUTO_TOPUP_PAGES_MAX: u32 = 1000;

impl Payments {
    /// Charges every paid top-up a rule started and nobody charged yet.
    ///
    /// # Errors
    /// Store failures; a provider failure is recorded on its session and rule instead.
    pub async fn run_auto_topups(&self) -> Result<u64, LedgerError> {
        // Every page: `created` checkouts buyers never approved (newest first) must not hide
        // a rule's charge, which would then expire with the rule still waiting for it.
        let mut due = Vec::new();
        for page in 1..=AUTO_TOPUP_PAGES_MAX {
            let filter = PaymentSessionFilter {
                status: Some(PaymentStatus::Created),
                page: PageRequest {
                    page,
                    per_page: 100,
                },
                ..PaymentSessionFilter::default()
            };
            let created = self.store.list_payment_sessions(&filter).await?;
            let more = created.has_more(filter.page);
            due.extend(
                created
                    .items
                    .into_iter()
                    .filter(|session| session.surface == AUTO_TOPUP_SURFACE),
            );
            if !more {
                break;
            }
        }
        let mut charged = 0;
        for session in &due {
            self.charge_auto_topup(session).await?;
            charged += 1;
        }
        Ok(charged)
    }

    /// Charges one rule's paid top-up against its saved payment method, merchant-initiated.
    ///
    /// # Errors
    /// Store failures.
    pub async fn charge_auto_topup(
        &self,
        session: &PaymentSession,
    ) -> Result<PaymentSession, LedgerError> {
        let method = match &session.payment_method_id {
            Some(id) => self.store.payment_method(id).await?,
            None => None,
        };
        // Only a method of the wallet's own organization: a rule must never charge another
        // organization's customer, whatever id it names.
        let Some(method) = method.filter(|method| method.org_id == session.org_id) else {
            return self
                .fail_auto_topup(
                    &session.id,
                    "payment_method_missing",
                    "the rule's saved payment method no longer exists",
                )
                .await;
        };
        let Some(provider) = self.providers.provider(&method.provider) else {
            return self
                .fail_auto_topup(
                    &session.id,
                    "no_payment_provider",
                    &format!("provider {} is not configured", method.provider),
                )
                .await;
        };
        if !self.providers.takes_new_payments(&method.provider) {
            // Switched off by the operator (the sandbox once a live provider is in use): a
            // method saved through it must not keep buying credits.
            return self
                .fail_auto_topup(
                    &session.id,
                    "payment_provider_disabled",
                    &format!(
                        "provider {} is switched off; save the rule with a method of an enabled provider",
                        method.provider
                    ),
                )
                .await;
        }
        // Elect one charger: created → capturing, naming the provider.
        let (stored, elected) = self
            .update_session(&session.id, |stored, now| {
                if stored.status != PaymentStatus::Created {
                    return Ok(false);
                }
                stored.provider.clone_from(&method.provider);
                stored.move_to(PaymentStatus::Capturing, now)?;
                Ok(true)
            })
            .await?;
        let elected = elected.then_some(stored);
        let Some(elected) = elected else {
            return self.session(&session.id).await;
        };
        let money = Money::try_new(elected.amount, elected.currency)
            .map_err(|error| LedgerError::conflict("session_amount_invalid", error.to_string()))?;
        let charged = match self
            .prepare_order(provider.as_ref(), &method.provider_token, money, &elected)
            .await?
        {
            PreparedOrder::Ready(order_id) => {
                provider
                    .charge_saved_method(
                        &method.provider_token,
                        money,
                        elected.id.as_str(),
                        order_id.as_deref(),
                    )
                    .await
            }
            PreparedOrder::Failed(error) => Err(error),
            PreparedOrder::Superseded => return self.session(&elected.id).await,
        };
        match charged {
            Ok(charge) => {
                self.set_order(&elected.id, &charge.order_id).await?;
                match charge.outcome {
                    CaptureOutcome::Completed {
                        capture_id, amount, ..
                    } => {
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
                    CaptureOutcome::Pending { capture_id } => {
                        self.record_pending(&elected.id, capture_id).await
                    }
                    CaptureOutcome::Declined { code } => {
                        self.fail_auto_topup(&elected.id, &code, "the provider declined the charge")
                            .await
                    }
                }
            }
            Err(ProviderError::Declined { code }) => {
                self.fail_auto_topup(&elected.id, &code, "the provider declined the charge")
                    .await
            }
            // The method is dead or the buyer must act: pause at once, whatever the count.
            Err(
                ProviderError::SavedMethodRevoked { code } | ProviderError::NeedsCustomer { code },
            ) => {
                let message = format!(
                    "the saved payment method cannot be charged without the customer ({code})"
                );
                self.fail_auto_topup_then(&elected.id, &code, &message, AfterFailure::Pause)
                    .await
            }
            // Unknown outcome: stays `capturing`. The reconciler asks about the stored order,
            // or charges again with the same idempotency key (and the same order), which the
            // provider answers with the first charge.
            Err(ProviderError::Timeout | ProviderError::Unavailable(_)) => {
                self.session(&elected.id).await
            }
            Err(error) => {
                self.fail_auto_topup(&elected.id, "provider_error", &error.to_string())
                    .await
            }
        }
    }

    /// The order the elected charger pays: the one stored on the session, or one the provider
    /// prepares now and that is stored before any payment call (Revolut has no idempotency
    /// for creating orders, so the stored id is what keeps a repeat from any process, after
    /// a timeout or a restart, on the same order).
    async fn prepare_order(
        &self,
        provider: &dyn PaymentProvider,
        method_token: &str,
        money: Money,
        elected: &PaymentSession,
    ) -> Result<PreparedOrder, LedgerError> {
        if let Some(order_id) = &elected.provider_order_id {
            return Ok(PreparedOrder::Ready(Some(order_id.clone())));
        }
        let prepared = match provider
            .prepare_saved_method_charge(method_token, money, elected.id.as_str())
            .await
        {
            Ok(Some(prepared)) => prepared,
            Ok(None) => return Ok(PreparedOrder::Ready(None)),
            Err(error) => return Ok(PreparedOrder::Failed(error)),
        };
        // Compare-and-set: only while this charger still holds the session, and never over an
        // order stored meanwhile (a slow charger whose session the reconciler handed to
        // another one). The order prepared here is then left unpaid, which moves no money.
        let (stored, _) = self
            .update_session(&elected.id, |session, now| {
                if session.status != PaymentStatus::Capturing || session.provider_order_id.is_some()
                {
                    return Ok(false);
                }
                session.provider_order_id = Some(prepared.clone());
                session.updated_at = now;
                Ok(true)
            })
            .await?;
        Ok(match (stored.status, stored.provider_order_id) {
            (PaymentStatus::Capturing, Some(order_id)) => PreparedOrder::Ready(Some(order_id)),
            _ => PreparedOrder::Superseded,
        })
    }

    /// A rule's charge whose payment attempt was declined after the charge call answered
    /// (the session is `captured` or `capturing`, the order unpaid again): the session fails
    /// as a synchronous decline would, so the rule backs off and may start another top-up.
    ///
    /// The order is canceled at the provider first, so no later attempt can pay an order whose
    /// session failed (nothing pays it again: the rule's next top-up is a new session with its
    /// own order). A timeout leaves the session for the next sweep. A refused cancel is
    /// answered by the order: paid, being paid or with an attempt under way is left for the
    /// next sweep, which follows it; still declined, canceled or failed fails the session.
    pub(super) async fn fail_declined_charge(
        &self,
        session: &PaymentSession,
        order_id: &str,
        code: &str,
    ) -> Result<PaymentSession, LedgerError> {
        let provider = self.provider(&session.provider)?;
        match provider.cancel_order(order_id).await {
            Ok(()) | Err(ProviderError::Unsupported(_)) => {}
            Err(ProviderError::Timeout | ProviderError::Unavailable(_)) => {
                return self.session(&session.id).await;
            }
            Err(_) => match provider.order_state(order_id).await {
                Ok(
                    OrderState::AttemptDeclined { .. }
                    | OrderState::Canceled
                    | OrderState::Failed { .. },
                ) => {}
                Ok(OrderState::Created | OrderState::Approved | OrderState::Captured(_))
                | Err(_) => {
                    return self.session(&session.id).await;
                }
            },
        }
        self.fail_auto_topup(&session.id, code, "the provider declined the charge")
            .await
    }

    /// Records the order a charge reported, when the session does not hold it yet (providers
    /// that need no prepared order report it only now).
    async fn set_order(&self, id: &PaymentSessionId, order_id: &str) -> Result<(), LedgerError> {
        self.update_session(id, |session, _| {
            if session.provider_order_id.as_deref() == Some(order_id) {
                return Ok(false);
            }
            session.provider_order_id = Some(order_id.to_owned());
            Ok(true)
        })
        .await?;
        Ok(())
    }

    /// A paid top-up of a rule failed: the session fails, nothing is credited, and the rule
    /// backs off (or pauses after repeated or final declines). Visible on the wallet.
    pub(super) async fn fail_auto_topup(
        &self,
        id: &PaymentSessionId,
        code: &str,
        message: &str,
    ) -> Result<PaymentSession, LedgerError> {
        self.fail_auto_topup_then(id, code, message, AfterFailure::BackOff)
            .await
    }

    async fn fail_auto_topup_then(
        &self,
        id: &PaymentSessionId,
        code: &str,
        message: &str,
        after: AfterFailure,
    ) -> Result<PaymentSession, LedgerError> {
        crate::service::retry_on_conflict!(
            self.fail_auto_topup_once(id, code, message, after).await
        )
    }

    async fn fail_auto_topup_once(
        &self,
        id: &PaymentSessionId,
        code: &str,
        message: &str,
        after: AfterFailure,
    ) -> Result<PaymentSession, LedgerError> {
        let now = self.ledger.now();
        let snapshot = self.session(id).await?;
        let mut uow = self.ledger.store().begin().await?;
        let (mut wallet, mut session) =
            super::lock_wallet_and_session(uow.as_mut(), &snapshot.wallet_id, id).await?;
        if !matches!(
            session.status,
            PaymentStatus::Created | PaymentStatus::Capturing | PaymentStatus::Captured
        ) {
            return Ok(session);
        }
        session.move_to(PaymentStatus::Failed, now)?;
        session.error_code = Some(code.to_owned());
        session.error_message = Some(message.to_owned());
        if let Some(rule) = wallet
            .rules
            .iter_mut()
            .find(|rule| rule.state.pending_session_id.as_ref() == Some(id))
        {
            // The crossing was not served: tried again after the backoff (the next trigger).
            rule.rearm_after_unserved_top_up();
            let state = &mut rule.state;
            state.pending_session_id = None;
            state.consecutive_declines += 1;
            state.backoff_until = Some(now + decline_backoff(state.consecutive_declines));
            if after == AfterFailure::Pause {
                state.paused = true;
                state.paused_reason = Some(format!(
                    "the saved payment method needs the customer ({code})"
                ));
            } else if state.consecutive_declines >= DECLINES_BEFORE_PAUSE || is_never_retry(code) {
                state.paused = true;
                state.paused_reason = Some(format!(
                    "paused after {} declined charge(s), last {code}; save the rule again to resume",
                    state.consecutive_declines
                ));
            }
            state.last_run = Some(RuleRun {
                at: now,
                status: RuleRunStatus::Failed,
                paid_credits: state
                    .last_run
                    .as_ref()
                    .map_or(Credits::ZERO, |run| run.paid_credits),
                granted_credits: Credits::ZERO,
                payment_session_id: Some(id.clone()),
                error_code: Some(format!("declined:{code}")),
                message: Some(message.to_owned()),
            });
            wallet.updated_at = now;
            uow.update_wallet(&wallet).await?;
        }
        uow.update_payment_session(&session).await?;
        uow.commit().await?;
        Ok(session)
    }
}

/// The order an elected charger pays, as [`Payments::prepare_order`] found it.
#[derive(Debug)]
enum PreparedOrder {
    /// Charge now: with the stored order, or with none for a provider that needs none.
    Ready(Option<String>),
    /// Preparing failed before any money moved; handled as the charge's error.
    Failed(ProviderError),
    /// The session is no longer this charger's to charge (another process moved it on).
    Superseded,
}

/// What a failed paid top-up does to its rule besides failing the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AfterFailure {
    /// Count the decline, back off, pause after repeated or never-retry declines.
    BackOff,
    /// Pause at once: the method is dead or the customer must act.
    Pause,
}

/// Records a rule's paid top-up as succeeded on the wallet (called inside the credit unit).
pub(super) fn settle_rule_state(wallet: &mut Wallet, session: &PaymentSession, credited: Credits) {
    let now = session.updated_at;
    let Some(rule) = wallet
        .rules
        .iter_mut()
        .find(|rule| rule.state.pending_session_id.as_ref() == Some(&session.id))
    else {
        return;
    };
    let state = &mut rule.state;
    state.pending_session_id = None;
    state.consecutive_declines = 0;
    state.backoff_until = None;
    let month = month_key(now);
    if state.month.as_deref() != Some(month.as_str()) {
        state.month = Some(month);
        state.month_paid_credits = Credits::ZERO;
    }
    state.month_paid_credits = state.month_paid_credits.plus(credited);
    state.last_run = Some(RuleRun {
        at: now,
        status: RuleRunStatus::Succeeded,
        paid_credits: credited,
        granted_credits: state
            .last_run
            .as_ref()
            .map_or(Credits::ZERO, |run| run.granted_credits),
        payment_session_id: Some(session.id.clone()),
        error_code: None,
        message: None,
    });
}
