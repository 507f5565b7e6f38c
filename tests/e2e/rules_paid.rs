//! Paid top-ups from rules through the HTTP API: a method saved by a sandbox checkout with
//! `save_payment_method: true` and charged merchant-initiated by the rule; a declining method
//! that backs off, pauses the rule after three declines and says so on the wallet.
//!
//! The sandbox declines saved-method tokens containing `decline`, and the API only ever saves
//! `sbxpm_<order id>` tokens, so the declining method is put in the app's database directly
//! (as the provider would have stored it); everything else goes over HTTP. A rule naming
//! another organization's saved method is 404.

use ledger_core::id::{OrgId, PaymentMethodId};
use ledger_core::ports::SavedPaymentMethod;
use ledger_core::wallet::Owner;
use purse_e2e::TestApp;
use reqwest::Method;
use serde_json::json;
use store_sqlx::{ConnectOptions, Database};
use time::OffsetDateTime;

use crate::rules::org_wallet;
use crate::rules_support::{
    advance_days, assert_audit_clean, dec, decimal, last_run, lines_of_kind, on_both_engines,
    payment_session, saved_sandbox_method, wallet,
};
use crate::scenarios::tenant;

on_both_engines!(
    a_paid_threshold_top_up_stays_pending_until_the_saved_method_is_charged,
    declined_paid_top_ups_add_nothing_back_off_and_pause_visibly,
    a_rule_cannot_name_another_organizations_saved_method,
    a_method_of_a_switched_off_provider_buys_nothing,
);

async fn a_paid_threshold_top_up_stays_pending_until_the_saved_method_is_charged(app: &TestApp) {
    // Arrange: a method saved by a checkout the buyer approved, and a wallet of 20 that buys
    // 25 paid credits with it whenever it drops below 10.
    let t = tenant(app, "paidco").await;
    let method = saved_sandbox_method(app, &t.org_admin).await;
    let created = org_wallet(
        app,
        &t.org_admin,
        &t.org,
        "20",
        json!([{"method": "FIXED", "trigger": "THRESHOLD", "threshold_credits": "10",
                "paid_credits": "25", "payment_method_id": method,
                "max_paid_credits_per_month": "100"}]),
    )
    .await;
    let wallet_id = created["id"].as_str().unwrap();

    // Act 1: a debit crosses the threshold.
    let debited = app
        .debit(&t.org_admin, wallet_id, json!({"granted_credits": "15"}))
        .await
        .expect(200);

    // Assert 1: the charge started in the same unit and nothing was added yet.
    assert_eq!(decimal(&debited, "paid_credits"), dec("0"));
    let run = last_run(&debited).clone();
    assert_eq!(run["status"], "pending");
    assert_eq!(run["paid_credits"], "25");
    let session_id = run["payment_session_id"].as_str().unwrap();
    assert_eq!(
        debited["recurring_transaction_rules"][0]["state"]["pending_session_id"],
        session_id
    );

    // Act 2: the clock's due work charges the saved method (the worker may already have).
    app.advance_clock(&app.bootstrap, 0).await.expect(200);

    // Assert 2: 25 paid credits, the run succeeded, the session is an auto top-up.
    let read = wallet(app, &t.org_admin, wallet_id).await;
    assert_eq!(decimal(&read, "paid_credits"), dec("25"));
    assert_eq!(decimal(&read, "available_credits"), dec("30"));
    assert_eq!(last_run(&read)["status"], "succeeded");
    let state = &read["recurring_transaction_rules"][0]["state"];
    assert_eq!(state["pending_session_id"], json!(null));
    assert_eq!(state["month_paid_credits"], "25");
    let session = payment_session(app, &t.org_admin, session_id).await;
    assert_eq!(session["status"], "completed");
    assert_eq!(session["surface"], "auto_topup");
    assert_eq!(session["payment_method_id"], method.as_str());
    let topups = lines_of_kind(app, &t.org_admin, wallet_id, "topup").await;
    assert_eq!(topups.len(), 1);
    assert_eq!(decimal(&topups[0], "paid_delta"), dec("25"));
    assert_audit_clean(app).await;
}

