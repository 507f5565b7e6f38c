//! Platform-admin payment routes: sessions across organizations, the provider configuration
//! (secrets sealed, never returned) and refunds.

use axum::extract::{Extension, State};
use axum::http::StatusCode;
use ledger_core::error::LedgerError;
use ledger_core::id::PaymentSessionId;
use ledger_core::money::Currency;
use ledger_core::payment_session::PaymentStatus;
use ledger_core::ports::PaymentSessionFilter;
use serde::Deserialize;
use serde_json::{Value, json};

use super::payments::HistoryQuery;
use super::payments_views::{history_line, number};
use super::{RouteSpec, get, post, put};
use crate::http::AppState;
use crate::http::auth::{Permission, Principal};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Amount, Json, PageParams, Query, RangeEnd, parse_date_bound, parse_id};
use crate::http::idempotency::ClaimedKey;
use crate::payments_config::{Environment, PROVIDERS, PaymentsConfig, patch_field};
use crate::secret_box::{SealedSecret, SecretBox};

/// The routes of this file.
pub fn routes() -> Vec<RouteSpec> {
    vec![
        get("/v1/admin/payments", list_payments)
            .tag("payments admin")
            .summary("Payment sessions across organizations, newest first")
            .roles("platform_admin"),
        get("/v1/admin/payments/config", read_config)
            .tag("payments admin")
            .summary("The provider configuration; secrets show only {configured, last4}")
            .roles("platform_admin"),
        put("/v1/admin/payments/config", put_config)
            .tag("payments admin")
            .summary(
                "Update the provider configuration (merges; secrets sealed with PURSE_MASTER_KEY)",
            )
            .roles("platform_admin"),
        post("/v1/admin/payments/refund", refund)
            .idempotent()
            .tag("payments admin")
            .summary("Refund a completed session at the provider and take its paid credits back")
            .roles("platform_admin"),
    ]
}

/// The filter of a history query.
///
/// # Errors
/// 400 for an unknown provider or status, a bad date or page.
pub fn session_filter(query: &HistoryQuery) -> ApiResult<PaymentSessionFilter> {
    let provider = match &query.provider {
        Some(name) if !PROVIDERS.contains(&name.as_str()) => {
            return Err(ApiError::invalid(
                "provider",
                format!("provider is one of {}", PROVIDERS.join(", ")),
            ));
        }
        other => other.clone(),
    };
    let status = match &query.status {
        Some(text) => Some(PaymentStatus::parse(text).ok_or_else(|| {
            ApiError::invalid(
                "status",
                format!("`{text}` is not a payment session status"),
            )
        })?),
        None => None,
    };
    let from = query
        .from_date
        .as_deref()
        .map(|text| parse_date_bound("from_date", text, RangeEnd::Start))
        .transpose()?;
    let to = query
        .to_date
        .as_deref()
        .map(|text| parse_date_bound("to_date", text, RangeEnd::End))
        .transpose()?;
    let page = PageParams {
        page: query.page,
        per_page: query.per_page,
    }
    .to_request()?;
    Ok(PaymentSessionFilter {
        org_id: None,
        provider,
        status,
        user_id: None,
        from,
        to,
        page,
    })
}

/// A page of sessions as `{sessions, total, has_more}`.
///
/// # Errors
/// Store failures.
pub async fn list_sessions(
    state: &AppState,
    filter: &PaymentSessionFilter,
) -> ApiResult<axum::Json<Value>> {
    let page = state.payment_store.list_payment_sessions(filter).await?;
    let has_more = page.has_more(filter.page);
    Ok(axum::Json(json!({
        "sessions": page.items.iter().map(history_line).collect::<Vec<_>>(),
        "total": page.total,
        "has_more": has_more,
    })))
}

async fn list_payments(
    State(state): State<AppState>,
    principal: Principal,
    Query(query): Query<HistoryQuery>,
) -> ApiResult<axum::Json<Value>> {
    principal.require(Permission::Platform)?;
    let mut filter = session_filter(&query)?;
    filter.org_id = query
        .org_id
        .as_deref()
        .map(|text| parse_id("org_id", text))
        .transpose()?;
    list_sessions(&state, &filter).await
}

fn secret_view(sealed: Option<&SealedSecret>) -> Value {
    json!({
        "configured": sealed.is_some(),
        "last4": sealed.map(|sealed| sealed.last4.clone()),
    })
}

