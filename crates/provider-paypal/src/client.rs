//! The reqwest calls: base URL injected, bearer token attached, bounded retries for safe calls.

use std::time::Duration;

use ledger_core::ProviderError;
use reqwest::{Method, RequestBuilder};

use crate::Secret;
use crate::auth::{Credentials, TokenCache};
use crate::error::transport;
use crate::wire::api;

/// How often and how patiently a safe call is repeated.
#[derive(Debug, Clone)]
pub(crate) struct RetryPolicy {
    /// Repeats after the first attempt.
    pub(crate) max_retries: u32,
    /// The wait before the first repeat; doubled for each further one.
    pub(crate) backoff: Duration,
}

/// Whether repeating a request can do something twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Safety {
    /// A read, a delete, or a POST carrying an idempotency key.
    Idempotent,
    /// Anything else: repeated only when it certainly never reached the provider.
    NotIdempotent,
}

/// An answer, read to the end.
#[derive(Debug)]
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) body: Vec<u8>,
    pub(crate) debug_id: Option<String>,
}

/// Sends the request `build` makes, repeating safe requests on 5xx, timeouts and connection
/// failures with exponential backoff.
pub(crate) async fn send_with_retry(
    build: impl Fn() -> RequestBuilder,
    safety: Safety,
    policy: &RetryPolicy,
) -> Result<Response, ProviderError> {
    let mut attempt = 0;
    loop {
        let may_retry = attempt < policy.max_retries;
        let backoff = policy.backoff.saturating_mul(2_u32.saturating_pow(attempt));
        attempt += 1;
        match build().send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                let debug_id = response
                    .headers()
                    .get(api::DEBUG_ID)
                    .and_then(|value| value.to_str().ok())
                    .map(str::to_owned);
                let body = match response.bytes().await {
                    Ok(body) => body.to_vec(),
                    Err(error) if may_retry && safety == Safety::Idempotent => {
                        tracing::warn!(error = %error.without_url(), "paypal answer cut off, retrying");
                        tokio::time::sleep(backoff).await;
                        continue;
                    }
                    Err(error) => return Err(transport(error)),
                };
                if status >= 500 && may_retry && safety == Safety::Idempotent {
                    tracing::warn!(status, debug_id, "paypal answered a server error, retrying");
                    tokio::time::sleep(backoff).await;
                    continue;
                }
                return Ok(Response {
                    status,
                    body,
                    debug_id,
                });
            }
            Err(error) => {
                let never_sent = error.is_connect();
                if may_retry && (safety == Safety::Idempotent || never_sent) {
                    tracing::warn!(error = %error.without_url(), "paypal call failed, retrying");
                    tokio::time::sleep(backoff).await;
                    continue;
                }
                return Err(transport(error));
            }
        }
    }
}

/// One PayPal REST call.
#[derive(Debug)]
pub(crate) struct Call<'a> {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) body: Option<Vec<u8>>,
    /// `PayPal-Request-Id`: makes a POST safe to repeat.
    pub(crate) request_id: Option<&'a str>,
    /// Whether the POST is a pure read (webhook verification) and so safe to repeat.
    pub(crate) read_only: bool,
}

impl<'a> Call<'a> {
    pub(crate) fn get(path: String) -> Self {
        Self {
            method: Method::GET,
            path,
            body: None,
            request_id: None,
            read_only: true,
        }
    }

    pub(crate) fn delete(path: String) -> Self {
        Self {
            method: Method::DELETE,
            path,
            body: None,
            request_id: None,
            read_only: true,
        }
    }

    pub(crate) fn post(path: String, body: Vec<u8>, request_id: Option<&'a str>) -> Self {
        Self {
            method: Method::POST,
            path,
            body: Some(body),
            request_id,
            read_only: false,
        }
    }

    fn safety(&self) -> Safety {
        if self.read_only || self.request_id.is_some() {
            Safety::Idempotent
        } else {
            Safety::NotIdempotent
        }
    }
}

/// The HTTP side of the adapter.
#[derive(Debug)]
pub(crate) struct PaypalClient {
    pub(crate) http: reqwest::Client,
    pub(crate) base_url: String,
    pub(crate) client_id: String,
    pub(crate) client_secret: Secret,
    pub(crate) retry: RetryPolicy,
    pub(crate) tokens: TokenCache,
}

impl PaypalClient {
    /// Sends a call with the cached token; on 401 fetches a new token and sends it once more.
    pub(crate) async fn call(&self, call: &Call<'_>) -> Result<Response, ProviderError> {
        let url = format!("{}{}", self.base_url, call.path);
        let mut refreshed = false;
        loop {
            let token = self.tokens.token(&self.credentials()).await?;
            let response = send_with_retry(
                || {
                    let mut request = self
                        .http
                        .request(call.method.clone(), &url)
                        .bearer_auth(token.expose())
                        .header(api::PREFER, api::PREFER_REPRESENTATION);
                    if let Some(request_id) = call.request_id {
                        request = request.header(api::REQUEST_ID, request_id);
                    }
                    if let Some(body) = &call.body {
                        request = request
                            .header(reqwest::header::CONTENT_TYPE, "application/json")
                            .body(body.clone());
                    }
                    request
                },
                call.safety(),
                &self.retry,
            )
            .await?;
            tracing::debug!(
                method = %call.method,
                path = %call.path,
                status = response.status,
                "paypal call answered"
            );
            // A 401 means PayPal did not act on the request, so sending it again is safe.
            if response.status == 401 && !refreshed {
                self.tokens.invalidate(&token).await;
                refreshed = true;
                continue;
            }
            return Ok(response);
        }
    }

    fn credentials(&self) -> Credentials<'_> {
        Credentials {
            http: &self.http,
            base_url: &self.base_url,
            client_id: &self.client_id,
            client_secret: &self.client_secret,
            retry: &self.retry,
        }
    }
}
