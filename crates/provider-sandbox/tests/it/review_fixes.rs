//! Money-correctness fixes from review: each scenario failed before its fix.

use ledger_core::LedgerError;
use ledger_core::money::Money;
use ledger_core::payment_session::PaymentStatus;
use ledger_core::ports::{ProviderEvent, ProviderEventKind};
use ledger_core::service::NewWallet;
use ledger_core::wallet::Owner;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use crate::support::{Fixture, credits};

#[tokio::test]
async fn a_refund_reported_before_the_credit_applies_after_it_and_is_not_lost() {
    let fx = Fixture::new();
    let session = fx.approved(dec!(30)).await;
    let refund = ProviderEvent {
        event_id: "evt-early-refund".to_owned(),
        order_id: session.provider_order_id.clone(),
        session_id: None,
        kind: ProviderEventKind::Refunded {
            refund_id: "ref-early".to_owned(),
            amount: Money::try_new(dec!(10), fx.usd).unwrap(),
        },
    };

    // The sandbox order is approved but not captured: the refund cannot apply yet and is not
    // recorded, so the provider's redelivery applies it.
    let early = fx.payments.apply_event("sandbox", &refund).await;
    assert!(matches!(
        early,
        Err(LedgerError::Conflict {
            code: "refund_before_capture",
            ..
        })
    ));
    fx.payments
        .confirm(&session.id, None, "state-xyz")
        .await
        .unwrap();
    let redelivered = fx
        .payments
        .apply_event("sandbox", &refund)
        .await
        .unwrap()
        .unwrap();

    assert_eq!(redelivered.refunded_amount, dec!(10));
    assert_eq!(fx.wallet(&session).await.paid, credits(dec!(20)));
    fx.assert_audit_clean().await;
}

#[tokio::test]
async fn allocating_paid_credits_into_a_wallet_in_debt_repays_the_debt_first() {
    let fx = Fixture::new();
    let mut start = fx.start(dec!(20));
    start.target_owner = Owner::User(fx.user.clone());
    let session = fx.payments.start_checkout(&start).await.unwrap();
    fx.sandbox
        .approve(session.provider_order_id.as_deref().unwrap())
        .await
        .unwrap();
    fx.payments
        .confirm(&session.id, None, "state-xyz")
        .await
        .unwrap();
    let hold = fx.ledger.reserve(&fx.reserve(dec!(15))).await.unwrap();
    fx.ledger
        .settle(&hold.id, credits(dec!(15)), "gateway")
        .await
        .unwrap();
    let reversal = ProviderEvent {
        event_id: "evt-chargeback".to_owned(),
        order_id: session.provider_order_id.clone(),
        session_id: None,
        kind: ProviderEventKind::Reversed {
            reversal_id: "rev-1".to_owned(),
            amount: Money::try_new(dec!(20), fx.usd).unwrap(),
        },
    };
    fx.payments.apply_event("sandbox", &reversal).await.unwrap();
    assert_eq!(fx.wallet(&session).await.debt, credits(dec!(15)));
    let org_wallet = fx
        .ledger
        .create_wallet(&NewWallet {
            org_id: fx.org.clone(),
            owner: Owner::Organization(fx.org.clone()),
            name: None,
            currency: fx.usd,
            rate_amount: Decimal::ONE,
            paid: credits(dec!(40)),
            granted: credits(dec!(0)),
            expiration_at: None,
            activates_at: None,
            priority: 0,
            fee_types: Vec::new(),
            rules: Vec::new(),
            principal: "admin".to_owned(),
        })
        .await
        .unwrap();

    let moved = fx
        .ledger
        .allocate(
            &org_wallet.id,
            &session.wallet_id,
            credits(dec!(25)),
            "admin",
        )
        .await
        .unwrap();

    assert!(moved.to_wallet.debt.is_zero());
    assert_eq!(moved.to_wallet.paid, credits(dec!(10)));
    assert_eq!(moved.from_wallet.paid, credits(dec!(15)));
    fx.assert_audit_clean().await;
}

