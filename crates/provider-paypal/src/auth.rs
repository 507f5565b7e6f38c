//! The OAuth2 client-credentials token, cached until shortly before it expires.

use std::time::Duration;

use ledger_core::ProviderError;
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::Secret;
use crate::client::{Response, RetryPolicy, Safety, send_with_retry};
use crate::error::{ApiError, unexpected_body};
use crate::wire::{TokenResponse, api};

/// How long before `expires_in` runs out a token is refreshed: a tenth of its lifetime, at
/// most five minutes, so a token is never sent in its last moments.
fn refresh_margin(expires_in: Duration) -> Duration {
    (expires_in / 10).min(Duration::from_secs(300))
}

#[derive(Debug)]
struct CachedToken {
    access_token: Secret,
    refresh_at: Instant,
}

/// One token per adapter, shared by all calls; fetching is single-flight (the lock is held
/// across the fetch, so concurrent calls wait for one token request).
#[derive(Debug, Default)]
pub(crate) struct TokenCache {
    cached: Mutex<Option<CachedToken>>,
}

/// What fetching a token needs.
#[derive(Debug)]
pub(crate) struct Credentials<'a> {
    pub(crate) http: &'a reqwest::Client,
    pub(crate) base_url: &'a str,
    pub(crate) client_id: &'a str,
    pub(crate) client_secret: &'a Secret,
    pub(crate) retry: &'a RetryPolicy,
}

impl TokenCache {
    /// The cached token, or a fresh one when there is none or it is about to expire.
    pub(crate) async fn token(
        &self,
        credentials: &Credentials<'_>,
    ) -> Result<Secret, ProviderError> {
        let mut cached = self.cached.lock().await;
        if let Some(token) = cached.as_ref()
            && Instant::now() < token.refresh_at
        {
            return Ok(token.access_token.clone());
        }
        let (access_token, expires_in) = fetch(credentials).await?;
        *cached = Some(CachedToken {
            access_token: access_token.clone(),
            refresh_at: Instant::now() + expires_in - refresh_margin(expires_in),
        });
        Ok(access_token)
    }

    /// Forgets `stale` after PayPal refused it (401), unless another call already replaced it.
    pub(crate) async fn invalidate(&self, stale: &Secret) {
        let mut cached = self.cached.lock().await;
        if cached
            .as_ref()
            .is_some_and(|token| token.access_token.expose() == stale.expose())
        {
            *cached = None;
        }
    }
}

async fn fetch(credentials: &Credentials<'_>) -> Result<(Secret, Duration), ProviderError> {
    let url = format!("{}{}", credentials.base_url, api::TOKEN_PATH);
    // Asking for a token has no side effect worth protecting, so it is retried like a GET.
    let response: Response = send_with_retry(
        || {
            credentials
                .http
                .post(&url)
                .basic_auth(
                    credentials.client_id,
                    Some(credentials.client_secret.expose()),
                )
                .header(
                    reqwest::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                )
                .body("grant_type=client_credentials")
        },
        Safety::Idempotent,
        credentials.retry,
    )
    .await?;
    if response.status != 200 {
        let error = ApiError::parse(response.status, &response.body, response.debug_id);
        if error.status == 401 {
            return Err(ProviderError::Protocol(format!(
                "paypal refused the client credentials ({})",
                error.code()
            )));
        }
        return Err(error.into_provider_error());
    }
    let token: TokenResponse =
        serde_json::from_slice(&response.body).map_err(|error| unexpected_body("token", &error))?;
    tracing::debug!(
        expires_in = token.expires_in,
        "fetched a paypal access token"
    );
    Ok((
        Secret::new(token.access_token),
        Duration::from_secs(token.expires_in),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_refreshed_ahead_of_expiry() {
        assert_eq!(
            refresh_margin(Duration::from_secs(32_400)),
            Duration::from_secs(300)
        );
        assert_eq!(
            refresh_margin(Duration::from_secs(100)),
            Duration::from_secs(10)
        );
        assert!(refresh_margin(Duration::ZERO).is_zero());
    }
}
