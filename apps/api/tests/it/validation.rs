//! Malformed and invalid input answers 400 in the error envelope and changes nothing.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::support::{BOOTSTRAP, World};

async fn wallet_snapshot(world: &World, wallet: &str) -> Value {
    let mut wallet = world
        .app
        .get(&format!("/v1/wallets/{wallet}"), BOOTSTRAP)
        .await
        .expect(StatusCode::OK);
    // `health` and `updated_at` are derived; the balances are what must not move.
    wallet["updated_at"] = Value::Null;
    wallet
}

async fn wallet_count(world: &World) -> u64 {
    world
        .app
        .get("/v1/admin/wallets", BOOTSTRAP)
        .await
        .expect(StatusCode::OK)["total"]
        .as_u64()
        .unwrap()
}

#[tokio::test]
async fn invalid_wallet_creations_are_400_and_create_nothing() {
    let world = World::new().await;
    let before = wallet_count(&world).await;
    let base = json!({"owner_type": "user", "owner_id": world.a.member, "currency": "USD", "rate_amount": "1"});
    let variations: Vec<(&str, Value)> = vec![
        ("currency", json!("QQQ")),
        ("currency", json!("usd")),
        ("currency", json!("US")),
        ("rate_amount", json!("0")),
        ("rate_amount", json!("-1")),
        ("rate_amount", json!("0.0000000001")),
        ("rate_amount", json!("one")),
        ("paid_credits", json!("-5")),
        ("granted_credits", json!("1.0000000001")),
        ("owner_type", json!("galaxy")),
        ("owner_id", json!("team_wrongprefix")),
        ("applies_to", json!({"fee_types": ["LUNCH"]})),
        ("expiration_at", json!("tomorrow")),
        ("expiration_at", json!("2001-01-01T00:00:00Z")),
        ("surprise", json!(true)),
        (
            "recurring_transaction_rules",
            json!([{"method": "TARGET", "trigger": "THRESHOLD", "threshold_credits": 5}]),
        ),
        (
            "recurring_transaction_rules",
            json!([{"method": "FIXED", "trigger": "THRESHOLD", "granted_credits": 5}]),
        ),
        (
            "recurring_transaction_rules",
            json!([{"method": "FIXED", "trigger": "INTERVAL", "granted_credits": 5}]),
        ),
        (
            "recurring_transaction_rules",
            json!([{"method": "FIXED", "trigger": "INTERVAL", "interval": "hourly", "granted_credits": 5}]),
        ),
    ];
    for (field, value) in variations {
        let mut body = base.clone();
        body[field] = value.clone();

        let answer = world.app.post("/v1/wallets", BOOTSTRAP, body).await;

        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{field} = {value}: {}",
            answer.body
        );
        assert!(answer.body["error"]["message"].is_string());
    }
    assert_eq!(wallet_count(&world).await, before);
}

#[tokio::test]
async fn invalid_reserves_are_400_and_hold_nothing() {
    let world = World::new().await;
    let before = wallet_snapshot(&world, &world.a.member_wallet).await;
    let member = &world.a.member;
    let bodies = vec![
        json!({"user_id": member, "amount": 0}),
        json!({"user_id": member, "amount": "-1"}),
        json!({"user_id": member, "amount": "0.0000000001"}),
        json!({"user_id": member, "amount": "1,5"}),
        json!({"user_id": member, "amount": null}),
        json!({"user_id": member}),
        json!({"user_id": member, "amount": 1, "fee_type": "CHARGES"}),
        json!({"user_id": member, "amount": 1, "currency": "QQQ"}),
        json!({"user_id": member, "amount": 1, "ttl_seconds": 0}),
        json!({"user_id": member, "amount": 1, "ttl_seconds": 999999999}),
        json!({"user_id": member, "amount": 1, "colour": "blue"}),
        json!({"user_id": "org_notauser", "amount": 1}),
    ];
    for body in bodies {
        let answer = world
            .app
            .post(
                "/v1/gateway/wallets/reserve",
                &world.a.gateway,
                body.clone(),
            )
            .await;

        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            answer.body
        );
    }
    assert_eq!(
        wallet_snapshot(&world, &world.a.member_wallet).await,
        before
    );
}

