//! An organization's payment settings (`payment_settings:{org}` settings document): whether
//! members may top up, the quick-pick amounts, the bounds and the target scopes.

use axum::extract::State;
use ledger_core::id::OrgId;
use ledger_core::money::Currency;
use ledger_core::tenancy::Organization;
use ledger_core::wallet::OwnerType;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::payments::{acting_org, refuse_gateway};
use super::payments_views::number;
use super::{RouteSpec, get, put};
use crate::http::AppState;
use crate::http::auth::{Permission, Principal};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Amount, Json, Query};
use crate::payments_config::PROVIDERS;

const PATH: &str = "/v1/payments/settings";

/// The routes of this file.
pub fn routes() -> Vec<RouteSpec> {
    vec![
        get(PATH, read_settings)
            .tag("payments")
            .summary("The organization's payment settings and provider availability")
            .roles("every role of the organization but gateway; platform_admin with ?org_id="),
        put(PATH, put_settings)
            .tag("payments")
            .summary(
                "Update the organization's payment settings (fields not given keep their values)",
            )
            .roles("org_admin, billing_admin; platform_admin with ?org_id="),
    ]
}

/// The stored settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgPaymentSettings {
    /// Whether members may top up by themselves.
    pub wallet_user_topup_enabled: bool,
    /// The quick-pick amounts.
    pub allowed_topup_amounts: Vec<Decimal>,
    /// The smallest checkout.
    pub min_topup_amount: Decimal,
    /// The largest checkout.
    pub max_topup_amount: Decimal,
    /// The owners a checkout may top up.
    pub topup_target_scopes: Vec<OwnerType>,
}

impl Default for OrgPaymentSettings {
    /// A new organization's: enabled, 10/25/50, bounds 10..=250, every scope.
    fn default() -> Self {
        Self {
            wallet_user_topup_enabled: true,
            allowed_topup_amounts: vec![Decimal::from(10), Decimal::from(25), Decimal::from(50)],
            min_topup_amount: Decimal::from(10),
            max_topup_amount: Decimal::from(250),
            topup_target_scopes: vec![OwnerType::User, OwnerType::Team, OwnerType::Organization],
        }
    }
}

fn key(org_id: &OrgId) -> String {
    format!("payment_settings:{org_id}")
}

/// An organization's settings (the defaults until someone sets them).
///
/// # Errors
/// Store failures; a corrupt document is a 500.
pub async fn load(state: &AppState, org_id: &OrgId) -> ApiResult<OrgPaymentSettings> {
    match state.payment_store.setting(&key(org_id)).await? {
        Some(text) => serde_json::from_str(&text).map_err(|error| ApiError::internal(&error)),
        None => Ok(OrgPaymentSettings::default()),
    }
}

/// `?org_id=` for platform admins.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgQuery {
    org_id: Option<String>,
}

fn view(state: &AppState, org: &Organization, settings: &OrgPaymentSettings) -> Value {
    let config = state.providers.config();
    let usable = |name: &str| {
        config.enabled(name)
            && config.has_credentials(name)
            && ledger_core::payments::ProviderResolver::provider(state.providers.as_ref(), name)
                .is_some()
    };
    let available: Vec<&str> = PROVIDERS.into_iter().filter(|name| usable(name)).collect();
    let active = config.active_provider.as_str();
    json!({
        "org_id": org.id.as_str(),
        "wallet_user_topup_enabled": settings.wallet_user_topup_enabled,
        "active_provider": active,
        "available_providers": available,
        "payment_provider_configured": usable(active),
        "currency": org.default_currency.code(),
        "currency_supported_by_active_provider": config.supports(active, org.default_currency),
        "allowed_topup_amounts": settings.allowed_topup_amounts.iter().copied().map(number).collect::<Vec<_>>(),
        "min_topup_amount": number(settings.min_topup_amount),
        "max_topup_amount": number(settings.max_topup_amount),
        "topup_target_scopes": settings.topup_target_scopes,
    })
}

