//! Checkouts (seed 002): create, confirm, read a session, the org's history, and the legacy
//! PayPal aliases (`create-order`, `capture-order`) that behave as the generic endpoints with
//! provider `paypal`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use ledger_core::error::{LedgerError, ProviderError};
use ledger_core::id::{OrgId, PaymentSessionId, TeamId, UserId};
use ledger_core::money::{Currency, Money};
use ledger_core::payment_session::{PaymentSession, PaymentStatus};
use ledger_core::payments::{ConfirmOutcome, StartCheckout};
use ledger_core::tenancy::Organization;
use ledger_core::wallet::{Owner, OwnerType};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::Value;

use super::payments_methods::remember_saved_method;
use super::payments_settings;
use super::payments_views::{checkout_view, confirm_view, session_view};
use super::{RouteSpec, get, post};
use crate::http::AppState;
use crate::http::auth::{Permission, Principal, Role};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Amount, Json, Path, parse_id, path_id};

/// The routes of this file.
pub fn routes() -> Vec<RouteSpec> {
    const CHECKOUT_ROLES: &str = "member (own user, its teams, the organization, as the org's scopes allow), billing_admin, org_admin; platform_admin with org_id";
    const CONFIRM_ROLES: &str = "the session's user, billing_admin, org_admin, platform_admin; another org's session is 404";
    vec![
        post("/v1/payments/create-checkout", create_checkout)
            .created()
            .idempotent()
            .tag("payments")
            .summary("Create a provider checkout session for a wallet top-up")
            .roles(CHECKOUT_ROLES),
        post("/v1/payments/confirm-checkout", confirm_checkout)
            .idempotent()
            .tag("payments")
            .summary("Confirm a checkout after the buyer approved: capture once, credit once (202 while pending)")
            .roles(CONFIRM_ROLES),
        get("/v1/payments/sessions/{id}", read_session)
            .tag("payments")
            .summary("A payment session")
            .roles("the session's user, billing_admin, org_admin, platform_admin"),
        get("/v1/payments/history", history)
            .tag("payments")
            .summary("The organization's payment sessions (members: their own), newest first")
            .roles("billing_admin, org_admin (all), member (own); platform_admin with ?org_id="),
        post("/v1/payments/create-order", create_order)
            .created()
            .idempotent()
            .tag("payments")
            .summary("Legacy alias of create-checkout with provider paypal")
            .roles(CHECKOUT_ROLES),
        post("/v1/payments/capture-order", capture_order)
            .idempotent()
            .tag("payments")
            .summary("Legacy alias of confirm-checkout with provider paypal")
            .roles(CONFIRM_ROLES),
    ]
}

/// 403 for the gateway's service token: it spends, it does not buy.
pub fn refuse_gateway(principal: &Principal) -> ApiResult<()> {
    if principal.role == Role::Gateway {
        return Err(ApiError::forbidden("a gateway token may not use payments"));
    }
    Ok(())
}

/// The organization a request acts in: the token's, or for a platform admin the one it names.
/// A name that is not the caller's organization is 404.
pub async fn acting_org(
    state: &AppState,
    principal: &Principal,
    named: Option<&str>,
) -> ApiResult<Organization> {
    let id: OrgId = match (named, &principal.org_id) {
        (Some(text), _) => parse_id("org_id", text)?,
        (None, Some(own)) if !principal.is_platform() => own.clone(),
        (None, _) => {
            return Err(ApiError::invalid(
                "org_id",
                "a platform admin must name the organization (org_id)",
            ));
        }
    };
    principal.check_org(&id, "organization", id.as_str())?;
    state
        .directory
        .org(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("organization", id.as_str()))
}

/// A session the caller may see: its organization's (members: their own). Another
/// organization's is 404; another member's of the same organization 403, as for wallets.
pub async fn visible_session(
    state: &AppState,
    principal: &Principal,
    text: &str,
) -> ApiResult<PaymentSession> {
    refuse_gateway(principal)?;
    let id: PaymentSessionId = path_id("payment_session", text)?;
    let session = state
        .payment_store
        .payment_session(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("payment_session", text))?;
    principal.check_org(&session.org_id, "payment_session", text)?;
    let sees_all = principal.has(Permission::ManageWallets);
    if !sees_all && session.user_id.as_ref() != principal.user_id() {
        return Err(ApiError::forbidden(format!(
            "payment session {text} belongs to another user"
        )));
    }
    Ok(session)
}