#[tokio::test]
async fn releasing_an_expired_reservation_answers_it_instead_of_refusing() {
    let fx = Fixture::new();
    let session = fx.completed(dec!(10)).await;
    let hold = fx.ledger.reserve(&fx.reserve(dec!(4))).await.unwrap();

    fx.clock.advance(time::Duration::minutes(5));
    let released = fx.ledger.release(&hold.id, "gateway").await.unwrap();
    let again = fx.ledger.release(&hold.id, "gateway").await.unwrap();

    assert_eq!(
        released.status,
        ledger_core::reservation::ReservationStatus::Expired
    );
    assert_eq!(again, released);
    assert!(fx.wallet(&session).await.held.is_zero());
    assert_eq!(
        fx.payments
            .store()
            .payment_session(&session.id)
            .await
            .unwrap()
            .unwrap()
            .status,
        PaymentStatus::Completed
    );
    fx.assert_audit_clean().await;
}

#[tokio::test]
async fn the_payments_audit_reports_a_session_credited_without_its_journal() {
    let fx = Fixture::new();
    let session = fx.completed(dec!(10)).await;
    let mut forged = fx
        .payments
        .store()
        .payment_session(&session.id)
        .await
        .unwrap()
        .unwrap();
    forged.id = ledger_core::id::PaymentSessionId::parse("sess_forged").unwrap();
    forged.provider_order_id = Some("SBXFORGED".to_owned());
    forged.credited_amount = Some(credits(dec!(11)));
    let mut uow = fx.ledger.store().begin().await.unwrap();
    uow.insert_payment_session(&forged).await.unwrap();
    uow.commit().await.unwrap();

    let breaches = ledger_core::payments::audit::audit_sessions(
        fx.ledger.store().as_ref(),
        fx.payments.store().as_ref(),
    )
    .await
    .unwrap();

    let subjects: Vec<(&str, &str)> = breaches
        .iter()
        .map(|b| (b.invariant, b.subject.as_str()))
        .collect();
    assert!(
        subjects.contains(&("exactly_once", "sess_forged")),
        "{breaches:#?}"
    );
    assert!(
        subjects.contains(&("money_in_credits_out", "sess_forged")),
        "{breaches:#?}"
    );
    assert!(
        !breaches.iter().any(|b| b.subject == session.id.as_str()),
        "the real session is sound"
    );
}

/// The sandbox with scripted faults: a reserve that spends the wallet while the provider is
/// refunding (the race an admin refund must survive without booking debt), and saved methods
/// the provider reports revoked.
#[derive(Debug)]
struct ScriptedSandbox {
    sandbox: std::sync::Arc<provider_sandbox::SandboxProvider>,
    ledger: ledger_core::Ledger,
    spend_during_refund: Option<ledger_core::service::ReserveRequest>,
    revoked_methods: bool,
    outcome: std::sync::Mutex<Option<bool>>,
}

impl ScriptedSandbox {
    fn new(fx: &Fixture) -> Self {
        Self {
            sandbox: fx.sandbox.clone(),
            ledger: fx.ledger.clone(),
            spend_during_refund: None,
            revoked_methods: false,
            outcome: std::sync::Mutex::new(None),
        }
    }

    fn payments(self: &std::sync::Arc<Self>, fx: &Fixture) -> ledger_core::payments::Payments {
        fx.payments_with(self.clone())
    }
}

