//! Wallets: create, list, read, patch, lifecycle, credit, debit, allocate, reclaim.

use axum::extract::State;
use axum::http::StatusCode;
use ledger_core::id::{OrgId, TeamId, UserId, WalletId};
use ledger_core::money::Currency;
use ledger_core::ports::WalletFilter;
use ledger_core::service::{AllocationResult, NewWallet, WalletPatch};
use ledger_core::wallet::{FeeType, Owner, OwnerType, Wallet, WalletStatus};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::rules::{Strictness, parse_rules};
use super::{RouteSpec, get, patch, post};
use crate::http::AppState;
use crate::http::auth::{Permission, Principal};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{
    Amount, Json, PageParams, Path, Query, credits_or_zero, parse_id, parse_timestamp, path_id,
};
use crate::http::views::WalletView;

/// The routes of this file.
pub fn routes() -> Vec<RouteSpec> {
    let tag = "wallets";
    vec![
        post("/v1/wallets", create_wallet)
            .created()
            .idempotent()
            .tag(tag)
            .summary("Create a wallet with opening paid and granted credits")
            .roles("billing_admin, org_admin, platform_admin"),
        get("/v1/wallets", list_wallets)
            .tag(tag)
            .summary("The wallets the caller may see; filters owner_type, owner_id, status")
            .roles("any"),
        get("/v1/wallets/{id}", read_wallet)
            .tag(tag)
            .summary("A wallet")
            .roles("any that may see it"),
        patch("/v1/wallets/{id}", patch_wallet)
            .tag(tag)
            .summary("Change name, expiration_at, priority, applies_to, rules")
            .roles("billing_admin, org_admin, platform_admin"),
        post("/v1/wallets/{id}/activate", activate_wallet)
            .tag(tag)
            .summary("PENDING → ACTIVE")
            .roles("billing_admin, org_admin, platform_admin"),
        post("/v1/wallets/{id}/terminate", terminate_wallet)
            .tag(tag)
            .summary("→ TERMINATED; holds released, credits forfeited")
            .roles("billing_admin, org_admin, platform_admin"),
        post("/v1/wallets/credit", credit_wallet)
            .idempotent()
            .tag(tag)
            .summary("Add paid and/or granted credits")
            .roles("billing_admin, org_admin, platform_admin"),
        post("/v1/wallets/{id}/debit", debit_wallet)
            .idempotent()
            .tag(tag)
            .summary("Remove credits; never below zero")
            .roles("billing_admin, org_admin, platform_admin"),
        post("/v1/wallets/allocate", allocate)
            .idempotent()
            .tag(tag)
            .summary("Move credits down the tree (organization → team → user)")
            .roles("billing_admin, org_admin, team_owner (from its team's wallet), platform_admin"),
        post("/v1/wallets/reclaim", reclaim)
            .idempotent()
            .tag(tag)
            .summary("Move unused credits back up the tree")
            .roles("billing_admin, org_admin, platform_admin"),
    ]
}

/// Reads a wallet of the caller's organization (404 for another organization's), without
/// checking the caller may see it.
pub async fn load_wallet(state: &AppState, principal: &Principal, id: &str) -> ApiResult<Wallet> {
    let wallet_id: WalletId = path_id("wallet", id)?;
    load_wallet_id(state, principal, &wallet_id).await
}

/// As [`load_wallet`], for a parsed id.
pub async fn load_wallet_id(
    state: &AppState,
    principal: &Principal,
    wallet_id: &WalletId,
) -> ApiResult<Wallet> {
    let wallet = state
        .ledger
        .store()
        .wallet(wallet_id)
        .await?
        .ok_or_else(|| ApiError::not_found("wallet", wallet_id.as_str()))?;
    principal.check_org(&wallet.org_id, "wallet", wallet_id.as_str())?;
    Ok(wallet)
}

