//! # provider-paypal
//!
//! The PayPal adapter of `ledger_core::ports::PaymentProvider`: OAuth2 client credentials,
//! Orders v2 (create, get, capture, merchant-initiated charges of a vaulted PayPal Wallet),
//! Payments v2 refunds, Payment Method Tokens v3 delete, and webhook verification through
//! PayPal's verify-webhook-signature API (`providers.md` sections 1 and 6).
//!
//! ```ignore
//! let provider = PaypalProvider::new(PaypalConfig::new(
//!     "https://api-m.sandbox.paypal.com",
//!     "client-id",
//!     Secret::new("client-secret"),
//!     "WEBHOOK_ID",
//! ))?;
//! let created = provider.create_checkout(&request).await?;
//! ```
//!
//! Safety rules: every money-moving POST carries a `PayPal-Request-Id` derived from our ids,
//! so it may be repeated; only such calls, reads and deletes are retried (bounded, with
//! backoff). Secrets never reach `Debug` output or logs.

mod auth;
mod client;
mod convert;
mod error;
mod webhook;
mod wire;

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use ledger_core::ProviderError;
use ledger_core::money::Money;
use ledger_core::ports::{
    CaptureOutcome, CheckoutCreated, CheckoutRequest, MerchantCharge, OrderState, PaymentProvider,
    ProviderEvent, RefundOutcome, SavedMethod, WebhookRequest,
};

use crate::auth::TokenCache;
use crate::client::{Call, PaypalClient, Response, RetryPolicy};
use crate::error::{ApiError, classify_merchant_initiated, unexpected_body};
use crate::wire::{
    AttributesRequest, Capture, ExperienceContext, Order, OrderRequest, PaymentSourceRequest,
    PaypalSourceRequest, PurchaseUnitRequest, Refund, RefundRequest, StoredCredential,
    VaultInstruction, VerifyResponse, api,
};

pub use crate::error::ConfigError;

/// A secret string: `Debug` prints `[REDACTED]`, and there is no `Display`.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The secret itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([REDACTED])")
    }
}

/// How to reach one PayPal REST app.
#[derive(Debug, Clone)]
pub struct PaypalConfig {
    /// `https://api-m.sandbox.paypal.com`, `https://api-m.paypal.com`, or a fake's URL.
    pub base_url: String,
    /// The REST app's client id.
    pub client_id: String,
    /// The REST app's secret.
    pub client_secret: Secret,
    /// The id PayPal gave our webhook registration (needed to verify deliveries).
    pub webhook_id: String,
    /// The whole-request timeout of each attempt.
    pub timeout_ms: u64,
    /// The connect timeout of each attempt.
    pub connect_timeout_ms: u64,
    /// Repeats of a safe call after 5xx or a timeout.
    pub max_retries: u32,
    /// The wait before the first repeat, doubled for each further one.
    pub retry_backoff_ms: u64,
    /// `usage_pattern` for saved wallets and merchant-initiated charges (providers.md 6.2 says
    /// to settle the value in the sandbox).
    pub vault_usage_pattern: String,
    /// The brand shown on PayPal's pages, if not the account's.
    pub brand_name: Option<String>,
}

impl PaypalConfig {
    /// A configuration with the default timeouts (10 s, connect 5 s), 2 retries from 200 ms
    /// and `usage_pattern` `THRESHOLD_PREPAID`.
    pub fn new(
        base_url: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: Secret,
        webhook_id: impl Into<String>,
    ) -> Self {
        Self {
            base_url: base_url.into(),
            client_id: client_id.into(),
            client_secret,
            webhook_id: webhook_id.into(),
            timeout_ms: 10_000,
            connect_timeout_ms: 5_000,
            max_retries: 2,
            retry_backoff_ms: 200,
            vault_usage_pattern: "THRESHOLD_PREPAID".to_owned(),
            brand_name: None,
        }
    }
}

