//! Contract cases of the ledger port: round trips, units of work, and the service's flows with
//! the audit after each movement.

use ledger_core::LedgerError;
use ledger_core::cost_ticket::CostTicketStatus;
use ledger_core::error::StoreError;
use ledger_core::id::{OrgId, TransactionId};
use ledger_core::journal::{Account, EntryKind, JournalTransaction, Posting};
use ledger_core::reservation::ReservationStatus;
use ledger_core::tenancy::WalletSettings;
use ledger_core::topup_rule::TopupRule;
use ledger_core::wallet::{FeeType, Owner, OwnerType, WalletStatus};
use rust_decimal::Decimal;
use time::Duration;

use super::Harness;
use super::fixtures::{credits, credits_str};

fn rules_fixture() -> Vec<TopupRule> {
    serde_json::from_value(serde_json::json!([
        {
            "id": "rule_monthly",
            "method": "FIXED",
            "trigger": "INTERVAL",
            "interval": "monthly",
            "granted_credits": "5.5",
            "started_at": "2026-01-01T00:00:00Z"
        },
        {
            "id": "rule_low",
            "method": "TARGET",
            "trigger": "THRESHOLD",
            "threshold_credits": "2",
            "target_ongoing_balance": "20.000000001"
        }
    ]))
    .expect("rules fixture")
}

/// Every field of a wallet survives the store, through reads and locks.
pub async fn wallet_round_trips_with_every_field(h: &Harness) {
    let mut wallet = h.raw_wallet(Owner::Team(h.team.clone()));
    wallet.name = Some("ML team — “prod”".to_owned());
    wallet.status = WalletStatus::Pending;
    wallet.rate_amount = credits_str("0.012345678").value();
    wallet.paid = credits_str("123456789012.123456789");
    wallet.granted = credits_str("0.000000001");
    wallet.held = credits_str("0.5");
    wallet.debt = credits(0);
    wallet.total_spent = credits(7);
    wallet.total_allocated = credits(3);
    wallet.expiration_at = Some(h.now() + Duration::days(30));
    wallet.activates_at = Some(h.now() + Duration::seconds(90));
    wallet.priority = -3;
    wallet.fee_types = vec![FeeType::Charge, FeeType::Subscription];
    wallet.rules = rules_fixture();

    h.insert_raw_wallet(&wallet).await;

    assert_eq!(h.stored_wallet(&wallet.id).await, wallet);
    let mut uow = h.store.ledger.begin().await.expect("begin");
    assert_eq!(
        uow.lock_wallet(&wallet.id).await.expect("lock"),
        Some(wallet.clone())
    );
    let mut changed = wallet.clone();
    changed.status = WalletStatus::Active;
    changed.name = None;
    changed.expiration_at = None;
    changed.rules.clear();
    changed.fee_types.clear();
    changed.updated_at = h.now() + Duration::seconds(1);
    uow.update_wallet(&changed).await.expect("update");
    uow.commit().await.expect("commit");
    assert_eq!(h.stored_wallet(&wallet.id).await, changed);
    assert_eq!(
        h.store
            .ledger
            .wallet(&h.raw_wallet(h.user_owner()).id)
            .await
            .expect("read"),
        None
    );
}

/// A second wallet with the same id is refused as a duplicate.
pub async fn inserting_a_wallet_twice_is_a_duplicate(h: &Harness) {
    let wallet = h.raw_wallet(h.user_owner());
    h.insert_raw_wallet(&wallet).await;

    let mut uow = h.store.ledger.begin().await.expect("begin");
    let outcome = uow.insert_wallet(&wallet).await;

    assert!(
        matches!(outcome, Err(StoreError::Duplicate(_))),
        "{outcome:?}"
    );
}