async fn declined_paid_top_ups_add_nothing_back_off_and_pause_visibly(app: &TestApp) {
    // Arrange: a weekly rule buying 10 paid credits with a card the provider declines.
    let t = tenant(app, "declined").await;
    let database = Database::connect(&app.database_url, &ConnectOptions::default())
        .await
        .unwrap();
    let method = PaymentMethodId::parse("pm_declining").unwrap();
    let org = OrgId::parse(&t.org).unwrap();
    database
        .payments()
        .insert_payment_method(&SavedPaymentMethod {
            id: method.clone(),
            org_id: org.clone(),
            provider: "sandbox".to_owned(),
            owner: Owner::Organization(org),
            provider_token: "sbxpm_decline_always".to_owned(),
            provider_customer_id: None,
            label: "Sandbox card that declines".to_owned(),
            created_at: OffsetDateTime::now_utc(),
        })
        .await
        .unwrap();
    let created = org_wallet(
        app,
        &t.org_admin,
        &t.org,
        "0",
        json!([{"method": "FIXED", "trigger": "INTERVAL", "interval": "weekly",
                "paid_credits": "10", "payment_method_id": method.as_str()}]),
    )
    .await;
    let wallet_id = created["id"].as_str().unwrap();

    // Act 1: week one fires; the charge is declined.
    advance_days(app, 7).await;
    app.advance_clock(&app.bootstrap, 0).await.expect(200);

    // Assert 1: nothing added, the decline and its backoff on the wallet, the session failed.
    let read = wallet(app, &t.org_admin, wallet_id).await;
    let state = &read["recurring_transaction_rules"][0]["state"];
    assert_eq!(decimal(&read, "paid_credits"), dec("0"));
    assert_eq!(state["consecutive_declines"], 1);
    assert!(state["backoff_until"].is_string(), "{state}");
    assert_eq!(state["paused"], false);
    let run = last_run(&read);
    assert_eq!(run["status"], "failed");
    assert!(
        run["error_code"].as_str().unwrap().starts_with("declined:"),
        "{run}"
    );
    let session = payment_session(
        app,
        &t.org_admin,
        run["payment_session_id"].as_str().unwrap(),
    )
    .await;
    assert_eq!(session["status"], "failed");

    // Act 2: weeks two and three decline too (each after the backoff ran out).
    for _ in 0..2 {
        advance_days(app, 7).await;
        app.advance_clock(&app.bootstrap, 0).await.expect(200);
    }
    advance_days(app, 7).await;

    // Assert 2: paused after three declines, and week four says so instead of charging.
    let read = wallet(app, &t.org_admin, wallet_id).await;
    let state = &read["recurring_transaction_rules"][0]["state"];
    assert_eq!(decimal(&read, "balance_credits"), dec("0"));
    assert_eq!(state["consecutive_declines"], 3);
    assert_eq!(state["paused"], true);
    assert!(
        state["paused_reason"]
            .as_str()
            .unwrap()
            .contains("3 declined"),
        "{state}"
    );
    assert_eq!(last_run(&read)["status"], "failed");
    assert_eq!(last_run(&read)["error_code"], "rule_paused");
    assert!(
        lines_of_kind(app, &t.org_admin, wallet_id, "topup")
            .await
            .is_empty()
    );

    // Act 3: saving the rules again resumes the rule.
    let rules = read["recurring_transaction_rules"].clone();
    let resumed = app
        .patch_wallet(
            &t.org_admin,
            wallet_id,
            json!({"recurring_transaction_rules": rules}),
        )
        .await
        .expect(200);
    let state = &resumed["recurring_transaction_rules"][0]["state"];
    assert_eq!(state["paused"], false);
    assert_eq!(state["consecutive_declines"], 0);
    assert_audit_clean(app).await;
}

async fn a_rule_cannot_name_another_organizations_saved_method(app: &TestApp) {
    let owner = tenant(app, "cardholder").await;
    let method = saved_sandbox_method(app, &owner.org_admin).await;
    let other = tenant(app, "freeloader").await;
    let existing = org_wallet(app, &other.org_admin, &other.org, "0", json!([])).await;
    let rule = json!([{"method": "FIXED", "trigger": "THRESHOLD", "threshold_credits": "10",
                       "paid_credits": "25", "payment_method_id": method}]);

    let create = app
        .create_wallet(
            &other.org_admin,
            json!({"owner_type": "organization", "owner_id": other.org, "currency": "USD",
                   "rate_amount": "1", "recurring_transaction_rules": rule}),
        )
        .await;
    let patch = app
        .patch_wallet(
            &other.org_admin,
            existing["id"].as_str().unwrap(),
            json!({"recurring_transaction_rules": rule}),
        )
        .await;

    for answer in [create, patch] {
        assert_eq!(answer.status, 404, "{}", answer.body);
        assert_eq!(
            answer.body["error"]["details"]["field"],
            "recurring_transaction_rules[0].payment_method_id"
        );
    }
    let read = wallet(app, &other.org_admin, existing["id"].as_str().unwrap()).await;
    assert_eq!(read["recurring_transaction_rules"], json!([]));
}

async fn a_method_of_a_switched_off_provider_buys_nothing(app: &TestApp) {
    // Arrange: a method saved through the sandbox while it was on, a paid rule on it, then the
    // operator switches the sandbox off (as when a live provider takes over).
    let t = tenant(app, "switchedoff").await;
    let method = saved_sandbox_method(app, &t.org_admin).await;
    let created = org_wallet(
        app,
        &t.org_admin,
        &t.org,
        "20",
        json!([{"method": "FIXED", "trigger": "THRESHOLD", "threshold_credits": "10",
                "paid_credits": "25", "payment_method_id": method}]),
    )
    .await;
    let wallet_id = created["id"].as_str().unwrap();
    let paid_before = decimal(&created, "paid_credits");
    app.send(
        Method::PUT,
        "/v1/admin/payments/config",
        Some(&app.bootstrap),
        Some(json!({"sandbox": {"enabled": false}})),
        None,
    )
    .await
    .expect(200);

    // Act: a debit crosses the threshold, and the due work runs.
    app.debit(&t.org_admin, wallet_id, json!({"granted_credits": "15"}))
        .await
        .expect(200);
    app.advance_clock(&app.bootstrap, 0).await.expect(200);

    // Assert: no paid credits were bought; the run failed and says why.
    let read = wallet(app, &t.org_admin, wallet_id).await;
    assert_eq!(decimal(&read, "paid_credits"), paid_before);
    let run = last_run(&read);
    assert_eq!(run["status"], "failed", "{run}");
    assert_eq!(
        run["error_code"], "declined:payment_provider_disabled",
        "{run}"
    );
    let session_id = run["payment_session_id"].as_str().unwrap();
    assert_eq!(
        payment_session(app, &t.org_admin, session_id).await["status"],
        "failed"
    );
    assert!(
        lines_of_kind(app, &t.org_admin, wallet_id, "topup")
            .await
            .is_empty()
    );
    assert_audit_clean(app).await;
}
