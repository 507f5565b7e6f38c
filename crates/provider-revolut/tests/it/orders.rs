use std::time::Duration;

use ledger_core::ProviderError;
use ledger_core::ports::{CaptureOutcome, OrderState, PaymentProvider};
use rust_decimal_macros::dec;
use testkit::fake_revolut::Fault;

use crate::{checkout_request, created_order, eur, setup};

#[tokio::test]
async fn create_pay_capture_refund_round_trip() {
    let (fake, provider, _clock) = setup().await;

    let created = provider
        .create_checkout(&checkout_request("ps_1", dec!(25)))
        .await
        .unwrap();
    assert!(created.approval_url.contains("/payment-link/"));
    let redirect = fake.pay(&created.order_id, None).await.unwrap();
    let outcome = provider
        .capture(&created.order_id, "ignored")
        .await
        .unwrap();
    let refund = provider
        .refund(&created.order_id, &created.order_id, eur(dec!(10)), "rf_1")
        .await
        .unwrap();
    let again = provider
        .refund(&created.order_id, &created.order_id, eur(dec!(10)), "rf_1")
        .await
        .unwrap();
    let too_much = provider
        .refund(&created.order_id, &created.order_id, eur(dec!(16)), "rf_2")
        .await;

    assert_eq!(redirect, "https://app.example/return");
    assert_eq!(
        outcome,
        CaptureOutcome::Completed {
            capture_id: created.order_id.clone(),
            amount: eur(dec!(25)),
            saved_method: None
        }
    );
    assert_eq!(refund.amount, eur(dec!(10)));
    assert_eq!(again.refund_id, refund.refund_id, "same key, same refund");
    assert!(
        matches!(too_much, Err(ProviderError::Protocol(_))),
        "{too_much:?}"
    );
    assert_eq!(
        fake.order(&created.order_id).unwrap()["refunded_amount"],
        1000
    );
    let create = &fake.requests_to("POST", "/api/orders")[0];
    assert_eq!(create.header("revolut-api-version"), Some("2025-12-04"));
    assert_eq!(
        create.header("authorization"),
        Some("Bearer sk_fake_secret")
    );
    let body = create.json();
    assert_eq!(body["amount"], 2500);
    assert_eq!(body["currency"], "EUR");
    assert_eq!(body["merchant_order_data"]["reference"], "ps_1");
    assert_eq!(body["capture_mode"], "automatic");
    assert_eq!(
        body["expire_pending_after"], "PT3H",
        "no sooner than the session"
    );
    let refund_request = &fake.requests_to("POST", "/api/orders/")[0];
    assert_eq!(refund_request.header("idempotency-key"), Some("rf_1"));
}

#[tokio::test]
async fn an_unpaid_or_declined_order_is_not_approved() {
    let (fake, provider, _clock) = setup().await;
    let order_id = created_order(&provider, "ps_1").await;

    let unpaid = provider.capture(&order_id, "k").await;
    fake.decline(&order_id, "insufficient_funds").await;
    let declined = provider.capture(&order_id, "k").await;

    assert!(
        matches!(unpaid, Err(ProviderError::NotApproved)),
        "{unpaid:?}"
    );
    assert!(
        matches!(declined, Err(ProviderError::NotApproved)),
        "{declined:?}"
    );
    assert_eq!(
        provider.order_state(&order_id).await.unwrap(),
        OrderState::AttemptDeclined {
            code: "insufficient_funds".to_owned()
        },
        "unpaid again, not final: the buyer may try again"
    );
}

#[tokio::test]
async fn an_expired_order_is_failed() {
    let (fake, provider, _clock) = setup().await;
    let order_id = created_order(&provider, "ps_1").await;

    fake.expire(&order_id).await;

    assert!(matches!(
        provider.order_state(&order_id).await.unwrap(),
        OrderState::Failed { .. }
    ));
    assert!(matches!(
        provider.capture(&order_id, "k").await.unwrap(),
        CaptureOutcome::Declined { .. }
    ));
}

#[tokio::test]
async fn reads_are_retried_after_a_server_error() {
    let (fake, provider, _clock) = setup().await;
    let order_id = created_order(&provider, "ps_1").await;
    let path = format!("/api/orders/{order_id}");
    fake.inject("GET", &path, Fault::ServerError, 1);

    provider.order_state(&order_id).await.unwrap();

    assert_eq!(fake.count("GET", &path), 2);
}

