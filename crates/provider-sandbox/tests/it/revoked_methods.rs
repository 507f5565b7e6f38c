//! A saved payment method revoked at the provider (PayPal `VAULT.PAYMENT-TOKEN.DELETED`, here
//! delivered as the core sees it: a verified `PaymentMethodRevoked` event): the method leaves
//! the organization's saved methods, the rules naming it pause visibly and charge nothing,
//! everything else (other methods, other rules, other organizations) is untouched, and the
//! event applies once.

use ledger_core::id::{OrgId, PaymentMethodId, PaymentSessionId};
use ledger_core::money::Money;
use ledger_core::payment_session::{PaymentSession, PaymentStatus};
use ledger_core::ports::{ProviderEvent, ProviderEventKind, SavedPaymentMethod};
use ledger_core::service::NewWallet;
use ledger_core::topup_rule::{RuleMethod, RuleRunStatus, RuleTrigger, TopupRule};
use ledger_core::wallet::{Owner, Wallet};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use time::Duration;

use crate::rules::{rule, saved_method, wallet_with};
use crate::support::{Fixture, credits};

const REVOKED_TOKEN: &str = "sbxpm_revoked";

fn revoked(event_id: &str, token: &str) -> ProviderEvent {
    ProviderEvent {
        event_id: event_id.to_owned(),
        order_id: None,
        session_id: None,
        kind: ProviderEventKind::PaymentMethodRevoked {
            method_token: token.to_owned(),
        },
    }
}

/// A FIXED threshold rule buying 25 paid credits with `method` below 10.
fn paid_below_ten(method: &PaymentMethodId) -> TopupRule {
    let mut threshold = rule(RuleMethod::Fixed, RuleTrigger::Threshold);
    threshold.threshold_credits = Some(credits(dec!(10)));
    threshold.paid_credits = Some(credits(dec!(25)));
    threshold.payment_method_id = Some(method.clone());
    threshold
}

async fn reload(fx: &Fixture, wallet: &Wallet) -> Wallet {
    fx.ledger.store().wallet(&wallet.id).await.unwrap().unwrap()
}

async fn session(fx: &Fixture, id: &PaymentSessionId) -> PaymentSession {
    fx.payments
        .store()
        .payment_session(id)
        .await
        .unwrap()
        .unwrap()
}

async fn methods_of(fx: &Fixture, org: &OrgId) -> Vec<PaymentMethodId> {
    fx.payments
        .store()
        .list_payment_methods(org)
        .await
        .unwrap()
        .into_iter()
        .map(|method| method.id)
        .collect()
}

/// Another organization with its own saved method and a wallet whose rule names it.
async fn other_organization(fx: &Fixture) -> (OrgId, PaymentMethodId, Wallet) {
    let org = OrgId::parse("org_other").unwrap();
    let method = PaymentMethodId::parse("pm_othercard").unwrap();
    fx.payments
        .store()
        .insert_payment_method(&SavedPaymentMethod {
            id: method.clone(),
            org_id: org.clone(),
            provider: "sandbox".to_owned(),
            owner: Owner::Organization(org.clone()),
            provider_token: "sbxpm_other".to_owned(),
            provider_customer_id: None,
            label: "Sandbox card".to_owned(),
            created_at: fx.clock.now_plus(Duration::ZERO),
        })
        .await
        .unwrap();
    let wallet = fx
        .ledger
        .create_wallet(&NewWallet {
            org_id: org.clone(),
            owner: Owner::Organization(org.clone()),
            name: None,
            currency: fx.usd,
            rate_amount: Decimal::ONE,
            paid: credits(dec!(0)),
            granted: credits(dec!(20)),
            expiration_at: None,
            activates_at: None,
            priority: 0,
            fee_types: Vec::new(),
            rules: vec![paid_below_ten(&method)],
            principal: "admin".to_owned(),
        })
        .await
        .unwrap();
    (org, method, wallet)
}

