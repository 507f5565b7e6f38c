//! Recovery, refunds and reversals through HTTP: the reconciler after a crash between capture
//! and credit, admin refunds, provider refunds and chargebacks with debt.

use axum::http::{Method, StatusCode};
use ledger_core::payment_session::PaymentStatus;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use testkit::fake_paypal::Fault;

use crate::payments_support::{PayWorld, Provider, dec, decimal, order_id};
use crate::support::BOOTSTRAP;

async fn completed(world: &PayWorld, provider: Provider, amount: u32) -> Value {
    let checkout = world.checkout(amount).await;
    world.buyer_approves(provider, &checkout).await;
    let confirmed = world.confirm(&checkout).await.expect(StatusCode::OK);
    assert_eq!(confirmed["status"], "completed");
    checkout
}

async fn refund(world: &PayWorld, checkout: &Value, amount: Option<u32>) -> crate::support::Answer {
    let mut body = json!({
        "payment_session_id": checkout["payment_session_id"],
        "reason": "Customer requested reversal",
    });
    if let Some(amount) = amount {
        body["amount"] = json!(amount);
    }
    world
        .app
        .post("/v1/admin/payments/refund", BOOTSTRAP, body)
        .await
}

/// Spends the org wallet's credits down to `left` available.
async fn spend_down_to(world: &PayWorld, left: Decimal) {
    let available = decimal(&world.org_wallet().await["available_credits"]);
    let debit = available - left;
    world
        .app
        .post(
            &format!("/v1/wallets/{}/debit", world.a.org_wallet),
            &world.a.org_admin,
            json!({"paid_credits": debit.to_string()}),
        )
        .await
        .expect(StatusCode::OK);
}

