//! A PayPal saved method revoked by its buyer, over HTTP: two organizations each save a PayPal
//! wallet through a checkout on the fake PayPal server and give their organization wallet a
//! paid threshold rule on it; the fake then signs `VAULT.PAYMENT-TOKEN.DELETED` for the first
//! organization's vault id and it is delivered to the app's webhook (twice, as PayPal retries).
//! The first organization's method leaves its list and its rule pauses and charges nothing;
//! the second organization's method and rule keep working; an unknown token is acknowledged.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::pay_support::{PayApp, Provider, Redirects, Setup};

const SETUP: Setup = Setup {
    redirects: Redirects::Follow,
    provider: Provider::Paypal,
};

async fn a_buyer_revocation_removes_the_method_and_pauses_its_rule(app: &PayApp) {
    // Arrange
    let revoker = app.saver("revoker").await;
    let bystander = app.saver("bystander").await;
    let (headers, body) = app.paypal.sign_event(
        "VAULT.PAYMENT-TOKEN.DELETED",
        json!({"id": revoker.vault_id, "customer": {"id": "CUS-REVOKER"}}),
    );

    // Act 1: PayPal delivers the revocation, then delivers it again.
    let first = app.deliver(&headers, &body).await;
    let again = app.deliver(&headers, &body).await;

    // Assert 1: both acknowledged; the method is gone and the rule paused, visibly.
    assert_eq!(first.0, StatusCode::OK, "{}", first.1);
    assert_eq!(again.0, StatusCode::OK, "{}", again.1);
    assert_eq!(first.1["event_id"], again.1["event_id"]);
    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("/v1/payments/payment-methods/{}", revoker.method_id),
            &revoker.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "the method no longer exists");
    app.assert_gone_and_paused(&revoker, "revoked", "payment_method_revoked")
        .await;
    // The other organization: its method listed, its rule running.
    let kept = app.assert_untouched(&bystander).await;

    // Act 2 and Assert 2: both wallets cross their thresholds; the revoked method is never
    // charged, and the rule says why; the other organization's rule charges its own method
    // once.
    app.assert_only_the_kept_method_is_charged(&revoker, &bystander)
        .await;

    // Act 3: a revocation of a token nobody saved.
    let (headers, body) = app.paypal.sign_event(
        "VAULT.PAYMENT-TOKEN.DELETION-INITIATED",
        json!({"id": "vt-never-saved"}),
    );
    let unknown = app.deliver(&headers, &body).await;

    // Assert 3: acknowledged, nothing changed.
    assert_eq!(unknown.0, StatusCode::OK, "{}", unknown.1);
    assert_eq!(app.methods(&bystander.token).await, kept);
    assert_eq!(app.rule_state(&bystander).await["paused"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_buyer_revocation_over_http_on_sqlite() {
    PayApp::on_sqlite(
        SETUP,
        a_buyer_revocation_removes_the_method_and_pauses_its_rule,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_buyer_revocation_over_http_on_postgres() {
    PayApp::on_postgres(
        SETUP,
        a_buyer_revocation_removes_the_method_and_pauses_its_rule,
    )
    .await;
}
