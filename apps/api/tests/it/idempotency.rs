//! `Idempotency-Key`: replay, 422 on another body, 409 while in flight, scoped per org.

use axum::http::{Method, StatusCode};
use ledger_core::ports::IdempotencyStore;
use serde_json::{Value, json};

use crate::support::World;

async fn reserve(world: &World, token: &str, key: &str, body: Value) -> crate::support::Answer {
    world
        .app
        .call(
            Method::POST,
            "/v1/gateway/wallets/reserve",
            Some(token),
            Some(body),
            &[("idempotency-key", key)],
        )
        .await
}

async fn held(world: &World, wallet: &str) -> String {
    world
        .app
        .get(&format!("/v1/wallets/{wallet}"), crate::support::BOOTSTRAP)
        .await
        .body["held_credits"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn the_same_key_and_body_replays_the_first_answer_and_holds_once() {
    let world = World::new().await;
    let body = json!({"user_id": world.a.member, "amount": "2"});

    let first = reserve(&world, &world.a.gateway, "key-1", body.clone()).await;
    let second = reserve(
        &world,
        &world.a.gateway,
        "key-1",
        json!({"amount": "2", "user_id": world.a.member}),
    )
    .await;

    assert_eq!(first.status, StatusCode::CREATED);
    assert_eq!(second.status, StatusCode::CREATED);
    assert_eq!(first.body["id"], second.body["id"]);
    assert!(first.headers.get("idempotent-replayed").is_none());
    assert_eq!(second.headers.get("idempotent-replayed").unwrap(), "true");
    assert_eq!(held(&world, &world.a.member_wallet).await, "3");
}

#[tokio::test]
async fn the_same_key_with_another_body_is_422() {
    let world = World::new().await;
    reserve(
        &world,
        &world.a.gateway,
        "key-2",
        json!({"user_id": world.a.member, "amount": "2"}),
    )
    .await;

    let answer = reserve(
        &world,
        &world.a.gateway,
        "key-2",
        json!({"user_id": world.a.member, "amount": "3"}),
    )
    .await;

    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer.code(), "idempotency_key_reused");
    assert_eq!(held(&world, &world.a.member_wallet).await, "3");
}

#[tokio::test]
async fn a_key_still_in_flight_is_409() {
    let world = World::new().await;
    let now = world.app.state.ledger.clock().now();
    world
        .app
        .store
        .claim(
            &world.a.org,
            "key-3",
            "another-request",
            now,
            now - time::Duration::hours(1),
        )
        .await
        .unwrap();

    let answer = reserve(
        &world,
        &world.a.gateway,
        "key-3",
        json!({"user_id": world.a.member, "amount": "2"}),
    )
    .await;

    assert_eq!(answer.status, StatusCode::CONFLICT);
    assert_eq!(answer.code(), "idempotency_key_in_use");
}

#[tokio::test]
async fn a_4xx_answer_is_replayed_too() {
    let world = World::new().await;
    let body = json!({"user_id": world.a.member, "amount": "99999"});

    let first = reserve(&world, &world.a.gateway, "key-4", body.clone()).await;
    let second = reserve(&world, &world.a.gateway, "key-4", body).await;

    assert_eq!(first.status, StatusCode::PAYMENT_REQUIRED);
    assert_eq!(second.status, StatusCode::PAYMENT_REQUIRED);
    assert_eq!(
        first.body["cost_ticket"]["id"],
        second.body["cost_ticket"]["id"]
    );
    assert_eq!(second.headers.get("idempotent-replayed").unwrap(), "true");
}

#[tokio::test]
async fn keys_are_scoped_to_the_callers_organization() {
    let world = World::new().await;

    let a = reserve(
        &world,
        &world.a.gateway,
        "shared",
        json!({"user_id": world.a.member, "amount": "1"}),
    )
    .await;
    let b = reserve(
        &world,
        &world.b.gateway,
        "shared",
        json!({"user_id": world.b.member, "amount": "1"}),
    )
    .await;

    assert_eq!(a.status, StatusCode::CREATED);
    assert_eq!(b.status, StatusCode::CREATED);
    assert!(b.headers.get("idempotent-replayed").is_none());
}

#[tokio::test]
async fn settle_with_a_key_replays_and_credit_with_a_key_credits_once() {
    let world = World::new().await;
    let settle = json!({"reservation_id": world.a.reservation, "amount": "0.5"});
    for _ in 0..2 {
        let answer = world
            .app
            .call(
                Method::POST,
                "/v1/gateway/wallets/settle",
                Some(&world.a.gateway),
                Some(settle.clone()),
                &[("idempotency-key", "s-1")],
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK);
    }
    let credit = json!({"wallet_id": world.a.member_wallet, "granted_credits": "10"});
    for _ in 0..3 {
        let answer = world
            .app
            .call(
                Method::POST,
                "/v1/wallets/credit",
                Some(&world.a.org_admin),
                Some(credit.clone()),
                &[("idempotency-key", "c-1")],
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK);
    }

    let wallet = world
        .app
        .get(
            &format!("/v1/wallets/{}", world.a.member_wallet),
            &world.a.org_admin,
        )
        .await
        .body;
    assert_eq!(wallet["granted_credits"], "10");
}

#[tokio::test]
async fn an_over_long_key_is_400() {
    let world = World::new().await;
    let key = "k".repeat(300);

    let answer = reserve(
        &world,
        &world.a.gateway,
        &key,
        json!({"user_id": world.a.member, "amount": "1"}),
    )
    .await;

    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_5xx_answer_is_not_stored_so_the_key_can_be_retried() {
    use std::sync::Arc;

    use ledger_core::error::StoreError;
    use ledger_core::ports::MockLedgerStore;
    use purse_api::wiring::Stores;

    // Arrange: the directory and keys in memory, a ledger store whose database is down.
    let memory = crate::support::TestApp::new();
    let world_org = crate::support::OrgFixture::create(&memory, "acme").await;
    let mut failing = MockLedgerStore::new();
    failing
        .expect_begin()
        .times(2)
        .returning(|| Err(StoreError::Unavailable("the database is down".into())));
    let stores = Stores {
        ledger: Arc::new(failing),
        ..Stores::memory(memory.store.clone())
    };
    let config = purse_api::Config {
        bootstrap_token: Some(purse_api::config::Secret::new(crate::support::BOOTSTRAP)),
        ..purse_api::Config::default()
    };
    let router = purse_api::http::router(purse_api::wiring::state(&config, &stores));
    let body = json!({"user_id": world_org.member, "amount": "1"}).to_string();

    // Act: the same key twice.
    let mut answers = Vec::new();
    for _ in 0..2 {
        let request = axum::http::Request::post("/v1/gateway/wallets/reserve")
            .header("authorization", format!("Bearer {}", world_org.gateway))
            .header("content-type", "application/json")
            .header("idempotency-key", "key-5xx")
            .body(axum::body::Body::from(body.clone()))
            .unwrap();
        answers.push(
            tower::ServiceExt::oneshot(router.clone(), request)
                .await
                .unwrap(),
        );
    }

    // Assert: both ran (the mock saw two units of work), neither was a replay.
    for answer in answers {
        assert_eq!(answer.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(answer.headers().get("idempotent-replayed").is_none());
    }
}
