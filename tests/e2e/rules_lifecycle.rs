//! The wallet lifecycle of seed 001 through the HTTP API with the test clock: expiry with open
//! holds, a PENDING wallet activated by the clock, a TERMINATED wallet that refuses every
//! change and whose rules stop, and invalid rule combinations.

use purse_e2e::TestApp;
use serde_json::{Value, json};
use time::Duration;

use crate::rules::org_wallet;
use crate::rules_support::{
    advance_days, advance_to, assert_audit_clean, clock_now, dec, decimal, lines_of_kind,
    on_both_engines, rfc3339, rule_topups, wallet,
};
use crate::scenarios::tenant;

on_both_engines!(
    expiry_releases_open_holds_then_forfeits_the_credits,
    a_pending_wallet_is_unusable_until_the_clock_activates_it,
    a_terminated_wallet_refuses_every_change_and_its_rules_stop,
    invalid_rule_combinations_are_400_naming_the_field,
);

async fn expiry_releases_open_holds_then_forfeits_the_credits(app: &TestApp) {
    // Arrange: 50 credits expiring in an hour, 20 of them under a hold that would live a day.
    let t = tenant(app, "expiring").await;
    let expiration_at = clock_now(app).await + Duration::hours(1);
    let created = app
        .create_wallet(
            &t.org_admin,
            json!({"owner_type": "organization", "owner_id": t.org, "currency": "USD",
                   "rate_amount": "1", "paid_credits": "30", "granted_credits": "20",
                   "expiration_at": rfc3339(expiration_at)}),
        )
        .await
        .expect(201);
    let wallet_id = created["id"].as_str().unwrap();
    let hold = app
        .reserve(
            &t.gateway,
            json!({"user_id": t.user, "amount": "20", "ttl_seconds": 86400}),
            None,
        )
        .await
        .expect(201);
    let hold_id = hold["id"].as_str().unwrap();

    // Act
    let clock = advance_to(app, expiration_at + Duration::minutes(1)).await;

    // Assert: terminated, the hold released for `wallet_expired`, then everything forfeited.
    assert_eq!(clock["sweep"]["wallets_expired"], 1);
    let read = wallet(app, &t.org_admin, wallet_id).await;
    assert_eq!(read["status"], "TERMINATED");
    for field in ["paid_credits", "granted_credits", "held_credits"] {
        assert_eq!(decimal(&read, field), dec("0"), "{field}");
    }
    let reservation = app.reservation(&t.gateway, hold_id).await.expect(200);
    assert_eq!(reservation["status"], "released");
    assert_eq!(reservation["end_reason"], "wallet_expired");
    let history = app
        .transactions(&t.org_admin, wallet_id, "")
        .await
        .expect(200);
    let kinds: Vec<&str> = history["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| line["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["forfeit", "release", "reserve", "opening"]);
    let forfeit = &history["transactions"][0];
    assert_eq!(decimal(forfeit, "paid_delta"), dec("-30"));
    assert_eq!(decimal(forfeit, "granted_delta"), dec("-20"));
    assert_eq!(decimal(forfeit, "balance_after"), dec("0"));
    let settle = app.settle(&t.gateway, hold_id, "5").await;
    assert_eq!(settle.status, 409, "{}", settle.body);
    let refused = app
        .reserve(&t.gateway, json!({"user_id": t.user, "amount": "1"}), None)
        .await;
    assert_eq!(refused.status, 402, "{}", refused.body);
    assert_audit_clean(app).await;
}

