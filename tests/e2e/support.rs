//! Support for the end-to-end tests and the load generator: the `purse` app started in-process
//! on port 0, on a SQLite temp file or a fresh PostgreSQL database, and [`TestApp`], a reqwest
//! client with one method per endpoint.

use std::sync::Arc;
use std::time::Duration;

use ledger_core::Ledger;
use ledger_core::service::AuditReport;
use purse_api::config::Secret;
use purse_api::{App, Config};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use testkit::pg::PgTestDb;

/// Which database an app runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file in a temp dir.
    Sqlite,
    /// A fresh PostgreSQL database (`PURSE_TEST_PG_URL`), dropped after.
    Postgres,
}

/// The database under a test, removed at cleanup.
#[derive(Debug)]
pub enum TestDatabase {
    /// The temp dir holding the SQLite file.
    Sqlite(tempfile::TempDir),
    /// The PostgreSQL test database.
    Postgres(PgTestDb),
}

/// An answer.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The status.
    pub status: StatusCode,
    /// The body (`null` when empty).
    pub body: Value,
    /// Whether it was replayed from an idempotency key.
    pub replayed: bool,
}

impl Reply {
    /// The body, after checking the status.
    ///
    /// # Panics
    /// When the status differs.
    #[track_caller]
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(self.status.as_u16(), status, "answer: {}", self.body);
        self.body
    }

    /// The error code of an error answer.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    /// A string field of the body.
    ///
    /// # Panics
    /// When the field is not a string.
    #[track_caller]
    pub fn text(&self, field: &str) -> String {
        self.body[field]
            .as_str()
            .unwrap_or_else(|| panic!("no string `{field}` in {}", self.body))
            .to_owned()
    }
}

/// A running app and a client for it.
#[derive(Debug)]
pub struct TestApp {
    /// The app (taken at cleanup).
    app: Option<App>,
    /// `http://127.0.0.1:port`.
    pub base_url: String,
    /// The database URL (a second instance may share it).
    pub database_url: String,
    /// The bootstrap (platform admin) token.
    pub bootstrap: String,
    client: reqwest::Client,
    database: Option<TestDatabase>,
}

fn init_test_log() {
    if std::env::var_os("PURSE_TEST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
            .with_test_writer()
            .try_init();
    }
}

/// The configuration of a test app on `database_url`.
pub fn test_config(database_url: &str, bootstrap: &str) -> Config {
    Config {
        database_url: database_url.to_owned(),
        listen: "127.0.0.1:0".parse().unwrap_or(Config::default().listen),
        bootstrap_token: Some(Secret::new(bootstrap)),
        test_clock: true,
        // The worker sweeps all the time, so every scenario also races it: a test-clock
        // advance that answered while the worker was mid-way through a charge failed here.
        sweep_interval_ms: 10,
        ..Config::default()
    }
}

