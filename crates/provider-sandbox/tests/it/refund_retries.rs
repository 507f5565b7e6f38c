//! Admin refunds whose provider answer is lost or overtaken by the refund's own webhook: the
//! provider refunds once, the credits are taken back once, and no debt is booked.

use std::sync::{Arc, Mutex};

use ledger_core::money::Money;
use ledger_core::payment_session::{PaymentSession, PaymentStatus};
use ledger_core::payments::Payments;
use ledger_core::ports::{
    CaptureOutcome, CheckoutCreated, CheckoutRequest, MerchantCharge, OrderState, PaymentProvider,
    ProviderEvent, ProviderEventKind, RefundOutcome, WebhookRequest,
};
use ledger_core::{LedgerError, ProviderError};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use crate::support::{Fixture, credits};

/// What the wrapped sandbox does around the first refund call (later calls pass through).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Script {
    /// The refund happens and its webhook is applied before the call answers.
    WebhookFirst,
    /// The refund happens, its webhook is applied, then the answer is lost.
    WebhookThenTimeout,
    /// The refund happens and the answer is lost; no webhook comes.
    Timeout,
    /// The provider is down: nothing is refunded and the call times out.
    DownThenUp,
}

#[derive(Debug)]
struct Wrapped {
    sandbox: Arc<provider_sandbox::SandboxProvider>,
    reporter: Payments,
    script: Script,
    keys: Mutex<Vec<String>>,
}

impl Wrapped {
    fn keys(&self) -> Vec<String> {
        self.keys.lock().unwrap().clone()
    }
}

#[async_trait::async_trait]
impl PaymentProvider for Wrapped {
    fn name(&self) -> &'static str {
        "sandbox"
    }
    async fn create_checkout(
        &self,
        request: &CheckoutRequest,
    ) -> Result<CheckoutCreated, ProviderError> {
        self.sandbox.create_checkout(request).await
    }
    async fn capture(&self, order_id: &str, key: &str) -> Result<CaptureOutcome, ProviderError> {
        self.sandbox.capture(order_id, key).await
    }
    async fn order_state(&self, order_id: &str) -> Result<OrderState, ProviderError> {
        self.sandbox.order_state(order_id).await
    }
    async fn refund(
        &self,
        order_id: &str,
        capture_id: &str,
        amount: Money,
        key: &str,
    ) -> Result<RefundOutcome, ProviderError> {
        let first = {
            let mut keys = self.keys.lock().unwrap();
            keys.push(key.to_owned());
            keys.len() == 1
        };
        if first && self.script == Script::DownThenUp {
            return Err(ProviderError::Timeout);
        }
        let outcome = self
            .sandbox
            .refund(order_id, capture_id, amount, key)
            .await?;
        if !first {
            return Ok(outcome);
        }
        let webhook = ProviderEvent {
            event_id: format!("evt-{}", outcome.refund_id),
            order_id: Some(order_id.to_owned()),
            session_id: None,
            kind: ProviderEventKind::Refunded {
                refund_id: outcome.refund_id.clone(),
                amount: outcome.amount,
            },
        };
        match self.script {
            Script::WebhookFirst => {
                self.reporter
                    .apply_event("sandbox", &webhook)
                    .await
                    .unwrap();
                Ok(outcome)
            }
            Script::WebhookThenTimeout => {
                self.reporter
                    .apply_event("sandbox", &webhook)
                    .await
                    .unwrap();
                Err(ProviderError::Timeout)
            }
            Script::Timeout => Err(ProviderError::Timeout),
            Script::DownThenUp => Ok(outcome),
        }
    }
    async fn charge_saved_method<'a>(
        &self,
        token: &str,
        amount: Money,
        key: &str,
        order_id: Option<&'a str>,
    ) -> Result<MerchantCharge, ProviderError> {
        self.sandbox
            .charge_saved_method(token, amount, key, order_id)
            .await
    }
    async fn verify_webhook(
        &self,
        request: &WebhookRequest,
    ) -> Result<ProviderEvent, ProviderError> {
        self.sandbox.verify_webhook(request).await
    }
}

/// A completed session of `amount` and payments whose sandbox follows `script`.
async fn completed(
    amount: Decimal,
    script: Script,
) -> (Fixture, PaymentSession, Arc<Wrapped>, Payments) {
    let fx = Fixture::new();
    let session = fx.completed(amount).await;
    let wrapped = Arc::new(Wrapped {
        sandbox: fx.sandbox.clone(),
        reporter: fx.payments.clone(),
        script,
        keys: Mutex::new(Vec::new()),
    });
    let payments = fx.payments_with(wrapped.clone());
    (fx, session, wrapped, payments)
}

