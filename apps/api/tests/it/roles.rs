//! Every route × every role: allowed, forbidden (403), and another organization's resource
//! (404). Each call runs on a fresh world, so an allowed call cannot change the next one.

use std::collections::BTreeSet;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{BOOTSTRAP, OrgFixture, World};

/// The callers, in the order of a case's `allowed` letters.
const CALLERS: [(char, &str); 6] = [
    ('P', "platform_admin"),
    ('A', "org_admin"),
    ('B', "billing_admin"),
    ('G', "gateway"),
    ('M', "member"),
    ('T', "team_owner"),
];

fn token(fixture: &OrgFixture, caller: char) -> String {
    match caller {
        'P' => BOOTSTRAP.to_owned(),
        'A' => fixture.org_admin.clone(),
        'B' => fixture.billing_admin.clone(),
        'G' => fixture.gateway.clone(),
        'M' => fixture.member_token.clone(),
        'T' => fixture.owner_token.clone(),
        other => panic!("unknown caller {other}"),
    }
}

type Build = fn(&OrgFixture) -> (String, Option<Value>);

struct Case {
    method: Method,
    route: &'static str,
    build: Build,
    /// The letters of the callers allowed.
    allowed: &'static str,
    /// Whether the route names a resource of an organization (another org's answers 404).
    scoped: bool,
}

fn case(
    method: Method,
    route: &'static str,
    allowed: &'static str,
    scoped: bool,
    build: Build,
) -> Case {
    Case {
        method,
        route,
        build,
        allowed,
        scoped,
    }
}

