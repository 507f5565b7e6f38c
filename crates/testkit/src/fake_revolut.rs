//! A fake Revolut Merchant API on `127.0.0.1:0` for tests (providers.md 2.12 and 6.11).
//!
//! Orders, customers and saved payment methods live in memory. A test pays, declines or
//! expires an order as the buyer would ([`FakeRevolutServer::pay`] or the page at
//! `checkout_url`), charges saved methods through `POST /api/orders/{id}/payments`, receives
//! webhooks signed with a real HMAC (several signatures after a secret rotation), injects
//! faults and asserts on the recorded requests.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde_json::{Value, json};

pub use crate::fake_paypal::support::{Fault, RecordedRequest, WebhookDelivery};
use crate::fake_paypal::support::{Recorder, Served, lock, post_webhook, record_and_inject, serve};

/// Who may start payments with a method saved at checkout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SavedFor {
    /// Merchant-initiated charges allowed.
    Merchant,
    /// Only while the customer is present.
    Customer,
}

/// What the next merchant-initiated payment does instead of succeeding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentScript {
    /// `declined` with this `decline_reason` (the order goes back to `pending`).
    Declined(String),
    /// `soft_declined`.
    SoftDeclined,
    /// An `authentication_challenge` (3DS).
    Challenge,
    /// Accepted (`authorisation_passed`) but not final: the order stays `processing` until
    /// [`FakeRevolutServer::complete_payment`] or [`FakeRevolutServer::decline`]
    /// (providers.md 6.8 item 3, 6.11: completed asynchronously).
    Processing,
}

#[derive(Debug, Clone)]
struct FakePayment {
    id: String,
    state: String,
    decline_reason: Option<String>,
    method_type: String,
    method_id: Option<String>,
}

#[derive(Debug, Clone)]
struct FakeOrder {
    id: String,
    token: String,
    order_type: &'static str,
    state: String,
    amount: i64,
    currency: String,
    reference: Option<String>,
    customer_id: Option<String>,
    redirect_url: Option<String>,
    payments: Vec<FakePayment>,
    refunded: i64,
    related_order_id: Option<String>,
}

#[derive(Debug, Clone)]
struct FakeMethod {
    customer_id: String,
    method_type: String,
    saved_for: SavedFor,
    deleted: bool,
}

#[derive(Debug)]
struct FakeState {
    base_url: String,
    secret_key: String,
    signing_secrets: Vec<String>,
    orders: HashMap<String, FakeOrder>,
    customers: HashMap<String, String>,
    methods: HashMap<String, FakeMethod>,
    refund_replays: HashMap<(String, String), Value>,
    scripts: VecDeque<PaymentScript>,
    webhook_url: Option<String>,
    webhook_delivery: WebhookDelivery,
    undelivered: Vec<Value>,
    counter: u64,
}

impl FakeState {
    fn next_uuid(&mut self) -> String {
        self.counter += 1;
        format!("6516e61c-d279-4454-a837-{:012}", self.counter)
    }
}

type Shared = Arc<Mutex<FakeState>>;

/// The fake Revolut server; stops when dropped.
#[derive(Debug)]
pub struct FakeRevolutServer {
    served: Served,
    state: Shared,
    recorder: Arc<Recorder>,
}

const SERVER_ERROR_BODY: &str =
    r#"{"code":"internal_error","message":"Internal server error","timestamp":0}"#;

fn now_ms() -> i128 {
    time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!({"code": code, "message": message, "timestamp": now_ms().to_string().parse::<i64>().unwrap_or(0)})),
    )
        .into_response()
}

/// `v1=` + hex HMAC-SHA256 over `v1.{timestamp}.{body}`.
pub fn sign(secret: &str, timestamp_ms: &str, body: &[u8]) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    let mut payload = format!("v1.{timestamp_ms}.").into_bytes();
    payload.extend_from_slice(body);
    format!(
        "v1={}",
        hex::encode(ring::hmac::sign(&key, &payload).as_ref())
    )
}

