//! Payments end to end on SQLite and PostgreSQL: the app serving on port 0, the fake PayPal
//! server delivering its webhooks to it over HTTP, and the sandbox page driven like a browser.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use futures::future::join_all;
use ledger_core::Ledger;
use purse_api::App;
use purse_api::config::Secret;
use purse_e2e::test_config;
use reqwest::StatusCode;
use reqwest::redirect::Policy;
use serde_json::{Value, json};
use testkit::fake_paypal::FakePaypalServer;
use testkit::pg::PgTestDb;

const BOOTSTRAP: &str = "e2e-payments-bootstrap";

struct PayApp {
    app: App,
    client: reqwest::Client,
    paypal: FakePaypalServer,
}

impl PayApp {
    async fn start(database_url: &str) -> Self {
        let paypal = FakePaypalServer::start().await;
        let config = purse_api::Config {
            master_key: Some(Secret::new(
                base64::engine::general_purpose::STANDARD.encode([9_u8; 32]),
            )),
            paypal_base_url: Some(paypal.url().to_owned()),
            ..test_config(database_url, BOOTSTRAP)
        };
        let app = purse_api::build(config).await.expect("the app starts");
        paypal.set_webhook_url(format!("{}/v1/payments/webhooks/paypal", app.base_url()));
        let client = reqwest::Client::builder()
            .redirect(Policy::none())
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        Self {
            app,
            client,
            paypal,
        }
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.app.base_url()))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let body = response.json().await.unwrap_or(Value::Null);
        (status, body)
    }

    async fn post(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.call(reqwest::Method::POST, path, token, Some(body))
            .await
    }

    async fn made(&self, path: &str, token: &str, body: Value) -> Value {
        let (status, body) = self.post(path, token, body).await;
        assert!(status.is_success(), "{path}: {status} {body}");
        body
    }

    /// An organization and its org admin's token.
    async fn org(&self) -> (String, String) {
        let org = self
            .made("/v1/admin/orgs", BOOTSTRAP, json!({"name": "acme"}))
            .await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let user = self
            .made(
                &format!("/v1/orgs/{org}/users"),
                BOOTSTRAP,
                json!({"email": "ada@acme.test", "role": "org_admin"}),
            )
            .await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let token = self
            .made(
                "/v1/tokens",
                BOOTSTRAP,
                json!({"org_id": org, "user_id": user, "role": "org_admin", "name": "ada"}),
            )
            .await["token"]
            .as_str()
            .unwrap()
            .to_owned();
        (org, token)
    }

    async fn confirm(&self, token: &str, checkout: &Value) -> (StatusCode, Value) {
        self.post(
            "/v1/payments/confirm-checkout",
            token,
            json!({
                "payment_session_id": checkout["payment_session_id"],
                "provider_session_token": checkout["provider_order_id"],
                "checkout_state": checkout["checkout_state"],
            }),
        )
        .await
    }

    async fn org_paid(&self, token: &str, org: &str) -> String {
        let (_, wallets) = self
            .call(
                reqwest::Method::GET,
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

    async fn audit_is_clean(&self) {
        let ledger = Ledger::new(
            self.app.stores().ledger.clone(),
            Arc::new(purse_api::clock::SystemClock),
            Arc::new(purse_api::ids::RandomIds),
        );
        let report = ledger.audit().await.unwrap();
        assert!(report.breaches.is_empty(), "{:?}", report.breaches);
    }
}

async fn top_up_with_the_sandbox_page_then_paypal(app: &PayApp) {
    let (org, token) = app.org().await;

    // The sandbox, active on a fresh install: the page, Approve, confirm.
    let checkout = app
        .made(
            "/v1/payments/create-checkout",
            &token,
            json!({"amount": 25, "return_url": "https://console.example/return",
                   "cancel_url": "https://console.example/cancel"}),
        )
        .await;
    let approval_url = checkout["approval_url"].as_str().unwrap();
    let page_path = &approval_url[approval_url.find("/sandbox/").unwrap()..];
    let page = app
        .client
        .get(format!("{}{page_path}", app.app.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("Approve"));
    let approved = app
        .client
        .post(format!("{}{page_path}/approve", app.app.base_url()))
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
    app.call(
        reqwest::Method::PUT,
        "/v1/admin/payments/config",
        BOOTSTRAP,
        Some(json!({"active_provider": "paypal", "paypal": {
            "enabled": true, "client_id": fake.client_id(),
            "client_secret": fake.client_secret(), "webhook_id": fake.webhook_id()}})),
    )
    .await;
    let checkout = app
        .made(
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
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("purse.db").display());
    let app = PayApp::start(&url).await;

    top_up_with_the_sandbox_page_then_paypal(&app).await;

    app.app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payments_end_to_end_on_postgres() {
    let Some(database) = PgTestDb::create(&store_sqlx::PG_MIGRATOR).await else {
        return;
    };
    let app = PayApp::start(database.url()).await;

    top_up_with_the_sandbox_page_then_paypal(&app).await;

    app.app.shutdown().await;
    database.cleanup().await;
}
