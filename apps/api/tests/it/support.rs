//! The app on a memory store, a request helper, and a fixture of two organizations.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use purse_api::Config;
use purse_api::config::Secret;
use purse_api::http::{AppState, router};
use purse_api::wiring::{self, Stores};
use serde_json::{Value, json};
use store_memory::MemoryStore;
use tower::ServiceExt;

pub(crate) const BOOTSTRAP: &str = "test-bootstrap-token";

/// An answer.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) body: Value,
    pub(crate) headers: HeaderMap,
}

impl Answer {
    pub(crate) fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    #[track_caller]
    pub(crate) fn expect(self, status: StatusCode) -> Value {
        assert_eq!(self.status, status, "answer: {}", self.body);
        self.body
    }
}

/// The router over a fresh memory store, with the test clock on.
pub(crate) struct TestApp {
    pub(crate) router: Router,
    pub(crate) state: AppState,
    pub(crate) store: MemoryStore,
}

impl TestApp {
    pub(crate) fn new() -> Self {
        Self::with_config(Config::default())
    }

    /// The app with configuration of its own (bootstrap token, test clock and memory store are
    /// set here).
    pub(crate) fn with_config(config: Config) -> Self {
        let config = Config {
            bootstrap_token: Some(Secret::new(BOOTSTRAP)),
            test_clock: true,
            database_url: "memory://".to_owned(),
            ..config
        };
        let store = MemoryStore::new();
        let stores = Stores::memory(store.clone());
        let state = wiring::state(&config, &stores);
        Self {
            router: router(state.clone()),
            state,
            store,
        }
    }

    pub(crate) async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let body = match body {
            Some(body) => {
                request = request.header("content-type", "application/json");
                Body::from(body.to_string())
            }
            None => Body::empty(),
        };
        let response = self
            .router
            .clone()
            .oneshot(request.body(body).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Answer {
            status,
            body,
            headers,
        }
    }

    pub(crate) async fn get(&self, path: &str, token: &str) -> Answer {
        self.call(Method::GET, path, Some(token), None, &[]).await
    }

    pub(crate) async fn post(&self, path: &str, token: &str, body: Value) -> Answer {
        self.call(Method::POST, path, Some(token), Some(body), &[])
            .await
    }

    /// A POST that must answer 2xx; answers its body.
    pub(crate) async fn made(&self, path: &str, token: &str, body: Value) -> Value {
        let answer = self.post(path, token, body).await;
        assert!(
            answer.status.is_success(),
            "{path}: {} {}",
            answer.status,
            answer.body
        );
        answer.body
    }
}

pub(crate) fn id(value: &Value) -> String {
    value["id"].as_str().unwrap().to_owned()
}

/// One organization with every kind of caller and a few wallets.
#[derive(Debug, Clone)]
pub(crate) struct OrgFixture {
    pub(crate) org: String,
    pub(crate) external_id: String,
    pub(crate) team: String,
    pub(crate) member: String,
    pub(crate) org_admin: String,
    pub(crate) billing_admin: String,
    pub(crate) gateway: String,
    pub(crate) member_token: String,
    pub(crate) member_token_id: String,
    pub(crate) owner_token: String,
    pub(crate) org_wallet: String,
    pub(crate) team_wallet: String,
    pub(crate) member_wallet: String,
    pub(crate) pending_wallet: String,
    pub(crate) reservation: String,
    pub(crate) ticket: String,
    /// A sandbox checkout the member started (not approved: no credits move).
    pub(crate) payment_session: String,
    /// A saved payment method of the organization.
    pub(crate) payment_method: String,
}

