//! `POST /v1/commerce/billing/wallets`: seed 001's request body as it stands.
//! `external_customer_id` names an organization by its `external_id`, or a user by theirs.

use axum::extract::State;
use axum::http::StatusCode;
use ledger_core::money::Currency;
use ledger_core::wallet::{FeeType, Owner};
use serde::Deserialize;
use serde_json::Value;

use super::rules::Strictness;
use super::wallets::{WalletDraft, create_from_draft};
use super::{RouteSpec, post};
use crate::http::AppState;
use crate::http::auth::{Permission, Principal};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Amount, Json};
use crate::http::views::WalletView;

/// The routes of this file.
pub fn routes() -> Vec<RouteSpec> {
    vec![
        post("/v1/commerce/billing/wallets", create_billing_wallet)
            .created()
            .idempotent()
            .tag("wallets")
            .summary("Create a wallet from seed 001's body (external_customer_id names the owner)")
            .roles("billing_admin, org_admin, platform_admin"),
    ]
}

/// Seed 001's fee types.
#[derive(Debug, Deserialize)]
pub struct CommerceAppliesTo {
    #[serde(default)]
    fee_types: Vec<FeeType>,
}

/// Seed 001's body. Fields this service does not use are ignored: the seed documents only a
/// subset of the body its clients send.
#[derive(Debug, Deserialize)]
pub struct CommerceWalletBody {
    external_customer_id: String,
    name: Option<String>,
    rate_amount: Amount,
    currency: Currency,
    paid_credits: Option<Amount>,
    granted_credits: Option<Amount>,
    expiration_at: Option<String>,
    activates_at: Option<String>,
    priority: Option<i32>,
    applies_to: Option<CommerceAppliesTo>,
    recurring_transaction_rules: Option<Vec<Value>>,
}

async fn owner_of(state: &AppState, principal: &Principal, external_id: &str) -> ApiResult<Owner> {
    let visible = |org_id: &ledger_core::id::OrgId| {
        principal.is_platform() || principal.org_id.as_ref() == Some(org_id)
    };
    if let Some(org) = state.directory.org_by_external_id(external_id).await?
        && visible(&org.id)
    {
        return Ok(Owner::Organization(org.id));
    }
    if let Some(user) = state.directory.user_by_external_id(external_id).await?
        && visible(&user.org_id)
    {
        return Ok(Owner::User(user.id));
    }
    Err(ApiError::not_found("customer", external_id))
}

async fn create_billing_wallet(
    State(state): State<AppState>,
    principal: Principal,
    Json(body): Json<CommerceWalletBody>,
) -> ApiResult<(StatusCode, axum::Json<WalletView>)> {
    principal.require(Permission::ManageWallets)?;
    if body.external_customer_id.trim().is_empty() {
        return Err(ApiError::invalid(
            "external_customer_id",
            "external_customer_id is required",
        ));
    }
    let owner = owner_of(&state, &principal, &body.external_customer_id).await?;
    let draft = WalletDraft {
        owner,
        name: body.name,
        currency: body.currency,
        rate_amount: body.rate_amount,
        paid_credits: body.paid_credits,
        granted_credits: body.granted_credits,
        expiration_at: body.expiration_at,
        activates_at: body.activates_at,
        priority: body.priority,
        fee_types: body
            .applies_to
            .map(|applies| applies.fee_types)
            .unwrap_or_default(),
        rules: body.recurring_transaction_rules.unwrap_or_default(),
        strictness: Strictness::Lenient,
    };
    create_from_draft(&state, &principal, draft).await
}
