//! The AI gateway's calls: reserve, settle, release, redeem-ticket. A `gateway` token acts for
//! any user of its organization; a user's token acts for itself.

use axum::extract::State;
use axum::http::StatusCode;
use ledger_core::cascade::CascadeScope;
use ledger_core::id::{CostTicketId, ReservationId, TeamId, UserId};
use ledger_core::money::Currency;
use ledger_core::reservation::Reservation;
use ledger_core::service::ReserveRequest;
use ledger_core::wallet::FeeType;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{RouteSpec, post};
use crate::http::AppState;
use crate::http::auth::{Permission, Principal};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Amount, Json, parse_id};
use crate::http::views::{ReservationView, SettlementView};

/// The longest `metadata` accepted, as JSON text.
pub const METADATA_LEN_MAX: usize = 4096;

/// The routes of this file.
pub fn routes() -> Vec<RouteSpec> {
    let tag = "gateway";
    let roles = "gateway (any user of its organization), org_admin, a user's token for itself";
    vec![
        post("/v1/gateway/wallets/reserve", reserve)
            .created()
            .idempotent()
            .tag(tag)
            .summary("Hold credits on the first wallet of the cascade that covers them; 402 with a cost ticket when none does")
            .roles(roles),
        post("/v1/gateway/wallets/settle", settle)
            .idempotent()
            .tag(tag)
            .summary("Charge the actual cost of a held reservation and release the rest")
            .roles(roles),
        post("/v1/gateway/wallets/release", release)
            .idempotent()
            .tag(tag)
            .summary("Return a reservation's whole hold (an expired one answers with status expired; a settled one is 409)")
            .roles(roles),
        post("/v1/gateway/wallets/redeem-ticket", redeem_ticket)
            .created()
            .idempotent()
            .tag(tag)
            .summary("Retry a cost ticket's held reserve")
            .roles(roles),
    ]
}

/// Checks the caller may spend at all; answers whether only for itself.
pub fn spend_scope(principal: &Principal) -> ApiResult<SpendScope> {
    if principal.has(Permission::SpendForAnyone) {
        return Ok(SpendScope::Anyone);
    }
    principal.require(Permission::SpendForSelf)?;
    let user = principal
        .user_id()
        .ok_or_else(|| ApiError::forbidden("this token acts as no user"))?;
    Ok(SpendScope::OnlyFor(user.clone()))
}

/// For whom a caller may reserve and settle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpendScope {
    /// Any user of its organization.
    Anyone,
    /// Only this user.
    OnlyFor(UserId),
}

impl SpendScope {
    /// 403 when the caller may not act on a hold or ticket of `user`.
    pub fn check(&self, user: Option<&UserId>) -> ApiResult<()> {
        match self {
            Self::Anyone => Ok(()),
            Self::OnlyFor(own) if user == Some(own) => Ok(()),
            Self::OnlyFor(_) => Err(ApiError::forbidden(
                "a user's token acts only for that user",
            )),
        }
    }
}

/// `POST /v1/gateway/wallets/reserve` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReserveBody {
    user_id: Option<String>,
    team_id: Option<String>,
    amount: Amount,
    currency: Option<Currency>,
    fee_type: Option<FeeType>,
    ttl_seconds: Option<i64>,
    metadata: Option<Value>,
}

async fn reserve(
    State(state): State<AppState>,
    principal: Principal,
    Json(body): Json<ReserveBody>,
) -> ApiResult<(StatusCode, axum::Json<ReservationView>)> {
    let scope = spend_scope(&principal)?;
    let amount = body.amount.positive_credits("amount")?;
    let user_id: UserId = match (&body.user_id, &scope) {
        (Some(text), _) => parse_id("user_id", text)?,
        (None, SpendScope::OnlyFor(own)) => own.clone(),
        (None, SpendScope::Anyone) => principal
            .user_id()
            .cloned()
            .ok_or_else(|| ApiError::invalid("user_id", "user_id is required"))?,
    };
    scope.check(Some(&user_id))?;
    let user = state
        .directory
        .user(&user_id)
        .await?
        .ok_or_else(|| ApiError::not_found("user", user_id.as_str()))?;
    principal.check_org(&user.org_id, "user", user_id.as_str())?;
    let team_id: Option<TeamId> = body
        .team_id
        .as_deref()
        .map(|text| parse_id("team_id", text))
        .transpose()?;
    if let Some(team_id) = &team_id {
        let team = state.directory.team(team_id).await?;
        if team.is_none_or(|team| team.org_id != user.org_id) {
            return Err(ApiError::not_found("team", team_id.as_str()));
        }
        if !user.is_in_team(team_id) {
            let message = format!("user {user_id} is not in team {team_id}");
            return Err(match scope {
                SpendScope::OnlyFor(_) => ApiError::forbidden(message),
                SpendScope::Anyone => ApiError::invalid("team_id", message),
            });
        }
    }
    let metadata = body
        .metadata
        .map(|value| {
            let text = value.to_string();
            if text.len() > METADATA_LEN_MAX {
                Err(ApiError::invalid(
                    "metadata",
                    format!("metadata is at most {METADATA_LEN_MAX} bytes of JSON"),
                ))
            } else {
                Ok(text)
            }
        })
        .transpose()?;
    let currency = match body.currency {
        Some(currency) => currency,
        None => {
            state
                .directory
                .org(&user.org_id)
                .await?
                .ok_or_else(|| ApiError::not_found("organization", user.org_id.as_str()))?
                .default_currency
        }
    };
    let request = ReserveRequest {
        scope: CascadeScope {
            org_id: user.org_id.clone(),
            user_id: Some(user_id),
            team_id,
        },
        amount,
        currency,
        fee_type: body.fee_type.unwrap_or(FeeType::Charge),
        ttl_seconds: body.ttl_seconds,
        metadata,
        principal: principal.journal_name(),
    };
    let reservation = state.ledger.reserve(&request).await?;
    tracing::info!(reservation.id = %reservation.id, wallet.id = %reservation.wallet_id, %amount, "credits reserved");
    let now = state.ledger.clock().now();
    Ok((
        StatusCode::CREATED,
        axum::Json(ReservationView::of(&reservation, now)),
    ))
}