/// The view of a wallet, with its organization's low-balance threshold.
pub async fn render(state: &AppState, wallet: &Wallet) -> ApiResult<WalletView> {
    let settings = state.directory.wallet_settings(&wallet.org_id).await?;
    Ok(WalletView::of(wallet, settings.low_balance_threshold))
}

/// Checks an owner exists in the caller's organization; answers its organization.
pub async fn resolve_owner(
    state: &AppState,
    principal: &Principal,
    owner: &Owner,
) -> ApiResult<OrgId> {
    let id = owner.id_str();
    let org_id = match owner {
        Owner::User(user_id) => state.directory.user(user_id).await?.map(|user| user.org_id),
        Owner::Team(team_id) => state.directory.team(team_id).await?.map(|team| team.org_id),
        Owner::Organization(org_id) => state.directory.org(org_id).await?.map(|org| org.id),
    };
    let kind = owner.owner_type().as_str();
    let org_id = org_id.ok_or_else(|| ApiError::not_found(kind, id))?;
    principal.check_org(&org_id, kind, id)?;
    Ok(org_id)
}

/// The fee types a wallet pays, as given.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppliesToInput {
    /// The fee types.
    pub fee_types: Vec<FeeType>,
}

/// Deserializes a field where `null` and absent differ (`Some(None)` is an explicit null).
pub fn explicit_null<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// `POST /v1/wallets` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewWalletBody {
    owner_type: OwnerType,
    owner_id: String,
    name: Option<String>,
    currency: Currency,
    rate_amount: Amount,
    paid_credits: Option<Amount>,
    granted_credits: Option<Amount>,
    expiration_at: Option<String>,
    activates_at: Option<String>,
    priority: Option<i32>,
    applies_to: Option<AppliesToInput>,
    recurring_transaction_rules: Option<Vec<Value>>,
}

/// What both wallet-creating routes share once their bodies are read.
#[derive(Debug)]
pub struct WalletDraft {
    /// The owner.
    pub owner: Owner,
    /// A display name.
    pub name: Option<String>,
    /// The currency.
    pub currency: Currency,
    /// Money per credit.
    pub rate_amount: Amount,
    /// Opening paid credits.
    pub paid_credits: Option<Amount>,
    /// Opening granted credits.
    pub granted_credits: Option<Amount>,
    /// RFC 3339.
    pub expiration_at: Option<String>,
    /// RFC 3339.
    pub activates_at: Option<String>,
    /// Priority inside its owner.
    pub priority: Option<i32>,
    /// Fee types.
    pub fee_types: Vec<FeeType>,
    /// Rules as given.
    pub rules: Vec<Value>,
    /// How strictly rules are read.
    pub strictness: Strictness,
}

/// Checks a wallet name.
pub fn check_wallet_name(name: Option<String>) -> ApiResult<Option<String>> {
    match name {
        Some(name) if name.chars().count() > 200 => Err(ApiError::invalid(
            "name",
            "name must be at most 200 characters",
        )),
        other => Ok(other),
    }
}

/// Creates a wallet from a draft after checking the owner; answers 201 with the wallet.
pub async fn create_from_draft(
    state: &AppState,
    principal: &Principal,
    draft: WalletDraft,
) -> ApiResult<(StatusCode, axum::Json<WalletView>)> {
    let org_id = resolve_owner(state, principal, &draft.owner).await?;
    let new = NewWallet {
        org_id,
        owner: draft.owner,
        name: check_wallet_name(draft.name)?,
        currency: draft.currency,
        rate_amount: draft.rate_amount.0,
        paid: credits_or_zero(draft.paid_credits, "paid_credits")?,
        granted: credits_or_zero(draft.granted_credits, "granted_credits")?,
        expiration_at: draft
            .expiration_at
            .as_deref()
            .map(|text| parse_timestamp("expiration_at", text))
            .transpose()?,
        activates_at: draft
            .activates_at
            .as_deref()
            .map(|text| parse_timestamp("activates_at", text))
            .transpose()?,
        priority: draft.priority.unwrap_or(0),
        fee_types: draft.fee_types,
        rules: parse_rules(draft.rules, draft.strictness, &[])?,
        principal: principal.journal_name(),
    };
    super::rules::check_payment_methods(state, &new.org_id, &new.rules).await?;
    let wallet = state.ledger.create_wallet(&new).await?;
    tracing::info!(wallet.id = %wallet.id, "wallet created");
    Ok((
        StatusCode::CREATED,
        axum::Json(render(state, &wallet).await?),
    ))
}

