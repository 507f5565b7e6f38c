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
    /// How long the session waits for the buyer before it expires. A provider whose orders
    /// stay payable on their own (Revolut) makes the order expire no sooner than this, as a
    /// second line of defence behind [`PaymentProvider::cancel_order`].
    pub ttl_seconds: i64,
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
        /// The saved payment method's token ([`SavedMethod::token`]), when the checkout asked
        /// to save one and the provider saved it with the capture.
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
    /// Unpaid again: its last payment attempt was declined or failed, and nothing was paid.
    /// The order can still take another attempt (a buyer at the checkout page may try again),
    /// so it is not final; a merchant-initiated charge that ends here was declined.
    AttemptDeclined {
        /// Why the attempt was declined, as the provider said.
        code: String,
    },
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
    /// The order was canceled or failed at the provider before any money moved (Revolut
    /// `ORDER_CANCELLED` / `ORDER_FAILED`); the session can be failed.
    OrderCanceled {
        /// The provider's reason (`ORDER_CANCELLED`, `ORDER_FAILED`).
        code: String,
    },
    /// A payment method was saved after the capture finished (PayPal
    /// `VAULT.PAYMENT-TOKEN.CREATED`, the late-token case of providers.md 6.2).
    PaymentMethodSaved(SavedMethod),
    /// A saved payment method was deleted or revoked at the provider (PayPal
    /// `VAULT.PAYMENT-TOKEN.DELETED` / `DELETION-INITIATED`): stop charging it.
    PaymentMethodRevoked {
        /// The method's token, as in [`SavedMethod::token`].
        method_token: String,
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

/// A payment method the provider keeps for merchant-initiated charges (PayPal vaulted payment
/// source, Revolut saved payment method).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedMethod {
    /// What [`PaymentProvider::charge_saved_method`] and
    /// [`PaymentProvider::delete_saved_method`] take; opaque to the core. It is the same string
    /// as `CaptureOutcome::Completed::saved_method`. PayPal: the vault id. Revolut:
    /// `{customer_id}/{type}/{payment_method_id}`, because a Revolut charge and delete need all
    /// three.
    pub token: String,
    /// The provider's own id of the method (PayPal vault id, Revolut payment method UUID).
    pub method_id: String,
    /// The provider's customer the method belongs to (PayPal `customer.id`, Revolut customer).
    pub customer_id: Option<String>,
    /// A display label without secrets: the PayPal e-mail, or card brand and last four.
    pub label: String,
}

/// A merchant-initiated charge of a saved method, as the provider created it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerchantCharge {
    /// The provider's order id (for [`PaymentProvider::order_state`] and webhooks).
    pub order_id: String,
    /// What the charge did so far. `Pending` means: wait for the webhook or ask `order_state`.
    pub outcome: CaptureOutcome,
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

    /// Cancels an order nobody has paid yet, so that it can no longer take money. The payment
    /// sweep calls it before it expires a session whose provider order may still be open.
    ///
    /// `Ok(())` only when the provider says the order is canceled now. Canceling an order
    /// that is already canceled may answer `Ok(())` or a refusal.
    ///
    /// The default answers `Unsupported`: right for providers where an order the buyer
    /// approved takes no money until we capture it (PayPal, the sandbox), so an expired
    /// session, which is never captured, cannot be paid.
    ///
    /// # Errors
    /// - `Timeout`/`Unavailable`: unknown whether the order was canceled; ask again later.
    /// - `Protocol`: refused, for example because the order was paid, is being paid or is
    ///   already closed; [`PaymentProvider::order_state`] says which.
    /// - `Unsupported`: the provider has nothing to cancel (the default).
    async fn cancel_order(&self, order_id: &str) -> Result<(), ProviderError> {
        let _ = order_id;
        Err(ProviderError::Unsupported(self.name().to_owned()))
    }

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

    /// Reads the payment method an order saved (a checkout created with
    /// `save_payment_method: true`), with its label. `Ok(None)` when the order saved none, or
    /// saving is still in progress (a `PaymentMethodSaved` event follows).
    ///
    /// # Errors
    /// `ProviderError::Timeout`/`Unavailable`/`Protocol`.
    async fn saved_method(&self, order_id: &str) -> Result<Option<SavedMethod>, ProviderError> {
        let _ = order_id;
        Ok(None)
    }

    /// Creates the provider's order for a merchant-initiated charge without paying it, for
    /// providers whose order create has no idempotency key (Revolut, providers.md 2: "de-dup on
    /// our side, e.g. by storing the returned id"). The core stores the answered order id on
    /// the payment session *before* it calls [`PaymentProvider::charge_saved_method`], so a
    /// repeat from any process, after a timeout or a restart, pays that same order and never
    /// creates a second one.
    ///
    /// `Ok(None)`, the default, means the provider needs no prepared order because
    /// `charge_saved_method`'s idempotency key alone makes a repeat safe (PayPal's
    /// `PayPal-Request-Id`, the sandbox).
    ///
    /// # Errors
    /// - `Timeout`/`Unavailable`: unknown whether an order was created. An unpaid order left
    ///   behind moves no money, so the caller may prepare again.
    /// - `SavedMethodRevoked { code }`, `NeedsCustomer { code }`, `Declined { code }`: as for
    ///   `charge_saved_method`, when the provider refuses the order for the method.
    /// - `Protocol`: refused for another reason (a malformed token, an unexpected answer).
    async fn prepare_saved_method_charge(
        &self,
        method_token: &str,
        amount: Money,
        idempotency_key: &str,
    ) -> Result<Option<String>, ProviderError> {
        let _ = (method_token, amount, idempotency_key);
        Ok(None)
    }

    /// Charges a saved method without the buyer (a merchant-initiated transaction).
    ///
    /// `idempotency_key` is our id of this charge attempt (the auto top-up's payment session):
    /// it travels as the provider's reference (`custom_id`, `merchant_order_data.reference`) and
    /// as its idempotency key, so calling again with the same key never charges twice.
    ///
    /// `order_id` is the order this charge already has at the provider: the one
    /// [`PaymentProvider::prepare_saved_method_charge`] answered, or one an earlier attempt
    /// reported, as stored on the session. When it is given the adapter MUST charge that order
    /// and MUST NOT create another; paying an order that is already paid answers its payment.
    ///
    /// # Errors
    /// - `Declined { code }`: the funding was refused; a later retry may succeed.
    /// - `SavedMethodRevoked { code }`: the method is dead; stop using it.
    /// - `NeedsCustomer { code }`: the buyer must act; no automatic retry.
    /// - `Timeout`/`Unavailable`: unknown outcome; call again with the same key and order.
    /// - `Protocol`: refused, for example `order_id` is not an order of this charge, or a
    ///   provider that needs a prepared order got none.
    /// - `Unsupported`: the provider cannot charge saved methods.
    async fn charge_saved_method<'a>(
        &self,
        method_token: &str,
        amount: Money,
        idempotency_key: &str,
        order_id: Option<&'a str>,
    ) -> Result<MerchantCharge, ProviderError> {
        let _ = (method_token, amount, idempotency_key, order_id);
        Err(ProviderError::Unsupported(self.name().to_owned()))
    }

    /// Deletes a saved method at the provider. Deleting a method that is already gone succeeds.
    ///
    /// # Errors
    /// `ProviderError::Timeout`/`Unavailable`/`Protocol`, `Unsupported`.
    async fn delete_saved_method(&self, method_token: &str) -> Result<(), ProviderError> {
        let _ = method_token;
        Err(ProviderError::Unsupported(self.name().to_owned()))
    }
}
