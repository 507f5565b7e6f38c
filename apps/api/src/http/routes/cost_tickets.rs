//! Cost tickets: list and read.

use axum::extract::State;
use ledger_core::cost_ticket::CostTicketStatus;
use ledger_core::id::CostTicketId;
use ledger_core::ports::CostTicketFilter;
use serde::{Deserialize, Serialize};

use super::gateway::{SpendScope, spend_scope};
use super::wallets::query_user;
use super::{RouteSpec, get};
use crate::http::AppState;
use crate::http::auth::{Permission, Principal};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{PageParams, Path, Query, parse_id, path_id};
use crate::http::views::CostTicketView;

/// The routes of this file.
pub fn routes() -> Vec<RouteSpec> {
    let roles = "gateway, billing_admin, org_admin, platform_admin; a user's token sees its own";
    vec![
        get("/v1/cost-tickets", list_tickets)
            .tag("gateway")
            .summary("Cost tickets, newest first; filters status, user_id")
            .roles(roles),
        get("/v1/cost-tickets/{id}", read_ticket)
            .tag("gateway")
            .summary("A cost ticket")
            .roles(roles),
    ]
}

fn read_scope(principal: &Principal) -> ApiResult<SpendScope> {
    if principal.has(Permission::ReadAllWallets) {
        Ok(SpendScope::Anyone)
    } else {
        spend_scope(principal)
    }
}

/// The query.
#[derive(Debug, Deserialize)]
pub struct TicketQuery {
    status: Option<String>,
    user_id: Option<String>,
    org_id: Option<String>,
    page: Option<i64>,
    per_page: Option<i64>,
}

/// A page of tickets.
#[derive(Debug, Serialize)]
pub struct TicketList {
    cost_tickets: Vec<CostTicketView>,
    total: u64,
    has_more: bool,
}

async fn list_tickets(
    State(state): State<AppState>,
    principal: Principal,
    Query(query): Query<TicketQuery>,
) -> ApiResult<axum::Json<TicketList>> {
    let scope = read_scope(&principal)?;
    let page = PageParams {
        page: query.page,
        per_page: query.per_page,
    }
    .to_request()?;
    let status = query
        .status
        .as_deref()
        .map(|text| {
            CostTicketStatus::parse(text).ok_or_else(|| {
                ApiError::invalid(
                    "status",
                    format!("unknown status `{text}`; one of open, resolved, expired, canceled"),
                )
            })
        })
        .transpose()?;
    let mut user_id = query_user(query.user_id.as_deref())?;
    if let SpendScope::OnlyFor(own) = &scope {
        scope.check(user_id.as_ref().or(Some(own)))?;
        user_id = Some(own.clone());
    }
    let org_id = match (&query.org_id, principal.is_platform()) {
        (Some(text), true) => Some(parse_id("org_id", text)?),
        (None, true) => None,
        (_, false) => Some(principal.own_org()?.clone()),
    };
    let filter = CostTicketFilter {
        org_id,
        status,
        user_id,
        page,
    };
    let tickets = state.ledger.store().list_cost_tickets(&filter).await?;
    let now = state.ledger.clock().now();
    Ok(axum::Json(TicketList {
        has_more: tickets.has_more(page),
        total: tickets.total,
        cost_tickets: tickets
            .items
            .iter()
            .map(|ticket| CostTicketView::of(ticket, now))
            .collect(),
    }))
}

async fn read_ticket(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<CostTicketView>> {
    let scope = read_scope(&principal)?;
    let id: CostTicketId = path_id("cost_ticket", &id)?;
    let ticket = state
        .ledger
        .store()
        .cost_ticket(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("cost_ticket", id.as_str()))?;
    principal.check_org(&ticket.org_id, "cost_ticket", id.as_str())?;
    scope.check(ticket.user_id.as_ref())?;
    let now = state.ledger.clock().now();
    Ok(axum::Json(CostTicketView::of(&ticket, now)))
}
