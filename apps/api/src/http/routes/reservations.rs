//! `GET /v1/reservations/{id}`.

use axum::extract::State;
use ledger_core::id::ReservationId;

use super::gateway::{SpendScope, load_reservation, spend_scope};
use super::{RouteSpec, get};
use crate::http::AppState;
use crate::http::auth::{Permission, Principal};
use crate::http::error::ApiResult;
use crate::http::extract::{Path, path_id};
use crate::http::views::ReservationView;

/// The routes of this file.
pub fn routes() -> Vec<RouteSpec> {
    vec![
        get("/v1/reservations/{id}", read_reservation)
            .tag("gateway")
            .summary("A reservation (held past expires_at reads as expired)")
            .roles("gateway, billing_admin, org_admin, platform_admin; a user's token for its own"),
    ]
}

async fn read_reservation(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<ReservationView>> {
    let scope = if principal.has(Permission::ReadAllWallets) {
        SpendScope::Anyone
    } else {
        spend_scope(&principal)?
    };
    let id: ReservationId = path_id("reservation", &id)?;
    let reservation = load_reservation(&state, &principal, &scope, &id).await?;
    let now = state.ledger.clock().now();
    Ok(axum::Json(ReservationView::of(&reservation, now)))
}
