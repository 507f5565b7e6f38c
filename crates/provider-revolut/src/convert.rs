//! Conversions between Revolut's wire shapes and the port's types, with the state tables.

use ledger_core::ProviderError;
use ledger_core::money::{Currency, Money};
use ledger_core::ports::{CaptureOutcome, OrderState, SavedMethod};
use rust_decimal::Decimal;

use crate::wire::{Order, Payment};

/// Money in integer minor units (`25.00 EUR` → `2500`, `1000 JPY` → `1000`).
pub(crate) fn to_minor_units(money: Money) -> Result<i64, ProviderError> {
    let scale = Decimal::from(10_i64.pow(money.currency().minor_units()));
    let minor = money.amount() * scale;
    if !minor.fract().is_zero() {
        return Err(ProviderError::Protocol(format!(
            "{} {} is not a whole number of minor units",
            money.amount(),
            money.currency()
        )));
    }
    i64::try_from(minor)
        .map_err(|_| ProviderError::Protocol(format!("{} is too large", money.amount())))
}

/// Minor units back to money.
pub(crate) fn from_minor_units(minor: i64, currency: &str) -> Result<Money, ProviderError> {
    let currency = Currency::parse(&currency.to_ascii_uppercase()).map_err(|error| {
        ProviderError::Protocol(format!("revolut sent an unknown currency: {error}"))
    })?;
    let amount = Decimal::new(minor, currency.minor_units());
    Money::try_new(amount, currency)
        .map_err(|error| ProviderError::Protocol(format!("revolut sent a bad amount: {error}")))
}

/// `expire_pending_after` for a session open `ttl_seconds`: whole minutes rounded up, so the
/// order never fails before the session expires (`PT3H`, `PT1H30M`, `PT5M`). `None` when
/// Revolut's range (`PT1M`..`PT720H`) cannot hold it: no expiry is better than an early one.
pub(crate) fn expire_pending_after(ttl_seconds: i64) -> Option<String> {
    const MINUTES_MAX: i64 = 720 * 60;
    let minutes = (ttl_seconds.max(1) + 59) / 60;
    if minutes > MINUTES_MAX {
        return None;
    }
    Some(match (minutes / 60, minutes % 60) {
        (0, minutes) => format!("PT{minutes}M"),
        (hours, 0) => format!("PT{hours}H"),
        (hours, minutes) => format!("PT{hours}H{minutes}M"),
    })
}

/// The last payment attempt of an order.
fn last_payment(order: &Order) -> Option<&Payment> {
    order.payments.last()
}

/// A saved method's token: `{customer_id}/{type}/{payment_method_id}`.
pub(crate) fn method_token(customer_id: &str, method_type: &str, method_id: &str) -> String {
    format!("{customer_id}/{method_type}/{method_id}")
}

/// The parts of a token made by [`method_token`].
pub(crate) fn parse_method_token(token: &str) -> Result<(&str, &str, &str), ProviderError> {
    let mut parts = token.split('/');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(customer), Some(kind @ ("card" | "revolut_pay")), Some(id), None)
            if is_uuid_like(customer) && is_uuid_like(id) =>
        {
            Ok((customer, kind, id))
        }
        _ => Err(ProviderError::Protocol(format!(
            "`{token}` is not a revolut saved method token"
        ))),
    }
}

/// Letters, digits and dashes only, so an id cannot change a request path.
pub(crate) fn is_uuid_like(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
}

/// The method an order saved: the completed payment's `payment_method.id` (present only when
/// the method was saved) and the order's customer.
pub(crate) fn saved_method(order: &Order) -> Option<SavedMethod> {
    let customer_id = order.customer.as_ref()?.id.clone()?;
    let method = order
        .payments
        .iter()
        .rev()
        .filter(|payment| {
            matches!(
                payment.state.as_str(),
                "completed" | "captured" | "authorised"
            )
        })
        .find_map(|payment| payment.payment_method.as_ref())?;
    let method_id = method.id.clone()?;
    // A saved method is `card` or `revolut_pay`; the order's snapshot names it more finely.
    let kind = if method.method_type.starts_with("revolut_pay") {
        "revolut_pay"
    } else {
        "card"
    };
    let label = match (&method.brand, &method.last_four) {
        (Some(brand), Some(last_four)) => format!("{brand} •••• {last_four}"),
        (None, Some(last_four)) => format!("card •••• {last_four}"),
        _ if kind == "revolut_pay" => "Revolut Pay".to_owned(),
        _ => "card".to_owned(),
    };
    Some(SavedMethod {
        token: method_token(&customer_id, kind, &method_id),
        method_id,
        customer_id: Some(customer_id),
        label,
    })
}

/// What an order means as a capture (Revolut captures automatically; providers.md 2.5).
/// `None` when nothing was paid yet (`pending`).
pub(crate) fn capture_outcome(order: &Order) -> Result<Option<CaptureOutcome>, ProviderError> {
    match order.state.as_str() {
        "completed" => Ok(Some(CaptureOutcome::Completed {
            capture_id: order.id.clone(),
            amount: from_minor_units(order.amount, &order.currency)?,
            saved_method: saved_method(order).map(|method| method.token),
        })),
        "processing" | "authorised" => Ok(Some(CaptureOutcome::Pending {
            capture_id: order.id.clone(),
        })),
        "cancelled" => Ok(Some(CaptureOutcome::Declined {
            code: "cancelled".to_owned(),
        })),
        "failed" => Ok(Some(CaptureOutcome::Declined {
            code: decline_code(order),
        })),
        "pending" => Ok(None),
        other => Err(ProviderError::Protocol(format!(
            "revolut order state `{other}` is unknown"
        ))),
    }
}

