//! `Idempotency-Key` on the POSTs that create or move credits.
//!
//! The first request with a key claims it (scoped to the caller's organization), runs, and
//! stores its answer when it is not a fault (2xx and 4xx; a 5xx frees the key for a retry).
//! The same key and body again replays the stored answer with `Idempotent-Replayed: true`;
//! another body is 422 `idempotency_key_reused`; a request while the first is running is 409
//! `idempotency_key_in_use`.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use ledger_core::ports::{IdempotencyClaim, StoredResponse};
use ring::digest;
use time::Duration;

use super::AppState;
use super::auth::Principal;
use super::error::ApiError;

/// The request header.
pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
/// The header on a replayed answer.
pub const IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// The longest key accepted.
pub const KEY_LEN_MAX: usize = 255;

/// How long keys are kept (at least; the worker purges older ones).
pub const KEY_RETENTION: Duration = Duration::hours(24);

/// The key a running request claimed, in its caller's scope: put in the request's extensions
/// for a handler that makes its own idempotent call downstream (an admin refund's provider
/// call), so it derives that call's key from exactly the key claimed here.
#[derive(Debug, Clone)]
pub struct ClaimedKey {
    scope: String,
    key: String,
}

impl ClaimedKey {
    /// A short token unique per scope and key (the key itself may be long or hold characters
    /// a provider refuses): the first 16 bytes of their SHA-256, in hex.
    pub fn digest(&self) -> String {
        let scoped = format!("{}\n{}", self.scope, self.key);
        let digest = digest::digest(&digest::SHA256, scoped.as_bytes());
        hex::encode(&digest.as_ref()[..16])
    }
}

/// Middleware of the idempotent routes (inside authentication).
pub async fn idempotency(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let Some(key) = request.headers().get(&IDEMPOTENCY_KEY) else {
        return Ok(next.run(request).await);
    };
    let key = check_key(key)?;
    let Some(principal) = request.extensions().get::<Principal>().cloned() else {
        return Ok(next.run(request).await);
    };
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, state.body_limit_bytes)
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "the request body is larger than the limit",
            )
        })?;
    let fingerprint = fingerprint(parts.method.as_str(), parts.uri.path(), &bytes);
    let scope = principal.idempotency_scope();
    let now = state.ledger.clock().now();
    let stale_before = now - state.idempotency_stale_after;
    let claim = state
        .idempotency
        .claim(&scope, &key, &fingerprint, now, stale_before)
        .await?;
    match claim {
        IdempotencyClaim::Claimed => {
            let mut request = Request::from_parts(parts, Body::from(bytes));
            request.extensions_mut().insert(ClaimedKey {
                scope: scope.clone(),
                key: key.clone(),
            });
            let response = next.run(request).await;
            store_outcome(&state, &scope, &key, response).await
        }
        IdempotencyClaim::InFlight { .. } => Err(ApiError::conflict(
            "idempotency_key_in_use",
            "a request with this Idempotency-Key is still running; retry when it is done",
        )),
        IdempotencyClaim::Completed {
            fingerprint: first,
            response,
        } => {
            if first != fingerprint {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "idempotency_key_reused",
                    "this Idempotency-Key was used with another request body",
                ));
            }
            Ok(replay(&response))
        }
    }
}

fn check_key(value: &HeaderValue) -> Result<String, ApiError> {
    let key = value
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|key| !key.is_empty() && key.len() <= KEY_LEN_MAX)
        .ok_or_else(|| {
            ApiError::invalid(
                "Idempotency-Key",
                format!("Idempotency-Key must be 1 to {KEY_LEN_MAX} visible ASCII characters"),
            )
        })?;
    Ok(key.to_owned())
}

/// The fingerprint of a request: method, path and the body's canonical JSON (so whitespace and
/// key order do not count), or its raw bytes when it is not JSON.
fn fingerprint(method: &str, path: &str, body: &[u8]) -> String {
    let canonical = serde_json::from_slice::<serde_json::Value>(body)
        .map(|value| value.to_string().into_bytes())
        .unwrap_or_else(|_| body.to_vec());
    let mut context = digest::Context::new(&digest::SHA256);
    context.update(method.as_bytes());
    context.update(b" ");
    context.update(path.as_bytes());
    context.update(b"\n");
    context.update(&canonical);
    hex::encode(context.finish())
}

async fn store_outcome(
    state: &AppState,
    scope: &str,
    key: &str,
    response: Response,
) -> Result<Response, ApiError> {
    let status = response.status();
    if status.is_server_error() {
        state.idempotency.abandon(scope, key).await?;
        return Ok(response);
    }
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .map_err(|error| ApiError::internal(&error))?;
    let stored = StoredResponse {
        status: status.as_u16(),
        body: String::from_utf8_lossy(&bytes).into_owned(),
    };
    state.idempotency.complete(scope, key, &stored).await?;
    Ok(Response::from_parts(parts, Body::from(bytes)))
}

fn replay(stored: &StoredResponse) -> Response {
    let mut response = Response::new(Body::from(stored.body.clone()));
    *response.status_mut() = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_ignore_json_whitespace_and_key_order_but_not_values() {
        let a = fingerprint("POST", "/v1/x", br#"{"a": 1, "b": "2"}"#);
        let b = fingerprint("POST", "/v1/x", br#"{"b":"2","a":1}"#);
        let c = fingerprint("POST", "/v1/x", br#"{"b":"2","a":1.0}"#);
        let d = fingerprint("POST", "/v1/y", br#"{"b":"2","a":1}"#);

        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
    }
}