async fn a_pending_wallet_is_unusable_until_the_clock_activates_it(app: &TestApp) {
    // Arrange: 40 credits on a wallet that activates in 10 days, with a weekly rule anchored
    // at its creation.
    let t = tenant(app, "pending").await;
    let activates_at = clock_now(app).await + Duration::days(10);
    let created = app
        .create_wallet(
            &t.org_admin,
            json!({"owner_type": "organization", "owner_id": t.org, "currency": "USD",
                   "rate_amount": "1", "granted_credits": "40",
                   "activates_at": rfc3339(activates_at),
                   "recurring_transaction_rules": [
                       {"method": "FIXED", "trigger": "INTERVAL", "interval": "weekly",
                        "granted_credits": "5"}]}),
        )
        .await
        .expect(201);
    let wallet_id = created["id"].as_str().unwrap();
    assert_eq!(created["status"], "PENDING");

    // Act + assert: unusable while PENDING, though it may be updated.
    let refused = app
        .reserve(&t.gateway, json!({"user_id": t.user, "amount": "1"}), None)
        .await;
    assert_eq!(refused.status, 402, "{}", refused.body);
    assert_eq!(
        app.credit(
            &t.org_admin,
            json!({"wallet_id": wallet_id, "granted_credits": "1"})
        )
        .await
        .status,
        409
    );
    app.patch_wallet(&t.org_admin, wallet_id, json!({"name": "Starts soon"}))
        .await
        .expect(200);
    advance_days(app, 9).await;
    let read = wallet(app, &t.org_admin, wallet_id).await;
    assert_eq!(read["status"], "PENDING");
    assert_eq!(rule_topups(app, &t.org_admin, wallet_id).await, 0);

    // The clock passes `activates_at`: ACTIVE, usable, and the week-one period that ended
    // while it was PENDING was not added on activation.
    let clock = advance_days(app, 2).await;
    assert_eq!(clock["sweep"]["wallets_activated"], 1);
    let read = wallet(app, &t.org_admin, wallet_id).await;
    assert_eq!(read["status"], "ACTIVE");
    assert_eq!(decimal(&read, "granted_credits"), dec("40"));
    app.reserve(&t.gateway, json!({"user_id": t.user, "amount": "1"}), None)
        .await
        .expect(201);
    // Week two comes after activation and fires.
    advance_days(app, 3).await;
    let read = wallet(app, &t.org_admin, wallet_id).await;
    assert_eq!(decimal(&read, "granted_credits"), dec("45"));
    assert_eq!(rule_topups(app, &t.org_admin, wallet_id).await, 1);
    assert_audit_clean(app).await;
}

async fn a_terminated_wallet_refuses_every_change_and_its_rules_stop(app: &TestApp) {
    // Arrange: a weekly rule and a threshold rule on an organization wallet that is then
    // terminated, and a team wallet below it.
    let t = tenant(app, "terminated").await;
    let team_wallet = app
        .create_wallet(
            &t.org_admin,
            json!({"owner_type": "team", "owner_id": t.team, "currency": "USD",
                   "rate_amount": "1", "granted_credits": "10"}),
        )
        .await
        .expect(201);
    let created = org_wallet(
        app,
        &t.org_admin,
        &t.org,
        "25",
        json!([
            {"method": "FIXED", "trigger": "INTERVAL", "interval": "weekly", "granted_credits": "5"},
            {"method": "FIXED", "trigger": "THRESHOLD", "threshold_credits": "20", "granted_credits": "5"}
        ]),
    )
    .await;
    let wallet_id = created["id"].as_str().unwrap();
    let terminated = app
        .terminate_wallet(&t.org_admin, wallet_id)
        .await
        .expect(200);
    assert_eq!(terminated["status"], "TERMINATED");

    // Act: every change, then three weeks of the clock.
    let team_wallet_id = team_wallet["id"].as_str().unwrap();
    let attempts = [
        app.patch_wallet(&t.org_admin, wallet_id, json!({"name": "again"}))
            .await,
        app.patch_wallet(
            &t.org_admin,
            wallet_id,
            json!({"recurring_transaction_rules": []}),
        )
        .await,
        app.credit(
            &t.org_admin,
            json!({"wallet_id": wallet_id, "granted_credits": "1"}),
        )
        .await,
        app.debit(&t.org_admin, wallet_id, json!({"granted_credits": "1"}))
            .await,
        app.activate_wallet(&t.org_admin, wallet_id).await,
        app.terminate_wallet(&t.org_admin, wallet_id).await,
        app.allocate(
            &t.org_admin,
            json!({"from_wallet_id": wallet_id, "to_wallet_id": team_wallet_id, "amount": "1"}),
        )
        .await,
        app.reclaim(
            &t.org_admin,
            json!({"from_wallet_id": team_wallet_id, "to_wallet_id": wallet_id}),
        )
        .await,
    ];
    advance_days(app, 21).await;

    // Assert
    for (index, attempt) in attempts.iter().enumerate() {
        assert_eq!(
            attempt.status.as_u16(),
            409,
            "attempt {index}: {}",
            attempt.body
        );
    }
    let read = wallet(app, &t.org_admin, wallet_id).await;
    assert_eq!(read["status"], "TERMINATED");
    assert_eq!(decimal(&read, "balance_credits"), dec("0"));
    assert_eq!(read["name"], Value::Null);
    assert_eq!(rule_topups(app, &t.org_admin, wallet_id).await, 0);
    assert_eq!(
        lines_of_kind(app, &t.org_admin, wallet_id, "forfeit")
            .await
            .len(),
        1
    );
    assert_audit_clean(app).await;
}

