//! The fake PayPal's HTTP handlers and the state changes the test API shares with them.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::support::lock;
use super::{
    CaptureScript, FakeCapture, FakeOrder, SentWebhook, Shared, State as FakeState, VaultToken,
    emit, error_body,
};

type Event = (String, Value);
type Failure = (StatusCode, Value);

fn reply(status: StatusCode, body: Value) -> Response {
    (status, [("paypal-debug-id", "fakedebug")], Json(body)).into_response()
}

fn fail((status, body): Failure) -> Response {
    reply(status, body)
}

fn unprocessable(issue: &str) -> Failure {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        error_body("UNPROCESSABLE_ENTITY", issue),
    )
}

fn not_found() -> Failure {
    (
        StatusCode::NOT_FOUND,
        error_body("RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID"),
    )
}

fn header_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

fn authorized(state: &Shared, headers: &HeaderMap) -> Result<(), Box<Response>> {
    let token = header_value(headers, "authorization")
        .and_then(|value| value.strip_prefix("Bearer ").map(str::to_owned));
    match token {
        Some(token) if lock(state).tokens.contains(&token) => Ok(()),
        _ => Err(Box::new(reply(
            StatusCode::UNAUTHORIZED,
            json!({"name": "AUTHENTICATION_FAILURE", "message": "Authentication failed due to invalid authentication credentials or a missing Authorization header.", "debug_id": "fakedebug", "details": [{"issue": "INVALID_TOKEN"}]}),
        ))),
    }
}

fn spawn_events(state: &Shared, events: Vec<Event>) {
    for event in events {
        let state = Shared::clone(state);
        tokio::spawn(async move { emit(&state, Some(event)).await });
    }
}

fn money_json(value: Decimal, currency: &str) -> Value {
    json!({"currency_code": currency, "value": value.to_string()})
}

pub(crate) async fn token(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let expected = {
        let state = lock(&state);
        format!("{}:{}", state.client_id, state.client_secret)
    };
    let given = header_value(&headers, "authorization")
        .and_then(|value| value.strip_prefix("Basic ").map(str::to_owned))
        .and_then(|encoded| BASE64.decode(encoded).ok())
        .and_then(|decoded| String::from_utf8(decoded).ok());
    if given.as_deref() != Some(expected.as_str()) {
        return reply(
            StatusCode::UNAUTHORIZED,
            json!({"error": "invalid_client", "error_description": "Client Authentication failed"}),
        );
    }
    if body.as_ref() != b"grant_type=client_credentials" {
        return reply(
            StatusCode::BAD_REQUEST,
            json!({"error": "unsupported_grant_type", "error_description": "grant_type missing"}),
        );
    }
    let mut state = lock(&state);
    let access_token = format!("A21AA{}", state.next_id("TOK"));
    state.tokens.insert(access_token.clone());
    reply(
        StatusCode::OK,
        json!({
            "scope": "https://uri.paypal.com/services/payments/payment",
            "access_token": access_token,
            "token_type": "Bearer",
            "app_id": "APP-FAKE",
            "expires_in": state.token_expires_in,
            "nonce": "fake-nonce",
        }),
    )
}

