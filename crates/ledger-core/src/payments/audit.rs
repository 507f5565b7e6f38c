//! The payments part of the audit: invariants 5 (a session credits its wallet at most once)
//! and 6 (credited credits = amount / rate_amount by the documented rule; refunds never take
//! back more than was credited).

use rust_decimal::Decimal;

use crate::error::LedgerError;
use crate::journal::EntryKind;
use crate::money::Money;
use crate::payment_session::{PaymentSession, PaymentStatus};
use crate::ports::{
    LedgerStore, PageRequest, PaymentSessionFilter, PaymentStore, WalletLineFilter,
};
use crate::service::audit::Breach;

/// Pages of sessions read at most (100 each).
const PAGES_MAX: u32 = 100_000;

/// Checks every payment session of the store.
///
/// # Errors
/// Store failures.
pub async fn audit_sessions(
    ledger_store: &dyn LedgerStore,
    payment_store: &dyn PaymentStore,
) -> Result<Vec<Breach>, LedgerError> {
    let mut breaches = Vec::new();
    for page in 1..=PAGES_MAX {
        let request = PageRequest {
            page,
            per_page: 100,
        };
        let sessions = payment_store
            .list_payment_sessions(&PaymentSessionFilter {
                page: request,
                ..PaymentSessionFilter::default()
            })
            .await?;
        for session in &sessions.items {
            check_session(ledger_store, session, &mut breaches).await?;
        }
        if !sessions.has_more(request) {
            break;
        }
    }
    Ok(breaches)
}

async fn check_session(
    ledger_store: &dyn LedgerStore,
    session: &PaymentSession,
    breaches: &mut Vec<Breach>,
) -> Result<(), LedgerError> {
    let mut breach = |invariant: &'static str, detail: String| {
        breaches.push(Breach {
            invariant,
            subject: session.id.to_string(),
            detail,
        });
    };
    let credited = session.status.is_credited();
    if credited != session.credited_amount.is_some() {
        breach(
            "exactly_once",
            format!(
                "status {} but credited_amount {:?}",
                session.status, session.credited_amount
            ),
        );
    }
    let topups = topup_credits(ledger_store, session).await?;
    match (credited, topups.len()) {
        (true, 1) | (false, 0) => {}
        (_, count) => breach(
            "exactly_once",
            format!(
                "{count} top-up transactions for a {} session",
                session.status
            ),
        ),
    }
    let Some(credited_amount) = session.credited_amount else {
        return Ok(());
    };
    if let Some(wallet) = ledger_store.wallet(&session.wallet_id).await? {
        let expected = Money::try_new(session.amount, session.currency)
            .map(|money| money.to_credits(wallet.rate_amount))
            .unwrap_or_default();
        if expected != credited_amount {
            breach(
                "money_in_credits_out",
                format!(
                    "{} {} at rate {} buys {expected}, but {credited_amount} were credited",
                    session.amount, session.currency, wallet.rate_amount
                ),
            );
        }
    }
    if let Some(booked) = topups.first()
        && *booked != credited_amount.value()
    {
        breach(
            "money_in_credits_out",
            format!("the journal booked {booked} for {credited_amount} credited"),
        );
    }
    if session.refunded_credits > credited_amount || session.refunded_amount > session.amount {
        breach(
            "money_in_credits_out",
            format!(
                "refunded {} credits / {} money of {credited_amount} credits / {} money",
                session.refunded_credits, session.refunded_amount, session.amount
            ),
        );
    }
    if session.status == PaymentStatus::Refunded && session.refunded_amount < session.amount {
        breach(
            "money_in_credits_out",
            format!(
                "refunded but only {} of {} paid back",
                session.refunded_amount, session.amount
            ),
        );
    }
    Ok(())
}

/// The credits of each top-up transaction of the session on its wallet (paid credits plus
/// the debt it repaid).
async fn topup_credits(
    ledger_store: &dyn LedgerStore,
    session: &PaymentSession,
) -> Result<Vec<Decimal>, LedgerError> {
    let mut credits = Vec::new();
    for page in 1..=PAGES_MAX {
        let request = PageRequest {
            page,
            per_page: 100,
        };
        let lines = ledger_store
            .wallet_lines(&WalletLineFilter {
                wallet_id: session.wallet_id.clone(),
                kind: Some(EntryKind::Topup),
                from: None,
                to: None,
                page: request,
            })
            .await?;
        credits.extend(
            lines
                .items
                .iter()
                .filter(|line| {
                    line.reference_type == "payment_session"
                        && line.reference_id == session.id.as_str()
                })
                .map(|line| line.paid_delta - line.debt_delta),
        );
        if !lines.has_more(request) {
            break;
        }
    }
    Ok(credits)
}
