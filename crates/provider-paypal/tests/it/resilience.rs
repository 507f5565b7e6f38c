use std::time::Duration;

use ledger_core::ProviderError;
use ledger_core::ports::PaymentProvider;
use provider_paypal::{PaypalProvider, Secret};
use testkit::fake_paypal::{FakePaypalServer, Fault};

use crate::{approved_order, completed_capture_id, config, setup};

#[tokio::test]
async fn the_token_is_fetched_once_for_several_calls() {
    let (fake, provider) = setup().await;

    let order_id = approved_order(&fake, &provider, "ps_1", false).await;
    provider.order_state(&order_id).await.unwrap();
    provider.capture(&order_id, "k").await.unwrap();

    assert_eq!(fake.count("POST", "/v1/oauth2/token"), 1);
    let token = &fake.requests_to("POST", "/v1/oauth2/token")[0];
    assert!(token.header("authorization").unwrap().starts_with("Basic "));
    assert_eq!(token.body, b"grant_type=client_credentials");
}

#[tokio::test]
async fn a_refused_token_is_refreshed_once_and_the_call_repeated() {
    let (fake, provider) = setup().await;
    let order_id = approved_order(&fake, &provider, "ps_1", false).await;
    fake.revoke_tokens();

    provider.order_state(&order_id).await.unwrap();
    provider.order_state(&order_id).await.unwrap();

    assert_eq!(fake.count("POST", "/v1/oauth2/token"), 2);
}

#[tokio::test]
async fn a_token_near_expiry_is_refreshed_before_use() {
    let (fake, provider) = setup().await;
    fake.set_token_expires_in(0);

    let order_id = approved_order(&fake, &provider, "ps_1", false).await;
    provider.order_state(&order_id).await.unwrap();

    assert_eq!(fake.count("POST", "/v1/oauth2/token"), 2, "one per call");
}

#[tokio::test]
async fn bad_credentials_are_a_protocol_error() {
    let fake = FakePaypalServer::start().await;
    let mut config = config(&fake);
    config.client_secret = Secret::new("wrong");
    let provider = PaypalProvider::new(config).unwrap();

    let result = provider.order_state("ORD1").await;

    assert!(
        matches!(&result, Err(ProviderError::Protocol(message)) if message.contains("invalid_client")),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_server_error_is_retried_with_the_same_request_id() {
    let (fake, provider) = setup().await;
    let order_id = approved_order(&fake, &provider, "ps_1", false).await;
    let path = format!("/v2/checkout/orders/{order_id}/capture");
    fake.inject("POST", &path, Fault::ServerError, 1);

    let outcome = provider.capture(&order_id, "cap-key").await.unwrap();

    completed_capture_id(&outcome);
    let captures = fake.requests_to("POST", &path);
    assert_eq!(captures.len(), 2);
    assert!(
        captures
            .iter()
            .all(|request| request.header("paypal-request-id") == Some("cap-key"))
    );
}

#[tokio::test]
async fn a_capture_that_timed_out_is_repeated_and_captures_exactly_once() {
    let (fake, provider) = setup().await;
    let order_id = approved_order(&fake, &provider, "ps_1", false).await;
    let path = format!("/v2/checkout/orders/{order_id}/capture");
    fake.inject("POST", &path, Fault::Delay(Duration::from_millis(500)), 1);

    let outcome = provider.capture(&order_id, "cap-key").await.unwrap();

    // The first attempt captured after the client gave up; the repeat replayed its answer.
    let capture_id = completed_capture_id(&outcome);
    let order = fake.order(&order_id).unwrap();
    assert_eq!(
        order["purchase_units"][0]["payments"]["captures"][0]["id"],
        capture_id.as_str()
    );
    assert_eq!(fake.count("POST", &path), 2);
}

#[tokio::test]
async fn a_call_that_keeps_timing_out_is_a_timeout() {
    let (fake, provider) = setup().await;
    let order_id = approved_order(&fake, &provider, "ps_1", false).await;
    let path = format!("/v2/checkout/orders/{order_id}");
    fake.inject("GET", &path, Fault::Delay(Duration::from_millis(600)), 3);

    let result = provider.order_state(&order_id).await;

    assert!(matches!(result, Err(ProviderError::Timeout)), "{result:?}");
    assert_eq!(fake.count("GET", &path), 3, "first try and two retries");
}

#[tokio::test]
async fn persistent_server_errors_are_unavailable() {
    let (fake, provider) = setup().await;
    fake.inject("GET", "/v2/checkout/orders/", Fault::ServerError, 10);

    let result = provider.order_state("ORD1").await;

    assert!(
        matches!(result, Err(ProviderError::Unavailable(_))),
        "{result:?}"
    );
}

#[tokio::test]
async fn creating_an_order_is_retried_because_it_carries_a_request_id() {
    let (fake, provider) = setup().await;
    fake.inject(
        "POST",
        "/v2/checkout/orders",
        Fault::ServerErrorAfterWork,
        1,
    );

    let created = provider
        .create_checkout(&crate::checkout_request(
            "ps_1",
            rust_decimal_macros::dec!(5),
            false,
        ))
        .await
        .unwrap();

    let creates = fake.requests_to("POST", "/v2/checkout/orders");
    assert_eq!(creates.len(), 2);
    assert_eq!(
        creates[0].header("paypal-request-id"),
        creates[1].header("paypal-request-id")
    );
    assert!(fake.order(&created.order_id).is_some());
}
