//! `/healthz`, `/readyz` and `/openapi.json`: no auth.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::{RouteSpec, get};
use crate::http::AppState;
use crate::http::error::{ApiError, ApiResult};

/// The routes of this file.
pub fn routes() -> Vec<RouteSpec> {
    vec![
        get("/healthz", healthz)
            .public()
            .tag("health")
            .summary("The process is up")
            .roles("anyone, no token"),
        get("/readyz", readyz)
            .public()
            .tag("health")
            .summary("The database is reachable")
            .roles("anyone, no token"),
        get("/openapi.json", openapi)
            .public()
            .tag("health")
            .summary("This API's OpenAPI 3.1 document")
            .roles("anyone, no token"),
    ]
}

async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

async fn readyz(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    match state.readiness.ping().await {
        Ok(()) => Ok(Json(json!({"status": "ready"}))),
        Err(error) => {
            tracing::warn!(%error, "readiness check failed");
            Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "not_ready",
                "the database is unreachable",
            ))
        }
    }
}

async fn openapi(State(state): State<AppState>) -> Json<Value> {
    Json(crate::http::openapi::document(state.test_clock.is_some()))
}
