//! Hand-written scenarios of `domain.md`, one behaviour each.

use ledger_core::LedgerError;
use ledger_core::cost_ticket::CostTicketStatus;
use ledger_core::reservation::ReservationStatus;
use ledger_core::wallet::{Owner, WalletStatus};
use rust_decimal_macros::dec;
use time::Duration;

use crate::support::{Fixture, credits};

#[tokio::test]
async fn reserve_holds_on_the_first_wallet_of_the_cascade_that_covers_it() {
    let fx = Fixture::new();
    let user_wallet = fx
        .ledger
        .create_wallet(&fx.new_wallet(Owner::User(fx.user.clone()), dec!(5), dec!(0)))
        .await
        .unwrap();
    let org_wallet = fx
        .ledger
        .create_wallet(&fx.new_wallet(Owner::Organization(fx.org.clone()), dec!(100), dec!(0)))
        .await
        .unwrap();

    let small = fx
        .ledger
        .reserve(&fx.reserve_request(dec!(4)))
        .await
        .unwrap();
    let large = fx
        .ledger
        .reserve(&fx.reserve_request(dec!(10)))
        .await
        .unwrap();

    assert_eq!(small.wallet_id, user_wallet.id);
    assert_eq!(
        large.wallet_id, org_wallet.id,
        "a hold never spans wallets: the user's 1 left is skipped"
    );
    fx.assert_audit_clean().await;
}

#[tokio::test]
async fn settle_burns_granted_first_and_releases_the_rest() {
    let fx = Fixture::new();
    let wallet = fx
        .ledger
        .create_wallet(&fx.new_wallet(Owner::User(fx.user.clone()), dec!(10), dec!(3)))
        .await
        .unwrap();
    let hold = fx
        .ledger
        .reserve(&fx.reserve_request(dec!(8)))
        .await
        .unwrap();

    let settlement = fx
        .ledger
        .settle(&hold.id, credits(dec!(5)), "gateway")
        .await
        .unwrap();

    assert_eq!(settlement.settled_amount, credits(dec!(5)));
    assert_eq!(settlement.released_amount, credits(dec!(3)));
    let wallet = fx.ledger.store().wallet(&wallet.id).await.unwrap().unwrap();
    assert_eq!(wallet.granted, credits(dec!(0)));
    assert_eq!(wallet.paid, credits(dec!(8)));
    assert_eq!(wallet.held, credits(dec!(0)));
    assert_eq!(wallet.total_spent, credits(dec!(5)));
    fx.assert_audit_clean().await;
}

#[tokio::test]
async fn settle_above_hold_caps_at_available_and_records_uncollected() {
    let fx = Fixture::new();
    fx.ledger
        .create_wallet(&fx.new_wallet(Owner::User(fx.user.clone()), dec!(10), dec!(0)))
        .await
        .unwrap();
    let first = fx
        .ledger
        .reserve(&fx.reserve_request(dec!(4)))
        .await
        .unwrap();
    let _second = fx
        .ledger
        .reserve(&fx.reserve_request(dec!(4)))
        .await
        .unwrap();

    let settlement = fx
        .ledger
        .settle(&first.id, credits(dec!(9)), "gateway")
        .await
        .unwrap();

    // 4 held + 2 available; the other hold's 4 are not touched.
    assert_eq!(settlement.settled_amount, credits(dec!(6)));
    assert_eq!(settlement.uncollected_amount, credits(dec!(3)));
    assert_eq!(settlement.wallet_balance_after, credits(dec!(4)));
    fx.assert_audit_clean().await;
}

