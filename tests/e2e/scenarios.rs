//! The scenarios run on both databases.

use purse_e2e::{Reply, TestApp};
use serde_json::{Value, json};

/// An organization with a team, a member in it, and tokens.
pub(crate) struct Tenant {
    pub(crate) org: String,
    pub(crate) team: String,
    pub(crate) user: String,
    pub(crate) org_admin: String,
    pub(crate) gateway: String,
    pub(crate) member: String,
}

fn id(reply: &Reply) -> String {
    reply.text("id")
}

/// org → team → user → tokens, as an operator would do it with the bootstrap token.
pub(crate) async fn tenant(app: &TestApp, name: &str) -> Tenant {
    let boot = app.bootstrap.clone();
    let org = app
        .create_org(&boot, json!({"name": name, "external_id": name}))
        .await;
    assert_eq!(org.status, 201, "{}", org.body);
    let org = id(&org);
    let admin_token = app
        .create_token(
            &boot,
            json!({"org_id": org, "role": "org_admin", "name": "admin"}),
        )
        .await
        .expect(201)["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let team = app
        .create_team(&admin_token, &org, json!({"name": "research"}))
        .await;
    let team = id(&team);
    let user = app
        .create_user(
            &admin_token,
            &org,
            json!({"email": format!("ada@{name}.test"), "role": "member", "team_ids": [team]}),
        )
        .await;
    assert_eq!(user.status, 201, "{}", user.body);
    let user = id(&user);
    let gateway = app
        .create_token(
            &admin_token,
            json!({"org_id": org, "role": "gateway", "name": "gateway"}),
        )
        .await
        .expect(201)["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let member = app
        .create_token(
            &admin_token,
            json!({"org_id": org, "role": "member", "user_id": user, "name": "ada"}),
        )
        .await
        .expect(201)["token"]
        .as_str()
        .unwrap()
        .to_owned();
    Tenant {
        org,
        team,
        user,
        org_admin: admin_token,
        gateway,
        member,
    }
}

fn wallet_body(owner_type: &str, owner_id: &str, paid: &str) -> Value {
    json!({"owner_type": owner_type, "owner_id": owner_id, "currency": "USD", "rate_amount": "1", "paid_credits": paid})
}

pub(crate) async fn main_flow_from_an_empty_database_to_a_settled_reservation(app: &TestApp) {
    // Arrange: the tenancy and a wallet at each level of the cascade.
    assert_eq!(app.healthz().await.status, 200);
    assert_eq!(app.readyz().await.status, 200);
    let t = tenant(app, "acme").await;
    let org_wallet = id(&app
        .create_wallet(&t.org_admin, wallet_body("organization", &t.org, "100"))
        .await);
    let team_wallet = id(&app
        .create_wallet(&t.org_admin, wallet_body("team", &t.team, "0"))
        .await);
    let user_wallet = id(&app
        .create_wallet(&t.org_admin, wallet_body("user", &t.user, "0"))
        .await);
    app.allocate(
        &t.org_admin,
        json!({"from_wallet_id": org_wallet, "to_wallet_id": team_wallet, "amount": "30"}),
    )
    .await
    .expect(200);
    let moved = app
        .allocate(
            &t.org_admin,
            json!({"from_wallet_id": team_wallet, "to_wallet_id": user_wallet, "amount": 10}),
        )
        .await
        .expect(200);
    assert_eq!(moved["to_wallet"]["available_credits"], "10");

    // Act: the gateway reserves for the user in the team, then settles the actual cost.
    let reservation = app
        .reserve(
            &t.gateway,
            json!({"user_id": t.user, "team_id": t.team, "amount": "2.5"}),
            None,
        )
        .await
        .expect(201);
    let reservation_id = reservation["id"].as_str().unwrap();
    let settled = app
        .settle(&t.gateway, reservation_id, "1.75")
        .await
        .expect(200);

    // Assert: the user's wallet paid; the balance and history say so.
    assert_eq!(reservation["wallet_id"], user_wallet.as_str());
    assert_eq!(reservation["status"], "held");
    assert_eq!(settled["settled_amount"], "1.75");
    assert_eq!(settled["released_amount"], "0.75");
    assert_eq!(settled["wallet_balance_after"], "8.25");
    let again = app
        .settle(&t.gateway, reservation_id, "1.75")
        .await
        .expect(200);
    assert_eq!(again, settled);
    let balance = app
        .balance(&t.member, &format!("team_id={}", t.team))
        .await
        .expect(200);
    assert_eq!(balance["effective_wallet_id"], user_wallet.as_str());
    assert_eq!(balance["effective_available"], "70");
    let owners: Vec<&str> = balance["wallets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["owner_type"].as_str().unwrap())
        .collect();
    assert_eq!(owners, ["user", "team", "organization"]);
    let history = app
        .transactions(&t.member, &user_wallet, "")
        .await
        .expect(200);
    let kinds: Vec<&str> = history["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["settle", "reserve", "allocate"]);
    assert_eq!(history["transactions"][0]["balance_after"], "8.25");
    let read = app.reservation(&t.member, reservation_id).await.expect(200);
    assert_eq!(read["status"], "settled");
    assert!(app.audit().await.is_clean());
}

pub(crate) async fn insufficient_balance_gives_a_ticket_that_redeems_after_an_admin_credit(
    app: &TestApp,
) {
    let t = tenant(app, "globex").await;
    let wallet = id(&app
        .create_wallet(&t.org_admin, wallet_body("user", &t.user, "1"))
        .await);

    let refused = app
        .reserve(&t.gateway, json!({"user_id": t.user, "amount": 5}), None)
        .await;

    assert_eq!(refused.status, 402);
    assert_eq!(refused.code(), "insufficient_balance");
    let ticket = &refused.body["cost_ticket"];
    assert_eq!(ticket["status"], "open");
    assert_eq!(ticket["shortfall_amount"], "4");
    let ticket_id = ticket["id"].as_str().unwrap();
    let still = app.redeem_ticket(&t.gateway, ticket_id).await;
    assert_eq!(still.status, 402);
    assert_eq!(still.body["cost_ticket"]["id"], ticket_id);

    app.admin_credit(
        &app.bootstrap,
        json!({"wallet_id": wallet, "paid_credits": "10"}),
    )
    .await
    .expect(200);
    let reservation = app.redeem_ticket(&t.gateway, ticket_id).await.expect(201);

    let ticket = app.cost_ticket(&t.member, ticket_id).await.expect(200);
    assert_eq!(ticket["status"], "resolved");
    assert_eq!(ticket["reservation_id"], reservation["id"]);
    assert_eq!(reservation["amount"], "5");
    let open = app
        .cost_tickets(&t.gateway, "status=open")
        .await
        .expect(200);
    assert_eq!(open["total"], 0);
    assert!(app.audit().await.is_clean());
}

pub(crate) async fn a_hold_expires_when_the_test_clock_passes_its_ttl(app: &TestApp) {
    let t = tenant(app, "initech").await;
    let wallet = id(&app
        .create_wallet(&t.org_admin, wallet_body("user", &t.user, "10"))
        .await);
    let reservation = app
        .reserve(&t.member, json!({"amount": 4, "ttl_seconds": 30}), None)
        .await
        .expect(201);
    let reservation_id = reservation["id"].as_str().unwrap();
    assert_eq!(
        app.wallet(&t.member, &wallet).await.expect(200)["held_credits"],
        "4"
    );

    let clock = app.advance_clock(&app.bootstrap, 31).await.expect(200);

    assert_eq!(clock["offset_seconds"], 31);
    assert_eq!(
        app.reservation(&t.member, reservation_id).await.expect(200)["status"],
        "expired"
    );
    let wallet = app.wallet(&t.member, &wallet).await.expect(200);
    assert_eq!(wallet["held_credits"], "0");
    assert_eq!(wallet["available_credits"], "10");
    let settle = app.settle(&t.member, reservation_id, "1").await;
    assert_eq!(settle.status, 409);
    assert!(app.audit().await.is_clean());
}

pub(crate) async fn idempotent_reserve_replays_over_http(app: &TestApp) {
    let t = tenant(app, "hooli").await;
    let wallet = id(&app
        .create_wallet(&t.org_admin, wallet_body("user", &t.user, "10"))
        .await);
    let body = json!({"user_id": t.user, "amount": 3});

    let first = app.reserve(&t.gateway, body.clone(), Some("req-1")).await;
    let second = app.reserve(&t.gateway, body, Some("req-1")).await;
    let other = app
        .reserve(
            &t.gateway,
            json!({"user_id": t.user, "amount": 4}),
            Some("req-1"),
        )
        .await;

    assert_eq!(first.status, 201);
    assert!(second.replayed);
    assert_eq!(first.body["id"], second.body["id"]);
    assert_eq!(other.status, 422);
    assert_eq!(
        app.wallet(&t.gateway, &wallet).await.expect(200)["held_credits"],
        "3"
    );
}
