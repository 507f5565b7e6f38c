use ledger_core::ProviderError;
use ledger_core::ports::{PaymentProvider, ProviderEventKind, WebhookRequest};
use rust_decimal_macros::dec;
use serde_json::json;

use crate::{approved_order, completed_capture_id, eur, setup};

#[tokio::test]
async fn a_delivery_the_fake_sent_verifies_and_maps_to_capture_completed() {
    let (fake, provider) = setup().await;
    let order_id = approved_order(&fake, &provider, "ps_1", false).await;
    let capture_id = completed_capture_id(&provider.capture(&order_id, "k").await.unwrap());
    let resource =
        fake.order(&order_id).unwrap()["purchase_units"][0]["payments"]["captures"][0].clone();
    let (headers, body) = fake.sign_event("PAYMENT.CAPTURE.COMPLETED", resource);

    let event = provider
        .verify_webhook(&WebhookRequest { headers, body })
        .await
        .unwrap();

    assert_eq!(event.order_id.as_deref(), Some(order_id.as_str()));
    assert_eq!(event.session_id.as_deref(), Some("ps_1"));
    assert_eq!(
        event.kind,
        ProviderEventKind::CaptureCompleted {
            capture_id,
            amount: eur(dec!(25))
        }
    );
    let verify = &fake.requests_to("POST", "/v1/notifications/verify-webhook-signature")[0];
    assert_eq!(verify.json()["webhook_id"], "WH-FAKE");
}

#[tokio::test]
async fn a_tampered_body_or_forged_signature_is_a_bad_signature() {
    let (fake, provider) = setup().await;
    let (headers, body) = fake.sign_event("PAYMENT.CAPTURE.COMPLETED", json!({"id": "C1"}));
    let tampered = String::from_utf8(body.clone()).unwrap().replace("C1", "C2");
    let mut forged = headers.clone();
    for (name, value) in &mut forged {
        if name == "paypal-transmission-sig" {
            *value = "Zm9yZ2Vk".to_owned();
        }
    }

    let tampered = provider
        .verify_webhook(&WebhookRequest {
            headers: headers.clone(),
            body: tampered.into_bytes(),
        })
        .await;
    let forged = provider
        .verify_webhook(&WebhookRequest {
            headers: forged,
            body: body.clone(),
        })
        .await;
    let unsigned = provider
        .verify_webhook(&WebhookRequest {
            headers: vec![],
            body,
        })
        .await;

    assert!(
        matches!(tampered, Err(ProviderError::BadSignature)),
        "{tampered:?}"
    );
    assert!(
        matches!(forged, Err(ProviderError::BadSignature)),
        "{forged:?}"
    );
    assert!(
        matches!(unsigned, Err(ProviderError::BadSignature)),
        "{unsigned:?}"
    );
}

#[tokio::test]
async fn a_reversal_is_traced_back_to_its_order_and_session() {
    let (fake, provider) = setup().await;
    let order_id = approved_order(&fake, &provider, "ps_1", false).await;
    let capture_id = completed_capture_id(&provider.capture(&order_id, "k").await.unwrap());
    fake.reverse_capture(&capture_id, dec!(25)).await;
    let (event_type, resource) = fake
        .undelivered_events()
        .into_iter()
        .find(|(event_type, _)| event_type == "PAYMENT.CAPTURE.REVERSED")
        .unwrap();
    let (headers, body) = fake.sign_event(&event_type, resource);

    let event = provider
        .verify_webhook(&WebhookRequest { headers, body })
        .await
        .unwrap();

    assert_eq!(event.order_id.as_deref(), Some(order_id.as_str()));
    assert_eq!(event.session_id.as_deref(), Some("ps_1"));
    assert!(
        matches!(event.kind, ProviderEventKind::Reversed { amount, .. } if amount == eur(dec!(25)))
    );
}

#[tokio::test]
async fn order_approved_and_vault_events_are_mapped() {
    let (fake, provider) = setup().await;
    let order_id = approved_order(&fake, &provider, "ps_1", false).await;
    let (headers, body) =
        fake.sign_event("CHECKOUT.ORDER.APPROVED", fake.order(&order_id).unwrap());
    let approved = provider
        .verify_webhook(&WebhookRequest { headers, body })
        .await
        .unwrap();
    let (headers, body) = fake.sign_event("VAULT.PAYMENT-TOKEN.DELETED", json!({"id": "vt1"}));
    let deleted = provider
        .verify_webhook(&WebhookRequest { headers, body })
        .await
        .unwrap();

    assert_eq!(approved.kind, ProviderEventKind::OrderApproved);
    assert_eq!(approved.session_id.as_deref(), Some("ps_1"));
    assert_eq!(
        deleted.kind,
        ProviderEventKind::PaymentMethodRevoked {
            method_token: "vt1".into()
        }
    );
}
