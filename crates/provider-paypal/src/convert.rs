//! Conversions between PayPal's wire shapes and the port's types, with the status tables.

use ledger_core::ProviderError;
use ledger_core::money::{Currency, Money};
use ledger_core::ports::{CaptureOutcome, OrderState, SavedMethod};
use rust_decimal::Decimal;

use crate::wire::{Amount, Capture, Link, Order, PaymentTokenResource, PaypalSourceResponse};

/// Money as PayPal wants it: a decimal string with exactly the currency's minor units.
pub(crate) fn amount_to_wire(money: Money) -> Amount {
    let mut value = money.amount();
    value.rescale(money.currency().minor_units());
    Amount {
        currency_code: money.currency().code().to_owned(),
        value: value.to_string(),
    }
}

/// PayPal's decimal string back to money; refuses negatives and too many decimals.
pub(crate) fn amount_from_wire(amount: &Amount) -> Result<Money, ProviderError> {
    let currency = Currency::parse(&amount.currency_code).map_err(|error| {
        ProviderError::Protocol(format!("paypal sent an unknown currency: {error}"))
    })?;
    let value = Decimal::from_str_exact(&amount.value).map_err(|_| {
        ProviderError::Protocol(format!("paypal sent a malformed amount `{}`", amount.value))
    })?;
    Money::try_new(value, currency)
        .map_err(|error| ProviderError::Protocol(format!("paypal sent a bad amount: {error}")))
}

/// The buyer's page: the first `payer-action` or `approve` link (providers.md 1.4).
pub(crate) fn approval_url(links: &[Link]) -> Option<String> {
    links
        .iter()
        .find(|link| link.rel == "payer-action" || link.rel == "approve")
        .map(|link| link.href.clone())
}

/// The last path segment of the `up` link (a refund's capture id).
pub(crate) fn up_link_id(links: &[Link]) -> Option<String> {
    links
        .iter()
        .find(|link| link.rel == "up")
        .and_then(|link| link.href.trim_end_matches('/').rsplit('/').next())
        .map(str::to_owned)
}

/// The first capture of the first purchase unit.
pub(crate) fn first_capture(order: &Order) -> Option<&Capture> {
    order
        .purchase_units
        .first()
        .and_then(|unit| unit.payments.as_ref())
        .and_then(|payments| payments.captures.first())
}

/// What a capture's status means for the ledger (providers.md 1.7): credit only on COMPLETED.
pub(crate) fn capture_outcome(
    capture: &Capture,
    saved_method: Option<String>,
) -> Result<CaptureOutcome, ProviderError> {
    match capture.status.as_str() {
        // A refunded capture did take money first; the refund arrives as its own event.
        "COMPLETED" | "PARTIALLY_REFUNDED" | "REFUNDED" => {
            let amount = capture.amount.as_ref().ok_or_else(|| {
                ProviderError::Protocol(format!("paypal capture {} has no amount", capture.id))
            })?;
            Ok(CaptureOutcome::Completed {
                capture_id: capture.id.clone(),
                amount: amount_from_wire(amount)?,
                saved_method,
            })
        }
        "PENDING" => Ok(CaptureOutcome::Pending {
            capture_id: capture.id.clone(),
        }),
        "DECLINED" | "FAILED" => Ok(CaptureOutcome::Declined {
            code: capture
                .status_details
                .as_ref()
                .and_then(|details| details.reason.clone())
                .unwrap_or_else(|| capture.status.clone()),
        }),
        other => Err(ProviderError::Protocol(format!(
            "paypal capture status `{other}` is unknown"
        ))),
    }
}

/// The outcome of an order PayPal says it captured (COMPLETED order).
pub(crate) fn captured_order_outcome(order: &Order) -> Result<CaptureOutcome, ProviderError> {
    let capture = first_capture(order).ok_or_else(|| {
        ProviderError::Protocol(format!("paypal order {} has no capture", order.id))
    })?;
    capture_outcome(capture, saved_method(order).map(|method| method.token))
}

/// The order status table (providers.md 1.4, 1.6).
pub(crate) fn order_state(order: &Order) -> Result<OrderState, ProviderError> {
    match order.status.as_str() {
        "CREATED" | "SAVED" | "PAYER_ACTION_REQUIRED" => Ok(OrderState::Created),
        "APPROVED" => Ok(OrderState::Approved),
        "VOIDED" => Ok(OrderState::Canceled),
        "COMPLETED" => match first_capture(order) {
            Some(_) => captured_order_outcome(order).map(OrderState::Captured),
            None => Ok(OrderState::Failed {
                code: "COMPLETED_WITHOUT_CAPTURE".to_owned(),
            }),
        },
        other => Err(ProviderError::Protocol(format!(
            "paypal order status `{other}` is unknown"
        ))),
    }
}

/// The vaulted payment source of an order, when PayPal already made one (`vault.id` present).
pub(crate) fn saved_method(order: &Order) -> Option<SavedMethod> {
    let paypal = order.payment_source.as_ref()?.paypal.as_ref()?;
    saved_method_from_source(paypal, None)
}

