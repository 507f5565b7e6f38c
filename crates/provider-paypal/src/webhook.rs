//! Webhook verification through PayPal's verify-webhook-signature API (providers.md 1.10), and
//! the mapping of verified events to the port's `ProviderEvent`.

use ledger_core::ProviderError;
use ledger_core::ports::{ProviderEvent, ProviderEventKind, WebhookRequest};

use crate::convert::{amount_from_wire, saved_method_from_token, up_link_id};
use crate::error::unexpected_body;
use crate::wire::{
    Capture, Order, PaymentTokenResource, Refund, VerifyRequestHead, WebhookEvent, api,
};

/// A header of the delivery, by case-insensitive name.
fn header<'a>(request: &'a WebhookRequest, name: &str) -> Option<&'a str> {
    request
        .headers
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.as_str())
}

/// The body of the verify call. The received event is embedded as its raw bytes, never
/// re-serialised, because PayPal checks a CRC of exactly what it sent.
///
/// A delivery without the transmission headers, or whose body is not JSON, cannot be genuine:
/// `BadSignature`.
pub(crate) fn verify_request_body(
    request: &WebhookRequest,
    webhook_id: &str,
) -> Result<Vec<u8>, ProviderError> {
    let required = |name| header(request, name).ok_or(ProviderError::BadSignature);
    let head = VerifyRequestHead {
        auth_algo: required(api::AUTH_ALGO)?,
        cert_url: required(api::CERT_URL)?,
        transmission_id: required(api::TRANSMISSION_ID)?,
        transmission_sig: required(api::TRANSMISSION_SIG)?,
        transmission_time: required(api::TRANSMISSION_TIME)?,
        webhook_id,
    };
    if serde_json::from_slice::<serde_json::Value>(&request.body)
        .map(|value| !value.is_object())
        .unwrap_or(true)
    {
        return Err(ProviderError::BadSignature);
    }
    let head = serde_json::to_vec(&head)
        .map_err(|error| ProviderError::Protocol(format!("verify request: {error}")))?;
    // `head` is a JSON object; drop its closing brace and append the raw event.
    let mut body = head;
    body.pop();
    body.extend_from_slice(b",\"webhook_event\":");
    body.extend_from_slice(&request.body);
    body.push(b'}');
    Ok(body)
}

/// What a verified event says, before any lookup.
#[derive(Debug)]
pub(crate) enum Decoded {
    /// Complete already.
    Ready(ProviderEvent),
    /// A refund or reversal: the capture must be read to learn the order and our session id.
    NeedsCapture {
        event_id: String,
        capture_id: String,
        kind: ProviderEventKind,
    },
}

fn parse<T: serde::de::DeserializeOwned>(
    resource: serde_json::Value,
    what: &str,
) -> Result<T, ProviderError> {
    serde_json::from_value(resource).map_err(|error| unexpected_body(what, &error))
}

/// Maps an event envelope (providers.md 1.9, 6.4).
pub(crate) fn decode(body: &[u8]) -> Result<Decoded, ProviderError> {
    let event: WebhookEvent =
        serde_json::from_slice(body).map_err(|error| unexpected_body("webhook", &error))?;
    let event_id = event.id;
    let ready = |order_id, session_id, kind| {
        Ok(Decoded::Ready(ProviderEvent {
            event_id: event_id.clone(),
            order_id,
            session_id,
            kind,
        }))
    };
    match event.event_type.as_str() {
        "CHECKOUT.ORDER.APPROVED" => {
            let order: Order = parse(event.resource, "order event")?;
            let session_id = order
                .purchase_units
                .first()
                .and_then(|unit| unit.custom_id.clone());
            ready(Some(order.id), session_id, ProviderEventKind::OrderApproved)
        }
        "PAYMENT.CAPTURE.COMPLETED" => {
            let capture: Capture = parse(event.resource, "capture event")?;
            let amount = capture.amount.as_ref().ok_or_else(|| {
                ProviderError::Protocol("paypal capture event has no amount".to_owned())
            })?;
            let kind = ProviderEventKind::CaptureCompleted {
                capture_id: capture.id.clone(),
                amount: amount_from_wire(amount)?,
            };
            ready(capture_order_id(&capture), capture.custom_id, kind)
        }
        "PAYMENT.CAPTURE.DENIED" | "PAYMENT.CAPTURE.DECLINED" => {
            let capture: Capture = parse(event.resource, "capture event")?;
            let code = capture
                .status_details
                .as_ref()
                .and_then(|details| details.reason.clone())
                .unwrap_or_else(|| capture.status.clone());
            let kind = ProviderEventKind::CaptureDenied { code };
            ready(capture_order_id(&capture), capture.custom_id, kind)
        }
        event_type @ ("PAYMENT.CAPTURE.REFUNDED" | "PAYMENT.CAPTURE.REVERSED") => {
            let refund: Refund = parse(event.resource, "refund event")?;
            let amount = refund.amount.as_ref().ok_or_else(|| {
                ProviderError::Protocol("paypal refund event has no amount".to_owned())
            })?;
            let amount = amount_from_wire(amount)?;
            let capture_id = up_link_id(&refund.links).ok_or_else(|| {
                ProviderError::Protocol("paypal refund event has no capture link".to_owned())
            })?;
            let kind = if event_type == "PAYMENT.CAPTURE.REFUNDED" {
                ProviderEventKind::Refunded {
                    refund_id: refund.id,
                    amount,
                }
            } else {
                ProviderEventKind::Reversed {
                    reversal_id: refund.id,
                    amount,
                }
            };
            Ok(Decoded::NeedsCapture {
                event_id,
                capture_id,
                kind,
            })
        }
        "VAULT.PAYMENT-TOKEN.CREATED" => {
            let token: PaymentTokenResource = parse(event.resource, "payment token event")?;
            let order_id = token
                .metadata
                .as_ref()
                .and_then(|metadata| metadata.order_id.clone());
            let method = saved_method_from_token(&token);
            ready(
                order_id,
                None,
                ProviderEventKind::PaymentMethodSaved(method),
            )
        }
        "VAULT.PAYMENT-TOKEN.DELETED" | "VAULT.PAYMENT-TOKEN.DELETION-INITIATED" => {
            let token: PaymentTokenResource = parse(event.resource, "payment token event")?;
            let kind = ProviderEventKind::PaymentMethodRevoked {
                method_token: token.id,
            };
            ready(None, None, kind)
        }
        other => ready(None, None, ProviderEventKind::Other(other.to_owned())),
    }
}