#[tokio::test]
async fn a_revoked_token_deletes_its_method_and_pauses_only_the_rules_naming_it() {
    // Arrange: the organization saved two sandbox methods, and a PayPal method that happens
    // to carry the same token string; its wallet has a rule on the revoked method, a
    // granted-only interval rule and a rule on the other method. Another organization has
    // its own method and rule.
    let fx = Fixture::new();
    let revoked_method = saved_method(&fx, REVOKED_TOKEN).await;
    let kept = saved_method(&fx, "sbxpm_kept").await;
    let same_token_elsewhere = PaymentMethodId::parse("pm_paypalsame").unwrap();
    fx.payments
        .store()
        .insert_payment_method(&SavedPaymentMethod {
            id: same_token_elsewhere.clone(),
            org_id: fx.org.clone(),
            provider: "paypal".to_owned(),
            owner: Owner::User(fx.user.clone()),
            provider_token: REVOKED_TOKEN.to_owned(),
            provider_customer_id: None,
            label: "PayPal wallet".to_owned(),
            created_at: fx.clock.now_plus(Duration::seconds(1)),
        })
        .await
        .unwrap();
    let mut granted_weekly = rule(RuleMethod::Fixed, RuleTrigger::Interval);
    granted_weekly.interval = Some(ledger_core::topup_rule::RuleInterval::Weekly);
    granted_weekly.granted_credits = Some(credits(dec!(1)));
    let wallet = wallet_with(
        &fx,
        dec!(20),
        vec![
            paid_below_ten(&revoked_method),
            granted_weekly,
            paid_below_ten(&kept),
        ],
    )
    .await;
    let (other_org, other_method, other_wallet) = other_organization(&fx).await;
    let before = reload(&fx, &wallet).await;
    fx.clock.advance(Duration::minutes(1));

    // Act 1: the provider reports the token revoked.
    let answered = fx
        .payments
        .apply_event("sandbox", &revoked("WH-REVOKE-1", REVOKED_TOKEN))
        .await
        .unwrap();

    // Assert 1: the method is gone, only its rule is paused, and it says why.
    assert!(answered.is_none(), "a revocation concerns no session");
    assert_eq!(
        methods_of(&fx, &fx.org).await,
        vec![kept.clone(), same_token_elsewhere],
        "only the sandbox method with that token leaves"
    );
    let after = reload(&fx, &wallet).await;
    let state = &after.rules[0].state;
    assert!(state.paused);
    let reason = state.paused_reason.as_deref().unwrap();
    assert!(
        reason.contains(revoked_method.as_str()) && reason.contains("revoked"),
        "{reason}"
    );
    let run = state.last_run.as_ref().unwrap();
    assert_eq!(run.status, RuleRunStatus::Failed);
    assert_eq!(run.error_code.as_deref(), Some("payment_method_revoked"));
    assert_eq!(run.at, fx.clock.now_plus(Duration::ZERO));
    assert_eq!(after.rules[1], before.rules[1], "a rule without the method");
    assert_eq!(after.rules[2], before.rules[2], "a rule on another method");
    assert_eq!(methods_of(&fx, &other_org).await, vec![other_method]);
    assert_eq!(reload(&fx, &other_wallet).await, other_wallet);

    // Act 2: the balance crosses the thresholds, and the due charges run.
    fx.ledger.reserve(&fx.reserve(dec!(15))).await.unwrap();
    fx.payments.sweep().await.unwrap();

    // Assert 2: the paused rule started no charge and says so; the other method's rule was
    // charged as usual.
    let charged = reload(&fx, &wallet).await;
    let paused = &charged.rules[0].state;
    assert_eq!(paused.pending_session_id, None);
    assert_eq!(
        paused.last_run.as_ref().unwrap().error_code.as_deref(),
        Some("rule_paused")
    );
    assert_eq!(
        charged.paid,
        credits(dec!(25)),
        "one charge, on the kept method"
    );
    assert_eq!(
        charged.rules[2].state.last_run.as_ref().unwrap().status,
        RuleRunStatus::Succeeded
    );
    fx.assert_audit_clean().await;
}

#[tokio::test]
async fn a_paid_top_up_nobody_charged_yet_fails_without_reaching_the_provider() {
    // Arrange: the threshold was crossed, so a paid top-up on the method waits in `created`.
    let fx = Fixture::new();
    let method = saved_method(&fx, REVOKED_TOKEN).await;
    let wallet = wallet_with(&fx, dec!(20), vec![paid_below_ten(&method)]).await;
    fx.ledger.reserve(&fx.reserve(dec!(15))).await.unwrap();
    let started = reload(&fx, &wallet).await.rules[0]
        .state
        .pending_session_id
        .clone()
        .unwrap();
    assert_eq!(session(&fx, &started).await.status, PaymentStatus::Created);

    // Act
    fx.payments
        .apply_event("sandbox", &revoked("WH-REVOKE-2", REVOKED_TOKEN))
        .await
        .unwrap();
    fx.payments.sweep().await.unwrap();

    // Assert: the top-up failed with the revocation, the rule names it and is paused, and
    // nothing was charged.
    let failed = session(&fx, &started).await;
    assert_eq!(failed.status, PaymentStatus::Failed);
    assert_eq!(failed.error_code.as_deref(), Some("payment_method_revoked"));
    let after = reload(&fx, &wallet).await;
    let state = &after.rules[0].state;
    assert!(state.paused);
    assert_eq!(state.pending_session_id, None);
    assert_eq!(
        state.consecutive_declines, 0,
        "a revocation is not a decline"
    );
    let run = state.last_run.as_ref().unwrap();
    assert_eq!(run.payment_session_id.as_ref(), Some(&started));
    assert_eq!(run.error_code.as_deref(), Some("payment_method_revoked"));
    assert_eq!(run.paid_credits, credits(dec!(25)));
    assert!(after.paid.is_zero());
    fx.assert_audit_clean().await;
}