impl FakeRevolutServer {
    /// Starts a fake with secret key `sk_fake_secret` and one signing secret.
    pub async fn start() -> Self {
        let state: Shared = Arc::new(Mutex::new(FakeState {
            base_url: String::new(),
            secret_key: "sk_fake_secret".to_owned(),
            signing_secrets: vec!["wsk_fake_signing_secret_1".to_owned()],
            orders: HashMap::new(),
            customers: HashMap::new(),
            methods: HashMap::new(),
            refund_replays: HashMap::new(),
            scripts: VecDeque::new(),
            webhook_url: None,
            webhook_delivery: WebhookDelivery::default(),
            undelivered: Vec::new(),
            counter: 0,
        }));
        let recorder = Arc::new(Recorder::default());
        let middleware_recorder = Arc::clone(&recorder);
        let router = Router::new()
            .route("/api/orders", post(create_order))
            .route("/api/orders/{id}", get(get_order))
            .route("/api/orders/{id}/cancel", post(cancel_order))
            .route("/api/orders/{id}/refund", post(refund_order))
            .route("/api/orders/{id}/payments", post(pay_order))
            .route("/api/customers", post(create_customer))
            .route("/api/customers/{id}/payment-methods", get(list_methods))
            .route(
                "/api/customers/{id}/payment-methods/{method_id}",
                delete(delete_method),
            )
            .route("/payment-link/{token}", get(checkout_page))
            .route("/payment-link/{token}/pay", get(checkout_pay))
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

    /// The secret key the fake accepts.
    pub fn secret_key(&self) -> String {
        lock(&self.state).secret_key.clone()
    }

    /// The newest webhook signing secret.
    pub fn signing_secret(&self) -> String {
        lock(&self.state)
            .signing_secrets
            .last()
            .cloned()
            .unwrap_or_default()
    }

    /// Rotates the signing secret keeping the old one: deliveries carry both signatures.
    /// Returns the new secret.
    pub fn rotate_signing_secret(&self) -> String {
        let mut state = lock(&self.state);
        let secret = format!(
            "wsk_fake_signing_secret_{}",
            state.signing_secrets.len() + 1
        );
        state.signing_secrets.push(secret.clone());
        secret
    }

    /// Drops every signing secret but the newest (the rotation window ended).
    pub fn expire_old_signing_secrets(&self) {
        let mut state = lock(&self.state);
        let newest = state.signing_secrets.len().saturating_sub(1);
        state.signing_secrets.drain(..newest);
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

    /// Scripts the next merchant-initiated payment.
    pub fn script_payment(&self, script: PaymentScript) {
        lock(&self.state).scripts.push_back(script);
    }

    /// Where events are delivered automatically.
    pub fn set_webhook_url(&self, url: impl Into<String>) {
        lock(&self.state).webhook_url = Some(url.into());
    }

    /// Delay and duplication of automatic deliveries.
    pub fn set_webhook_delivery(&self, delivery: WebhookDelivery) {
        lock(&self.state).webhook_delivery = delivery;
    }

    /// Event bodies that were due while no webhook URL was set.
    pub fn undelivered_events(&self) -> Vec<Value> {
        lock(&self.state).undelivered.clone()
    }

    /// The order as Revolut would show it.
    pub fn order(&self, order_id: &str) -> Option<Value> {
        let state = lock(&self.state);
        state
            .orders
            .get(order_id)
            .map(|order| order_json(&state, order))
    }

    /// The customer pays on the checkout page; the order completes (`ORDER_COMPLETED`).
    /// With `save`, the card is saved for that use. Returns the redirect URL.
    pub async fn pay(&self, order_id: &str, save: Option<SavedFor>) -> Option<String> {
        let (redirect, event) = pay(&self.state, order_id, save)?;
        emit(&self.state, event).await;
        Some(redirect)
    }

    /// The customer pressed Pay and the payment is in progress: a `pending` order becomes
    /// `processing` until [`FakeRevolutServer::complete_payment`]. Returns whether it did.
    pub fn start_payment(&self, order_id: &str) -> bool {
        let mut state = lock(&self.state);
        let payment_id = state.next_uuid();
        let Some(order) = state.orders.get_mut(order_id) else {
            return false;
        };
        if order.state != "pending" {
            return false;
        }
        order.state = "processing".to_owned();
        order.payments.push(FakePayment {
            id: payment_id,
            state: "authorisation_started".to_owned(),
            decline_reason: None,
            method_type: "card".to_owned(),
            method_id: None,
        });
        true
    }

    /// The payment under way on a `processing` order (started by
    /// [`FakeRevolutServer::start_payment`], or a merchant-initiated payment scripted
    /// [`PaymentScript::Processing`]) completes (`ORDER_COMPLETED`). Returns whether it did.
    pub async fn complete_payment(&self, order_id: &str) -> bool {
        let event = {
            let mut state = lock(&self.state);
            let Some(order) = state.orders.get_mut(order_id) else {
                return false;
            };
            if order.state != "processing" {
                return false;
            }
            order.state = "completed".to_owned();
            if let Some(payment) = order.payments.last_mut() {
                payment.state = "completed".to_owned();
            }
            event_body("ORDER_COMPLETED", order)
        };
        emit(&self.state, event).await;
        true
    }

    /// A payment attempt is declined (`ORDER_PAYMENT_DECLINED`). On a `processing` order the
    /// attempt under way is declined and the order goes back to `pending` (providers.md 2.12);
    /// on a `pending` order a new declined attempt is recorded and the order stays `pending`.
    pub async fn decline(&self, order_id: &str, reason: &str) {
        let event = {
            let mut state = lock(&self.state);
            let payment_id = state.next_uuid();
            let Some(order) = state.orders.get_mut(order_id) else {
                return;
            };
            if order.state == "processing"
                && let Some(payment) = order.payments.last_mut()
            {
                payment.state = "declined".to_owned();
                payment.decline_reason = Some(reason.to_owned());
                order.state = "pending".to_owned();
            } else {
                order.payments.push(FakePayment {
                    id: payment_id,
                    state: "declined".to_owned(),
                    decline_reason: Some(reason.to_owned()),
                    method_type: "card".to_owned(),
                    method_id: None,
                });
            }
            event_body("ORDER_PAYMENT_DECLINED", order)
        };
        emit(&self.state, event).await;
    }

    /// The order expires unpaid (`ORDER_FAILED`).
    pub async fn expire(&self, order_id: &str) {
        let event = {
            let mut state = lock(&self.state);
            let Some(order) = state.orders.get_mut(order_id) else {
                return;
            };
            order.state = "failed".to_owned();
            event_body("ORDER_FAILED", order)
        };
        emit(&self.state, event).await;
    }

    /// A customer with a card saved for `saved_for`; returns `(customer_id, method_id)`.
    pub fn create_saved_card(&self, saved_for: SavedFor) -> (String, String) {
        let mut state = lock(&self.state);
        let customer_id = state.next_uuid();
        let method_id = state.next_uuid();
        state
            .customers
            .insert(customer_id.clone(), "buyer@example.test".to_owned());
        state.methods.insert(
            method_id.clone(),
            FakeMethod {
                customer_id: customer_id.clone(),
                method_type: "card".to_owned(),
                saved_for,
                deleted: false,
            },
        );
        (customer_id, method_id)
    }

    /// Whether the saved method exists and is not deleted.
    pub fn method_active(&self, method_id: &str) -> bool {
        lock(&self.state)
            .methods
            .get(method_id)
            .is_some_and(|method| !method.deleted)
    }

    /// Signs `body` as a delivery at `timestamp_ms` with every active secret: the headers.
    pub fn sign_body(&self, body: &[u8], timestamp_ms: i128) -> Vec<(String, String)> {
        sign_headers(&lock(&self.state).signing_secrets, body, timestamp_ms)
    }

    /// A signed delivery of `event` for an order, timestamped now: headers and body.
    pub fn signed_event(&self, event: &str, order_id: &str) -> (Vec<(String, String)>, Vec<u8>) {
        let state = lock(&self.state);
        let reference = state
            .orders
            .get(order_id)
            .and_then(|order| order.reference.clone());
        let mut body = json!({"event": event, "order_id": order_id});
        if let Some(reference) = reference {
            body["merchant_order_ext_ref"] = json!(reference);
        }
        let body = serde_json::to_vec(&body).unwrap_or_default();
        (sign_headers(&state.signing_secrets, &body, now_ms()), body)
    }

    /// Sends a signed event for an order to `url`; the first delivery's status, or `None`
    /// when delayed.
    pub async fn send_event(&self, url: &str, event: &str, order_id: &str) -> Option<u16> {
        let (headers, body) = self.signed_event(event, order_id);
        let delivery = lock(&self.state).webhook_delivery.clone();
        post_webhook(url.to_owned(), headers, body, delivery).await
    }
}

fn sign_headers(secrets: &[String], body: &[u8], timestamp_ms: i128) -> Vec<(String, String)> {
    let timestamp = timestamp_ms.to_string();
    let signatures: Vec<String> = secrets
        .iter()
        .map(|secret| sign(secret, &timestamp, body))
        .collect();
    vec![
        ("content-type".to_owned(), "application/json".to_owned()),
        ("revolut-request-timestamp".to_owned(), timestamp),
        ("revolut-signature".to_owned(), signatures.join(",")),
    ]
}

fn event_body(event: &str, order: &FakeOrder) -> Option<Value> {
    let mut body = json!({"event": event, "order_id": order.id});
    if let Some(reference) = &order.reference {
        body["merchant_order_ext_ref"] = json!(reference);
    }
    Some(body)
}

async fn emit(state: &Shared, event: Option<Value>) {
    let Some(event) = event else {
        return;
    };
    let (url, delivery, secrets) = {
        let state = lock(state);
        (
            state.webhook_url.clone(),
            state.webhook_delivery.clone(),
            state.signing_secrets.clone(),
        )
    };
    match url {
        Some(url) => {
            let body = serde_json::to_vec(&event).unwrap_or_default();
            let headers = sign_headers(&secrets, &body, now_ms());
            post_webhook(url, headers, body, delivery).await;
        }
        None => lock(state).undelivered.push(event),
    }
}

fn spawn_emit(state: &Shared, event: Option<Value>) {
    let state = Arc::clone(state);
    tokio::spawn(async move { emit(&state, event).await });
}

fn pay(state: &Shared, order_id: &str, save: Option<SavedFor>) -> Option<(String, Option<Value>)> {
    let mut state = lock(state);
    let payment_id = state.next_uuid();
    let order = state.orders.get(order_id)?.clone();
    if order.state != "pending" {
        return None;
    }
    let mut customer_id = order.customer_id;
    let mut method_id = None;
    if let Some(saved_for) = save {
        let customer = match customer_id.clone() {
            Some(customer) => customer,
            None => {
                let customer = state.next_uuid();
                state
                    .customers
                    .insert(customer.clone(), "buyer@example.test".to_owned());
                customer
            }
        };
        let id = state.next_uuid();
        state.methods.insert(
            id.clone(),
            FakeMethod {
                customer_id: customer.clone(),
                method_type: "card".to_owned(),
                saved_for,
                deleted: false,
            },
        );
        customer_id = Some(customer);
        method_id = Some(id);
    }
    let order = state.orders.get_mut(order_id)?;
    order.customer_id = customer_id;
    order.state = "completed".to_owned();
    order.payments.push(FakePayment {
        id: payment_id,
        state: "completed".to_owned(),
        decline_reason: None,
        method_type: "card".to_owned(),
        method_id,
    });
    let redirect = order.redirect_url.clone().unwrap_or_default();
    Some((redirect, event_body("ORDER_COMPLETED", order)))
}

fn order_json(state: &FakeState, order: &FakeOrder) -> Value {
    let payments: Vec<Value> = order
        .payments
        .iter()
        .map(|payment| {
            let mut method =
                json!({"type": payment.method_type, "brand": "visa", "last_four": "4242"});
            if let Some(id) = &payment.method_id {
                method["id"] = json!(id);
            }
            let mut body = json!({
                "id": payment.id,
                "state": payment.state,
                "amount": order.amount,
                "currency": order.currency,
                "payment_method": method,
                "created_at": "2026-01-01T00:00:00Z",
                "updated_at": "2026-01-01T00:00:00Z",
            });
            if let Some(reason) = &payment.decline_reason {
                body["decline_reason"] = json!(reason);
            }
            body
        })
        .collect();
    let outstanding = if order.state == "completed" {
        0
    } else {
        order.amount
    };
    let mut body = json!({
        "id": order.id,
        "token": order.token,
        "type": order.order_type,
        "state": order.state,
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
        "amount": order.amount,
        "currency": order.currency,
        "outstanding_amount": outstanding,
        "refunded_amount": order.refunded,
        "capture_mode": "automatic",
        "authorisation_type": "final",
        "checkout_url": format!("{}/payment-link/{}", state.base_url, order.token),
        "enforce_challenge": "automatic",
        "payments": payments,
    });
    if let Some(reference) = &order.reference {
        body["merchant_order_data"] = json!({"reference": reference});
        body["metadata"] = json!({"session_id": reference});
    }
    if let Some(customer_id) = &order.customer_id {
        body["customer"] = json!({"id": customer_id, "email": state.customers.get(customer_id)});
    }
    if let Some(redirect_url) = &order.redirect_url {
        body["redirect_url"] = json!(redirect_url);
    }
    if let Some(related) = &order.related_order_id {
        body["related_order_id"] = json!(related);
    }
    body
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

/// Checks the bearer key only (cancel, where the version header is optional).
fn check_key(state: &Shared, headers: &HeaderMap) -> Result<(), Box<Response>> {
    let expected = format!("Bearer {}", lock(state).secret_key);
    if header_text(headers, "authorization").as_deref() != Some(expected.as_str()) {
        return Err(Box::new(error(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "Authentication failed",
        )));
    }
    Ok(())
}

/// Checks the bearer key and the version header; `minimum` for saved-method endpoints.
fn check(state: &Shared, headers: &HeaderMap, minimum: Option<&str>) -> Result<(), Box<Response>> {
    check_key(state, headers)?;
    let Some(version) = header_text(headers, "revolut-api-version") else {
        return Err(Box::new(error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "Revolut-Api-Version header is required",
        )));
    };
    if minimum.is_some_and(|minimum| version.as_str() < minimum) {
        return Err(Box::new(StatusCode::NOT_FOUND.into_response()));
    }
    Ok(())
}

async fn create_order(State(state): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(response) = check(&state, &headers, None) {
        return *response;
    }
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "bad_request", "malformed json");
    };
    let (Some(amount), Some(currency)) = (request["amount"].as_i64(), request["currency"].as_str())
    else {
        return error(
            StatusCode::BAD_REQUEST,
            "validation",
            "amount and currency are required",
        );
    };
    if amount <= 0 {
        return error(
            StatusCode::BAD_REQUEST,
            "validation",
            "amount must be positive",
        );
    }
    let mut state = lock(&state);
    let customer_id = request["customer"]["id"].as_str().map(str::to_owned);
    if customer_id
        .as_ref()
        .is_some_and(|id| !state.customers.contains_key(id))
    {
        return error(StatusCode::NOT_FOUND, "not_found", "Customer not found");
    }
    let id = state.next_uuid();
    let token = state.next_uuid();
    let order = FakeOrder {
        id: id.clone(),
        token,
        order_type: "payment",
        state: "pending".to_owned(),
        amount,
        currency: currency.to_owned(),
        reference: request["merchant_order_data"]["reference"]
            .as_str()
            .map(str::to_owned),
        customer_id,
        redirect_url: request["redirect_url"].as_str().map(str::to_owned),
        payments: Vec::new(),
        refunded: 0,
        related_order_id: None,
    };
    let body = order_json(&state, &order);
    state.orders.insert(id, order);
    (StatusCode::CREATED, Json(body)).into_response()
}