pub(crate) fn order_json(state: &FakeState, order: &FakeOrder) -> Value {
    let self_link = format!("{}/v2/checkout/orders/{}", state.base_url, order.id);
    let page = format!("{}/checkoutnow?token={}", state.base_url, order.id);
    let links = match order.status.as_str() {
        "CREATED" => json!([
            {"href": self_link, "rel": "self", "method": "GET"},
            {"href": page, "rel": "approve", "method": "GET"},
            {"href": self_link, "rel": "update", "method": "PATCH"},
            {"href": format!("{self_link}/capture"), "rel": "capture", "method": "POST"},
        ]),
        "PAYER_ACTION_REQUIRED" => json!([
            {"href": self_link, "rel": "self", "method": "GET"},
            {"href": page, "rel": "payer-action", "method": "GET"},
        ]),
        _ => json!([{"href": self_link, "rel": "self", "method": "GET"}]),
    };
    let mut unit = json!({
        "reference_id": order.reference_id.clone().unwrap_or_else(|| "default".to_owned()),
        "amount": order.amount,
    });
    if let Some(custom_id) = &order.custom_id {
        unit["custom_id"] = json!(custom_id);
    }
    if let Some(capture) = order
        .capture_id
        .as_ref()
        .and_then(|id| state.captures.get(id))
    {
        unit["payments"] = json!({"captures": [capture_json(state, capture)]});
    }
    let email = order
        .vault_id
        .as_ref()
        .and_then(|id| state.vault.get(id))
        .map_or_else(
            || "buyer@example.com".to_owned(),
            |token| token.email.clone(),
        );
    let mut paypal =
        json!({"email_address": email, "account_id": "FAKEPAYER", "account_status": "VERIFIED"});
    let captured = order.capture_id.is_some();
    if let Some(vault_id) = &order.vault_id {
        paypal["attributes"] = json!({"vault": {
            "id": vault_id,
            "status": "VAULTED",
            "customer": {"id": order.customer_id},
            "links": [{"href": format!("{}/v3/vault/payment-tokens/{vault_id}", state.base_url), "rel": "self", "method": "GET"}],
        }});
    } else if order.vault_requested && captured {
        paypal["attributes"] = json!({"vault": {
            "status": "APPROVED",
            "links": [{"href": self_link, "rel": "up", "method": "GET"}],
        }});
    }
    json!({
        "id": order.id,
        "intent": "CAPTURE",
        "status": order.status,
        "payment_source": {"paypal": paypal},
        "purchase_units": [unit],
        "links": links,
        "create_time": "2026-01-01T00:00:00Z",
        "update_time": "2026-01-01T00:00:00Z",
    })
}

pub(crate) fn capture_json(state: &FakeState, capture: &FakeCapture) -> Value {
    let self_link = format!("{}/v2/payments/captures/{}", state.base_url, capture.id);
    let mut body = json!({
        "id": capture.id,
        "status": capture.status,
        "amount": money_json(capture.value, &capture.currency),
        "final_capture": true,
        "seller_protection": {"status": "ELIGIBLE"},
        "supplementary_data": {"related_ids": {"order_id": capture.order_id}},
        "links": [
            {"href": self_link, "rel": "self", "method": "GET"},
            {"href": format!("{self_link}/refund"), "rel": "refund", "method": "POST"},
            {"href": format!("{}/v2/checkout/orders/{}", state.base_url, capture.order_id), "rel": "up", "method": "GET"},
        ],
        "create_time": "2026-01-01T00:00:00Z",
        "update_time": "2026-01-01T00:00:00Z",
    });
    if let Some(custom_id) = &capture.custom_id {
        body["custom_id"] = json!(custom_id);
    }
    if let Some(reason) = &capture.reason {
        body["status_details"] = json!({"reason": reason});
    }
    body
}

pub(crate) async fn create_order(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(response) = authorized(&state, &headers) {
        return *response;
    }
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return fail((
            StatusCode::BAD_REQUEST,
            error_body("INVALID_REQUEST", "MALFORMED_REQUEST_JSON"),
        ));
    };
    let request_id = header_value(&headers, "paypal-request-id");
    let mut events = Vec::new();
    let result = {
        let mut state = lock(&state);
        let replay_key = request_id.clone().map(|id| ("create".to_owned(), id));
        if let Some(previous) = replay_key.as_ref().and_then(|key| state.replays.get(key)) {
            return reply(StatusCode::OK, previous.clone());
        }
        let result = new_order(&mut state, &request, request_id.is_some(), &mut events);
        if let (Ok(body), Some(key)) = (&result, replay_key) {
            state.replays.insert(key, body.clone());
        }
        result
    };
    spawn_events(&state, events);
    match result {
        Ok(body) => reply(StatusCode::CREATED, body),
        Err(failure) => fail(failure),
    }
}

