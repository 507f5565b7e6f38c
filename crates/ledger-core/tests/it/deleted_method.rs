//! A saved payment method the organization deletes (`Payments::delete_saved_method`, what
//! `DELETE /v1/payments/payment-methods/{id}` calls) behaves like a revocation at the
//! provider: the method is deleted there and here, the rules naming it pause visibly with
//! `payment_method_deleted`, a paid top-up nobody charged yet fails, and nothing else changes.
//! The provider is a mockall script (a call it does not expect fails the test); the store is
//! the real memory store.

use ledger_core::error::{LedgerError, ProviderError};
use ledger_core::id::{OrgId, PaymentMethodId, PaymentSessionId};
use ledger_core::payment_session::{PaymentSession, PaymentStatus};
use ledger_core::payments::Payments;
use ledger_core::ports::{
    MockPaymentProvider, PaymentStore, ProviderEvent, ProviderEventKind, SavedPaymentMethod,
};
use ledger_core::topup_rule::{RuleRunStatus, TopupRule};
use ledger_core::wallet::{Owner, Wallet};
use mockall::predicate::eq;
use rust_decimal_macros::dec;
use time::Duration;

use crate::support::{Fixture, credits, paid_below_ten};

const PROVIDER: &str = "paypal";
const TOKEN: &str = "vault-deleted";

/// A provider that deletes `TOKEN` once when asked, and is asked nothing else.
fn deletes_once() -> MockPaymentProvider {
    let mut provider = MockPaymentProvider::new();
    provider
        .expect_delete_saved_method()
        .with(eq(TOKEN))
        .times(1)
        .returning(|_| Ok(()));
    provider
}

async fn reload(fx: &Fixture, wallet: &Wallet) -> Wallet {
    fx.ledger.store().wallet(&wallet.id).await.unwrap().unwrap()
}

async fn session(fx: &Fixture, id: &PaymentSessionId) -> PaymentSession {
    fx.store.payment_session(id).await.unwrap().unwrap()
}

async fn methods_of(fx: &Fixture, org: &OrgId) -> Vec<PaymentMethodId> {
    fx.store
        .list_payment_methods(org)
        .await
        .unwrap()
        .into_iter()
        .map(|method| method.id)
        .collect()
}

/// The fixture user's wallet with 20 granted credits and `rules`.
async fn wallet_with(fx: &Fixture, rules: Vec<TopupRule>) -> Wallet {
    let mut new = fx.new_wallet(Owner::User(fx.user.clone()), dec!(0), dec!(20));
    new.rules = rules;
    fx.ledger.create_wallet(&new).await.unwrap()
}

/// A wallet whose rule on `method` was crossed: its paid top-up of 25 waits in `created`.
async fn top_up_waiting_on(
    fx: &Fixture,
    method: &SavedPaymentMethod,
) -> (Wallet, PaymentSessionId) {
    let wallet = wallet_with(fx, vec![paid_below_ten(&method.id)]).await;
    fx.ledger
        .reserve(&fx.reserve_request(dec!(15)))
        .await
        .unwrap();
    let waiting = reload(fx, &wallet).await.rules[0]
        .state
        .pending_session_id
        .clone()
        .unwrap();
    assert_eq!(session(fx, &waiting).await.status, PaymentStatus::Created);
    (wallet, waiting)
}

#[tokio::test]
async fn a_deleted_method_leaves_here_and_at_the_provider_and_only_the_rules_naming_it_pause() {
    // Arrange: the organization saved two methods; its wallet has a rule on each. Another
    // organization's wallet has a rule naming the same method id (no API lets it, but the
    // deletion must not reach across organizations whatever a rule names).
    let fx = Fixture::new();
    let deleted = fx
        .saved_method(&fx.org, "pm_deleted", PROVIDER, TOKEN)
        .await;
    let kept = fx
        .saved_method(&fx.org, "pm_kept", PROVIDER, "vault-kept")
        .await;
    let wallet = wallet_with(
        &fx,
        vec![paid_below_ten(&deleted.id), paid_below_ten(&kept.id)],
    )
    .await;
    let other_org = OrgId::parse("org_other").unwrap();
    let mut other = fx.new_wallet(Owner::Organization(other_org.clone()), dec!(0), dec!(20));
    other.org_id = other_org;
    other.rules = vec![paid_below_ten(&deleted.id)];
    let elsewhere = fx.ledger.create_wallet(&other).await.unwrap();
    let before = reload(&fx, &wallet).await;
    fx.clock.advance(Duration::minutes(1));

    // Act
    fx.payments_with(PROVIDER, deletes_once())
        .delete_saved_method(&deleted)
        .await
        .unwrap();

    // Assert: gone from the list; its rule paused, saying why; the rest untouched.
    assert_eq!(methods_of(&fx, &fx.org).await, vec![kept.id.clone()]);
    let after = reload(&fx, &wallet).await;
    let state = &after.rules[0].state;
    assert!(state.paused);
    let reason = state.paused_reason.as_deref().unwrap();
    assert!(
        reason.contains(deleted.id.as_str()) && reason.contains("deleted"),
        "{reason}"
    );
    let run = state.last_run.as_ref().unwrap();
    assert_eq!(run.status, RuleRunStatus::Failed);
    assert_eq!(run.error_code.as_deref(), Some("payment_method_deleted"));
    assert_eq!(run.at, fx.clock.now_plus(Duration::ZERO));
    assert_eq!(after.rules[1], before.rules[1], "a rule on another method");
    assert_eq!(
        reload(&fx, &elsewhere).await,
        elsewhere,
        "another organization"
    );
}