async fn get_order(
    State(state): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(response) = check(&state, &headers, None) {
        return *response;
    }
    let state = lock(&state);
    match state.orders.get(&id) {
        Some(order) => Json(order_json(&state, order)).into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            "not_found",
            &format!("Order with id {id} was not found"),
        ),
    }
}

async fn cancel_order(
    State(state): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    // providers.md 2.6: `Revolut-Api-Version` is optional on cancel.
    if let Err(response) = check_key(&state, &headers) {
        return *response;
    }
    let (body, event) = {
        let mut state = lock(&state);
        let Some(order) = state.orders.get_mut(&id) else {
            return error(StatusCode::NOT_FOUND, "not_found", "Order not found");
        };
        if !matches!(order.state.as_str(), "pending" | "authorised") {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "order_invalid_state",
                "Order cannot be cancelled",
            );
        }
        order.state = "cancelled".to_owned();
        let order = order.clone();
        (
            order_json(&state, &order),
            event_body("ORDER_CANCELLED", &order),
        )
    };
    spawn_emit(&state, event);
    Json(body).into_response()
}

async fn refund_order(
    State(state): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(response) = check(&state, &headers, None) {
        return *response;
    }
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let key = headers
        .get("idempotency-key")
        .and_then(|value| value.to_str().ok())
        .map(|key| (id.clone(), key.to_owned()));
    let mut state = lock(&state);
    if let Some(previous) = key.as_ref().and_then(|key| state.refund_replays.get(key)) {
        return (StatusCode::CREATED, Json(previous.clone())).into_response();
    }
    let (Some(amount), Some(currency)) = (request["amount"].as_i64(), request["currency"].as_str())
    else {
        return error(
            StatusCode::BAD_REQUEST,
            "validation",
            "amount and currency are required",
        );
    };
    let refund_id = state.next_uuid();
    let refund_token = state.next_uuid();
    let Some(order) = state.orders.get_mut(&id) else {
        return error(StatusCode::NOT_FOUND, "not_found", "Order not found");
    };
    if order.state != "completed" || order.order_type != "payment" {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "order_invalid_state",
            "Only completed orders can be refunded",
        );
    }
    if currency != order.currency || amount <= 0 {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            "Invalid refund amount or currency",
        );
    }
    if amount > order.amount - order.refunded {
        return error(
            StatusCode::CONFLICT,
            "conflict",
            "The request conflicts with the current state of the resource",
        );
    }
    order.refunded += amount;
    let refund = FakeOrder {
        id: refund_id.clone(),
        token: refund_token,
        order_type: "refund",
        state: "completed".to_owned(),
        amount,
        currency: currency.to_owned(),
        reference: request["merchant_order_data"]["reference"]
            .as_str()
            .map(str::to_owned),
        customer_id: None,
        redirect_url: None,
        payments: Vec::new(),
        refunded: 0,
        related_order_id: Some(id.clone()),
    };
    let body = order_json(&state, &refund);
    state.orders.insert(refund_id, refund);
    if let Some(key) = key {
        state.refund_replays.insert(key, body.clone());
    }
    (StatusCode::CREATED, Json(body)).into_response()
}

