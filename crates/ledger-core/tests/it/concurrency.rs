//! Many tasks on a multi-threaded runtime against one hot wallet and against many wallets at
//! once. The tests assert counts and conservation, never timing.

use std::sync::Arc;

use ledger_core::LedgerError;
use ledger_core::cascade::CascadeScope;
use ledger_core::id::{OrgId, ReservationId, UserId};
use ledger_core::journal::Account;
use ledger_core::money::Credits;
use ledger_core::ports::LedgerStore;
use ledger_core::service::{ReserveRequest, Settlement};
use ledger_core::wallet::{Owner, Wallet};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use tokio::task::JoinSet;

use crate::support::{Fixture, credits};

/// What one reserve attempt came to.
enum Attempt {
    Held(ReservationId),
    Ticket(Credits),
}

fn request_for(fx: &Fixture, user: Option<UserId>, amount: Decimal) -> ReserveRequest {
    let mut request = fx.reserve_request(amount);
    request.scope = CascadeScope {
        org_id: fx.org.clone(),
        user_id: user,
        team_id: None,
    };
    request
}

async fn reserve_all(fx: &Fixture, requests: Vec<ReserveRequest>) -> Vec<Attempt> {
    let mut tasks = JoinSet::new();
    for request in requests {
        let ledger = fx.ledger.clone();
        tasks.spawn(async move {
            match ledger.reserve(&request).await {
                Ok(reservation) => Attempt::Held(reservation.id),
                Err(LedgerError::InsufficientBalance { ticket }) => {
                    Attempt::Ticket(ticket.shortfall_amount)
                }
                Err(other) => panic!("reserve failed: {other:?}"),
            }
        });
    }
    tasks.join_all().await
}

/// Checks the invariants every concurrent test ends with: the audit is clean, every account
/// sums to zero with the rest, no balance is negative, and nothing is held any more.
async fn assert_sound(fx: &Fixture) -> Vec<Wallet> {
    fx.assert_audit_clean().await;
    let snapshot = fx.store.audit_snapshot().await.unwrap();
    assert!(snapshot.unbalanced_transactions.is_empty());
    let total: Decimal = snapshot.account_sums.iter().map(|(_, sum)| *sum).sum();
    assert!(total.is_zero(), "all accounts sum to {total}");
    for wallet in &snapshot.wallets {
        assert!(!wallet.paid.value().is_sign_negative() || wallet.paid.is_zero());
        assert!(!wallet.granted.value().is_sign_negative() || wallet.granted.is_zero());
        assert!(wallet.held <= wallet.balance(), "{wallet:?}");
        assert!(wallet.held.is_zero(), "every hold ended: {wallet:?}");
    }
    snapshot.wallets
}

