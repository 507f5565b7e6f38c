//! Wallet behaviour through HTTP: shapes, cascade, lifecycle, rules, seed 001's body.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::support::{BOOTSTRAP, World};

#[tokio::test]
async fn a_wallet_has_every_field_of_the_contract_as_decimal_strings() {
    let world = World::new().await;

    let wallet = world
        .app
        .get(&format!("/v1/wallets/{}", world.a.member_wallet), BOOTSTRAP)
        .await
        .expect(StatusCode::OK);

    for field in [
        "id",
        "org_id",
        "owner_type",
        "owner_id",
        "name",
        "status",
        "health",
        "currency",
        "rate_amount",
        "paid_credits",
        "granted_credits",
        "held_credits",
        "available_credits",
        "balance_credits",
        "total_allocated",
        "total_spent",
        "expiration_at",
        "activates_at",
        "priority",
        "applies_to",
        "recurring_transaction_rules",
        "created_at",
        "updated_at",
    ] {
        assert!(wallet.get(field).is_some(), "missing {field}");
    }
    assert_eq!(wallet["paid_credits"], "20");
    assert_eq!(wallet["held_credits"], "1");
    assert_eq!(wallet["available_credits"], "19");
    assert_eq!(wallet["balance_credits"], "20");
}

#[tokio::test]
async fn the_balance_lists_the_cascade_user_team_organization() {
    let world = World::new().await;

    let balance = world
        .app
        .get(
            &format!("/v1/wallets/balance?team_id={}", world.a.team),
            &world.a.member_token,
        )
        .await
        .expect(StatusCode::OK);

    let owners: Vec<&str> = balance["wallets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|wallet| wallet["owner_type"].as_str().unwrap())
        .collect();
    assert_eq!(owners, ["user", "team", "organization"]);
    assert_eq!(
        balance["effective_wallet_id"],
        world.a.member_wallet.as_str()
    );
    assert_eq!(balance["effective_available"], "100");
}

#[tokio::test]
async fn allocate_answers_both_wallets_and_a_team_owner_may_allocate_from_its_team() {
    let world = World::new().await;

    let moved = world
        .app
        .made(
            "/v1/wallets/allocate",
            &world.a.owner_token,
            json!({"from_wallet_id": world.a.team_wallet, "to_wallet_id": world.a.member_wallet, "amount": 5}),
        )
        .await;

    assert_eq!(moved["from_wallet"]["paid_credits"], "45");
    assert_eq!(moved["to_wallet"]["paid_credits"], "25");
    assert_eq!(moved["to_wallet"]["total_allocated"], "5");
}

#[tokio::test]
async fn a_terminated_wallet_refuses_patch_and_lifecycle_moves_with_409() {
    let world = World::new().await;
    let wallet = &world.a.member_wallet;
    let terminated = world
        .app
        .made(
            &format!("/v1/wallets/{wallet}/terminate"),
            BOOTSTRAP,
            json!({}),
        )
        .await;
    assert_eq!(terminated["status"], "TERMINATED");
    assert_eq!(terminated["balance_credits"], "0");

    let patch = world
        .app
        .call(
            Method::PATCH,
            &format!("/v1/wallets/{wallet}"),
            Some(BOOTSTRAP),
            Some(json!({"name": "x"})),
            &[],
        )
        .await;
    let again = world
        .app
        .post(
            &format!("/v1/wallets/{wallet}/terminate"),
            BOOTSTRAP,
            json!({}),
        )
        .await;
    let activate = world
        .app
        .post(
            &format!("/v1/wallets/{wallet}/activate"),
            BOOTSTRAP,
            json!({}),
        )
        .await;

    assert_eq!(patch.status, StatusCode::CONFLICT);
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(activate.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn rules_are_created_shown_and_replaced_by_patch() {
    let world = World::new().await;
    let created = world
        .app
        .made(
            "/v1/wallets",
            BOOTSTRAP,
            json!({"owner_type": "user", "owner_id": world.a.member, "currency": "USD", "rate_amount": "0.01",
                   "recurring_transaction_rules": [
                       {"method": "FIXED", "trigger": "INTERVAL", "interval": "monthly", "granted_credits": "10"},
                       {"method": "TARGET", "trigger": "THRESHOLD", "threshold_credits": 5, "target_ongoing_balance": 50}
                   ]}),
        )
        .await;
    let rules = created["recurring_transaction_rules"].as_array().unwrap();
    assert_eq!(rules.len(), 2);
    assert!(rules[0]["id"].as_str().unwrap().starts_with("rule_"));
    assert_eq!(rules[1]["target_ongoing_balance"], "50");
    assert!(rules[0]["started_at"].is_string());

    let patched = world
        .app
        .call(
            Method::PATCH,
            &format!("/v1/wallets/{}", created["id"].as_str().unwrap()),
            Some(BOOTSTRAP),
            Some(
                json!({"priority": 3, "expiration_at": "2999-01-01T00:00:00Z",
                        "applies_to": {"fee_types": ["CHARGE"]},
                        "recurring_transaction_rules": [rules[0].clone()]}),
            ),
            &[],
        )
        .await
        .expect(StatusCode::OK);

    assert_eq!(patched["priority"], 3);
    assert_eq!(patched["applies_to"]["fee_types"], json!(["CHARGE"]));
    assert_eq!(
        patched["recurring_transaction_rules"][0]["id"],
        rules[0]["id"]
    );
    assert_eq!(
        patched["recurring_transaction_rules"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn seed_001_body_creates_a_wallet_for_the_customer_named_by_external_id() {
    let world = World::new().await;

    let wallet = world
        .app
        .post(
            "/v1/commerce/billing/wallets",
            &world.a.org_admin,
            json!({
                "external_customer_id": world.a.external_id,
                "name": "Prepaid",
                "rate_amount": "1.00",
                "paid_credits": "100.00",
                "granted_credits": "20.00",
                "currency": "USD",
                "expiration_at": "2999-12-31T23:59:59Z",
                "applies_to": {"fee_types": ["SUBSCRIPTION", "CHARGE"]},
                "invoice_requires_successful_payment": false,
                "recurring_transaction_rules": [{
                    "method": "target", "trigger": "threshold",
                    "threshold_credits": "10.00", "target_ongoing_balance": "100.00",
                    "transaction_metadata": []
                }]
            }),
        )
        .await
        .expect(StatusCode::CREATED);

    assert!(wallet["id"].as_str().unwrap().starts_with("wal_"));
    assert_eq!(wallet["owner_type"], "organization");
    assert_eq!(wallet["owner_id"], world.a.org.as_str());
    assert_eq!(wallet["balance_credits"], "120");
    assert_eq!(wallet["recurring_transaction_rules"][0]["method"], "TARGET");
}

#[tokio::test]
async fn history_lists_lines_newest_first_with_kind_and_date_filters() {
    let world = World::new().await;
    let path = format!("/v1/wallets/{}/transactions", world.a.member_wallet);

    let all = world.app.get(&path, BOOTSTRAP).await.expect(StatusCode::OK);
    let reserves = world
        .app
        .get(&format!("{path}?kind=reserve"), BOOTSTRAP)
        .await
        .expect(StatusCode::OK);
    let future = world
        .app
        .get(&format!("{path}?from_date=2999-01-01"), BOOTSTRAP)
        .await
        .expect(StatusCode::OK);

    let kinds: Vec<&str> = all["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| line["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["reserve", "opening"]);
    assert_eq!(reserves["total"], 1);
    assert_eq!(reserves["transactions"][0]["held_delta"], "1");
    assert_eq!(future["total"], 0);
}

#[tokio::test]
async fn reservations_expire_when_the_test_clock_passes_their_ttl() {
    let world = World::new().await;
    let reserved = world
        .app
        .made(
            "/v1/gateway/wallets/reserve",
            &world.a.gateway,
            json!({"user_id": world.a.member, "amount": 3, "ttl_seconds": 60}),
        )
        .await;

    let clock = world
        .app
        .made(
            "/v1/admin/test-clock/advance",
            BOOTSTRAP,
            json!({"seconds": 61}),
        )
        .await;

    assert!(clock["sweep"]["reservations_expired"].as_u64().unwrap() >= 1);
    let reservation = world
        .app
        .get(
            &format!("/v1/reservations/{}", reserved["id"].as_str().unwrap()),
            &world.a.gateway,
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(reservation["status"], "expired");
    let settle = world
        .app
        .post(
            "/v1/gateway/wallets/settle",
            &world.a.gateway,
            json!({"reservation_id": reserved["id"], "amount": 1}),
        )
        .await;
    assert_eq!(settle.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn a_402_names_a_ticket_that_redeems_after_a_credit() {
    let world = World::new().await;
    let ticket = world.a.ticket.clone();
    let credit = json!({"wallet_id": world.a.member_wallet, "paid_credits": "100000"});
    world
        .app
        .made("/v1/wallets/credit", &world.a.org_admin, credit)
        .await;

    let reservation = world
        .app
        .post(
            "/v1/gateway/wallets/redeem-ticket",
            &world.a.gateway,
            json!({"cost_ticket_id": ticket}),
        )
        .await
        .expect(StatusCode::CREATED);

    let ticket = world
        .app
        .get(&format!("/v1/cost-tickets/{ticket}"), &world.a.gateway)
        .await
        .expect(StatusCode::OK);
    assert_eq!(ticket["status"], "resolved");
    assert_eq!(ticket["reservation_id"], reservation["id"]);
    let open = world
        .app
        .get("/v1/cost-tickets?status=open", &world.a.gateway)
        .await
        .expect(StatusCode::OK);
    assert_eq!(open["total"], 0);
}
