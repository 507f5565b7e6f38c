//! An organization's wallet settings: cascade order, low-balance threshold, TTLs.

use axum::extract::State;
use ledger_core::money::Credits;
use ledger_core::tenancy::WalletSettings;
use ledger_core::wallet::OwnerType;
use serde::{Deserialize, Serialize};

use super::tenancy::path_org;
use super::{RouteSpec, get, put};
use crate::http::AppState;
use crate::http::auth::{Permission, Principal};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Amount, Json, Path};

const PATH: &str = "/v1/admin/organizations/{id}/wallet-settings";

/// The routes of this file.
pub fn routes() -> Vec<RouteSpec> {
    vec![
        put(PATH, put_settings)
            .tag("admin")
            .summary("Set an organization's wallet settings (fields not given keep their values)")
            .roles("platform_admin"),
        get(PATH, read_settings)
            .tag("admin")
            .summary("An organization's wallet settings")
            .roles("platform_admin; org_admin and billing_admin of that organization"),
    ]
}

/// The settings as shown.
#[derive(Debug, Serialize)]
pub struct SettingsView {
    org_id: String,
    cascade_order: Vec<OwnerType>,
    low_balance_threshold: Credits,
    cost_ticket_ttl_seconds: i64,
    default_reservation_ttl_seconds: i64,
}

impl SettingsView {
    fn of(org_id: &str, settings: &WalletSettings) -> Self {
        Self {
            org_id: org_id.to_owned(),
            cascade_order: settings.cascade_order.clone(),
            low_balance_threshold: settings.low_balance_threshold,
            cost_ticket_ttl_seconds: settings.cost_ticket_ttl_seconds,
            default_reservation_ttl_seconds: settings.default_reservation_ttl_seconds,
        }
    }
}

/// The PUT body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsBody {
    cascade_order: Option<Vec<OwnerType>>,
    low_balance_threshold: Option<Amount>,
    cost_ticket_ttl_seconds: Option<i64>,
    default_reservation_ttl_seconds: Option<i64>,
}

async fn put_settings(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Json(body): Json<SettingsBody>,
) -> ApiResult<axum::Json<SettingsView>> {
    principal.require(Permission::Platform)?;
    let org = path_org(&state, &principal, &id).await?;
    let mut settings = state.directory.wallet_settings(&org.id).await?;
    if let Some(order) = body.cascade_order {
        settings.cascade_order = order;
    }
    if let Some(threshold) = body.low_balance_threshold {
        settings.low_balance_threshold = threshold.credits("low_balance_threshold")?;
    }
    if let Some(ttl) = body.cost_ticket_ttl_seconds {
        settings.cost_ticket_ttl_seconds = ttl;
    }
    if let Some(ttl) = body.default_reservation_ttl_seconds {
        settings.default_reservation_ttl_seconds = ttl;
    }
    settings.validate().map_err(|error| {
        ApiError::invalid(error.field.as_deref().unwrap_or("settings"), error.message)
    })?;
    state
        .directory
        .put_wallet_settings(&org.id, &settings)
        .await?;
    Ok(axum::Json(SettingsView::of(org.id.as_str(), &settings)))
}

async fn read_settings(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<SettingsView>> {
    principal.require(Permission::ReadWalletSettings)?;
    let org = path_org(&state, &principal, &id).await?;
    let settings = state.directory.wallet_settings(&org.id).await?;
    Ok(axum::Json(SettingsView::of(org.id.as_str(), &settings)))
}