fn decline_code(order: &Order) -> String {
    last_payment(order)
        .and_then(|payment| payment.decline_reason.clone())
        .unwrap_or_else(|| order.state.clone())
}

/// Whether a payment attempt ended without paying (the order stays or goes back to `pending`).
pub(crate) fn is_failed_attempt(state: &str) -> bool {
    matches!(state, "declined" | "soft_declined" | "failed" | "cancelled")
}

/// The order state table. A `pending` order whose last attempt was declined is not final (a
/// buyer may try again, providers.md 2.5), but it says a merchant-initiated charge failed.
pub(crate) fn order_state(order: &Order) -> Result<OrderState, ProviderError> {
    match order.state.as_str() {
        "pending" => Ok(match last_payment(order) {
            Some(payment) if is_failed_attempt(&payment.state) => OrderState::AttemptDeclined {
                code: payment
                    .decline_reason
                    .clone()
                    .unwrap_or_else(|| payment.state.clone()),
            },
            _ => OrderState::Created,
        }),
        "authorised" => Ok(OrderState::Approved),
        "cancelled" => Ok(OrderState::Canceled),
        "failed" => Ok(OrderState::Failed {
            code: decline_code(order),
        }),
        _ => match capture_outcome(order)? {
            Some(outcome) => Ok(OrderState::Captured(outcome)),
            None => Ok(OrderState::Created),
        },
    }
}

/// A declined merchant-initiated payment, classified as providers.md 6.8 suggests.
pub(crate) fn classify_decline(state: &str, reason: Option<&str>) -> ProviderError {
    let code = reason.unwrap_or(state).to_owned();
    if state == "soft_declined" {
        return ProviderError::NeedsCustomer { code };
    }
    match code.as_str() {
        "expired_card"
        | "invalid_card"
        | "unknown_card"
        | "pick_up_card"
        | "restricted_card"
        | "invalid_expiry"
        | "suspected_fraud"
        | "transaction_not_allowed_for_cardholder" => ProviderError::SavedMethodRevoked { code },
        reason if reason.starts_with("3ds_") || reason.starts_with("customer_challenge") => {
            ProviderError::NeedsCustomer { code }
        }
        _ => ProviderError::Declined { code },
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    fn money(amount: Decimal, currency: &str) -> Money {
        Money::try_new(amount, Currency::parse(currency).unwrap()).unwrap()
    }

    #[test]
    fn money_goes_out_in_minor_units() {
        assert_eq!(to_minor_units(money(dec!(70.34), "EUR")).unwrap(), 7034);
        assert_eq!(to_minor_units(money(dec!(25), "EUR")).unwrap(), 2500);
        assert_eq!(to_minor_units(money(dec!(1000), "JPY")).unwrap(), 1000);
        assert_eq!(to_minor_units(money(dec!(1.005), "KWD")).unwrap(), 1005);
        assert_eq!(to_minor_units(money(dec!(0.01), "GBP")).unwrap(), 1);
    }

    #[test]
    fn minor_units_come_back_exact() {
        assert_eq!(
            from_minor_units(7034, "EUR").unwrap(),
            money(dec!(70.34), "EUR")
        );
        assert_eq!(
            from_minor_units(1000, "JPY").unwrap(),
            money(dec!(1000), "JPY")
        );
        assert_eq!(from_minor_units(500, "gbp").unwrap(), money(dec!(5), "GBP"));
        assert!(from_minor_units(-1, "EUR").is_err());
        assert!(from_minor_units(1, "QQQ").is_err());
    }

    #[test]
    fn pending_orders_expire_no_sooner_than_the_session() {
        assert_eq!(expire_pending_after(3 * 3600).as_deref(), Some("PT3H"));
        assert_eq!(expire_pending_after(5400).as_deref(), Some("PT1H30M"));
        assert_eq!(expire_pending_after(61).as_deref(), Some("PT2M"));
        assert_eq!(expire_pending_after(0).as_deref(), Some("PT1M"));
        assert_eq!(expire_pending_after(720 * 3600).as_deref(), Some("PT720H"));
        assert_eq!(expire_pending_after(720 * 3600 + 1), None);
    }

    #[test]
    fn method_tokens_round_trip_and_refuse_path_tricks() {
        let token = method_token("c-1", "card", "pm-1");
        assert_eq!(parse_method_token(&token).unwrap(), ("c-1", "card", "pm-1"));
        assert!(parse_method_token("c-1/card/../x").is_err());
        assert!(parse_method_token("c-1/paypal/pm-1").is_err());
        assert!(parse_method_token("pm-1").is_err());
    }

    #[test]
    fn declines_are_classified() {
        assert!(matches!(
            classify_decline("declined", Some("expired_card")),
            ProviderError::SavedMethodRevoked { .. }
        ));
        assert!(matches!(
            classify_decline("declined", Some("insufficient_funds")),
            ProviderError::Declined { .. }
        ));
        assert!(matches!(
            classify_decline("soft_declined", None),
            ProviderError::NeedsCustomer { .. }
        ));
        assert!(matches!(
            classify_decline("declined", Some("3ds_challenge_failed_manually")),
            ProviderError::NeedsCustomer { .. }
        ));
    }
}
