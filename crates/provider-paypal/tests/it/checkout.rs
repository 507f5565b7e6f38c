use ledger_core::ProviderError;
use ledger_core::ports::{CaptureOutcome, OrderState, PaymentProvider};
use rust_decimal_macros::dec;
use testkit::fake_paypal::CaptureScript;

use crate::{approved_order, checkout_request, completed_capture_id, eur, setup};

#[tokio::test]
async fn create_approve_capture_refund_round_trip() {
    let (fake, provider) = setup().await;

    let created = provider
        .create_checkout(&checkout_request("ps_1", dec!(25), false))
        .await
        .unwrap();
    assert!(created.approval_url.contains("/checkoutnow?token="));
    assert_eq!(
        provider.order_state(&created.order_id).await.unwrap(),
        OrderState::Created
    );
    let redirect = fake.approve(&created.order_id).await;
    assert!(redirect.starts_with("https://app.example/return?s=1&token="));
    assert_eq!(
        provider.order_state(&created.order_id).await.unwrap(),
        OrderState::Approved
    );
    let outcome = provider
        .capture(&created.order_id, "ps_1-capture")
        .await
        .unwrap();
    let capture_id = completed_capture_id(&outcome);
    let refund = provider
        .refund(&created.order_id, &capture_id, eur(dec!(10)), "rf_1")
        .await
        .unwrap();
    let again = provider
        .refund(&created.order_id, &capture_id, eur(dec!(10)), "rf_1")
        .await
        .unwrap();
    let rest = provider
        .refund(&created.order_id, &capture_id, eur(dec!(15)), "rf_2")
        .await
        .unwrap();

    assert_eq!(
        outcome,
        CaptureOutcome::Completed {
            capture_id: capture_id.clone(),
            amount: eur(dec!(25)),
            saved_method: None
        }
    );
    assert_eq!(refund.amount, eur(dec!(10)));
    assert_eq!(again.refund_id, refund.refund_id, "same key, same refund");
    assert_eq!(rest.amount, eur(dec!(15)));
    let order = fake.order(&created.order_id).unwrap();
    assert_eq!(
        order["purchase_units"][0]["payments"]["captures"][0]["status"],
        "REFUNDED"
    );
    let create = &fake.requests_to("POST", "/v2/checkout/orders")[0];
    assert_eq!(
        create.header("paypal-request-id"),
        Some("purse-create-ps_1")
    );
    let body = create.json();
    assert_eq!(body["purchase_units"][0]["custom_id"], "ps_1");
    assert_eq!(body["purchase_units"][0]["amount"]["value"], "25.00");
    assert_eq!(
        body["payment_source"]["paypal"]["experience_context"]["return_url"],
        "https://app.example/return?s=1"
    );
}

#[tokio::test]
async fn creating_the_same_session_twice_returns_the_first_order() {
    let (fake, provider) = setup().await;

    let first = provider
        .create_checkout(&checkout_request("ps_1", dec!(25), false))
        .await
        .unwrap();
    let second = provider
        .create_checkout(&checkout_request("ps_1", dec!(25), false))
        .await
        .unwrap();

    assert_eq!(first, second);
    assert_eq!(fake.count("POST", "/v2/checkout/orders"), 2);
}

#[tokio::test]
async fn capture_before_approval_is_not_approved() {
    let (_fake, provider) = setup().await;
    let created = provider
        .create_checkout(&checkout_request("ps_1", dec!(25), false))
        .await
        .unwrap();

    let result = provider.capture(&created.order_id, "k").await;

    assert!(
        matches!(result, Err(ProviderError::NotApproved)),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_pending_capture_completes_later() {
    let (fake, provider) = setup().await;
    let order_id = approved_order(&fake, &provider, "ps_1", false).await;
    fake.script_capture(CaptureScript::Pending);

    let outcome = provider.capture(&order_id, "k").await.unwrap();
    let CaptureOutcome::Pending { capture_id } = outcome else {
        panic!("expected pending, got {outcome:?}")
    };
    assert!(matches!(
        provider.order_state(&order_id).await.unwrap(),
        OrderState::Captured(CaptureOutcome::Pending { .. })
    ));
    fake.complete_capture(&capture_id).await;

    assert!(matches!(
        provider.order_state(&order_id).await.unwrap(),
        OrderState::Captured(CaptureOutcome::Completed { .. })
    ));
}

#[tokio::test]
async fn a_declined_capture_is_a_declined_outcome() {
    let (fake, provider) = setup().await;
    let order_id = approved_order(&fake, &provider, "ps_1", false).await;
    fake.script_capture(CaptureScript::Declined);

    let outcome = provider.capture(&order_id, "k").await.unwrap();

    assert!(
        matches!(outcome, CaptureOutcome::Declined { .. }),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn instrument_declined_is_the_declined_error_and_the_buyer_can_approve_again() {
    let (fake, provider) = setup().await;
    let order_id = approved_order(&fake, &provider, "ps_1", false).await;
    fake.script_capture(CaptureScript::InstrumentDeclined);

    let result = provider.capture(&order_id, "k1").await;
    assert!(
        matches!(&result, Err(ProviderError::Declined { code }) if code == "INSTRUMENT_DECLINED"),
        "{result:?}"
    );
    assert_eq!(
        provider.order_state(&order_id).await.unwrap(),
        OrderState::Created
    );
    fake.approve(&order_id).await;
    let outcome = provider.capture(&order_id, "k2").await.unwrap();

    completed_capture_id(&outcome);
}

#[tokio::test]
async fn order_already_captured_is_success_after_a_lookup() {
    let (fake, provider) = setup().await;
    let order_id = approved_order(&fake, &provider, "ps_1", false).await;
    let first = provider.capture(&order_id, "k1").await.unwrap();

    let second = provider.capture(&order_id, "another-key").await.unwrap();

    assert_eq!(first, second);
    assert_eq!(fake.count("POST", "/v2/checkout/orders/"), 2);
    assert_eq!(
        fake.count("GET", &format!("/v2/checkout/orders/{order_id}")),
        1
    );
}

#[tokio::test]
async fn over_refunding_is_refused() {
    let (fake, provider) = setup().await;
    let order_id = approved_order(&fake, &provider, "ps_1", false).await;
    let capture_id = completed_capture_id(&provider.capture(&order_id, "k").await.unwrap());

    let result = provider
        .refund(&order_id, &capture_id, eur(dec!(26)), "rf")
        .await;

    assert!(
        matches!(&result, Err(ProviderError::Protocol(message)) if message.contains("REFUND_AMOUNT_EXCEEDED")),
        "{result:?}"
    );
}