fn config_view(state: &AppState, config: &PaymentsConfig) -> Value {
    let resolves = |name: &str| {
        ledger_core::payments::ProviderResolver::provider(state.providers.as_ref(), name).is_some()
    };
    let base_urls = state.providers.base_urls();
    json!({
        "active_provider": config.active_provider,
        "master_key_configured": state.providers.secret_box().is_some(),
        "sandbox": {
            "enabled": config.sandbox.enabled,
            "supported_currencies": config.sandbox.supported_currencies,
            "configured": true,
        },
        "paypal": {
            "enabled": config.paypal.enabled,
            "environment": config.paypal.environment,
            "supported_currencies": config.paypal.supported_currencies,
            "client_id": config.paypal.client_id,
            "client_secret": secret_view(config.paypal.client_secret.as_ref()),
            "webhook_id": config.paypal.webhook_id,
            "base_url": base_urls.paypal(config.paypal.environment),
            "configured": config.has_credentials("paypal") && resolves("paypal"),
        },
        "revolut_pro": {
            "enabled": config.revolut_pro.enabled,
            "environment": config.revolut_pro.environment,
            "supported_currencies": config.revolut_pro.supported_currencies,
            "secret_key": secret_view(config.revolut_pro.secret_key.as_ref()),
            "webhook_signing_secret": secret_view(config.revolut_pro.webhook_signing_secret.as_ref()),
            "base_url": base_urls.revolut(config.revolut_pro.environment),
            "configured": config.has_credentials("revolut_pro") && resolves("revolut_pro"),
        },
    })
}

async fn read_config(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<axum::Json<Value>> {
    principal.require(Permission::Platform)?;
    let config = state.providers.refresh().await?;
    Ok(axum::Json(config_view(&state, &config)))
}

/// The sandbox block of a PUT.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SandboxPatch {
    enabled: Option<bool>,
    #[serde(default, deserialize_with = "patch_field")]
    supported_currencies: Option<Option<Vec<Currency>>>,
}

/// The PayPal block of a PUT.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaypalPatch {
    enabled: Option<bool>,
    environment: Option<Environment>,
    #[serde(default, deserialize_with = "patch_field")]
    supported_currencies: Option<Option<Vec<Currency>>>,
    #[serde(default, deserialize_with = "patch_field")]
    client_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch_field")]
    client_secret: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch_field")]
    webhook_id: Option<Option<String>>,
}

/// The Revolut Pro block of a PUT.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevolutPatch {
    enabled: Option<bool>,
    environment: Option<Environment>,
    #[serde(default, deserialize_with = "patch_field")]
    supported_currencies: Option<Option<Vec<Currency>>>,
    #[serde(default, deserialize_with = "patch_field")]
    secret_key: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch_field")]
    webhook_signing_secret: Option<Option<String>>,
}

/// The PUT body: what is not given keeps its value; `null` clears a credential.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigBody {
    active_provider: Option<String>,
    sandbox: Option<SandboxPatch>,
    paypal: Option<PaypalPatch>,
    revolut_pro: Option<RevolutPatch>,
}

fn plain(field: &str, value: Option<String>) -> ApiResult<Option<String>> {
    match value {
        Some(text) if text.trim().is_empty() || text.len() > 4096 => Err(ApiError::invalid(
            field,
            format!("{field} must be 1 to 4096 characters, or null to clear it"),
        )),
        other => Ok(other),
    }
}

fn seal(
    secret_box: Option<&SecretBox>,
    field: &str,
    value: Option<String>,
) -> ApiResult<Option<SealedSecret>> {
    let Some(text) = plain(field, value)? else {
        return Ok(None);
    };
    let secret_box = secret_box.ok_or_else(|| {
        ApiError::conflict(
            "master_key_missing",
            format!("set PURSE_MASTER_KEY (base64 of 32 bytes) to store {field}"),
        )
        .detail("field", field)
    })?;
    Ok(Some(secret_box.seal(&text)))
}

