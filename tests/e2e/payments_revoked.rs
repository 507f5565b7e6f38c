//! A PayPal saved method revoked by its buyer, over HTTP: two organizations each save a PayPal
//! wallet through a checkout on the fake PayPal server and give their organization wallet a
//! paid threshold rule on it; the fake then signs `VAULT.PAYMENT-TOKEN.DELETED` for the first
//! organization's vault id and it is delivered to the app's webhook (twice, as PayPal retries).
//! The first organization's method leaves its list and its rule pauses and charges nothing;
//! the second organization's method and rule keep working; an unknown token is acknowledged.

use std::time::Duration;

use base64::Engine;
use purse_api::App;
use purse_api::config::Secret;
use purse_e2e::test_config;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use testkit::fake_paypal::FakePaypalServer;
use testkit::pg::PgTestDb;

const BOOTSTRAP: &str = "e2e-revoked-bootstrap";

/// The MIT order path at PayPal: every merchant-initiated charge creates an order here.
const ORDERS: &str = "/v2/checkout/orders";

struct RevokeApp {
    app: App,
    client: reqwest::Client,
    paypal: FakePaypalServer,
}

/// An organization that saved a PayPal wallet and has a paid rule on it.
struct Saver {
    token: String,
    wallet_id: String,
    method_id: String,
    vault_id: String,
}

impl RevokeApp {
    async fn start(database_url: &str) -> Self {
        let paypal = FakePaypalServer::start().await;
        let config = purse_api::Config {
            master_key: Some(Secret::new(
                base64::engine::general_purpose::STANDARD.encode([7_u8; 32]),
            )),
            paypal_base_url: Some(paypal.url().to_owned()),
            ..test_config(database_url, BOOTSTRAP)
        };
        let app = purse_api::build(config).await.expect("the app starts");
        paypal.set_webhook_url(webhook_url(&app));
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        let started = Self {
            app,
            client,
            paypal,
        };
        let (status, body) = started
            .call(
                Method::PUT,
                "/v1/admin/payments/config",
                BOOTSTRAP,
                Some(json!({"active_provider": "paypal", "paypal": {
                    "enabled": true, "client_id": started.paypal.client_id(),
                    "client_secret": started.paypal.client_secret(),
                    "webhook_id": started.paypal.webhook_id()}})),
            )
            .await;
        assert!(status.is_success(), "{status} {body}");
        started
    }