fn saved_method_from_source(
    paypal: &PaypalSourceResponse,
    vault_id: Option<&str>,
) -> Option<SavedMethod> {
    let vault = paypal
        .attributes
        .as_ref()
        .and_then(|attributes| attributes.vault.as_ref());
    let id = vault_id
        .map(str::to_owned)
        .or_else(|| vault.and_then(|vault| vault.id.clone()))?;
    let customer_id = vault
        .and_then(|vault| vault.customer.as_ref())
        .and_then(|customer| customer.id.clone());
    Some(SavedMethod {
        token: id.clone(),
        method_id: id,
        customer_id,
        label: label(paypal.email_address.as_deref()),
    })
}

/// A `VAULT.PAYMENT-TOKEN.CREATED` resource as a saved method.
pub(crate) fn saved_method_from_token(resource: &PaymentTokenResource) -> SavedMethod {
    let email = resource
        .payment_source
        .as_ref()
        .and_then(|source| source.paypal.as_ref())
        .and_then(|paypal| paypal.email_address.as_deref());
    SavedMethod {
        token: resource.id.clone(),
        method_id: resource.id.clone(),
        customer_id: resource
            .customer
            .as_ref()
            .and_then(|customer| customer.id.clone()),
        label: label(email),
    }
}

fn label(email: Option<&str>) -> String {
    match email {
        Some(email) => format!("PayPal {email}"),
        None => "PayPal".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;
    use crate::wire::StatusDetails;

    fn money(amount: Decimal, currency: &str) -> Money {
        Money::try_new(amount, Currency::parse(currency).unwrap()).unwrap()
    }

    fn wire(value: &str, currency: &str) -> Amount {
        Amount {
            currency_code: currency.to_owned(),
            value: value.to_owned(),
        }
    }

    #[test]
    fn amounts_go_out_with_exactly_the_currency_decimals() {
        assert_eq!(amount_to_wire(money(dec!(25), "EUR")).value, "25.00");
        assert_eq!(amount_to_wire(money(dec!(10.5), "USD")).value, "10.50");
        assert_eq!(amount_to_wire(money(dec!(1000), "JPY")).value, "1000");
        assert_eq!(amount_to_wire(money(dec!(1.005), "KWD")).value, "1.005");
        assert_eq!(amount_to_wire(money(dec!(0.01), "EUR")).value, "0.01");
    }

    #[test]
    fn amounts_come_back_exact() {
        assert_eq!(
            amount_from_wire(&wire("25.00", "EUR")).unwrap(),
            money(dec!(25), "EUR")
        );
        assert_eq!(
            amount_from_wire(&wire("1000", "JPY")).unwrap(),
            money(dec!(1000), "JPY")
        );
    }

    #[test]
    fn malformed_negative_or_too_precise_amounts_are_protocol_errors() {
        for (value, currency) in [
            ("abc", "EUR"),
            ("-1.00", "EUR"),
            ("1.001", "EUR"),
            ("1.5", "JPY"),
            ("1.00", "QQQ"),
        ] {
            assert!(
                matches!(
                    amount_from_wire(&wire(value, currency)),
                    Err(ProviderError::Protocol(_))
                ),
                "{value} {currency}"
            );
        }
    }

    #[test]
    fn approval_url_prefers_payer_action_or_approve() {
        let links = vec![
            Link {
                href: "https://x/self".into(),
                rel: "self".into(),
            },
            Link {
                href: "https://x/checkoutnow?token=A".into(),
                rel: "payer-action".into(),
            },
        ];
        assert_eq!(
            approval_url(&links).as_deref(),
            Some("https://x/checkoutnow?token=A")
        );
        assert_eq!(approval_url(&links[..1]), None);
    }

    #[test]
    fn up_link_gives_the_capture_id() {
        let links = vec![Link {
            href: "https://api.paypal.com/v2/payments/captures/3C679366HH908993F".into(),
            rel: "up".into(),
        }];
        assert_eq!(up_link_id(&links).as_deref(), Some("3C679366HH908993F"));
    }

    #[test]
    fn capture_statuses_map_to_outcomes() {
        let capture = |status: &str| Capture {
            id: "C1".into(),
            status: status.into(),
            amount: Some(wire("25.00", "EUR")),
            custom_id: None,
            status_details: Some(StatusDetails {
                reason: Some("PENDING_REVIEW".into()),
            }),
            supplementary_data: None,
        };
        assert!(matches!(
            capture_outcome(&capture("COMPLETED"), None).unwrap(),
            CaptureOutcome::Completed { .. }
        ));
        assert_eq!(
            capture_outcome(&capture("PENDING"), None).unwrap(),
            CaptureOutcome::Pending {
                capture_id: "C1".into()
            }
        );
        assert!(matches!(
            capture_outcome(&capture("DECLINED"), None).unwrap(),
            CaptureOutcome::Declined { .. }
        ));
        assert!(capture_outcome(&capture("WHATEVER"), None).is_err());
    }
}
