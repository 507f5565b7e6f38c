//! Merchant-initiated charges of saved methods (providers.md 2 and 6).
//!
//! Revolut has no idempotency for `POST /api/orders`, so a charge is two steps. The order is
//! created first and its id handed to the core, which stores it on the payment session. Only
//! then is the order paid (`POST /api/orders/{id}/payments`). A repeat from any process pays
//! the stored order, and an order accepts one successful payment, so nothing is charged twice.

use std::collections::BTreeMap;

use ledger_core::ProviderError;
use ledger_core::money::Money;
use ledger_core::ports::{CaptureOutcome, MerchantCharge};
use reqwest::Method;

use crate::client::Safety;
use crate::error::{ApiError, unexpected_body};
use crate::wire::{
    CustomerRef, MerchantOrderData, Order, OrderRequest, PayRequest, PaymentRetrieval,
    SavedPaymentMethodRef, api,
};
use crate::{RevolutProvider, convert, order_segment, to_json};

impl RevolutProvider {
    /// Creates the unpaid order of a merchant-initiated charge, for the saved method's
    /// customer, with our key as its reference. Answers the order id.
    pub(crate) async fn create_charge_order(
        &self,
        method_token: &str,
        amount: Money,
        idempotency_key: &str,
    ) -> Result<String, ProviderError> {
        let (customer_id, _, _) = convert::parse_method_token(method_token)?;
        let body = OrderRequest {
            amount: convert::to_minor_units(amount)?,
            currency: amount.currency().code().to_owned(),
            description: None,
            capture_mode: "automatic",
            merchant_order_data: MerchantOrderData {
                reference: Some(idempotency_key.to_owned()),
            },
            metadata: BTreeMap::from([("session_id", idempotency_key.to_owned())]),
            redirect_url: None,
            customer: Some(CustomerRef {
                id: Some(customer_id.to_owned()),
            }),
            // The order is paid at once, and a retry pays the same stored order: it must not
            // fail on its own meanwhile.
            expire_pending_after: None,
        };
        let order = self.create_order(&body).await?;
        tracing::info!(session.id = %idempotency_key, order.id = %order.id, "revolut merchant-initiated order created");
        Ok(order.id)
    }

    /// Pays the charge's order with the saved method, unless an earlier attempt already did.
    pub(crate) async fn charge_order(
        &self,
        method_token: &str,
        amount: Money,
        idempotency_key: &str,
        order_id: Option<&str>,
    ) -> Result<MerchantCharge, ProviderError> {
        let (customer_id, method_type, method_id) = convert::parse_method_token(method_token)?;
        // Creating the order here would make a repeat create a second one: the caller stores
        // the order `prepare_saved_method_charge` made and passes it back.
        let order_id = order_id.ok_or_else(|| {
            ProviderError::Protocol(format!(
                "revolut charges a saved method only on a prepared order (charge {idempotency_key})"
            ))
        })?;
        let order = self.fetch_order(order_id).await?;
        check_order_of_charge(&order, customer_id, amount, idempotency_key)?;
        let outcome = self.pay_saved(&order, method_type, method_id).await?;
        tracing::info!(order.id = %order.id, "revolut merchant-initiated charge sent");
        Ok(MerchantCharge {
            order_id: order.id,
            outcome,
        })
    }

    /// Pays `order` with the saved method, unless an earlier call already did.
    async fn pay_saved(
        &self,
        order: &Order,
        method_type: &str,
        method_id: &str,
    ) -> Result<CaptureOutcome, ProviderError> {
        if !is_payable(order) {
            return outcome_so_far(order);
        }
        let body = PayRequest {
            saved_payment_method: SavedPaymentMethodRef {
                method_type: method_type.to_owned(),
                id: method_id.to_owned(),
                initiator: "merchant",
            },
        };
        let path = format!(
            "{}/{}/payments",
            api::ORDERS_PATH,
            order_segment(&order.id)?
        );
        // An order accepts no second successful payment, so repeating this is safe.
        let response = self
            .client
            .call(
                Method::POST,
                &path,
                Some(to_json(&body)?),
                None,
                Safety::Idempotent,
            )
            .await?;
        if response.status != 200 && response.status != 201 {
            // A repeat of a payment whose answer was lost is refused because the order is
            // paid: the order, not the refusal, says what happened.
            let current = self.fetch_order(&order.id).await?;
            if !is_payable(&current) {
                return outcome_so_far(&current);
            }
            let error = ApiError::parse(response.status, &response.body);
            return Err(match error.status {
                // A deleted, foreign or customer-only method (exact codes UNCONFIRMED).
                404 | 422 => ProviderError::SavedMethodRevoked {
                    code: if error.code.is_empty() {
                        format!("HTTP_{}", error.status)
                    } else {
                        error.code
                    },
                },
                _ => error.into_provider_error(),
            });
        }
        let payment: PaymentRetrieval = serde_json::from_slice(&response.body)
            .map_err(|error| unexpected_body("payment", &error))?;
        if payment.authentication_challenge.is_some() {
            return Err(ProviderError::NeedsCustomer {
                code: "authentication_challenge".to_owned(),
            });
        }
        if matches!(
            payment.state.as_str(),
            "declined" | "soft_declined" | "failed"
        ) {
            return Err(convert::classify_decline(
                &payment.state,
                payment.decline_reason.as_deref(),
            ));
        }
        let order = self.fetch_order(&order.id).await?;
        outcome_so_far(&order)
    }
}

