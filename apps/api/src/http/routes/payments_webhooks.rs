//! Provider webhooks (no bearer token): verify the delivery through the provider's adapter
//! (PayPal's verify-webhook-signature API, Revolut's HMAC-SHA256), then apply the event once.
//! A bad signature is 400 and changes nothing; a duplicate or an unknown event is 200.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use ledger_core::error::ProviderError;
use ledger_core::payments::ProviderResolver;
use ledger_core::ports::{ProviderEventKind, WebhookRequest};
use serde_json::{Value, json};

use super::payments_methods::{remember_saved_method, store_method};
use super::{RouteSpec, post};
use crate::http::AppState;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::Path;
use crate::payments_config::PROVIDERS;

/// The routes of this file.
pub fn routes() -> Vec<RouteSpec> {
    vec![
        post("/v1/payments/webhooks/{provider}", provider_webhook)
            .public()
            .tag("payments")
            .summary("Provider webhook deliveries (paypal, revolut_pro); verified by signature")
            .roles("the provider; no bearer token"),
        post("/v1/payments/webhook", paypal_webhook)
            .public()
            .tag("payments")
            .summary("Legacy alias of /v1/payments/webhooks/paypal")
            .roles("PayPal; no bearer token"),
    ]
}

async fn provider_webhook(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<axum::Json<Value>> {
    receive(&state, &provider, &headers, body).await
}

async fn paypal_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<axum::Json<Value>> {
    receive(&state, "paypal", &headers, body).await
}

async fn receive(
    state: &AppState,
    name: &str,
    headers: &HeaderMap,
    body: Bytes,
) -> ApiResult<axum::Json<Value>> {
    if !PROVIDERS.contains(&name) {
        return Err(ApiError::not_found("payment provider", name));
    }
    state.providers.refresh().await?;
    let provider = state.providers.provider(name).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "no_payment_provider",
            format!("payment provider {name} is not configured"),
        )
    })?;
    let request = WebhookRequest {
        headers: headers
            .iter()
            .filter_map(|(key, value)| {
                value
                    .to_str()
                    .ok()
                    .map(|value| (key.as_str().to_ascii_lowercase(), value.to_owned()))
            })
            .collect(),
        body: body.to_vec(),
    };
    let event = match provider.verify_webhook(&request).await {
        Ok(event) => event,
        Err(ProviderError::BadSignature) => {
            tracing::warn!(provider = name, "webhook refused: bad signature");
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_signature",
                "the webhook signature does not verify",
            ));
        }
        Err(error @ (ProviderError::Timeout | ProviderError::Unavailable(_))) => {
            // Verification could not run (PayPal's verify API is down): the provider delivers
            // again later.
            tracing::warn!(provider = name, %error, "webhook verification unavailable");
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "provider_unavailable",
                "the webhook could not be verified now; deliver it again",
            ));
        }
        Err(error) => {
            tracing::warn!(provider = name, %error, "webhook refused: not understood");
            return Err(ApiError::bad_request(format!(
                "the webhook delivery is not understood: {error}"
            )));
        }
    };
    let session = state.payments.apply_event(name, &event).await?;
    if let Some(session) = &session {
        match &event.kind {
            ProviderEventKind::PaymentMethodSaved(method) if session.save_payment_method => {
                store_method(state, session, method).await;
            }
            _ => remember_saved_method(state, session).await,
        }
    }
    tracing::info!(
        provider = name,
        event.id = %event.event_id,
        session.id = session.as_ref().map(|session| session.id.as_str()),
        "webhook applied"
    );
    Ok(axum::Json(json!({
        "received": true,
        "event_id": event.event_id,
        "payment_session_id": session.as_ref().map(|session| session.id.as_str()),
        "status": session.as_ref().map(|session| session.status.as_str()),
    })))
}
