//! Row structs of the payment tables and their mapping to domain values. Engine-neutral:
//! compiled once per engine, with that engine's `Amount`.

use ledger_core::error::StoreError;
use ledger_core::money::Credits;
use ledger_core::payment_session::{PaymentSession, PaymentStatus};
use ledger_core::ports::SavedPaymentMethod;
use ledger_core::wallet::{Owner, OwnerType};

use super::{Amount, amount, decimal};
use crate::codec::{
    credits, currency, from_json, instant_from_micros, parse, parse_optional, wire,
};

/// The columns of `payment_session`, in the order of [`PaymentSessionRow`] and of the binds of
/// `insert_payment_session`.
pub(super) const PAYMENT_SESSION_COLUMNS: &str = r#"
    payment_session_id, organization_id, user_id, provider, surface, target_owner_type,
    target_owner_id, wallet_id, amount, currency, status, checkout_state, provider_order_id,
    provider_capture_id, approval_url, return_url, cancel_url, save_payment_method,
    payment_method_id, credited_amount, wallet_balance_after, wallet_transaction_id,
    refunded_amount, refunded_credits, applied_refund_ids, provider_refund_id, error_code,
    error_message, created_at, updated_at, expires_at
"#;

#[derive(Debug, sqlx::FromRow)]
pub(super) struct PaymentSessionRow {
    payment_session_id: String,
    organization_id: String,
    user_id: Option<String>,
    provider: String,
    surface: String,
    target_owner_type: String,
    target_owner_id: String,
    wallet_id: String,
    amount: Amount,
    currency: String,
    status: String,
    checkout_state: String,
    provider_order_id: Option<String>,
    provider_capture_id: Option<String>,
    approval_url: Option<String>,
    return_url: Option<String>,
    cancel_url: Option<String>,
    save_payment_method: bool,
    payment_method_id: Option<String>,
    credited_amount: Option<Amount>,
    wallet_balance_after: Option<Amount>,
    wallet_transaction_id: Option<String>,
    refunded_amount: Amount,
    refunded_credits: Amount,
    applied_refund_ids: String,
    provider_refund_id: Option<String>,
    error_code: Option<String>,
    error_message: Option<String>,
    created_at: i64,
    updated_at: i64,
    expires_at: i64,
}

fn owner(owner_type: &str, owner_id: &str) -> Result<Owner, StoreError> {
    let owner_type = wire(owner_type, "owner type", OwnerType::parse)?;
    Owner::parse(owner_type, owner_id)
        .map_err(|error| StoreError::Corrupt(format!("owner `{owner_id}`: {error}")))
}

fn optional_credits(stored: Option<Amount>) -> Result<Option<Credits>, StoreError> {
    stored.map(|value| credits(decimal(value)?)).transpose()
}

/// Optional credits as stored.
pub(super) fn optional_amount(value: Option<Credits>) -> Option<Amount> {
    value.map(|credits| amount(credits.value()))
}

impl TryFrom<PaymentSessionRow> for PaymentSession {
    type Error = StoreError;

    fn try_from(row: PaymentSessionRow) -> Result<Self, StoreError> {
        Ok(PaymentSession {
            id: parse(&row.payment_session_id, "payment session id")?,
            org_id: parse(&row.organization_id, "organization id")?,
            user_id: parse_optional(row.user_id.as_deref(), "user id")?,
            provider: row.provider,
            surface: row.surface,
            target_owner: owner(&row.target_owner_type, &row.target_owner_id)?,
            wallet_id: parse(&row.wallet_id, "wallet id")?,
            amount: decimal(row.amount)?,
            currency: currency(&row.currency)?,
            status: wire(&row.status, "payment status", PaymentStatus::parse)?,
            checkout_state: row.checkout_state,
            provider_order_id: row.provider_order_id,
            provider_capture_id: row.provider_capture_id,
            approval_url: row.approval_url,
            return_url: row.return_url,
            cancel_url: row.cancel_url,
            save_payment_method: row.save_payment_method,
            payment_method_id: parse_optional(
                row.payment_method_id.as_deref(),
                "payment method id",
            )?,
            credited_amount: optional_credits(row.credited_amount)?,
            wallet_balance_after: optional_credits(row.wallet_balance_after)?,
            wallet_transaction_id: parse_optional(
                row.wallet_transaction_id.as_deref(),
                "transaction id",
            )?,
            refunded_amount: decimal(row.refunded_amount)?,
            refunded_credits: credits(decimal(row.refunded_credits)?)?,
            applied_refund_ids: from_json(&row.applied_refund_ids, "applied refund ids")?,
            provider_refund_id: row.provider_refund_id,
            error_code: row.error_code,
            error_message: row.error_message,
            created_at: instant_from_micros(row.created_at)?,
            updated_at: instant_from_micros(row.updated_at)?,
            expires_at: instant_from_micros(row.expires_at)?,
        })
    }
}

/// The columns of `payment_method`, in the order of [`PaymentMethodRow`].
pub(super) const PAYMENT_METHOD_COLUMNS: &str = r#"
    payment_method_id, organization_id, provider, owner_type, owner_id, provider_token,
    provider_customer_id, label, created_at
"#;

#[derive(Debug, sqlx::FromRow)]
pub(super) struct PaymentMethodRow {
    payment_method_id: String,
    organization_id: String,
    provider: String,
    owner_type: String,
    owner_id: String,
    provider_token: String,
    provider_customer_id: Option<String>,
    label: String,
    created_at: i64,
}

impl TryFrom<PaymentMethodRow> for SavedPaymentMethod {
    type Error = StoreError;

    fn try_from(row: PaymentMethodRow) -> Result<Self, StoreError> {
        Ok(SavedPaymentMethod {
            id: parse(&row.payment_method_id, "payment method id")?,
            org_id: parse(&row.organization_id, "organization id")?,
            provider: row.provider,
            owner: owner(&row.owner_type, &row.owner_id)?,
            provider_token: row.provider_token,
            provider_customer_id: row.provider_customer_id,
            label: row.label,
            created_at: instant_from_micros(row.created_at)?,
        })
    }
}