/// Dropping a unit without commit rolls every write back.
pub async fn a_dropped_unit_of_work_writes_nothing(h: &Harness) {
    let existing = h.create_wallet(h.user_owner(), 10, 0).await;
    let wallet = h.raw_wallet(Owner::Organization(h.org.clone()));
    let reservation = h.raw_reservation(&wallet, credits(1));
    let ticket = h.raw_ticket(credits(4));

    let mut uow = h.store.ledger.begin().await.expect("begin");
    uow.insert_wallet(&wallet).await.expect("insert wallet");
    uow.insert_reservation(&reservation)
        .await
        .expect("insert reservation");
    uow.insert_cost_ticket(&ticket)
        .await
        .expect("insert ticket");
    let mut locked = uow
        .lock_wallet(&existing.id)
        .await
        .expect("lock")
        .expect("exists");
    locked.paid = credits(1);
    uow.update_wallet(&locked).await.expect("update");
    uow.append_journal(transaction(h, "txn_dropped", Decimal::ONE, -Decimal::ONE))
        .await
        .expect("append");
    drop(uow);

    assert_eq!(h.store.ledger.wallet(&wallet.id).await.expect("read"), None);
    assert_eq!(
        h.store
            .ledger
            .reservation(&reservation.id)
            .await
            .expect("read"),
        None
    );
    assert_eq!(
        h.store.ledger.cost_ticket(&ticket.id).await.expect("read"),
        None
    );
    assert_eq!(h.stored_wallet(&existing.id).await, existing);
    h.assert_audit_clean().await;
    let mut uow = h.store.ledger.begin().await.expect("begin again");
    uow.insert_wallet(&wallet)
        .await
        .expect("the id is free again");
    uow.append_journal(transaction(h, "txn_dropped", Decimal::ONE, -Decimal::ONE))
        .await
        .expect("the transaction id is free again");
}

fn transaction(h: &Harness, id: &str, first: Decimal, second: Decimal) -> JournalTransaction {
    JournalTransaction {
        id: TransactionId::parse(id).expect("fixture id"),
        org_id: h.org.clone(),
        kind: EntryKind::Credit,
        reference_type: "admin".to_owned(),
        reference_id: "contract".to_owned(),
        principal: "contract".to_owned(),
        created_at: h.now(),
        postings: vec![
            Posting {
                account: Account::Consumption,
                amount: first,
            },
            Posting {
                account: Account::AdminAdjustments,
                amount: second,
            },
        ],
        wallet_lines: Vec::new(),
    }
}

/// What a committed unit wrote, the next unit reads and locks.
pub async fn a_committed_unit_of_work_is_visible_to_new_units(h: &Harness) {
    let wallet = h.create_wallet(h.user_owner(), 10, 0).await;

    let hold = h
        .ledger
        .reserve(&h.reserve_request(credits(4)))
        .await
        .expect("reserve");

    let mut uow = h.store.ledger.begin().await.expect("begin");
    let locked = uow
        .lock_wallet(&wallet.id)
        .await
        .expect("lock")
        .expect("exists");
    assert_eq!(locked.held, credits(4));
    let reservation = uow
        .lock_reservation(&hold.id)
        .await
        .expect("lock")
        .expect("exists");
    assert_eq!(reservation, hold);
}

