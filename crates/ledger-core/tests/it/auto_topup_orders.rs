//! A rule's paid top-up at a provider whose order create has no idempotency (Revolut): the
//! core stores the prepared order id on the session before it asks for the payment, and a
//! reconcile of a stuck charge asks about that order and pays it again, never preparing a
//! new one. The provider is a mockall script; the store is the real memory store.

use std::sync::{Arc, Mutex};

use ledger_core::error::ProviderError;
use ledger_core::id::PaymentSessionId;
use ledger_core::money::Money;
use ledger_core::payment_session::{PaymentSession, PaymentStatus};
use ledger_core::payments::Payments;
use ledger_core::ports::{
    CaptureOutcome, MerchantCharge, MockPaymentProvider, OrderState, PaymentStore,
};
use ledger_core::wallet::{Owner, Wallet};
use mockall::predicate::eq;
use rust_decimal_macros::dec;
use store_memory::MemoryStore;

use crate::support::{Fixture, credits, paid_below_ten};

const PROVIDER: &str = "revolut_pro";
const ORDER: &str = "ord-prepared-1";

fn payments(fx: &Fixture, provider: MockPaymentProvider) -> Payments {
    fx.payments_with(PROVIDER, provider)
}

/// A wallet whose paid threshold rule was crossed: a paid top-up of 25 is started, not
/// charged.
async fn started_top_up(fx: &Fixture) -> (Wallet, PaymentSession) {
    let method = fx
        .saved_method(&fx.org, "pm_card1", PROVIDER, "cus-1/card/pm-1")
        .await;
    let mut new = fx.new_wallet(Owner::User(fx.user.clone()), dec!(0), dec!(20));
    new.rules = vec![paid_below_ten(&method.id)];
    let wallet = fx.ledger.create_wallet(&new).await.unwrap();
    fx.ledger
        .reserve(&fx.reserve_request(dec!(15)))
        .await
        .unwrap();
    let wallet = fx.ledger.store().wallet(&wallet.id).await.unwrap().unwrap();
    let id = wallet.rules[0].state.pending_session_id.clone().unwrap();
    (wallet, session(&fx.store, &id).await)
}

async fn session(store: &MemoryStore, id: &PaymentSessionId) -> PaymentSession {
    store.payment_session(id).await.unwrap().unwrap()
}

fn completed(amount: Money) -> MerchantCharge {
    MerchantCharge {
        order_id: ORDER.to_owned(),
        outcome: CaptureOutcome::Completed {
            capture_id: "cap-1".to_owned(),
            amount,
            saved_method: None,
        },
    }
}

/// A first charger that prepared the order, then timed out on the payment: the session is
/// left `capturing` with the prepared order stored.
async fn charge_that_timed_out(fx: &Fixture, started: &PaymentSession) -> PaymentSession {
    let mut first = MockPaymentProvider::new();
    first
        .expect_prepare_saved_method_charge()
        .times(1)
        .returning(|_, _, _| Ok(Some(ORDER.to_owned())));
    first
        .expect_charge_saved_method()
        .times(1)
        .returning(|_, _, _, _| Err(ProviderError::Timeout));
    payments(fx, first)
        .charge_auto_topup(started)
        .await
        .unwrap()
}

