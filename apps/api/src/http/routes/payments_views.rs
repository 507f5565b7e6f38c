//! The JSON shapes of seed 002: payment sessions, confirmations, refunds. Amounts are JSON
//! numbers here (the wallet API uses decimal strings), written from their exact decimal text.

use std::str::FromStr;

use ledger_core::money::Credits;
use ledger_core::payment_session::PaymentSession;
use ledger_core::ports::SavedPaymentMethod;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::http::views::rfc3339;

/// A decimal as a JSON number with exactly its digits (serde_json keeps the text with
/// `arbitrary_precision`): never through a float.
pub fn number(value: Decimal) -> Value {
    serde_json::Number::from_str(&value.normalize().to_string()).map_or(Value::Null, Value::Number)
}

/// Credits as a JSON number.
pub fn credits(value: Credits) -> Value {
    number(value.value())
}

fn optional_credits(value: Option<Credits>) -> Value {
    value.map_or(Value::Null, credits)
}

/// `GET /v1/payments/sessions/{id}`: the seed's fields, plus what a client needs to finish or
/// explain the session (wallet, credits, refunds, expiry, approval URL while it is open).
pub fn session_view(session: &PaymentSession) -> Value {
    json!({
        "id": session.id.as_str(),
        "org_id": session.org_id.as_str(),
        "user_id": session.user_id.as_ref().map(|id| id.as_str()),
        "provider": session.provider,
        "surface": session.surface,
        "provider_order_id": session.provider_order_id,
        "provider_capture_id": session.provider_capture_id,
        "amount": number(session.amount),
        "currency": session.currency.code(),
        "target_wallet_owner_type": session.target_owner.owner_type().as_str(),
        "target_wallet_owner_id": session.target_owner.id_str(),
        "status": session.status.as_str(),
        "wallet_id": session.wallet_id.as_str(),
        "wallet_transaction_id": session.wallet_transaction_id.as_ref().map(|id| id.as_str()),
        "credited_amount": optional_credits(session.credited_amount),
        "refunded_amount": number(session.refunded_amount),
        "provider_refund_id": session.provider_refund_id,
        "approval_url": session.approval_url,
        "save_payment_method": session.save_payment_method,
        "payment_method_id": session.payment_method_id.as_ref().map(|id| id.as_str()),
        "error_code": session.error_code,
        "error_message": session.error_message,
        "created_at": rfc3339(session.created_at),
        "updated_at": rfc3339(session.updated_at),
        "expires_at": rfc3339(session.expires_at),
    })
}

/// A history line: the seed's fields (the full session view is a superset of them).
pub fn history_line(session: &PaymentSession) -> Value {
    session_view(session)
}

/// `POST /v1/payments/create-checkout`'s answer.
pub fn checkout_view(session: &PaymentSession) -> Value {
    json!({
        "payment_session_id": session.id.as_str(),
        "provider": session.provider,
        "approval_url": session.approval_url,
        "expires_at": rfc3339(session.expires_at),
        "checkout_state": session.checkout_state,
        "provider_order_id": session.provider_order_id,
        "status": session.status.as_str(),
        "amount": number(session.amount),
        "currency": session.currency.code(),
        "wallet_id": session.wallet_id.as_str(),
    })
}

/// `POST /v1/payments/confirm-checkout`'s answer.
pub fn confirm_view(session: &PaymentSession) -> Value {
    json!({
        "payment_session_id": session.id.as_str(),
        "provider": session.provider,
        "status": session.status.as_str(),
        "wallet_id": session.wallet_id.as_str(),
        "credited_amount": optional_credits(session.credited_amount),
        "wallet_balance_after": optional_credits(session.wallet_balance_after),
        "amount": number(session.amount),
        "currency": session.currency.code(),
        "provider_capture_id": session.provider_capture_id,
        "error_code": session.error_code,
        "error_message": session.error_message,
    })
}

/// A saved payment method.
pub fn method_view(method: &SavedPaymentMethod) -> Value {
    json!({
        "id": method.id.as_str(),
        "provider": method.provider,
        "owner_type": method.owner.owner_type().as_str(),
        "owner_id": method.owner.id_str(),
        "label": method.label,
        "created_at": rfc3339(method.created_at),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_their_exact_digits_without_trailing_zeros() {
        assert_eq!(number(Decimal::new(2500, 2)).to_string(), "25");
        assert_eq!(number(Decimal::new(1999, 2)).to_string(), "19.99");
        assert_eq!(
            number(Decimal::new(1, 9)).to_string(),
            "0.000000001",
            "no float rounding"
        );
    }
}
