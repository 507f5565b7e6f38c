//! # provider-revolut
//!
//! The Revolut Merchant API adapter of `ledger_core::ports::PaymentProvider`
//! (`providers.md` sections 2 and 6): orders in minor units with automatic capture,
//! retrieve, refunds with an `Idempotency-Key`, saved payment methods charged
//! merchant-initiated, and webhook verification by HMAC-SHA256 over
//! `v1.{timestamp}.{raw body}` with a timestamp tolerance and several signatures (and several
//! secrets of ours) during rotation.
//!
//! ```ignore
//! let mut config = RevolutConfig::new(
//!     "https://sandbox-merchant.revolut.com",
//!     Secret::new("sk_..."),
//!     vec![Secret::new("wsk_...")],
//! );
//! let provider = RevolutProvider::new(config)?;
//! ```
//!
//! Revolut has no idempotency for creating an order, so creates are never retried after the
//! request may have left; the order itself is the idempotency unit of a charge. For a
//! merchant-initiated charge the order is created by `prepare_saved_method_charge` and its id
//! stored by the core before `charge_saved_method` pays it (see `merchant.rs`), so a repeat
//! from another process or after a restart pays the same order.
//!
//! A checkout order is paid by the buyer alone (automatic capture), so it stays payable after
//! purse expires the session unless it is closed: the payment sweep cancels it
//! (`cancel_order`) before expiring the session, and every checkout order is also created
//! with `expire_pending_after` no shorter than the session's TTL.

mod client;
mod convert;
mod error;
mod merchant;
pub mod webhook;
mod wire;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use ledger_core::ProviderError;
use ledger_core::money::Money;
use ledger_core::ports::{
    CaptureOutcome, CheckoutCreated, CheckoutRequest, Clock, MerchantCharge, OrderState,
    PaymentProvider, ProviderEvent, ProviderEventKind, RefundOutcome, SavedMethod, WebhookRequest,
};
use reqwest::Method;
use time::OffsetDateTime;

use crate::client::{Response, RevolutClient, Safety};
use crate::error::{ApiError, unexpected_body};
use crate::wire::{MerchantOrderData, Order, OrderRequest, RefundRequest, WebhookEvent, api};

pub use crate::error::ConfigError;

/// A secret string: `Debug` prints `[REDACTED]`, and there is no `Display`.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The secret itself, for the one place that uses it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([REDACTED])")
    }
}

/// How to reach one Revolut merchant account.
#[derive(Debug, Clone)]
pub struct RevolutConfig {
    /// `https://sandbox-merchant.revolut.com`, `https://merchant.revolut.com`, or a fake's URL.
    pub base_url: String,
    /// The Merchant API secret key (`sk_…`).
    pub secret_key: Secret,
    /// Webhook signing secrets (`wsk_…`) accepted; several while we rotate ours.
    pub webhook_signing_secrets: Vec<Secret>,
    /// `Revolut-Api-Version`, at least `2024-09-01` (saved methods need it).
    pub api_version: String,
    /// How far a webhook timestamp may be from now.
    pub webhook_tolerance_ms: u64,
    /// The whole-request timeout of each attempt.
    pub timeout_ms: u64,
    /// The connect timeout of each attempt.
    pub connect_timeout_ms: u64,
    /// Repeats of a safe call after 5xx or a timeout.
    pub max_retries: u32,
    /// The wait before the first repeat, doubled for each further one.
    pub retry_backoff_ms: u64,
}

impl RevolutConfig {
    /// A configuration with API version `2025-12-04`, a 5-minute webhook tolerance, timeouts
    /// of 10 s (connect 5 s) and 2 retries from 200 ms.
    pub fn new(
        base_url: impl Into<String>,
        secret_key: Secret,
        webhook_signing_secrets: Vec<Secret>,
    ) -> Self {
        Self {
            base_url: base_url.into(),
            secret_key,
            webhook_signing_secrets,
            api_version: "2025-12-04".to_owned(),
            webhook_tolerance_ms: 300_000,
            timeout_ms: 10_000,
            connect_timeout_ms: 5_000,
            max_retries: 2,
            retry_backoff_ms: 200,
        }
    }
}

