//! The built-in sandbox provider's checkout page (no bearer token): plain HTML with the amount,
//! an Approve and a Cancel button. The buttons are form POSTs that answer 303 to the session's
//! `return_url` / `cancel_url` with `?token=…`, the way PayPal redirects.
//!
//! Approve also does what PayPal's `CHECKOUT.ORDER.APPROVED` webhook does: it starts the
//! capture, so a buyer who closes the popup without the client confirming is still credited
//! (confirm then answers the completed session). Cancel cancels the session at once.

use axum::extract::State;
use axum::response::{Html, Redirect};
use ledger_core::error::LedgerError;
use ledger_core::id::PaymentSessionId;
use ledger_core::ports::{ProviderEvent, ProviderEventKind};
use provider_sandbox::{SandboxOrder, SandboxOrderStatus};
use serde::Deserialize;

use super::payments_methods::remember_saved_method;
use super::{RouteSpec, get, post};
use crate::http::AppState;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Path, Query};

/// The routes of this file.
pub fn routes() -> Vec<RouteSpec> {
    vec![
        get("/sandbox/checkout/{token}", page)
            .public()
            .tag("sandbox")
            .summary("The sandbox provider's approval page (HTML)")
            .roles("anyone with the link"),
        post("/sandbox/checkout/{token}/approve", approve)
            .public()
            .tag("sandbox")
            .summary("The buyer approves: 303 to return_url?token=…")
            .roles("anyone with the link"),
        post("/sandbox/checkout/{token}/cancel", cancel)
            .public()
            .tag("sandbox")
            .summary("The buyer cancels: 303 to cancel_url?token=…")
            .roles("anyone with the link"),
        get("/sandbox/returned", returned)
            .public()
            .tag("sandbox")
            .summary(
                "Where the sandbox sends the buyer when the checkout named no return_url (HTML)",
            )
            .roles("anyone"),
    ]
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

async fn order(state: &AppState, token: &str) -> ApiResult<SandboxOrder> {
    state
        .providers
        .sandbox()
        .order(token)
        .await
        .map_err(LedgerError::from)?
        .ok_or_else(|| ApiError::not_found("sandbox checkout", token))
}

async fn page(State(state): State<AppState>, Path(token): Path<String>) -> ApiResult<Html<String>> {
    let order = order(&state, &token).await?;
    let token = escape(&order.order_id);
    let amount = escape(&format!("{} {}", order.amount.normalize(), order.currency));
    let body = match order.status {
        SandboxOrderStatus::Created => format!(
            r#"<p>Pay <strong id="amount">{amount}</strong> to top up a purse wallet.</p>
<form method="post" action="/sandbox/checkout/{token}/approve"><button type="submit">Approve</button></form>
<form method="post" action="/sandbox/checkout/{token}/cancel"><button type="submit">Cancel</button></form>"#
        ),
        SandboxOrderStatus::Approved | SandboxOrderStatus::Completed => {
            format!("<p>This checkout of <strong>{amount}</strong> was approved.</p>")
        }
        SandboxOrderStatus::Canceled => {
            format!("<p>This checkout of <strong>{amount}</strong> was canceled.</p>")
        }
    };
    Ok(Html(format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>purse sandbox checkout</title></head>
<body><h1>purse sandbox checkout</h1>
<p>No real money moves: this is the built-in sandbox payment provider.</p>
{body}
<p><small>Order {token}</small></p>
</body></html>"#
    )))
}

async fn approve(State(state): State<AppState>, Path(token): Path<String>) -> ApiResult<Redirect> {
    let order = order(&state, &token).await?;
    let location = state
        .providers
        .sandbox()
        .approve(&order.order_id)
        .await
        .map_err(|error| ApiError::conflict("checkout_not_approvable", error.to_string()))?;
    let event = ProviderEvent {
        event_id: format!("sandbox-approved-{}", order.order_id),
        order_id: Some(order.order_id.clone()),
        session_id: Some(order.session_id.clone()),
        kind: ProviderEventKind::OrderApproved,
    };
    match state
        .payments
        .apply_event(provider_sandbox::NAME, &event)
        .await
    {
        Ok(Some(session)) => remember_saved_method(&state, &session).await,
        Ok(None) => {}
        // The buyer's approval stands; confirm or the reconciler captures later.
        Err(error) => {
            tracing::warn!(order.id = %order.order_id, %error, "sandbox capture after approval failed")
        }
    }
    Ok(Redirect::to(&location))
}

async fn cancel(State(state): State<AppState>, Path(token): Path<String>) -> ApiResult<Redirect> {
    let order = order(&state, &token).await?;
    let location = state
        .providers
        .sandbox()
        .cancel(&order.order_id)
        .await
        .map_err(|error| ApiError::conflict("checkout_not_cancelable", error.to_string()))?;
    if let Ok(session_id) = PaymentSessionId::parse(&order.session_id)
        && let Err(error) = state.payments.cancel(&session_id).await
    {
        tracing::warn!(session.id = %session_id, %error, "sandbox cancel left the session as it was");
    }
    Ok(Redirect::to(&location))
}

/// `?token=…` as the sandbox appends it.
#[derive(Debug, Default, Deserialize)]
pub struct ReturnedQuery {
    token: Option<String>,
}

async fn returned(Query(query): Query<ReturnedQuery>) -> Html<String> {
    let token = escape(query.token.as_deref().unwrap_or(""));
    Html(format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>purse sandbox</title></head>
<body><h1>Back from the sandbox checkout</h1>
<p>Order <code>{token}</code>. Confirm the payment session with <code>POST /v1/payments/confirm-checkout</code>; you can close this window.</p>
</body></html>"#
    ))
}