/// The order a capture belongs to, from `supplementary_data.related_ids.order_id`.
pub(crate) fn capture_order_id(capture: &Capture) -> Option<String> {
    capture
        .supplementary_data
        .as_ref()
        .and_then(|data| data.related_ids.as_ref())
        .and_then(|ids| ids.order_id.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery(body: &str) -> WebhookRequest {
        WebhookRequest {
            headers: vec![
                ("paypal-auth-algo".into(), "SHA256withRSA".into()),
                ("paypal-cert-url".into(), "https://x/cert".into()),
                ("PAYPAL-TRANSMISSION-ID".into(), "t-1".into()),
                ("paypal-transmission-sig".into(), "c2ln".into()),
                (
                    "paypal-transmission-time".into(),
                    "2024-08-02T19:35:04Z".into(),
                ),
            ],
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn the_raw_event_is_embedded_verbatim() {
        let raw = r#"{"id":"WH-1",  "amount":1.10}"#;
        let body = verify_request_body(&delivery(raw), "WH_ID").unwrap();
        let text = String::from_utf8(body).unwrap();
        assert!(
            text.ends_with(&format!(",\"webhook_event\":{raw}}}")),
            "{text}"
        );
        assert!(text.contains("\"transmission_id\":\"t-1\""));
        assert!(text.contains("\"webhook_id\":\"WH_ID\""));
        serde_json::from_str::<serde_json::Value>(&text).unwrap();
    }

    #[test]
    fn missing_headers_or_a_non_json_body_never_verify() {
        let mut request = delivery("{}");
        request.headers.remove(2);
        assert!(matches!(
            verify_request_body(&request, "WH"),
            Err(ProviderError::BadSignature)
        ));
        assert!(matches!(
            verify_request_body(&delivery("not json"), "WH"),
            Err(ProviderError::BadSignature)
        ));
    }

    #[test]
    fn capture_completed_carries_order_and_session() {
        let body = r#"{"id":"WH-2","event_type":"PAYMENT.CAPTURE.COMPLETED","resource":{"id":"CAP1","status":"COMPLETED","amount":{"currency_code":"EUR","value":"25.00"},"custom_id":"ps_1","supplementary_data":{"related_ids":{"order_id":"ORD1"}}}}"#;
        let Decoded::Ready(event) = decode(body.as_bytes()).unwrap() else {
            panic!("needs no lookup")
        };
        assert_eq!(event.event_id, "WH-2");
        assert_eq!(event.order_id.as_deref(), Some("ORD1"));
        assert_eq!(event.session_id.as_deref(), Some("ps_1"));
        assert!(matches!(
            event.kind,
            ProviderEventKind::CaptureCompleted { .. }
        ));
    }

    #[test]
    fn refunds_need_the_capture_from_the_up_link() {
        let body = r#"{"id":"WH-3","event_type":"PAYMENT.CAPTURE.REVERSED","resource":{"id":"R1","status":"COMPLETED","amount":{"currency_code":"EUR","value":"5.00"},"links":[{"href":"https://api.paypal.com/v2/payments/captures/CAP1","rel":"up","method":"GET"}]}}"#;
        let Decoded::NeedsCapture {
            capture_id, kind, ..
        } = decode(body.as_bytes()).unwrap()
        else {
            panic!("needs the capture")
        };
        assert_eq!(capture_id, "CAP1");
        assert!(matches!(kind, ProviderEventKind::Reversed { .. }));
    }

    #[test]
    fn unknown_events_are_other() {
        let body = r#"{"id":"WH-4","event_type":"CUSTOMER.DISPUTE.CREATED","resource":{}}"#;
        let Decoded::Ready(event) = decode(body.as_bytes()).unwrap() else {
            panic!("needs no lookup")
        };
        assert_eq!(
            event.kind,
            ProviderEventKind::Other("CUSTOMER.DISPUTE.CREATED".into())
        );
    }
}
