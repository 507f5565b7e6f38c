//! The harness of the payment scenarios: the app serving on port 0 with a fake PayPal server
//! that delivers its webhooks to it over HTTP, a plain reqwest client, and the steps the
//! scenarios share (an organization and its admin, a PayPal wallet saved by a checkout with a
//! paid rule on it, the rule's state). Each scenario runs once on a SQLite temp file and once
//! on a fresh PostgreSQL database.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use ledger_core::Ledger;
use purse_api::App;
use purse_api::config::Secret;
use purse_e2e::test_config;
use reqwest::redirect::Policy;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use testkit::fake_paypal::FakePaypalServer;
use testkit::pg::PgTestDb;

/// The platform admin's bearer token.
pub(crate) const BOOTSTRAP: &str = "e2e-payments-bootstrap";

/// The MIT order path at PayPal: every merchant-initiated charge creates an order here.
const ORDERS: &str = "/v2/checkout/orders";

/// Whether the client follows redirects.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Redirects {
    /// Follows them, as reqwest does by default.
    Follow,
    /// Answers them as they are, so a scenario sees the sandbox page's `303`.
    Show,
}

/// The payment provider active once the app started.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Provider {
    /// A fresh install's: the built-in sandbox (a scenario may switch to PayPal itself).
    Sandbox,
    /// PayPal on the fake server, configured before the scenario starts.
    Paypal,
}

/// How a scenario's app is set up.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Setup {
    pub(crate) redirects: Redirects,
    pub(crate) provider: Provider,
}

pub(crate) struct PayApp {
    pub(crate) app: App,
    pub(crate) client: reqwest::Client,
    pub(crate) paypal: FakePaypalServer,
}

/// An organization that saved a PayPal wallet and has a paid rule on it.
pub(crate) struct Saver {
    pub(crate) token: String,
    pub(crate) wallet_id: String,
    pub(crate) method_id: String,
    pub(crate) vault_id: String,
}

