//! Checkout lifecycles through HTTP against the fake PayPal and Revolut servers: confirm,
//! webhooks, races, pending captures and declines.

use axum::http::StatusCode;
use futures::future::join_all;
use serde_json::json;
use testkit::fake_paypal::CaptureScript;

use crate::payments_support::{PayWorld, Provider, dec, decimal, order_id};

const BOTH: [Provider; 2] = [Provider::Paypal, Provider::Revolut];

#[tokio::test]
async fn a_checkout_completes_and_credits_the_wallet_once_with_a_journal_line() {
    for provider in BOTH {
        // Arrange
        let world = PayWorld::with(provider).await;
        let before = world.paid().await;
        let checkout = world.checkout(25).await;
        assert_eq!(checkout["provider"], provider.name());
        assert!(
            checkout["approval_url"]
                .as_str()
                .unwrap()
                .starts_with("http")
        );
        world.buyer_approves(provider, &checkout).await;

        // Act
        let confirmed = world.confirm(&checkout).await.expect(StatusCode::OK);
        let again = world.confirm(&checkout).await.expect(StatusCode::OK);

        // Assert
        assert_eq!(confirmed["status"], "completed", "{provider:?}");
        assert_eq!(decimal(&confirmed["credited_amount"]), dec(25));
        assert_eq!(
            decimal(&confirmed["wallet_balance_after"]),
            before + dec(25)
        );
        assert_eq!(confirmed["wallet_id"], world.a.org_wallet.as_str());
        assert_eq!(again, confirmed, "confirm is idempotent");
        assert_eq!(world.paid().await, before + dec(25));
        let topups = world.lines("topup").await;
        assert_eq!(topups.len(), 1, "{provider:?}: {topups:?}");
        assert_eq!(decimal(&topups[0]["paid_delta"]), dec(25));
        let session = world.session(&checkout).await;
        assert_eq!(session["status"], "completed");
        assert_eq!(session["amount"], json!(25));
        assert_eq!(session["currency"], "USD");
        assert_eq!(session["target_wallet_owner_type"], "organization");
        assert!(
            session["wallet_transaction_id"]
                .as_str()
                .unwrap()
                .starts_with("txn_")
        );
        assert!(session["provider_capture_id"].is_string());
    }
}

#[tokio::test]
async fn twenty_concurrent_confirms_capture_once_and_credit_once() {
    for provider in BOTH {
        let world = PayWorld::with(provider).await;
        let before = world.paid().await;
        let checkout = world.checkout(50).await;
        world.buyer_approves(provider, &checkout).await;

        let answers = join_all((0..20).map(|_| world.confirm(&checkout))).await;

        for answer in &answers {
            assert!(
                answer.status == StatusCode::OK || answer.status == StatusCode::ACCEPTED,
                "{provider:?}: {} {}",
                answer.status,
                answer.body
            );
        }
        if provider == Provider::Paypal {
            let path = format!("/v2/checkout/orders/{}/capture", order_id(&checkout));
            let captures =
                world.paypal.order(&order_id(&checkout)).unwrap()["purchase_units"][0]["payments"]
                    ["captures"]
                    .as_array()
                    .unwrap()
                    .len();
            assert_eq!(captures, 1);
            assert!(world.paypal.count("POST", &path) >= 1);
        }
        assert_eq!(world.paid().await, before + dec(50), "{provider:?}");
        assert_eq!(world.lines("topup").await.len(), 1);
        assert_eq!(world.session(&checkout).await["status"], "completed");
    }
}

#[tokio::test]
async fn confirm_racing_the_capture_webhook_credits_once() {
    for provider in BOTH {
        let world = PayWorld::with(provider).await;
        let before = world.paid().await;
        let checkout = world.checkout(25).await;
        world.buyer_approves(provider, &checkout).await;
        // The capture (PayPal) or payment (Revolut) event, as the provider will send it.
        let (headers, body) = match provider {
            Provider::Paypal => {
                world.confirm(&checkout).await.expect(StatusCode::OK);
                world.paypal_event("PAYMENT.CAPTURE.COMPLETED")
            }
            Provider::Revolut => world
                .revolut
                .signed_event("ORDER_COMPLETED", &order_id(&checkout)),
        };

        let (confirm, webhook, duplicate) = tokio::join!(
            world.confirm(&checkout),
            world.deliver(provider.name(), &headers, body.clone()),
            world.deliver(provider.name(), &headers, body.clone()),
        );

        confirm.expect(StatusCode::OK);
        webhook.expect(StatusCode::OK);
        duplicate.expect(StatusCode::OK);
        assert_eq!(world.paid().await, before + dec(25), "{provider:?}");
        assert_eq!(world.lines("topup").await.len(), 1);
    }
}