/// Maps the core's outcomes with the payment-specific answers of `api.md`: a declined
/// instrument is 402 `payment_declined` with the `approval_url` to try another source.
pub fn payment_error(error: LedgerError, session: Option<&PaymentSession>) -> ApiError {
    match error {
        LedgerError::Provider(ProviderError::Declined { code }) => ApiError::new(
            StatusCode::PAYMENT_REQUIRED,
            "payment_declined",
            "the provider declined the payment instrument; the buyer may approve again with another one",
        )
        .detail("provider_code", code)
        .detail(
            "approval_url",
            session
                .and_then(|session| session.approval_url.clone())
                .map_or(Value::Null, Value::String),
        ),
        LedgerError::Conflict {
            code: code @ "payment_session_closed",
            message,
        } => {
            let error = ApiError::conflict(code, message);
            match session {
                Some(session) => error.detail("status", session.status.as_str()),
                None => error,
            }
        }
        other => other.into(),
    }
}

/// The create-checkout body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckoutBody {
    amount: Amount,
    currency: Option<Currency>,
    target_wallet_owner_type: Option<OwnerType>,
    target_wallet_owner_id: Option<String>,
    surface: Option<String>,
    return_url: Option<String>,
    cancel_url: Option<String>,
    #[serde(default)]
    save_payment_method: bool,
    /// Platform admins name the organization.
    org_id: Option<String>,
    /// Accepted for the legacy aliases and clients that send it; must match the provider
    /// the server selects.
    provider: Option<String>,
}

async fn create_checkout(
    State(state): State<AppState>,
    principal: Principal,
    Json(body): Json<CheckoutBody>,
) -> ApiResult<Response> {
    start(&state, &principal, body, None).await
}

async fn create_order(
    State(state): State<AppState>,
    principal: Principal,
    Json(body): Json<CheckoutBody>,
) -> ApiResult<Response> {
    start(&state, &principal, body, Some("paypal")).await
}

async fn start(
    state: &AppState,
    principal: &Principal,
    body: CheckoutBody,
    forced_provider: Option<&str>,
) -> ApiResult<Response> {
    refuse_gateway(principal)?;
    let org = acting_org(state, principal, body.org_id.as_deref()).await?;
    let settings = payments_settings::load(state, &org.id).await?;
    if !settings.wallet_user_topup_enabled {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "topup_disabled",
            "self-service top-ups are disabled for this organization",
        ));
    }
    let currency = body.currency.unwrap_or(org.default_currency);
    let amount = checked_amount(body.amount.0, currency, &settings)?;
    let owner_type = body
        .target_wallet_owner_type
        .unwrap_or(OwnerType::Organization);
    if !settings.topup_target_scopes.contains(&owner_type) {
        return Err(ApiError::invalid(
            "target_wallet_owner_type",
            format!(
                "this organization does not allow top-ups of {} wallets",
                owner_type.as_str()
            ),
        ));
    }
    let owner = target_owner(
        state,
        principal,
        &org,
        owner_type,
        body.target_wallet_owner_id.as_deref(),
    )
    .await?;
    let config = state.providers.refresh().await?;
    let provider = forced_provider
        .unwrap_or(&config.active_provider)
        .to_owned();
    if let Some(asked) = &body.provider
        && *asked != provider
    {
        return Err(ApiError::invalid(
            "provider",
            format!("the provider is selected by the server; it is {provider}"),
        ));
    }
    let usable = config.enabled(&provider)
        && config.has_credentials(&provider)
        && ledger_core::payments::ProviderResolver::provider(state.providers.as_ref(), &provider)
            .is_some();
    if !usable {
        return Err(ApiError::conflict(
            "no_payment_provider",
            format!("payment provider {provider} is not enabled and configured"),
        ));
    }
    if !config.supports(&provider, currency) {
        return Err(ApiError::invalid(
            "currency",
            format!(
                "payment provider {provider} does not support {}",
                currency.code()
            ),
        )
        .detail("reason", "currency_not_supported"));
    }
    let surface = body.surface.unwrap_or_else(|| "api".to_owned());
    if !["console", "chat", "api"].contains(&surface.as_str()) {
        return Err(ApiError::invalid(
            "surface",
            "surface is one of console, chat, api",
        ));
    }
    let default_url = format!("{}/sandbox/returned", state.providers.public_url());
    let return_url = checked_url("return_url", body.return_url, &default_url)?;
    let cancel_url = checked_url("cancel_url", body.cancel_url, &default_url)?;
    let session = state
        .payments
        .start_checkout(&StartCheckout {
            org_id: org.id.clone(),
            user_id: principal.user_id().cloned(),
            provider,
            target_owner: owner,
            amount,
            surface,
            return_url,
            cancel_url,
            checkout_state: crate::ids::random_string(32),
            save_payment_method: body.save_payment_method,
            principal: principal.journal_name(),
        })
        .await
        .map_err(|error| payment_error(error, None))?;
    tracing::info!(session.id = %session.id, provider = %session.provider, "checkout created");
    Ok((StatusCode::CREATED, axum::Json(checkout_view(&session))).into_response())
}

