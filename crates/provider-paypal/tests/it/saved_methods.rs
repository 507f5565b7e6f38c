use ledger_core::ProviderError;
use ledger_core::ports::{CaptureOutcome, PaymentProvider, ProviderEventKind, WebhookRequest};
use rust_decimal_macros::dec;
use testkit::fake_paypal::CaptureScript;

use crate::{approved_order, eur, setup};

#[tokio::test]
async fn a_checkout_saves_the_wallet_and_a_merchant_charge_uses_it() {
    let (fake, provider) = setup().await;
    let order_id = approved_order(&fake, &provider, "ps_1", true).await;

    let outcome = provider.capture(&order_id, "k").await.unwrap();
    let CaptureOutcome::Completed {
        saved_method: Some(token),
        ..
    } = outcome
    else {
        panic!("expected a saved method, got {outcome:?}")
    };
    let method = provider.saved_method(&order_id).await.unwrap().unwrap();
    let charge = provider
        .charge_saved_method(&token, eur(dec!(20)), "ps_auto_1", None)
        .await
        .unwrap();
    let repeat = provider
        .charge_saved_method(&token, eur(dec!(20)), "ps_auto_1", None)
        .await
        .unwrap();

    assert_eq!(method.token, token);
    assert_eq!(method.label, "PayPal buyer@example.com");
    assert!(method.customer_id.is_some());
    assert!(matches!(
        charge.outcome,
        CaptureOutcome::Completed { amount, .. } if amount == eur(dec!(20))
    ));
    assert_eq!(repeat, charge, "same key, same charge");
    let creates: Vec<_> = fake
        .requests_to("POST", "/v2/checkout/orders")
        .into_iter()
        .filter(|request| request.path == "/v2/checkout/orders")
        .collect();
    let create = &creates[0];
    let vault = &create.json()["payment_source"]["paypal"]["attributes"]["vault"];
    assert_eq!(vault["store_in_vault"], "ON_SUCCESS");
    assert_eq!(vault["usage_type"], "MERCHANT");
    let charge_request = &creates[1];
    assert_eq!(
        charge_request.header("paypal-request-id"),
        Some("ps_auto_1")
    );
    let paypal = &charge_request.json()["payment_source"]["paypal"];
    assert_eq!(paypal["vault_id"], token.as_str());
    assert_eq!(paypal["stored_credential"]["payment_initiator"], "MERCHANT");
}

#[tokio::test]
async fn a_late_vault_token_arrives_by_webhook() {
    let (fake, provider) = setup().await;
    fake.set_vault_late(true);
    let order_id = approved_order(&fake, &provider, "ps_1", true).await;

    let outcome = provider.capture(&order_id, "k").await.unwrap();
    assert!(matches!(
        outcome,
        CaptureOutcome::Completed {
            saved_method: None,
            ..
        }
    ));
    assert_eq!(provider.saved_method(&order_id).await.unwrap(), None);
    tokio::task::yield_now().await;
    let (event_type, resource) = loop {
        if let Some(found) = fake
            .undelivered_events()
            .into_iter()
            .find(|(event_type, _)| event_type == "VAULT.PAYMENT-TOKEN.CREATED")
        {
            break found;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    };
    let (headers, body) = fake.sign_event(&event_type, resource);
    let event = provider
        .verify_webhook(&WebhookRequest { headers, body })
        .await
        .unwrap();

    assert_eq!(event.order_id.as_deref(), Some(order_id.as_str()));
    let ProviderEventKind::PaymentMethodSaved(method) = event.kind else {
        panic!("expected a saved method event")
    };
    assert!(fake.vault_token_active(&method.token));
}

#[tokio::test]
async fn a_merchant_charge_that_needs_a_capture_call_is_captured() {
    let (fake, provider) = setup().await;
    fake.set_mit_requires_capture(true);
    let token = fake.create_vault_token("payer@example.com");

    let charge = provider
        .charge_saved_method(&token, eur(dec!(20)), "ps_auto_1", None)
        .await
        .unwrap();

    assert!(matches!(charge.outcome, CaptureOutcome::Completed { .. }));
    let capture = &fake.requests_to(
        "POST",
        &format!("/v2/checkout/orders/{}/capture", charge.order_id),
    )[0];
    assert_eq!(
        capture.header("paypal-request-id"),
        Some("ps_auto_1-capture")
    );
}

#[tokio::test]
async fn merchant_charge_declines_and_pending_are_reported() {
    let (fake, provider) = setup().await;
    let token = fake.create_vault_token("payer@example.com");
    fake.script_capture(CaptureScript::InstrumentDeclined);
    fake.script_capture(CaptureScript::Pending);
    fake.script_capture(CaptureScript::Issue("PAYER_ACTION_REQUIRED".into()));

    let declined = provider
        .charge_saved_method(&token, eur(dec!(20)), "a1", None)
        .await;
    let pending = provider
        .charge_saved_method(&token, eur(dec!(20)), "a2", None)
        .await
        .unwrap();
    let needs_customer = provider
        .charge_saved_method(&token, eur(dec!(20)), "a3", None)
        .await;

    assert!(
        matches!(&declined, Err(ProviderError::Declined { code }) if code == "INSTRUMENT_DECLINED"),
        "{declined:?}"
    );
    assert!(matches!(pending.outcome, CaptureOutcome::Pending { .. }));
    assert!(
        matches!(needs_customer, Err(ProviderError::NeedsCustomer { .. })),
        "{needs_customer:?}"
    );
}

#[tokio::test]
async fn a_deleted_method_is_gone_and_charging_it_says_revoked() {
    let (fake, provider) = setup().await;
    let token = fake.create_vault_token("payer@example.com");

    provider.delete_saved_method(&token).await.unwrap();
    provider.delete_saved_method(&token).await.unwrap();
    let result = provider
        .charge_saved_method(&token, eur(dec!(20)), "a1", None)
        .await;

    assert!(!fake.vault_token_active(&token));
    assert!(
        matches!(result, Err(ProviderError::SavedMethodRevoked { .. })),
        "{result:?}"
    );
}

#[tokio::test]
async fn paypal_needs_no_prepared_order_and_a_charge_with_a_stored_order_reads_it() {
    let (fake, provider) = setup().await;
    let token = fake.create_vault_token("payer@example.com");

    let prepared = provider
        .prepare_saved_method_charge(&token, eur(dec!(20)), "ps_auto_1")
        .await
        .unwrap();
    let charge = provider
        .charge_saved_method(&token, eur(dec!(20)), "ps_auto_1", None)
        .await
        .unwrap();
    let creates_before = fake.count("POST", "/v2/checkout/orders");
    let again = provider
        .charge_saved_method(&token, eur(dec!(20)), "ps_auto_1", Some(&charge.order_id))
        .await
        .unwrap();

    assert_eq!(
        prepared, None,
        "PayPal-Request-Id makes the create idempotent"
    );
    assert_eq!(again, charge, "the stored order answers the first charge");
    assert_eq!(
        fake.count("POST", "/v2/checkout/orders"),
        creates_before,
        "nothing created or captured again"
    );
}
