//! The Revolut adapter against the fake Revolut server of `testkit`.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] functions panic on setup failures"
)]

mod expiry;
mod orders;
mod processing_charges;
mod replicas;
mod saved_methods;
mod webhooks;

use std::sync::Arc;
use std::time::Duration as StdDuration;

use ledger_core::Ledger;
use ledger_core::money::{Currency, Money};
use ledger_core::payments::Payments;
use ledger_core::ports::{CheckoutRequest, PaymentProvider};
use provider_revolut::{RevolutConfig, RevolutProvider, Secret};
use rust_decimal::Decimal;
use testkit::ManualClock;
use testkit::fake_revolut::FakeRevolutServer;

/// Both audits over the ledger and the payment sessions find nothing.
pub(crate) async fn assert_audits_clean(ledger: &Ledger, payments: &Payments) {
    let sessions = ledger_core::payments::audit::audit_sessions(
        ledger.store().as_ref(),
        payments.store().as_ref(),
    )
    .await
    .unwrap();
    assert!(sessions.is_empty(), "payments audit: {sessions:#?}");
    let report = ledger.audit().await.unwrap();
    assert!(report.is_clean(), "audit: {:#?}", report.breaches);
}

/// Waits, bounded, until the fake shows the order in `state` (a delayed request finishes its
/// work in the background after the client gave up).
pub(crate) async fn order_reaches(fake: &FakeRevolutServer, order_id: &str, state: &str) {
    let deadline = tokio::time::Instant::now() + StdDuration::from_secs(5);
    while fake.order(order_id).unwrap()["state"] != state {
        assert!(
            tokio::time::Instant::now() < deadline,
            "order {order_id} never reached {state}"
        );
        tokio::time::sleep(StdDuration::from_millis(10)).await;
    }
}

pub(crate) fn eur(amount: Decimal) -> Money {
    Money::try_new(amount, Currency::parse("EUR").unwrap()).unwrap()
}

pub(crate) fn config(fake: &FakeRevolutServer, secrets: Vec<String>) -> RevolutConfig {
    let mut config = RevolutConfig::new(
        fake.url(),
        Secret::new(fake.secret_key()),
        secrets.into_iter().map(Secret::new).collect(),
    );
    config.timeout_ms = 300;
    config.connect_timeout_ms = 300;
    config.retry_backoff_ms = 10;
    config
}

pub(crate) async fn setup() -> (FakeRevolutServer, RevolutProvider, Arc<ManualClock>) {
    let fake = FakeRevolutServer::start().await;
    let clock = Arc::new(ManualClock::at(time::OffsetDateTime::now_utc()));
    let provider =
        RevolutProvider::with_clock(config(&fake, vec![fake.signing_secret()]), clock.clone())
            .unwrap();
    (fake, provider, clock)
}

pub(crate) fn checkout_request(session_id: &str, amount: Decimal) -> CheckoutRequest {
    CheckoutRequest {
        session_id: session_id.to_owned(),
        amount: eur(amount),
        return_url: "https://app.example/return".to_owned(),
        cancel_url: "https://app.example/cancel".to_owned(),
        description: "Wallet top-up".to_owned(),
        save_payment_method: false,
        ttl_seconds: 3 * 3600,
    }
}

pub(crate) async fn created_order(provider: &RevolutProvider, session_id: &str) -> String {
    provider
        .create_checkout(&checkout_request(session_id, Decimal::new(2500, 2)))
        .await
        .unwrap()
        .order_id
}
