//! A rule's paid top-up whose Revolut payment is accepted but not final: the order is
//! `processing` when the charge answers, so the session is recorded `captured` (pending). The
//! payment is then declined, and the order goes back to `pending` (providers.md 2.5, 2.12), or
//! it completes. A declined charge must fail as a decline (rule backoff, the rule free for its
//! next top-up, nothing credited, the order not paid again); a completed one is credited once.

use std::time::Duration as StdDuration;

use ledger_core::payment_session::{PaymentSession, PaymentStatus};
use ledger_core::payments::{Payments, STUCK_AFTER_SECONDS};
use ledger_core::wallet::Wallet;
use rust_decimal_macros::dec;
use testkit::fake_revolut::{Fault, PaymentScript};
use time::Duration;

use crate::assert_audits_clean;
use crate::replicas::{World, credits};

/// Lets the session pass the stuck threshold, then sweeps.
async fn sweep_once_stuck(world: &World, payments: &Payments) {
    world
        .clock
        .advance(Duration::seconds(STUCK_AFTER_SECONDS + 1));
    payments.sweep().await.unwrap();
}

/// The rule's charge is sent and Revolut answers `authorisation_passed` with the order
/// `processing`: the session waits as `captured`. Answers the session and the order id.
async fn charge_left_processing(
    world: &World,
    payments: &Payments,
    session: &PaymentSession,
) -> (PaymentSession, String) {
    world.fake.script_payment(PaymentScript::Processing);
    let charged = payments.charge_auto_topup(session).await.unwrap();
    let order_id = world.first_paid_order();
    assert_eq!(world.fake.order(&order_id).unwrap()["state"], "processing");
    (charged, order_id)
}

fn assert_rule_backed_off(wallet: &Wallet, session: &PaymentSession, code: &str) {
    let state = &wallet.rules[0].state;
    assert!(
        state.pending_session_id.is_none(),
        "the rule is free for its next top-up"
    );
    assert_eq!(state.consecutive_declines, 1);
    assert!(
        state.backoff_until.is_some(),
        "backs off as after a decline"
    );
    let run = state.last_run.as_ref().unwrap();
    assert_eq!(run.payment_session_id.as_ref(), Some(&session.id));
    assert_eq!(
        run.error_code.as_deref(),
        Some(format!("declined:{code}").as_str())
    );
}

#[tokio::test]
async fn a_charge_declined_after_it_was_recorded_pending_fails_as_a_decline() {
    // Arrange
    let world = World::new().await;
    let (wallet, session) = world.rule_started_a_paid_top_up().await;
    let payments = world.replica();
    let (charged, order_id) = charge_left_processing(&world, &payments, &session).await;

    // Act
    world.fake.decline(&order_id, "insufficient_funds").await;
    sweep_once_stuck(&world, &payments).await;
    sweep_once_stuck(&world, &payments).await;

    // Assert
    assert_eq!(charged.status, PaymentStatus::Captured, "recorded pending");
    let failed = world.session(&session.id).await;
    assert_eq!(
        failed.status,
        PaymentStatus::Failed,
        "not stuck in captured"
    );
    assert_eq!(failed.error_code.as_deref(), Some("insufficient_funds"));
    assert!(failed.credited_amount.is_none());
    let after = world.wallet(&wallet).await;
    assert_eq!(after.paid, credits(dec!(0)), "nothing credited");
    assert_rule_backed_off(&after, &session, "insufficient_funds");
    assert_eq!(world.orders_created_for(&session), 1);
    assert_eq!(
        world
            .fake
            .count("POST", &format!("/api/orders/{order_id}/payments")),
        1,
        "the declined order is not paid again"
    );
    assert_eq!(
        world.fake.order(&order_id).unwrap()["state"],
        "cancelled",
        "canceled at Revolut, so nothing can pay it after the session failed"
    );
    assert_audits_clean(&world.ledger, &payments).await;
}

#[tokio::test]
async fn a_charge_recorded_pending_that_completes_later_is_credited_once() {
    // Arrange
    let world = World::new().await;
    let (wallet, session) = world.rule_started_a_paid_top_up().await;
    let payments = world.replica();
    let (charged, order_id) = charge_left_processing(&world, &payments, &session).await;

    // Act: no webhook URL is set, so only the reconciler learns of the completion.
    assert!(world.fake.complete_payment(&order_id).await);
    sweep_once_stuck(&world, &payments).await;
    sweep_once_stuck(&world, &payments).await;
    let again = payments.reconcile(&session.id).await.unwrap();

    // Assert
    assert_eq!(charged.status, PaymentStatus::Captured);
    assert_eq!(again.status, PaymentStatus::Completed);
    let after = world.wallet(&wallet).await;
    assert_eq!(after.paid, credits(dec!(25)), "credited exactly once");
    assert!(after.rules[0].state.pending_session_id.is_none());
    assert_eq!(after.rules[0].state.consecutive_declines, 0);
    assert_eq!(world.payments_on(&order_id).len(), 1, "one payment");
    assert_audits_clean(&world.ledger, &payments).await;
}

#[tokio::test]
async fn a_declined_charge_whose_answer_was_lost_is_not_paid_again() {
    // Arrange
    let world = World::new().await;
    let (wallet, session) = world.rule_started_a_paid_top_up().await;
    let payments = world.replica();
    // Each of the adapter's three tries is declined at Revolut, and each answer is lost.
    for _ in 0..3 {
        world
            .fake
            .script_payment(PaymentScript::Declined("insufficient_funds".into()));
    }
    world
        .fake
        .inject("POST", "/api/orders/", Fault::ServerErrorAfterWork, 3);
    let charged = payments.charge_auto_topup(&session).await.unwrap();
    let order_id = world.first_paid_order();
    let path = format!("/api/orders/{order_id}/payments");
    let sent = world.fake.count("POST", &path);

    // Act
    world
        .clock
        .advance(Duration::seconds(STUCK_AFTER_SECONDS + 1));
    let resumed = payments.reconcile(&session.id).await.unwrap();
    tokio::time::sleep(StdDuration::from_millis(50)).await;

    // Assert
    assert_eq!(charged.status, PaymentStatus::Capturing, "outcome unknown");
    assert_eq!(resumed.status, PaymentStatus::Failed);
    assert_eq!(resumed.error_code.as_deref(), Some("insufficient_funds"));
    assert_eq!(
        world.fake.count("POST", &path),
        sent,
        "the reconciler sends no further payment"
    );
    let after = world.wallet(&wallet).await;
    assert_eq!(after.paid, credits(dec!(0)));
    assert_rule_backed_off(&after, &session, "insufficient_funds");
    assert_eq!(world.fake.order(&order_id).unwrap()["state"], "cancelled");
    assert_audits_clean(&world.ledger, &payments).await;
}