/// The PayPal payment provider.
#[derive(Debug)]
pub struct PaypalProvider {
    client: PaypalClient,
    webhook_id: String,
    vault_usage_pattern: String,
    brand_name: Option<String>,
}

impl PaypalProvider {
    /// Builds the adapter and its HTTP client (nothing is sent yet).
    ///
    /// # Errors
    /// [`ConfigError`] when the base URL is not an http(s) URL or the HTTP client cannot be
    /// built.
    pub fn new(config: PaypalConfig) -> Result<Self, ConfigError> {
        let base_url = config.base_url.trim_end_matches('/').to_owned();
        if !(base_url.starts_with("https://") || base_url.starts_with("http://")) {
            return Err(ConfigError::BaseUrl(base_url));
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(config.timeout_ms))
            .connect_timeout(Duration::from_millis(config.connect_timeout_ms))
            .build()
            .map_err(|error| ConfigError::HttpClient(error.to_string()))?;
        Ok(Self {
            client: PaypalClient {
                http,
                base_url,
                client_id: config.client_id,
                client_secret: config.client_secret,
                retry: RetryPolicy {
                    max_retries: config.max_retries,
                    backoff: Duration::from_millis(config.retry_backoff_ms),
                },
                tokens: TokenCache::default(),
            },
            webhook_id: config.webhook_id,
            vault_usage_pattern: config.vault_usage_pattern,
            brand_name: config.brand_name,
        })
    }

    /// Creates (or, within `PayPal-Request-Id`'s 6 hours, replays) the order of a
    /// merchant-initiated charge of a vaulted method.
    async fn create_merchant_order(
        &self,
        method_token: &str,
        amount: Money,
        idempotency_key: &str,
    ) -> Result<Order, ProviderError> {
        let body = OrderRequest {
            intent: "CAPTURE",
            purchase_units: vec![PurchaseUnitRequest {
                reference_id: idempotency_key.to_owned(),
                custom_id: idempotency_key.to_owned(),
                description: None,
                amount: convert::amount_to_wire(amount),
            }],
            payment_source: PaymentSourceRequest {
                paypal: PaypalSourceRequest {
                    vault_id: Some(method_token.to_owned()),
                    stored_credential: Some(StoredCredential {
                        payment_initiator: "MERCHANT",
                        usage: "SUBSEQUENT",
                        usage_pattern: self.vault_usage_pattern.clone(),
                    }),
                    ..PaypalSourceRequest::default()
                },
            },
        };
        let response = self
            .client
            .call(&Call::post(
                api::ORDERS_PATH.to_owned(),
                to_json(&body)?,
                Some(idempotency_key),
            ))
            .await?;
        if !matches!(response.status, 200 | 201) {
            return Err(classify_merchant_initiated(ApiError::parse(
                response.status,
                &response.body,
                response.debug_id,
            )));
        }
        serde_json::from_slice(&response.body).map_err(|error| unexpected_body("order", &error))
    }

    async fn fetch_order(&self, order_id: &str) -> Result<Order, ProviderError> {
        let response = self
            .client
            .call(&Call::get(format!(
                "{}/{}",
                api::ORDERS_PATH,
                path_segment(order_id)?
            )))
            .await?;
        order_from(response)
    }

    async fn fetch_capture(&self, capture_id: &str) -> Result<Capture, ProviderError> {
        let response = self
            .client
            .call(&Call::get(format!(
                "{}/{}",
                api::CAPTURES_PATH,
                path_segment(capture_id)?
            )))
            .await?;
        if response.status != 200 {
            return Err(
                ApiError::parse(response.status, &response.body, response.debug_id)
                    .into_provider_error(),
            );
        }
        serde_json::from_slice(&response.body).map_err(|error| unexpected_body("capture", &error))
    }