fn is_conflict<T>(outcome: &Result<T, LedgerError>, expected: &str) -> bool {
    matches!(outcome, Err(LedgerError::Conflict { code, .. }) if *code == expected)
}

async fn stored(fx: &Fixture, session: &PaymentSession) -> PaymentSession {
    fx.payments
        .store()
        .payment_session(&session.id)
        .await
        .unwrap()
        .unwrap()
}

async fn refunded_at_sandbox(fx: &Fixture, session: &PaymentSession) -> Decimal {
    fx.sandbox
        .order(session.provider_order_id.as_deref().unwrap())
        .await
        .unwrap()
        .unwrap()
        .refunded
}

/// The sandbox refunded `refunded` in all, the wallet kept `paid`, no credits are left held
/// and no debt was booked; both audits are clean.
async fn assert_refunded_once(
    fx: &Fixture,
    session: &PaymentSession,
    refunded: Decimal,
    paid: Decimal,
) {
    assert_eq!(refunded_at_sandbox(fx, session).await, refunded);
    let wallet = fx.wallet(session).await;
    assert_eq!(wallet.paid, credits(paid));
    assert_eq!(wallet.held, credits(dec!(0)));
    assert_eq!(wallet.debt, credits(dec!(0)));
    fx.assert_audit_clean().await;
}

#[tokio::test]
async fn an_admin_refund_whose_webhook_lands_first_books_no_debt() {
    let (fx, session, _, payments) = completed(dec!(20), Script::WebhookFirst).await;

    let refunded = payments.refund(&session.id, None).await.unwrap();

    let wallet = fx.wallet(&session).await;
    assert_eq!(refunded.session.status, PaymentStatus::Refunded);
    assert_eq!(wallet.paid, credits(dec!(0)));
    assert_eq!(wallet.held, credits(dec!(0)));
    assert_eq!(
        wallet.debt,
        credits(dec!(0)),
        "an admin refund never books debt"
    );
    assert_eq!(refunded_at_sandbox(&fx, &session).await, dec!(20));
    fx.assert_audit_clean().await;
}

#[tokio::test]
async fn retrying_a_refund_whose_answer_was_lost_refunds_once_with_the_same_key() {
    let (fx, session, wrapped, payments) = completed(dec!(100), Script::WebhookThenTimeout).await;

    let lost = payments
        .refund_with_key(&session.id, Some(dec!(10)), Some("req-1"))
        .await;
    let retried = payments
        .refund_with_key(&session.id, Some(dec!(10)), Some("req-1"))
        .await
        .unwrap();

    assert!(matches!(
        lost,
        Err(LedgerError::Provider(ProviderError::Timeout))
    ));
    let keys = wrapped.keys();
    assert_eq!(keys.len(), 2);
    assert_eq!(
        keys[0], keys[1],
        "the retry reaches the provider with the same key"
    );
    assert_eq!(retried.refunded_amount, dec!(10));
    let after = stored(&fx, &session).await;
    assert_eq!(after.refunded_amount, dec!(10), "refunded once");
    assert_eq!(after.applied_refund_ids.len(), 1);
    assert_refunded_once(&fx, &session, dec!(10), dec!(90)).await;
}

#[tokio::test]
async fn a_refund_with_another_request_key_is_another_refund() {
    let (fx, session, wrapped, payments) = completed(dec!(100), Script::WebhookFirst).await;

    payments
        .refund_with_key(&session.id, Some(dec!(10)), Some("req-1"))
        .await
        .unwrap();
    payments
        .refund_with_key(&session.id, Some(dec!(10)), Some("req-2"))
        .await
        .unwrap();

    let keys = wrapped.keys();
    assert_ne!(keys[0], keys[1]);
    assert_eq!(stored(&fx, &session).await.refunded_amount, dec!(20));
    assert_eq!(refunded_at_sandbox(&fx, &session).await, dec!(20));
    fx.assert_audit_clean().await;
}