#[async_trait::async_trait]
impl ledger_core::ports::PaymentProvider for ScriptedSandbox {
    fn name(&self) -> &'static str {
        "sandbox"
    }
    async fn create_checkout(
        &self,
        request: &ledger_core::ports::CheckoutRequest,
    ) -> Result<ledger_core::ports::CheckoutCreated, ledger_core::ProviderError> {
        self.sandbox.create_checkout(request).await
    }
    async fn capture(
        &self,
        order_id: &str,
        key: &str,
    ) -> Result<ledger_core::ports::CaptureOutcome, ledger_core::ProviderError> {
        self.sandbox.capture(order_id, key).await
    }
    async fn order_state(
        &self,
        order_id: &str,
    ) -> Result<ledger_core::ports::OrderState, ledger_core::ProviderError> {
        self.sandbox.order_state(order_id).await
    }
    async fn refund(
        &self,
        order_id: &str,
        capture_id: &str,
        amount: Money,
        key: &str,
    ) -> Result<ledger_core::ports::RefundOutcome, ledger_core::ProviderError> {
        if let Some(request) = &self.spend_during_refund {
            let spent = self.ledger.reserve(request).await.is_ok();
            *self.outcome.lock().unwrap() = Some(spent);
        }
        self.sandbox.refund(order_id, capture_id, amount, key).await
    }
    async fn charge_saved_method<'a>(
        &self,
        method_token: &str,
        amount: Money,
        key: &str,
        order_id: Option<&'a str>,
    ) -> Result<ledger_core::ports::MerchantCharge, ledger_core::ProviderError> {
        if self.revoked_methods {
            // Not a code of the never-retry list: the pause must come from the error kind.
            return Err(ledger_core::ProviderError::SavedMethodRevoked {
                code: "SCRIPTED_REVOKED".to_owned(),
            });
        }
        self.sandbox
            .charge_saved_method(method_token, amount, key, order_id)
            .await
    }
    async fn verify_webhook(
        &self,
        request: &ledger_core::ports::WebhookRequest,
    ) -> Result<ProviderEvent, ledger_core::ProviderError> {
        self.sandbox.verify_webhook(request).await
    }
}

#[tokio::test]
async fn an_admin_refund_holds_its_credits_so_a_concurrent_spend_cannot_turn_it_into_debt() {
    let fx = Fixture::new();
    let session = fx.completed(dec!(20)).await;
    let racing = std::sync::Arc::new(ScriptedSandbox {
        spend_during_refund: Some(fx.reserve(dec!(15))),
        ..ScriptedSandbox::new(&fx)
    });
    let payments = racing.payments(&fx);

    let refunded = payments.refund(&session.id, None).await.unwrap();

    assert_eq!(
        *racing.outcome.lock().unwrap(),
        Some(false),
        "the refund's credits were held: the spend was refused"
    );
    assert_eq!(refunded.session.status, PaymentStatus::Refunded);
    let wallet = fx.wallet(&session).await;
    assert!(wallet.debt.is_zero(), "an admin refund never books debt");
    assert!(wallet.paid.is_zero());
    assert!(wallet.held.is_zero(), "the refund hold was consumed");
    fx.assert_audit_clean().await;
}

#[tokio::test]
async fn a_revoked_saved_method_pauses_its_rule_at_the_first_failure() {
    use ledger_core::topup_rule::{RuleMethod, RuleRunStatus, RuleTrigger};

    let fx = Fixture::new();
    let method = crate::rules::saved_method(&fx, "sbxpm_revoked").await;
    let mut threshold = crate::rules::rule(RuleMethod::Fixed, RuleTrigger::Threshold);
    threshold.threshold_credits = Some(credits(dec!(10)));
    threshold.paid_credits = Some(credits(dec!(25)));
    threshold.payment_method_id = Some(method);
    let wallet = crate::rules::wallet_with(&fx, dec!(20), vec![threshold]).await;
    let revoking = std::sync::Arc::new(ScriptedSandbox {
        revoked_methods: true,
        ..ScriptedSandbox::new(&fx)
    });

    fx.ledger.reserve(&fx.reserve(dec!(12))).await.unwrap();
    revoking.payments(&fx).sweep().await.unwrap();

    let after = fx.ledger.store().wallet(&wallet.id).await.unwrap().unwrap();
    let state = &after.rules[0].state;
    assert_eq!(state.consecutive_declines, 1);
    assert!(state.paused, "paused at once, not after three declines");
    assert!(
        state
            .paused_reason
            .as_deref()
            .unwrap()
            .contains("needs the customer")
    );
    let run = state.last_run.as_ref().unwrap();
    assert_eq!(run.status, RuleRunStatus::Failed);
    let session = fx
        .payments
        .store()
        .payment_session(run.payment_session_id.as_ref().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(session.status, PaymentStatus::Failed);
    assert!(after.paid.is_zero());
    fx.assert_audit_clean().await;
}