async fn create_wallet(
    State(state): State<AppState>,
    principal: Principal,
    Json(body): Json<NewWalletBody>,
) -> ApiResult<(StatusCode, axum::Json<WalletView>)> {
    principal.require(Permission::ManageWallets)?;
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
        strictness: Strictness::Strict,
    };
    create_from_draft(&state, &principal, draft).await
}

/// `GET /v1/wallets` query.
#[derive(Debug, Deserialize)]
pub struct WalletListQuery {
    owner_type: Option<OwnerType>,
    owner_id: Option<String>,
    status: Option<String>,
    org_id: Option<String>,
    page: Option<i64>,
    per_page: Option<i64>,
}

/// A page of wallets.
#[derive(Debug, Serialize)]
pub struct WalletList {
    wallets: Vec<WalletView>,
    total: u64,
    has_more: bool,
}

/// Parses a wallet status filter in either case.
pub fn parse_status(text: Option<&str>) -> ApiResult<Option<WalletStatus>> {
    text.map(|text| {
        WalletStatus::parse(&text.to_uppercase()).ok_or_else(|| {
            ApiError::invalid(
                "status",
                format!("unknown status `{text}`; one of PENDING, ACTIVE, TERMINATED"),
            )
        })
    })
    .transpose()
}

/// Lists wallets with a filter and renders the page.
pub async fn list_page(state: &AppState, filter: WalletFilter) -> ApiResult<WalletList> {
    let page = state.ledger.store().list_wallets(&filter).await?;
    let mut wallets = Vec::with_capacity(page.items.len());
    for wallet in &page.items {
        wallets.push(render(state, wallet).await?);
    }
    Ok(WalletList {
        has_more: page.has_more(filter.page),
        total: page.total,
        wallets,
    })
}

async fn list_wallets(
    State(state): State<AppState>,
    principal: Principal,
    Query(query): Query<WalletListQuery>,
) -> ApiResult<axum::Json<WalletList>> {
    let page = PageParams {
        page: query.page,
        per_page: query.per_page,
    }
    .to_request()?;
    let org_id = match (&query.org_id, principal.is_platform()) {
        (Some(text), true) => Some(parse_id::<OrgId>("org_id", text)?),
        (None, true) => None,
        (_, false) => Some(principal.own_org()?.clone()),
    };
    let visible_to = if principal.has(Permission::ReadAllWallets) {
        None
    } else {
        Some(principal.visible_owners())
    };
    let filter = WalletFilter {
        org_id,
        owner_type: query.owner_type,
        owner_id: query.owner_id,
        status: parse_status(query.status.as_deref())?,
        visible_to,
        page,
    };
    Ok(axum::Json(list_page(&state, filter).await?))
}

async fn read_wallet(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<WalletView>> {
    let wallet = load_wallet(&state, &principal, &id).await?;
    principal.check_wallet_visible(&wallet)?;
    Ok(axum::Json(render(&state, &wallet).await?))
}

/// `PATCH /v1/wallets/{id}` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WalletPatchBody {
    #[serde(default, deserialize_with = "explicit_null")]
    name: Option<Option<String>>,
    #[serde(default, deserialize_with = "explicit_null")]
    expiration_at: Option<Option<String>>,
    priority: Option<i32>,
    applies_to: Option<AppliesToInput>,
    recurring_transaction_rules: Option<Vec<Value>>,
}