#[tokio::test]
async fn a_crash_between_capture_and_credit_is_credited_once_by_the_reconciler() {
    // PayPal: the capture happens at the provider but its answer never arrives (the fake does
    // the work, then answers 500 to every attempt), as if the process died after capturing.
    let world = PayWorld::with(Provider::Paypal).await;
    let before = world.paid().await;
    let checkout = world.checkout(25).await;
    world.buyer_approves(Provider::Paypal, &checkout).await;
    let capture_path = format!("/v2/checkout/orders/{}/capture", order_id(&checkout));
    world
        .paypal
        .inject("POST", &capture_path, Fault::ServerErrorAfterWork, 10);

    let answer = world.confirm(&checkout).await.expect(StatusCode::ACCEPTED);
    assert_eq!(answer["status"], "capturing");
    assert_eq!(world.paid().await, before);

    world.advance(61).await;
    world.advance(61).await;

    assert_eq!(world.session(&checkout).await["status"], "completed");
    assert_eq!(world.paid().await, before + dec(25));
    assert_eq!(world.lines("topup").await.len(), 1);
    let captures = world.paypal.order(&order_id(&checkout)).unwrap()["purchase_units"][0]
        ["payments"]["captures"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(captures, 1);

    // Revolut: the order was paid; the process died with the session `capturing`.
    let world = PayWorld::with(Provider::Revolut).await;
    let before = world.paid().await;
    let checkout = world.checkout(25).await;
    world.buyer_approves(Provider::Revolut, &checkout).await;
    world
        .force_status(&checkout, PaymentStatus::Capturing)
        .await;

    world.advance(61).await;
    world.advance(61).await;

    assert_eq!(world.session(&checkout).await["status"], "completed");
    assert_eq!(world.paid().await, before + dec(25));
    assert_eq!(world.lines("topup").await.len(), 1);
}

#[tokio::test]
async fn an_admin_refund_takes_the_paid_credits_back_in_full_or_in_part() {
    for provider in [Provider::Paypal, Provider::Revolut] {
        let world = PayWorld::with(provider).await;
        let before = world.paid().await;
        let full = completed(&world, provider, 25).await;
        let partial = completed(&world, provider, 50).await;

        let full_refund = refund(&world, &full, None).await.expect(StatusCode::OK);
        let part = refund(&world, &partial, Some(20))
            .await
            .expect(StatusCode::OK);

        assert_eq!(full_refund["status"], "refunded", "{provider:?}");
        assert_eq!(full_refund["refunded_amount"], json!(25));
        assert!(full_refund["provider_refund_id"].is_string());
        assert_eq!(part["status"], "completed");
        assert_eq!(part["refunded_amount"], json!(20));
        assert_eq!(world.paid().await, before + dec(30));
        let rest = refund(&world, &partial, None).await.expect(StatusCode::OK);
        assert_eq!(rest["status"], "refunded");
        assert_eq!(rest["refunded_amount"], json!(30));
        assert_eq!(world.paid().await, before);
        let again = refund(&world, &full, None).await;
        assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
        assert_eq!(world.lines("refund").await.len(), 3);
    }
}

#[tokio::test]
async fn a_refund_after_the_credits_were_spent_is_409_and_changes_nothing() {
    let world = PayWorld::with(Provider::Paypal).await;
    let checkout = completed(&world, Provider::Paypal, 25).await;
    spend_down_to(&world, dec(5)).await;
    let wallet_before = world.org_wallet().await;

    let answer = refund(&world, &checkout, None).await;

    assert_eq!(answer.status, StatusCode::CONFLICT, "{}", answer.body);
    assert_eq!(answer.code(), "insufficient_balance_for_refund");
    assert_eq!(answer.body["error"]["details"]["available"], json!(5));
    assert_eq!(world.org_wallet().await, wallet_before);
    assert_eq!(world.session(&checkout).await["status"], "completed");
    assert_eq!(world.paypal.count("POST", "/v2/payments/captures"), 0);
}

#[tokio::test]
async fn a_reversal_before_the_credits_were_spent_takes_them_back() {
    let world = PayWorld::with(Provider::Paypal).await;
    let before = world.paid().await;
    let checkout = completed(&world, Provider::Paypal, 25).await;
    let capture_id = world.session(&checkout).await["provider_capture_id"]
        .as_str()
        .unwrap()
        .to_owned();

    world.paypal.reverse_capture(&capture_id, dec(25)).await;
    let (headers, body) = world.paypal_event("PAYMENT.CAPTURE.REVERSED");
    world
        .deliver("paypal", &headers, body)
        .await
        .expect(StatusCode::OK);

    assert_eq!(world.paid().await, before);
    assert_eq!(world.org_wallet().await["debt_credits"], "0");
    assert_eq!(world.session(&checkout).await["status"], "refunded");
}

#[tokio::test]
async fn a_reversal_after_the_credits_were_spent_books_debt_that_blocks_spending_until_repaid() {
    let world = PayWorld::with(Provider::Paypal).await;
    let checkout = completed(&world, Provider::Paypal, 25).await;
    spend_down_to(&world, dec(5)).await;
    let capture_id = world.session(&checkout).await["provider_capture_id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Act: the chargeback takes the 5 left and books 20 as debt.
    world.paypal.reverse_capture(&capture_id, dec(25)).await;
    let (headers, body) = world.paypal_event("PAYMENT.CAPTURE.REVERSED");
    world
        .deliver("paypal", &headers, body)
        .await
        .expect(StatusCode::OK);

    // Assert
    let wallet = world.org_wallet().await;
    assert_eq!(decimal(&wallet["debt_credits"]), dec(20));
    assert_eq!(decimal(&wallet["available_credits"]), dec(0));
    let charge = json!({"owner_type": "organization", "owner_id": world.a.org,
                        "amount": "1", "fee_type": "SUBSCRIPTION"});
    let refused = world
        .app
        .post("/v1/charges", &world.a.org_admin, charge.clone())
        .await;
    assert_eq!(
        refused.status,
        StatusCode::PAYMENT_REQUIRED,
        "{}",
        refused.body
    );

    // The next top-up repays the debt first.
    completed(&world, Provider::Paypal, 25).await;
    let wallet = world.org_wallet().await;
    assert_eq!(decimal(&wallet["debt_credits"]), dec(0));
    assert_eq!(decimal(&wallet["available_credits"]), dec(5));
    let charged = world
        .app
        .post("/v1/charges", &world.a.org_admin, charge)
        .await;
    assert!(charged.status.is_success(), "{}", charged.body);
}

#[tokio::test]
async fn a_dashboard_refund_on_revolut_or_paypal_is_applied_once() {
    let world = PayWorld::with(Provider::Paypal).await;
    let before = world.paid().await;
    let checkout = completed(&world, Provider::Paypal, 25).await;
    let capture_id = world.session(&checkout).await["provider_capture_id"]
        .as_str()
        .unwrap()
        .to_owned();

    world
        .paypal
        .refund_from_dashboard(&capture_id, dec(10))
        .await;
    let (headers, body) = world.paypal_event("PAYMENT.CAPTURE.REFUNDED");
    world
        .deliver("paypal", &headers, body.clone())
        .await
        .expect(StatusCode::OK);
    world
        .deliver("paypal", &headers, body)
        .await
        .expect(StatusCode::OK);

    assert_eq!(world.paid().await, before + dec(15));
    let session = world.session(&checkout).await;
    assert_eq!(session["status"], "completed");
    assert_eq!(session["refunded_amount"], json!(10));
}

#[tokio::test]
async fn refunds_are_for_platform_admins_and_other_sessions_are_404() {
    let world = PayWorld::with(Provider::Paypal).await;
    let checkout = completed(&world, Provider::Paypal, 25).await;
    let body = json!({"payment_session_id": checkout["payment_session_id"], "reason": "x"});

    let by_org_admin = world
        .app
        .post("/v1/admin/payments/refund", &world.a.org_admin, body)
        .await;
    let unknown = world
        .app
        .post(
            "/v1/admin/payments/refund",
            BOOTSTRAP,
            json!({"payment_session_id": "sess_nope", "reason": "x"}),
        )
        .await;

    assert_eq!(by_org_admin.status, StatusCode::FORBIDDEN);
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let listed = world
        .app
        .call(
            Method::GET,
            &format!("/v1/admin/payments?org_id={}&status=completed", world.a.org),
            Some(BOOTSTRAP),
            None,
            &[],
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(listed["total"], 1);
}

#[tokio::test]
async fn a_refund_retried_with_its_idempotency_key_after_a_lost_answer_refunds_once() {
    let world = PayWorld::with(Provider::Paypal).await;
    let before = world.paid().await;
    let checkout = completed(&world, Provider::Paypal, 40).await;
    // PayPal refunds, then its answer is lost (500 after the work), for the adapter's first
    // try and both of its retries: the admin's call fails with the outcome unknown.
    world.paypal.inject(
        "POST",
        "/v2/payments/captures",
        Fault::ServerErrorAfterWork,
        3,
    );
    let body = json!({
        "payment_session_id": checkout["payment_session_id"],
        "reason": "Customer requested reversal",
        "amount": 15,
    });
    let key = [("idempotency-key", "refund-ticket-4711")];

    let lost = world
        .app
        .call(
            Method::POST,
            "/v1/admin/payments/refund",
            Some(BOOTSTRAP),
            Some(body.clone()),
            &key,
        )
        .await;
    // The refund's webhook arrives before the retry: it takes the credits back and frees the
    // refund's hold, so the retry finds no refund in flight.
    let (headers, webhook) = world.paypal_event("PAYMENT.CAPTURE.REFUNDED");
    world
        .deliver("paypal", &headers, webhook)
        .await
        .expect(StatusCode::OK);
    assert_eq!(world.paid().await, before + dec(25));
    assert_eq!(decimal(&world.org_wallet().await["held_credits"]), dec(0));
    let retried = world
        .app
        .call(
            Method::POST,
            "/v1/admin/payments/refund",
            Some(BOOTSTRAP),
            Some(body),
            &key,
        )
        .await;

    assert!(
        lost.status.is_server_error(),
        "{} {}",
        lost.status,
        lost.body
    );
    assert_eq!(retried.status, StatusCode::OK, "{}", retried.body);
    assert_eq!(retried.body["refunded_amount"], json!(15));
    assert_eq!(retried.body["total_refunded_amount"], json!(15));
    let refund_calls = world.paypal.requests_to("POST", "/v2/payments/captures");
    assert_eq!(refund_calls.len(), 4, "three tries, then the retry");
    let first_key = refund_calls[0].header("paypal-request-id");
    assert!(first_key.is_some());
    assert!(
        refund_calls
            .iter()
            .all(|call| call.header("paypal-request-id") == first_key),
        "the same refund key every time"
    );
    // The fake answers a repeated PayPal-Request-Id with the refund it made (PayPal's rule):
    // the same refund id, so PayPal refunded once.
    assert_eq!(
        retried.body["provider_refund_id"],
        world.session(&checkout).await["provider_refund_id"]
    );
    assert_eq!(world.paid().await, before + dec(25));
    assert_eq!(world.lines("refund").await.len(), 1);
    assert_eq!(decimal(&world.org_wallet().await["held_credits"]), dec(0));
}