/// What the store held for the session when the payment call arrived, and which order the
/// call named.
#[derive(Debug, Clone)]
struct SeenAtPayment {
    stored: Option<String>,
    named: Option<String>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_prepared_order_is_stored_before_the_payment_is_asked_for() {
    let fx = Fixture::new();
    let (_, started) = started_top_up(&fx).await;
    let seen: Arc<Mutex<Option<SeenAtPayment>>> = Arc::default();
    let mut provider = MockPaymentProvider::new();
    provider
        .expect_prepare_saved_method_charge()
        .with(
            eq("cus-1/card/pm-1"),
            mockall::predicate::always(),
            eq(started.id.as_str().to_owned()),
        )
        .times(1)
        .returning(|_, _, _| Ok(Some(ORDER.to_owned())));
    let store = fx.store.clone();
    let id = started.id.clone();
    let record = seen.clone();
    provider
        .expect_charge_saved_method()
        .times(1)
        .returning(move |_, amount, _, order_id| {
            // The call is synchronous to the mock: read the store on this worker thread.
            let stored = tokio::task::block_in_place(|| {
                tokio::runtime::Handle::current().block_on(session(&store, &id))
            });
            *record.lock().unwrap() = Some(SeenAtPayment {
                stored: stored.provider_order_id,
                named: order_id.map(str::to_owned),
            });
            Ok(completed(amount))
        });

    let charged = payments(&fx, provider)
        .charge_auto_topup(&started)
        .await
        .unwrap();

    let SeenAtPayment { stored, named } = seen
        .lock()
        .unwrap()
        .clone()
        .expect("the payment was asked for");
    assert_eq!(
        stored.as_deref(),
        Some(ORDER),
        "stored before the payment call"
    );
    assert_eq!(
        named.as_deref(),
        Some(ORDER),
        "the payment names the stored order"
    );
    assert_eq!(charged.status, PaymentStatus::Completed);
    assert_eq!(charged.provider_order_id.as_deref(), Some(ORDER));
}

#[tokio::test]
async fn a_stuck_charge_with_an_unpaid_order_is_paid_again_as_that_order_without_preparing() {
    let fx = Fixture::new();
    let (wallet, started) = started_top_up(&fx).await;
    let stuck = charge_that_timed_out(&fx, &started).await;
    let mut other_replica = MockPaymentProvider::new();
    other_replica.expect_prepare_saved_method_charge().never();
    other_replica
        .expect_order_state()
        .with(eq(ORDER))
        .times(1)
        .returning(|_| Ok(OrderState::Created));
    let key = stuck.id.as_str().to_owned();
    other_replica
        .expect_charge_saved_method()
        .withf(move |_, _, charge_key, order_id| charge_key == key && *order_id == Some(ORDER))
        .times(1)
        .returning(|_, amount, _, _| Ok(completed(amount)));

    let resumed = payments(&fx, other_replica)
        .reconcile(&stuck.id)
        .await
        .unwrap();

    assert_eq!(stuck.status, PaymentStatus::Capturing);
    assert_eq!(stuck.provider_order_id.as_deref(), Some(ORDER));
    assert_eq!(resumed.status, PaymentStatus::Completed);
    let after = fx.ledger.store().wallet(&wallet.id).await.unwrap().unwrap();
    assert_eq!(after.paid, credits(dec!(25)));
    fx.assert_audit_clean().await;
}

#[tokio::test]
async fn a_stuck_charge_whose_order_was_paid_is_credited_without_charging_or_preparing() {
    let fx = Fixture::new();
    let (wallet, started) = started_top_up(&fx).await;
    let stuck = charge_that_timed_out(&fx, &started).await;
    let amount = Money::try_new(stuck.amount, stuck.currency).unwrap();
    let mut other_replica = MockPaymentProvider::new();
    other_replica.expect_prepare_saved_method_charge().never();
    other_replica.expect_charge_saved_method().never();
    other_replica
        .expect_order_state()
        .with(eq(ORDER))
        .returning(move |_| Ok(OrderState::Captured(completed(amount).outcome)));

    let resumed = payments(&fx, other_replica)
        .reconcile(&stuck.id)
        .await
        .unwrap();

    assert_eq!(resumed.status, PaymentStatus::Completed);
    let after = fx.ledger.store().wallet(&wallet.id).await.unwrap().unwrap();
    assert_eq!(after.paid, credits(dec!(25)), "credited once");
    assert!(after.rules[0].state.pending_session_id.is_none());
    fx.assert_audit_clean().await;
}

#[tokio::test]
async fn a_prepare_that_timed_out_stores_nothing_and_asks_for_no_payment() {
    let fx = Fixture::new();
    let (_, started) = started_top_up(&fx).await;
    let mut provider = MockPaymentProvider::new();
    provider
        .expect_prepare_saved_method_charge()
        .times(1)
        .returning(|_, _, _| Err(ProviderError::Timeout));
    provider.expect_charge_saved_method().never();

    let after = payments(&fx, provider)
        .charge_auto_topup(&started)
        .await
        .unwrap();

    assert_eq!(
        after.status,
        PaymentStatus::Capturing,
        "left for the reconciler"
    );
    assert_eq!(after.provider_order_id, None);
}