#[tokio::test]
async fn settle_again_with_the_same_amount_answers_the_same_and_another_amount_conflicts() {
    let fx = Fixture::new();
    fx.ledger
        .create_wallet(&fx.new_wallet(Owner::User(fx.user.clone()), dec!(10), dec!(0)))
        .await
        .unwrap();
    let hold = fx
        .ledger
        .reserve(&fx.reserve_request(dec!(4)))
        .await
        .unwrap();

    let first = fx
        .ledger
        .settle(&hold.id, credits(dec!(2)), "gateway")
        .await
        .unwrap();
    let again = fx
        .ledger
        .settle(&hold.id, credits(dec!(2)), "gateway")
        .await
        .unwrap();
    let other = fx
        .ledger
        .settle(&hold.id, credits(dec!(3)), "gateway")
        .await;

    assert_eq!(first, again);
    assert!(matches!(other, Err(LedgerError::Conflict { .. })));
    assert!(matches!(
        fx.ledger.release(&hold.id, "gateway").await,
        Err(LedgerError::InvalidTransition { .. })
    ));
    fx.assert_audit_clean().await;
}

#[tokio::test]
async fn insufficient_balance_opens_a_ticket_that_redeems_after_a_credit() {
    let fx = Fixture::new();
    let wallet = fx
        .ledger
        .create_wallet(&fx.new_wallet(Owner::Team(fx.team.clone()), dec!(3), dec!(0)))
        .await
        .unwrap();

    let Err(LedgerError::InsufficientBalance { ticket }) =
        fx.ledger.reserve(&fx.reserve_request(dec!(5))).await
    else {
        panic!("expected a cost ticket");
    };
    assert_eq!(ticket.best_available_amount, credits(dec!(3)));
    assert_eq!(ticket.shortfall_amount, credits(dec!(2)));
    let Err(LedgerError::InsufficientBalance { ticket: still_open }) =
        fx.ledger.redeem(&ticket.id, None, "gateway").await
    else {
        panic!("expected the same ticket");
    };
    assert_eq!(still_open.id, ticket.id);
    fx.ledger
        .credit(&wallet.id, credits(dec!(2)), credits(dec!(0)), "admin")
        .await
        .unwrap();
    let reservation = fx.ledger.redeem(&ticket.id, None, "gateway").await.unwrap();

    let ticket = fx
        .ledger
        .store()
        .cost_ticket(&ticket.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ticket.status, CostTicketStatus::Resolved);
    assert_eq!(ticket.reservation_id, Some(reservation.id.clone()));
    assert_eq!(reservation.wallet_id, wallet.id);
    fx.assert_audit_clean().await;
}

