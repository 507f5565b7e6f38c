//! PayPal's JSON, mirrored field by field (providers.md sections 1 and 6). No logic here.

use serde::{Deserialize, Serialize};

/// Header names and paths, in one place.
pub(crate) mod api {
    pub(crate) const REQUEST_ID: &str = "PayPal-Request-Id";
    pub(crate) const PREFER: &str = "Prefer";
    pub(crate) const PREFER_REPRESENTATION: &str = "return=representation";
    pub(crate) const DEBUG_ID: &str = "paypal-debug-id";

    pub(crate) const TOKEN_PATH: &str = "/v1/oauth2/token";
    pub(crate) const ORDERS_PATH: &str = "/v2/checkout/orders";
    pub(crate) const CAPTURES_PATH: &str = "/v2/payments/captures";
    pub(crate) const VERIFY_PATH: &str = "/v1/notifications/verify-webhook-signature";
    pub(crate) const PAYMENT_TOKENS_PATH: &str = "/v3/vault/payment-tokens";

    pub(crate) const TRANSMISSION_ID: &str = "paypal-transmission-id";
    pub(crate) const TRANSMISSION_TIME: &str = "paypal-transmission-time";
    pub(crate) const TRANSMISSION_SIG: &str = "paypal-transmission-sig";
    pub(crate) const CERT_URL: &str = "paypal-cert-url";
    pub(crate) const AUTH_ALGO: &str = "paypal-auth-algo";
}

#[derive(Debug, Deserialize)]
pub(crate) struct TokenResponse {
    pub(crate) access_token: String,
    pub(crate) expires_in: u64,
}

#[derive(Debug, Deserialize)]
pub(crate) struct OAuthErrorBody {
    pub(crate) error: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ErrorBody {
    pub(crate) name: Option<String>,
    pub(crate) debug_id: Option<String>,
    #[serde(default)]
    pub(crate) details: Vec<ErrorDetail>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ErrorDetail {
    pub(crate) issue: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Amount {
    pub(crate) currency_code: String,
    pub(crate) value: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct OrderRequest {
    pub(crate) intent: &'static str,
    pub(crate) purchase_units: Vec<PurchaseUnitRequest>,
    pub(crate) payment_source: PaymentSourceRequest,
}

#[derive(Debug, Serialize)]
pub(crate) struct PurchaseUnitRequest {
    pub(crate) reference_id: String,
    pub(crate) custom_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) description: Option<String>,
    pub(crate) amount: Amount,
}

#[derive(Debug, Serialize)]
pub(crate) struct PaymentSourceRequest {
    pub(crate) paypal: PaypalSourceRequest,
}

#[derive(Debug, Default, Serialize)]
pub(crate) struct PaypalSourceRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) experience_context: Option<ExperienceContext>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) attributes: Option<AttributesRequest>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) vault_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) stored_credential: Option<StoredCredential>,
}

#[derive(Debug, Serialize)]
pub(crate) struct ExperienceContext {
    pub(crate) return_url: String,
    pub(crate) cancel_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) brand_name: Option<String>,
    pub(crate) shipping_preference: &'static str,
    pub(crate) user_action: &'static str,
}

#[derive(Debug, Serialize)]
pub(crate) struct AttributesRequest {
    pub(crate) vault: VaultInstruction,
}

#[derive(Debug, Serialize)]
pub(crate) struct VaultInstruction {
    pub(crate) store_in_vault: &'static str,
    pub(crate) usage_type: &'static str,
    pub(crate) usage_pattern: String,
    pub(crate) permit_multiple_payment_tokens: bool,
}

#[derive(Debug, Serialize)]
pub(crate) struct StoredCredential {
    pub(crate) payment_initiator: &'static str,
    pub(crate) usage: &'static str,
    pub(crate) usage_pattern: String,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Link {
    pub(crate) href: String,
    pub(crate) rel: String,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Order {
    pub(crate) id: String,
    pub(crate) status: String,
    #[serde(default)]
    pub(crate) links: Vec<Link>,
    #[serde(default)]
    pub(crate) purchase_units: Vec<PurchaseUnit>,
    pub(crate) payment_source: Option<PaymentSourceResponse>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct PurchaseUnit {
    pub(crate) custom_id: Option<String>,
    pub(crate) payments: Option<Payments>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Payments {
    #[serde(default)]
    pub(crate) captures: Vec<Capture>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Capture {
    pub(crate) id: String,
    pub(crate) status: String,
    pub(crate) amount: Option<Amount>,
    pub(crate) custom_id: Option<String>,
    pub(crate) status_details: Option<StatusDetails>,
    pub(crate) supplementary_data: Option<SupplementaryData>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct StatusDetails {
    pub(crate) reason: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct SupplementaryData {
    pub(crate) related_ids: Option<RelatedIds>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct RelatedIds {
    pub(crate) order_id: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct PaymentSourceResponse {
    pub(crate) paypal: Option<PaypalSourceResponse>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct PaypalSourceResponse {
    pub(crate) email_address: Option<String>,
    pub(crate) attributes: Option<AttributesResponse>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct AttributesResponse {
    pub(crate) vault: Option<VaultResponse>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct VaultResponse {
    pub(crate) id: Option<String>,
    pub(crate) customer: Option<CustomerRef>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct CustomerRef {
    pub(crate) id: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct RefundRequest {
    pub(crate) amount: Amount,
    pub(crate) custom_id: String,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Refund {
    pub(crate) id: String,
    pub(crate) status: String,
    pub(crate) amount: Option<Amount>,
    #[serde(default)]
    pub(crate) links: Vec<Link>,
}

/// The verify request without `webhook_event`, which is spliced in as the raw received bytes.
#[derive(Debug, Serialize)]
pub(crate) struct VerifyRequestHead<'a> {
    pub(crate) auth_algo: &'a str,
    pub(crate) cert_url: &'a str,
    pub(crate) transmission_id: &'a str,
    pub(crate) transmission_sig: &'a str,
    pub(crate) transmission_time: &'a str,
    pub(crate) webhook_id: &'a str,
}

#[derive(Debug, Deserialize)]
pub(crate) struct VerifyResponse {
    pub(crate) verification_status: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct WebhookEvent {
    pub(crate) id: String,
    pub(crate) event_type: String,
    #[serde(default)]
    pub(crate) resource: serde_json::Value,
}

/// The resource of `VAULT.PAYMENT-TOKEN.*` events.
#[derive(Debug, Deserialize)]
pub(crate) struct PaymentTokenResource {
    pub(crate) id: String,
    pub(crate) customer: Option<CustomerRef>,
    pub(crate) payment_source: Option<PaymentSourceResponse>,
    pub(crate) metadata: Option<PaymentTokenMetadata>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct PaymentTokenMetadata {
    pub(crate) order_id: Option<String>,
}
