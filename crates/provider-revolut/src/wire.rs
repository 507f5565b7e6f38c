//! Revolut Merchant API JSON, mirrored field by field (providers.md sections 2 and 6).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Header names and paths, in one place.
pub(crate) mod api {
    pub(crate) const API_VERSION: &str = "Revolut-Api-Version";
    pub(crate) const IDEMPOTENCY_KEY: &str = "Idempotency-Key";
    pub(crate) const REQUEST_TIMESTAMP: &str = "revolut-request-timestamp";
    pub(crate) const SIGNATURE: &str = "revolut-signature";
    pub(crate) const ORDERS_PATH: &str = "/api/orders";
    pub(crate) const CUSTOMERS_PATH: &str = "/api/customers";
}

#[derive(Debug, Serialize)]
pub(crate) struct OrderRequest {
    pub(crate) amount: i64,
    pub(crate) currency: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) description: Option<String>,
    pub(crate) capture_mode: &'static str,
    pub(crate) merchant_order_data: MerchantOrderData,
    pub(crate) metadata: BTreeMap<&'static str, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) redirect_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) customer: Option<CustomerRef>,
    /// ISO 8601 duration after which an unpaid `pending` order fails (`PT1M`..`PT720H`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) expire_pending_after: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct MerchantOrderData {
    pub(crate) reference: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CustomerRef {
    pub(crate) id: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Order {
    pub(crate) id: String,
    #[serde(rename = "type")]
    pub(crate) order_type: Option<String>,
    pub(crate) state: String,
    pub(crate) amount: i64,
    pub(crate) currency: String,
    pub(crate) checkout_url: Option<String>,
    pub(crate) customer: Option<CustomerRef>,
    #[serde(default)]
    pub(crate) payments: Vec<Payment>,
    pub(crate) merchant_order_data: Option<MerchantOrderData>,
    pub(crate) related_order_id: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Payment {
    pub(crate) state: String,
    pub(crate) decline_reason: Option<String>,
    pub(crate) payment_method: Option<PaymentMethod>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct PaymentMethod {
    pub(crate) id: Option<String>,
    #[serde(rename = "type")]
    pub(crate) method_type: String,
    pub(crate) brand: Option<String>,
    pub(crate) last_four: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct RefundRequest {
    pub(crate) amount: i64,
    pub(crate) currency: String,
    pub(crate) merchant_order_data: MerchantOrderData,
}

#[derive(Debug, Serialize)]
pub(crate) struct PayRequest {
    pub(crate) saved_payment_method: SavedPaymentMethodRef,
}

#[derive(Debug, Serialize)]
pub(crate) struct SavedPaymentMethodRef {
    #[serde(rename = "type")]
    pub(crate) method_type: String,
    pub(crate) id: String,
    pub(crate) initiator: &'static str,
}

#[derive(Debug, Deserialize)]
pub(crate) struct PaymentRetrieval {
    pub(crate) state: String,
    pub(crate) decline_reason: Option<String>,
    pub(crate) authentication_challenge: Option<serde_json::Value>,
}

/// `Error-v2`: `code` is a string or a number, `message` may be absent.
#[derive(Debug, Deserialize)]
pub(crate) struct ErrorBody {
    pub(crate) code: Option<serde_json::Value>,
    pub(crate) message: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct WebhookEvent {
    pub(crate) event: String,
    pub(crate) order_id: Option<String>,
    pub(crate) merchant_order_ext_ref: Option<String>,
}
