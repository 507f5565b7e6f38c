//! `POST /v1/charges`: reserve and settle in one step (subscription and commitment fees).

use axum::extract::State;
use axum::http::StatusCode;
use ledger_core::money::Currency;
use ledger_core::service::ChargeRequest;
use ledger_core::wallet::{FeeType, Owner, OwnerType};
use serde::Deserialize;

use super::wallets::resolve_owner;
use super::{RouteSpec, post};
use crate::http::AppState;
use crate::http::auth::{Permission, Principal};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Amount, Json};
use crate::http::views::SettlementView;

/// The routes of this file.
pub fn routes() -> Vec<RouteSpec> {
    vec![
        post("/v1/charges", charge)
            .created()
            .idempotent()
            .tag("gateway")
            .summary(
                "Charge an owner's wallets in one step; 402 with a cost ticket when none covers it",
            )
            .roles("gateway, org_admin, platform_admin"),
    ]
}

/// The body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChargeBody {
    owner_type: OwnerType,
    owner_id: String,
    amount: Amount,
    fee_type: FeeType,
    currency: Option<Currency>,
}

async fn charge(
    State(state): State<AppState>,
    principal: Principal,
    Json(body): Json<ChargeBody>,
) -> ApiResult<(StatusCode, axum::Json<SettlementView>)> {
    principal.require(Permission::Charge)?;
    let amount = body.amount.positive_credits("amount")?;
    let owner = Owner::parse(body.owner_type, &body.owner_id).map_err(|_| {
        ApiError::invalid(
            "owner_id",
            format!(
                "`{}` is not a {} id",
                body.owner_id,
                body.owner_type.as_str()
            ),
        )
    })?;
    let org_id = resolve_owner(&state, &principal, &owner).await?;
    let currency = match body.currency {
        Some(currency) => currency,
        None => {
            state
                .directory
                .org(&org_id)
                .await?
                .ok_or_else(|| ApiError::not_found("organization", org_id.as_str()))?
                .default_currency
        }
    };
    let request = ChargeRequest {
        owner,
        org_id,
        amount,
        currency,
        fee_type: body.fee_type,
        principal: principal.journal_name(),
    };
    let settlement = state.ledger.charge(&request).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(SettlementView::of(&settlement)),
    ))
}