async fn consumed(fx: &Fixture) -> Decimal {
    let code = Account::Consumption.code();
    fx.store
        .audit_snapshot()
        .await
        .unwrap()
        .account_sums
        .into_iter()
        .find(|(account, _)| *account == code)
        .map(|(_, sum)| sum)
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hot_wallet_grants_exactly_as_many_holds_as_its_balance_allows() {
    let fx = Fixture::new();
    let wallet = fx
        .ledger
        .create_wallet(&fx.new_wallet(Owner::User(fx.user.clone()), dec!(60), dec!(40)))
        .await
        .unwrap();
    let requests = (0..200)
        .map(|_| request_for(&fx, Some(fx.user.clone()), dec!(1)))
        .collect();

    let attempts = reserve_all(&fx, requests).await;
    let held: Vec<ReservationId> = attempts
        .iter()
        .filter_map(|attempt| match attempt {
            Attempt::Held(id) => Some(id.clone()),
            Attempt::Ticket(_) => None,
        })
        .collect();
    let tickets: Vec<Credits> = attempts
        .iter()
        .filter_map(|attempt| match attempt {
            Attempt::Ticket(shortfall) => Some(*shortfall),
            Attempt::Held(_) => None,
        })
        .collect();
    assert_eq!(held.len(), 100, "balance 100 allows exactly 100 holds of 1");
    assert_eq!(tickets.len(), 100);
    assert!(
        tickets
            .iter()
            .all(|shortfall| *shortfall == credits(dec!(1)))
    );

    // Settle them all at once: half in full, half for a quarter.
    let mut tasks = JoinSet::new();
    for (index, id) in held.into_iter().enumerate() {
        let ledger = fx.ledger.clone();
        let actual = if index % 2 == 0 { dec!(1) } else { dec!(0.25) };
        tasks.spawn(async move { ledger.settle(&id, credits(actual), "gateway").await });
    }
    let settled: Decimal = tasks
        .join_all()
        .await
        .into_iter()
        .map(|settlement| settlement.unwrap().settled_amount.value())
        .sum();

    assert_eq!(settled, dec!(62.5));
    let wallets = assert_sound(&fx).await;
    let wallet = wallets.iter().find(|w| w.id == wallet.id).unwrap();
    assert_eq!(wallet.balance().value(), dec!(37.5));
    assert_eq!(wallet.granted.value(), dec!(0), "granted burns first");
    assert_eq!(consumed(&fx).await, settled);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_wallets_at_once_each_pay_exactly_their_balance() {
    const USERS: usize = 40;
    const TASKS_PER_USER: usize = 30;
    let fx = Fixture::new();
    let users: Vec<UserId> = (0..USERS)
        .map(|n| UserId::parse(&format!("user_{n}")).unwrap())
        .collect();
    for user in &users {
        fx.ledger
            .create_wallet(&fx.new_wallet(Owner::User(user.clone()), dec!(10), dec!(5)))
            .await
            .unwrap();
    }

    // Each task reserves 1 and settles it at once. A reserve fails only when all 15 credits
    // of its wallet are held or spent, and every hold is settled for 1: so exactly 15 pairs
    // succeed per wallet, however the tasks interleave.
    let mut tasks = JoinSet::new();
    for _round in 0..TASKS_PER_USER {
        for user in &users {
            let ledger = fx.ledger.clone();
            let request = request_for(&fx, Some(user.clone()), dec!(1));
            tasks.spawn(async move {
                match ledger.reserve(&request).await {
                    Ok(hold) => {
                        let settlement: Settlement = ledger
                            .settle(&hold.id, credits(dec!(1)), "gateway")
                            .await
                            .unwrap();
                        assert_eq!(settlement.settled_amount, credits(dec!(1)));
                        true
                    }
                    Err(LedgerError::InsufficientBalance { .. }) => false,
                    Err(other) => panic!("reserve failed: {other:?}"),
                }
            });
        }
    }
    let successes = tasks
        .join_all()
        .await
        .into_iter()
        .filter(|held| *held)
        .count();

    assert_eq!(successes, USERS * 15);
    let wallets = assert_sound(&fx).await;
    assert!(wallets.iter().all(|wallet| wallet.balance().is_zero()));
    assert_eq!(consumed(&fx).await, Decimal::from(USERS * 15));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn settles_above_the_hold_racing_each_other_never_overdraw() {
    let fx = Fixture::new();
    fx.ledger
        .create_wallet(&fx.new_wallet(Owner::User(fx.user.clone()), dec!(50), dec!(0)))
        .await
        .unwrap();

    // Every task asks for 3 after holding 1: the extra comes only from credits nobody holds.
    let mut tasks = JoinSet::new();
    for _ in 0..100 {
        let ledger = fx.ledger.clone();
        let request = request_for(&fx, Some(fx.user.clone()), dec!(1));
        tasks.spawn(async move {
            match ledger.reserve(&request).await {
                Ok(hold) => Some(
                    ledger
                        .settle(&hold.id, credits(dec!(3)), "gateway")
                        .await
                        .unwrap(),
                ),
                Err(LedgerError::InsufficientBalance { .. }) => None,
                Err(other) => panic!("reserve failed: {other:?}"),
            }
        });
    }
    let settlements: Vec<Settlement> = tasks.join_all().await.into_iter().flatten().collect();

    let charged: Decimal = settlements.iter().map(|s| s.settled_amount.value()).sum();
    let uncollected: Decimal = settlements
        .iter()
        .map(|s| s.uncollected_amount.value())
        .sum();
    assert_eq!(charged, dec!(50), "the wallet is drained, never overdrawn");
    assert_eq!(
        charged + uncollected,
        Decimal::from(settlements.len() * 3),
        "what was not charged is recorded as uncollected"
    );
    assert!(
        settlements
            .iter()
            .all(|s| s.settled_amount >= credits(dec!(1)))
    );
    let wallets = assert_sound(&fx).await;
    assert!(wallets[0].balance().is_zero());
    assert_eq!(consumed(&fx).await, dec!(50));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_reservation_raced_by_settles_and_releases_ends_exactly_once() {
    let fx = Fixture::new();
    fx.ledger
        .create_wallet(&fx.new_wallet(Owner::Organization(fx.org.clone()), dec!(20), dec!(0)))
        .await
        .unwrap();
    let hold = fx
        .ledger
        .reserve(&request_for(&fx, None, dec!(8)))
        .await
        .unwrap();

    let mut tasks = JoinSet::new();
    for n in 0..40 {
        let ledger = fx.ledger.clone();
        let id = hold.id.clone();
        tasks.spawn(async move {
            if n % 4 == 0 {
                ledger.release(&id, "gateway").await.map(|_| None)
            } else {
                ledger
                    .settle(&id, credits(dec!(5)), "gateway")
                    .await
                    .map(Some)
            }
        });
    }
    let outcomes = tasks.join_all().await;

    let settled: Vec<&Settlement> = outcomes
        .iter()
        .filter_map(|outcome| outcome.as_ref().ok().and_then(Option::as_ref))
        .collect();
    let released = outcomes
        .iter()
        .filter(|outcome| matches!(outcome, Ok(None)))
        .count();
    assert!(
        (settled.is_empty() && released == 10) || (!settled.is_empty() && released == 0),
        "one way of ending wins: {} settles, {released} releases",
        settled.len()
    );
    assert!(
        settled.iter().all(|s| **s == *settled[0]),
        "repeats answer the same"
    );
    let expected_consumed = if settled.is_empty() { dec!(0) } else { dec!(5) };
    assert_eq!(
        consumed(&fx).await,
        expected_consumed,
        "charged at most once"
    );
    assert_sound(&fx).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn allocations_and_reserves_racing_across_the_tree_conserve_credits() {
    let fx = Fixture::new();
    let org_wallet = fx
        .ledger
        .create_wallet(&fx.new_wallet(Owner::Organization(fx.org.clone()), dec!(100), dec!(20)))
        .await
        .unwrap();
    let user_wallet = fx
        .ledger
        .create_wallet(&fx.new_wallet(Owner::User(fx.user.clone()), dec!(0), dec!(0)))
        .await
        .unwrap();

    let mut tasks = JoinSet::new();
    for n in 0..120 {
        let ledger = fx.ledger.clone();
        let (from, to) = (org_wallet.id.clone(), user_wallet.id.clone());
        let request = request_for(&fx, Some(fx.user.clone()), dec!(2));
        tasks.spawn(async move {
            match n % 3 {
                0 => {
                    let _ = ledger.allocate(&from, &to, credits(dec!(3)), "admin").await;
                }
                1 => {
                    let _ = ledger
                        .reclaim(&to, &from, Some(credits(dec!(1))), "admin")
                        .await;
                }
                _ => {
                    if let Ok(hold) = ledger.reserve(&request).await {
                        ledger
                            .settle(&hold.id, credits(dec!(2)), "gateway")
                            .await
                            .unwrap();
                    }
                }
            }
        });
    }
    tasks.join_all().await;

    let wallets = assert_sound(&fx).await;
    let left: Decimal = wallets.iter().map(|w| w.balance().value()).sum();
    assert_eq!(
        left + consumed(&fx).await,
        dec!(120),
        "credits are only moved or consumed"
    );
}

/// Tenancy under load: a request of one organization never reaches another's wallet.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_organizations_never_spend_each_others_credits() {
    let fx = Arc::new(Fixture::new());
    let other = OrgId::parse("org_other").unwrap();
    let mut new = fx.new_wallet(Owner::Organization(other.clone()), dec!(5), dec!(0));
    new.org_id = other.clone();
    fx.ledger.create_wallet(&new).await.unwrap();
    fx.ledger
        .create_wallet(&fx.new_wallet(Owner::Organization(fx.org.clone()), dec!(5), dec!(0)))
        .await
        .unwrap();

    let mut tasks = JoinSet::new();
    for _ in 0..20 {
        let fx = fx.clone();
        tasks.spawn(async move {
            fx.ledger
                .reserve(&request_for(&fx, None, dec!(1)))
                .await
                .is_ok()
        });
    }
    let held = tasks.join_all().await.into_iter().filter(|ok| *ok).count();

    assert_eq!(held, 5, "only org_acme's 5 credits can be held");
    fx.assert_audit_clean().await;
}