impl OrgFixture {
    pub(crate) async fn create(app: &TestApp, name: &str) -> Self {
        let external_id = format!("ext-{name}");
        let org = id(&app
            .made(
                "/v1/admin/orgs",
                BOOTSTRAP,
                json!({"name": name, "external_id": external_id}),
            )
            .await);
        let team = id(&app
            .made(
                &format!("/v1/orgs/{org}/teams"),
                BOOTSTRAP,
                json!({"name": "ml"}),
            )
            .await);
        let user = |email: &str, role: &str, extra: Value| {
            let mut body = json!({"email": format!("{email}@{name}.test"), "role": role});
            if let (Value::Object(body), Value::Object(extra)) = (&mut body, extra) {
                body.extend(extra);
            }
            body
        };
        let users = format!("/v1/orgs/{org}/users");
        let member = id(&app
            .made(
                &users,
                BOOTSTRAP,
                user("member", "member", json!({"team_ids": [team]})),
            )
            .await);
        let owner = id(&app
            .made(
                &users,
                BOOTSTRAP,
                user(
                    "owner",
                    "member",
                    json!({"team_ids": [team], "team_owner_of": [team]}),
                ),
            )
            .await);
        let billing_user = id(&app
            .made(
                &users,
                BOOTSTRAP,
                user("billing", "billing_admin", json!({})),
            )
            .await);
        let admin_user = id(&app
            .made(&users, BOOTSTRAP, user("admin", "org_admin", json!({})))
            .await);
        let token = |role: &str, user: Option<&str>| json!({"org_id": org, "role": role, "user_id": user, "name": role});
        let minted = app
            .made("/v1/tokens", BOOTSTRAP, token("member", Some(&member)))
            .await;
        let member_token = minted["token"].as_str().unwrap().to_owned();
        let member_token_id = id(&minted);
        let secret = |value: Value| value["token"].as_str().unwrap().to_owned();
        let owner_token = secret(
            app.made("/v1/tokens", BOOTSTRAP, token("member", Some(&owner)))
                .await,
        );
        let billing_admin = secret(
            app.made(
                "/v1/tokens",
                BOOTSTRAP,
                token("billing_admin", Some(&billing_user)),
            )
            .await,
        );
        let org_admin = secret(
            app.made(
                "/v1/tokens",
                BOOTSTRAP,
                token("org_admin", Some(&admin_user)),
            )
            .await,
        );
        let gateway = secret(
            app.made("/v1/tokens", BOOTSTRAP, token("gateway", None))
                .await,
        );
        let wallet = |owner_type: &str, owner_id: &str, paid: &str| {
            json!({"owner_type": owner_type, "owner_id": owner_id, "currency": "USD",
                   "rate_amount": "1", "paid_credits": paid})
        };
        let org_wallet = id(&app
            .made(
                "/v1/wallets",
                BOOTSTRAP,
                wallet("organization", &org, "100"),
            )
            .await);
        let team_wallet = id(&app
            .made("/v1/wallets", BOOTSTRAP, wallet("team", &team, "50"))
            .await);
        let member_wallet = id(&app
            .made("/v1/wallets", BOOTSTRAP, wallet("user", &member, "20"))
            .await);
        let mut pending = wallet("user", &member, "0");
        pending["activates_at"] = json!("2999-01-01T00:00:00Z");
        pending["currency"] = json!("EUR");
        let pending_wallet = id(&app.made("/v1/wallets", BOOTSTRAP, pending).await);
        let reservation = id(&app
            .made(
                "/v1/gateway/wallets/reserve",
                &gateway,
                json!({"user_id": member, "team_id": team, "amount": "1"}),
            )
            .await);
        let refused = app
            .post(
                "/v1/gateway/wallets/reserve",
                &gateway,
                json!({"user_id": member, "amount": "100000"}),
            )
            .await;
        assert_eq!(
            refused.status,
            StatusCode::PAYMENT_REQUIRED,
            "{}",
            refused.body
        );
        let ticket = id(&refused.body["cost_ticket"]);
        let payment_session = app
            .made(
                "/v1/payments/create-checkout",
                &member_token,
                json!({"amount": 10}),
            )
            .await["payment_session_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let payment_method = saved_method(app, &org).await;
        Self {
            org,
            external_id,
            team,
            member,
            org_admin,
            billing_admin,
            gateway,
            member_token,
            member_token_id,
            owner_token,
            org_wallet,
            team_wallet,
            member_wallet,
            pending_wallet,
            reservation,
            ticket,
            payment_session,
            payment_method,
        }
    }
}

/// A saved payment method of the organization, stored directly (as a completed checkout with
/// `save_payment_method` would have).
async fn saved_method(app: &TestApp, org: &str) -> String {
    use ledger_core::id::{OrgId, PaymentMethodId};
    use ledger_core::ports::{PaymentStore, SavedPaymentMethod};
    let org_id = OrgId::parse(org).unwrap();
    let id = PaymentMethodId::from_suffix(&format!("fx{}", &org[4..]));
    app.store
        .insert_payment_method(&SavedPaymentMethod {
            id: id.clone(),
            org_id: org_id.clone(),
            provider: "sandbox".to_owned(),
            owner: ledger_core::wallet::Owner::Organization(org_id),
            provider_token: "sbxpm_fixture".to_owned(),
            provider_customer_id: None,
            label: "Sandbox card".to_owned(),
            created_at: time::OffsetDateTime::now_utc(),
        })
        .await
        .unwrap();
    id.to_string()
}

/// Two organizations on one app.
pub(crate) struct World {
    pub(crate) app: TestApp,
    pub(crate) a: OrgFixture,
    pub(crate) b: OrgFixture,
}

impl World {
    pub(crate) async fn new() -> Self {
        let app = TestApp::new();
        let a = OrgFixture::create(&app, "acme").await;
        let b = OrgFixture::create(&app, "globex").await;
        Self { app, a, b }
    }
}
