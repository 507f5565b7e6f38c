//! The checkout operations: start, approve, cancel, confirm, provider-side captures and the
//! webhooks of a checkout. Each answers `(expected, actual)`, or `None` when the step does not
//! apply (a provider reports only what it did) or checked itself.

use ledger_core::LedgerError;
use ledger_core::id::PaymentSessionId;
use ledger_core::payments::Payments;
use ledger_core::ports::{CaptureOutcome, PaymentProvider, ProviderEvent, ProviderEventKind};
use provider_sandbox::SandboxOrderStatus;
use rust_decimal::Decimal;

use super::Token;
use super::model::Outcome;
use super::world::{STATE, World, outcome};

/// What a step answered: `(expected, actual)`.
pub(super) type Answer = (Outcome, Outcome);

/// The id of the order-approved event the sandbox page applies for an order.
fn page_event_id(order_id: &str) -> String {
    format!("sandbox-approved-{order_id}")
}

/// The order-approved event the sandbox page applies, as `apps/api`'s sandbox route does.
fn page_approved_event(id: &PaymentSessionId, order_id: String) -> ProviderEvent {
    ProviderEvent {
        event_id: page_event_id(&order_id),
        order_id: Some(order_id),
        session_id: Some(id.to_string()),
        kind: ProviderEventKind::OrderApproved,
    }
}

impl World {
    /// A buyer starts a checkout for a target.
    pub(super) async fn start(&mut self, owner: usize, cents: i64) -> Answer {
        let result = self
            .payments
            .start_checkout(&self.checkout(owner, cents))
            .await;
        let started = result.as_ref().ok().map(|session| {
            (
                session.id.clone(),
                session.provider_order_id.clone().unwrap(),
                session.wallet_id.clone(),
            )
        });
        let expected = self.model.start(owner, Decimal::new(cents, 2), started);
        (expected, outcome(&result))
    }

    /// The happy path in a browser: start, then Approve on the sandbox page.
    pub(super) async fn pay(&mut self, owner: usize, cents: i64) -> Option<Answer> {
        let (expected, actual) = self.start(owner, cents).await;
        assert_eq!(actual, expected, "service and model disagree on a start");
        if actual != Outcome::Done {
            return None;
        }
        Some(self.approve(self.model.sessions.len() - 1, true).await)
    }

    /// Approve on the sandbox page; with `event`, the page then applies the order-approved
    /// event, as `apps/api`'s sandbox route does.
    pub(super) async fn approve(&mut self, session: usize, event: bool) -> Answer {
        let (id, order_id) = self.session_ids(session);
        let approved = self.sandbox.approve(&order_id).await;
        let expected = self.model.approve(session);
        if approved.is_ok() && event {
            let page_event = page_approved_event(&id, order_id);
            let applied = self
                .payments
                .apply_event(provider_sandbox::NAME, &page_event)
                .await
                .unwrap();
            assert!(
                applied.is_some(),
                "the approved event names a known session"
            );
            self.model.approved_event(session, &page_event.event_id);
        }
        (expected, outcome(&approved.map_err(LedgerError::from)))
    }

    /// Cancel on the sandbox page; with `tell`, the page also cancels the session, as
    /// `apps/api` does (it only logs a session past `created`).
    pub(super) async fn cancel(&mut self, session: usize, tell: bool) -> Answer {
        let (id, order_id) = self.session_ids(session);
        let canceled = self.sandbox.cancel(&order_id).await;
        if canceled.is_ok() && tell {
            match self.payments.cancel(&id).await {
                Ok(_)
                | Err(LedgerError::Conflict {
                    code: "payment_session_not_cancelable",
                    ..
                }) => {}
                Err(error) => panic!("cancel failed: {error:?}"),
            }
        }
        (
            self.model.cancel(session, tell),
            outcome(&canceled.map_err(LedgerError::from)),
        )
    }

    /// The console confirms, with or without the provider's token, rarely with a forged token
    /// or checkout state.
    pub(super) async fn confirm(&mut self, session: usize, token: Token, state_ok: bool) -> Answer {
        let (id, order_id) = self.session_ids(session);
        let token = match token {
            Token::None => None,
            Token::Right => Some(order_id.as_str()),
            Token::Wrong => Some("SBXFORGED"),
        };
        let state = if state_ok { STATE } else { "state-forged" };
        let result = self.payments.confirm(&id, token, state).await;
        let expected = if !state_ok || token == Some("SBXFORGED") {
            Outcome::Invalid
        } else {
            self.model.confirm(session)
        };
        if let Ok(answered) = &result {
            assert_eq!(
                answered.session().status,
                self.model.sessions[session].status,
                "confirm answered another status than the model's"
            );
        }
        (expected, outcome(&result))
    }