async fn read_settings(
    State(state): State<AppState>,
    principal: Principal,
    Query(query): Query<OrgQuery>,
) -> ApiResult<axum::Json<Value>> {
    refuse_gateway(&principal)?;
    let org = acting_org(&state, &principal, query.org_id.as_deref()).await?;
    state.providers.refresh().await?;
    let settings = load(&state, &org.id).await?;
    Ok(axum::Json(view(&state, &org, &settings)))
}

/// The PUT body: every field optional.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsBody {
    wallet_user_topup_enabled: Option<bool>,
    allowed_topup_amounts: Option<Vec<Amount>>,
    min_topup_amount: Option<Amount>,
    max_topup_amount: Option<Amount>,
    topup_target_scopes: Option<Vec<OwnerType>>,
}

async fn put_settings(
    State(state): State<AppState>,
    principal: Principal,
    Query(query): Query<OrgQuery>,
    Json(body): Json<SettingsBody>,
) -> ApiResult<axum::Json<Value>> {
    principal.require(Permission::ManageWallets)?;
    let org = acting_org(&state, &principal, query.org_id.as_deref()).await?;
    let mut settings = load(&state, &org.id).await?;
    if let Some(enabled) = body.wallet_user_topup_enabled {
        settings.wallet_user_topup_enabled = enabled;
    }
    if let Some(amounts) = body.allowed_topup_amounts {
        settings.allowed_topup_amounts = amounts.into_iter().map(|amount| amount.0).collect();
        settings.allowed_topup_amounts.sort();
        settings.allowed_topup_amounts.dedup();
    }
    if let Some(min) = body.min_topup_amount {
        settings.min_topup_amount = min.0;
    }
    if let Some(max) = body.max_topup_amount {
        settings.max_topup_amount = max.0;
    }
    if let Some(mut scopes) = body.topup_target_scopes {
        scopes.sort();
        scopes.dedup();
        settings.topup_target_scopes = scopes;
    }
    validate(&settings, org.default_currency)?;
    let text = serde_json::to_string(&settings).map_err(|error| ApiError::internal(&error))?;
    state
        .payment_store
        .put_setting(&key(&org.id), &text)
        .await?;
    state.providers.refresh().await?;
    Ok(axum::Json(view(&state, &org, &settings)))
}

fn validate(settings: &OrgPaymentSettings, currency: Currency) -> ApiResult<()> {
    let scale_max = currency.minor_units();
    let amount_ok =
        |amount: Decimal| amount > Decimal::ZERO && amount.normalize().scale() <= scale_max;
    if !amount_ok(settings.min_topup_amount) {
        return Err(ApiError::invalid(
            "min_topup_amount",
            format!("min_topup_amount must be above 0 with at most {scale_max} decimals"),
        ));
    }
    if !amount_ok(settings.max_topup_amount)
        || settings.max_topup_amount < settings.min_topup_amount
    {
        return Err(ApiError::invalid(
            "max_topup_amount",
            "max_topup_amount must be at least min_topup_amount",
        ));
    }
    let in_bounds = |amount: &Decimal| {
        amount_ok(*amount)
            && *amount >= settings.min_topup_amount
            && *amount <= settings.max_topup_amount
    };
    if let Some(amount) = settings
        .allowed_topup_amounts
        .iter()
        .find(|amount| !in_bounds(amount))
    {
        return Err(ApiError::invalid(
            "allowed_topup_amounts",
            format!(
                "allowed amount {amount} is outside [{}, {}]",
                settings.min_topup_amount, settings.max_topup_amount
            ),
        ));
    }
    if settings.topup_target_scopes.is_empty() {
        return Err(ApiError::invalid(
            "topup_target_scopes",
            "topup_target_scopes needs at least one of user, team, organization",
        ));
    }
    Ok(())
}
