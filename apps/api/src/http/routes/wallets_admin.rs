//! `/v1/admin/wallets*`: the wallet routes across organizations, for platform admins.

use axum::extract::State;
use ledger_core::id::OrgId;
use ledger_core::ports::WalletFilter;
use ledger_core::wallet::OwnerType;
use serde::Deserialize;

use super::transactions::{TransactionList, TransactionQuery, list_lines};
use super::wallets::{CreditBody, WalletList, credit, list_page, load_wallet, parse_status};
use super::{RouteSpec, get, post};
use crate::http::AppState;
use crate::http::auth::{Permission, Principal};
use crate::http::error::ApiResult;
use crate::http::extract::{Json, PageParams, Path, Query, parse_id};
use crate::http::views::WalletView;

/// The routes of this file.
pub fn routes() -> Vec<RouteSpec> {
    let tag = "admin";
    vec![
        get("/v1/admin/wallets", list_all)
            .tag(tag)
            .summary("Wallets of every organization; filters org_id, owner_type, owner_id, status")
            .roles("platform_admin"),
        get("/v1/admin/wallets/{id}/transactions", transactions)
            .tag(tag)
            .summary("Any wallet's journal lines")
            .roles("platform_admin"),
        post("/v1/admin/wallets/credit", credit_any)
            .idempotent()
            .tag(tag)
            .summary("Add credits to any wallet")
            .roles("platform_admin"),
    ]
}

/// The query.
#[derive(Debug, Deserialize)]
pub struct AdminWalletQuery {
    org_id: Option<String>,
    owner_type: Option<OwnerType>,
    owner_id: Option<String>,
    status: Option<String>,
    page: Option<i64>,
    per_page: Option<i64>,
}

async fn list_all(
    State(state): State<AppState>,
    principal: Principal,
    Query(query): Query<AdminWalletQuery>,
) -> ApiResult<axum::Json<WalletList>> {
    principal.require(Permission::Platform)?;
    let filter = WalletFilter {
        org_id: query
            .org_id
            .as_deref()
            .map(|text| parse_id::<OrgId>("org_id", text))
            .transpose()?,
        owner_type: query.owner_type,
        owner_id: query.owner_id,
        status: parse_status(query.status.as_deref())?,
        visible_to: None,
        page: PageParams {
            page: query.page,
            per_page: query.per_page,
        }
        .to_request()?,
    };
    Ok(axum::Json(list_page(&state, filter).await?))
}

async fn transactions(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Query(query): Query<TransactionQuery>,
) -> ApiResult<axum::Json<TransactionList>> {
    principal.require(Permission::Platform)?;
    let wallet = load_wallet(&state, &principal, &id).await?;
    Ok(axum::Json(list_lines(&state, &wallet, query).await?))
}

async fn credit_any(
    State(state): State<AppState>,
    principal: Principal,
    Json(body): Json<CreditBody>,
) -> ApiResult<axum::Json<WalletView>> {
    principal.require(Permission::Platform)?;
    credit(&state, &principal, body).await
}