async fn patch_wallet(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Json(body): Json<WalletPatchBody>,
) -> ApiResult<axum::Json<WalletView>> {
    principal.require(Permission::ManageWallets)?;
    let wallet = load_wallet(&state, &principal, &id).await?;
    let patch = WalletPatch {
        name: body.name.map(check_wallet_name).transpose()?,
        expiration_at: body
            .expiration_at
            .map(|value| {
                value
                    .as_deref()
                    .map(|text| parse_timestamp("expiration_at", text))
                    .transpose()
            })
            .transpose()?,
        priority: body.priority,
        fee_types: body.applies_to.map(|applies| applies.fee_types),
        rules: body
            .recurring_transaction_rules
            .map(|rules| parse_rules(rules, Strictness::Strict, &wallet.rules))
            .transpose()?,
    };
    if let Some(rules) = &patch.rules {
        super::rules::check_payment_methods(&state, &wallet.org_id, rules).await?;
    }
    let wallet = state.ledger.patch_wallet(&wallet.id, &patch).await?;
    Ok(axum::Json(render(&state, &wallet).await?))
}

async fn activate_wallet(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<WalletView>> {
    principal.require(Permission::ManageWallets)?;
    let wallet = load_wallet(&state, &principal, &id).await?;
    let wallet = state.ledger.activate(&wallet.id).await?;
    Ok(axum::Json(render(&state, &wallet).await?))
}

async fn terminate_wallet(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<WalletView>> {
    principal.require(Permission::ManageWallets)?;
    let wallet = load_wallet(&state, &principal, &id).await?;
    let wallet = state
        .ledger
        .terminate(&wallet.id, &principal.journal_name())
        .await?;
    tracing::info!(wallet.id = %wallet.id, "wallet terminated");
    Ok(axum::Json(render(&state, &wallet).await?))
}

/// `POST /v1/wallets/credit` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreditBody {
    wallet_id: String,
    paid_credits: Option<Amount>,
    granted_credits: Option<Amount>,
    reason: Option<String>,
}

/// Credits a wallet the caller has already been allowed to credit.
pub async fn credit(
    state: &AppState,
    principal: &Principal,
    body: CreditBody,
) -> ApiResult<axum::Json<WalletView>> {
    let wallet_id: WalletId = parse_id("wallet_id", &body.wallet_id)?;
    let paid = credits_or_zero(body.paid_credits, "paid_credits")?;
    let granted = credits_or_zero(body.granted_credits, "granted_credits")?;
    let wallet = load_wallet_id(state, principal, &wallet_id).await?;
    let wallet = state
        .ledger
        .credit(&wallet.id, paid, granted, &principal.journal_name())
        .await?;
    tracing::info!(wallet.id = %wallet.id, %paid, %granted, reason = body.reason.as_deref().unwrap_or(""), "wallet credited");
    Ok(axum::Json(render(state, &wallet).await?))
}

async fn credit_wallet(
    State(state): State<AppState>,
    principal: Principal,
    Json(body): Json<CreditBody>,
) -> ApiResult<axum::Json<WalletView>> {
    principal.require(Permission::ManageWallets)?;
    credit(&state, &principal, body).await
}

/// `POST /v1/wallets/{id}/debit` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DebitBody {
    paid_credits: Option<Amount>,
    granted_credits: Option<Amount>,
    reason: Option<String>,
}

async fn debit_wallet(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Json(body): Json<DebitBody>,
) -> ApiResult<axum::Json<WalletView>> {
    principal.require(Permission::ManageWallets)?;
    let paid = credits_or_zero(body.paid_credits, "paid_credits")?;
    let granted = credits_or_zero(body.granted_credits, "granted_credits")?;
    let wallet = load_wallet(&state, &principal, &id).await?;
    let wallet = state
        .ledger
        .debit(&wallet.id, paid, granted, &principal.journal_name())
        .await?;
    tracing::info!(wallet.id = %wallet.id, %paid, %granted, reason = body.reason.as_deref().unwrap_or(""), "wallet debited");
    Ok(axum::Json(render(&state, &wallet).await?))
}

