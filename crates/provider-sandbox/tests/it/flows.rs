use ledger_core::LedgerError;
use ledger_core::journal::EntryKind;
use ledger_core::money::Money;
use ledger_core::payment_session::PaymentStatus;
use ledger_core::payments::ConfirmOutcome;
use ledger_core::ports::{ProviderEvent, ProviderEventKind, WalletLineFilter};
use rust_decimal_macros::dec;
use time::Duration;

use crate::support::{Fixture, credits};

#[tokio::test]
async fn checkout_approve_confirm_completes_and_credits_once() {
    let fx = Fixture::new();
    let session = fx.approved(dec!(25)).await;

    let outcome = fx
        .payments
        .confirm(
            &session.id,
            session.provider_order_id.as_deref(),
            "state-xyz",
        )
        .await
        .unwrap();
    let again = fx
        .payments
        .confirm(&session.id, None, "state-xyz")
        .await
        .unwrap();

    let ConfirmOutcome::Done(done) = outcome else {
        panic!("expected a processed session")
    };
    assert_eq!(done.status, PaymentStatus::Completed);
    assert_eq!(done.credited_amount, Some(credits(dec!(25))));
    assert_eq!(again.session().status, PaymentStatus::Completed);
    let wallet = fx.wallet(&session).await;
    assert_eq!(wallet.paid, credits(dec!(25)));
    let lines = fx
        .ledger
        .store()
        .wallet_lines(&WalletLineFilter {
            wallet_id: wallet.id.clone(),
            kind: Some(EntryKind::Topup),
            from: None,
            to: None,
            page: Default::default(),
        })
        .await
        .unwrap();
    assert_eq!(lines.total, 1, "one top-up line, not two");
    fx.assert_audit_clean().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_confirms_credit_once() {
    let fx = Fixture::new();
    let session = fx.approved(dec!(50)).await;

    let mut tasks = Vec::new();
    for _ in 0..20 {
        let payments = fx.payments.clone();
        let id = session.id.clone();
        tasks.push(tokio::spawn(async move {
            payments.confirm(&id, None, "state-xyz").await
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }

    assert_eq!(fx.wallet(&session).await.paid, credits(dec!(50)));
    fx.assert_audit_clean().await;
}

#[tokio::test]
async fn confirm_before_approval_is_not_approved_and_the_session_stays_created() {
    let fx = Fixture::new();
    let session = fx
        .payments
        .start_checkout(&fx.start(dec!(10)))
        .await
        .unwrap();

    let outcome = fx.payments.confirm(&session.id, None, "state-xyz").await;
    let wrong_state = fx.payments.confirm(&session.id, None, "other").await;

    assert!(matches!(
        outcome,
        Err(LedgerError::Conflict {
            code: "payment_not_approved",
            ..
        })
    ));
    assert!(matches!(wrong_state, Err(LedgerError::Invalid(_))));
    let stored = fx
        .payments
        .store()
        .payment_session(&session.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, PaymentStatus::Created);
    assert!(fx.wallet(&session).await.paid.is_zero());
}

#[tokio::test]
async fn unapproved_sessions_expire_and_confirm_then_conflicts() {
    let fx = Fixture::new();
    let session = fx
        .payments
        .start_checkout(&fx.start(dec!(10)))
        .await
        .unwrap();

    fx.clock.advance(Duration::hours(4));
    let report = fx.payments.sweep().await.unwrap();

    assert_eq!(report.sessions_expired, 1);
    assert!(matches!(
        fx.payments.confirm(&session.id, None, "state-xyz").await,
        Err(LedgerError::Conflict { .. })
    ));
}

#[tokio::test]
async fn a_capture_reported_after_expiry_still_credits() {
    let fx = Fixture::new();
    let session = fx
        .payments
        .start_checkout(&fx.start(dec!(10)))
        .await
        .unwrap();
    fx.clock.advance(Duration::hours(4));
    fx.payments.sweep().await.unwrap();

    let event = ProviderEvent {
        event_id: "evt-late".to_owned(),
        order_id: session.provider_order_id.clone(),
        session_id: None,
        kind: ProviderEventKind::CaptureCompleted {
            capture_id: "cap-late".to_owned(),
            amount: Money::try_new(dec!(10), fx.usd).unwrap(),
        },
    };
    let applied = fx
        .payments
        .apply_event("sandbox", &event)
        .await
        .unwrap()
        .unwrap();
    let duplicate = fx
        .payments
        .apply_event("sandbox", &event)
        .await
        .unwrap()
        .unwrap();

    assert_eq!(applied.status, PaymentStatus::Completed);
    assert_eq!(duplicate.status, PaymentStatus::Completed);
    assert_eq!(fx.wallet(&session).await.paid, credits(dec!(10)));
    fx.assert_audit_clean().await;
}

#[tokio::test]
async fn admin_refund_full_and_partial_take_back_paid_credits() {
    let fx = Fixture::new();
    let session = fx.completed(dec!(40)).await;

    let partial = fx
        .payments
        .refund(&session.id, Some(dec!(15)))
        .await
        .unwrap();
    assert_eq!(partial.session.status, PaymentStatus::Completed);
    assert_eq!(fx.wallet(&session).await.paid, credits(dec!(25)));
    let rest = fx.payments.refund(&session.id, None).await.unwrap();
    assert_eq!(rest.session.status, PaymentStatus::Refunded);
    assert_eq!(rest.session.refunded_amount, dec!(40));
    assert!(fx.wallet(&session).await.paid.is_zero());
    assert!(matches!(
        fx.payments.refund(&session.id, None).await,
        Err(LedgerError::Conflict { .. })
    ));
    fx.assert_audit_clean().await;
}

#[tokio::test]
async fn refund_after_the_credits_were_spent_is_refused_and_changes_nothing() {
    let fx = Fixture::new();
    let session = fx.completed(dec!(20)).await;
    let hold = fx.ledger.reserve(&fx.reserve(dec!(15))).await.unwrap();

    let refused = fx.payments.refund(&session.id, None).await;

    assert!(matches!(
        refused,
        Err(LedgerError::Conflict {
            code: "insufficient_balance_for_refund",
            ..
        })
    ));
    let stored = fx
        .payments
        .store()
        .payment_session(&session.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, PaymentStatus::Completed);
    assert_eq!(stored.refunded_amount, dec!(0));
    assert_eq!(fx.wallet(&session).await.held, hold.amount);
    fx.assert_audit_clean().await;
}

#[tokio::test]
async fn a_reversal_of_spent_credits_books_debt_that_blocks_reserves_until_repaid() {
    let fx = Fixture::new();
    let session = fx.completed(dec!(20)).await;
    let hold = fx.ledger.reserve(&fx.reserve(dec!(15))).await.unwrap();
    fx.ledger
        .settle(&hold.id, credits(dec!(15)), "gateway")
        .await
        .unwrap();

    let reversal = ProviderEvent {
        event_id: "evt-rev".to_owned(),
        order_id: session.provider_order_id.clone(),
        session_id: None,
        kind: ProviderEventKind::Reversed {
            reversal_id: "rev-1".to_owned(),
            amount: Money::try_new(dec!(20), fx.usd).unwrap(),
        },
    };
    let reversed = fx
        .payments
        .apply_event("sandbox", &reversal)
        .await
        .unwrap()
        .unwrap();

    assert_eq!(reversed.status, PaymentStatus::Refunded);
    let wallet = fx.wallet(&session).await;
    assert!(wallet.paid.is_zero());
    assert_eq!(wallet.debt, credits(dec!(15)));
    assert!(matches!(
        fx.ledger.reserve(&fx.reserve(dec!(1))).await,
        Err(LedgerError::InsufficientBalance { .. })
    ));

    let top_up = fx.completed(dec!(25)).await;
    let wallet = fx.wallet(&top_up).await;
    assert!(
        wallet.debt.is_zero(),
        "the next top-up repays the debt first"
    );
    assert_eq!(wallet.paid, credits(dec!(10)));
    fx.ledger.reserve(&fx.reserve(dec!(10))).await.unwrap();
    fx.assert_audit_clean().await;
}

#[tokio::test]
async fn buyer_cancel_closes_the_session() {
    let fx = Fixture::new();
    let session = fx
        .payments
        .start_checkout(&fx.start(dec!(10)))
        .await
        .unwrap();
    let redirect = fx
        .sandbox
        .cancel(session.provider_order_id.as_deref().unwrap())
        .await
        .unwrap();

    let canceled = fx.payments.cancel(&session.id).await.unwrap();

    assert!(redirect.starts_with("https://console.example/cancel?token=SBX"));
    assert_eq!(canceled.status, PaymentStatus::Canceled);
    assert!(matches!(
        fx.payments.confirm(&session.id, None, "state-xyz").await,
        Err(LedgerError::Conflict { .. })
    ));
}

#[tokio::test]
async fn a_capture_for_a_wallet_past_its_expiration_is_not_forfeited() {
    let fx = Fixture::new();
    let expiring = fx
        .ledger
        .create_wallet(&ledger_core::service::NewWallet {
            org_id: fx.org.clone(),
            owner: ledger_core::wallet::Owner::Organization(fx.org.clone()),
            name: None,
            currency: fx.usd,
            rate_amount: dec!(1),
            paid: credits(dec!(0)),
            granted: credits(dec!(0)),
            expiration_at: Some(fx.clock.now_plus(Duration::hours(1))),
            activates_at: None,
            priority: 0,
            fee_types: Vec::new(),
            rules: Vec::new(),
            principal: "admin".to_owned(),
        })
        .await
        .unwrap();
    let session = fx.approved(dec!(25)).await;
    assert_eq!(session.wallet_id, expiring.id);

    // The wallet's expiry passes before the buyer comes back; the sweeper has not run yet.
    fx.clock.advance(Duration::hours(2));
    let outcome = fx
        .payments
        .confirm(&session.id, None, "state-xyz")
        .await
        .unwrap();
    fx.ledger.sweep().await.unwrap();

    let done = outcome.session();
    assert_eq!(done.status, PaymentStatus::Completed);
    let credited = fx.wallet(done).await;
    assert_eq!(
        credited.status,
        ledger_core::wallet::WalletStatus::Active,
        "the paid credits must land on a usable wallet, not one about to be forfeited"
    );
    assert_eq!(credited.paid, credits(dec!(25)));
    fx.assert_audit_clean().await;
}

/// Moves a session straight to `status`, as a process that died mid-way would leave it.
async fn force_status(fx: &Fixture, id: &ledger_core::id::PaymentSessionId, status: PaymentStatus) {
    let mut uow = fx.ledger.store().begin().await.unwrap();
    let mut session = uow.lock_payment_session(id).await.unwrap().unwrap();
    session.status = status;
    uow.update_payment_session(&session).await.unwrap();
    uow.commit().await.unwrap();
}

#[tokio::test]
async fn long_pending_captures_do_not_starve_the_reconciler_of_a_captured_session() {
    let fx = Fixture::new();
    // Two hundred captures the provider keeps answering "not done yet" (PENDING for days).
    for _ in 0..200 {
        let waiting = fx
            .payments
            .start_checkout(&fx.start(dec!(10)))
            .await
            .unwrap();
        force_status(&fx, &waiting.id, PaymentStatus::Captured).await;
    }
    // Then a capture the provider took while the process confirming it died.
    let died = fx
        .payments
        .start_checkout(&fx.start(dec!(30)))
        .await
        .unwrap();
    fx.sandbox
        .approve(died.provider_order_id.as_deref().unwrap())
        .await
        .unwrap();
    // The sandbox captured (as the provider did) but the session never left `capturing`.
    let provider = fx.sandbox.clone();
    ledger_core::ports::PaymentProvider::capture(
        provider.as_ref(),
        died.provider_order_id.as_deref().unwrap(),
        died.id.as_str(),
    )
    .await
    .unwrap();
    force_status(&fx, &died.id, PaymentStatus::Capturing).await;

    for _ in 0..5 {
        fx.clock.advance(Duration::minutes(2));
        fx.payments.sweep().await.unwrap();
    }

    let stored = fx
        .payments
        .store()
        .payment_session(&died.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.status,
        PaymentStatus::Completed,
        "money taken must be credited by the reconciler"
    );
    fx.assert_audit_clean().await;
}