#[tokio::test]
async fn a_closed_popup_is_credited_by_the_webhook_alone() {
    for provider in BOTH {
        let world = PayWorld::with(provider).await;
        let before = world.paid().await;
        let checkout = world.checkout(25).await;
        world.buyer_approves(provider, &checkout).await;

        // Nobody confirms: the provider's webhook does the work.
        let (headers, body) = match provider {
            Provider::Paypal => world.paypal_event("CHECKOUT.ORDER.APPROVED"),
            Provider::Revolut => world
                .revolut
                .signed_event("ORDER_COMPLETED", &order_id(&checkout)),
        };
        let delivered = world.deliver(provider.name(), &headers, body).await;

        let delivered = delivered.expect(StatusCode::OK);
        assert_eq!(delivered["status"], "completed", "{provider:?}");
        assert_eq!(world.paid().await, before + dec(25));
        assert_eq!(world.session(&checkout).await["status"], "completed");
    }
}

#[tokio::test]
async fn a_pending_paypal_capture_credits_only_on_the_completed_webhook() {
    let world = PayWorld::with(Provider::Paypal).await;
    let before = world.paid().await;
    let checkout = world.checkout(25).await;
    world.buyer_approves(Provider::Paypal, &checkout).await;
    world.paypal.script_capture(CaptureScript::Pending);

    let pending = world.confirm(&checkout).await.expect(StatusCode::ACCEPTED);
    let again = world.confirm(&checkout).await.expect(StatusCode::ACCEPTED);
    assert_eq!(pending["status"], "captured");
    assert_eq!(again["status"], "captured");
    assert_eq!(world.paid().await, before, "nothing credited while pending");

    let capture_id = pending["provider_capture_id"].as_str().unwrap().to_owned();
    world.paypal.complete_capture(&capture_id).await;
    let (headers, body) = world.paypal_event("PAYMENT.CAPTURE.COMPLETED");
    world
        .deliver("paypal", &headers, body)
        .await
        .expect(StatusCode::OK);

    assert_eq!(world.paid().await, before + dec(25));
    assert_eq!(world.session(&checkout).await["status"], "completed");
    assert_eq!(
        world.confirm(&checkout).await.expect(StatusCode::OK)["status"],
        "completed"
    );
}

#[tokio::test]
async fn a_revolut_order_not_paid_yet_confirms_as_created_and_credits_nothing() {
    let world = PayWorld::with(Provider::Revolut).await;
    let before = world.paid().await;
    let checkout = world.checkout(25).await;

    let early = world.confirm(&checkout).await.expect(StatusCode::OK);

    assert_eq!(early["status"], "created");
    assert_eq!(world.paid().await, before);
    world.buyer_approves(Provider::Revolut, &checkout).await;
    let done = world.confirm(&checkout).await.expect(StatusCode::OK);
    assert_eq!(done["status"], "completed");
}

#[tokio::test]
async fn a_denied_capture_fails_the_session_and_credits_nothing() {
    // PayPal: the capture stays PENDING, then the provider denies it.
    let world = PayWorld::with(Provider::Paypal).await;
    let before = world.paid().await;
    let checkout = world.checkout(25).await;
    world.buyer_approves(Provider::Paypal, &checkout).await;
    world.paypal.script_capture(CaptureScript::Pending);
    let pending = world.confirm(&checkout).await.expect(StatusCode::ACCEPTED);
    world
        .paypal
        .deny_capture(pending["provider_capture_id"].as_str().unwrap())
        .await;
    let (headers, body) = world.paypal_event("PAYMENT.CAPTURE.DENIED");
    world
        .deliver("paypal", &headers, body)
        .await
        .expect(StatusCode::OK);
    assert_eq!(world.session(&checkout).await["status"], "failed");
    assert_eq!(world.paid().await, before);

    // PayPal: the capture itself comes back DECLINED.
    let declined = world.checkout(25).await;
    world.buyer_approves(Provider::Paypal, &declined).await;
    world.paypal.script_capture(CaptureScript::Declined);
    let answer = world.confirm(&declined).await.expect(StatusCode::OK);
    assert_eq!(answer["status"], "failed");
    assert_eq!(world.paid().await, before);

    // Revolut: the order fails at the provider.
    let world = PayWorld::with(Provider::Revolut).await;
    let before = world.paid().await;
    let checkout = world.checkout(25).await;
    world.revolut.expire(&order_id(&checkout)).await;
    let answer = world.confirm(&checkout).await.expect(StatusCode::OK);
    assert_eq!(answer["status"], "failed");
    assert_eq!(world.paid().await, before);
    assert!(world.lines("topup").await.is_empty());
}