fn checked_amount(
    value: Decimal,
    currency: Currency,
    settings: &payments_settings::OrgPaymentSettings,
) -> ApiResult<Money> {
    let amount = Money::try_new(value, currency)
        .map_err(|error| ApiError::invalid("amount", error.to_string()))?;
    if value < settings.min_topup_amount || value > settings.max_topup_amount {
        return Err(ApiError::invalid(
            "amount",
            format!(
                "amount must be between {} and {} {}",
                settings.min_topup_amount,
                settings.max_topup_amount,
                currency.code()
            ),
        )
        .detail(
            "min_topup_amount",
            super::payments_views::number(settings.min_topup_amount),
        )
        .detail(
            "max_topup_amount",
            super::payments_views::number(settings.max_topup_amount),
        ));
    }
    Ok(amount)
}

fn checked_url(field: &str, given: Option<String>, default: &str) -> ApiResult<String> {
    let url = given.unwrap_or_else(|| default.to_owned());
    let scheme_ok = url.starts_with("https://") || url.starts_with("http://");
    if !scheme_ok || url.len() > 2000 || url.chars().any(char::is_whitespace) {
        return Err(ApiError::invalid(
            field,
            format!("{field} must be an http(s) URL"),
        ));
    }
    Ok(url)
}

async fn target_owner(
    state: &AppState,
    principal: &Principal,
    org: &Organization,
    owner_type: OwnerType,
    owner_id: Option<&str>,
) -> ApiResult<Owner> {
    let admin = principal.has(Permission::ManageWallets);
    match owner_type {
        OwnerType::Organization => {
            if let Some(text) = owner_id
                && text != org.id.as_str()
            {
                return Err(ApiError::not_found("organization", text));
            }
            Ok(Owner::Organization(org.id.clone()))
        }
        OwnerType::Team => {
            let text = owner_id.ok_or_else(|| {
                ApiError::invalid(
                    "target_wallet_owner_id",
                    "target_wallet_owner_id is required for a team",
                )
            })?;
            let id: TeamId = parse_id("target_wallet_owner_id", text)?;
            let team = state.directory.team(&id).await?;
            if team.is_none_or(|team| team.org_id != org.id) {
                return Err(ApiError::not_found("team", text));
            }
            if !admin && !principal.in_team(&id) {
                return Err(ApiError::forbidden(
                    "a member tops up only teams it belongs to",
                ));
            }
            Ok(Owner::Team(id))
        }
        OwnerType::User => {
            let id: UserId = match owner_id {
                Some(text) => parse_id("target_wallet_owner_id", text)?,
                None => principal.user_id().cloned().ok_or_else(|| {
                    ApiError::invalid(
                        "target_wallet_owner_id",
                        "target_wallet_owner_id is required for a user",
                    )
                })?,
            };
            let user = state.directory.user(&id).await?;
            if user.is_none_or(|user| user.org_id != org.id) {
                return Err(ApiError::not_found("user", id.as_str()));
            }
            if !admin && principal.user_id() != Some(&id) {
                return Err(ApiError::forbidden(
                    "a member tops up only its own user wallet",
                ));
            }
            Ok(Owner::User(id))
        }
    }
}