#[tokio::test]
async fn creating_an_order_is_never_repeated() {
    let (fake, provider, _clock) = setup().await;
    fake.inject("POST", "/api/orders", Fault::ServerError, 1);

    let result = provider
        .create_checkout(&checkout_request("ps_1", dec!(25)))
        .await;

    assert!(
        matches!(result, Err(ProviderError::Unavailable(_))),
        "{result:?}"
    );
    assert_eq!(fake.count("POST", "/api/orders"), 1);
}

#[tokio::test]
async fn a_refund_is_retried_with_the_same_idempotency_key() {
    let (fake, provider, _clock) = setup().await;
    let order_id = created_order(&provider, "ps_1").await;
    fake.pay(&order_id, None).await;
    let path = format!("/api/orders/{order_id}/refund");
    fake.inject("POST", &path, Fault::ServerErrorAfterWork, 1);

    let refund = provider
        .refund(&order_id, &order_id, eur(dec!(5)), "rf_1")
        .await
        .unwrap();

    let requests = fake.requests_to("POST", &path);
    assert_eq!(requests.len(), 2);
    assert!(
        requests
            .iter()
            .all(|request| request.header("idempotency-key") == Some("rf_1"))
    );
    assert_eq!(refund.amount, eur(dec!(5)));
    assert_eq!(
        fake.order(&order_id).unwrap()["refunded_amount"],
        500,
        "refunded once"
    );
}

#[tokio::test]
async fn a_read_that_keeps_timing_out_is_a_timeout() {
    let (fake, provider, _clock) = setup().await;
    let order_id = created_order(&provider, "ps_1").await;
    let path = format!("/api/orders/{order_id}");
    fake.inject("GET", &path, Fault::Delay(Duration::from_millis(600)), 3);

    let result = provider.order_state(&order_id).await;

    assert!(matches!(result, Err(ProviderError::Timeout)), "{result:?}");
    assert_eq!(fake.count("GET", &path), 3);
}

#[tokio::test]
async fn an_unpaid_order_is_cancelled_and_can_no_longer_be_paid() {
    let (fake, provider, _clock) = setup().await;
    let order_id = created_order(&provider, "ps_1").await;

    provider.cancel_order(&order_id).await.unwrap();
    let paid = fake.pay(&order_id, None).await;

    assert_eq!(fake.order(&order_id).unwrap()["state"], "cancelled");
    assert!(paid.is_none(), "a cancelled order takes no payment");
    assert_eq!(
        provider.order_state(&order_id).await.unwrap(),
        OrderState::Canceled
    );
    assert_eq!(
        fake.count("POST", &format!("/api/orders/{order_id}/cancel")),
        1
    );
}

#[tokio::test]
async fn a_paid_or_paying_order_refuses_the_cancel() {
    let (fake, provider, _clock) = setup().await;
    let paid = created_order(&provider, "ps_1").await;
    let paying = created_order(&provider, "ps_2").await;
    fake.pay(&paid, None).await;
    fake.start_payment(&paying);

    let paid_cancel = provider.cancel_order(&paid).await;
    let paying_cancel = provider.cancel_order(&paying).await;

    assert!(
        matches!(paid_cancel, Err(ProviderError::Protocol(_))),
        "{paid_cancel:?}"
    );
    assert!(
        matches!(paying_cancel, Err(ProviderError::Protocol(_))),
        "{paying_cancel:?}"
    );
    assert_eq!(fake.order(&paid).unwrap()["state"], "completed");
    assert_eq!(fake.order(&paying).unwrap()["state"], "processing");
}

#[tokio::test]
async fn a_cancel_that_keeps_timing_out_is_a_timeout() {
    let (fake, provider, _clock) = setup().await;
    let order_id = created_order(&provider, "ps_1").await;
    let path = format!("/api/orders/{order_id}/cancel");
    fake.inject("POST", &path, Fault::Delay(Duration::from_millis(600)), 3);

    let result = provider.cancel_order(&order_id).await;

    assert!(matches!(result, Err(ProviderError::Timeout)), "{result:?}");
    assert_eq!(fake.count("POST", &path), 3, "a cancel is safe to repeat");
}
