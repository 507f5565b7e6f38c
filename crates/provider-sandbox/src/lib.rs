//! # provider-sandbox
//!
//! The built-in `sandbox` payment provider: a machine with no credentials can still run a
//! whole top-up. Its approval page is the purse server's own `/sandbox/checkout/{token}`
//! (served by the HTTP app), whose Approve and Cancel buttons call [`SandboxProvider::approve`]
//! and [`SandboxProvider::cancel`] and redirect the browser the way PayPal does
//! (`return_url?token=…`).
//!
//! Orders are kept as settings documents of the [`PaymentStore`] port, so they survive a
//! restart and are shared by every `purse` process on one database. It implements the same
//! [`PaymentProvider`] port as PayPal and Revolut: it is not a test double.

mod order;

use std::sync::Arc;

use async_trait::async_trait;
use ledger_core::error::ProviderError;
use ledger_core::money::Money;
use ledger_core::ports::{
    CaptureOutcome, CheckoutCreated, CheckoutRequest, IdSource, MerchantCharge, OrderState,
    PaymentProvider, PaymentStore, ProviderEvent, RefundOutcome, SavedMethod, WebhookRequest,
};
use rust_decimal::Decimal;

pub use crate::order::{SandboxOrder, SandboxOrderStatus, SandboxRefund};

/// The provider's wire name.
pub const NAME: &str = "sandbox";

/// The sandbox provider.
#[derive(Debug, Clone)]
pub struct SandboxProvider {
    store: Arc<dyn PaymentStore>,
    ids: Arc<dyn IdSource>,
    public_url: String,
}

impl SandboxProvider {
    /// A sandbox whose approval pages live under `public_url` (`PURSE_PUBLIC_URL`).
    pub fn new(store: Arc<dyn PaymentStore>, ids: Arc<dyn IdSource>, public_url: &str) -> Self {
        Self {
            store,
            ids,
            public_url: public_url.trim_end_matches('/').to_owned(),
        }
    }

    /// An order, for the approval page.
    ///
    /// # Errors
    /// `ProviderError::Unavailable` when the store fails.
    pub async fn order(&self, order_id: &str) -> Result<Option<SandboxOrder>, ProviderError> {
        let Some(text) = self
            .store
            .setting(&order::key(order_id))
            .await
            .map_err(unavailable)?
        else {
            return Ok(None);
        };
        serde_json::from_str(&text).map(Some).map_err(|error| {
            ProviderError::Protocol(format!("stored sandbox order is corrupt: {error}"))
        })
    }

    async fn save(&self, order: &SandboxOrder) -> Result<(), ProviderError> {
        let text = serde_json::to_string(order)
            .map_err(|error| ProviderError::Protocol(error.to_string()))?;
        self.store
            .put_setting(&order::key(&order.order_id), &text)
            .await
            .map_err(unavailable)
    }

    async fn existing(&self, order_id: &str) -> Result<SandboxOrder, ProviderError> {
        self.order(order_id).await?.ok_or_else(|| {
            ProviderError::Protocol(format!("sandbox order {order_id} does not exist"))
        })
    }

    /// The buyer approves: answers the URL to send the browser to (`return_url?token=…`).
    ///
    /// # Errors
    /// `ProviderError::Protocol` when the order does not exist or is not awaiting approval.
    pub async fn approve(&self, order_id: &str) -> Result<String, ProviderError> {
        let mut order = self.existing(order_id).await?;
        match order.status {
            SandboxOrderStatus::Created => {
                order.status = SandboxOrderStatus::Approved;
                self.save(&order).await?;
            }
            SandboxOrderStatus::Approved | SandboxOrderStatus::Completed => {}
            SandboxOrderStatus::Canceled => {
                return Err(ProviderError::Protocol(format!(
                    "sandbox order {order_id} was canceled"
                )));
            }
        }
        Ok(with_token(&order.return_url, order_id))
    }

    /// The buyer cancels: answers the URL to send the browser to (`cancel_url?token=…`).
    ///
    /// # Errors
    /// `ProviderError::Protocol` when the order does not exist or was already paid.
    pub async fn cancel(&self, order_id: &str) -> Result<String, ProviderError> {
        let mut order = self.existing(order_id).await?;
        if order.status == SandboxOrderStatus::Completed {
            return Err(ProviderError::Protocol(format!(
                "sandbox order {order_id} was already paid"
            )));
        }
        order.status = SandboxOrderStatus::Canceled;
        self.save(&order).await?;
        Ok(with_token(&order.cancel_url, order_id))
    }
}

fn with_token(url: &str, token: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}token={token}")
}

fn unavailable(error: ledger_core::StoreError) -> ProviderError {
    ProviderError::Unavailable(Box::new(error))
}