#[tokio::test]
async fn a_paid_top_up_nobody_charged_yet_fails_and_the_sweep_charges_nothing() {
    // Arrange
    let fx = Fixture::new();
    let method = fx
        .saved_method(&fx.org, "pm_deleted", PROVIDER, TOKEN)
        .await;
    let (wallet, waiting) = top_up_waiting_on(&fx, &method).await;
    // The same provider is asked to delete once, and never to charge.
    let mut provider = deletes_once();
    provider.expect_charge_saved_method().never();
    provider.expect_prepare_saved_method_charge().never();
    let payments = fx.payments_with(PROVIDER, provider);

    // Act
    payments.delete_saved_method(&method).await.unwrap();
    payments.sweep().await.unwrap();

    // Assert: the top-up failed with the deletion, the rule names it and is paused, and
    // nothing was credited.
    let failed = session(&fx, &waiting).await;
    assert_eq!(failed.status, PaymentStatus::Failed);
    assert_eq!(failed.error_code.as_deref(), Some("payment_method_deleted"));
    let after = reload(&fx, &wallet).await;
    let state = &after.rules[0].state;
    assert!(state.paused);
    assert_eq!(state.pending_session_id, None);
    let run = state.last_run.as_ref().unwrap();
    assert_eq!(run.payment_session_id.as_ref(), Some(&waiting));
    assert_eq!(run.error_code.as_deref(), Some("payment_method_deleted"));
    assert_eq!(run.paid_credits, credits(dec!(25)));
    assert!(after.paid.is_zero());
    fx.assert_audit_clean().await;
}

#[tokio::test]
async fn a_provider_refusal_keeps_the_method_and_the_same_call_again_finishes_the_deletion() {
    // Arrange
    let fx = Fixture::new();
    let method = fx
        .saved_method(&fx.org, "pm_deleted", PROVIDER, TOKEN)
        .await;
    let (wallet, waiting) = top_up_waiting_on(&fx, &method).await;
    let mut refusing = MockPaymentProvider::new();
    refusing
        .expect_delete_saved_method()
        .times(1)
        .returning(|_| Err(ProviderError::Timeout));

    // Act 1: the provider times out.
    let refused = fx
        .payments_with(PROVIDER, refusing)
        .delete_saved_method(&method)
        .await;

    // Assert 1: the error is the provider's; the method stays saved, its rule stays paused.
    assert!(
        matches!(refused, Err(LedgerError::Provider(ProviderError::Timeout))),
        "{refused:?}"
    );
    assert_eq!(methods_of(&fx, &fx.org).await, vec![method.id.clone()]);
    let paused = reload(&fx, &wallet).await;
    assert!(paused.rules[0].state.paused);

    // Act 2: a minute later, the same deletion again.
    fx.clock.advance(Duration::minutes(1));
    fx.payments_with(PROVIDER, deletes_once())
        .delete_saved_method(&method)
        .await
        .unwrap();

    // Assert 2: the method is gone, and the rule keeps its first pause (its run still names
    // the failed top-up).
    assert_eq!(
        methods_of(&fx, &fx.org).await,
        Vec::<PaymentMethodId>::new()
    );
    let after = reload(&fx, &wallet).await;
    assert_eq!(after.rules[0], paused.rules[0]);
    assert_eq!(
        after.rules[0]
            .state
            .last_run
            .as_ref()
            .unwrap()
            .payment_session_id
            .as_ref(),
        Some(&waiting)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_providers_revocation_event_for_the_deletion_leaves_the_rule_as_the_deletion_paused_it()
{
    // Arrange: PayPal reports a vault token deleted through its API with
    // `VAULT.PAYMENT-TOKEN.DELETED`; here that event arrives while the deletion is still
    // waiting for the provider's answer (the worst moment: the method is still saved).
    let fx = Fixture::new();
    let method = fx
        .saved_method(&fx.org, "pm_deleted", PROVIDER, TOKEN)
        .await;
    let (wallet, waiting) = top_up_waiting_on(&fx, &method).await;
    let webhook: Payments = fx.payments_with(PROVIDER, MockPaymentProvider::new());
    let mut provider = MockPaymentProvider::new();
    provider
        .expect_delete_saved_method()
        .with(eq(TOKEN))
        .times(1)
        .returning(move |token| {
            let event = ProviderEvent {
                event_id: "WH-DELETED-BY-US".to_owned(),
                order_id: None,
                session_id: None,
                kind: ProviderEventKind::PaymentMethodRevoked {
                    method_token: token.to_owned(),
                },
            };
            // The call is synchronous to the mock: apply the event on this worker thread.
            tokio::task::block_in_place(|| {
                tokio::runtime::Handle::current().block_on(webhook.apply_event(PROVIDER, &event))
            })
            .unwrap();
            Ok(())
        });

    // Act
    fx.payments_with(PROVIDER, provider)
        .delete_saved_method(&method)
        .await
        .unwrap();

    // Assert: the rule shows the deletion, not a revocation, and still names its failed
    // top-up; the method is gone.
    let state = &reload(&fx, &wallet).await.rules[0].state;
    assert!(state.paused);
    let run = state.last_run.as_ref().unwrap();
    assert_eq!(run.error_code.as_deref(), Some("payment_method_deleted"));
    assert_eq!(run.payment_session_id.as_ref(), Some(&waiting));
    assert!(
        state.paused_reason.as_deref().unwrap().contains("deleted"),
        "{state:?}"
    );
    assert_eq!(
        methods_of(&fx, &fx.org).await,
        Vec::<PaymentMethodId>::new()
    );
    fx.assert_audit_clean().await;
}
