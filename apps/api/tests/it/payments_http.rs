//! The payments surface: create-checkout validation, tenancy, settings, the provider
//! configuration and its secrets, legacy aliases, the sandbox page, saved methods, history.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::payments_support::{PayWorld, Provider, dec, decimal, master_key};
use crate::support::{BOOTSTRAP, TestApp, id};

async fn put_settings(world: &PayWorld, body: Value) -> crate::support::Answer {
    world
        .app
        .call(
            Method::PUT,
            "/v1/payments/settings",
            Some(&world.a.billing_admin),
            Some(body),
            &[],
        )
        .await
}

#[tokio::test]
async fn every_validation_error_of_create_checkout() {
    let world = PayWorld::new().await;
    let fx = &world.a;
    let other_team = id(&world
        .app
        .made(
            &format!("/v1/orgs/{}/teams", fx.org),
            &fx.org_admin,
            json!({"name": "ops"}),
        )
        .await);
    let cases: Vec<(&str, &str, Value, StatusCode)> = vec![
        (
            "below min",
            &fx.member_token,
            json!({"amount": 5}),
            StatusCode::BAD_REQUEST,
        ),
        (
            "above max",
            &fx.member_token,
            json!({"amount": 251}),
            StatusCode::BAD_REQUEST,
        ),
        (
            "too many decimals",
            &fx.member_token,
            json!({"amount": "10.001"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            "not a number",
            &fx.member_token,
            json!({"amount": "ten"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            "unassigned currency",
            &fx.member_token,
            json!({"amount": 10, "currency": "QQQ"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            "team without id",
            &fx.member_token,
            json!({"amount": 10, "target_wallet_owner_type": "team"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            "unknown scope",
            &fx.member_token,
            json!({"amount": 10, "target_wallet_owner_type": "planet"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            "bad surface",
            &fx.member_token,
            json!({"amount": 10, "surface": "fax"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            "bad return url",
            &fx.member_token,
            json!({"amount": 10, "return_url": "javascript:alert(1)"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            "unknown field",
            &fx.member_token,
            json!({"amount": 10, "colour": "red"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            "team it is not in",
            &fx.member_token,
            json!({"amount": 10, "target_wallet_owner_type": "team", "target_wallet_owner_id": other_team}),
            StatusCode::FORBIDDEN,
        ),
        (
            "another user",
            &fx.member_token,
            json!({"amount": 10, "target_wallet_owner_type": "user", "target_wallet_owner_id": world.a.member.replace("user_", "user_x")}),
            StatusCode::NOT_FOUND,
        ),
        (
            "another org's team",
            &fx.org_admin,
            json!({"amount": 10, "target_wallet_owner_type": "team", "target_wallet_owner_id": world.b.team}),
            StatusCode::NOT_FOUND,
        ),
        (
            "gateway",
            &fx.gateway,
            json!({"amount": 10}),
            StatusCode::FORBIDDEN,
        ),
    ];
    for (name, token, body, status) in cases {
        let answer = world.checkout_as(token, body).await;
        assert_eq!(answer.status, status, "{name}: {}", answer.body);
    }

    // A member may top up its own team and itself, and the organization.
    for body in [
        json!({"amount": 10, "target_wallet_owner_type": "team", "target_wallet_owner_id": fx.team}),
        json!({"amount": 10, "target_wallet_owner_type": "user"}),
        json!({"amount": "10.50"}),
    ] {
        world
            .checkout_as(&fx.member_token, body)
            .await
            .expect(StatusCode::CREATED);
    }

    // Scopes the organization does not allow.
    put_settings(&world, json!({"topup_target_scopes": ["organization"]}))
        .await
        .expect(StatusCode::OK);
    let answer = world
        .checkout_as(
            &fx.member_token,
            json!({"amount": 10, "target_wallet_owner_type": "user"}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);

    // Top-ups switched off.
    put_settings(&world, json!({"wallet_user_topup_enabled": false}))
        .await
        .expect(StatusCode::OK);
    let answer = world
        .checkout_as(&fx.member_token, json!({"amount": 10}))
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.body);
    put_settings(&world, json!({"wallet_user_topup_enabled": true}))
        .await
        .expect(StatusCode::OK);

    // A currency the active provider does not support.
    world.activate(Provider::Paypal).await;
    let answer = world
        .checkout_as(&fx.member_token, json!({"amount": 10, "currency": "GBP"}))
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);

    // The active provider disabled, or without credentials.
    let config = |body: Value| {
        world.app.call(
            Method::PUT,
            "/v1/admin/payments/config",
            Some(BOOTSTRAP),
            Some(body),
            &[],
        )
    };
    config(json!({"paypal": {"enabled": false}}))
        .await
        .expect(StatusCode::OK);
    let answer = world
        .checkout_as(&fx.member_token, json!({"amount": 10}))
        .await;
    assert_eq!(answer.status, StatusCode::CONFLICT, "{}", answer.body);
    assert_eq!(answer.code(), "no_payment_provider");
    config(json!({"paypal": {"enabled": true, "client_secret": null}}))
        .await
        .expect(StatusCode::OK);
    let answer = world
        .checkout_as(&fx.member_token, json!({"amount": 10}))
        .await;
    assert_eq!(answer.code(), "no_payment_provider");
}

#[tokio::test]
async fn a_checkout_answers_the_seed_fields_and_defaults_to_the_orgs_currency() {
    let world = PayWorld::new().await;

    let checkout = world
        .checkout_as(
            &world.a.member_token,
            json!({"amount": 25, "surface": "chat"}),
        )
        .await
        .expect(StatusCode::CREATED);

    assert!(
        checkout["payment_session_id"]
            .as_str()
            .unwrap()
            .starts_with("sess_")
    );
    assert_eq!(checkout["provider"], "sandbox");
    assert!(
        checkout["approval_url"]
            .as_str()
            .unwrap()
            .starts_with("http://purse.test/sandbox/checkout/")
    );
    assert!(checkout["expires_at"].is_string());
    assert!(checkout["checkout_state"].as_str().unwrap().len() >= 32);
    assert_eq!(checkout["currency"], "USD");
    assert_eq!(checkout["amount"], json!(25));
}

#[tokio::test]
async fn a_wrong_checkout_state_is_400_and_another_orgs_session_is_404() {
    let world = PayWorld::with(Provider::Paypal).await;
    let checkout = world
        .checkout_as(&world.a.member_token, json!({"amount": 25}))
        .await
        .expect(StatusCode::CREATED);
    world.buyer_approves(Provider::Paypal, &checkout).await;
    let mut wrong = checkout.clone();
    wrong["checkout_state"] = json!("guessed");

    let bad_state = world.confirm_as(&world.a.member_token, &wrong).await;
    let other_org = world.confirm_as(&world.b.org_admin, &checkout).await;
    let other_member = world.confirm_as(&world.a.owner_token, &checkout).await;
    let read_other_org = world
        .app
        .get(
            &format!(
                "/v1/payments/sessions/{}",
                checkout["payment_session_id"].as_str().unwrap()
            ),
            &world.b.member_token,
        )
        .await;

    assert_eq!(
        bad_state.status,
        StatusCode::BAD_REQUEST,
        "{}",
        bad_state.body
    );
    assert_eq!(other_org.status, StatusCode::NOT_FOUND);
    assert_eq!(other_member.status, StatusCode::FORBIDDEN);
    assert_eq!(read_other_org.status, StatusCode::NOT_FOUND);
    assert_eq!(world.session(&checkout).await["status"], "created");
    world
        .confirm_as(&world.a.member_token, &checkout)
        .await
        .expect(StatusCode::OK);
}

#[tokio::test]
async fn idempotency_keys_replay_create_and_confirm() {
    let world = PayWorld::with(Provider::Paypal).await;
    let body =
        json!({"amount": 25, "return_url": "https://x.test/r", "cancel_url": "https://x.test/c"});
    let call = |body: Value| {
        world.app.call(
            Method::POST,
            "/v1/payments/create-checkout",
            Some(&world.a.org_admin),
            Some(body),
            &[("idempotency-key", "checkout-1")],
        )
    };

    let first = call(body.clone()).await;
    let second = call(body).await;

    assert_eq!(first.status, StatusCode::CREATED);
    assert_eq!(second.status, StatusCode::CREATED);
    assert_eq!(second.headers["idempotent-replayed"], "true");
    assert_eq!(first.body, second.body);
    assert_eq!(world.paypal.count("POST", "/v2/checkout/orders"), 1);
}

#[tokio::test]
async fn the_legacy_aliases_behave_as_the_generic_endpoints_with_paypal() {
    let world = PayWorld::with(Provider::Paypal).await;
    let before = world.paid().await;

    let order = world
        .app
        .post(
            "/v1/payments/create-order",
            &world.a.org_admin,
            json!({"amount": 25, "return_url": "https://x.test/r", "cancel_url": "https://x.test/c"}),
        )
        .await
        .expect(StatusCode::CREATED);
    world.buyer_approves(Provider::Paypal, &order).await;
    let captured = world
        .app
        .post(
            "/v1/payments/capture-order",
            &world.a.org_admin,
            json!({"payment_session_id": order["payment_session_id"],
                   "provider_session_token": order["provider_order_id"],
                   "checkout_state": order["checkout_state"]}),
        )
        .await
        .expect(StatusCode::OK);
    let (headers, body) = world.paypal_event("PAYMENT.CAPTURE.COMPLETED");
    let mut request = Request::builder()
        .method(Method::POST)
        .uri("/v1/payments/webhook");
    for (name, value) in &headers {
        request = request.header(name.as_str(), value.as_str());
    }
    let webhook = world
        .app
        .router
        .clone()
        .oneshot(request.body(Body::from(body)).unwrap())
        .await
        .unwrap();

    assert_eq!(order["provider"], "paypal");
    assert_eq!(captured["status"], "completed");
    assert_eq!(webhook.status(), StatusCode::OK);
    assert_eq!(world.paid().await, before + dec(25));

    // With the sandbox active, create-order still goes to PayPal, or answers 409 without it.
    let sandbox_only = PayWorld::new().await;
    let answer = sandbox_only
        .checkout_as(&sandbox_only.a.org_admin, json!({"amount": 10}))
        .await;
    assert_eq!(answer.status, StatusCode::CREATED);
    let legacy = sandbox_only
        .app
        .post(
            "/v1/payments/create-order",
            &sandbox_only.a.org_admin,
            json!({"amount": 10}),
        )
        .await;
    assert_eq!(legacy.code(), "no_payment_provider");
}

async fn form_post(app: &TestApp, path: &str) -> (StatusCode, String) {
    let response = app
        .router
        .clone()
        .oneshot(
            Request::builder()
                .method(Method::POST)
                .uri(path)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let location = response
        .headers()
        .get("location")
        .map(|value| value.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (response.status(), location)
}

#[tokio::test]
async fn the_sandbox_page_approves_and_the_confirm_credits_the_wallet() {
    let world = PayWorld::new().await;
    let before = world.paid().await;
    let checkout = world
        .checkout_as(
            &world.a.member_token,
            json!({"amount": 25, "save_payment_method": true}),
        )
        .await
        .expect(StatusCode::CREATED);
    let token = checkout["provider_order_id"].as_str().unwrap();
    let page_path = format!("/sandbox/checkout/{token}");

    let page = world
        .app
        .call(Method::GET, &page_path, None, None, &[])
        .await;
    let (status, location) = form_post(&world.app, &format!("{page_path}/approve")).await;
    let confirmed = world
        .confirm_as(&world.a.member_token, &checkout)
        .await
        .expect(StatusCode::OK);

    assert_eq!(page.status, StatusCode::OK);
    let html = page.body.as_str().unwrap();
    assert!(html.contains("25 USD") && html.contains("Approve") && html.contains("Cancel"));
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        location,
        format!("https://console.example/payments/return?token={token}")
    );
    assert_eq!(confirmed["status"], "completed");
    assert_eq!(world.paid().await, before + dec(25));

    // The buyer agreed to save the method: it is listed, then deleted.
    let methods = world
        .app
        .get("/v1/payments/payment-methods", &world.a.billing_admin)
        .await
        .expect(StatusCode::OK);
    let member_view = world
        .app
        .get("/v1/payments/payment-methods", &world.a.member_token)
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        member_view["total"], 0,
        "a member sees its own and its teams' methods"
    );
    let method = methods["payment_methods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|method| method["id"] != world.a.payment_method.as_str())
        .unwrap();
    assert_eq!(method["provider"], "sandbox");
    assert_eq!(method["owner_type"], "organization");
    let other_org = world
        .app
        .call(
            Method::DELETE,
            &format!(
                "/v1/payments/payment-methods/{}",
                method["id"].as_str().unwrap()
            ),
            Some(&world.b.org_admin),
            None,
            &[],
        )
        .await;
    assert_eq!(other_org.status, StatusCode::NOT_FOUND);
    let deleted = world
        .app
        .call(
            Method::DELETE,
            &format!(
                "/v1/payments/payment-methods/{}",
                method["id"].as_str().unwrap()
            ),
            Some(&world.a.billing_admin),
            None,
            &[],
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let methods = world
        .app
        .get("/v1/payments/payment-methods", &world.a.billing_admin)
        .await
        .expect(StatusCode::OK);
    assert_eq!(methods["total"], 1, "only the fixture's method is left");
}

#[tokio::test]
async fn a_buyer_who_cancels_on_the_sandbox_page_gets_a_canceled_session() {
    let world = PayWorld::new().await;
    let before = world.paid().await;
    let checkout = world.checkout(25).await;
    let token = checkout["provider_order_id"].as_str().unwrap();

    let (status, location) =
        form_post(&world.app, &format!("/sandbox/checkout/{token}/cancel")).await;
    let confirm = world.confirm(&checkout).await;

    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        location,
        format!("https://console.example/payments/cancel?token={token}")
    );
    assert_eq!(confirm.status, StatusCode::CONFLICT, "{}", confirm.body);
    assert_eq!(confirm.body["error"]["details"]["status"], "canceled");
    assert_eq!(world.session(&checkout).await["status"], "canceled");
    assert_eq!(world.paid().await, before);
    let (approve_after, _) =
        form_post(&world.app, &format!("/sandbox/checkout/{token}/approve")).await;
    assert_eq!(approve_after, StatusCode::CONFLICT);
}

#[tokio::test]
async fn unapproved_sessions_expire_after_three_hours() {
    let world = PayWorld::new().await;
    let checkout = world.checkout(25).await;

    world.advance(3 * 3600 + 1).await;

    assert_eq!(world.session(&checkout).await["status"], "expired");
    let confirm = world.confirm(&checkout).await;
    assert_eq!(confirm.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn settings_have_defaults_merge_and_refuse_nonsense() {
    let world = PayWorld::new().await;

    let defaults = world
        .app
        .get("/v1/payments/settings", &world.a.member_token)
        .await
        .expect(StatusCode::OK);
    let merged = put_settings(&world, json!({"allowed_topup_amounts": [10, 25, 50, 100]}))
        .await
        .expect(StatusCode::OK);
    let min_above_max = put_settings(&world, json!({"min_topup_amount": 300})).await;
    let outside = put_settings(&world, json!({"allowed_topup_amounts": [5]})).await;
    let by_member = world
        .app
        .call(
            Method::PUT,
            "/v1/payments/settings",
            Some(&world.a.member_token),
            Some(json!({"min_topup_amount": 1})),
            &[],
        )
        .await;

    assert_eq!(defaults["wallet_user_topup_enabled"], true);
    assert_eq!(defaults["active_provider"], "sandbox");
    assert_eq!(defaults["available_providers"], json!(["sandbox"]));
    assert_eq!(defaults["payment_provider_configured"], true);
    assert_eq!(defaults["currency_supported_by_active_provider"], true);
    assert_eq!(defaults["allowed_topup_amounts"], json!([10, 25, 50]));
    assert_eq!(defaults["min_topup_amount"], json!(10));
    assert_eq!(defaults["max_topup_amount"], json!(250));
    assert_eq!(
        defaults["topup_target_scopes"],
        json!(["user", "team", "organization"])
    );
    assert_eq!(merged["allowed_topup_amounts"], json!([10, 25, 50, 100]));
    assert_eq!(merged["max_topup_amount"], json!(250));
    assert_eq!(min_above_max.status, StatusCode::BAD_REQUEST);
    assert_eq!(outside.status, StatusCode::BAD_REQUEST);
    assert_eq!(by_member.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn provider_secrets_are_sealed_never_returned_and_need_the_master_key() {
    let world = PayWorld::new().await;

    let stored = world
        .app
        .call(
            Method::PUT,
            "/v1/admin/payments/config",
            Some(BOOTSTRAP),
            Some(json!({"revolut_pro": {"secret_key": "sk_test_abcdef9876", "enabled": true}})),
            &[],
        )
        .await
        .expect(StatusCode::OK);
    let read = world
        .app
        .get("/v1/admin/payments/config", BOOTSTRAP)
        .await
        .expect(StatusCode::OK);

    assert_eq!(stored, read);
    assert_eq!(
        read["revolut_pro"]["secret_key"],
        json!({"configured": true, "last4": "9876"})
    );
    assert_eq!(read["revolut_pro"]["enabled"], true);
    assert_eq!(
        read["active_provider"], "sandbox",
        "merged: the rest kept its value"
    );
    assert_eq!(read["sandbox"]["enabled"], true);
    assert!(!read.to_string().contains("abcdef"));
    let document = world
        .app
        .state
        .payment_store
        .setting("payments_config")
        .await
        .unwrap()
        .unwrap();
    assert!(!document.contains("sk_test_abcdef9876"), "stored encrypted");
    assert_eq!(
        read["revolut_pro"]["base_url"],
        world.revolut.url(),
        "the base URL override wins over the environment"
    );

    // Without PURSE_MASTER_KEY a secret cannot be stored.
    let keyless = TestApp::new();
    let refused = keyless
        .call(
            Method::PUT,
            "/v1/admin/payments/config",
            Some(BOOTSTRAP),
            Some(json!({"paypal": {"client_secret": "s3cret"}})),
            &[],
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_eq!(refused.code(), "master_key_missing");
    let bad = keyless
        .call(
            Method::PUT,
            "/v1/admin/payments/config",
            Some(BOOTSTRAP),
            Some(json!({"active_provider": "bitcoin"})),
            &[],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(!master_key().is_empty());
}

#[tokio::test]
async fn history_filters_and_pages_and_members_see_their_own() {
    let world = PayWorld::new().await;
    for amount in [10, 20, 30] {
        world
            .checkout_as(&world.a.member_token, json!({"amount": amount}))
            .await
            .expect(StatusCode::CREATED);
    }
    world.checkout(40).await;
    world
        .checkout_as(&world.b.org_admin, json!({"amount": 50}))
        .await
        .expect(StatusCode::CREATED);

    let all = world
        .app
        .get("/v1/payments/history", &world.a.billing_admin)
        .await
        .expect(StatusCode::OK);
    let own = world
        .app
        .get("/v1/payments/history", &world.a.member_token)
        .await
        .expect(StatusCode::OK);
    let page = world
        .app
        .get(
            "/v1/payments/history?page=2&per_page=3",
            &world.a.billing_admin,
        )
        .await
        .expect(StatusCode::OK);
    let filtered = world
        .app
        .get(
            "/v1/payments/history?provider=sandbox&status=created&from_date=2000-01-01&to_date=2999-12-31",
            &world.a.billing_admin,
        )
        .await
        .expect(StatusCode::OK);
    let none = world
        .app
        .get(
            "/v1/payments/history?status=completed",
            &world.a.billing_admin,
        )
        .await
        .expect(StatusCode::OK);
    let bad = world
        .app
        .get("/v1/payments/history?status=paid", &world.a.billing_admin)
        .await;

    // The fixture's member started one checkout too.
    assert_eq!(all["total"], 5);
    assert_eq!(all["has_more"], false);
    assert_eq!(all["sessions"][0]["amount"], json!(40), "newest first");
    assert_eq!(own["total"], 4);
    assert_eq!(page["sessions"].as_array().unwrap().len(), 2);
    assert_eq!(filtered["total"], 5);
    assert_eq!(none["total"], 0);
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(decimal(&all["sessions"][3]["amount"]), dec(10));
    assert_eq!(page["has_more"], false);
}