#[tokio::test]
async fn a_lost_answer_keeps_the_credits_held_until_the_retry_applies_the_same_refund() {
    let (fx, session, wrapped, payments) = completed(dec!(100), Script::Timeout).await;

    let lost = payments.refund(&session.id, Some(dec!(25))).await;

    assert!(lost.is_err());
    let wallet = fx.wallet(&session).await;
    assert_eq!(
        wallet.held,
        credits(dec!(25)),
        "nothing can spend the credits meanwhile"
    );
    assert!(
        fx.ledger.reserve(&fx.reserve(dec!(80))).await.is_err(),
        "the held refund credits are not available to spend"
    );
    // Another amount waits for the refund in flight; nothing changes.
    let other = payments.refund(&session.id, Some(dec!(5))).await;
    assert!(is_conflict(&other, "refund_in_progress"), "{other:?}");
    assert_eq!(wrapped.keys().len(), 1);

    // The same refund again, with no request key: the hold in flight names the provider key.
    let retried = payments.refund(&session.id, Some(dec!(25))).await.unwrap();

    let keys = wrapped.keys();
    assert_eq!(keys[0], keys[1]);
    assert_eq!(retried.refunded_credits, credits(dec!(25)));
    assert_refunded_once(&fx, &session, dec!(25), dec!(75)).await;
}

#[tokio::test]
async fn the_webhook_of_a_refund_whose_answer_was_lost_takes_back_the_held_credits() {
    let (fx, session, _, payments) = completed(dec!(40), Script::Timeout).await;
    assert!(payments.refund(&session.id, Some(dec!(40))).await.is_err());
    let order = fx
        .sandbox
        .order(session.provider_order_id.as_deref().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        order.refunds.len(),
        1,
        "the refund happened at the provider"
    );

    let webhook = ProviderEvent {
        event_id: "evt-late".to_owned(),
        order_id: session.provider_order_id.clone(),
        session_id: None,
        kind: ProviderEventKind::Refunded {
            refund_id: format!("SBXREF-{}", order.refunds[0].key),
            amount: Money::try_new(dec!(40), fx.usd).unwrap(),
        },
    };
    fx.payments.apply_event("sandbox", &webhook).await.unwrap();

    let wallet = fx.wallet(&session).await;
    assert_eq!(wallet.paid, credits(dec!(0)));
    assert_eq!(
        wallet.held,
        credits(dec!(0)),
        "the webhook freed the refund's hold"
    );
    assert_eq!(wallet.debt, credits(dec!(0)), "and booked no debt");
    assert_eq!(stored(&fx, &session).await.status, PaymentStatus::Refunded);
    fx.assert_audit_clean().await;
}

#[tokio::test]
async fn a_webhook_of_other_money_leaves_the_refund_in_flight_held() {
    let (fx, session, _, payments) = completed(dec!(100), Script::DownThenUp).await;
    assert!(payments.refund(&session.id, Some(dec!(30))).await.is_err());

    // A dashboard refund of another amount arrives meanwhile.
    let webhook = ProviderEvent {
        event_id: "evt-dashboard".to_owned(),
        order_id: session.provider_order_id.clone(),
        session_id: None,
        kind: ProviderEventKind::Refunded {
            refund_id: "DASHBOARD-1".to_owned(),
            amount: Money::try_new(dec!(10), fx.usd).unwrap(),
        },
    };
    fx.payments.apply_event("sandbox", &webhook).await.unwrap();

    let wallet = fx.wallet(&session).await;
    assert_eq!(
        wallet.held,
        credits(dec!(30)),
        "the admin refund's hold stays"
    );
    assert_eq!(wallet.paid, credits(dec!(90)));
    assert_eq!(wallet.debt, credits(dec!(0)));
    // The provider is back: the retry refunds the 30 once.
    payments.refund(&session.id, Some(dec!(30))).await.unwrap();
    let wallet = fx.wallet(&session).await;
    assert_eq!(wallet.paid, credits(dec!(60)));
    assert_eq!(wallet.held, credits(dec!(0)));
    assert_eq!(stored(&fx, &session).await.refunded_amount, dec!(40));
    fx.assert_audit_clean().await;
}

#[tokio::test]
async fn the_sandbox_answers_a_repeated_refund_key_with_the_same_refund() {
    let fx = Fixture::new();
    let session = fx.completed(dec!(50)).await;
    let order_id = session.provider_order_id.as_deref().unwrap();
    let ten = Money::try_new(dec!(10), fx.usd).unwrap();
    let capture_id = stored(&fx, &session).await.provider_capture_id.unwrap();

    let first = fx
        .sandbox
        .refund(order_id, &capture_id, ten, "k-1")
        .await
        .unwrap();
    let again = fx
        .sandbox
        .refund(order_id, &capture_id, ten, "k-1")
        .await
        .unwrap();
    let other = fx
        .sandbox
        .refund(order_id, &capture_id, ten, "k-2")
        .await
        .unwrap();

    assert_eq!(first.refund_id, again.refund_id);
    assert_ne!(first.refund_id, other.refund_id);
    assert_eq!(refunded_at_sandbox(&fx, &session).await, dec!(20));
}