/// A reservation survives the store and its updates.
pub async fn reservation_round_trips_and_updates(h: &Harness) {
    let wallet = h.raw_wallet(h.user_owner());
    h.insert_raw_wallet(&wallet).await;
    let mut reservation = h.raw_reservation(&wallet, credits_str("2.000000001"));
    reservation.team_id = Some(h.team.clone());
    reservation.metadata = Some(r#"{"model":"gpt","tokens":12}"#.to_owned());

    let mut uow = h.store.ledger.begin().await.expect("begin");
    uow.insert_reservation(&reservation).await.expect("insert");
    uow.commit().await.expect("commit");

    assert_eq!(
        h.store
            .ledger
            .reservation(&reservation.id)
            .await
            .expect("read"),
        Some(reservation.clone())
    );
    let mut uow = h.store.ledger.begin().await.expect("begin");
    let mut locked = uow
        .lock_reservation(&reservation.id)
        .await
        .expect("lock")
        .expect("exists");
    assert_eq!(locked, reservation);
    locked.status = ReservationStatus::Settled;
    locked.settled_amount = Some(credits(2));
    locked.requested_amount = Some(credits(2));
    locked.uncollected_amount = Some(credits(0));
    locked.released_amount = Some(credits_str("0.000000001"));
    locked.end_reason = Some("settled".to_owned());
    locked.wallet_balance_after = Some(credits(8));
    locked.ended_at = Some(h.now() + Duration::seconds(5));
    uow.update_reservation(&locked).await.expect("update");
    uow.commit().await.expect("commit");
    assert_eq!(
        h.store
            .ledger
            .reservation(&reservation.id)
            .await
            .expect("read"),
        Some(locked)
    );
}

/// A cost ticket survives the store and its updates.
pub async fn cost_ticket_round_trips_and_updates(h: &Harness) {
    let mut ticket = h.raw_ticket(credits_str("12.25"));
    ticket.reservation_ttl_seconds = Some(120);
    ticket.metadata = Some("{}".to_owned());
    ticket.team_id = None;

    let mut uow = h.store.ledger.begin().await.expect("begin");
    uow.insert_cost_ticket(&ticket).await.expect("insert");
    uow.commit().await.expect("commit");

    assert_eq!(
        h.store.ledger.cost_ticket(&ticket.id).await.expect("read"),
        Some(ticket.clone())
    );
    let mut uow = h.store.ledger.begin().await.expect("begin");
    let mut locked = uow
        .lock_cost_ticket(&ticket.id)
        .await
        .expect("lock")
        .expect("exists");
    assert_eq!(locked, ticket);
    locked.update_best_available(credits(2));
    locked.status = CostTicketStatus::Resolved;
    locked.resolved_at = Some(h.now());
    uow.update_cost_ticket(&locked).await.expect("update");
    uow.commit().await.expect("commit");
    assert_eq!(
        h.store.ledger.cost_ticket(&ticket.id).await.expect("read"),
        Some(locked)
    );
}

/// A journal transaction id is used once.
pub async fn appending_a_transaction_twice_is_a_duplicate(h: &Harness) {
    let mut uow = h.store.ledger.begin().await.expect("begin");
    uow.append_journal(transaction(h, "txn_once", Decimal::ONE, -Decimal::ONE))
        .await
        .expect("append");
    uow.commit().await.expect("commit");

    let mut uow = h.store.ledger.begin().await.expect("begin");
    let outcome = uow
        .append_journal(transaction(h, "txn_once", Decimal::TWO, -Decimal::TWO))
        .await;

    assert!(
        matches!(outcome, Err(StoreError::Duplicate(_))),
        "{outcome:?}"
    );
    drop(uow);
    h.assert_audit_clean().await;
}

/// Reservation and cost ticket ids are used once.
pub async fn inserting_a_reservation_or_ticket_twice_is_a_duplicate(h: &Harness) {
    let wallet = h.raw_wallet(h.user_owner());
    h.insert_raw_wallet(&wallet).await;
    let reservation = h.raw_reservation(&wallet, credits(1));
    let ticket = h.raw_ticket(credits(1));
    let mut uow = h.store.ledger.begin().await.expect("begin");
    uow.insert_reservation(&reservation).await.expect("insert");
    uow.insert_cost_ticket(&ticket).await.expect("insert");
    uow.commit().await.expect("commit");

    let mut uow = h.store.ledger.begin().await.expect("begin");
    let reservation_again = uow.insert_reservation(&reservation).await;
    drop(uow);
    let mut uow = h.store.ledger.begin().await.expect("begin");
    let ticket_again = uow.insert_cost_ticket(&ticket).await;

    assert!(
        matches!(reservation_again, Err(StoreError::Duplicate(_))),
        "{reservation_again:?}"
    );
    assert!(
        matches!(ticket_again, Err(StoreError::Duplicate(_))),
        "{ticket_again:?}"
    );
}

/// The hold cycle through the service, audited after every step.
pub async fn reserve_settle_and_release_keep_every_invariant(h: &Harness) {
    let wallet = h.create_wallet(h.user_owner(), 10, 3).await;
    h.assert_audit_clean().await;

    let first = h
        .ledger
        .reserve(&h.reserve_request(credits(4)))
        .await
        .expect("reserve");
    h.assert_audit_clean().await;
    let settlement = h
        .ledger
        .settle(&first.id, credits(5), "gateway")
        .await
        .expect("settle");
    h.assert_audit_clean().await;
    let second = h
        .ledger
        .reserve(&h.reserve_request(credits(2)))
        .await
        .expect("reserve");
    let released = h
        .ledger
        .release(&second.id, "gateway")
        .await
        .expect("release");
    h.assert_audit_clean().await;
    let refused = h.ledger.reserve(&h.reserve_request(credits(9))).await;
    h.assert_audit_clean().await;

    assert_eq!(settlement.settled_amount, credits(5));
    assert_eq!(settlement.uncollected_amount, credits(0));
    assert_eq!(released.status, ReservationStatus::Released);
    let stored = h.stored_wallet(&wallet.id).await;
    assert_eq!(stored.granted, credits(0), "granted burns first");
    assert_eq!(stored.paid, credits(8));
    assert_eq!(stored.held, credits(0));
    assert_eq!(stored.total_spent, credits(5));
    let Err(LedgerError::InsufficientBalance { ticket }) = refused else {
        panic!("expected a cost ticket, got {refused:?}");
    };
    assert_eq!(
        h.store.ledger.cost_ticket(&ticket.id).await.expect("read"),
        Some(*ticket)
    );
}

/// A settle is answered again, not applied again.
pub async fn settle_again_with_the_same_amount_answers_the_same_settlement(h: &Harness) {
    h.create_wallet(h.user_owner(), 10, 0).await;
    let hold = h
        .ledger
        .reserve(&h.reserve_request(credits(4)))
        .await
        .expect("reserve");

    let first = h
        .ledger
        .settle(&hold.id, credits(3), "gateway")
        .await
        .expect("settle");
    let again = h
        .ledger
        .settle(&hold.id, credits(3), "gateway")
        .await
        .expect("settle again");
    let other = h.ledger.settle(&hold.id, credits(2), "gateway").await;

    assert_eq!(first, again);
    assert!(
        matches!(other, Err(LedgerError::Conflict { .. })),
        "{other:?}"
    );
    h.assert_audit_clean().await;
}

/// One-step charges and admin movements.
pub async fn charge_and_debit_and_credit_keep_every_invariant(h: &Harness) {
    let wallet = h.create_wallet(h.user_owner(), 10, 2).await;

    h.ledger
        .charge(&ledger_core::service::ChargeRequest {
            owner: h.user_owner(),
            org_id: h.org.clone(),
            amount: credits(3),
            currency: h.usd,
            fee_type: FeeType::Subscription,
            principal: "contract".to_owned(),
        })
        .await
        .expect("charge");
    h.assert_audit_clean().await;
    h.ledger
        .debit(&wallet.id, credits(1), credits(0), "contract")
        .await
        .expect("debit");
    h.assert_audit_clean().await;
    h.ledger
        .credit(&wallet.id, credits(5), credits(1), "contract")
        .await
        .expect("credit");
    h.assert_audit_clean().await;

    let stored = h.stored_wallet(&wallet.id).await;
    assert_eq!(stored.granted, credits(1));
    assert_eq!(stored.paid, credits(13));
}

/// Allocation and reclaim lock two wallets in one unit.
pub async fn allocate_and_reclaim_lock_two_wallets_and_keep_every_invariant(h: &Harness) {
    let org_wallet = h
        .create_wallet(Owner::Organization(h.org.clone()), 100, 0)
        .await;
    let team_wallet = h.create_wallet(Owner::Team(h.team.clone()), 0, 0).await;

    let allocated = h
        .ledger
        .allocate(&org_wallet.id, &team_wallet.id, credits(30), "contract")
        .await
        .expect("allocate");
    h.assert_audit_clean().await;
    let reclaimed = h
        .ledger
        .reclaim(
            &team_wallet.id,
            &org_wallet.id,
            Some(credits(10)),
            "contract",
        )
        .await
        .expect("reclaim");
    h.assert_audit_clean().await;

    assert_eq!(allocated.to_wallet.paid, credits(30));
    assert_eq!(reclaimed.from_wallet.paid, credits(20));
    assert_eq!(h.stored_wallet(&org_wallet.id).await.paid, credits(80));
    assert_eq!(
        h.stored_wallet(&team_wallet.id).await,
        reclaimed.from_wallet
    );
}

/// Termination releases the wallet's holds (held_reservations + lock_reservation) and forfeits.
pub async fn terminate_releases_held_reservations_and_forfeits(h: &Harness) {
    let wallet = h.create_wallet(h.user_owner(), 10, 0).await;
    let first = h
        .ledger
        .reserve(&h.reserve_request(credits(2)))
        .await
        .expect("reserve");
    let second = h
        .ledger
        .reserve(&h.reserve_request(credits(3)))
        .await
        .expect("reserve");

    let terminated = h
        .ledger
        .terminate(&wallet.id, "contract")
        .await
        .expect("terminate");

    assert_eq!(terminated.status, WalletStatus::Terminated);
    assert_eq!(h.stored_wallet(&wallet.id).await, terminated);
    for hold in [first, second] {
        let stored = h
            .store
            .ledger
            .reservation(&hold.id)
            .await
            .expect("read")
            .expect("exists");
        assert_ne!(stored.status, ReservationStatus::Held);
    }
    assert_eq!(terminated.held, credits(0));
    h.assert_audit_clean().await;
}

/// A ticket is redeemed (lock_cost_ticket) once credits arrive.
pub async fn redeem_resolves_a_ticket_after_a_top_up(h: &Harness) {
    let wallet = h.create_wallet(h.user_owner(), 1, 0).await;
    let refused = h.ledger.reserve(&h.reserve_request(credits(5))).await;
    let Err(LedgerError::InsufficientBalance { ticket }) = refused else {
        panic!("expected a cost ticket, got {refused:?}");
    };
    assert_eq!(ticket.shortfall_amount, credits(4));
    h.ledger
        .credit(&wallet.id, credits(10), credits(0), "contract")
        .await
        .expect("top up");

    let reservation = h
        .ledger
        .redeem(&ticket.id, None, "gateway")
        .await
        .expect("redeem");

    let stored = h
        .store
        .ledger
        .cost_ticket(&ticket.id)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(stored.status, CostTicketStatus::Resolved);
    assert_eq!(stored.reservation_id, Some(reservation.id));
    h.assert_audit_clean().await;
}

/// The sweeper's work through due_work and units of work.
pub async fn sweep_expires_holds_tickets_and_wallets_and_activates_pending_ones(h: &Harness) {
    let wallet = h.create_wallet(h.user_owner(), 5, 0).await;
    let hold = h
        .ledger
        .reserve(&h.reserve_request(credits(2)))
        .await
        .expect("reserve");
    let refused = h.ledger.reserve(&h.reserve_request(credits(50))).await;
    let Err(LedgerError::InsufficientBalance { ticket }) = refused else {
        panic!("expected a cost ticket, got {refused:?}");
    };
    let mut pending = h.new_wallet(Owner::Team(h.team.clone()), 1, 0);
    pending.activates_at = Some(h.now() + Duration::minutes(5));
    let pending = h.ledger.create_wallet(&pending).await.expect("create");
    let mut expiring = h.new_wallet(Owner::Organization(h.org.clone()), 0, 4);
    expiring.expiration_at = Some(h.now() + Duration::minutes(10));
    let expiring = h.ledger.create_wallet(&expiring).await.expect("create");

    h.clock.advance(Duration::hours(2));
    let report = h.ledger.sweep().await.expect("sweep");

    assert_eq!(report.reservations_expired, 1);
    assert_eq!(report.wallets_activated, 1);
    assert_eq!(report.wallets_expired, 1);
    assert_eq!(report.cost_tickets_expired, 1);
    let hold = h.store.ledger.reservation(&hold.id).await.expect("read");
    assert_eq!(hold.map(|r| r.status), Some(ReservationStatus::Expired));
    let ticket = h.store.ledger.cost_ticket(&ticket.id).await.expect("read");
    assert_eq!(ticket.map(|t| t.status), Some(CostTicketStatus::Expired));
    assert_eq!(
        h.stored_wallet(&pending.id).await.status,
        WalletStatus::Active
    );
    assert_eq!(
        h.stored_wallet(&expiring.id).await.status,
        WalletStatus::Terminated
    );
    assert_eq!(h.stored_wallet(&wallet.id).await.held, credits(0));
    assert!(
        h.store
            .ledger
            .due_work(h.now(), 10)
            .await
            .expect("due")
            .expired_reservations
            .is_empty()
    );
    h.assert_audit_clean().await;
}

/// The audit names the wallet whose balances disagree with its journal and holds, and a
/// terminated wallet that still holds credits.
pub async fn audit_reports_projection_and_hold_breaches_with_ids(h: &Harness) {
    let mut wallet = h.raw_wallet(h.user_owner());
    wallet.paid = credits(5);
    h.insert_raw_wallet(&wallet).await;
    let mut terminated = h.raw_wallet(h.user_owner());
    terminated.status = WalletStatus::Terminated;
    terminated.granted = credits(3);
    h.insert_raw_wallet(&terminated).await;
    let reservation = h.raw_reservation(&wallet, credits(2));
    let mut uow = h.store.ledger.begin().await.expect("begin");
    uow.insert_reservation(&reservation).await.expect("insert");
    uow.commit().await.expect("commit");

    let report = h.ledger.audit().await.expect("audit");

    let subject = wallet.id.to_string();
    assert!(
        report
            .breaches
            .iter()
            .any(|b| b.invariant == "projection" && b.subject == subject),
        "{report:#?}"
    );
    assert!(
        report
            .breaches
            .iter()
            .any(|b| b.invariant == "holds" && b.subject == subject),
        "{report:#?}"
    );
    let terminated_breaches: Vec<_> = report
        .breaches
        .iter()
        .filter(|b| b.invariant == "terminated")
        .map(|b| b.subject.clone())
        .collect();
    assert_eq!(terminated_breaches, vec![terminated.id.to_string()]);
    assert_eq!(report.wallets_checked, 2);
}

/// The audit names each transaction whose postings do not sum to zero, and only those, with
/// balanced transactions before, between and after them (a store that sums postings as it
/// reads them must not carry one transaction's sum into the next).
pub async fn audit_reports_an_unbalanced_transaction(h: &Harness) {
    let mut uow = h.store.ledger.begin().await.expect("begin");
    for (id, first, second) in [
        ("txn_a", Decimal::TWO, -Decimal::TWO),
        ("txn_bad", Decimal::TWO, -Decimal::ONE),
        ("txn_c", Decimal::ONE, -Decimal::ONE),
        ("txn_d", Decimal::TEN, -Decimal::TEN),
        ("txn_worse", -Decimal::TEN, Decimal::ONE),
        ("txn_z", Decimal::ONE, -Decimal::ONE),
    ] {
        uow.append_journal(transaction(h, id, first, second))
            .await
            .expect("append");
    }
    uow.commit().await.expect("commit");

    let snapshot = h.store.ledger.audit_snapshot().await.expect("snapshot");
    let report = ledger_core::service::audit::check(&snapshot);

    let mut unbalanced = snapshot.unbalanced_transactions;
    unbalanced.sort();
    assert_eq!(
        unbalanced,
        vec![
            (TransactionId::parse("txn_bad").expect("id"), Decimal::ONE),
            (
                TransactionId::parse("txn_worse").expect("id"),
                Decimal::from(-9)
            ),
        ]
    );
    assert!(
        report
            .breaches
            .iter()
            .any(|b| b.invariant == "conservation" && b.subject == "txn_bad"),
        "{report:#?}"
    );
    assert!(
        report
            .breaches
            .iter()
            .any(|b| b.invariant == "conservation" && b.subject == "journal"),
        "{report:#?}"
    );
}

/// A unit reads the settings the directory stored (and defaults when none).
pub async fn unit_wallet_settings_read_what_the_directory_stored(h: &Harness) {
    let settings = WalletSettings {
        cascade_order: vec![OwnerType::Organization, OwnerType::User],
        low_balance_threshold: credits_str("2.5"),
        cost_ticket_ttl_seconds: 60,
        default_reservation_ttl_seconds: 30,
    };
    h.store
        .directory
        .put_wallet_settings(&h.org, &settings)
        .await
        .expect("store settings");

    let mut uow = h.store.ledger.begin().await.expect("begin");
    let read = uow.wallet_settings(&h.org).await.expect("read");
    let other = uow
        .wallet_settings(&OrgId::parse("org_other").expect("id"))
        .await
        .expect("read");

    assert_eq!(read, settings);
    assert_eq!(other, WalletSettings::default());
}

/// Only the wallet's open holds, ordered by id.
pub async fn held_reservations_lists_only_open_holds_of_the_wallet(h: &Harness) {
    let wallet = h.create_wallet(h.user_owner(), 10, 0).await;
    let other = h.create_wallet(Owner::Team(h.team.clone()), 10, 0).await;
    let first = h
        .ledger
        .reserve(&h.reserve_request(credits(1)))
        .await
        .expect("reserve");
    let settled = h
        .ledger
        .reserve(&h.reserve_request(credits(1)))
        .await
        .expect("reserve");
    h.ledger
        .settle(&settled.id, credits(1), "gateway")
        .await
        .expect("settle");
    let third = h
        .ledger
        .reserve(&h.reserve_request(credits(1)))
        .await
        .expect("reserve");

    let mut uow = h.store.ledger.begin().await.expect("begin");
    uow.lock_wallet(&wallet.id).await.expect("lock");
    let held = uow.held_reservations(&wallet.id).await.expect("held");
    let none = uow.held_reservations(&other.id).await.expect("held");

    let mut expected = vec![first.id, third.id];
    expected.sort();
    assert_eq!(held.into_iter().map(|r| r.id).collect::<Vec<_>>(), expected);
    assert!(none.is_empty());
}
