use ledger_core::ProviderError;
use ledger_core::ports::{PaymentProvider, ProviderEventKind, WebhookRequest};
use provider_revolut::RevolutProvider;
use rust_decimal_macros::dec;
use time::Duration;

use crate::{config, created_order, eur, setup};

fn clock_ms(clock: &testkit::ManualClock) -> i128 {
    use ledger_core::ports::Clock;
    clock.now().unix_timestamp_nanos() / 1_000_000
}

#[tokio::test]
async fn a_signed_order_completed_maps_to_capture_completed() {
    let (fake, provider, _clock) = setup().await;
    let order_id = created_order(&provider, "ps_1").await;
    fake.pay(&order_id, None).await;
    let (headers, body) = fake.signed_event("ORDER_COMPLETED", &order_id);

    let event = provider
        .verify_webhook(&WebhookRequest { headers, body })
        .await
        .unwrap();

    assert_eq!(event.event_id, format!("ORDER_COMPLETED:{order_id}"));
    assert_eq!(event.session_id.as_deref(), Some("ps_1"));
    assert_eq!(
        event.kind,
        ProviderEventKind::CaptureCompleted {
            capture_id: order_id,
            amount: eur(dec!(25))
        }
    );
}

#[tokio::test]
async fn a_tampered_body_or_wrong_secret_is_a_bad_signature() {
    let (fake, provider, clock) = setup().await;
    let body = br#"{"event":"ORDER_COMPLETED","order_id":"x"}"#.to_vec();
    let headers = fake.sign_body(&body, clock_ms(&clock));
    let mut tampered = body.clone();
    tampered[3] = b'X';
    let stranger = RevolutProvider::with_clock(
        config(&fake, vec!["wsk_someone_else".to_owned()]),
        clock.clone(),
    )
    .unwrap();

    let tampered = provider
        .verify_webhook(&WebhookRequest {
            headers: headers.clone(),
            body: tampered,
        })
        .await;
    let wrong_secret = stranger
        .verify_webhook(&WebhookRequest {
            headers,
            body: body.clone(),
        })
        .await;
    let unsigned = provider
        .verify_webhook(&WebhookRequest {
            headers: vec![],
            body,
        })
        .await;

    for result in [tampered, wrong_secret, unsigned] {
        assert!(
            matches!(result, Err(ProviderError::BadSignature)),
            "{result:?}"
        );
    }
}

#[tokio::test]
async fn a_stale_or_future_timestamp_is_refused() {
    let (fake, provider, clock) = setup().await;
    let body = br#"{"event":"ORDER_CANCELLED","order_id":"x"}"#.to_vec();
    let headers = fake.sign_body(&body, clock_ms(&clock));
    let request = WebhookRequest { headers, body };

    clock.advance(Duration::minutes(4));
    let within = provider.verify_webhook(&request).await;
    clock.advance(Duration::minutes(2));
    let stale = provider.verify_webhook(&request).await;
    clock.advance(Duration::minutes(-12));
    let future = provider.verify_webhook(&request).await;

    assert!(matches!(
        within.unwrap().kind,
        ProviderEventKind::OrderCanceled { .. }
    ));
    assert!(
        matches!(stale, Err(ProviderError::BadSignature)),
        "{stale:?}"
    );
    assert!(
        matches!(future, Err(ProviderError::BadSignature)),
        "{future:?}"
    );
}

#[tokio::test]
async fn during_rotation_either_secret_verifies_and_afterwards_only_the_new_one() {
    let (fake, old_only, clock) = setup().await;
    let new_secret = fake.rotate_signing_secret();
    let new_only =
        RevolutProvider::with_clock(config(&fake, vec![new_secret]), clock.clone()).unwrap();
    let body = br#"{"event":"ORDER_FAILED","order_id":"x"}"#.to_vec();
    let during = WebhookRequest {
        headers: fake.sign_body(&body, clock_ms(&clock)),
        body: body.clone(),
    };

    let old_during = old_only.verify_webhook(&during).await;
    let new_during = new_only.verify_webhook(&during).await;
    fake.expire_old_signing_secrets();
    let after = WebhookRequest {
        headers: fake.sign_body(&body, clock_ms(&clock)),
        body,
    };
    let old_after = old_only.verify_webhook(&after).await;
    let new_after = new_only.verify_webhook(&after).await;

    assert!(
        during.headers[2].1.matches("v1=").count() == 2,
        "two signatures"
    );
    assert!(old_during.is_ok(), "{old_during:?}");
    assert!(new_during.is_ok(), "{new_during:?}");
    assert!(
        matches!(old_after, Err(ProviderError::BadSignature)),
        "{old_after:?}"
    );
    assert!(new_after.is_ok(), "{new_after:?}");
}

#[tokio::test]
async fn a_declined_attempt_is_not_terminal() {
    let (fake, provider, _clock) = setup().await;
    let order_id = created_order(&provider, "ps_1").await;
    let (headers, body) = fake.signed_event("ORDER_PAYMENT_DECLINED", &order_id);

    let event = provider
        .verify_webhook(&WebhookRequest { headers, body })
        .await
        .unwrap();

    assert_eq!(
        event.kind,
        ProviderEventKind::Other("ORDER_PAYMENT_DECLINED".into())
    );
}
