//! Payments fixtures: the app wired to the fake PayPal and Revolut servers (through the
//! `PURSE_*_BASE_URL` overrides), a master key, and helpers for the buyer and the webhooks.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use base64::Engine;
use ledger_core::id::PaymentSessionId;
use ledger_core::payment_session::PaymentStatus;
use ledger_core::ports::LedgerStore;
use purse_api::Config;
use purse_api::config::Secret;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use testkit::fake_paypal::FakePaypalServer;
use testkit::fake_revolut::FakeRevolutServer;
use tower::ServiceExt;

use crate::support::{Answer, BOOTSTRAP, OrgFixture, TestApp};

/// Which real provider a scenario runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Provider {
    Paypal,
    Revolut,
}

impl Provider {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Paypal => "paypal",
            Self::Revolut => "revolut_pro",
        }
    }
}

pub(crate) fn master_key() -> String {
    base64::engine::general_purpose::STANDARD.encode([42_u8; 32])
}

/// One organization on an app talking to both fakes.
pub(crate) struct PayWorld {
    pub(crate) app: TestApp,
    pub(crate) paypal: FakePaypalServer,
    pub(crate) revolut: FakeRevolutServer,
    pub(crate) a: OrgFixture,
    pub(crate) b: OrgFixture,
}

impl PayWorld {
    /// Both fakes running, the app pointed at them, two organizations; the sandbox active.
    pub(crate) async fn new() -> Self {
        let paypal = FakePaypalServer::start().await;
        let revolut = FakeRevolutServer::start().await;
        let app = TestApp::with_config(Config {
            master_key: Some(Secret::new(master_key())),
            paypal_base_url: Some(paypal.url().to_owned()),
            revolut_base_url: Some(revolut.url().to_owned()),
            public_url: Some("http://purse.test".to_owned()),
            ..Config::default()
        });
        let a = OrgFixture::create(&app, "acme").await;
        let b = OrgFixture::create(&app, "globex").await;
        Self {
            app,
            paypal,
            revolut,
            a,
            b,
        }
    }

    /// As [`Self::new`], with `provider` configured and active.
    pub(crate) async fn with(provider: Provider) -> Self {
        let world = Self::new().await;
        world.activate(provider).await;
        world
    }

    /// Stores the fake's credentials and makes the provider active.
    pub(crate) async fn activate(&self, provider: Provider) {
        let body = match provider {
            Provider::Paypal => json!({
                "active_provider": "paypal",
                "paypal": {
                    "enabled": true,
                    "environment": "sandbox",
                    "supported_currencies": ["USD", "EUR"],
                    "client_id": self.paypal.client_id(),
                    "client_secret": self.paypal.client_secret(),
                    "webhook_id": self.paypal.webhook_id(),
                },
            }),
            Provider::Revolut => json!({
                "active_provider": "revolut_pro",
                "revolut_pro": {
                    "enabled": true,
                    "environment": "sandbox",
                    "supported_currencies": ["USD", "EUR", "GBP"],
                    "secret_key": self.revolut.secret_key(),
                    "webhook_signing_secret": self.revolut.signing_secret(),
                },
            }),
        };
        self.app
            .call(
                Method::PUT,
                "/v1/admin/payments/config",
                Some(BOOTSTRAP),
                Some(body),
                &[],
            )
            .await
            .expect(StatusCode::OK);
    }

    /// A checkout of `amount` USD for organization A's wallet, by its org admin.
    pub(crate) async fn checkout(&self, amount: u32) -> Value {
        self.checkout_as(&self.a.org_admin, json!({"amount": amount}))
            .await
            .expect(StatusCode::CREATED)
    }

    pub(crate) async fn checkout_as(&self, token: &str, body: Value) -> Answer {
        let mut body = body;
        if body.get("return_url").is_none() {
            body["return_url"] = json!("https://console.example/payments/return");
            body["cancel_url"] = json!("https://console.example/payments/cancel");
        }
        self.app
            .post("/v1/payments/create-checkout", token, body)
            .await
    }