async fn pay_order(
    State(state): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(response) = check(&state, &headers, None) {
        return *response;
    }
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let saved = &request["saved_payment_method"];
    let (Some(method_id), Some(initiator)) = (saved["id"].as_str(), saved["initiator"].as_str())
    else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"errorId": "fake", "timestamp": 0})),
        )
            .into_response();
    };
    let (response, event) = {
        let mut state = lock(&state);
        let payment_id = state.next_uuid();
        let script = state.scripts.pop_front();
        let Some(method) = state.methods.get(method_id).cloned() else {
            return (
                StatusCode::NOT_FOUND,
                Json(json!({"errorId": "fake", "timestamp": 0, "code": 1024})),
            )
                .into_response();
        };
        let Some(order) = state.orders.get_mut(&id) else {
            return error(StatusCode::NOT_FOUND, "not_found", "Order not found");
        };
        if order.state != "pending" {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "order_invalid_state",
                "Order is not pending",
            );
        }
        if method.deleted || order.customer_id.as_deref() != Some(method.customer_id.as_str()) {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "payment_method_not_found",
                "Payment method not found",
            );
        }
        if initiator == "merchant" && method.saved_for == SavedFor::Customer {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "payment_method_not_saved_for_merchant",
                "Payment method is saved for the customer only",
            );
        }
        let processing = script == Some(PaymentScript::Processing);
        let (payment_state, reason, challenge) = match script {
            Some(PaymentScript::Declined(reason)) => ("declined", Some(reason), false),
            Some(PaymentScript::SoftDeclined) => ("soft_declined", None, false),
            Some(PaymentScript::Challenge) => ("authentication_challenge", None, true),
            Some(PaymentScript::Processing) | None => ("authorisation_passed", None, false),
        };
        let declined = payment_state != "authorisation_passed";
        order.payments.push(FakePayment {
            id: payment_id.clone(),
            state: if declined || processing {
                payment_state.to_owned()
            } else {
                "completed".to_owned()
            },
            decline_reason: reason.clone(),
            method_type: method.method_type.clone(),
            method_id: Some(method_id.to_owned()),
        });
        let event = if processing {
            order.state = "processing".to_owned();
            None
        } else {
            if !declined {
                order.state = "completed".to_owned();
            }
            event_body(
                if declined {
                    "ORDER_PAYMENT_DECLINED"
                } else {
                    "ORDER_COMPLETED"
                },
                order,
            )
        };
        let mut response = json!({
            "id": payment_id,
            "order_id": id,
            "state": payment_state,
            "amount": order.amount,
            "currency": order.currency,
            "payment_method": {"type": method.method_type, "id": method_id, "brand": "visa", "last_four": "4242"},
        });
        if let Some(reason) = reason {
            response["decline_reason"] = json!(reason);
        }
        if challenge {
            response["authentication_challenge"] =
                json!({"type": "three_ds", "acs_url": "https://acs.example/"});
        }
        (response, event)
    };
    spawn_emit(&state, event);
    Json(response).into_response()
}