fn new_order(
    state: &mut FakeState,
    request: &Value,
    has_request_id: bool,
    events: &mut Vec<Event>,
) -> Result<Value, Failure> {
    let units = request["purchase_units"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let Some(unit) = units.first() else {
        return Err((
            StatusCode::BAD_REQUEST,
            error_body("INVALID_REQUEST", "MISSING_REQUIRED_PARAMETER"),
        ));
    };
    let value = unit["amount"]["value"]
        .as_str()
        .and_then(|value| Decimal::from_str_exact(value).ok());
    if value.is_none_or(|value| value <= Decimal::ZERO) {
        return Err(unprocessable("CANNOT_BE_ZERO_OR_NEGATIVE"));
    }
    let paypal = &request["payment_source"]["paypal"];
    let id = state.next_id("ORD");
    let mut order = FakeOrder {
        id: id.clone(),
        status: if paypal["experience_context"].is_object() {
            "PAYER_ACTION_REQUIRED".to_owned()
        } else {
            "CREATED".to_owned()
        },
        amount: unit["amount"].clone(),
        custom_id: unit["custom_id"].as_str().map(str::to_owned),
        reference_id: unit["reference_id"].as_str().map(str::to_owned),
        return_url: paypal["experience_context"]["return_url"]
            .as_str()
            .map(str::to_owned),
        cancel_url: paypal["experience_context"]["cancel_url"]
            .as_str()
            .map(str::to_owned),
        vault_requested: false,
        vault_id: None,
        customer_id: None,
        capture_id: None,
    };
    let vault = &paypal["attributes"]["vault"];
    if !vault.is_null() {
        if vault["store_in_vault"] != "ON_SUCCESS" || !vault["usage_type"].is_string() {
            return Err(unprocessable("VAULT_INSTRUCTION_REQUIRED"));
        }
        order.vault_requested = true;
    }
    if let Some(vault_id) = paypal["vault_id"].as_str() {
        if !has_request_id {
            return Err((
                StatusCode::BAD_REQUEST,
                error_body("INVALID_REQUEST", "PAYPAL_REQUEST_ID_REQUIRED"),
            ));
        }
        if units.len() != 1 {
            return Err(unprocessable(
                "MERCHANT_INITIATED_WITH_MULTIPLE_PURCHASE_UNITS",
            ));
        }
        let Some(token) = state.vault.get(vault_id).filter(|token| !token.deleted) else {
            return Err(unprocessable("PAYMENT_SOURCE_CANNOT_BE_USED"));
        };
        order.customer_id = Some(token.customer_id.clone());
        order.vault_id = Some(vault_id.to_owned());
        order.status = "APPROVED".to_owned();
        let requires_capture = state.mit_requires_capture;
        state.orders.insert(id.clone(), order);
        if !requires_capture {
            events.extend(do_capture(state, &id)?);
        }
    } else {
        state.orders.insert(id.clone(), order);
    }
    let order = state.orders.get(&id).ok_or_else(not_found)?;
    Ok(order_json(state, order))
}

/// Captures an approved order, following the next script.
fn do_capture(state: &mut FakeState, order_id: &str) -> Result<Vec<Event>, Failure> {
    let script = state.scripts.pop_front();
    let order = state.orders.get(order_id).cloned().ok_or_else(not_found)?;
    let (status, reason, event_type) = match script {
        Some(CaptureScript::InstrumentDeclined) => {
            if let Some(order) = state.orders.get_mut(order_id)
                && order.vault_id.is_none()
            {
                order.status = "PAYER_ACTION_REQUIRED".to_owned();
            }
            return Err(unprocessable("INSTRUMENT_DECLINED"));
        }
        Some(CaptureScript::Issue(issue)) => return Err(unprocessable(&issue)),
        Some(CaptureScript::Pending) => {
            ("PENDING", Some("PENDING_REVIEW"), "PAYMENT.CAPTURE.PENDING")
        }
        Some(CaptureScript::Declined) => ("DECLINED", None, "PAYMENT.CAPTURE.DECLINED"),
        None => ("COMPLETED", None, "PAYMENT.CAPTURE.COMPLETED"),
    };
    let capture_id = state.next_id("CAP");
    let value = order.amount["value"]
        .as_str()
        .and_then(|value| Decimal::from_str_exact(value).ok())
        .unwrap_or_default();
    let capture = FakeCapture {
        id: capture_id.clone(),
        order_id: order_id.to_owned(),
        status: status.to_owned(),
        reason: reason.map(str::to_owned),
        value,
        currency: order.amount["currency_code"]
            .as_str()
            .unwrap_or("USD")
            .to_owned(),
        refunded: Decimal::ZERO,
        custom_id: order.custom_id.clone(),
    };
    state.captures.insert(capture_id.clone(), capture.clone());
    let mut events = vec![(event_type.to_owned(), capture_json(state, &capture))];
    let save = order.vault_requested && order.vault_id.is_none() && status == "COMPLETED";
    let vault_late = state.vault_late;
    let (vault_id, customer_id) = if save {
        let vault_id = state.next_id("VT").to_ascii_lowercase();
        let customer_id = state.next_id("CUS");
        state.vault.insert(
            vault_id.clone(),
            VaultToken {
                customer_id: customer_id.clone(),
                email: "buyer@example.com".to_owned(),
                deleted: false,
            },
        );
        events.push((
            "VAULT.PAYMENT-TOKEN.CREATED".to_owned(),
            json!({
                "id": vault_id,
                "customer": {"id": customer_id},
                "payment_source": {"paypal": {"usage_type": "MERCHANT", "customer_type": "CONSUMER", "email_address": "buyer@example.com", "payer_id": "FAKEPAYER"}},
                "metadata": {"order_id": order_id},
                "links": [],
            }),
        ));
        (Some(vault_id), Some(customer_id))
    } else {
        (order.vault_id.clone(), order.customer_id)
    };
    if let Some(order) = state.orders.get_mut(order_id) {
        order.status = "COMPLETED".to_owned();
        order.capture_id = Some(capture_id);
        // With a late vault the capture answer carries no id; the token event announces it.
        if !(save && vault_late) {
            order.vault_id = vault_id;
            order.customer_id = customer_id;
        }
    }
    if !(save && vault_late) {
        events.retain(|(event_type, _)| event_type != "VAULT.PAYMENT-TOKEN.CREATED" || !save);
    }
    Ok(events)
}

pub(crate) async fn get_order(
    State(state): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(response) = authorized(&state, &headers) {
        return *response;
    }
    let state = lock(&state);
    match state.orders.get(&id) {
        Some(order) => reply(StatusCode::OK, order_json(&state, order)),
        None => fail(not_found()),
    }
}

pub(crate) async fn capture_order(
    State(state): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(response) = authorized(&state, &headers) {
        return *response;
    }
    let request_id = header_value(&headers, "paypal-request-id");
    let mut events = Vec::new();
    let result = {
        let mut state = lock(&state);
        let replay_key = request_id.map(|request_id| (format!("capture:{id}"), request_id));
        if let Some(previous) = replay_key.as_ref().and_then(|key| state.replays.get(key)) {
            return reply(StatusCode::OK, previous.clone());
        }
        let result = match state.orders.get(&id).map(|order| order.status.clone()) {
            None => Err(not_found()),
            Some(status) if status == "COMPLETED" => Err(unprocessable("ORDER_ALREADY_CAPTURED")),
            Some(status) if status != "APPROVED" => Err(unprocessable("ORDER_NOT_APPROVED")),
            Some(_) => do_capture(&mut state, &id).and_then(|new_events| {
                events = new_events;
                let order = state.orders.get(&id).ok_or_else(not_found)?;
                Ok(order_json(&state, order))
            }),
        };
        if let (Ok(body), Some(key)) = (&result, replay_key) {
            state.replays.insert(key, body.clone());
        }
        result
    };
    spawn_events(&state, events);
    match result {
        Ok(body) => reply(StatusCode::CREATED, body),
        Err(failure) => fail(failure),
    }
}

pub(crate) async fn get_capture(
    State(state): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(response) = authorized(&state, &headers) {
        return *response;
    }
    let state = lock(&state);
    match state.captures.get(&id) {
        Some(capture) => reply(StatusCode::OK, capture_json(&state, capture)),
        None => fail(not_found()),
    }
}

/// Refunds part or all of what is left of a capture; the refund's JSON.
fn apply_refund(
    state: &mut FakeState,
    capture_id: &str,
    value: Option<Decimal>,
    currency: Option<&str>,
    custom_id: Option<&str>,
) -> Result<Value, Failure> {
    let base_url = state.base_url.clone();
    let refund_id = state.next_id("REF");
    let capture = state.captures.get_mut(capture_id).ok_or_else(not_found)?;
    match capture.status.as_str() {
        "PENDING" => return Err(unprocessable("PENDING_CAPTURE")),
        "REFUNDED" => return Err(unprocessable("CAPTURE_FULLY_REFUNDED")),
        "COMPLETED" | "PARTIALLY_REFUNDED" => {}
        _ => return Err(unprocessable("REFUND_NOT_ALLOWED")),
    }
    if currency.is_some_and(|currency| currency != capture.currency) {
        return Err(unprocessable("REFUND_CAPTURE_CURRENCY_MISMATCH"));
    }
    let remaining = capture.value - capture.refunded;
    let mut amount = value.unwrap_or(remaining);
    if amount <= Decimal::ZERO {
        return Err(unprocessable("CANNOT_BE_ZERO_OR_NEGATIVE"));
    }
    if amount > remaining {
        return Err(unprocessable("REFUND_AMOUNT_EXCEEDED"));
    }
    capture.refunded += amount;
    capture.status = if capture.refunded == capture.value {
        "REFUNDED".to_owned()
    } else {
        "PARTIALLY_REFUNDED".to_owned()
    };
    amount.rescale(capture.value.scale());
    let mut total = capture.refunded;
    total.rescale(capture.value.scale());
    let mut refund = json!({
        "id": refund_id,
        "status": "COMPLETED",
        "amount": money_json(amount, &capture.currency),
        "seller_payable_breakdown": {"total_refunded_amount": money_json(total, &capture.currency)},
        "links": [
            {"href": format!("{base_url}/v2/payments/refunds/{refund_id}"), "rel": "self", "method": "GET"},
            {"href": format!("{base_url}/v2/payments/captures/{capture_id}"), "rel": "up", "method": "GET"},
        ],
    });
    if let Some(custom_id) = custom_id {
        refund["custom_id"] = json!(custom_id);
    }
    Ok(refund)
}

pub(crate) fn record_refund(
    state: &Shared,
    capture_id: &str,
    value: Decimal,
    event_type: &str,
) -> Option<Event> {
    let mut state = lock(state);
    let mut refund = apply_refund(&mut state, capture_id, Some(value), None, None).ok()?;
    if event_type == "PAYMENT.CAPTURE.REVERSED" {
        refund["note_to_payer"] = json!("Payment reversed");
    }
    Some((event_type.to_owned(), refund))
}

pub(crate) async fn refund_capture(
    State(state): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(response) = authorized(&state, &headers) {
        return *response;
    }
    let request: Value = serde_json::from_slice(&body).unwrap_or_else(|_| json!({}));
    let request_id = header_value(&headers, "paypal-request-id");
    let result = {
        let mut state = lock(&state);
        let replay_key = request_id.map(|request_id| (format!("refund:{id}"), request_id));
        if let Some(previous) = replay_key.as_ref().and_then(|key| state.replays.get(key)) {
            return reply(StatusCode::OK, previous.clone());
        }
        let value = request["amount"]["value"]
            .as_str()
            .and_then(|value| Decimal::from_str_exact(value).ok());
        let currency = request["amount"]["currency_code"].as_str();
        let result = apply_refund(
            &mut state,
            &id,
            value,
            currency,
            request["custom_id"].as_str(),
        );
        if let (Ok(body), Some(key)) = (&result, replay_key) {
            state.replays.insert(key, body.clone());
        }
        result
    };
    match result {
        Ok(refund) => {
            spawn_events(
                &state,
                vec![("PAYMENT.CAPTURE.REFUNDED".to_owned(), refund.clone())],
            );
            reply(StatusCode::CREATED, refund)
        }
        Err(failure) => fail(failure),
    }
}

/// Signs an event envelope and remembers the delivery for the verify endpoint.
pub(crate) fn sign_event(
    state: &Shared,
    event_type: &str,
    resource: Value,
) -> (Vec<(String, String)>, Vec<u8>) {
    let mut state = lock(state);
    let event_id = format!("WH-{}", state.next_id("EV"));
    let transmission_id = format!("fake-{}", state.next_id("TX").to_ascii_lowercase());
    let transmission_time = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .ok()
        .and_then(|now| {
            now.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default();
    let resource_type = match event_type {
        "CHECKOUT.ORDER.APPROVED" => "checkout-order",
        "PAYMENT.CAPTURE.REFUNDED" | "PAYMENT.CAPTURE.REVERSED" => "refund",
        _ if event_type.starts_with("VAULT.") => "payment_token",
        _ => "capture",
    };
    let envelope = json!({
        "id": event_id,
        "event_version": "1.0",
        "create_time": transmission_time,
        "resource_type": resource_type,
        "resource_version": "2.0",
        "event_type": event_type,
        "summary": format!("{event_type} (fake)"),
        "resource": resource,
        "links": [],
    });
    let body = serde_json::to_vec(&envelope).unwrap_or_default();
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, b"fake-paypal-signing-key");
    let digest = ring::digest::digest(&ring::digest::SHA256, &body);
    let signed = format!(
        "{transmission_id}|{transmission_time}|{}|{}",
        state.webhook_id,
        hex::encode(digest.as_ref())
    );
    let signature = BASE64.encode(ring::hmac::sign(&key, signed.as_bytes()).as_ref());
    state.sent.insert(
        transmission_id.clone(),
        SentWebhook {
            signature: signature.clone(),
            body: envelope,
        },
    );
    let headers = vec![
        ("content-type".to_owned(), "application/json".to_owned()),
        ("paypal-transmission-id".to_owned(), transmission_id),
        ("paypal-transmission-time".to_owned(), transmission_time),
        ("paypal-transmission-sig".to_owned(), signature),
        (
            "paypal-cert-url".to_owned(),
            format!("{}/v1/notifications/certs/CERT-FAKE", state.base_url),
        ),
        ("paypal-auth-algo".to_owned(), "SHA256withRSA".to_owned()),
        ("paypal-auth-version".to_owned(), "v2".to_owned()),
    ];
    (headers, body)
}

pub(crate) async fn verify_webhook(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(response) = authorized(&state, &headers) {
        return *response;
    }
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return fail((
            StatusCode::BAD_REQUEST,
            error_body("INVALID_REQUEST", "MALFORMED_REQUEST_JSON"),
        ));
    };
    let state = lock(&state);
    let genuine = request["transmission_id"]
        .as_str()
        .and_then(|id| state.sent.get(id))
        .is_some_and(|sent| {
            request["transmission_sig"].as_str() == Some(sent.signature.as_str())
                && request["webhook_id"].as_str() == Some(state.webhook_id.as_str())
                && request["webhook_event"] == sent.body
        });
    let status = if genuine { "SUCCESS" } else { "FAILURE" };
    reply(StatusCode::OK, json!({"verification_status": status}))
}

#[derive(Debug, serde::Deserialize)]
pub(crate) struct TokenQuery {
    customer_id: Option<String>,
}

pub(crate) async fn list_payment_tokens(
    State(state): State<Shared>,
    Query(query): Query<TokenQuery>,
    headers: HeaderMap,
) -> Response {
    if let Err(response) = authorized(&state, &headers) {
        return *response;
    }
    let Some(customer_id) = query.customer_id else {
        return fail((
            StatusCode::BAD_REQUEST,
            error_body("INVALID_REQUEST", "MISSING_REQUIRED_PARAMETER"),
        ));
    };
    let state = lock(&state);
    let tokens: Vec<Value> = state
        .vault
        .iter()
        .filter(|(_, token)| token.customer_id == customer_id && !token.deleted)
        .map(|(id, token)| {
            json!({
                "id": id,
                "customer": {"id": token.customer_id},
                "payment_source": {"paypal": {"email_address": token.email, "usage_type": "MERCHANT", "customer_type": "CONSUMER"}},
            })
        })
        .collect();
    reply(
        StatusCode::OK,
        json!({"customer": {"id": customer_id}, "payment_tokens": tokens, "total_items": tokens.len(), "total_pages": 1}),
    )
}

pub(crate) async fn delete_payment_token(
    State(state): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(response) = authorized(&state, &headers) {
        return *response;
    }
    let event = {
        let mut state = lock(&state);
        match state.vault.get_mut(&id) {
            Some(token) if !token.deleted => {
                token.deleted = true;
                (
                    "VAULT.PAYMENT-TOKEN.DELETED".to_owned(),
                    json!({"id": id, "customer": {"id": token.customer_id}}),
                )
            }
            _ => return fail(not_found()),
        }
    };
    spawn_events(&state, vec![event]);
    StatusCode::NO_CONTENT.into_response()
}

/// The buyer's approval: the order becomes `APPROVED`; the redirect and the event.
pub(crate) fn approve(state: &Shared, order_id: &str) -> Option<(String, Option<Event>)> {
    let mut state = lock(state);
    let order = state.orders.get_mut(order_id)?;
    if matches!(order.status.as_str(), "CREATED" | "PAYER_ACTION_REQUIRED") {
        order.status = "APPROVED".to_owned();
    }
    let return_url = order.return_url.clone().unwrap_or_default();
    let separator = if return_url.contains('?') { '&' } else { '?' };
    let location = format!("{return_url}{separator}token={order_id}&PayerID=FAKEPAYER");
    let order = order.clone();
    let event = (
        "CHECKOUT.ORDER.APPROVED".to_owned(),
        order_json(&state, &order),
    );
    Some((location, Some(event)))
}

pub(crate) fn cancel_location(state: &Shared, order_id: &str) -> Option<String> {
    let state = lock(state);
    let cancel_url = state
        .orders
        .get(order_id)?
        .cancel_url
        .clone()
        .unwrap_or_default();
    let separator = if cancel_url.contains('?') { '&' } else { '?' };
    Some(format!("{cancel_url}{separator}token={order_id}"))
}

#[derive(Debug, serde::Deserialize)]
pub(crate) struct PageQuery {
    token: String,
}

pub(crate) async fn checkout_page(
    State(state): State<Shared>,
    Query(query): Query<PageQuery>,
) -> Response {
    let state = lock(&state);
    let Some(order) = state.orders.get(&query.token) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    Html(format!(
        "<!doctype html><title>Fake PayPal</title><p>Pay {} {}</p>\
         <a href=\"/checkoutnow/approve?token={id}\">Approve</a> \
         <a href=\"/checkoutnow/cancel?token={id}\">Cancel</a>",
        order.amount["value"].as_str().unwrap_or_default(),
        order.amount["currency_code"].as_str().unwrap_or_default(),
        id = order.id,
    ))
    .into_response()
}

pub(crate) async fn checkout_approve(
    State(state): State<Shared>,
    Query(query): Query<PageQuery>,
) -> Response {
    match approve(&state, &query.token) {
        Some((location, event)) => {
            spawn_events(&state, event.into_iter().collect());
            (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

pub(crate) async fn checkout_cancel(
    State(state): State<Shared>,
    Query(query): Query<PageQuery>,
) -> Response {
    match cancel_location(&state, &query.token) {
        Some(location) => (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
