//! `GET /v1/wallets/balance`: the effective balance in cascade order.

use axum::extract::State;
use ledger_core::cascade::CascadeScope;
use ledger_core::money::{Credits, Currency};
use serde::{Deserialize, Serialize};

use super::wallets::{query_team, query_user};
use super::{RouteSpec, get};
use crate::http::AppState;
use crate::http::auth::{Permission, Principal};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Query, parse_id};
use crate::http::views::WalletView;

/// The routes of this file.
pub fn routes() -> Vec<RouteSpec> {
    vec![
        get("/v1/wallets/balance", balance)
            .tag("wallets")
            .summary("Effective balance of a user (and team) in cascade order")
            .roles("any (`user_id` for gateway and admins, `team_id` for a team the user is in)"),
    ]
}

/// The query.
#[derive(Debug, Deserialize)]
pub struct BalanceQuery {
    user_id: Option<String>,
    team_id: Option<String>,
    currency: Option<String>,
    org_id: Option<String>,
}

/// The answer.
#[derive(Debug, Serialize)]
pub struct BalanceAnswer {
    org_id: String,
    user_id: Option<String>,
    team_id: Option<String>,
    currency: String,
    effective_available: Credits,
    effective_wallet_id: Option<String>,
    wallets: Vec<WalletView>,
}

async fn balance(
    State(state): State<AppState>,
    principal: Principal,
    Query(query): Query<BalanceQuery>,
) -> ApiResult<axum::Json<BalanceAnswer>> {
    let mut user_id = query_user(query.user_id.as_deref())?;
    let team_id = query_team(query.team_id.as_deref())?;
    let reads_anyone = principal.has(Permission::ReadAllWallets);
    if !reads_anyone {
        let own = principal
            .user_id()
            .ok_or_else(|| ApiError::forbidden("this token acts as no user"))?;
        match &user_id {
            Some(asked) if asked != own => {
                return Err(ApiError::forbidden("a member reads only its own balance"));
            }
            _ => user_id = Some(own.clone()),
        }
    } else if user_id.is_none() && team_id.is_none() {
        user_id = principal.user_id().cloned();
    }
    // The organization: the user's, the team's, or the caller's.
    let mut org_id = principal.org_id.clone();
    if let Some(text) = &query.org_id
        && principal.is_platform()
    {
        org_id = Some(parse_id("org_id", text)?);
    }
    if let Some(team_text) = &team_id {
        let team = state
            .directory
            .team(team_text)
            .await?
            .ok_or_else(|| ApiError::not_found("team", team_text.as_str()))?;
        principal.check_org(&team.org_id, "team", team_text.as_str())?;
        if org_id.as_ref().is_some_and(|org| *org != team.org_id) {
            return Err(ApiError::not_found("team", team_text.as_str()));
        }
        org_id = Some(team.org_id);
    }
    if let Some(asked) = &user_id {
        let user = state
            .directory
            .user(asked)
            .await?
            .ok_or_else(|| ApiError::not_found("user", asked.as_str()))?;
        principal.check_org(&user.org_id, "user", asked.as_str())?;
        if let Some(team) = &team_id
            && !user.is_in_team(team)
        {
            return Err(ApiError::forbidden(format!(
                "user {asked} is not in team {team}"
            )));
        }
        org_id = Some(user.org_id);
    }
    let org_id = org_id.ok_or_else(|| {
        ApiError::bad_request(
            "name user_id, team_id or org_id: a platform admin has no organization",
        )
    })?;
    let org = state
        .directory
        .org(&org_id)
        .await?
        .ok_or_else(|| ApiError::not_found("organization", org_id.as_str()))?;
    let currency = match &query.currency {
        Some(code) => Currency::parse(code)
            .map_err(|error| ApiError::invalid("currency", error.to_string()))?,
        None => org.default_currency,
    };
    let scope = CascadeScope {
        org_id: org.id.clone(),
        user_id: user_id.clone(),
        team_id: team_id.clone(),
    };
    let view = state
        .ledger
        .balance(state.directory.as_ref(), &scope, currency)
        .await?;
    let settings = state.directory.wallet_settings(&org.id).await?;
    Ok(axum::Json(BalanceAnswer {
        org_id: org.id.to_string(),
        user_id: user_id.map(|id| id.to_string()),
        team_id: team_id.map(|id| id.to_string()),
        currency: view.currency.code().to_owned(),
        effective_available: view.effective_available,
        effective_wallet_id: view.effective_wallet_id.map(|id| id.to_string()),
        wallets: view
            .wallets
            .iter()
            .map(|wallet| WalletView::of(wallet, settings.low_balance_threshold))
            .collect(),
    }))
}