/// Reads a reservation of the caller's organization that the caller may act on.
pub async fn load_reservation(
    state: &AppState,
    principal: &Principal,
    scope: &SpendScope,
    id: &ReservationId,
) -> ApiResult<Reservation> {
    let reservation = state
        .ledger
        .store()
        .reservation(id)
        .await?
        .ok_or_else(|| ApiError::not_found("reservation", id.as_str()))?;
    principal.check_org(&reservation.org_id, "reservation", id.as_str())?;
    scope.check(reservation.user_id.as_ref())?;
    Ok(reservation)
}

/// `POST /v1/gateway/wallets/settle` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettleBody {
    reservation_id: String,
    amount: Amount,
}

async fn settle(
    State(state): State<AppState>,
    principal: Principal,
    Json(body): Json<SettleBody>,
) -> ApiResult<axum::Json<SettlementView>> {
    let scope = spend_scope(&principal)?;
    let id: ReservationId = parse_id("reservation_id", &body.reservation_id)?;
    let amount = body.amount.credits("amount")?;
    let reservation = load_reservation(&state, &principal, &scope, &id).await?;
    let settlement = state
        .ledger
        .settle(&reservation.id, amount, &principal.journal_name())
        .await?;
    tracing::info!(reservation.id = %id, settled = %settlement.settled_amount, "reservation settled");
    Ok(axum::Json(SettlementView::of(&settlement)))
}

/// `POST /v1/gateway/wallets/release` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseBody {
    reservation_id: String,
}

/// A released reservation: `{reservation_id, status}` and the reservation's fields.
#[derive(Debug, Serialize)]
pub struct ReleaseView {
    reservation_id: String,
    #[serde(flatten)]
    reservation: ReservationView,
}

async fn release(
    State(state): State<AppState>,
    principal: Principal,
    Json(body): Json<ReleaseBody>,
) -> ApiResult<axum::Json<ReleaseView>> {
    let scope = spend_scope(&principal)?;
    let id: ReservationId = parse_id("reservation_id", &body.reservation_id)?;
    let reservation = load_reservation(&state, &principal, &scope, &id).await?;
    let reservation = state
        .ledger
        .release(&reservation.id, &principal.journal_name())
        .await?;
    let now = state.ledger.clock().now();
    Ok(axum::Json(ReleaseView {
        reservation_id: reservation.id.to_string(),
        reservation: ReservationView::of(&reservation, now),
    }))
}

/// `POST /v1/gateway/wallets/redeem-ticket` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedeemBody {
    cost_ticket_id: String,
    ttl_seconds: Option<i64>,
}

async fn redeem_ticket(
    State(state): State<AppState>,
    principal: Principal,
    Json(body): Json<RedeemBody>,
) -> ApiResult<(StatusCode, axum::Json<ReservationView>)> {
    let scope = spend_scope(&principal)?;
    let id: CostTicketId = parse_id("cost_ticket_id", &body.cost_ticket_id)?;
    let ticket = state
        .ledger
        .store()
        .cost_ticket(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("cost_ticket", id.as_str()))?;
    principal.check_org(&ticket.org_id, "cost_ticket", id.as_str())?;
    scope.check(ticket.user_id.as_ref())?;
    let reservation = state
        .ledger
        .redeem(&id, body.ttl_seconds, &principal.journal_name())
        .await?;
    tracing::info!(cost_ticket.id = %id, reservation.id = %reservation.id, "cost ticket redeemed");
    let now = state.ledger.clock().now();
    Ok((
        StatusCode::CREATED,
        axum::Json(ReservationView::of(&reservation, now)),
    ))
}