#[async_trait]
impl PaymentProvider for SandboxProvider {
    fn name(&self) -> &'static str {
        NAME
    }

    async fn create_checkout(
        &self,
        request: &CheckoutRequest,
    ) -> Result<CheckoutCreated, ProviderError> {
        let order_id = format!("SBX{}", self.ids.next_suffix().to_uppercase());
        let order = SandboxOrder {
            order_id: order_id.clone(),
            session_id: request.session_id.clone(),
            amount: request.amount.amount(),
            currency: request.amount.currency().code().to_owned(),
            status: SandboxOrderStatus::Created,
            capture_id: None,
            refunded: Decimal::ZERO,
            refunds: Vec::new(),
            return_url: request.return_url.clone(),
            cancel_url: request.cancel_url.clone(),
            save_payment_method: request.save_payment_method,
        };
        self.save(&order).await?;
        Ok(CheckoutCreated {
            approval_url: format!("{}/sandbox/checkout/{order_id}", self.public_url),
            order_id,
        })
    }

    async fn capture(
        &self,
        order_id: &str,
        _idempotency_key: &str,
    ) -> Result<CaptureOutcome, ProviderError> {
        let mut order = self.existing(order_id).await?;
        match order.status {
            SandboxOrderStatus::Created => Err(ProviderError::NotApproved),
            SandboxOrderStatus::Canceled => Ok(CaptureOutcome::Declined {
                code: "ORDER_CANCELED".to_owned(),
            }),
            SandboxOrderStatus::Approved | SandboxOrderStatus::Completed => {
                if order.capture_id.is_none() {
                    order.capture_id = Some(format!("SBXCAP{}", &order.order_id[3..]));
                    order.status = SandboxOrderStatus::Completed;
                    self.save(&order).await?;
                }
                order.completed()
            }
        }
    }

    async fn order_state(&self, order_id: &str) -> Result<OrderState, ProviderError> {
        let order = self.existing(order_id).await?;
        Ok(match order.status {
            SandboxOrderStatus::Created => OrderState::Created,
            SandboxOrderStatus::Approved => OrderState::Approved,
            SandboxOrderStatus::Canceled => OrderState::Canceled,
            SandboxOrderStatus::Completed => OrderState::Captured(order.completed()?),
        })
    }

    async fn refund(
        &self,
        order_id: &str,
        _capture_id: &str,
        amount: Money,
        idempotency_key: &str,
    ) -> Result<RefundOutcome, ProviderError> {
        let mut order = self.existing(order_id).await?;
        let refund_id = format!("SBXREF-{idempotency_key}");
        if let Some(done) = order
            .refunds
            .iter()
            .find(|refund| refund.key == idempotency_key)
        {
            // A retry: answer the refund made, refund nothing more (as PayPal's request id).
            return Ok(RefundOutcome {
                refund_id,
                amount: Money::try_new(done.amount, amount.currency())
                    .map_err(|error| ProviderError::Protocol(error.to_string()))?,
            });
        }
        if order.status != SandboxOrderStatus::Completed
            || order.refunded + amount.amount() > order.amount
        {
            return Err(ProviderError::Protocol(format!(
                "sandbox order {order_id} cannot refund {}",
                amount.amount()
            )));
        }
        order.refunded += amount.amount();
        order.refunds.push(SandboxRefund {
            key: idempotency_key.to_owned(),
            amount: amount.amount(),
        });
        self.save(&order).await?;
        Ok(RefundOutcome { refund_id, amount })
    }

    async fn verify_webhook(
        &self,
        _request: &WebhookRequest,
    ) -> Result<ProviderEvent, ProviderError> {
        // The sandbox sends no webhooks: anything claiming to be one is not genuine.
        Err(ProviderError::BadSignature)
    }

    async fn saved_method(&self, order_id: &str) -> Result<Option<SavedMethod>, ProviderError> {
        let order = self.existing(order_id).await?;
        Ok(
            (order.save_payment_method && order.status == SandboxOrderStatus::Completed).then(
                || SavedMethod {
                    token: format!("sbxpm_{}", order.order_id),
                    method_id: format!("sbxpm_{}", order.order_id),
                    customer_id: None,
                    label: "Sandbox card •••• 4242".to_owned(),
                },
            ),
        )
    }

    /// The sandbox's charge order is named by the key (`SBXMIT-{key}`), so it needs no
    /// prepared order and ignores `order_id`: a repeat answers the same charge.
    async fn charge_saved_method<'a>(
        &self,
        method_token: &str,
        amount: Money,
        idempotency_key: &str,
        _order_id: Option<&'a str>,
    ) -> Result<MerchantCharge, ProviderError> {
        // A token containing `decline` simulates a declined card, for demos of failed top-ups.
        if method_token.contains("decline") {
            return Err(ProviderError::Declined {
                code: "INSTRUMENT_DECLINED".to_owned(),
            });
        }
        Ok(MerchantCharge {
            order_id: format!("SBXMIT-{idempotency_key}"),
            outcome: CaptureOutcome::Completed {
                capture_id: format!("SBXMITCAP-{idempotency_key}"),
                amount,
                saved_method: None,
            },
        })
    }

    async fn delete_saved_method(&self, _method_token: &str) -> Result<(), ProviderError> {
        Ok(())
    }
}
