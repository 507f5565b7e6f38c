//! Background work: the periodic sweep (expiring holds and cost tickets, activating and
//! expiring wallets), the payment sweep (expiring unapproved sessions, reconciling stuck ones,
//! charging rules' paid top-ups) and the purge of old idempotency keys.
//!
//! Safe with several `purse` processes on one database: `Ledger::sweep` re-checks every item
//! under its row lock, so an item another process handled is skipped; `Payments::sweep` moves
//! every session by compare-and-set, so two processes reconciling one session credit it once.

use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::http::AppState;
use crate::http::idempotency::KEY_RETENTION;

/// How often old idempotency keys are purged.
const PURGE_EVERY: Duration = Duration::from_secs(600);

/// Starts the worker; it stops when `shutdown` turns true.
pub fn spawn(
    state: AppState,
    interval: Duration,
    mut shutdown: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut sweep_tick = tokio::time::interval(interval);
        sweep_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut purge_tick = tokio::time::interval(PURGE_EVERY);
        purge_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.changed() => break,
                _ = sweep_tick.tick() => sweep(&state).await,
                _ = purge_tick.tick() => purge(&state).await,
            }
            if *shutdown.borrow() {
                break;
            }
        }
        tracing::info!("background worker stopped");
    })
}

async fn sweep(state: &AppState) {
    let _sweeping = state.sweeps.lock().await;
    match state.ledger.sweep().await {
        Ok(report) if report == ledger_core::service::SweepReport::default() => {}
        Ok(report) => tracing::info!(?report, "swept due work"),
        Err(error) => tracing::warn!(%error, "sweep failed; retrying next tick"),
    }
    sweep_payments(state).await;
}

/// Runs the payment sweep once (the test clock's advance calls it too).
pub async fn sweep_payments(state: &AppState) -> Option<ledger_core::payments::PaymentSweepReport> {
    if let Err(error) = state.providers.refresh().await {
        tracing::warn!(%error, "payment configuration unreadable; sweeping with the last one");
    }
    match state.payments.sweep().await {
        Ok(report) => {
            if report != ledger_core::payments::PaymentSweepReport::default() {
                tracing::info!(?report, "swept payment work");
            }
            Some(report)
        }
        Err(error) => {
            tracing::warn!(%error, "payment sweep failed; retrying next tick");
            None
        }
    }
}

async fn purge(state: &AppState) {
    let before = state.ledger.clock().now() - KEY_RETENTION;
    match state.idempotency.purge(before).await {
        Ok(0) => {}
        Ok(count) => tracing::info!(count, "purged old idempotency keys"),
        Err(error) => tracing::warn!(%error, "idempotency purge failed; retrying later"),
    }
}
