//! The PayPal adapter against the fake PayPal server of `testkit`.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] functions panic on setup failures"
)]

mod checkout;
mod resilience;
mod saved_methods;
mod webhooks;

use ledger_core::money::{Currency, Money};
use ledger_core::ports::{CaptureOutcome, CheckoutRequest, PaymentProvider};
use provider_paypal::{PaypalConfig, PaypalProvider, Secret};
use rust_decimal::Decimal;
use testkit::fake_paypal::FakePaypalServer;

pub(crate) fn eur(amount: Decimal) -> Money {
    Money::try_new(amount, Currency::parse("EUR").unwrap()).unwrap()
}

pub(crate) fn config(fake: &FakePaypalServer) -> PaypalConfig {
    let mut config = PaypalConfig::new(
        fake.url(),
        fake.client_id(),
        Secret::new(fake.client_secret()),
        fake.webhook_id(),
    );
    config.timeout_ms = 300;
    config.connect_timeout_ms = 300;
    config.retry_backoff_ms = 10;
    config
}

pub(crate) async fn setup() -> (FakePaypalServer, PaypalProvider) {
    let fake = FakePaypalServer::start().await;
    let provider = PaypalProvider::new(config(&fake)).unwrap();
    (fake, provider)
}

pub(crate) fn checkout_request(session_id: &str, amount: Decimal, save: bool) -> CheckoutRequest {
    CheckoutRequest {
        session_id: session_id.to_owned(),
        amount: eur(amount),
        return_url: "https://app.example/return?s=1".to_owned(),
        cancel_url: "https://app.example/cancel".to_owned(),
        description: "Wallet top-up".to_owned(),
        save_payment_method: save,
        ttl_seconds: 3 * 3600,
    }
}

/// Creates a checkout and approves it as the buyer; the order id.
pub(crate) async fn approved_order(
    fake: &FakePaypalServer,
    provider: &PaypalProvider,
    session_id: &str,
    save: bool,
) -> String {
    let created = provider
        .create_checkout(&checkout_request(session_id, Decimal::new(2500, 2), save))
        .await
        .unwrap();
    fake.approve(&created.order_id).await;
    created.order_id
}

/// The capture id of a completed outcome.
pub(crate) fn completed_capture_id(outcome: &CaptureOutcome) -> String {
    match outcome {
        CaptureOutcome::Completed { capture_id, .. } => capture_id.clone(),
        other => panic!("expected a completed capture, got {other:?}"),
    }
}
