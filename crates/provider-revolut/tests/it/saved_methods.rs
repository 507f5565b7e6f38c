use ledger_core::ProviderError;
use ledger_core::money::Money;
use ledger_core::ports::{CaptureOutcome, MerchantCharge, PaymentProvider};
use provider_revolut::RevolutProvider;
use rust_decimal_macros::dec;
use testkit::fake_revolut::{PaymentScript, SavedFor};

use crate::{created_order, eur, setup};

/// A charge as the core makes it: the order is prepared (and would be stored), then paid.
async fn prepare_and_charge(
    provider: &RevolutProvider,
    token: &str,
    amount: Money,
    key: &str,
) -> Result<MerchantCharge, ProviderError> {
    let order_id = provider
        .prepare_saved_method_charge(token, amount, key)
        .await?;
    assert!(order_id.is_some(), "revolut always prepares an order");
    provider
        .charge_saved_method(token, amount, key, order_id.as_deref())
        .await
}

#[tokio::test]
async fn a_saved_card_is_charged_merchant_initiated_once_per_key() {
    let (fake, provider, _clock) = setup().await;
    let order_id = created_order(&provider, "ps_1").await;
    fake.pay(&order_id, Some(SavedFor::Merchant)).await;

    let outcome = provider.capture(&order_id, "k").await.unwrap();
    let CaptureOutcome::Completed {
        saved_method: Some(token),
        ..
    } = outcome
    else {
        panic!("expected a saved method, got {outcome:?}")
    };
    let method = provider.saved_method(&order_id).await.unwrap().unwrap();
    let charge = prepare_and_charge(&provider, &token, eur(dec!(20)), "ps_auto_1")
        .await
        .unwrap();
    let repeat = provider
        .charge_saved_method(&token, eur(dec!(20)), "ps_auto_1", Some(&charge.order_id))
        .await
        .unwrap();

    assert_eq!(method.token, token);
    assert_eq!(method.label, "visa •••• 4242");
    assert!(matches!(
        charge.outcome,
        CaptureOutcome::Completed { amount, .. } if amount == eur(dec!(20))
    ));
    assert_eq!(repeat.order_id, charge.order_id, "same stored order");
    assert_eq!(
        repeat.outcome, charge.outcome,
        "the repeat answers the first payment"
    );
    let payments = fake.requests_to("POST", &format!("/api/orders/{}/payments", charge.order_id));
    assert_eq!(payments.len(), 1, "paid once");
    let body = payments[0].json();
    assert_eq!(body["saved_payment_method"]["initiator"], "merchant");
    assert_eq!(
        body["saved_payment_method"]["id"],
        method.method_id.as_str()
    );
    let create = fake
        .requests_to("POST", "/api/orders")
        .into_iter()
        .filter(|r| r.path == "/api/orders")
        .nth(1)
        .unwrap();
    assert_eq!(
        create.json()["customer"]["id"],
        method.customer_id.unwrap().as_str()
    );
    assert_eq!(
        create.json()["merchant_order_data"]["reference"],
        "ps_auto_1"
    );
}

#[tokio::test]
async fn merchant_charge_declines_are_classified() {
    let (fake, provider, _clock) = setup().await;
    let (customer, method) = fake.create_saved_card(SavedFor::Merchant);
    let token = format!("{customer}/card/{method}");
    fake.script_payment(PaymentScript::Declined("insufficient_funds".into()));
    fake.script_payment(PaymentScript::Declined("expired_card".into()));
    fake.script_payment(PaymentScript::Challenge);

    let funds = prepare_and_charge(&provider, &token, eur(dec!(20)), "a1").await;
    let expired = prepare_and_charge(&provider, &token, eur(dec!(20)), "a2").await;
    let challenge = prepare_and_charge(&provider, &token, eur(dec!(20)), "a3").await;

    assert!(
        matches!(&funds, Err(ProviderError::Declined { code }) if code == "insufficient_funds"),
        "{funds:?}"
    );
    assert!(
        matches!(expired, Err(ProviderError::SavedMethodRevoked { .. })),
        "{expired:?}"
    );
    assert!(
        matches!(challenge, Err(ProviderError::NeedsCustomer { .. })),
        "{challenge:?}"
    );
}

