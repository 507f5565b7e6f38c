//! Payments end to end on SQLite and PostgreSQL: the app serving on port 0, the fake PayPal
//! server delivering its webhooks to it over HTTP, and the sandbox page driven like a browser.

use std::time::Duration;

use futures::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::pay_support::{PayApp, Provider, Redirects, Setup};

/// The sandbox page answers its Approve with a `303` the scenario looks at; PayPal is
/// switched on half-way.
const SETUP: Setup = Setup {
    redirects: Redirects::Show,
    provider: Provider::Sandbox,
};

impl PayApp {
    async fn confirm(&self, token: &str, checkout: &Value) -> (StatusCode, Value) {
        self.call(
            Method::POST,
            "/v1/payments/confirm-checkout",
            token,
            Some(json!({
                "payment_session_id": checkout["payment_session_id"],
                "provider_session_token": checkout["provider_order_id"],
                "checkout_state": checkout["checkout_state"],
            })),
        )
        .await
    }

    async fn org_paid(&self, token: &str, org: &str) -> String {
        let (_, wallets) = self
            .call(
                Method::GET,
                &format!("/v1/wallets?owner_type=organization&owner_id={org}"),
                token,
                None,
            )
            .await;
        wallets["wallets"][0]["paid_credits"]
            .as_str()
            .unwrap_or("none")
            .to_owned()
    }
}

async fn top_up_with_the_sandbox_page_then_paypal(app: &PayApp) {
    let (org, token) = app.org("acme").await;

    // The sandbox, active on a fresh install: the page, Approve, confirm.
    let checkout = app
        .made(
            Method::POST,
            "/v1/payments/create-checkout",
            &token,
            json!({"amount": 25, "return_url": "https://console.example/return",
                   "cancel_url": "https://console.example/cancel"}),
        )
        .await;
    let approval_url = checkout["approval_url"].as_str().unwrap();
    let page_path = &approval_url[approval_url.find("/sandbox/").unwrap()..];
    let page = app.client.get(app.url(page_path)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("Approve"));
    let approved = app
        .client
        .post(app.url(&format!("{page_path}/approve")))
        .send()
        .await
        .unwrap();
    assert_eq!(approved.status(), StatusCode::SEE_OTHER);
    let (status, confirmed) = app.confirm(&token, &checkout).await;
    assert_eq!(status, StatusCode::OK, "{confirmed}");
    assert_eq!(confirmed["status"], "completed");
    assert_eq!(app.org_paid(&token, &org).await, "25");

    // PayPal, its webhooks delivered over HTTP: the approval alone credits (popup closed),
    // and a confirm afterwards answers the completed session.
    let fake = &app.paypal;
    app.use_paypal().await;
    let checkout = app
        .made(
            Method::POST,
            "/v1/payments/create-checkout",
            &token,
            json!({"amount": 50, "return_url": "https://console.example/return",
                   "cancel_url": "https://console.example/cancel"}),
        )
        .await;
    assert_eq!(checkout["provider"], "paypal");
    fake.approve(checkout["provider_order_id"].as_str().unwrap())
        .await;
    assert_eq!(app.org_paid(&token, &org).await, "75");

    // Twenty confirms at once on a fresh checkout: one capture, one credit.
    let checkout = app
        .made(
            Method::POST,
            "/v1/payments/create-checkout",
            &token,
            json!({"amount": 10, "return_url": "https://console.example/return",
                   "cancel_url": "https://console.example/cancel"}),
        )
        .await;
    fake.set_webhook_delivery(testkit::fake_paypal::WebhookDelivery {
        delay: Some(Duration::from_secs(3600)),
        duplicate: false,
    });
    fake.approve(checkout["provider_order_id"].as_str().unwrap())
        .await;
    let answers = join_all((0..20).map(|_| app.confirm(&token, &checkout))).await;
    for (status, body) in &answers {
        assert!(status.is_success(), "{status} {body}");
    }
    assert_eq!(app.org_paid(&token, &org).await, "85");
    let order = fake
        .order(checkout["provider_order_id"].as_str().unwrap())
        .unwrap();
    assert_eq!(
        order["purchase_units"][0]["payments"]["captures"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    app.audit_is_clean().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payments_end_to_end_on_sqlite() {
    PayApp::on_sqlite(SETUP, top_up_with_the_sandbox_page_then_paypal).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payments_end_to_end_on_postgres() {
    PayApp::on_postgres(SETUP, top_up_with_the_sandbox_page_then_paypal).await;
}
