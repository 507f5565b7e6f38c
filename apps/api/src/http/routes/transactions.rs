//! `GET /v1/wallets/{id}/transactions`: a wallet's journal lines, newest first.

use axum::extract::State;
use ledger_core::journal::EntryKind;
use ledger_core::ports::WalletLineFilter;
use ledger_core::wallet::Wallet;
use serde::{Deserialize, Serialize};

use super::wallets::load_wallet;
use super::{RouteSpec, get};
use crate::http::AppState;
use crate::http::auth::Principal;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{PageParams, Path, Query, RangeEnd, parse_date_bound};
use crate::http::views::TransactionView;

/// The routes of this file.
pub fn routes() -> Vec<RouteSpec> {
    vec![
        get("/v1/wallets/{id}/transactions", wallet_transactions)
            .tag("wallets")
            .summary("A wallet's journal lines, newest first; filters kind, from_date, to_date")
            .roles("any that may see the wallet"),
    ]
}

/// The query.
#[derive(Debug, Deserialize)]
pub struct TransactionQuery {
    kind: Option<String>,
    from_date: Option<String>,
    to_date: Option<String>,
    page: Option<i64>,
    per_page: Option<i64>,
}

/// A page of lines.
#[derive(Debug, Serialize)]
pub struct TransactionList {
    transactions: Vec<TransactionView>,
    total: u64,
    has_more: bool,
}

/// Lists a wallet's lines (the caller has been allowed to see it).
pub async fn list_lines(
    state: &AppState,
    wallet: &Wallet,
    query: TransactionQuery,
) -> ApiResult<TransactionList> {
    let page = PageParams {
        page: query.page,
        per_page: query.per_page,
    }
    .to_request()?;
    let kind = query
        .kind
        .as_deref()
        .map(|text| {
            EntryKind::parse(text)
                .ok_or_else(|| ApiError::invalid("kind", format!("unknown kind `{text}`")))
        })
        .transpose()?;
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
    let filter = WalletLineFilter {
        wallet_id: wallet.id.clone(),
        kind,
        from,
        to,
        page,
    };
    let lines = state.ledger.store().wallet_lines(&filter).await?;
    Ok(TransactionList {
        has_more: lines.has_more(page),
        total: lines.total,
        transactions: lines.items.iter().map(TransactionView::of).collect(),
    })
}

async fn wallet_transactions(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Query(query): Query<TransactionQuery>,
) -> ApiResult<axum::Json<TransactionList>> {
    let wallet = load_wallet(&state, &principal, &id).await?;
    principal.check_wallet_visible(&wallet)?;
    Ok(axum::Json(list_lines(&state, &wallet, query).await?))
}