    async fn call(
        &self,
        method: Method,
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

    async fn made(&self, method: Method, path: &str, token: &str, body: Value) -> Value {
        let (status, body) = self.call(method, path, token, Some(body)).await;
        assert!(status.is_success(), "{path}: {status} {body}");
        body
    }

    async fn read(&self, path: &str, token: &str) -> Value {
        let (status, body) = self.call(Method::GET, path, token, None).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        body
    }

    /// A new organization whose admin saves a PayPal wallet with a checkout of 25 and gives
    /// the organization wallet a rule buying 25 paid credits with it below 10.
    async fn saver(&self, name: &str) -> Saver {
        let org = self
            .made(
                Method::POST,
                "/v1/admin/orgs",
                BOOTSTRAP,
                json!({"name": name}),
            )
            .await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let user = self
            .made(
                Method::POST,
                &format!("/v1/orgs/{org}/users"),
                BOOTSTRAP,
                json!({"email": format!("admin@{name}.test"), "role": "org_admin"}),
            )
            .await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let token = self
            .made(
                Method::POST,
                "/v1/tokens",
                BOOTSTRAP,
                json!({"org_id": org, "user_id": user, "role": "org_admin", "name": name}),
            )
            .await["token"]
            .as_str()
            .unwrap()
            .to_owned();
        let checkout = self
            .made(
                Method::POST,
                "/v1/payments/create-checkout",
                &token,
                json!({"amount": 25, "save_payment_method": true,
                       "return_url": "https://console.example/return",
                       "cancel_url": "https://console.example/cancel"}),
            )
            .await;
        let order_id = checkout["provider_order_id"].as_str().unwrap();
        // The approval webhook captures, credits and records the saved method.
        self.paypal.approve(order_id).await;
        let order = self.paypal.order(order_id).unwrap();
        let vault_id = order["payment_source"]["paypal"]["attributes"]["vault"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no vault id in {order}"))
            .to_owned();
        let methods = self.methods(&token).await;
        assert_eq!(methods.len(), 1, "{methods:?}");
        let method_id = methods[0]["id"].as_str().unwrap().to_owned();
        let wallets = self
            .read(
                &format!("/v1/wallets?owner_type=organization&owner_id={org}"),
                &token,
            )
            .await;
        let wallet_id = wallets["wallets"][0]["id"].as_str().unwrap().to_owned();
        assert_eq!(wallets["wallets"][0]["paid_credits"], "25");
        self.made(
            Method::PATCH,
            &format!("/v1/wallets/{wallet_id}"),
            &token,
            json!({"recurring_transaction_rules": [{"method": "FIXED", "trigger": "THRESHOLD",
                "threshold_credits": "10", "paid_credits": "25", "payment_method_id": method_id}]}),
        )
        .await;
        Saver {
            token,
            wallet_id,
            method_id,
            vault_id,
        }
    }

    async fn methods(&self, token: &str) -> Vec<Value> {
        self.read("/v1/payments/payment-methods", token).await["payment_methods"]
            .as_array()
            .unwrap()
            .clone()
    }

    async fn rule_state(&self, saver: &Saver) -> Value {
        self.read(&format!("/v1/wallets/{}", saver.wallet_id), &saver.token)
            .await["recurring_transaction_rules"][0]["state"]
            .clone()
    }

    /// Posts one signed delivery to the webhook; answers its status and body.
    async fn deliver(&self, headers: &[(String, String)], body: &[u8]) -> (StatusCode, Value) {
        let mut request = self.client.post(webhook_url(&self.app));
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let response = request.body(body.to_vec()).send().await.unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Debits 20 of the wallet's 25, crossing its rule's threshold, and waits for the
    /// worker's due work.
    async fn cross_threshold(&self, saver: &Saver) {
        self.made(
            Method::POST,
            &format!("/v1/wallets/{}/debit", saver.wallet_id),
            &saver.token,
            json!({"paid_credits": "20"}),
        )
        .await;
        let (status, body) = self
            .call(
                Method::POST,
                "/v1/admin/test-clock/advance",
                BOOTSTRAP,
                Some(json!({"seconds": 0})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
}

fn webhook_url(app: &App) -> String {
    format!("{}/v1/payments/webhooks/paypal", app.base_url())
}

async fn a_buyer_revocation_removes_the_method_and_pauses_its_rule(app: &RevokeApp) {
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
    assert_eq!(app.methods(&revoker.token).await, Vec::<Value>::new());
    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("/v1/payments/payment-methods/{}", revoker.method_id),
            &revoker.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "the method no longer exists");
    let state = app.rule_state(&revoker).await;
    assert_eq!(state["paused"], true, "{state}");
    let reason = state["paused_reason"].as_str().unwrap();
    assert!(
        reason.contains(&revoker.method_id) && reason.contains("revoked"),
        "{reason}"
    );
    assert_eq!(state["last_run"]["error_code"], "payment_method_revoked");
    // The other organization: its method listed, its rule running.
    let kept = app.methods(&bystander.token).await;
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0]["id"], bystander.method_id.as_str());
    assert_eq!(app.rule_state(&bystander).await["paused"], false);

    // Act 2: both wallets cross their thresholds.
    let orders_before = app.paypal.count("POST", ORDERS);
    app.cross_threshold(&revoker).await;
    let orders_after_revoker = app.paypal.count("POST", ORDERS);
    app.cross_threshold(&bystander).await;
    let orders_after_bystander = app.paypal.count("POST", ORDERS);

    // Assert 2: the revoked method was never charged, and the rule says why; the other
    // organization's rule charged its own method once.
    assert_eq!(
        orders_after_revoker, orders_before,
        "no charge of a revoked method"
    );
    let state = app.rule_state(&revoker).await;
    assert_eq!(state["last_run"]["error_code"], "rule_paused", "{state}");
    assert_eq!(state["pending_session_id"], json!(null));
    assert_eq!(orders_after_bystander, orders_before + 1);
    let charged = app
        .read(
            &format!("/v1/wallets/{}", bystander.wallet_id),
            &bystander.token,
        )
        .await;
    assert_eq!(charged["paid_credits"], "30", "5 left + 25 charged");
    assert_eq!(
        charged["recurring_transaction_rules"][0]["state"]["last_run"]["status"],
        "succeeded"
    );

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
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("purse.db").display());
    let app = RevokeApp::start(&url).await;

    a_buyer_revocation_removes_the_method_and_pauses_its_rule(&app).await;

    app.app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_buyer_revocation_over_http_on_postgres() {
    let Some(database) = PgTestDb::create(&store_sqlx::PG_MIGRATOR).await else {
        return;
    };
    let app = RevokeApp::start(database.url()).await;

    a_buyer_revocation_removes_the_method_and_pauses_its_rule(&app).await;

    app.app.shutdown().await;
    database.cleanup().await;
}