fn merge(
    config: &mut PaymentsConfig,
    body: ConfigBody,
    secret_box: Option<&SecretBox>,
) -> ApiResult<()> {
    if let Some(active) = body.active_provider {
        if !PROVIDERS.contains(&active.as_str()) {
            return Err(ApiError::invalid(
                "active_provider",
                format!("active_provider is one of {}", PROVIDERS.join(", ")),
            ));
        }
        config.active_provider = active;
    }
    if let Some(patch) = body.sandbox {
        let block = &mut config.sandbox;
        block.enabled = patch.enabled.unwrap_or(block.enabled);
        if let Some(list) = patch.supported_currencies {
            block.supported_currencies = list;
        }
    }
    if let Some(patch) = body.paypal {
        let block = &mut config.paypal;
        block.enabled = patch.enabled.unwrap_or(block.enabled);
        block.environment = patch.environment.unwrap_or(block.environment);
        if let Some(list) = patch.supported_currencies {
            block.supported_currencies = list;
        }
        if let Some(value) = patch.client_id {
            block.client_id = plain("paypal.client_id", value)?;
        }
        if let Some(value) = patch.client_secret {
            block.client_secret = seal(secret_box, "paypal.client_secret", value)?;
        }
        if let Some(value) = patch.webhook_id {
            block.webhook_id = plain("paypal.webhook_id", value)?;
        }
    }
    if let Some(patch) = body.revolut_pro {
        let block = &mut config.revolut_pro;
        block.enabled = patch.enabled.unwrap_or(block.enabled);
        block.environment = patch.environment.unwrap_or(block.environment);
        if let Some(list) = patch.supported_currencies {
            block.supported_currencies = list;
        }
        if let Some(value) = patch.secret_key {
            block.secret_key = seal(secret_box, "revolut_pro.secret_key", value)?;
        }
        if let Some(value) = patch.webhook_signing_secret {
            let sealed = seal(secret_box, "revolut_pro.webhook_signing_secret", value)?;
            // The replaced secret stays accepted, so deliveries signed before the rotation
            // reached Revolut still verify.
            block.previous_webhook_signing_secret = block.webhook_signing_secret.take();
            block.webhook_signing_secret = sealed;
        }
    }
    Ok(())
}

async fn put_config(
    State(state): State<AppState>,
    principal: Principal,
    Json(body): Json<ConfigBody>,
) -> ApiResult<axum::Json<Value>> {
    principal.require(Permission::Platform)?;
    let mut config = state.providers.refresh().await?;
    merge(&mut config, body, state.providers.secret_box())?;
    state.providers.save(&config).await?;
    tracing::info!(active_provider = %config.active_provider, "payment configuration updated");
    Ok(axum::Json(config_view(&state, &config)))
}

/// The refund body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefundBody {
    payment_session_id: String,
    reason: String,
    amount: Option<Amount>,
}

async fn refund(
    State(state): State<AppState>,
    principal: Principal,
    claimed: Option<Extension<ClaimedKey>>,
    Json(body): Json<RefundBody>,
) -> ApiResult<axum::Json<Value>> {
    principal.require(Permission::Platform)?;
    let reason = body.reason.trim().to_owned();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(ApiError::invalid(
            "reason",
            "reason must be 1 to 500 characters",
        ));
    }
    let id: PaymentSessionId = parse_id("payment_session_id", &body.payment_session_id)
        .map_err(|_| ApiError::not_found("payment_session", &body.payment_session_id))?;
    state.providers.refresh().await?;
    let outcome = state
        .payments
        .refund_with_key(
            &id,
            body.amount.map(|amount| amount.0),
            claimed
                .map(|Extension(claimed)| claimed.digest())
                .as_deref(),
        )
        .await;
    let result = match outcome {
        Ok(result) => result,
        Err(LedgerError::Conflict {
            code: "insufficient_balance_for_refund",
            message,
        }) => {
            return Err(refund_refused(&state, &id, message).await);
        }
        Err(error) => return Err(super::payments::payment_error(error, None)),
    };
    tracing::info!(session.id = %id, %reason, refund.id = %result.provider_refund_id, "payment refunded");
    let session = &result.session;
    Ok(axum::Json(json!({
        "payment_session_id": session.id.as_str(),
        "status": session.status.as_str(),
        "provider_refund_id": result.provider_refund_id,
        "refunded_amount": number(result.refunded_amount),
        "refunded_credits": number(result.refunded_credits.value()),
        "total_refunded_amount": number(session.refunded_amount),
        "currency": session.currency.code(),
        "reason": reason,
    })))
}

/// 409 `insufficient_balance_for_refund` with the available figure.
async fn refund_refused(state: &AppState, id: &PaymentSessionId, message: String) -> ApiError {
    let error = ApiError::new(
        StatusCode::CONFLICT,
        "insufficient_balance_for_refund",
        message,
    );
    let Ok(Some(session)) = state.payment_store.payment_session(id).await else {
        return error;
    };
    match state.ledger.store().wallet(&session.wallet_id).await {
        Ok(Some(wallet)) => {
            let available = wallet
                .paid
                .min(wallet.balance().saturating_minus(wallet.held));
            error
                .detail("available", number(available.value()))
                .detail("wallet_id", wallet.id.as_str())
        }
        _ => error,
    }
}
