//! A fake PayPal REST API on `127.0.0.1:0` for tests (providers.md 1.12 and 6.11).
//!
//! It keeps orders, captures, refunds and vault tokens in memory, lets a test act as the
//! buyer ([`FakePaypalServer::approve`], [`FakePaypalServer::cancel`], or the HTML page at
//! the approval link), sends webhooks whose verify call answers `SUCCESS` only for deliveries
//! it really sent, injects faults on demand and records every request.

mod handlers;
pub mod support;

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::routing::{delete, get, post};
use rust_decimal::Decimal;
use serde_json::{Value, json};

pub use self::support::{Fault, RecordedRequest, WebhookDelivery};
use self::support::{Recorder, Served, lock, post_webhook, record_and_inject, serve};

/// What the next capture (or merchant-initiated charge) does instead of completing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaptureScript {
    /// The capture is created `PENDING` (reason `PENDING_REVIEW`).
    Pending,
    /// The order completes with a capture `DECLINED`.
    Declined,
    /// 422 `INSTRUMENT_DECLINED`; the buyer must approve again.
    InstrumentDeclined,
    /// 422 with this issue.
    Issue(String),
}

#[derive(Debug, Clone)]
pub(crate) struct FakeOrder {
    pub(crate) id: String,
    pub(crate) status: String,
    pub(crate) amount: Value,
    pub(crate) custom_id: Option<String>,
    pub(crate) reference_id: Option<String>,
    pub(crate) return_url: Option<String>,
    pub(crate) cancel_url: Option<String>,
    pub(crate) vault_requested: bool,
    pub(crate) vault_id: Option<String>,
    pub(crate) customer_id: Option<String>,
    pub(crate) capture_id: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct FakeCapture {
    pub(crate) id: String,
    pub(crate) order_id: String,
    pub(crate) status: String,
    pub(crate) reason: Option<String>,
    pub(crate) value: Decimal,
    pub(crate) currency: String,
    pub(crate) refunded: Decimal,
    pub(crate) custom_id: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct VaultToken {
    pub(crate) customer_id: String,
    pub(crate) email: String,
    pub(crate) deleted: bool,
}

#[derive(Debug)]
pub(crate) struct SentWebhook {
    pub(crate) signature: String,
    pub(crate) body: Value,
}

#[derive(Debug)]
pub(crate) struct State {
    pub(crate) base_url: String,
    pub(crate) client_id: String,
    pub(crate) client_secret: String,
    pub(crate) webhook_id: String,
    pub(crate) token_expires_in: u64,
    pub(crate) tokens: HashSet<String>,
    pub(crate) orders: HashMap<String, FakeOrder>,
    pub(crate) captures: HashMap<String, FakeCapture>,
    pub(crate) vault: HashMap<String, VaultToken>,
    /// `(route, PayPal-Request-Id)` → the first answer, replayed with 200.
    pub(crate) replays: HashMap<(String, String), Value>,
    pub(crate) scripts: VecDeque<CaptureScript>,
    pub(crate) mit_requires_capture: bool,
    pub(crate) vault_late: bool,
    pub(crate) webhook_url: Option<String>,
    pub(crate) webhook_delivery: WebhookDelivery,
    pub(crate) sent: HashMap<String, SentWebhook>,
    pub(crate) pending_webhooks: Vec<(String, Value)>,
    pub(crate) counter: u64,
}

impl State {
    pub(crate) fn next_id(&mut self, prefix: &str) -> String {
        self.counter += 1;
        format!("{prefix}{:014}", self.counter)
    }
}

pub(crate) type Shared = Arc<Mutex<State>>;

/// The fake PayPal server; stops when dropped.
#[derive(Debug)]
pub struct FakePaypalServer {
    served: Served,
    state: Shared,
    recorder: Arc<Recorder>,
}

const SERVER_ERROR_BODY: &str = r#"{"name":"INTERNAL_SERVER_ERROR","message":"An internal server error occurred.","debug_id":"fake500"}"#;

impl FakePaypalServer {
    /// Starts a fake with client id `fake-client-id`, secret `fake-client-secret` and webhook
    /// id `WH-FAKE`.
    pub async fn start() -> Self {
        let state: Shared = Arc::new(Mutex::new(State {
            base_url: String::new(),
            client_id: "fake-client-id".to_owned(),
            client_secret: "fake-client-secret".to_owned(),
            webhook_id: "WH-FAKE".to_owned(),
            token_expires_in: 32_400,
            tokens: HashSet::new(),
            orders: HashMap::new(),
            captures: HashMap::new(),
            vault: HashMap::new(),
            replays: HashMap::new(),
            scripts: VecDeque::new(),
            mit_requires_capture: false,
            vault_late: false,
            webhook_url: None,
            webhook_delivery: WebhookDelivery::default(),
            sent: HashMap::new(),
            pending_webhooks: Vec::new(),
            counter: 0,
        }));
        let recorder = Arc::new(Recorder::default());
        let middleware_recorder = Arc::clone(&recorder);
        let router = Router::new()
            .route("/v1/oauth2/token", post(handlers::token))
            .route("/v2/checkout/orders", post(handlers::create_order))
            .route("/v2/checkout/orders/{id}", get(handlers::get_order))
            .route(
                "/v2/checkout/orders/{id}/capture",
                post(handlers::capture_order),
            )
            .route("/v2/payments/captures/{id}", get(handlers::get_capture))
            .route(
                "/v2/payments/captures/{id}/refund",
                post(handlers::refund_capture),
            )
            .route(
                "/v1/notifications/verify-webhook-signature",
                post(handlers::verify_webhook),
            )
            .route(
                "/v3/vault/payment-tokens",
                get(handlers::list_payment_tokens),
            )
            .route(
                "/v3/vault/payment-tokens/{id}",
                delete(handlers::delete_payment_token),
            )
            .route("/checkoutnow", get(handlers::checkout_page))
            .route("/checkoutnow/approve", get(handlers::checkout_approve))
            .route("/checkoutnow/cancel", get(handlers::checkout_cancel))
            .with_state(Arc::clone(&state))
            .layer(axum::middleware::from_fn(move |request, next| {
                record_and_inject(
                    Arc::clone(&middleware_recorder),
                    SERVER_ERROR_BODY,
                    request,
                    next,
                )
            }));
        let served = serve(router).await;
        lock(&state).base_url = served.url.clone();
        Self {
            served,
            state,
            recorder,
        }
    }

    /// The base URL (`http://127.0.0.1:PORT`).
    pub fn url(&self) -> &str {
        &self.served.url
    }

    /// The client id the fake accepts.
    pub fn client_id(&self) -> String {
        lock(&self.state).client_id.clone()
    }

    /// The client secret the fake accepts.
    pub fn client_secret(&self) -> String {
        lock(&self.state).client_secret.clone()
    }

    /// The webhook id deliveries are signed for.
    pub fn webhook_id(&self) -> String {
        lock(&self.state).webhook_id.clone()
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.recorder.requests()
    }

    /// The requests with this method whose path starts with `path_prefix`.
    pub fn requests_to(&self, method: &str, path_prefix: &str) -> Vec<RecordedRequest> {
        self.requests()
            .into_iter()
            .filter(|request| request.method == method && request.path.starts_with(path_prefix))
            .collect()
    }

    /// How many requests with this method and path prefix arrived.
    pub fn count(&self, method: &str, path_prefix: &str) -> usize {
        self.requests_to(method, path_prefix).len()
    }

    /// Applies `fault` to the next `times` requests with this method and path prefix.
    pub fn inject(&self, method: &str, path_prefix: &str, fault: Fault, times: u32) {
        self.recorder.inject(method, path_prefix, fault, times);
    }

    /// Scripts the next capture (or merchant-initiated charge).
    pub fn script_capture(&self, script: CaptureScript) {
        lock(&self.state).scripts.push_back(script);
    }

    /// Sets `expires_in` of new tokens.
    pub fn set_token_expires_in(&self, seconds: u64) {
        lock(&self.state).token_expires_in = seconds;
    }

    /// Makes every token issued so far invalid (as if expired): the next call gets 401.
    pub fn revoke_tokens(&self) {
        lock(&self.state).tokens.clear();
    }

    /// Whether a merchant-initiated order needs a `/capture` call (else it completes at create).
    pub fn set_mit_requires_capture(&self, requires: bool) {
        lock(&self.state).mit_requires_capture = requires;
    }

    /// Saving a wallet finishes after the capture: the capture answer has no vault id and
    /// `VAULT.PAYMENT-TOKEN.CREATED` follows.
    pub fn set_vault_late(&self, late: bool) {
        lock(&self.state).vault_late = late;
    }

    /// Where events are delivered automatically (approval, captures, refunds, vault).
    pub fn set_webhook_url(&self, url: impl Into<String>) {
        lock(&self.state).webhook_url = Some(url.into());
    }

    /// Delay and duplication of automatic deliveries.
    pub fn set_webhook_delivery(&self, delivery: WebhookDelivery) {
        lock(&self.state).webhook_delivery = delivery;
    }

    /// Vaults a PayPal wallet directly (as an earlier checkout would have); returns its id.
    pub fn create_vault_token(&self, email: &str) -> String {
        let mut state = lock(&self.state);
        let id = state.next_id("VT").to_ascii_lowercase();
        let customer_id = state.next_id("CUS");
        state.vault.insert(
            id.clone(),
            VaultToken {
                customer_id,
                email: email.to_owned(),
                deleted: false,
            },
        );
        id
    }

    /// Whether the vault token exists and is not deleted.
    pub fn vault_token_active(&self, vault_id: &str) -> bool {
        lock(&self.state)
            .vault
            .get(vault_id)
            .is_some_and(|token| !token.deleted)
    }

    /// The buyer approves on PayPal's page; returns the redirect to `return_url`.
    ///
    /// # Panics
    /// When the order does not exist.
    pub async fn approve(&self, order_id: &str) -> String {
        let (location, event) = handlers::approve(&self.state, order_id).expect("order exists");
        self.emit(event).await;
        location
    }

    /// The buyer cancels; returns the redirect to `cancel_url`.
    ///
    /// # Panics
    /// When the order does not exist.
    pub fn cancel(&self, order_id: &str) -> String {
        handlers::cancel_location(&self.state, order_id).expect("order exists")
    }

    /// The order as PayPal would show it.
    pub fn order(&self, order_id: &str) -> Option<Value> {
        let state = lock(&self.state);
        state
            .orders
            .get(order_id)
            .map(|order| handlers::order_json(&state, order))
    }

    /// A pending capture completes (sends `PAYMENT.CAPTURE.COMPLETED`).
    pub async fn complete_capture(&self, capture_id: &str) {
        self.settle_capture(capture_id, "COMPLETED", "PAYMENT.CAPTURE.COMPLETED")
            .await;
    }

    /// A pending capture is denied (sends `PAYMENT.CAPTURE.DENIED`).
    pub async fn deny_capture(&self, capture_id: &str) {
        self.settle_capture(capture_id, "DECLINED", "PAYMENT.CAPTURE.DENIED")
            .await;
    }

    async fn settle_capture(&self, capture_id: &str, status: &str, event_type: &str) {
        let event = {
            let mut state = lock(&self.state);
            let Some(capture) = state.captures.get_mut(capture_id) else {
                return;
            };
            capture.status = status.to_owned();
            capture.reason = None;
            let capture = capture.clone();
            (
                event_type.to_owned(),
                handlers::capture_json(&state, &capture),
            )
        };
        self.emit(Some(event)).await;
    }

    /// A refund started in PayPal's dashboard (sends `PAYMENT.CAPTURE.REFUNDED`).
    pub async fn refund_from_dashboard(&self, capture_id: &str, value: Decimal) {
        let event =
            handlers::record_refund(&self.state, capture_id, value, "PAYMENT.CAPTURE.REFUNDED");
        self.emit(event).await;
    }

    /// A chargeback (sends `PAYMENT.CAPTURE.REVERSED`).
    pub async fn reverse_capture(&self, capture_id: &str, value: Decimal) {
        let event =
            handlers::record_refund(&self.state, capture_id, value, "PAYMENT.CAPTURE.REVERSED");
        self.emit(event).await;
    }

    /// Builds and records a signed delivery of an event without sending it: its headers
    /// (lowercase names) and body. The verify endpoint answers `SUCCESS` for it.
    pub fn sign_event(
        &self,
        event_type: &str,
        resource: Value,
    ) -> (Vec<(String, String)>, Vec<u8>) {
        handlers::sign_event(&self.state, event_type, resource)
    }

    /// Sends a signed event to `url`; the status of the first delivery, or `None` when delayed.
    pub async fn send_event(&self, url: &str, event_type: &str, resource: Value) -> Option<u16> {
        let (headers, body) = self.sign_event(event_type, resource);
        let delivery = lock(&self.state).webhook_delivery.clone();
        post_webhook(url.to_owned(), headers, body, delivery).await
    }

    /// Events that were due while no webhook URL was set.
    pub fn undelivered_events(&self) -> Vec<(String, Value)> {
        lock(&self.state).pending_webhooks.clone()
    }

    async fn emit(&self, event: Option<(String, Value)>) {
        emit(&self.state, event).await;
    }
}

/// Delivers an automatic event to the configured URL, or keeps it when there is none.
pub(crate) async fn emit(state: &Shared, event: Option<(String, Value)>) {
    let Some((event_type, resource)) = event else {
        return;
    };
    let url = lock(state).webhook_url.clone();
    match url {
        Some(url) => {
            let (headers, body) = handlers::sign_event(state, &event_type, resource);
            let delivery = lock(state).webhook_delivery.clone();
            post_webhook(url, headers, body, delivery).await;
        }
        None => lock(state).pending_webhooks.push((event_type, resource)),
    }
}

/// PayPal's error body.
pub(crate) fn error_body(name: &str, issue: &str) -> Value {
    json!({
        "name": name,
        "message": "The requested action could not be performed.",
        "debug_id": "fakedebug",
        "details": [{"issue": issue, "description": issue}],
        "links": [],
    })
}