#[tokio::test]
async fn a_refund_in_flight_holds_credits_no_caller_can_settle_release_or_forge() {
    let (fx, session, _, payments) = completed(dec!(100), Script::Timeout).await;
    assert!(payments.refund(&session.id, Some(dec!(25))).await.is_err());
    let mut uow = fx.ledger.store().begin().await.unwrap();
    let held = uow.held_reservations(&session.wallet_id).await.unwrap();
    drop(uow);
    assert_eq!(held.len(), 1);
    let hold = &held[0];
    assert!(hold.is_refund_hold());

    let settled = fx
        .ledger
        .settle(&hold.id, credits(dec!(25)), "gateway")
        .await;
    let released = fx.ledger.release(&hold.id, "gateway").await;
    let mut forged = fx.reserve(dec!(1));
    forged.metadata = Some(format!(
        r#"{{"refund_of": "{}", "money": "25", "provider_key": "stolen"}}"#,
        session.id
    ));
    let forged = fx.ledger.reserve(&forged).await;

    for refused in [settled.map(|_| ()), released.map(|_| ())] {
        assert!(is_conflict(&refused, "refund_hold"), "{refused:?}");
    }
    assert!(matches!(forged, Err(LedgerError::Invalid(_))), "{forged:?}");
    let wallet = fx.wallet(&session).await;
    assert_eq!(
        wallet.held,
        credits(dec!(25)),
        "the refund's hold is still there"
    );
    assert_eq!(wallet.paid, credits(dec!(100)));
    // The retry still ends it by applying the refund.
    payments.refund(&session.id, Some(dec!(25))).await.unwrap();
    assert_eq!(fx.wallet(&session).await.held, credits(dec!(0)));
    fx.assert_audit_clean().await;
}

#[tokio::test]
async fn metadata_shaped_like_a_refund_note_in_any_json_form_forges_nothing() {
    let (fx, session, wrapped, payments) = completed(dec!(100), Script::WebhookFirst).await;
    let spent = fx.ledger.reserve(&fx.reserve(dec!(99.99))).await.unwrap();
    fx.ledger
        .settle(&spent.id, credits(dec!(99.99)), "gateway")
        .await
        .unwrap();
    // A caller's hold of the last cent, its metadata an array in the note's field order.
    let mut forged = fx.reserve(dec!(0.01));
    forged.metadata = Some(format!(r#"["{}", "100", "anything"]"#, session.id));
    let forged = fx.ledger.reserve(&forged).await.unwrap();
    assert!(!forged.is_refund_hold());

    let refused = payments.refund(&session.id, None).await;

    assert!(
        is_conflict(&refused, "insufficient_balance_for_refund"),
        "{refused:?}"
    );
    assert!(wrapped.keys().is_empty(), "the provider was not asked");
    let wallet = fx.wallet(&session).await;
    assert_eq!(wallet.debt, credits(dec!(0)));
    assert_eq!(
        wallet.held,
        credits(dec!(0.01)),
        "the caller's hold is untouched"
    );
    fx.assert_audit_clean().await;
}

#[tokio::test]
async fn a_second_request_key_while_a_refund_is_in_flight_waits_instead_of_merging() {
    let (fx, session, wrapped, payments) = completed(dec!(100), Script::Timeout).await;
    assert!(
        payments
            .refund_with_key(&session.id, Some(dec!(10)), Some("k1"))
            .await
            .is_err()
    );

    let other = payments
        .refund_with_key(&session.id, Some(dec!(10)), Some("k2"))
        .await;
    let retried = payments
        .refund_with_key(&session.id, Some(dec!(10)), Some("k1"))
        .await
        .unwrap();

    assert!(is_conflict(&other, "refund_in_progress"), "{other:?}");
    let keys = wrapped.keys();
    assert_eq!(keys.len(), 2, "the other request reached no provider");
    assert_eq!(keys[0], keys[1]);
    assert_eq!(retried.refunded_amount, dec!(10));
    assert_eq!(stored(&fx, &session).await.refunded_amount, dec!(10));
    fx.assert_audit_clean().await;
}
