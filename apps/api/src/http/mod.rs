//! The HTTP layer: state, router, middleware. Handlers live in `routes/`, one file per
//! resource; the route table in `routes/mod.rs` is the single list the router and the OpenAPI
//! document are both built from.

pub mod auth;
pub mod error;
pub mod extract;
pub mod idempotency;
pub mod openapi;
pub mod routes;
pub mod views;

use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::http::{Request, StatusCode, header};
use axum::middleware::{from_fn_with_state, map_response};
use axum::response::{IntoResponse, Response};
use ledger_core::Ledger;
use ledger_core::payments::Payments;
use ledger_core::ports::{DirectoryStore, IdempotencyStore, PaymentStore};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::clock::TestClock;
use crate::payments_config::ProviderRegistry;
use crate::wiring::Readiness;
use error::ApiError;

/// What every handler shares. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState(Arc<AppStateInner>);

/// The contents of [`AppState`].
#[derive(Debug)]
pub struct AppStateInner {
    /// The ledger service.
    pub ledger: Ledger,
    /// Organizations, teams, users, tokens, wallet settings.
    pub directory: Arc<dyn DirectoryStore>,
    /// Idempotency keys.
    pub idempotency: Arc<dyn IdempotencyStore>,
    /// The payments service (checkout sessions, webhooks, refunds, the payment sweep).
    pub payments: Payments,
    /// Payment sessions, saved payment methods and settings documents.
    pub payment_store: Arc<dyn PaymentStore>,
    /// The providers of the stored payment configuration.
    pub providers: Arc<ProviderRegistry>,
    /// What `/readyz` asks.
    pub readiness: Arc<dyn Readiness>,
    /// The SHA-256 of `PURSE_BOOTSTRAP_TOKEN`.
    pub bootstrap_token_hash: Option<String>,
    /// The test clock, only with `PURSE_TEST_CLOCK=1`.
    pub test_clock: Option<Arc<TestClock>>,
    /// The largest request body.
    pub body_limit_bytes: usize,
    /// How long an idempotency claim may stay in flight before another request takes it over.
    pub idempotency_stale_after: time::Duration,
    /// The per-request timeout.
    pub request_timeout: Duration,
    /// Held by every sweep of background work in this process, so the test clock's advance
    /// answers only after a worker sweep already in flight (say, mid-way through charging a
    /// saved method) has finished, and then runs its own.
    pub sweeps: tokio::sync::Mutex<()>,
}

impl AppState {
    /// Wraps the contents.
    pub fn new(inner: AppStateInner) -> Self {
        Self(Arc::new(inner))
    }
}

impl Deref for AppState {
    type Target = AppStateInner;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

/// The whole application: public and authenticated routes with their middleware.
pub fn router(state: AppState) -> Router {
    let mut public = Router::new();
    let mut protected = Router::new();
    for spec in routes::table(state.test_clock.is_some()) {
        let mut handler = spec.handler;
        if spec.idempotent {
            handler =
                handler.route_layer(from_fn_with_state(state.clone(), idempotency::idempotency));
        }
        if spec.auth {
            protected = protected.route(spec.path, handler);
        } else {
            public = public.route(spec.path, handler);
        }
    }
    let protected = protected.route_layer(from_fn_with_state(state.clone(), auth::authenticate));
    public
        .merge(protected)
        .fallback(route_not_found)
        .layer(DefaultBodyLimit::max(state.body_limit_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            state.request_timeout,
        ))
        .layer(map_response(ensure_envelope))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request<Body>| {
                    tracing::info_span!(
                        "request",
                        method = %request.method(),
                        path = %request.uri().path(),
                        principal.role = tracing::field::Empty,
                    )
                })
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .with_state(state)
}

async fn route_not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "route_not_found", "no such route")
}

/// Puts the error envelope on error answers made outside our handlers (405 from the router,
/// 503 from the timeout), so every error a client sees has one shape.
async fn ensure_envelope(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (code, message) = match status {
        StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "this route takes another method"),
        StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "the request body is too large"),
        StatusCode::SERVICE_UNAVAILABLE => ("request_timeout", "the request took too long"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ("unsupported_media_type", "send JSON"),
        _ if status.is_server_error() => ("internal_error", "the server failed to answer"),
        _ => ("invalid_request", "the request was refused"),
    };
    let mut fixed = ApiError::new(status, code, message).into_response();
    for (name, value) in response.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            fixed.headers_mut().insert(name.clone(), value.clone());
        }
    }
    fixed
}
