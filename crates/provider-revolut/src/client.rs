//! The reqwest calls: base URL injected, secret key and API version attached, bounded retries
//! for safe calls.

use std::time::Duration;

use ledger_core::ProviderError;
use reqwest::Method;

use crate::Secret;
use crate::error::transport;
use crate::wire::api;

/// Whether repeating a request can do something twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Safety {
    /// A read, a delete, a cancel (a second one is refused), a refund with an
    /// `Idempotency-Key`, or a payment on an order (an order accepts one successful payment).
    Idempotent,
    /// Creating an order: Revolut has no idempotency for it.
    NotIdempotent,
}

/// An answer, read to the end.
#[derive(Debug)]
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) body: Vec<u8>,
}

/// The HTTP side of the adapter.
#[derive(Debug)]
pub(crate) struct RevolutClient {
    pub(crate) http: reqwest::Client,
    pub(crate) base_url: String,
    pub(crate) secret_key: Secret,
    pub(crate) api_version: String,
    pub(crate) max_retries: u32,
    pub(crate) backoff: Duration,
}

impl RevolutClient {
    /// Sends a call, repeating safe ones on 5xx, timeouts and connection failures with
    /// exponential backoff; unsafe ones only when they certainly never left.
    pub(crate) async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
        idempotency_key: Option<&str>,
        safety: Safety,
    ) -> Result<Response, ProviderError> {
        let url = format!("{}{}", self.base_url, path);
        let mut attempt = 0;
        loop {
            let may_retry = attempt < self.max_retries;
            let backoff = self.backoff.saturating_mul(2_u32.saturating_pow(attempt));
            attempt += 1;
            let mut request = self
                .http
                .request(method.clone(), &url)
                .bearer_auth(self.secret_key.expose())
                .header(api::API_VERSION, &self.api_version);
            if let Some(key) = idempotency_key {
                request = request.header(api::IDEMPOTENCY_KEY, key);
            }
            if let Some(body) = &body {
                request = request
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.clone());
            }
            let error = match request.send().await {
                Ok(response) => {
                    let status = response.status().as_u16();
                    match response.bytes().await {
                        Ok(bytes) => {
                            if status >= 500 && may_retry && safety == Safety::Idempotent {
                                tracing::warn!(
                                    status,
                                    path,
                                    "revolut answered a server error, retrying"
                                );
                                tokio::time::sleep(backoff).await;
                                continue;
                            }
                            tracing::debug!(%method, path, status, "revolut call answered");
                            return Ok(Response {
                                status,
                                body: bytes.to_vec(),
                            });
                        }
                        Err(error) => error,
                    }
                }
                Err(error) => error,
            };
            let never_sent = error.is_connect();
            if may_retry && (safety == Safety::Idempotent || never_sent) {
                tracing::warn!(error = %error.without_url(), path, "revolut call failed, retrying");
                tokio::time::sleep(backoff).await;
                continue;
            }
            return Err(transport(error));
        }
    }
}
