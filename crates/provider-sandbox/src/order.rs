//! A sandbox order as stored.

use ledger_core::error::ProviderError;
use ledger_core::money::{Currency, Money};
use ledger_core::ports::CaptureOutcome;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// The settings-document key of an order.
pub(crate) fn key(order_id: &str) -> String {
    format!("sandbox_order:{order_id}")
}

/// Where a sandbox order stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SandboxOrderStatus {
    /// Waiting for the buyer.
    Created,
    /// Approved by the buyer, not captured.
    Approved,
    /// Canceled by the buyer.
    Canceled,
    /// Captured.
    Completed,
}

/// One refund of a sandbox order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SandboxRefund {
    /// The caller's idempotency key.
    pub key: String,
    /// The money refunded.
    pub amount: Decimal,
}

/// A sandbox order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SandboxOrder {
    /// Its id (the `token` of the approval page).
    pub order_id: String,
    /// The purse payment session.
    pub session_id: String,
    /// The money.
    pub amount: Decimal,
    /// Its currency code.
    pub currency: String,
    /// Where it stands.
    pub status: SandboxOrderStatus,
    /// The capture, once captured.
    pub capture_id: Option<String>,
    /// Money refunded so far.
    pub refunded: Decimal,
    /// The refunds made, by idempotency key: a repeated key answers its refund again.
    #[serde(default)]
    pub refunds: Vec<SandboxRefund>,
    /// Where Approve sends the browser.
    pub return_url: String,
    /// Where Cancel sends the browser.
    pub cancel_url: String,
    /// Whether the buyer agreed to save the method.
    pub save_payment_method: bool,
}

impl SandboxOrder {
    /// The money of the order.
    ///
    /// # Errors
    /// `ProviderError::Protocol` when the stored currency or amount is invalid.
    pub fn money(&self) -> Result<Money, ProviderError> {
        let currency = Currency::parse(&self.currency)
            .map_err(|error| ProviderError::Protocol(error.to_string()))?;
        Money::try_new(self.amount, currency)
            .map_err(|error| ProviderError::Protocol(error.to_string()))
    }

    pub(crate) fn completed(&self) -> Result<CaptureOutcome, ProviderError> {
        Ok(CaptureOutcome::Completed {
            capture_id: self.capture_id.clone().unwrap_or_default(),
            amount: self.money()?,
            saved_method: None,
        })
    }
}