#[tokio::test]
async fn a_charge_already_in_flight_is_left_to_its_flow_and_still_credits() {
    // Arrange: a paid top-up a charger already took (`capturing`) when the revocation lands.
    let fx = Fixture::new();
    let method = saved_method(&fx, REVOKED_TOKEN).await;
    let wallet = wallet_with(&fx, dec!(20), vec![paid_below_ten(&method)]).await;
    fx.ledger.reserve(&fx.reserve(dec!(15))).await.unwrap();
    let in_flight = reload(&fx, &wallet).await.rules[0]
        .state
        .pending_session_id
        .clone()
        .unwrap();
    let mut uow = fx.ledger.store().begin().await.unwrap();
    let mut charging = uow.lock_payment_session(&in_flight).await.unwrap().unwrap();
    charging.provider = "sandbox".to_owned();
    charging
        .move_to(PaymentStatus::Capturing, fx.clock.now_plus(Duration::ZERO))
        .unwrap();
    uow.update_payment_session(&charging).await.unwrap();
    uow.commit().await.unwrap();

    // Act 1
    fx.payments
        .apply_event("sandbox", &revoked("WH-REVOKE-3", REVOKED_TOKEN))
        .await
        .unwrap();

    // Assert 1: paused, but the charge is still the rule's and still charging.
    let paused = reload(&fx, &wallet).await;
    assert!(paused.rules[0].state.paused);
    assert_eq!(
        paused.rules[0].state.pending_session_id.as_ref(),
        Some(&in_flight)
    );
    assert_eq!(
        paused.rules[0].state.last_run.as_ref().unwrap().status,
        RuleRunStatus::Pending,
        "the charge's own run stays the last run"
    );
    assert_eq!(
        session(&fx, &in_flight).await.status,
        PaymentStatus::Capturing
    );

    // Act 2: the provider reports the capture of that charge.
    let amount = Money::try_new(charging.amount, charging.currency).unwrap();
    fx.payments
        .apply_event(
            "sandbox",
            &ProviderEvent {
                event_id: "WH-CAPTURED-3".to_owned(),
                order_id: None,
                session_id: Some(in_flight.as_str().to_owned()),
                kind: ProviderEventKind::CaptureCompleted {
                    capture_id: "cap-in-flight".to_owned(),
                    amount,
                },
            },
        )
        .await
        .unwrap();

    // Assert 2: money taken is credited; the rule stays paused.
    let credited = reload(&fx, &wallet).await;
    assert_eq!(credited.paid, credits(dec!(25)));
    assert_eq!(
        session(&fx, &in_flight).await.status,
        PaymentStatus::Completed
    );
    assert!(credited.rules[0].state.paused);
    assert_eq!(credited.rules[0].state.pending_session_id, None);
    fx.assert_audit_clean().await;
}

#[tokio::test]
async fn a_duplicate_revocation_and_an_unknown_token_change_nothing() {
    let fx = Fixture::new();
    let method = saved_method(&fx, REVOKED_TOKEN).await;
    let kept = saved_method(&fx, "sbxpm_kept").await;
    let wallet = wallet_with(&fx, dec!(20), vec![paid_below_ten(&method)]).await;
    let untouched = wallet_with(&fx, dec!(50), vec![paid_below_ten(&kept)]).await;

    // An unknown token: acknowledged, nothing changes.
    let unknown = fx
        .payments
        .apply_event("sandbox", &revoked("WH-UNKNOWN", "sbxpm_never_saved"))
        .await;
    assert!(matches!(unknown, Ok(None)), "{unknown:?}");
    assert_eq!(methods_of(&fx, &fx.org).await, vec![kept.clone(), method]);
    assert_eq!(reload(&fx, &wallet).await, wallet);

    // The same event twice, a minute apart: the second delivery changes nothing.
    let event = revoked("WH-REVOKE-4", REVOKED_TOKEN);
    fx.payments.apply_event("sandbox", &event).await.unwrap();
    let once = reload(&fx, &wallet).await;
    fx.clock.advance(Duration::minutes(1));
    let again = fx.payments.apply_event("sandbox", &event).await;

    assert!(matches!(again, Ok(None)), "{again:?}");
    assert!(once.rules[0].state.paused);
    assert_eq!(reload(&fx, &wallet).await, once);
    assert_eq!(methods_of(&fx, &fx.org).await, vec![kept]);
    assert_eq!(reload(&fx, &untouched).await, untouched);
}