    /// Sends the capture POST and reads the outcome; `ORDER_ALREADY_CAPTURED` is answered by
    /// the order's existing capture.
    async fn capture_order(
        &self,
        order_id: &str,
        request_id: &str,
    ) -> Result<Result<CaptureOutcome, ApiError>, ProviderError> {
        let path = format!("{}/{}/capture", api::ORDERS_PATH, path_segment(order_id)?);
        let response = self
            .client
            .call(&Call::post(path, b"{}".to_vec(), Some(request_id)))
            .await?;
        if matches!(response.status, 200 | 201) {
            let order = order_from(response)?;
            return convert::captured_order_outcome(&order).map(Ok);
        }
        let error = ApiError::parse(response.status, &response.body, response.debug_id);
        if error.issue == "ORDER_ALREADY_CAPTURED" {
            tracing::info!(
                order.id = order_id,
                "paypal order already captured, reading it"
            );
            let order = self.fetch_order(order_id).await?;
            return convert::captured_order_outcome(&order).map(Ok);
        }
        Ok(Err(error))
    }
}

/// Refuses ids that would change the request path.
fn path_segment(id: &str) -> Result<&str, ProviderError> {
    if !id.is_empty()
        && id
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
    {
        Ok(id)
    } else {
        Err(ProviderError::Protocol(format!(
            "`{id}` is not a paypal id"
        )))
    }
}

fn order_from(response: Response) -> Result<Order, ProviderError> {
    if !matches!(response.status, 200 | 201) {
        return Err(
            ApiError::parse(response.status, &response.body, response.debug_id)
                .into_provider_error(),
        );
    }
    serde_json::from_slice(&response.body).map_err(|error| unexpected_body("order", &error))
}

fn to_json(value: &impl serde::Serialize) -> Result<Vec<u8>, ProviderError> {
    serde_json::to_vec(value)
        .map_err(|error| ProviderError::Protocol(format!("request does not serialize: {error}")))
}