#[tokio::test]
async fn an_instrument_declined_is_402_with_the_approval_url_and_the_session_stays_created() {
    let world = PayWorld::with(Provider::Paypal).await;
    let checkout = world.checkout(25).await;
    world.buyer_approves(Provider::Paypal, &checkout).await;
    world
        .paypal
        .script_capture(CaptureScript::InstrumentDeclined);

    let answer = world.confirm(&checkout).await;

    assert_eq!(
        answer.status,
        StatusCode::PAYMENT_REQUIRED,
        "{}",
        answer.body
    );
    assert_eq!(answer.code(), "payment_declined");
    assert_eq!(
        answer.body["error"]["details"]["approval_url"],
        checkout["approval_url"]
    );
    assert_eq!(world.session(&checkout).await["status"], "created");
}

#[tokio::test]
async fn confirm_before_the_buyer_approved_is_409_and_the_session_stays_created() {
    let world = PayWorld::with(Provider::Paypal).await;
    let checkout = world.checkout(25).await;

    let answer = world.confirm(&checkout).await;

    assert_eq!(answer.status, StatusCode::CONFLICT, "{}", answer.body);
    assert_eq!(answer.code(), "payment_not_approved");
    assert_eq!(world.session(&checkout).await["status"], "created");
}

#[tokio::test]
async fn a_bad_signature_is_400_and_changes_nothing() {
    for provider in BOTH {
        let world = PayWorld::with(provider).await;
        let before = world.paid().await;
        let checkout = world.checkout(25).await;
        world.buyer_approves(provider, &checkout).await;
        let (mut headers, body) = match provider {
            Provider::Paypal => world.paypal_event("CHECKOUT.ORDER.APPROVED"),
            Provider::Revolut => world
                .revolut
                .signed_event("ORDER_COMPLETED", &order_id(&checkout)),
        };
        for (name, value) in &mut headers {
            if name.contains("sig") {
                *value = format!("{value}x").replace("v1=", "v1=0");
            }
        }

        let answer = world.deliver(provider.name(), &headers, body).await;

        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{provider:?}: {}",
            answer.body
        );
        assert_eq!(answer.code(), "invalid_signature");
        assert_eq!(world.session(&checkout).await["status"], "created");
        assert_eq!(world.paid().await, before);
    }
}

#[tokio::test]
async fn a_duplicate_event_is_200_and_changes_nothing() {
    for provider in BOTH {
        let world = PayWorld::with(provider).await;
        let before = world.paid().await;
        let checkout = world.checkout(25).await;
        world.buyer_approves(provider, &checkout).await;
        let (headers, body) = match provider {
            Provider::Paypal => world.paypal_event("CHECKOUT.ORDER.APPROVED"),
            Provider::Revolut => world
                .revolut
                .signed_event("ORDER_COMPLETED", &order_id(&checkout)),
        };

        world
            .deliver(provider.name(), &headers, body.clone())
            .await
            .expect(StatusCode::OK);
        let after_first = world.org_wallet().await;
        let second = world.deliver(provider.name(), &headers, body).await;

        second.expect(StatusCode::OK);
        assert_eq!(world.org_wallet().await, after_first, "{provider:?}");
        assert_eq!(world.paid().await, before + dec(25));
        assert_eq!(world.lines("topup").await.len(), 1);
    }
}

#[tokio::test]
async fn an_unknown_event_type_is_acknowledged_and_ignored() {
    let world = PayWorld::with(Provider::Paypal).await;
    let (headers, body) = world
        .paypal
        .sign_event("BILLING.SUBSCRIPTION.CREATED", json!({"id": "I-1"}));

    let answer = world.deliver("paypal", &headers, body).await;

    answer.expect(StatusCode::OK);
}
