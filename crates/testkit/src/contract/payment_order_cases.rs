//! One provider order belongs to one payment session (the SQL stores' unique index
//! `payment_session_order_key`, migration 0003; the memory store checks the same): a second
//! session naming the same order is `StoreError::Duplicate`, inserted or updated to it, and
//! the refused write changes nothing. Sessions without an order, and the same order id at
//! another provider, are fine.

use ledger_core::error::StoreError;
use ledger_core::payment_session::PaymentSession;

use super::Harness;
use super::payment_cases::{insert_sessions, payments, raw_session};

fn with_order(h: &Harness, provider: &str, order_id: Option<&str>) -> PaymentSession {
    PaymentSession {
        provider: provider.to_owned(),
        provider_order_id: order_id.map(str::to_owned),
        ..raw_session(h)
    }
}

/// A second session naming a taken order is refused on insert and on update.
pub async fn one_provider_order_belongs_to_one_payment_session(h: &Harness) {
    let first = with_order(h, "revolut", Some("ord-1"));
    let without_order = with_order(h, "revolut", None);
    let another_without = with_order(h, "revolut", None);
    let other_provider = with_order(h, "paypal", Some("ord-1"));
    insert_sessions(
        h,
        &[&first, &without_order, &another_without, &other_provider],
    )
    .await;
    let mut first_updated = first.clone();
    first_updated.provider_capture_id = Some("CAP-1".to_owned());

    let inserted = {
        let mut uow = h.store.ledger.begin().await.expect("begin");
        let outcome = uow
            .insert_payment_session(&with_order(h, "revolut", Some("ord-1")))
            .await;
        drop(uow);
        outcome
    };
    let updated = {
        let mut uow = h.store.ledger.begin().await.expect("begin");
        uow.lock_payment_session(&without_order.id)
            .await
            .expect("lock");
        let mut taking = without_order.clone();
        taking.provider_order_id = Some("ord-1".to_owned());
        let outcome = uow.update_payment_session(&taking).await;
        drop(uow);
        outcome
    };
    let mut uow = h.store.ledger.begin().await.expect("begin");
    uow.lock_payment_session(&first.id).await.expect("lock");
    uow.update_payment_session(&first_updated)
        .await
        .expect("a session keeps its own order on update");
    uow.commit().await.expect("commit");

    assert!(
        matches!(inserted, Err(StoreError::Duplicate(_))),
        "{inserted:?}"
    );
    assert!(
        matches!(updated, Err(StoreError::Duplicate(_))),
        "{updated:?}"
    );
    let port = payments(h);
    let found = port
        .payment_session_by_order("revolut", "ord-1")
        .await
        .expect("read");
    assert_eq!(found, Some(first_updated));
    let untouched = port
        .payment_session(&without_order.id)
        .await
        .expect("read")
        .expect("found");
    assert_eq!(
        untouched.provider_order_id, None,
        "the refused update wrote nothing"
    );
}