#[tokio::test]
async fn a_method_saved_for_the_customer_cannot_be_charged_by_the_merchant() {
    let (fake, provider, _clock) = setup().await;
    let (customer, method) = fake.create_saved_card(SavedFor::Customer);

    let token = format!("{customer}/card/{method}");

    let result = prepare_and_charge(&provider, &token, eur(dec!(20)), "a1").await;

    assert!(
        matches!(result, Err(ProviderError::SavedMethodRevoked { .. })),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_deleted_method_is_gone_and_cannot_be_charged() {
    let (fake, provider, _clock) = setup().await;
    let (customer, method) = fake.create_saved_card(SavedFor::Merchant);
    let token = format!("{customer}/card/{method}");

    provider.delete_saved_method(&token).await.unwrap();
    provider.delete_saved_method(&token).await.unwrap();
    let result = prepare_and_charge(&provider, &token, eur(dec!(20)), "a1").await;

    assert!(!fake.method_active(&method));
    assert!(
        matches!(result, Err(ProviderError::SavedMethodRevoked { .. })),
        "{result:?}"
    );
    let delete = &fake.requests_to("DELETE", "/api/customers/")[0];
    assert_eq!(
        delete.path,
        format!("/api/customers/{customer}/payment-methods/{method}")
    );
    assert_eq!(delete.header("revolut-api-version"), Some("2025-12-04"));
}

#[tokio::test]
async fn a_charge_without_a_prepared_order_creates_nothing_and_is_refused() {
    let (fake, provider, _clock) = setup().await;
    let (customer, method) = fake.create_saved_card(SavedFor::Merchant);
    let token = format!("{customer}/card/{method}");

    let result = provider
        .charge_saved_method(&token, eur(dec!(20)), "a1", None)
        .await;

    assert!(
        matches!(result, Err(ProviderError::Protocol(_))),
        "{result:?}"
    );
    assert_eq!(fake.count("POST", "/api/orders"), 0, "no order, no payment");
}

#[tokio::test]
async fn an_order_of_another_charge_is_never_paid() {
    let (fake, provider, _clock) = setup().await;
    let (customer, method) = fake.create_saved_card(SavedFor::Merchant);
    let token = format!("{customer}/card/{method}");
    let other = provider
        .prepare_saved_method_charge(&token, eur(dec!(20)), "a1")
        .await
        .unwrap()
        .unwrap();

    let wrong_key = provider
        .charge_saved_method(&token, eur(dec!(20)), "a2", Some(&other))
        .await;
    let wrong_amount = provider
        .charge_saved_method(&token, eur(dec!(21)), "a1", Some(&other))
        .await;

    assert!(
        matches!(wrong_key, Err(ProviderError::Protocol(_))),
        "{wrong_key:?}"
    );
    assert!(
        matches!(wrong_amount, Err(ProviderError::Protocol(_))),
        "{wrong_amount:?}"
    );
    assert_eq!(
        fake.count("POST", &format!("/api/orders/{other}/payments")),
        0
    );
}

#[tokio::test]
async fn a_repeated_payment_whose_first_answer_was_lost_answers_the_payment() {
    let (fake, provider, _clock) = setup().await;
    let (customer, method) = fake.create_saved_card(SavedFor::Merchant);
    let token = format!("{customer}/card/{method}");
    let order_id = provider
        .prepare_saved_method_charge(&token, eur(dec!(20)), "a1")
        .await
        .unwrap()
        .unwrap();
    let path = format!("/api/orders/{order_id}/payments");
    // The first payment goes through and its answer is lost; the client's repeat is refused
    // because the order is paid.
    fake.inject(
        "POST",
        &path,
        testkit::fake_revolut::Fault::ServerErrorAfterWork,
        1,
    );

    let charge = provider
        .charge_saved_method(&token, eur(dec!(20)), "a1", Some(&order_id))
        .await
        .unwrap();

    assert!(
        matches!(charge.outcome, CaptureOutcome::Completed { .. }),
        "{charge:?}"
    );
    assert_eq!(fake.count("POST", &path), 2, "the payment and its repeat");
    assert_eq!(
        fake.order(&order_id).unwrap()["payments"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "paid once"
    );
}