#[tokio::test]
async fn malformed_json_and_wrong_types_are_400_in_the_envelope() {
    let world = World::new().await;
    let answer = world
        .app
        .call(
            axum::http::Method::POST,
            "/v1/wallets/credit",
            Some(BOOTSTRAP),
            None,
            &[("content-type", "application/json")],
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.code(), "invalid_request");

    let answer = world
        .app
        .post(
            "/v1/wallets/credit",
            BOOTSTRAP,
            json!({"wallet_id": world.a.member_wallet, "paid_credits": [1]}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn credits_debits_and_transfers_refuse_bad_amounts_and_change_nothing() {
    let world = World::new().await;
    let before = wallet_snapshot(&world, &world.a.member_wallet).await;
    let wallet = &world.a.member_wallet;
    let cases = vec![
        (
            "/v1/wallets/credit".to_owned(),
            json!({"wallet_id": wallet, "paid_credits": "abc"}),
        ),
        (
            "/v1/wallets/credit".to_owned(),
            json!({"wallet_id": wallet, "paid_credits": -1}),
        ),
        (
            "/v1/wallets/credit".to_owned(),
            json!({"wallet_id": wallet}),
        ),
        (
            format!("/v1/wallets/{wallet}/debit"),
            json!({"paid_credits": "0.00000000001"}),
        ),
        (
            "/v1/wallets/allocate".to_owned(),
            json!({"from_wallet_id": wallet, "to_wallet_id": world.a.team_wallet, "amount": 1}),
        ),
        (
            "/v1/wallets/allocate".to_owned(),
            json!({"from_wallet_id": world.a.team_wallet, "to_wallet_id": wallet, "amount": 0}),
        ),
        (
            "/v1/wallets/reclaim".to_owned(),
            json!({"from_wallet_id": world.a.team_wallet, "to_wallet_id": wallet, "amount": 1}),
        ),
    ];
    for (path, body) in cases {
        let answer = world.app.post(&path, BOOTSTRAP, body.clone()).await;

        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{path} {body}: {}",
            answer.body
        );
    }
    assert_eq!(
        wallet_snapshot(&world, &world.a.member_wallet).await,
        before
    );
}

#[tokio::test]
async fn allocating_up_the_tree_is_invalid_allocation() {
    let world = World::new().await;

    let answer = world
        .app
        .post(
            "/v1/wallets/allocate",
            BOOTSTRAP,
            json!({"from_wallet_id": world.a.member_wallet, "to_wallet_id": world.a.org_wallet, "amount": 1}),
        )
        .await;

    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.code(), "invalid_allocation");
}

#[tokio::test]
async fn a_platform_admin_allocating_across_organizations_gets_invalid_allocation() {
    let world = World::new().await;

    let answer = world
        .app
        .post(
            "/v1/wallets/allocate",
            BOOTSTRAP,
            json!({"from_wallet_id": world.a.org_wallet, "to_wallet_id": world.b.member_wallet, "amount": 1}),
        )
        .await;

    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.code(), "invalid_allocation");
}

#[tokio::test]
async fn pages_below_one_are_400_and_per_page_above_100_is_clamped() {
    let world = World::new().await;
    for query in ["page=0", "per_page=0", "page=-1", "page=abc"] {
        let answer = world
            .app
            .get(&format!("/v1/wallets?{query}"), BOOTSTRAP)
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{query}");
    }

    let page = world
        .app
        .get("/v1/wallets?per_page=1000", BOOTSTRAP)
        .await
        .expect(StatusCode::OK);
    assert_eq!(page["has_more"], false);
    assert_eq!(
        page["wallets"].as_array().unwrap().len() as u64,
        page["total"].as_u64().unwrap()
    );

    let first = world
        .app
        .get("/v1/wallets?per_page=1", BOOTSTRAP)
        .await
        .expect(StatusCode::OK);
    assert_eq!(first["wallets"].as_array().unwrap().len(), 1);
    assert_eq!(first["has_more"], true);
}

#[tokio::test]
async fn unknown_filters_values_are_400() {
    let world = World::new().await;
    let wallet = &world.a.member_wallet;
    for path in [
        "/v1/wallets?status=DORMANT".to_owned(),
        "/v1/wallets?owner_type=planet".to_owned(),
        format!("/v1/wallets/{wallet}/transactions?kind=gift"),
        format!("/v1/wallets/{wallet}/transactions?from_date=yesterday"),
        "/v1/cost-tickets?status=lost".to_owned(),
    ] {
        let answer = world.app.get(&path, BOOTSTRAP).await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{path}: {}",
            answer.body
        );
    }
}

#[tokio::test]
async fn a_body_past_the_limit_is_413_in_the_envelope() {
    let world = World::new().await;
    let huge = "x".repeat(100 * 1024);

    let answer = world
        .app
        .post("/v1/wallets", BOOTSTRAP, json!({"name": huge}))
        .await;

    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(answer.code(), "payload_too_large");
}