fn cases() -> Vec<Case> {
    use Method as M;
    vec![
        case(M::POST, "/v1/admin/orgs", "P", false, |_| {
            ("/v1/admin/orgs".into(), Some(json!({"name": "x"})))
        }),
        case(M::POST, "/v1/orgs/{org_id}/teams", "PA", true, |f| {
            (
                format!("/v1/orgs/{}/teams", f.org),
                Some(json!({"name": "t"})),
            )
        }),
        case(M::POST, "/v1/orgs/{org_id}/users", "PA", true, |f| {
            (
                format!("/v1/orgs/{}/users", f.org),
                Some(json!({"email": "new@x.test", "role": "member"})),
            )
        }),
        case(M::POST, "/v1/tokens", "PA", true, |f| {
            (
                "/v1/tokens".into(),
                Some(json!({"org_id": f.org, "user_id": f.member, "role": "member", "name": "n"})),
            )
        }),
        case(M::DELETE, "/v1/tokens/{id}", "PA", true, |f| {
            (format!("/v1/tokens/{}", f.member_token_id), None)
        }),
        case(M::POST, "/v1/wallets", "PAB", true, |f| {
            (
                "/v1/wallets".into(),
                Some(
                    json!({"owner_type": "user", "owner_id": f.member, "currency": "USD", "rate_amount": 1}),
                ),
            )
        }),
        case(M::POST, "/v1/commerce/billing/wallets", "PAB", true, |f| {
            (
                "/v1/commerce/billing/wallets".into(),
                Some(
                    json!({"external_customer_id": f.external_id, "currency": "USD", "rate_amount": "1.0"}),
                ),
            )
        }),
        case(M::GET, "/v1/wallets", "PABGMT", false, |_| {
            ("/v1/wallets".into(), None)
        }),
        case(M::GET, "/v1/wallets/{id}", "PABGT", true, |f| {
            (format!("/v1/wallets/{}", f.team_wallet), None)
        }),
        case(M::PATCH, "/v1/wallets/{id}", "PAB", true, |f| {
            (
                format!("/v1/wallets/{}", f.member_wallet),
                Some(json!({"name": "renamed"})),
            )
        }),
        case(M::POST, "/v1/wallets/{id}/activate", "PAB", true, |f| {
            (format!("/v1/wallets/{}/activate", f.pending_wallet), None)
        }),
        case(M::POST, "/v1/wallets/{id}/terminate", "PAB", true, |f| {
            (format!("/v1/wallets/{}/terminate", f.member_wallet), None)
        }),
        case(M::POST, "/v1/wallets/credit", "PAB", true, |f| {
            (
                "/v1/wallets/credit".into(),
                Some(json!({"wallet_id": f.member_wallet, "granted_credits": 5})),
            )
        }),
        case(M::POST, "/v1/wallets/{id}/debit", "PAB", true, |f| {
            (
                format!("/v1/wallets/{}/debit", f.member_wallet),
                Some(json!({"paid_credits": 1})),
            )
        }),
        case(M::POST, "/v1/wallets/allocate", "PABT", true, |f| {
            (
                "/v1/wallets/allocate".into(),
                Some(
                    json!({"from_wallet_id": f.team_wallet, "to_wallet_id": f.member_wallet, "amount": "2"}),
                ),
            )
        }),
        case(M::POST, "/v1/wallets/reclaim", "PAB", true, |f| {
            (
                "/v1/wallets/reclaim".into(),
                Some(
                    json!({"from_wallet_id": f.member_wallet, "to_wallet_id": f.team_wallet, "amount": "1"}),
                ),
            )
        }),
        case(M::GET, "/v1/wallets/balance", "PABGM", true, |f| {
            (format!("/v1/wallets/balance?user_id={}", f.member), None)
        }),
        case(
            M::GET,
            "/v1/wallets/{id}/transactions",
            "PABGM",
            true,
            |f| {
                (
                    format!("/v1/wallets/{}/transactions", f.member_wallet),
                    None,
                )
            },
        ),
        case(M::GET, "/v1/admin/wallets", "P", false, |_| {
            ("/v1/admin/wallets".into(), None)
        }),
        case(
            M::GET,
            "/v1/admin/wallets/{id}/transactions",
            "P",
            false,
            |f| {
                (
                    format!("/v1/admin/wallets/{}/transactions", f.org_wallet),
                    None,
                )
            },
        ),
        case(M::POST, "/v1/admin/wallets/credit", "P", false, |f| {
            (
                "/v1/admin/wallets/credit".into(),
                Some(json!({"wallet_id": f.org_wallet, "paid_credits": "1"})),
            )
        }),
        case(
            M::PUT,
            "/v1/admin/organizations/{id}/wallet-settings",
            "P",
            false,
            |f| {
                (
                    format!("/v1/admin/organizations/{}/wallet-settings", f.org),
                    Some(json!({"low_balance_threshold": "5"})),
                )
            },
        ),
        case(
            M::GET,
            "/v1/admin/organizations/{id}/wallet-settings",
            "PAB",
            true,
            |f| {
                (
                    format!("/v1/admin/organizations/{}/wallet-settings", f.org),
                    None,
                )
            },
        ),
        case(M::POST, "/v1/gateway/wallets/reserve", "PAGM", true, |f| {
            (
                "/v1/gateway/wallets/reserve".into(),
                Some(json!({"user_id": f.member, "amount": "0.5"})),
            )
        }),
        case(M::POST, "/v1/gateway/wallets/settle", "PAGM", true, |f| {
            (
                "/v1/gateway/wallets/settle".into(),
                Some(json!({"reservation_id": f.reservation, "amount": "0.25"})),
            )
        }),
        case(M::POST, "/v1/gateway/wallets/release", "PAGM", true, |f| {
            (
                "/v1/gateway/wallets/release".into(),
                Some(json!({"reservation_id": f.reservation})),
            )
        }),
        case(
            M::POST,
            "/v1/gateway/wallets/redeem-ticket",
            "PAGM",
            true,
            |f| {
                (
                    "/v1/gateway/wallets/redeem-ticket".into(),
                    Some(json!({"cost_ticket_id": f.ticket})),
                )
            },
        ),
        case(M::GET, "/v1/reservations/{id}", "PABGM", true, |f| {
            (format!("/v1/reservations/{}", f.reservation), None)
        }),
        case(M::POST, "/v1/charges", "PAG", true, |f| {
            (
                "/v1/charges".into(),
                Some(
                    json!({"owner_type": "organization", "owner_id": f.org, "amount": 1, "fee_type": "SUBSCRIPTION"}),
                ),
            )
        }),
        case(M::GET, "/v1/cost-tickets", "PABGMT", false, |_| {
            ("/v1/cost-tickets".into(), None)
        }),
        case(M::GET, "/v1/cost-tickets/{id}", "PABGM", true, |f| {
            (format!("/v1/cost-tickets/{}", f.ticket), None)
        }),
        case(
            M::POST,
            "/v1/payments/create-checkout",
            "PABMT",
            true,
            |f| {
                (
                    "/v1/payments/create-checkout".into(),
                    Some(json!({"amount": 10, "org_id": f.org})),
                )
            },
        ),
        case(M::POST, "/v1/payments/create-order", "PABMT", true, |f| {
            (
                "/v1/payments/create-order".into(),
                Some(json!({"amount": 10, "org_id": f.org})),
            )
        }),
        case(
            M::POST,
            "/v1/payments/confirm-checkout",
            "PABM",
            true,
            |f| {
                (
                    "/v1/payments/confirm-checkout".into(),
                    Some(json!({"payment_session_id": f.payment_session, "checkout_state": "x"})),
                )
            },
        ),
        case(M::POST, "/v1/payments/capture-order", "PABM", true, |f| {
            (
                "/v1/payments/capture-order".into(),
                Some(json!({"payment_session_id": f.payment_session, "checkout_state": "x"})),
            )
        }),
        case(M::GET, "/v1/payments/sessions/{id}", "PABM", true, |f| {
            (format!("/v1/payments/sessions/{}", f.payment_session), None)
        }),
        case(M::GET, "/v1/payments/history", "PABMT", true, |f| {
            (format!("/v1/payments/history?org_id={}", f.org), None)
        }),
        case(M::GET, "/v1/payments/settings", "PABMT", true, |f| {
            (format!("/v1/payments/settings?org_id={}", f.org), None)
        }),
        case(M::PUT, "/v1/payments/settings", "PAB", true, |f| {
            (
                format!("/v1/payments/settings?org_id={}", f.org),
                Some(json!({"min_topup_amount": 10})),
            )
        }),
        case(M::GET, "/v1/payments/payment-methods", "PABMT", true, |f| {
            (
                format!("/v1/payments/payment-methods?org_id={}", f.org),
                None,
            )
        }),
        case(
            M::DELETE,
            "/v1/payments/payment-methods/{id}",
            "PAB",
            true,
            |f| {
                (
                    format!("/v1/payments/payment-methods/{}", f.payment_method),
                    None,
                )
            },
        ),
        case(M::GET, "/v1/admin/payments", "P", false, |_| {
            ("/v1/admin/payments".into(), None)
        }),
        case(M::GET, "/v1/admin/payments/config", "P", false, |_| {
            ("/v1/admin/payments/config".into(), None)
        }),
        case(M::PUT, "/v1/admin/payments/config", "P", false, |_| {
            (
                "/v1/admin/payments/config".into(),
                Some(json!({"sandbox": {"enabled": true}})),
            )
        }),
        case(M::POST, "/v1/admin/payments/refund", "P", false, |f| {
            (
                "/v1/admin/payments/refund".into(),
                Some(json!({"payment_session_id": f.payment_session, "reason": "x"})),
            )
        }),
        case(M::GET, "/v1/admin/test-clock", "P", false, |_| {
            ("/v1/admin/test-clock".into(), None)
        }),
        case(M::POST, "/v1/admin/test-clock/advance", "P", false, |_| {
            (
                "/v1/admin/test-clock/advance".into(),
                Some(json!({"seconds": 1})),
            )
        }),
    ]
}