async fn create_customer(State(state): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(response) = check(&state, &headers, None) {
        return *response;
    }
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let email = request["email"].as_str().unwrap_or_default().to_owned();
    let mut state = lock(&state);
    let id = state.next_uuid();
    state.customers.insert(id.clone(), email.clone());
    (StatusCode::CREATED, Json(json!({"id": id, "email": email}))).into_response()
}

#[derive(Debug, serde::Deserialize)]
struct MethodsQuery {
    only_merchant: Option<bool>,
}

async fn list_methods(
    State(state): State<Shared>,
    Path(customer_id): Path<String>,
    Query(query): Query<MethodsQuery>,
    headers: HeaderMap,
) -> Response {
    if let Err(response) = check(&state, &headers, Some("2024-09-01")) {
        return *response;
    }
    let state = lock(&state);
    if !state.customers.contains_key(&customer_id) {
        return error(StatusCode::NOT_FOUND, "not_found", "Customer not found");
    }
    let methods: Vec<Value> = state
        .methods
        .iter()
        .filter(|(_, method)| method.customer_id == customer_id && !method.deleted)
        .filter(|(_, method)| !query.only_merchant.unwrap_or(false) || method.saved_for == SavedFor::Merchant)
        .map(|(id, method)| {
            json!({
                "id": id,
                "type": method.method_type,
                "saved_for": if method.saved_for == SavedFor::Merchant { "merchant" } else { "customer" },
                "created_at": "2026-01-01T00:00:00Z",
                "brand": "visa",
                "last_four": "4242",
            })
        })
        .collect();
    Json(json!({"payment_methods": methods})).into_response()
}