/// The wall clock, for production wiring.
#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// The Revolut payment provider.
#[derive(Debug)]
pub struct RevolutProvider {
    client: RevolutClient,
    signing_secrets: Vec<Secret>,
    tolerance: Duration,
    clock: Arc<dyn Clock>,
}

impl RevolutProvider {
    /// Builds the adapter with the wall clock.
    ///
    /// # Errors
    /// [`ConfigError`] for a bad base URL, no signing secret, or an HTTP client that cannot be
    /// built.
    pub fn new(config: RevolutConfig) -> Result<Self, ConfigError> {
        Self::with_clock(config, Arc::new(SystemClock))
    }

    /// Builds the adapter with the clock webhook timestamps are checked against.
    ///
    /// # Errors
    /// As [`RevolutProvider::new`].
    pub fn with_clock(config: RevolutConfig, clock: Arc<dyn Clock>) -> Result<Self, ConfigError> {
        let base_url = config.base_url.trim_end_matches('/').to_owned();
        if !(base_url.starts_with("https://") || base_url.starts_with("http://")) {
            return Err(ConfigError::BaseUrl(base_url));
        }
        if config.webhook_signing_secrets.is_empty() {
            return Err(ConfigError::NoSigningSecret);
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(config.timeout_ms))
            .connect_timeout(Duration::from_millis(config.connect_timeout_ms))
            .build()
            .map_err(|error| ConfigError::HttpClient(error.to_string()))?;
        Ok(Self {
            client: RevolutClient {
                http,
                base_url,
                secret_key: config.secret_key,
                api_version: config.api_version,
                max_retries: config.max_retries,
                backoff: Duration::from_millis(config.retry_backoff_ms),
            },
            signing_secrets: config.webhook_signing_secrets,
            tolerance: Duration::from_millis(config.webhook_tolerance_ms),
            clock,
        })
    }

    async fn fetch_order(&self, order_id: &str) -> Result<Order, ProviderError> {
        let path = format!("{}/{}", api::ORDERS_PATH, order_segment(order_id)?);
        let response = self
            .client
            .call(Method::GET, &path, None, None, Safety::Idempotent)
            .await?;
        order_from(response, "order")
    }

    async fn create_order(&self, request: &OrderRequest) -> Result<Order, ProviderError> {
        let response = self
            .client
            .call(
                Method::POST,
                api::ORDERS_PATH,
                Some(to_json(request)?),
                None,
                Safety::NotIdempotent,
            )
            .await?;
        order_from(response, "order")
    }
}

fn order_segment(id: &str) -> Result<&str, ProviderError> {
    if convert::is_uuid_like(id) {
        Ok(id)
    } else {
        Err(ProviderError::Protocol(format!(
            "`{id}` is not a revolut order id"
        )))
    }
}

fn order_from(response: Response, what: &str) -> Result<Order, ProviderError> {
    if !matches!(response.status, 200 | 201) {
        return Err(ApiError::parse(response.status, &response.body).into_provider_error());
    }
    serde_json::from_slice(&response.body).map_err(|error| unexpected_body(what, &error))
}

fn to_json(value: &impl serde::Serialize) -> Result<Vec<u8>, ProviderError> {
    serde_json::to_vec(value)
        .map_err(|error| ProviderError::Protocol(format!("request does not serialize: {error}")))
}