/// Refuses to pay an order that is not this charge's: another reference, customer or amount
/// (a mix-up of stored ids must never move money).
fn check_order_of_charge(
    order: &Order,
    customer_id: &str,
    amount: Money,
    idempotency_key: &str,
) -> Result<(), ProviderError> {
    let reference = order
        .merchant_order_data
        .as_ref()
        .and_then(|data| data.reference.as_deref());
    let customer = order
        .customer
        .as_ref()
        .and_then(|customer| customer.id.as_deref());
    let same_amount = order.amount == convert::to_minor_units(amount)?
        && order
            .currency
            .eq_ignore_ascii_case(amount.currency().code());
    if reference == Some(idempotency_key) && customer == Some(customer_id) && same_amount {
        Ok(())
    } else {
        Err(ProviderError::Protocol(format!(
            "revolut order {} is not the order of charge {idempotency_key}",
            order.id
        )))
    }
}

/// Whether a payment may be sent: the order waits for one and no attempt is under way or
/// went through (declined and failed attempts leave it `pending`).
fn is_payable(order: &Order) -> bool {
    order.state == "pending"
        && order
            .payments
            .iter()
            .all(|payment| convert::is_failed_attempt(&payment.state))
}

/// What the order shows of the charge; an attempt still under way is `Pending`.
fn outcome_so_far(order: &Order) -> Result<CaptureOutcome, ProviderError> {
    Ok(
        convert::capture_outcome(order)?.unwrap_or_else(|| CaptureOutcome::Pending {
            capture_id: order.id.clone(),
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Payment;

    fn order(state: &str, payments: &[&str]) -> Order {
        Order {
            id: "o-1".to_owned(),
            order_type: Some("payment".to_owned()),
            state: state.to_owned(),
            amount: 2000,
            currency: "EUR".to_owned(),
            checkout_url: None,
            customer: Some(CustomerRef {
                id: Some("c-1".to_owned()),
            }),
            payments: payments
                .iter()
                .map(|state| Payment {
                    state: (*state).to_owned(),
                    decline_reason: None,
                    payment_method: None,
                })
                .collect(),
            merchant_order_data: Some(MerchantOrderData {
                reference: Some("ps_1".to_owned()),
            }),
            related_order_id: None,
        }
    }

    fn eur(minor: i64) -> Money {
        convert::from_minor_units(minor, "EUR").unwrap()
    }

    #[test]
    fn only_a_pending_order_without_a_live_attempt_is_paid() {
        assert!(is_payable(&order("pending", &[])));
        assert!(is_payable(&order("pending", &["declined", "failed"])));
        assert!(!is_payable(&order("pending", &["authorisation_started"])));
        assert!(!is_payable(&order("completed", &["completed"])));
        assert!(!is_payable(&order("processing", &[])));
    }

    #[test]
    fn an_attempt_under_way_is_pending_not_unpaid() {
        let outcome = outcome_so_far(&order("pending", &["authorisation_started"])).unwrap();

        assert_eq!(
            outcome,
            CaptureOutcome::Pending {
                capture_id: "o-1".to_owned()
            }
        );
    }

    #[test]
    fn an_order_of_another_charge_is_refused() {
        let ours = order("pending", &[]);

        assert!(check_order_of_charge(&ours, "c-1", eur(2000), "ps_1").is_ok());
        assert!(check_order_of_charge(&ours, "c-1", eur(2000), "ps_2").is_err());
        assert!(check_order_of_charge(&ours, "c-2", eur(2000), "ps_1").is_err());
        assert!(check_order_of_charge(&ours, "c-1", eur(2100), "ps_1").is_err());
    }
}