impl PayApp {
    /// Runs `scenario` on an app over a SQLite temp file.
    pub(crate) async fn on_sqlite(setup: Setup, scenario: impl AsyncFnOnce(&PayApp)) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("purse.db").display());
        let app = Self::start(&url, setup).await;

        scenario(&app).await;

        app.app.shutdown().await;
    }

    /// Runs `scenario` on an app over a fresh PostgreSQL database (skipped loudly when
    /// PostgreSQL is unreachable outside CI).
    pub(crate) async fn on_postgres(setup: Setup, scenario: impl AsyncFnOnce(&PayApp)) {
        let Some(database) = PgTestDb::create(&store_sqlx::PG_MIGRATOR).await else {
            return;
        };
        let app = Self::start(database.url(), setup).await;

        scenario(&app).await;

        app.app.shutdown().await;
        database.cleanup().await;
    }

    async fn start(database_url: &str, setup: Setup) -> Self {
        let paypal = FakePaypalServer::start().await;
        let config = purse_api::Config {
            master_key: Some(Secret::new(
                base64::engine::general_purpose::STANDARD.encode([9_u8; 32]),
            )),
            paypal_base_url: Some(paypal.url().to_owned()),
            ..test_config(database_url, BOOTSTRAP)
        };
        let app = purse_api::build(config).await.expect("the app starts");
        paypal.set_webhook_url(webhook_url(&app));
        let redirects = match setup.redirects {
            Redirects::Follow => Policy::default(),
            Redirects::Show => Policy::none(),
        };
        let client = reqwest::Client::builder()
            .redirect(redirects)
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        let started = Self {
            app,
            client,
            paypal,
        };
        match setup.provider {
            Provider::Sandbox => {}
            Provider::Paypal => started.use_paypal().await,
        }
        started
    }

    /// Makes PayPal on the fake server the active provider.
    pub(crate) async fn use_paypal(&self) {
        let (status, body) = self
            .call(
                Method::PUT,
                "/v1/admin/payments/config",
                BOOTSTRAP,
                Some(json!({"active_provider": "paypal", "paypal": {
                    "enabled": true, "client_id": self.paypal.client_id(),
                    "client_secret": self.paypal.client_secret(),
                    "webhook_id": self.paypal.webhook_id()}})),
            )
            .await;
        assert!(status.is_success(), "{status} {body}");
    }

    /// `base_url + path`.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.app.base_url())
    }

    pub(crate) async fn call(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .client
            .request(method, self.url(path))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let body = response.json().await.unwrap_or(Value::Null);
        (status, body)
    }

    /// The body of a call that must succeed.
    pub(crate) async fn made(&self, method: Method, path: &str, token: &str, body: Value) -> Value {
        let (status, body) = self.call(method, path, token, Some(body)).await;
        assert!(status.is_success(), "{path}: {status} {body}");
        body
    }

    /// The body of a GET that must answer 200.
    pub(crate) async fn read(&self, path: &str, token: &str) -> Value {
        let (status, body) = self.call(Method::GET, path, token, None).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        body
    }

    /// A new organization and its org admin's token.
    pub(crate) async fn org(&self, name: &str) -> (String, String) {
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
        (org, token)
    }

    /// A new organization whose admin saves a PayPal wallet with a checkout of 25 and gives
    /// the organization wallet a rule buying 25 paid credits with it below 10. PayPal must be
    /// the active provider.
    pub(crate) async fn saver(&self, name: &str) -> Saver {
        let (org, token) = self.org(name).await;
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

    /// The saved methods the token's organization lists.
    pub(crate) async fn methods(&self, token: &str) -> Vec<Value> {
        self.read("/v1/payments/payment-methods", token).await["payment_methods"]
            .as_array()
            .unwrap()
            .clone()
    }

    /// The state of the saver's rule, as its wallet shows it.
    pub(crate) async fn rule_state(&self, saver: &Saver) -> Value {
        self.read(&format!("/v1/wallets/{}", saver.wallet_id), &saver.token)
            .await["recurring_transaction_rules"][0]["state"]
            .clone()
    }

    /// Debits 20 of the wallet's 25, crossing its rule's threshold, and waits for the
    /// worker's due work.
    pub(crate) async fn cross_threshold(&self, saver: &Saver) {
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

    /// Checks that the saver's method is no longer listed and that its rule is paused, with a
    /// reason naming the method and `word` (what happened to it) and a last run failed with
    /// `error_code`.
    pub(crate) async fn assert_gone_and_paused(&self, saver: &Saver, word: &str, error_code: &str) {
        assert_eq!(self.methods(&saver.token).await, Vec::<Value>::new());
        let state = self.rule_state(saver).await;
        assert_eq!(state["paused"], true, "{state}");
        let reason = state["paused_reason"].as_str().unwrap();
        assert!(
            reason.contains(&saver.method_id) && reason.contains(word),
            "{reason}"
        );
        assert_eq!(state["last_run"]["status"], "failed", "{state}");
        assert_eq!(state["last_run"]["error_code"], error_code, "{state}");
    }

    /// Checks that the saver's method is still its only one and that its rule runs; answers
    /// the list.
    pub(crate) async fn assert_untouched(&self, saver: &Saver) -> Vec<Value> {
        let kept = self.methods(&saver.token).await;
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0]["id"], saver.method_id.as_str());
        assert_eq!(self.rule_state(saver).await["paused"], false);
        kept
    }

    /// Both wallets cross their thresholds; checks that `gone`'s rule, whose method left,
    /// charged nothing and says it is paused, and that `kept`'s rule charged its own method
    /// once.
    pub(crate) async fn assert_only_the_kept_method_is_charged(&self, gone: &Saver, kept: &Saver) {
        let orders_before = self.paypal.count("POST", ORDERS);
        self.cross_threshold(gone).await;
        let orders_after_gone = self.paypal.count("POST", ORDERS);
        self.cross_threshold(kept).await;
        let orders_after_kept = self.paypal.count("POST", ORDERS);

        assert_eq!(
            orders_after_gone, orders_before,
            "no charge of a method that is gone"
        );
        let state = self.rule_state(gone).await;
        assert_eq!(state["last_run"]["error_code"], "rule_paused", "{state}");
        assert_eq!(state["pending_session_id"], json!(null));
        assert_eq!(orders_after_kept, orders_before + 1);
        let charged = self
            .read(&format!("/v1/wallets/{}", kept.wallet_id), &kept.token)
            .await;
        assert_eq!(charged["paid_credits"], "30", "5 left + 25 charged");
        assert_eq!(
            charged["recurring_transaction_rules"][0]["state"]["last_run"]["status"],
            "succeeded"
        );
    }

    /// Posts one signed delivery to the PayPal webhook; answers its status and body.
    pub(crate) async fn deliver(
        &self,
        headers: &[(String, String)],
        body: &[u8],
    ) -> (StatusCode, Value) {
        let mut request = self.client.post(webhook_url(&self.app));
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let response = request.body(body.to_vec()).send().await.unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Checks every ledger invariant on the app's database.
    pub(crate) async fn audit_is_clean(&self) {
        let ledger = Ledger::new(
            self.app.stores().ledger.clone(),
            Arc::new(purse_api::clock::SystemClock),
            Arc::new(purse_api::ids::RandomIds),
        );
        let report = ledger.audit().await.unwrap();
        assert!(report.breaches.is_empty(), "{:?}", report.breaches);
    }
}

fn webhook_url(app: &App) -> String {
    format!("{}/v1/payments/webhooks/paypal", app.base_url())
}
