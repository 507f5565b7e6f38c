//! End-to-end scenarios: the app started in-process on port 0, driven over HTTP, each on a
//! SQLite temp file and on a fresh PostgreSQL database.

#![expect(clippy::unwrap_used, reason = "scenarios panic on a broken set-up")]

mod concurrency;
mod pay_support;
mod payment_methods_delete;
mod payments;
mod payments_revoked;
mod rules;
mod rules_lifecycle;
mod rules_paid;
mod rules_support;
mod rules_threshold;
mod scenarios;

use purse_e2e::{Backend, TestApp};

/// Runs `scenario(&app)` once on SQLite and once on PostgreSQL (skipped loudly when
/// PostgreSQL is unreachable outside CI).
macro_rules! on_both_databases {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = TestApp::spawn(Backend::Sqlite).await.expect("SQLite always starts");
                crate::scenarios::$scenario(&app).await;
                app.cleanup().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(app) = TestApp::spawn(Backend::Postgres).await else {
                    return;
                };
                crate::scenarios::$scenario(&app).await;
                app.cleanup().await;
            }
        }
    )*};
}

on_both_databases!(
    main_flow_from_an_empty_database_to_a_settled_reservation,
    insufficient_balance_gives_a_ticket_that_redeems_after_an_admin_credit,
    a_hold_expires_when_the_test_clock_passes_its_ttl,
    idempotent_reserve_replays_over_http,
);