fn is_refusal(status: StatusCode) -> bool {
    matches!(
        status,
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::NOT_FOUND
    )
}

#[tokio::test]
async fn every_route_answers_each_role_as_the_permission_table_says() {
    let mut failures = Vec::new();
    for case in cases() {
        for (letter, role) in CALLERS {
            // Arrange
            let world = World::new().await;
            let (path, body) = (case.build)(&world.a);

            // Act
            let answer = world
                .app
                .call(
                    case.method.clone(),
                    &path,
                    Some(&token(&world.a, letter)),
                    body,
                    &[],
                )
                .await;

            // Assert
            let allowed = case.allowed.contains(letter);
            let ok = if allowed {
                !is_refusal(answer.status) && !answer.status.is_server_error()
            } else {
                answer.status == StatusCode::FORBIDDEN
            };
            if !ok {
                failures.push(format!(
                    "{} {} as {role}: expected {}, got {} {}",
                    case.method,
                    case.route,
                    if allowed { "allowed" } else { "403" },
                    answer.status,
                    answer.body
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn another_organizations_resources_answer_404() {
    let mut failures = Vec::new();
    for case in cases().into_iter().filter(|case| case.scoped) {
        // The first caller of organization B that the route allows (not the platform admin,
        // who acts everywhere).
        let letter = case
            .allowed
            .chars()
            .find(|letter| *letter != 'P' && *letter != 'M' && *letter != 'T')
            .unwrap_or('A');
        let world = World::new().await;
        let (path, body) = (case.build)(&world.a);

        let answer = world
            .app
            .call(
                case.method.clone(),
                &path,
                Some(&token(&world.b, letter)),
                body,
                &[],
            )
            .await;

        if answer.status != StatusCode::NOT_FOUND {
            failures.push(format!(
                "{} {} by org B's {letter}: expected 404, got {} {}",
                case.method, case.route, answer.status, answer.body
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn without_a_valid_token_every_authenticated_route_answers_401() {
    let world = World::new().await;
    for case in cases() {
        let (path, body) = (case.build)(&world.a);
        for token in [None, Some("not-a-token")] {
            let answer = world
                .app
                .call(case.method.clone(), &path, token, body.clone(), &[])
                .await;

            assert_eq!(
                answer.status,
                StatusCode::UNAUTHORIZED,
                "{} {}",
                case.method,
                case.route
            );
            assert_eq!(answer.code(), "unauthorized");
        }
    }
}

#[tokio::test]
async fn the_role_table_covers_every_authenticated_route() {
    let covered: BTreeSet<(String, String)> = cases()
        .iter()
        .map(|case| (case.method.to_string(), case.route.to_owned()))
        .collect();
    let routes: BTreeSet<(String, String)> = purse_api::http::routes::table(true)
        .iter()
        .filter(|spec| spec.auth)
        .map(|spec| (spec.method.to_string(), spec.path.to_owned()))
        .collect();

    assert_eq!(covered, routes);
}

#[tokio::test]
async fn a_revoked_token_stops_working_at_once() {
    let world = World::new().await;
    let path = format!("/v1/reservations/{}", world.a.reservation);
    world
        .app
        .get(&path, &world.a.member_token)
        .await
        .expect(StatusCode::OK);

    world
        .app
        .call(
            Method::DELETE,
            &format!("/v1/tokens/{}", world.a.member_token_id),
            Some(&world.a.org_admin),
            None,
            &[],
        )
        .await
        .expect(StatusCode::NO_CONTENT);

    let answer = world.app.get(&path, &world.a.member_token).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn minting_a_token_with_more_power_than_the_callers_is_403() {
    let world = World::new().await;

    let answer = world
        .app
        .post(
            "/v1/tokens",
            &world.a.org_admin,
            json!({"role": "platform_admin", "name": "x"}),
        )
        .await;

    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.body);
}

#[tokio::test]
async fn a_platform_admin_token_belongs_to_no_organization() {
    let world = World::new().await;

    let minted = world
        .app
        .made(
            "/v1/tokens",
            BOOTSTRAP,
            json!({"role": "platform_admin", "name": "ops"}),
        )
        .await;

    assert_eq!(minted["org_id"], Value::Null);
    let token = minted["token"].as_str().unwrap();
    world
        .app
        .get("/v1/admin/wallets", token)
        .await
        .expect(StatusCode::OK);
}

#[tokio::test]
async fn health_readiness_and_the_document_need_no_token() {
    let world = World::new().await;
    for path in ["/healthz", "/readyz", "/openapi.json"] {
        let answer = world.app.call(Method::GET, path, None, None, &[]).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}");
    }
}
