use async_trait::async_trait;

use crate::error::ProviderError;
use crate::money::Money;

/// What a checkout asks the provider for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutRequest {
    /// Our payment session id: the provider's reference and the idempotency key.
    pub session_id: String,
    /// The amount to charge.
    pub amount: Money,
    /// Where the buyer's browser returns after approving.
    pub return_url: String,
    /// Where it returns after canceling.
    pub cancel_url: String,
    /// A line the buyer sees.
    pub description: String,
    /// Whether to save the buyer's payment method for merchant-initiated charges.
    pub save_payment_method: bool,
}

/// A checkout the provider created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutCreated {
    /// The provider's order id.
    pub order_id: String,
    /// Where to send the buyer.
    pub approval_url: String,
}

/// What a capture did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaptureOutcome {
    /// The money was taken.
    Completed {
        /// The provider's capture id.
        capture_id: String,
        /// The amount captured.
        amount: Money,
        /// A saved payment method, when the checkout asked to save one.
        saved_method: Option<String>,
    },
    /// The capture is pending at the provider (wait for its webhook).
    Pending {
        /// The provider's capture id.
        capture_id: String,
    },
    /// The provider declined the capture.
    Declined {
        /// The decline code.
        code: String,
    },
}

/// The state of an order at the provider, for confirm and the reconciler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderState {
    /// Created, the buyer has not approved.
    Created,
    /// Approved by the buyer, not captured.
    Approved,
    /// Captured (or completed, for providers that capture automatically).
    Captured(CaptureOutcome),
    /// Canceled or voided.
    Canceled,
    /// Failed or declined.
    Failed {
        /// Why.
        code: String,
    },
}

/// What a refund did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundOutcome {
    /// The provider's refund id.
    pub refund_id: String,
    /// The amount refunded.
    pub amount: Money,
}

/// A webhook delivery as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookRequest {
    /// The headers, names lowercase.
    pub headers: Vec<(String, String)>,
    /// The raw body.
    pub body: Vec<u8>,
}

/// What a verified webhook reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderEventKind {
    /// The buyer approved the order.
    OrderApproved,
    /// A capture completed.
    CaptureCompleted {
        /// The capture id.
        capture_id: String,
        /// The amount.
        amount: Money,
    },
    /// A capture was denied or declined.
    CaptureDenied {
        /// Why.
        code: String,
    },
    /// A capture was refunded at the provider.
    Refunded {
        /// The refund id.
        refund_id: String,
        /// The amount.
        amount: Money,
    },
    /// A capture was reversed (chargeback).
    Reversed {
        /// The reversal id.
        reversal_id: String,
        /// The amount.
        amount: Money,
    },
    /// Anything else: acknowledged and ignored.
    Other(String),
}

/// A verified webhook event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderEvent {
    /// The provider's event id (applied at most once).
    pub event_id: String,
    /// The provider's order id it concerns.
    pub order_id: Option<String>,
    /// Our session id, when the provider echoes it.
    pub session_id: Option<String>,
    /// What happened.
    pub kind: ProviderEventKind,
}

/// A payment provider: PayPal, Revolut Pro or the built-in sandbox.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait PaymentProvider: Send + Sync + std::fmt::Debug {
    /// The provider's wire name (`paypal`, `revolut_pro`, `sandbox`).
    fn name(&self) -> &'static str;

    /// Creates a checkout (an order the buyer approves).
    ///
    /// # Errors
    /// `ProviderError::Timeout` / `Unavailable` when the outcome is unknown (safe to retry with
    /// the same session id), `Protocol` when refused.
    async fn create_checkout(
        &self,
        request: &CheckoutRequest,
    ) -> Result<CheckoutCreated, ProviderError>;

    /// Captures an approved order. Idempotent per `idempotency_key`.
    ///
    /// # Errors
    /// `ProviderError::NotApproved` when the buyer has not approved, `Declined` when the
    /// instrument was declined before a capture existed, `Timeout`/`Unavailable` when unknown.
    async fn capture(
        &self,
        order_id: &str,
        idempotency_key: &str,
    ) -> Result<CaptureOutcome, ProviderError>;

    /// Reads an order's state.
    ///
    /// # Errors
    /// `ProviderError::Timeout`/`Unavailable`/`Protocol`.
    async fn order_state(&self, order_id: &str) -> Result<OrderState, ProviderError>;

    /// Refunds (part of) a capture. Idempotent per `idempotency_key`.
    ///
    /// # Errors
    /// `ProviderError::Protocol` when refused, `Timeout`/`Unavailable` when unknown.
    async fn refund(
        &self,
        order_id: &str,
        capture_id: &str,
        amount: Money,
        idempotency_key: &str,
    ) -> Result<RefundOutcome, ProviderError>;

    /// Verifies a webhook delivery and decodes its event.
    ///
    /// # Errors
    /// `ProviderError::BadSignature` when it does not verify.
    async fn verify_webhook(
        &self,
        request: &WebhookRequest,
    ) -> Result<ProviderEvent, ProviderError>;
}