async fn delete_method(
    State(state): State<Shared>,
    Path((customer_id, method_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(response) = check(&state, &headers, Some("2024-09-01")) {
        return *response;
    }
    let mut state = lock(&state);
    match state.methods.get_mut(&method_id) {
        Some(method) if method.customer_id == customer_id && !method.deleted => {
            method.deleted = true;
            StatusCode::NO_CONTENT.into_response()
        }
        _ => error(
            StatusCode::NOT_FOUND,
            "not_found",
            "Payment method not found",
        ),
    }
}

fn order_by_token(state: &FakeState, token: &str) -> Option<FakeOrder> {
    state
        .orders
        .values()
        .find(|order| order.token == token)
        .cloned()
}

async fn checkout_page(State(state): State<Shared>, Path(token): Path<String>) -> Response {
    let Some(order) = order_by_token(&lock(&state), &token) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    Html(format!(
        "<!doctype html><title>Fake Revolut</title><p>Pay {} {} (minor units)</p>\
         <a href=\"/payment-link/{token}/pay\">Pay</a>",
        order.amount, order.currency
    ))
    .into_response()
}

async fn checkout_pay(State(state): State<Shared>, Path(token): Path<String>) -> Response {
    let Some(order) = order_by_token(&lock(&state), &token) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match pay(&state, &order.id, None) {
        Some((redirect, event)) => {
            spawn_emit(&state, event);
            (StatusCode::SEE_OTHER, [(header::LOCATION, redirect)]).into_response()
        }
        None => StatusCode::CONFLICT.into_response(),
    }
}
