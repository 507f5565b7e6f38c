//! Support for the top-up rule scenarios: the test clock driven to exact instants, decimal
//! reads of wallet fields, the rule top-ups in a wallet's history, and a macro that runs a
//! scenario on both databases.

use std::str::FromStr;

use purse_e2e::TestApp;
use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Runs each named scenario of the calling module once on SQLite and once on PostgreSQL
/// (skipped loudly when PostgreSQL is unreachable outside CI, fails under `CI=true`).
macro_rules! on_both_engines {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            use purse_e2e::{Backend, TestApp};

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = TestApp::spawn(Backend::Sqlite).await.expect("SQLite always starts");
                super::$scenario(&app).await;
                app.cleanup().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(app) = TestApp::spawn(Backend::Postgres).await else {
                    return;
                };
                super::$scenario(&app).await;
                app.cleanup().await;
            }
        }
    )*};
}

pub(crate) use on_both_engines;

/// An instant as RFC 3339.
pub(crate) fn rfc3339(instant: OffsetDateTime) -> String {
    instant.format(&Rfc3339).expect("an RFC 3339 instant")
}

/// A decimal field of a JSON object (the wallet API answers decimal strings).
#[track_caller]
pub(crate) fn decimal(object: &Value, field: &str) -> Decimal {
    let text = object[field]
        .as_str()
        .unwrap_or_else(|| panic!("no decimal string `{field}` in {object}"));
    Decimal::from_str(text).unwrap_or_else(|_| panic!("`{field}` = {text} is not a decimal"))
}

/// A decimal from a literal.
pub(crate) fn dec(text: &str) -> Decimal {
    Decimal::from_str(text).expect("a decimal literal")
}

/// The service's clock now.
pub(crate) async fn clock_now(app: &TestApp) -> OffsetDateTime {
    let clock = app.test_clock(&app.bootstrap).await.expect(200);
    let now = clock["now"].as_str().expect("`now` in the clock");
    OffsetDateTime::parse(now, &Rfc3339).expect("an RFC 3339 `now`")
}

/// Moves the test clock forward to `instant` (a little past it, since the clock keeps running
/// in real time) and answers the clock after the due work ran.
pub(crate) async fn advance_to(app: &TestApp, instant: OffsetDateTime) -> Value {
    let now = clock_now(app).await;
    let seconds = (instant - now).whole_seconds() + 1;
    app.advance_clock(&app.bootstrap, seconds.max(0))
        .await
        .expect(200)
}

/// Moves the test clock forward by whole days.
pub(crate) async fn advance_days(app: &TestApp, days: i64) -> Value {
    app.advance_clock(&app.bootstrap, days * 24 * 3600)
        .await
        .expect(200)
}

/// A wallet as its owner's admin reads it.
pub(crate) async fn wallet(app: &TestApp, token: &str, wallet_id: &str) -> Value {
    app.wallet(token, wallet_id).await.expect(200)
}

/// The wallet's history lines of one kind, newest first.
pub(crate) async fn lines_of_kind(
    app: &TestApp,
    token: &str,
    wallet_id: &str,
    kind: &str,
) -> Vec<Value> {
    let history = app
        .transactions(token, wallet_id, &format!("kind={kind}&per_page=100"))
        .await
        .expect(200);
    assert_eq!(
        history["has_more"], false,
        "more than one page of {kind} lines"
    );
    history["transactions"]
        .as_array()
        .expect("a transactions list")
        .clone()
}

/// How many rule top-ups the wallet's history shows.
pub(crate) async fn rule_topups(app: &TestApp, token: &str, wallet_id: &str) -> usize {
    lines_of_kind(app, token, wallet_id, "rule_topup")
        .await
        .len()
}

/// The wallet's first rule's `state.last_run`.
pub(crate) fn last_run(wallet: &Value) -> &Value {
    &wallet["recurring_transaction_rules"][0]["state"]["last_run"]
}

/// Asserts the ledger's audit of the app's database is clean.
pub(crate) async fn assert_audit_clean(app: &TestApp) {
    let report = app.audit().await;
    assert!(report.is_clean(), "audit: {report:#?}");
}

/// A payment method saved the way a buyer saves one: a sandbox checkout with
/// `save_payment_method: true`, approved on the sandbox page and confirmed. Answers its id.
pub(crate) async fn saved_sandbox_method(app: &TestApp, token: &str) -> String {
    let returned = format!("{}/sandbox/returned", app.base_url);
    let checkout = app
        .send(
            Method::POST,
            "/v1/payments/create-checkout",
            Some(token),
            Some(
                json!({"amount": 10, "target_wallet_owner_type": "organization",
                        "save_payment_method": true, "return_url": returned,
                        "cancel_url": returned}),
            ),
            None,
        )
        .await
        .expect(201);
    let approval_url = checkout["approval_url"].as_str().expect("an approval_url");
    let order = approval_url
        .rsplit_once("/sandbox/checkout/")
        .expect("a sandbox checkout page")
        .1;
    let approved = app
        .send(
            Method::POST,
            &format!("/sandbox/checkout/{order}/approve"),
            None,
            None,
            None,
        )
        .await;
    assert!(approved.status.is_success(), "approve: {}", approved.body);
    let confirmed = app
        .send(
            Method::POST,
            "/v1/payments/confirm-checkout",
            Some(token),
            Some(json!({"payment_session_id": checkout["payment_session_id"],
                        "checkout_state": checkout["checkout_state"]})),
            None,
        )
        .await
        .expect(200);
    assert_eq!(confirmed["status"], "completed", "{confirmed}");
    let methods = app
        .send(
            Method::GET,
            "/v1/payments/payment-methods",
            Some(token),
            None,
            None,
        )
        .await
        .expect(200);
    let methods = methods["payment_methods"].as_array().expect("a list");
    assert_eq!(methods.len(), 1, "{methods:?}");
    methods[0]["id"].as_str().expect("an id").to_owned()
}

/// A payment session.
pub(crate) async fn payment_session(app: &TestApp, token: &str, id: &str) -> Value {
    app.send(
        Method::GET,
        &format!("/v1/payments/sessions/{id}"),
        Some(token),
        None,
        None,
    )
    .await
    .expect(200)
}
