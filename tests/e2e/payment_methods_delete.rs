//! A saved PayPal method deleted through `DELETE /v1/payments/payment-methods/{id}`, over HTTP:
//! two organizations each save a PayPal wallet through a checkout on the fake PayPal server
//! and give their organization wallet a paid threshold rule on it. The second organization
//! cannot delete the first one's method (404); the first deletes it (204), here and at PayPal,
//! its rule pauses at once with `payment_method_deleted` and charges nothing, and a second
//! DELETE answers 404. The second organization's method and rule keep working.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::pay_support::{PayApp, Provider, Redirects, Saver, Setup};

const SETUP: Setup = Setup {
    redirects: Redirects::Follow,
    provider: Provider::Paypal,
};

/// DELETEs the saver's method with `token`; answers the status and the body.
async fn delete(app: &PayApp, saver: &Saver, token: &str) -> (StatusCode, Value) {
    app.call(
        Method::DELETE,
        &format!("/v1/payments/payment-methods/{}", saver.method_id),
        token,
        None,
    )
    .await
}

async fn deleting_a_method_pauses_the_rules_naming_it(app: &PayApp) {
    // Arrange
    let deleter = app.saver("deleter").await;
    let bystander = app.saver("bystander").await;

    // Act 1: the other organization's admin names the first one's method.
    let (status, body) = delete(app, &deleter, &bystander.token).await;

    // Assert 1: not found for it, and nothing changed.
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["error"]["code"], "not_found", "{body}");
    assert_eq!(app.methods(&deleter.token).await.len(), 1);
    assert_eq!(app.rule_state(&deleter).await["paused"], false);
    assert!(app.paypal.vault_token_active(&deleter.vault_id));

    // Act 2: its own admin deletes it, then deletes it again.
    let first = delete(app, &deleter, &deleter.token).await;
    let again = delete(app, &deleter, &deleter.token).await;

    // Assert 2: deleted here and at PayPal; the rule is paused and says why; the second
    // DELETE finds nothing.
    assert_eq!(first.0, StatusCode::NO_CONTENT, "{}", first.1);
    assert_eq!(again.0, StatusCode::NOT_FOUND, "{}", again.1);
    assert!(!app.paypal.vault_token_active(&deleter.vault_id));
    app.assert_gone_and_paused(&deleter, "deleted", "payment_method_deleted")
        .await;
    // The other organization: its method listed, its rule running.
    app.assert_untouched(&bystander).await;

    // Act 3 and Assert 3: both wallets cross their thresholds; the deleted method is never
    // charged (no `payment_method_missing` charge: the rule says it is paused); the other
    // organization's rule charges its own method once.
    app.assert_only_the_kept_method_is_charged(&deleter, &bystander)
        .await;
    assert_eq!(app.rule_state(&deleter).await["paused"], true);
    app.audit_is_clean().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_method_over_http_on_sqlite() {
    PayApp::on_sqlite(SETUP, deleting_a_method_pauses_the_rules_naming_it).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_method_over_http_on_postgres() {
    PayApp::on_postgres(SETUP, deleting_a_method_pauses_the_rules_naming_it).await;
}