impl TestApp {
    /// Starts an app on a fresh database; `None` when PostgreSQL is unreachable outside CI
    /// (after one loud line).
    ///
    /// # Panics
    /// When the app cannot start.
    pub async fn spawn(backend: Backend) -> Option<Self> {
        init_test_log();
        let (database_url, database) = match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("a temp dir");
                let url = format!("sqlite://{}", dir.path().join("purse.db").display());
                (url, TestDatabase::Sqlite(dir))
            }
            Backend::Postgres => {
                let database = PgTestDb::create(&store_sqlx::PG_MIGRATOR).await?;
                (database.url().to_owned(), TestDatabase::Postgres(database))
            }
        };
        let mut app = Self::spawn_on(&database_url).await;
        app.database = Some(database);
        Some(app)
    }

    /// Starts another app on an existing database (a second `purse` process).
    ///
    /// # Panics
    /// When the app cannot start.
    pub async fn spawn_on(database_url: &str) -> Self {
        let bootstrap = "e2e-bootstrap-token".to_owned();
        let app = purse_api::build(test_config(database_url, &bootstrap))
            .await
            .expect("the app starts");
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(60))
            .build()
            .expect("a reqwest client");
        Self {
            base_url: app.base_url(),
            app: Some(app),
            database_url: database_url.to_owned(),
            bootstrap,
            client,
            database: None,
        }
    }

    /// A ledger service over the app's store (what the HTTP handlers call), for store-only
    /// measurements and checks.
    ///
    /// # Panics
    /// When the app was stopped.
    pub fn ledger(&self) -> Ledger {
        let app = self.app.as_ref().expect("the app runs");
        Ledger::new(
            app.stores().ledger.clone(),
            Arc::new(purse_api::clock::SystemClock),
            Arc::new(purse_api::ids::RandomIds),
        )
    }

    /// The ledger's audit of the app's database.
    ///
    /// # Panics
    /// When the store fails.
    pub async fn audit(&self) -> AuditReport {
        self.ledger().audit().await.expect("the audit runs")
    }

    /// Stops the app and drops its database.
    pub async fn cleanup(mut self) {
        if let Some(app) = self.app.take() {
            app.shutdown().await;
        }
        match self.database.take() {
            Some(TestDatabase::Postgres(database)) => database.cleanup().await,
            Some(TestDatabase::Sqlite(dir)) => drop(dir),
            None => {}
        }
    }

    /// Stops the app only (its database belongs to another `TestApp`).
    pub async fn stop(mut self) {
        if let Some(app) = self.app.take() {
            app.shutdown().await;
        }
    }

    /// Sends a request.
    ///
    /// # Panics
    /// When the server cannot be reached.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        idempotency_key: Option<&str>,
    ) -> Reply {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base_url));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(key) = idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status();
        let replayed = response.headers().contains_key("idempotent-replayed");
        let bytes = response.bytes().await.expect("a body");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Reply {
            status,
            body,
            replayed,
        }
    }

    async fn get(&self, path: &str, token: &str) -> Reply {
        self.send(Method::GET, path, Some(token), None, None).await
    }

    async fn post(&self, path: &str, token: &str, body: Value) -> Reply {
        self.send(Method::POST, path, Some(token), Some(body), None)
            .await
    }

    // Health.

    /// `GET /healthz`.
    pub async fn healthz(&self) -> Reply {
        self.send(Method::GET, "/healthz", None, None, None).await
    }

    /// `GET /readyz`.
    pub async fn readyz(&self) -> Reply {
        self.send(Method::GET, "/readyz", None, None, None).await
    }

    /// `GET /openapi.json`.
    pub async fn openapi(&self) -> Reply {
        self.send(Method::GET, "/openapi.json", None, None, None)
            .await
    }

    // Tenancy.

    /// `POST /v1/admin/orgs`.
    pub async fn create_org(&self, token: &str, body: Value) -> Reply {
        self.post("/v1/admin/orgs", token, body).await
    }

    /// `POST /v1/orgs/{org_id}/teams`.
    pub async fn create_team(&self, token: &str, org_id: &str, body: Value) -> Reply {
        self.post(&format!("/v1/orgs/{org_id}/teams"), token, body)
            .await
    }

    /// `POST /v1/orgs/{org_id}/users`.
    pub async fn create_user(&self, token: &str, org_id: &str, body: Value) -> Reply {
        self.post(&format!("/v1/orgs/{org_id}/users"), token, body)
            .await
    }

    /// `POST /v1/tokens`.
    pub async fn create_token(&self, token: &str, body: Value) -> Reply {
        self.post("/v1/tokens", token, body).await
    }

    /// `DELETE /v1/tokens/{id}`.
    pub async fn revoke_token(&self, token: &str, id: &str) -> Reply {
        self.send(
            Method::DELETE,
            &format!("/v1/tokens/{id}"),
            Some(token),
            None,
            None,
        )
        .await
    }

    // Wallets.

    /// `POST /v1/wallets`.
    pub async fn create_wallet(&self, token: &str, body: Value) -> Reply {
        self.post("/v1/wallets", token, body).await
    }

    /// `POST /v1/commerce/billing/wallets`.
    pub async fn create_billing_wallet(&self, token: &str, body: Value) -> Reply {
        self.post("/v1/commerce/billing/wallets", token, body).await
    }

    /// `GET /v1/wallets?query`.
    pub async fn list_wallets(&self, token: &str, query: &str) -> Reply {
        self.get(&format!("/v1/wallets?{query}"), token).await
    }

    /// `GET /v1/wallets/{id}`.
    pub async fn wallet(&self, token: &str, id: &str) -> Reply {
        self.get(&format!("/v1/wallets/{id}"), token).await
    }

    /// `PATCH /v1/wallets/{id}`.
    pub async fn patch_wallet(&self, token: &str, id: &str, body: Value) -> Reply {
        self.send(
            Method::PATCH,
            &format!("/v1/wallets/{id}"),
            Some(token),
            Some(body),
            None,
        )
        .await
    }

    /// `POST /v1/wallets/{id}/activate`.
    pub async fn activate_wallet(&self, token: &str, id: &str) -> Reply {
        self.post(&format!("/v1/wallets/{id}/activate"), token, json!({}))
            .await
    }

    /// `POST /v1/wallets/{id}/terminate`.
    pub async fn terminate_wallet(&self, token: &str, id: &str) -> Reply {
        self.post(&format!("/v1/wallets/{id}/terminate"), token, json!({}))
            .await
    }

    /// `POST /v1/wallets/credit`.
    pub async fn credit(&self, token: &str, body: Value) -> Reply {
        self.post("/v1/wallets/credit", token, body).await
    }

    /// `POST /v1/wallets/{id}/debit`.
    pub async fn debit(&self, token: &str, id: &str, body: Value) -> Reply {
        self.post(&format!("/v1/wallets/{id}/debit"), token, body)
            .await
    }

    /// `POST /v1/wallets/allocate`.
    pub async fn allocate(&self, token: &str, body: Value) -> Reply {
        self.post("/v1/wallets/allocate", token, body).await
    }

    /// `POST /v1/wallets/reclaim`.
    pub async fn reclaim(&self, token: &str, body: Value) -> Reply {
        self.post("/v1/wallets/reclaim", token, body).await
    }

    /// `GET /v1/wallets/balance?query`.
    pub async fn balance(&self, token: &str, query: &str) -> Reply {
        self.get(&format!("/v1/wallets/balance?{query}"), token)
            .await
    }

    /// `GET /v1/wallets/{id}/transactions?query`.
    pub async fn transactions(&self, token: &str, id: &str, query: &str) -> Reply {
        self.get(&format!("/v1/wallets/{id}/transactions?{query}"), token)
            .await
    }

    /// `GET /v1/admin/wallets?query`.
    pub async fn admin_wallets(&self, token: &str, query: &str) -> Reply {
        self.get(&format!("/v1/admin/wallets?{query}"), token).await
    }

    /// `GET /v1/admin/wallets/{id}/transactions`.
    pub async fn admin_transactions(&self, token: &str, id: &str) -> Reply {
        self.get(&format!("/v1/admin/wallets/{id}/transactions"), token)
            .await
    }

    /// `POST /v1/admin/wallets/credit`.
    pub async fn admin_credit(&self, token: &str, body: Value) -> Reply {
        self.post("/v1/admin/wallets/credit", token, body).await
    }

    /// `PUT /v1/admin/organizations/{id}/wallet-settings`.
    pub async fn put_wallet_settings(&self, token: &str, org_id: &str, body: Value) -> Reply {
        let path = format!("/v1/admin/organizations/{org_id}/wallet-settings");
        self.send(Method::PUT, &path, Some(token), Some(body), None)
            .await
    }

    /// `GET /v1/admin/organizations/{id}/wallet-settings`.
    pub async fn wallet_settings(&self, token: &str, org_id: &str) -> Reply {
        self.get(
            &format!("/v1/admin/organizations/{org_id}/wallet-settings"),
            token,
        )
        .await
    }

    // Gateway.

    /// `POST /v1/gateway/wallets/reserve`, with an optional idempotency key.
    pub async fn reserve(&self, token: &str, body: Value, key: Option<&str>) -> Reply {
        self.send(
            Method::POST,
            "/v1/gateway/wallets/reserve",
            Some(token),
            Some(body),
            key,
        )
        .await
    }

    /// `POST /v1/gateway/wallets/settle`.
    pub async fn settle(&self, token: &str, reservation_id: &str, amount: &str) -> Reply {
        let body = json!({"reservation_id": reservation_id, "amount": amount});
        self.post("/v1/gateway/wallets/settle", token, body).await
    }

    /// `POST /v1/gateway/wallets/release`.
    pub async fn release(&self, token: &str, reservation_id: &str) -> Reply {
        let body = json!({"reservation_id": reservation_id});
        self.post("/v1/gateway/wallets/release", token, body).await
    }

    /// `POST /v1/gateway/wallets/redeem-ticket`.
    pub async fn redeem_ticket(&self, token: &str, cost_ticket_id: &str) -> Reply {
        let body = json!({"cost_ticket_id": cost_ticket_id});
        self.post("/v1/gateway/wallets/redeem-ticket", token, body)
            .await
    }

    /// `GET /v1/reservations/{id}`.
    pub async fn reservation(&self, token: &str, id: &str) -> Reply {
        self.get(&format!("/v1/reservations/{id}"), token).await
    }

    /// `POST /v1/charges`.
    pub async fn charge(&self, token: &str, body: Value) -> Reply {
        self.post("/v1/charges", token, body).await
    }

    /// `GET /v1/cost-tickets?query`.
    pub async fn cost_tickets(&self, token: &str, query: &str) -> Reply {
        self.get(&format!("/v1/cost-tickets?{query}"), token).await
    }

    /// `GET /v1/cost-tickets/{id}`.
    pub async fn cost_ticket(&self, token: &str, id: &str) -> Reply {
        self.get(&format!("/v1/cost-tickets/{id}"), token).await
    }

    // Test clock.

    /// `GET /v1/admin/test-clock`.
    pub async fn test_clock(&self, token: &str) -> Reply {
        self.get("/v1/admin/test-clock", token).await
    }

    /// `POST /v1/admin/test-clock/advance`.
    pub async fn advance_clock(&self, token: &str, seconds: i64) -> Reply {
        self.post(
            "/v1/admin/test-clock/advance",
            token,
            json!({"seconds": seconds}),
        )
        .await
    }
}
