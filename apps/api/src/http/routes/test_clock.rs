//! The test clock (only with `PURSE_TEST_CLOCK=1`): read it, and move it forward, running every
//! piece of due background work before answering.

use axum::extract::State;
use ledger_core::payments::PaymentSweepReport;
use ledger_core::service::SweepReport;
use serde::{Deserialize, Serialize};

use super::{RouteSpec, get, post};
use crate::clock::ADVANCE_SECONDS_MAX;
use crate::http::AppState;
use crate::http::auth::{Permission, Principal};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::Json;
use crate::http::views::rfc3339;

/// The routes of this file.
pub fn routes() -> Vec<RouteSpec> {
    vec![
        get("/v1/admin/test-clock", read_clock)
            .tag("test clock")
            .summary("The service's clock: real time plus the offset")
            .roles("platform_admin; only with PURSE_TEST_CLOCK=1"),
        post("/v1/admin/test-clock/advance", advance)
            .tag("test clock")
            .summary("Move the clock forward and run every piece of due background work")
            .roles("platform_admin; only with PURSE_TEST_CLOCK=1"),
    ]
}

/// The clock.
#[derive(Debug, Serialize)]
pub struct ClockView {
    now: String,
    offset_seconds: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    sweep: Option<SweepReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    payment_sweep: Option<PaymentSweepReport>,
}

fn clock_view(state: &AppState, sweep: Option<SweepReport>) -> ApiResult<ClockView> {
    let clock = state
        .test_clock
        .as_ref()
        .ok_or_else(|| ApiError::not_found("route", "test-clock"))?;
    Ok(ClockView {
        now: rfc3339(state.ledger.clock().now()),
        offset_seconds: clock.offset_seconds(),
        sweep,
        payment_sweep: None,
    })
}

async fn read_clock(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<axum::Json<ClockView>> {
    principal.require(Permission::Platform)?;
    Ok(axum::Json(clock_view(&state, None)?))
}

/// The body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdvanceBody {
    seconds: i64,
}

async fn advance(
    State(state): State<AppState>,
    principal: Principal,
    Json(body): Json<AdvanceBody>,
) -> ApiResult<axum::Json<ClockView>> {
    principal.require(Permission::Platform)?;
    if !(0..=ADVANCE_SECONDS_MAX).contains(&body.seconds) {
        return Err(ApiError::invalid(
            "seconds",
            format!("seconds must be between 0 and {ADVANCE_SECONDS_MAX}"),
        ));
    }
    let clock = state
        .test_clock
        .as_ref()
        .ok_or_else(|| ApiError::not_found("route", "test-clock"))?;
    // Wait for a worker sweep in flight, so nothing it started is still half-way when we answer.
    let _sweeping = state.sweeps.lock().await;
    clock.advance(body.seconds);
    let report = state.ledger.sweep().await?;
    let payment_report = crate::worker::sweep_payments(&state).await;
    tracing::info!(
        seconds = body.seconds,
        ?report,
        ?payment_report,
        "test clock advanced"
    );
    let mut view = clock_view(&state, Some(report))?;
    view.payment_sweep = payment_report;
    Ok(axum::Json(view))
}