/// `POST /v1/wallets/allocate` and `/reclaim` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferBody {
    from_wallet_id: String,
    to_wallet_id: String,
    amount: Option<Amount>,
}

/// Both wallets after a transfer.
#[derive(Debug, Serialize)]
pub struct TransferView {
    from_wallet: WalletView,
    to_wallet: WalletView,
}

async fn render_transfer(state: &AppState, result: &AllocationResult) -> ApiResult<TransferView> {
    Ok(TransferView {
        from_wallet: render(state, &result.from_wallet).await?,
        to_wallet: render(state, &result.to_wallet).await?,
    })
}

async fn transfer_wallets(
    state: &AppState,
    principal: &Principal,
    body: &TransferBody,
) -> ApiResult<(Wallet, Wallet)> {
    let from_id: WalletId = parse_id("from_wallet_id", &body.from_wallet_id)?;
    let to_id: WalletId = parse_id("to_wallet_id", &body.to_wallet_id)?;
    let from = load_wallet_id(state, principal, &from_id).await?;
    let to = load_wallet_id(state, principal, &to_id).await?;
    Ok((from, to))
}

/// A team owner may allocate from its team's wallet to wallets of the team's users.
async fn check_team_owner_allocation(
    state: &AppState,
    principal: &Principal,
    from: &Wallet,
    to: &Wallet,
) -> ApiResult<()> {
    let forbidden = || {
        ApiError::forbidden("only a team owner may allocate, from its team's wallet to its users")
    };
    let Owner::Team(team_id) = &from.owner else {
        return Err(forbidden());
    };
    if !principal.owns_team(team_id) {
        return Err(forbidden());
    }
    if let Owner::User(user_id) = &to.owner {
        let member = state
            .directory
            .user(user_id)
            .await?
            .is_some_and(|user| user.is_in_team(team_id));
        if !member {
            return Err(forbidden());
        }
    }
    Ok(())
}

async fn allocate(
    State(state): State<AppState>,
    principal: Principal,
    Json(body): Json<TransferBody>,
) -> ApiResult<axum::Json<TransferView>> {
    let amount = body
        .amount
        .ok_or_else(|| ApiError::invalid("amount", "amount is required"))?
        .positive_credits("amount")?;
    let manages = principal.has(Permission::ManageWallets);
    if !manages
        && principal
            .user
            .as_ref()
            .is_none_or(|user| user.team_owner_of.is_empty())
    {
        return Err(ApiError::forbidden(format!(
            "a {} token may not allocate",
            principal.role
        )));
    }
    let (from, to) = transfer_wallets(&state, &principal, &body).await?;
    if !manages {
        check_team_owner_allocation(&state, &principal, &from, &to).await?;
    }
    let result = state
        .ledger
        .allocate(&from.id, &to.id, amount, &principal.journal_name())
        .await?;
    Ok(axum::Json(render_transfer(&state, &result).await?))
}

async fn reclaim(
    State(state): State<AppState>,
    principal: Principal,
    Json(body): Json<TransferBody>,
) -> ApiResult<axum::Json<TransferView>> {
    principal.require(Permission::ManageWallets)?;
    let amount = body
        .amount
        .map(|amount| amount.positive_credits("amount"))
        .transpose()?;
    let (from, to) = transfer_wallets(&state, &principal, &body).await?;
    let result = state
        .ledger
        .reclaim(&from.id, &to.id, amount, &principal.journal_name())
        .await?;
    Ok(axum::Json(render_transfer(&state, &result).await?))
}

/// Parses a user id of a query.
pub fn query_user(text: Option<&str>) -> ApiResult<Option<UserId>> {
    text.map(|text| parse_id("user_id", text)).transpose()
}

/// Parses a team id of a query.
pub fn query_team(text: Option<&str>) -> ApiResult<Option<TeamId>> {
    text.map(|text| parse_id("team_id", text)).transpose()
}