    /// The buyer approves (PayPal) or pays (Revolut) at the fake.
    pub(crate) async fn buyer_approves(&self, provider: Provider, checkout: &Value) {
        let order_id = order_id(checkout);
        match provider {
            Provider::Paypal => {
                self.paypal.approve(&order_id).await;
            }
            Provider::Revolut => {
                self.revolut
                    .pay(&order_id, None)
                    .await
                    .expect("order exists");
            }
        }
    }

    pub(crate) async fn confirm_as(&self, token: &str, checkout: &Value) -> Answer {
        self.app
            .post(
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

    pub(crate) async fn confirm(&self, checkout: &Value) -> Answer {
        self.confirm_as(&self.a.org_admin, checkout).await
    }

    pub(crate) async fn session(&self, checkout: &Value) -> Value {
        let id = checkout["payment_session_id"].as_str().unwrap();
        self.app
            .get(&format!("/v1/payments/sessions/{id}"), &self.a.org_admin)
            .await
            .expect(StatusCode::OK)
    }

    /// Organization A's wallet credited by checkouts.
    pub(crate) async fn org_wallet(&self) -> Value {
        self.app
            .get(
                &format!("/v1/wallets/{}", self.a.org_wallet),
                &self.a.org_admin,
            )
            .await
            .expect(StatusCode::OK)
    }

    /// The org wallet's paid credits.
    pub(crate) async fn paid(&self) -> Decimal {
        decimal(&self.org_wallet().await["paid_credits"])
    }

    /// The org wallet's journal lines of one kind.
    pub(crate) async fn lines(&self, kind: &str) -> Vec<Value> {
        let answer = self
            .app
            .get(
                &format!("/v1/wallets/{}/transactions?kind={kind}", self.a.org_wallet),
                &self.a.org_admin,
            )
            .await
            .expect(StatusCode::OK);
        answer["transactions"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// A webhook delivery as the provider made it.
    pub(crate) async fn deliver(
        &self,
        provider: &str,
        headers: &[(String, String)],
        body: Vec<u8>,
    ) -> Answer {
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(format!("/v1/payments/webhooks/{provider}"));
        for (name, value) in headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let response = self
            .app
            .router
            .clone()
            .oneshot(request.body(Body::from(body)).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        Answer {
            status,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            headers,
        }
    }

    /// The last PayPal event of a type the fake wanted to send (no webhook URL is set in
    /// router tests, so the fake keeps them), signed afresh: `(headers, body)`.
    pub(crate) fn paypal_event(&self, event_type: &str) -> (Vec<(String, String)>, Vec<u8>) {
        let resource = self
            .paypal
            .undelivered_events()
            .into_iter()
            .rev()
            .find(|(kind, _)| kind == event_type)
            .map(|(_, resource)| resource)
            .unwrap_or_else(|| panic!("the fake emitted no {event_type}"));
        self.paypal.sign_event(event_type, resource)
    }

    /// Moves a session's stored status directly, as a process that died mid-way left it.
    pub(crate) async fn force_status(&self, checkout: &Value, status: PaymentStatus) {
        let id = PaymentSessionId::parse(checkout["payment_session_id"].as_str().unwrap()).unwrap();
        let mut uow = self.app.store.begin().await.unwrap();
        let mut session = uow.lock_payment_session(&id).await.unwrap().unwrap();
        session.status = status;
        uow.update_payment_session(&session).await.unwrap();
        uow.commit().await.unwrap();
    }

    /// Moves the test clock (runs the payment sweep).
    pub(crate) async fn advance(&self, seconds: i64) -> Value {
        self.app
            .post(
                "/v1/admin/test-clock/advance",
                BOOTSTRAP,
                json!({"seconds": seconds}),
            )
            .await
            .expect(StatusCode::OK)
    }
}

pub(crate) fn order_id(checkout: &Value) -> String {
    checkout["provider_order_id"].as_str().unwrap().to_owned()
}

pub(crate) fn decimal(value: &Value) -> Decimal {
    match value {
        Value::String(text) => text.parse().unwrap(),
        Value::Number(number) => number.to_string().parse().unwrap(),
        other => panic!("not an amount: {other}"),
    }
}

pub(crate) fn dec(value: i64) -> Decimal {
    Decimal::from(value)
}