#[async_trait]
impl PaymentProvider for PaypalProvider {
    fn name(&self) -> &'static str {
        "paypal"
    }

    async fn create_checkout(
        &self,
        request: &CheckoutRequest,
    ) -> Result<CheckoutCreated, ProviderError> {
        let attributes = request.save_payment_method.then(|| AttributesRequest {
            vault: VaultInstruction {
                store_in_vault: "ON_SUCCESS",
                usage_type: "MERCHANT",
                usage_pattern: self.vault_usage_pattern.clone(),
                permit_multiple_payment_tokens: false,
            },
        });
        let body = OrderRequest {
            intent: "CAPTURE",
            purchase_units: vec![PurchaseUnitRequest {
                reference_id: request.session_id.clone(),
                custom_id: request.session_id.clone(),
                description: (!request.description.is_empty())
                    .then(|| request.description.chars().take(127).collect()),
                amount: convert::amount_to_wire(request.amount),
            }],
            payment_source: PaymentSourceRequest {
                paypal: PaypalSourceRequest {
                    experience_context: Some(ExperienceContext {
                        return_url: request.return_url.clone(),
                        cancel_url: request.cancel_url.clone(),
                        brand_name: self.brand_name.clone(),
                        shipping_preference: "NO_SHIPPING",
                        user_action: "PAY_NOW",
                    }),
                    attributes,
                    ..PaypalSourceRequest::default()
                },
            },
        };
        // The same session always sends the same request id, so a repeat returns the first
        // order instead of creating another (PayPal keeps it 6 hours).
        let request_id = format!("purse-create-{}", request.session_id);
        let response = self
            .client
            .call(&Call::post(
                api::ORDERS_PATH.to_owned(),
                to_json(&body)?,
                Some(&request_id),
            ))
            .await?;
        let order = order_from(response)?;
        let approval_url = convert::approval_url(&order.links).ok_or_else(|| {
            ProviderError::Protocol(format!("paypal order {} has no approval link", order.id))
        })?;
        tracing::info!(session.id = %request.session_id, order.id = %order.id, "paypal order created");
        Ok(CheckoutCreated {
            order_id: order.id,
            approval_url,
        })
    }

    async fn capture(
        &self,
        order_id: &str,
        idempotency_key: &str,
    ) -> Result<CaptureOutcome, ProviderError> {
        match self.capture_order(order_id, idempotency_key).await? {
            Ok(outcome) => Ok(outcome),
            Err(error) => Err(match error.issue.as_str() {
                "ORDER_NOT_APPROVED" => ProviderError::NotApproved,
                // The buyer can pick another funding source on PayPal's page: the session
                // goes back to `created` with the approval link.
                "INSTRUMENT_DECLINED"
                | "PAYER_ACTION_REQUIRED"
                | "REDIRECT_PAYER_FOR_ALTERNATE_FUNDING" => {
                    ProviderError::Declined { code: error.issue }
                }
                "ORDER_COMPLETION_IN_PROGRESS" | "PREVIOUS_REQUEST_IN_PROGRESS" => {
                    ProviderError::Unavailable(Box::new(error::PaypalError::Api {
                        status: error.status,
                        name: error.name,
                        issue: error.issue,
                        debug_id: error.debug_id,
                    }))
                }
                "TRANSACTION_REFUSED"
                | "PAYER_CANNOT_PAY"
                | "PAYER_ACCOUNT_RESTRICTED"
                | "PAYER_ACCOUNT_LOCKED_OR_CLOSED"
                | "PAYEE_BLOCKED_TRANSACTION"
                | "TRANSACTION_LIMIT_EXCEEDED"
                | "TRANSACTION_RECEIVING_LIMIT_EXCEEDED"
                | "MAX_NUMBER_OF_PAYMENT_ATTEMPTS_EXCEEDED"
                | "COMPLIANCE_VIOLATION" => {
                    return Ok(CaptureOutcome::Declined { code: error.issue });
                }
                _ => error.into_provider_error(),
            }),
        }
    }

    async fn order_state(&self, order_id: &str) -> Result<OrderState, ProviderError> {
        let order = self.fetch_order(order_id).await?;
        convert::order_state(&order)
    }

    async fn refund(
        &self,
        _order_id: &str,
        capture_id: &str,
        amount: Money,
        idempotency_key: &str,
    ) -> Result<RefundOutcome, ProviderError> {
        let body = RefundRequest {
            amount: convert::amount_to_wire(amount),
            custom_id: idempotency_key.chars().take(127).collect(),
        };
        let path = format!(
            "{}/{}/refund",
            api::CAPTURES_PATH,
            path_segment(capture_id)?
        );
        let response = self
            .client
            .call(&Call::post(path, to_json(&body)?, Some(idempotency_key)))
            .await?;
        if !matches!(response.status, 200 | 201) {
            return Err(
                ApiError::parse(response.status, &response.body, response.debug_id)
                    .into_provider_error(),
            );
        }
        let refund: Refund = serde_json::from_slice(&response.body)
            .map_err(|error| unexpected_body("refund", &error))?;
        if matches!(refund.status.as_str(), "FAILED" | "CANCELLED") {
            return Err(ProviderError::Protocol(format!(
                "paypal refund {} is {}",
                refund.id, refund.status
            )));
        }
        let amount = match &refund.amount {
            Some(wire) => convert::amount_from_wire(wire)?,
            None => amount,
        };
        Ok(RefundOutcome {
            refund_id: refund.id,
            amount,
        })
    }

    async fn verify_webhook(
        &self,
        request: &WebhookRequest,
    ) -> Result<ProviderEvent, ProviderError> {
        let mut call = Call::post(
            api::VERIFY_PATH.to_owned(),
            webhook::verify_request_body(request, &self.webhook_id)?,
            None,
        );
        // Verification changes nothing at PayPal, so it is as safe to repeat as a read.
        call.read_only = true;
        let response = self.client.call(&call).await?;
        if response.status != 200 {
            return Err(
                ApiError::parse(response.status, &response.body, response.debug_id)
                    .into_provider_error(),
            );
        }
        let verdict: VerifyResponse = serde_json::from_slice(&response.body)
            .map_err(|error| unexpected_body("verify", &error))?;
        if verdict.verification_status != "SUCCESS" {
            tracing::warn!("paypal webhook signature did not verify");
            return Err(ProviderError::BadSignature);
        }
        match webhook::decode(&request.body)? {
            webhook::Decoded::Ready(event) => Ok(event),
            webhook::Decoded::NeedsCapture {
                event_id,
                capture_id,
                kind,
            } => {
                let capture = self.fetch_capture(&capture_id).await?;
                Ok(ProviderEvent {
                    event_id,
                    order_id: webhook::capture_order_id(&capture),
                    session_id: capture.custom_id,
                    kind,
                })
            }
        }
    }

    async fn saved_method(&self, order_id: &str) -> Result<Option<SavedMethod>, ProviderError> {
        let order = self.fetch_order(order_id).await?;
        Ok(convert::saved_method(&order))
    }

    async fn charge_saved_method<'a>(
        &self,
        method_token: &str,
        amount: Money,
        idempotency_key: &str,
        order_id: Option<&'a str>,
    ) -> Result<MerchantCharge, ProviderError> {
        // The order an earlier attempt reported: read it rather than replaying the create,
        // whose `PayPal-Request-Id` PayPal keeps only 6 hours.
        let order = match order_id {
            Some(order_id) => self.fetch_order(order_id).await?,
            None => {
                self.create_merchant_order(method_token, amount, idempotency_key)
                    .await?
            }
        };
        // providers.md 6.5: usually COMPLETED at create; otherwise capture it ourselves.
        let outcome = match order.status.as_str() {
            "COMPLETED" => convert::captured_order_outcome(&order)?,
            "APPROVED" | "CREATED" => {
                let request_id = format!("{idempotency_key}-capture");
                self.capture_order(&order.id, &request_id)
                    .await?
                    .map_err(classify_merchant_initiated)?
            }
            "PAYER_ACTION_REQUIRED" => {
                return Err(ProviderError::NeedsCustomer {
                    code: "PAYER_ACTION_REQUIRED".to_owned(),
                });
            }
            other => {
                return Err(ProviderError::Protocol(format!(
                    "paypal merchant-initiated order {} is {other}",
                    order.id
                )));
            }
        };
        tracing::info!(order.id = %order.id, "paypal merchant-initiated charge sent");
        Ok(MerchantCharge {
            order_id: order.id,
            outcome,
        })
    }

    async fn delete_saved_method(&self, method_token: &str) -> Result<(), ProviderError> {
        let path = format!(
            "{}/{}",
            api::PAYMENT_TOKENS_PATH,
            path_segment(method_token)?
        );
        let response = self.client.call(&Call::delete(path)).await?;
        // 404: already gone, which is what the caller wants.
        if matches!(response.status, 200 | 204 | 404) {
            Ok(())
        } else {
            Err(
                ApiError::parse(response.status, &response.body, response.debug_id)
                    .into_provider_error(),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_show_in_debug_output() {
        let config = PaypalConfig::new("http://127.0.0.1:1", "id", Secret::new("hunter2"), "WH");
        let provider = PaypalProvider::new(config.clone()).unwrap();
        assert!(!format!("{config:?}").contains("hunter2"));
        assert!(!format!("{provider:?}").contains("hunter2"));
    }

    #[test]
    fn ids_that_would_change_the_path_are_refused() {
        assert!(path_segment("5O190127TN364715T").is_ok());
        assert!(path_segment("../v1/x").is_err());
        assert!(path_segment("").is_err());
    }

    #[test]
    fn base_urls_must_be_http() {
        let config = PaypalConfig::new("ftp://x", "id", Secret::new("s"), "WH");
        assert!(PaypalProvider::new(config).is_err());
    }
}