#[tokio::test]
async fn sweep_expires_holds_tickets_and_wallets_exactly_once() {
    let fx = Fixture::new();
    let mut new = fx.new_wallet(Owner::User(fx.user.clone()), dec!(10), dec!(2));
    new.expiration_at = Some(fx.clock.now_plus(Duration::hours(2)));
    let wallet = fx.ledger.create_wallet(&new).await.unwrap();
    let hold = fx
        .ledger
        .reserve(&fx.reserve_request(dec!(4)))
        .await
        .unwrap();
    let hold_late = {
        let mut request = fx.reserve_request(dec!(1));
        request.ttl_seconds = Some(24 * 3600);
        fx.ledger.reserve(&request).await.unwrap()
    };

    fx.clock.advance(Duration::minutes(2));
    let first = fx.ledger.sweep().await.unwrap();
    let second = fx.ledger.sweep().await.unwrap();
    assert_eq!(first.reservations_expired, 1);
    assert_eq!(second.reservations_expired, 0);
    let hold = fx
        .ledger
        .store()
        .reservation(&hold.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(hold.status, ReservationStatus::Expired);

    fx.clock.advance(Duration::hours(3));
    let report = fx.ledger.sweep().await.unwrap();
    assert_eq!(report.wallets_expired, 1);
    let wallet = fx.ledger.store().wallet(&wallet.id).await.unwrap().unwrap();
    assert_eq!(wallet.status, WalletStatus::Terminated);
    assert!(wallet.balance().is_zero());
    let hold_late = fx
        .ledger
        .store()
        .reservation(&hold_late.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(hold_late.status, ReservationStatus::Released);
    assert_eq!(hold_late.end_reason.as_deref(), Some("wallet_expired"));
    fx.assert_audit_clean().await;
}

#[tokio::test]
async fn allocate_moves_down_the_tree_and_refuses_up() {
    let fx = Fixture::new();
    let org_wallet = fx
        .ledger
        .create_wallet(&fx.new_wallet(Owner::Organization(fx.org.clone()), dec!(50), dec!(10)))
        .await
        .unwrap();
    let user_wallet = fx
        .ledger
        .create_wallet(&fx.new_wallet(Owner::User(fx.user.clone()), dec!(0), dec!(0)))
        .await
        .unwrap();

    let moved = fx
        .ledger
        .allocate(&org_wallet.id, &user_wallet.id, credits(dec!(15)), "admin")
        .await
        .unwrap();
    let up = fx
        .ledger
        .allocate(&user_wallet.id, &org_wallet.id, credits(dec!(1)), "admin")
        .await;
    let reclaimed = fx
        .ledger
        .reclaim(&user_wallet.id, &org_wallet.id, None, "admin")
        .await
        .unwrap();

    assert_eq!(moved.to_wallet.granted, credits(dec!(10)));
    assert_eq!(moved.to_wallet.paid, credits(dec!(5)));
    assert_eq!(moved.to_wallet.total_allocated, credits(dec!(15)));
    assert!(matches!(up, Err(LedgerError::Invalid(_))));
    assert_eq!(reclaimed.to_wallet.balance(), credits(dec!(60)));
    assert!(reclaimed.from_wallet.balance().is_zero());
    fx.assert_audit_clean().await;
}

#[tokio::test]
async fn debit_never_takes_held_credits() {
    let fx = Fixture::new();
    let wallet = fx
        .ledger
        .create_wallet(&fx.new_wallet(Owner::User(fx.user.clone()), dec!(10), dec!(0)))
        .await
        .unwrap();
    fx.ledger
        .reserve(&fx.reserve_request(dec!(8)))
        .await
        .unwrap();

    let refused = fx
        .ledger
        .debit(&wallet.id, credits(dec!(3)), credits(dec!(0)), "admin")
        .await;
    let allowed = fx
        .ledger
        .debit(&wallet.id, credits(dec!(2)), credits(dec!(0)), "admin")
        .await
        .unwrap();

    assert!(matches!(
        refused,
        Err(LedgerError::InsufficientFunds { .. })
    ));
    assert_eq!(allowed.available(), credits(dec!(0)));
    fx.assert_audit_clean().await;
}

#[tokio::test]
async fn an_expired_wallet_refuses_changes_before_the_sweeper_runs() {
    let fx = Fixture::new();
    let mut new = fx.new_wallet(Owner::User(fx.user.clone()), dec!(10), dec!(0));
    new.expiration_at = Some(fx.clock.now_plus(Duration::minutes(30)));
    let wallet = fx.ledger.create_wallet(&new).await.unwrap();
    let hold = {
        let mut request = fx.reserve_request(dec!(4));
        request.ttl_seconds = Some(3600);
        fx.ledger.reserve(&request).await.unwrap()
    };

    fx.clock.advance(Duration::minutes(31));
    let credit = fx
        .ledger
        .credit(&wallet.id, credits(dec!(1)), credits(dec!(0)), "admin")
        .await;
    let settle = fx
        .ledger
        .settle(&hold.id, credits(dec!(4)), "gateway")
        .await;

    assert!(matches!(
        credit,
        Err(LedgerError::Conflict {
            code: "wallet_expired",
            ..
        })
    ));
    assert!(matches!(
        settle,
        Err(LedgerError::Conflict {
            code: "wallet_expired",
            ..
        })
    ));
    let hold = fx
        .ledger
        .store()
        .reservation(&hold.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(hold.status, ReservationStatus::Released);
    assert_eq!(hold.end_reason.as_deref(), Some("wallet_expired"));
    let wallet = fx.ledger.store().wallet(&wallet.id).await.unwrap().unwrap();
    assert_eq!(wallet.status, WalletStatus::Terminated);
    assert!(wallet.balance().is_zero());
    fx.assert_audit_clean().await;
}
