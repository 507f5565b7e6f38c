//! THRESHOLD rules through the HTTP API: one fire per downward crossing, TARGET refills that
//! count held credits as spent, and concurrent reserve + settle pairs that cross once.

use purse_e2e::TestApp;
use serde_json::json;

use crate::rules::org_wallet;
use crate::rules_support::{
    assert_audit_clean, dec, decimal, last_run, on_both_engines, rule_topups, wallet,
};
use crate::scenarios::tenant;

on_both_engines!(
    fixed_threshold_fires_once_per_downward_crossing,
    target_threshold_refills_to_the_target_with_held_credits_counted_as_spent,
    concurrent_settles_across_a_threshold_fire_it_once,
);

async fn fixed_threshold_fires_once_per_downward_crossing(app: &TestApp) {
    // Arrange: 30 credits, +5 whenever the available balance drops below 20.
    let t = tenant(app, "crossing").await;
    let created = org_wallet(
        app,
        &t.org_admin,
        &t.org,
        "30",
        json!([{"method": "FIXED", "trigger": "THRESHOLD", "threshold_credits": "20",
                "granted_credits": "5"}]),
    )
    .await;
    let wallet_id = created["id"].as_str().unwrap();
    let available = || async {
        decimal(
            &wallet(app, &t.org_admin, wallet_id).await,
            "available_credits",
        )
    };

    // 30 → 15 held: crosses 20 and fires once (+5 = 20, at the threshold, not above it).
    let first = app
        .reserve(&t.gateway, json!({"user_id": t.user, "amount": "15"}), None)
        .await
        .expect(201);
    assert_eq!(available().await, dec("20"));
    assert_eq!(rule_topups(app, &t.org_admin, wallet_id).await, 1);
    // Still at or below 20 after the settle and more spend: the same crossing, no new fire.
    app.settle(&t.gateway, first["id"].as_str().unwrap(), "15")
        .await
        .expect(200);
    let second = app
        .reserve(&t.gateway, json!({"user_id": t.user, "amount": "2"}), None)
        .await
        .expect(201);
    app.debit(&t.org_admin, wallet_id, json!({"granted_credits": "1"}))
        .await
        .expect(200);
    assert_eq!(available().await, dec("17"));
    assert_eq!(rule_topups(app, &t.org_admin, wallet_id).await, 1);
    // Back above 20 by an admin credit, then a new drop fires again.
    app.release(&t.gateway, second["id"].as_str().unwrap())
        .await
        .expect(200);
    app.credit(
        &t.org_admin,
        json!({"wallet_id": wallet_id, "granted_credits": "10"}),
    )
    .await
    .expect(200);
    assert_eq!(available().await, dec("29"));
    let third = app
        .reserve(&t.gateway, json!({"user_id": t.user, "amount": "15"}), None)
        .await
        .expect(201);
    app.settle(&t.gateway, third["id"].as_str().unwrap(), "15")
        .await
        .expect(200);

    // 29 - 15 = 14, +5 = 19.
    let read = wallet(app, &t.org_admin, wallet_id).await;
    assert_eq!(decimal(&read, "available_credits"), dec("19"));
    assert_eq!(rule_topups(app, &t.org_admin, wallet_id).await, 2);
    assert_eq!(last_run(&read)["status"], "succeeded");
    assert_eq!(last_run(&read)["granted_credits"], "5");
    assert_audit_clean(app).await;
}

async fn target_threshold_refills_to_the_target_with_held_credits_counted_as_spent(app: &TestApp) {
    // Arrange: 40 credits; below 10, refill to 50.
    let t = tenant(app, "refill").await;
    let created = org_wallet(
        app,
        &t.org_admin,
        &t.org,
        "40",
        json!([{"method": "TARGET", "trigger": "THRESHOLD", "threshold_credits": "10",
                "target_ongoing_balance": "50"}]),
    )
    .await;
    let wallet_id = created["id"].as_str().unwrap();

    // Act: a hold of 35 leaves 5 available.
    let hold = app
        .reserve(&t.gateway, json!({"user_id": t.user, "amount": "35"}), None)
        .await
        .expect(201);

    // Assert: the hold counts as spent, so 45 were added to make 50 available.
    let read = wallet(app, &t.org_admin, wallet_id).await;
    assert_eq!(decimal(&read, "available_credits"), dec("50"));
    assert_eq!(decimal(&read, "held_credits"), dec("35"));
    assert_eq!(decimal(&read, "granted_credits"), dec("85"));
    assert_eq!(last_run(&read)["granted_credits"], "45");

    // Settling below the hold frees the rest: 65 available, above the threshold, no fire.
    app.settle(&t.gateway, hold["id"].as_str().unwrap(), "20")
        .await
        .expect(200);
    let read = wallet(app, &t.org_admin, wallet_id).await;
    assert_eq!(decimal(&read, "available_credits"), dec("65"));
    assert_eq!(rule_topups(app, &t.org_admin, wallet_id).await, 1);

    // A one-step charge crossing again (re-armed above 10) refills to 50 again.
    app.charge(
        &t.org_admin,
        json!({"owner_type": "organization", "owner_id": t.org, "amount": "60",
               "fee_type": "SUBSCRIPTION"}),
    )
    .await
    .expect(201);
    let read = wallet(app, &t.org_admin, wallet_id).await;
    assert_eq!(decimal(&read, "available_credits"), dec("50"));
    assert_eq!(rule_topups(app, &t.org_admin, wallet_id).await, 2);
    assert_audit_clean(app).await;
}

const PAIRS_PER_TASK: usize = 5;
const TASKS: usize = 8;

async fn concurrent_settles_across_a_threshold_fire_it_once(app: &TestApp) {
    // Arrange: 100 credits, +1 below 50; 8 tasks × 5 reserve + settle pairs of 2 credits.
    let t = tenant(app, "racing").await;
    let created = org_wallet(
        app,
        &t.org_admin,
        &t.org,
        "100",
        json!([{"method": "FIXED", "trigger": "THRESHOLD", "threshold_credits": "50",
                "granted_credits": "1"}]),
    )
    .await;
    let wallet_id = created["id"].as_str().unwrap();

    // Act
    let mut tasks = Vec::new();
    for _ in 0..TASKS {
        let base = app.base_url.clone();
        let gateway = t.gateway.clone();
        let user = t.user.clone();
        let client = reqwest::Client::new();
        tasks.push(tokio::spawn(async move {
            for _ in 0..PAIRS_PER_TASK {
                let reserve = client
                    .post(format!("{base}/v1/gateway/wallets/reserve"))
                    .bearer_auth(&gateway)
                    .json(&json!({"user_id": user, "amount": "2"}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(reserve.status().as_u16(), 201);
                let reservation: serde_json::Value = reserve.json().await.unwrap();
                let settle = client
                    .post(format!("{base}/v1/gateway/wallets/settle"))
                    .bearer_auth(&gateway)
                    .json(&json!({"reservation_id": reservation["id"], "amount": "2"}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(settle.status().as_u16(), 200);
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }

    // Assert: 80 spent; the balance crossed 50 once and never went back above it.
    let read = wallet(app, &t.org_admin, wallet_id).await;
    assert_eq!(decimal(&read, "total_spent"), dec("80"));
    assert_eq!(decimal(&read, "granted_credits"), dec("21"));
    assert_eq!(rule_topups(app, &t.org_admin, wallet_id).await, 1);
    assert_audit_clean(app).await;
}