async fn invalid_rule_combinations_are_400_naming_the_field(app: &TestApp) {
    let t = tenant(app, "invalid").await;
    let existing = org_wallet(app, &t.org_admin, &t.org, "0", json!([])).await;
    let existing_id = existing["id"].as_str().unwrap();
    let cases = [
        (
            json!({"method": "TARGET", "trigger": "THRESHOLD", "threshold_credits": 5}),
            "target_ongoing_balance",
        ),
        (
            json!({"method": "FIXED", "trigger": "THRESHOLD", "granted_credits": 5}),
            "threshold_credits",
        ),
        (
            json!({"method": "FIXED", "trigger": "INTERVAL", "granted_credits": 5}),
            "interval",
        ),
        (
            json!({"method": "FIXED", "trigger": "INTERVAL", "interval": "hourly", "granted_credits": 5}),
            "",
        ),
        (
            json!({"method": "FIXED", "trigger": "INTERVAL", "interval": "weekly"}),
            "paid_credits",
        ),
        (
            json!({"method": "FIXED", "trigger": "INTERVAL", "interval": "weekly",
                   "threshold_credits": 5, "granted_credits": 5}),
            "threshold_credits",
        ),
        (
            json!({"method": "FIXED", "trigger": "THRESHOLD", "threshold_credits": 5,
                   "interval": "weekly", "granted_credits": 5}),
            "interval",
        ),
        (
            json!({"method": "FIXED", "trigger": "THRESHOLD", "threshold_credits": 5,
                   "granted_credits": 5, "target_ongoing_balance": 50}),
            "target_ongoing_balance",
        ),
        (
            json!({"method": "TARGET", "trigger": "THRESHOLD", "threshold_credits": 50,
                   "target_ongoing_balance": 50}),
            "threshold_credits",
        ),
        (
            json!({"method": "TARGET", "trigger": "INTERVAL", "interval": "monthly",
                   "target_ongoing_balance": 50, "granted_credits": 5}),
            "paid_credits",
        ),
        (
            json!({"method": "FIXED", "trigger": "INTERVAL", "interval": "weekly", "paid_credits": 5}),
            "payment_method_id",
        ),
        (
            json!({"method": "TARGET", "trigger": "INTERVAL", "interval": "weekly",
                   "target_ongoing_balance": 50, "credit_type": "paid"}),
            "payment_method_id",
        ),
        (
            json!({"method": "TARGET", "trigger": "INTERVAL", "interval": "weekly",
                   "target_ongoing_balance": 0}),
            "target_ongoing_balance",
        ),
        (
            json!({"method": "FIXED", "trigger": "THRESHOLD", "threshold_credits": "-1",
                   "granted_credits": 5}),
            "threshold_credits",
        ),
        (
            json!({"method": "FIXED", "trigger": "INTERVAL", "interval": "weekly",
                   "granted_credits": 5, "started_at": "next tuesday"}),
            "started_at",
        ),
        (
            json!({"method": "FIXED", "trigger": "INTERVAL", "interval": "weekly",
                   "granted_credits": 5, "colour": "blue"}),
            "colour",
        ),
    ];
    for (rule, field) in cases {
        let create = app
            .create_wallet(
                &t.org_admin,
                json!({"owner_type": "organization", "owner_id": t.org, "currency": "USD",
                       "rate_amount": "1", "recurring_transaction_rules": [rule]}),
            )
            .await;
        let patch = app
            .patch_wallet(
                &t.org_admin,
                existing_id,
                json!({"recurring_transaction_rules": [rule]}),
            )
            .await;

        for answer in [create, patch] {
            assert_eq!(answer.status, 400, "{rule}: {}", answer.body);
            let named = answer.body["error"]["details"]["field"]
                .as_str()
                .unwrap_or_default();
            assert!(
                named.starts_with("recurring_transaction_rules[0]") && named.ends_with(field),
                "{rule} names `{named}`, not `{field}`"
            );
        }
    }
    let wallets = app
        .list_wallets(&t.org_admin, &format!("owner_id={}", t.org))
        .await
        .expect(200);
    assert_eq!(wallets["total"], 1, "no wallet was created");
    let read = wallet(app, &t.org_admin, existing_id).await;
    assert_eq!(read["recurring_transaction_rules"], json!([]));
}