/// The confirm body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfirmBody {
    payment_session_id: String,
    provider_session_token: Option<String>,
    checkout_state: String,
    provider: Option<String>,
}

async fn confirm_checkout(
    State(state): State<AppState>,
    principal: Principal,
    Json(body): Json<ConfirmBody>,
) -> ApiResult<Response> {
    confirm(&state, &principal, body, None).await
}

async fn capture_order(
    State(state): State<AppState>,
    principal: Principal,
    Json(body): Json<ConfirmBody>,
) -> ApiResult<Response> {
    confirm(&state, &principal, body, Some("paypal")).await
}

async fn confirm(
    state: &AppState,
    principal: &Principal,
    body: ConfirmBody,
    forced_provider: Option<&str>,
) -> ApiResult<Response> {
    let session = visible_session(state, principal, &body.payment_session_id).await?;
    if let Some(asked) = body.provider.as_deref().or(forced_provider)
        && asked != session.provider
    {
        return Err(ApiError::invalid(
            "provider",
            format!(
                "payment session {} belongs to provider {}",
                session.id, session.provider
            ),
        ));
    }
    state.providers.refresh().await?;
    cancel_if_buyer_canceled(state, &session).await?;
    let outcome = state
        .payments
        .confirm(
            &session.id,
            body.provider_session_token.as_deref(),
            &body.checkout_state,
        )
        .await;
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(error) => {
            let current = state.payment_store.payment_session(&session.id).await?;
            return Err(payment_error(error, current.as_ref().or(Some(&session))));
        }
    };
    let status = match &outcome {
        ConfirmOutcome::Done(_) => StatusCode::OK,
        ConfirmOutcome::Pending(_) => StatusCode::ACCEPTED,
    };
    let session = outcome.session();
    remember_saved_method(state, session).await;
    tracing::info!(session.id = %session.id, status = %session.status, "checkout confirmed");
    Ok((status, axum::Json(confirm_view(session))).into_response())
}

/// The buyer pressed Cancel on the sandbox page: the sandbox knows, so confirm answers the
/// canceled session (409 `payment_session_closed`) instead of trying to capture.
async fn cancel_if_buyer_canceled(state: &AppState, session: &PaymentSession) -> ApiResult<()> {
    if session.provider != provider_sandbox::NAME || session.status != PaymentStatus::Created {
        return Ok(());
    }
    let Some(order_id) = &session.provider_order_id else {
        return Ok(());
    };
    let order = state
        .providers
        .sandbox()
        .order(order_id)
        .await
        .map_err(LedgerError::from)?;
    if order.is_some_and(|order| order.status == provider_sandbox::SandboxOrderStatus::Canceled) {
        state.payments.cancel(&session.id).await?;
    }
    Ok(())
}

async fn read_session(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    let session = visible_session(&state, &principal, &id).await?;
    Ok(axum::Json(session_view(&session)))
}

/// The history filters.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    pub(super) provider: Option<String>,
    pub(super) status: Option<String>,
    pub(super) from_date: Option<String>,
    pub(super) to_date: Option<String>,
    pub(super) page: Option<i64>,
    pub(super) per_page: Option<i64>,
    pub(super) org_id: Option<String>,
}

async fn history(
    State(state): State<AppState>,
    principal: Principal,
    crate::http::extract::Query(query): crate::http::extract::Query<HistoryQuery>,
) -> ApiResult<axum::Json<Value>> {
    refuse_gateway(&principal)?;
    let org = acting_org(&state, &principal, query.org_id.as_deref()).await?;
    let mut filter = super::payments_admin::session_filter(&query)?;
    filter.org_id = Some(org.id);
    if !principal.has(Permission::ManageWallets) {
        // A member without a user (none exist today) sees nothing rather than everything.
        filter.user_id = Some(
            principal
                .user_id()
                .cloned()
                .ok_or_else(|| ApiError::forbidden("this token has no user"))?,
        );
    }
    super::payments_admin::list_sessions(&state, &filter).await
}