    /// Two confirms and (for an approved order) the sandbox page's approved event, spawned on
    /// the two-worker runtime so that they race. Each may answer a pending or closed session
    /// or an order not approved; afterwards the state must be that of one confirm, with the
    /// event applied once.
    pub(super) async fn confirm_race(&mut self, session: usize) {
        let (id, order_id) = self.session_ids(session);
        let approved = matches!(
            self.model.sessions[session].order,
            SandboxOrderStatus::Approved | SandboxOrderStatus::Completed
        );
        let page_event = page_approved_event(&id, order_id);
        let event_id = page_event.event_id.clone();
        let confirm = |payments: Payments, id: PaymentSessionId| {
            tokio::spawn(async move {
                payments
                    .confirm(&id, None, STATE)
                    .await
                    .map(|answered| answered.session().status)
            })
        };
        let first = confirm(self.payments.clone(), id.clone());
        let second = confirm(self.payments.clone(), id.clone());
        let payments = self.payments.clone();
        let event = tokio::spawn(async move {
            if approved {
                payments
                    .apply_event(provider_sandbox::NAME, &page_event)
                    .await
                    .map(|_| ())
            } else {
                Ok(())
            }
        });
        let (first, second, event) = (
            first.await.unwrap(),
            second.await.unwrap(),
            event.await.unwrap(),
        );
        for result in [first.map(|_| ()), second.map(|_| ()), event] {
            match result {
                Ok(())
                | Err(LedgerError::Conflict {
                    code: "payment_not_approved" | "payment_session_closed",
                    ..
                }) => {}
                Err(error) => panic!("a racing confirm failed: {error:?}"),
            }
        }
        self.model.confirm(session);
        if approved {
            self.model.approved_event(session, &event_id);
        }
    }

    /// The sandbox captures the order and nobody tells us (our process died after asking).
    pub(super) async fn provider_capture(&mut self, session: usize) -> Answer {
        let (id, order_id) = self.session_ids(session);
        let actual = match self.sandbox.capture(&order_id, id.as_str()).await {
            Ok(CaptureOutcome::Completed { .. }) => Outcome::Done,
            Ok(CaptureOutcome::Declined { .. }) => Outcome::CaptureDeclined,
            Ok(pending) => panic!("the sandbox never leaves a capture pending: {pending:?}"),
            Err(error) => outcome::<()>(&Err(error.into())),
        };
        (self.model.provider_capture(session), actual)
    }

    /// The buyer approves at the sandbox (when not yet), the sandbox captures and reports it.
    pub(super) async fn late_capture(&mut self, session: usize, event: u8) -> Option<Answer> {
        for (expected, actual) in [
            self.approve(session, false).await,
            self.provider_capture(session).await,
        ] {
            assert_eq!(
                actual, expected,
                "service and model disagree on a late capture"
            );
            if actual != Outcome::Done {
                return None;
            }
        }
        self.capture_webhook(session, event).await
    }

    /// A capture-completed webhook, for an order the sandbox captured.
    pub(super) async fn capture_webhook(&mut self, session: usize, event: u8) -> Option<Answer> {
        if self.model.sessions[session].order != SandboxOrderStatus::Completed {
            return None;
        }
        let (_, order_id) = self.session_ids(session);
        let order = self.sandbox.order(&order_id).await.unwrap().unwrap();
        let event_id = format!("evt-capture-{order_id}-{event}");
        let kind = ProviderEventKind::CaptureCompleted {
            amount: order.money().unwrap(),
            capture_id: order.capture_id.unwrap(),
        };
        let actual = self.deliver(session, event_id.clone(), kind).await;
        self.model.capture_event(session, &event_id);
        Some((Outcome::Done, actual))
    }

    /// An order-approved webhook for an approved order: `None` replays the sandbox page's own
    /// event id, `Some` is another delivery.
    pub(super) async fn approved_webhook(
        &mut self,
        session: usize,
        event: Option<u8>,
    ) -> Option<Answer> {
        if !matches!(
            self.model.sessions[session].order,
            SandboxOrderStatus::Approved | SandboxOrderStatus::Completed
        ) {
            return None;
        }
        let (_, order_id) = self.session_ids(session);
        let event_id = match event {
            None => page_event_id(&order_id),
            Some(event) => format!("evt-approved-{order_id}-{event}"),
        };
        let actual = self
            .deliver(session, event_id.clone(), ProviderEventKind::OrderApproved)
            .await;
        self.model.approved_event(session, &event_id);
        Some((Outcome::Done, actual))
    }

    /// A capture-denied webhook, for an order the sandbox did not capture.
    pub(super) async fn denied_webhook(&mut self, session: usize, event: u8) -> Option<Answer> {
        if self.model.sessions[session].order == SandboxOrderStatus::Completed {
            return None;
        }
        let (_, order_id) = self.session_ids(session);
        let event_id = format!("evt-denied-{order_id}-{event}");
        let kind = ProviderEventKind::CaptureDenied {
            code: "INSTRUMENT_DECLINED".to_owned(),
        };
        let actual = self.deliver(session, event_id.clone(), kind).await;
        self.model.denied_event(session, &event_id);
        Some((Outcome::Done, actual))
    }

    /// A webhook for an order nobody knows: acknowledged, nothing changes.
    pub(super) async fn unknown_webhook(&mut self) {
        let event = ProviderEvent {
            event_id: "evt-unknown".to_owned(),
            order_id: Some("SBXUNKNOWN".to_owned()),
            session_id: None,
            kind: ProviderEventKind::Refunded {
                refund_id: "RF-unknown".to_owned(),
                amount: self.money(Decimal::ONE),
            },
        };
        let applied = self
            .payments
            .apply_event(provider_sandbox::NAME, &event)
            .await
            .unwrap();
        assert!(applied.is_none(), "an unknown order names no session");
    }

    /// Delivers a webhook for a session; it must apply to that session or be refused.
    pub(super) async fn deliver(
        &self,
        session: usize,
        event_id: String,
        kind: ProviderEventKind,
    ) -> Outcome {
        let event = self.event(session, event_id, kind);
        let result = self
            .payments
            .apply_event(provider_sandbox::NAME, &event)
            .await;
        if let Ok(applied) = &result {
            assert_eq!(
                applied.as_ref().map(|session| &session.id),
                Some(&self.model.sessions[session].id),
                "the webhook applied to another session"
            );
        }
        outcome(&result)
    }
}