#[async_trait]
impl PaymentProvider for RevolutProvider {
    fn name(&self) -> &'static str {
        "revolut_pro"
    }

    async fn create_checkout(
        &self,
        request: &CheckoutRequest,
    ) -> Result<CheckoutCreated, ProviderError> {
        let body = OrderRequest {
            amount: convert::to_minor_units(request.amount)?,
            currency: request.amount.currency().code().to_owned(),
            description: (!request.description.is_empty()).then(|| request.description.clone()),
            capture_mode: "automatic",
            merchant_order_data: MerchantOrderData {
                reference: Some(request.session_id.clone()),
            },
            metadata: BTreeMap::from([("session_id", request.session_id.clone())]),
            redirect_url: Some(request.return_url.clone()),
            customer: None,
            // A second line of defence behind `cancel_order`: an order left open when purse
            // expires the session would otherwise stay payable for good.
            expire_pending_after: convert::expire_pending_after(request.ttl_seconds),
        };
        let order = self.create_order(&body).await?;
        let approval_url = order.checkout_url.clone().ok_or_else(|| {
            ProviderError::Protocol(format!("revolut order {} has no checkout_url", order.id))
        })?;
        tracing::info!(session.id = %request.session_id, order.id = %order.id, "revolut order created");
        Ok(CheckoutCreated {
            order_id: order.id,
            approval_url,
        })
    }

    /// Revolut captures automatically: this reads the order. `pending` (nothing paid yet) is
    /// `NotApproved`.
    async fn capture(
        &self,
        order_id: &str,
        _idempotency_key: &str,
    ) -> Result<CaptureOutcome, ProviderError> {
        let order = self.fetch_order(order_id).await?;
        convert::capture_outcome(&order)?.ok_or(ProviderError::NotApproved)
    }

    async fn order_state(&self, order_id: &str) -> Result<OrderState, ProviderError> {
        let order = self.fetch_order(order_id).await?;
        convert::order_state(&order)
    }

    /// `POST /api/orders/{id}/cancel` (providers.md 2.6): allowed in `pending` or
    /// `authorised`; any other state is refused with `422`, answered as `Protocol`. Repeating
    /// it is safe: a second cancel is refused, and the order reads `cancelled`.
    async fn cancel_order(&self, order_id: &str) -> Result<(), ProviderError> {
        let path = format!("{}/{}/cancel", api::ORDERS_PATH, order_segment(order_id)?);
        let response = self
            .client
            .call(Method::POST, &path, None, None, Safety::Idempotent)
            .await?;
        let order = order_from(response, "order")?;
        if order.state == "cancelled" {
            tracing::info!(order.id = %order.id, "revolut order cancelled");
            Ok(())
        } else {
            Err(ProviderError::Protocol(format!(
                "revolut answered the cancel of order {} with state `{}`",
                order.id, order.state
            )))
        }
    }

    async fn refund(
        &self,
        order_id: &str,
        _capture_id: &str,
        amount: Money,
        idempotency_key: &str,
    ) -> Result<RefundOutcome, ProviderError> {
        let body = RefundRequest {
            amount: convert::to_minor_units(amount)?,
            currency: amount.currency().code().to_owned(),
            merchant_order_data: MerchantOrderData {
                reference: Some(idempotency_key.to_owned()),
            },
        };
        let path = format!("{}/{}/refund", api::ORDERS_PATH, order_segment(order_id)?);
        let response = self
            .client
            .call(
                Method::POST,
                &path,
                Some(to_json(&body)?),
                Some(idempotency_key),
                Safety::Idempotent,
            )
            .await?;
        let refund = order_from(response, "refund")?;
        Ok(RefundOutcome {
            amount: convert::from_minor_units(refund.amount, &refund.currency)?,
            refund_id: refund.id,
        })
    }

    async fn verify_webhook(
        &self,
        request: &WebhookRequest,
    ) -> Result<ProviderEvent, ProviderError> {
        webhook::verify(
            request,
            &self.signing_secrets,
            self.tolerance,
            self.clock.now(),
        )?;
        let event: WebhookEvent = serde_json::from_slice(&request.body)
            .map_err(|error| unexpected_body("webhook", &error))?;
        // No event id in Revolut's body: `(event, order_id)` is the dedupe key.
        let event_id = format!(
            "{}:{}",
            event.event,
            event.order_id.as_deref().unwrap_or_default()
        );
        let mut provider_event = ProviderEvent {
            event_id,
            order_id: event.order_id.clone(),
            session_id: event.merchant_order_ext_ref.clone(),
            kind: ProviderEventKind::Other(event.event.clone()),
        };
        provider_event.kind = match (event.event.as_str(), event.order_id.as_deref()) {
            ("ORDER_COMPLETED", Some(order_id)) => {
                // The notification is thin; the order says what really happened.
                let order = self.fetch_order(order_id).await?;
                let amount = convert::from_minor_units(order.amount, &order.currency)?;
                if order.order_type.as_deref() == Some("refund") {
                    provider_event.order_id = order.related_order_id.clone();
                    provider_event.session_id = None;
                    ProviderEventKind::Refunded {
                        refund_id: order.id,
                        amount,
                    }
                } else if order.state == "completed" {
                    if provider_event.session_id.is_none() {
                        provider_event.session_id =
                            order.merchant_order_data.and_then(|data| data.reference);
                    }
                    ProviderEventKind::CaptureCompleted {
                        capture_id: order.id,
                        amount,
                    }
                } else {
                    ProviderEventKind::Other(event.event)
                }
            }
            ("ORDER_AUTHORISED", Some(_)) => ProviderEventKind::OrderApproved,
            ("ORDER_CANCELLED" | "ORDER_FAILED", Some(_)) => {
                ProviderEventKind::OrderCanceled { code: event.event }
            }
            // A declined attempt is not terminal: the order goes back to `pending`.
            _ => ProviderEventKind::Other(event.event),
        };
        Ok(provider_event)
    }

    async fn saved_method(&self, order_id: &str) -> Result<Option<SavedMethod>, ProviderError> {
        let order = self.fetch_order(order_id).await?;
        Ok(convert::saved_method(&order))
    }

    async fn prepare_saved_method_charge(
        &self,
        method_token: &str,
        amount: Money,
        idempotency_key: &str,
    ) -> Result<Option<String>, ProviderError> {
        self.create_charge_order(method_token, amount, idempotency_key)
            .await
            .map(Some)
    }

    async fn charge_saved_method<'a>(
        &self,
        method_token: &str,
        amount: Money,
        idempotency_key: &str,
        order_id: Option<&'a str>,
    ) -> Result<MerchantCharge, ProviderError> {
        self.charge_order(method_token, amount, idempotency_key, order_id)
            .await
    }

    async fn delete_saved_method(&self, method_token: &str) -> Result<(), ProviderError> {
        let (customer_id, _, method_id) = convert::parse_method_token(method_token)?;
        let path = format!(
            "{}/{customer_id}/payment-methods/{method_id}",
            api::CUSTOMERS_PATH
        );
        let response = self
            .client
            .call(Method::DELETE, &path, None, None, Safety::Idempotent)
            .await?;
        // 404: already gone, which is what the caller wants.
        if matches!(response.status, 200 | 204 | 404) {
            Ok(())
        } else {
            Err(ApiError::parse(response.status, &response.body).into_provider_error())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_show_in_debug_output() {
        let config = RevolutConfig::new(
            "http://127.0.0.1:1",
            Secret::new("sk_hunter2"),
            vec![Secret::new("wsk_hunter3")],
        );
        let provider = RevolutProvider::new(config.clone()).unwrap();
        for text in [format!("{config:?}"), format!("{provider:?}")] {
            assert!(!text.contains("hunter"), "{text}");
        }
    }

    #[test]
    fn a_signing_secret_is_required() {
        let config = RevolutConfig::new("http://127.0.0.1:1", Secret::new("sk"), vec![]);
        assert!(matches!(
            RevolutProvider::new(config),
            Err(ConfigError::NoSigningSecret)
        ));
    }
}
