//! The model-based property test: random operation sequences run against the real `Ledger`
//! on the memory store and against the reference model of `model.rs`. After every step the
//! invariants 1–5 of `domain.md` are checked (the audit, plus direct checks that do not go
//! through the audit code) and the service must agree with the model on every outcome and
//! every balance.
//!
//! `PROPTEST_CASES` raises (or lowers) the number of cases; 256 when unset. Failing cases are
//! saved in `proptest-regressions/it/invariants.txt` and replayed first.

use std::collections::HashMap;
use std::sync::Arc;

use ledger_core::Ledger;
use ledger_core::LedgerError;
use ledger_core::cascade::CascadeScope;
use ledger_core::cost_ticket::CostTicketStatus;
use ledger_core::id::{OrgId, ReservationId, TeamId, UserId, WalletId};
use ledger_core::journal::{Account, EntryKind, WalletPool};
use ledger_core::money::{Credits, Currency};
use ledger_core::ports::{Clock, PageRequest, WalletLineFilter};
use ledger_core::reservation::{Reservation, ReservationStatus};
use ledger_core::service::{NewWallet, ReserveRequest};
use ledger_core::wallet::{FeeType, Owner};
use proptest::prelude::*;
use proptest::sample::Index;
use rust_decimal::{Decimal, RoundingStrategy};
use store_memory::MemoryStore;
use testkit::{CounterIds, ManualClock};
use time::Duration;

use crate::model::{HoldSpec, Model, Outcome, Scope, SweepCounts, TicketStatus, WalletSpec};

const ORG: &str = "org_acme";
const USERS: [&str; 2] = ["user_ada", "user_bob"];
const TEAMS: [&str; 2] = ["team_ml", "team_ops"];

/// How a settle's actual amount relates to the hold.
#[derive(Debug, Clone)]
enum Actual {
    Zero,
    /// This percentage of the hold (1–99).
    Below(u8),
    Equal,
    /// The hold plus this much.
    Above(Decimal),
}

#[derive(Debug, Clone)]
enum Op {
    CreateWallet {
        /// 0–1 users, 2–3 teams, 4 the organization.
        owner: u8,
        eur: bool,
        paid: Decimal,
        granted: Decimal,
        priority: i32,
        expires_in_seconds: Option<i64>,
        activates_in_seconds: Option<i64>,
        /// 0 all, 1 charge only, 2 subscription only.
        fee_types: u8,
    },
    Credit {
        wallet: Index,
        paid: Decimal,
        granted: Decimal,
    },
    Debit {
        wallet: Index,
        paid: Decimal,
        granted: Decimal,
    },
    Allocate {
        from: Index,
        to: Index,
        amount: Decimal,
    },
    Reclaim {
        from: Index,
        to: Index,
        amount: Option<Decimal>,
    },
    Reserve {
        user: Option<u8>,
        team: Option<u8>,
        amount: Decimal,
        eur: bool,
        subscription: bool,
        ttl_seconds: Option<i64>,
    },
    Settle {
        reservation: Index,
        actual: Actual,
    },
    Release {
        reservation: Index,
    },
    Redeem {
        ticket: Index,
    },
    AdvanceAndSweep {
        seconds: i64,
    },
    Terminate {
        wallet: Index,
    },
    Activate {
        wallet: Index,
    },
}

/// Credit amounts: whole numbers, cents, and nine-decimal fractions; zero now and then.
fn amount() -> impl Strategy<Value = Decimal> {
    prop_oneof![
        3 => (0_i64..=40).prop_map(Decimal::from),
        2 => (0_i64..=4_000).prop_map(|cents| Decimal::new(cents, 2)),
        1 => (1_i64..=20_000_000_000).prop_map(|nanos| Decimal::new(nanos, 9)),
    ]
}

fn create_wallet() -> impl Strategy<Value = Op> {
    (
        0_u8..5,
        prop::bool::weighted(0.15),
        amount(),
        amount(),
        0_i32..3,
        prop::option::weighted(0.3, prop::sample::select(vec![600_i64, 7_200, 172_800])),
        prop::option::weighted(0.25, prop::sample::select(vec![0_i64, 60, 3_600])),
        prop::sample::select(vec![0_u8, 0, 0, 1, 2]),
    )
        .prop_map(
            |(owner, eur, paid, granted, priority, expires, activates, fee_types)| {
                Op::CreateWallet {
                    owner,
                    eur,
                    paid,
                    granted,
                    priority,
                    expires_in_seconds: expires,
                    activates_in_seconds: activates,
                    fee_types,
                }
            },
        )
}

fn actual() -> impl Strategy<Value = Actual> {
    prop_oneof![
        1 => Just(Actual::Zero),
        3 => (1_u8..100).prop_map(Actual::Below),
        3 => Just(Actual::Equal),
        3 => amount().prop_filter("above means above", |extra| !extra.is_zero()).prop_map(Actual::Above),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    // A TTL of 0 is out of range: a rare refused reserve.
    let ttl = prop::option::weighted(
        0.6,
        prop_oneof![
            1 => Just(0_i64),
            12 => prop::sample::select(vec![30_i64, 600, 600, 86_400]),
        ],
    );
    prop_oneof![
        3 => create_wallet(),
        2 => (any::<Index>(), amount(), amount())
            .prop_map(|(wallet, paid, granted)| Op::Credit { wallet, paid, granted }),
        1 => (any::<Index>(), amount(), amount())
            .prop_map(|(wallet, paid, granted)| Op::Debit { wallet, paid, granted }),
        3 => (any::<Index>(), any::<Index>(), amount())
            .prop_map(|(from, to, amount)| Op::Allocate { from, to, amount }),
        1 => (any::<Index>(), any::<Index>(), prop::option::of(amount()))
            .prop_map(|(from, to, amount)| Op::Reclaim { from, to, amount }),
        8 => (
            prop::option::weighted(0.9, 0_u8..2),
            prop::option::weighted(0.6, 0_u8..2),
            amount(),
            prop::bool::weighted(0.1),
            prop::bool::weighted(0.15),
            ttl,
        )
            .prop_map(|(user, team, amount, eur, subscription, ttl_seconds)| Op::Reserve {
                user,
                team,
                amount,
                eur,
                subscription,
                ttl_seconds,
            }),
        6 => (any::<Index>(), actual())
            .prop_map(|(reservation, actual)| Op::Settle { reservation, actual }),
        2 => any::<Index>().prop_map(|reservation| Op::Release { reservation }),
        2 => any::<Index>().prop_map(|ticket| Op::Redeem { ticket }),
        2 => prop::sample::select(vec![20_i64, 200, 400, 4_000, 90_000])
            .prop_map(|seconds| Op::AdvanceAndSweep { seconds }),
        1 => any::<Index>().prop_map(|wallet| Op::Terminate { wallet }),
        1 => any::<Index>().prop_map(|wallet| Op::Activate { wallet }),
    ]
}

/// A few wallets first, so that most sequences have something to spend.
fn sequence() -> impl Strategy<Value = Vec<Op>> {
    (
        prop::collection::vec(create_wallet(), 1..5),
        prop::collection::vec(op(), 1..40),
    )
        .prop_map(|(mut wallets, ops)| {
            wallets.extend(ops);
            wallets
        })
}

fn config() -> ProptestConfig {
    testkit::props::config("proptest-regressions/it/invariants.txt", 4_096)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn the_ledger_agrees_with_the_model_and_keeps_every_invariant(ops in sequence()) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a current-thread runtime builds");
        runtime.block_on(run(ops));
    }
}

struct World {
    ledger: Ledger,
    clock: Arc<ManualClock>,
    model: Model,
    usd: Currency,
    eur: Currency,
    /// Each reservation as first seen ended: it must never change again.
    ended: HashMap<ReservationId, Reservation>,
}

async fn run(ops: Vec<Op>) {
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(ManualClock::default());
    let ledger = Ledger::new(
        store.clone(),
        clock.clone(),
        Arc::new(CounterIds::default()),
    );
    let mut world = World {
        ledger,
        model: Model::new(clock.now()),
        clock,
        usd: Currency::parse("USD").unwrap(),
        eur: Currency::parse("EUR").unwrap(),
        ended: HashMap::new(),
    };
    for (step, op) in ops.iter().enumerate() {
        world.apply(op).await;
        world.check(step, op).await;
    }
    world.check_journal_lines().await;
}

fn owner(index: u8) -> Owner {
    match index {
        0 | 1 => Owner::User(UserId::parse(USERS[usize::from(index)]).unwrap()),
        2 | 3 => Owner::Team(TeamId::parse(TEAMS[usize::from(index - 2)]).unwrap()),
        _ => Owner::Organization(org()),
    }
}

fn org() -> OrgId {
    OrgId::parse(ORG).unwrap()
}

fn credits(value: Decimal) -> Credits {
    Credits::try_new(value).unwrap()
}

/// The outcome of a refused operation; infrastructure errors fail the test.
fn refused(error: &LedgerError) -> Outcome {
    match error {
        LedgerError::InsufficientBalance { ticket } => Outcome::Ticket {
            best: ticket.best_available_amount.value(),
            shortfall: ticket.shortfall_amount.value(),
        },
        LedgerError::InsufficientFunds { .. } => Outcome::InsufficientFunds,
        LedgerError::Invalid(_) => Outcome::Invalid,
        LedgerError::Conflict { .. } => Outcome::Conflict,
        LedgerError::InvalidTransition { .. } => Outcome::InvalidTransition,
        other => panic!("unexpected failure: {other:?}"),
    }
}

fn done<T>(result: &Result<T, LedgerError>) -> Outcome {
    match result {
        Ok(_) => Outcome::Done,
        Err(error) => refused(error),
    }
}

impl World {
    fn currency(&self, eur: bool) -> Currency {
        if eur { self.eur } else { self.usd }
    }

    fn pick(index: &Index, len: usize) -> Option<usize> {
        (len > 0).then(|| index.index(len))
    }

    async fn apply(&mut self, op: &Op) {
        let ledger = self.ledger.clone();
        let (expected, actual) = match op {
            Op::CreateWallet {
                owner: owner_index,
                eur,
                paid,
                granted,
                priority,
                expires_in_seconds,
                activates_in_seconds,
                fee_types,
            } => {
                let now = self.clock.now();
                let spec = WalletSpec {
                    owner: owner(*owner_index),
                    currency: self.currency(*eur),
                    paid: *paid,
                    granted: *granted,
                    priority: *priority,
                    expiration_at: expires_in_seconds.map(|s| now + Duration::seconds(s)),
                    activates_at: activates_in_seconds.map(|s| now + Duration::seconds(s)),
                    fee_types: match fee_types {
                        0 => Vec::new(),
                        1 => vec![FeeType::Charge],
                        _ => vec![FeeType::Subscription],
                    },
                };
                let result = ledger
                    .create_wallet(&NewWallet {
                        org_id: org(),
                        owner: spec.owner.clone(),
                        name: None,
                        currency: spec.currency,
                        rate_amount: Decimal::ONE,
                        paid: credits(spec.paid),
                        granted: credits(spec.granted),
                        expiration_at: spec.expiration_at,
                        activates_at: spec.activates_at,
                        priority: spec.priority,
                        fee_types: spec.fee_types.clone(),
                        rules: Vec::new(),
                        principal: "admin".to_owned(),
                    })
                    .await;
                let id = result.as_ref().ok().map(|wallet| wallet.id.clone());
                (self.model.create_wallet(&spec, id), done(&result))
            }
            Op::Credit {
                wallet,
                paid,
                granted,
            } => {
                let Some(wallet) = Self::pick(wallet, self.model.wallets.len()) else {
                    return;
                };
                let id = self.model.wallets[wallet].id.clone();
                let result = ledger
                    .credit(&id, credits(*paid), credits(*granted), "admin")
                    .await;
                (self.model.credit(wallet, *paid, *granted), done(&result))
            }
            Op::Debit {
                wallet,
                paid,
                granted,
            } => {
                let Some(wallet) = Self::pick(wallet, self.model.wallets.len()) else {
                    return;
                };
                let id = self.model.wallets[wallet].id.clone();
                let result = ledger
                    .debit(&id, credits(*paid), credits(*granted), "admin")
                    .await;
                (self.model.debit(wallet, *paid, *granted), done(&result))
            }
            Op::Allocate { from, to, amount } => {
                let count = self.model.wallets.len();
                let (Some(from), Some(to)) = (Self::pick(from, count), Self::pick(to, count))
                else {
                    return;
                };
                let (from_id, to_id) = (
                    self.model.wallets[from].id.clone(),
                    self.model.wallets[to].id.clone(),
                );
                let result = ledger
                    .allocate(&from_id, &to_id, credits(*amount), "admin")
                    .await;
                (
                    self.model.transfer(from, to, Some(*amount), true),
                    done(&result),
                )
            }
            Op::Reclaim { from, to, amount } => {
                let count = self.model.wallets.len();
                let (Some(from), Some(to)) = (Self::pick(from, count), Self::pick(to, count))
                else {
                    return;
                };
                let (from_id, to_id) = (
                    self.model.wallets[from].id.clone(),
                    self.model.wallets[to].id.clone(),
                );
                let result = ledger
                    .reclaim(&from_id, &to_id, amount.map(credits), "admin")
                    .await;
                (self.model.transfer(from, to, *amount, false), done(&result))
            }
            Op::Reserve {
                user,
                team,
                amount,
                eur,
                subscription,
                ttl_seconds,
            } => {
                let spec = HoldSpec {
                    scope: Scope {
                        user: user.map(owner),
                        team: team.map(|team| owner(team + 2)),
                        org: Owner::Organization(org()),
                    },
                    amount: *amount,
                    currency: self.currency(*eur),
                    fee_type: if *subscription {
                        FeeType::Subscription
                    } else {
                        FeeType::Charge
                    },
                    ttl_seconds: *ttl_seconds,
                };
                let request = ReserveRequest {
                    scope: CascadeScope {
                        org_id: org(),
                        user_id: user.map(|user| UserId::parse(USERS[usize::from(user)]).unwrap()),
                        team_id: team.map(|team| TeamId::parse(TEAMS[usize::from(team)]).unwrap()),
                    },
                    amount: credits(*amount),
                    currency: spec.currency,
                    fee_type: spec.fee_type,
                    ttl_seconds: *ttl_seconds,
                    metadata: None,
                    principal: "gateway".to_owned(),
                };
                let result = ledger.reserve(&request).await;
                let (reservation_id, ticket_id, actual) = match &result {
                    Ok(reservation) => (
                        Some(reservation.id.clone()),
                        None,
                        Outcome::Held {
                            wallet_id: reservation.wallet_id.clone(),
                        },
                    ),
                    Err(error) => {
                        let ticket_id = match error {
                            LedgerError::InsufficientBalance { ticket } => Some(ticket.id.clone()),
                            _ => None,
                        };
                        (None, ticket_id, refused(error))
                    }
                };
                (self.model.reserve(&spec, reservation_id, ticket_id), actual)
            }
            Op::Settle {
                reservation,
                actual,
            } => {
                let Some(reservation) = Self::pick(reservation, self.model.reservations.len())
                else {
                    return;
                };
                let hold = &self.model.reservations[reservation];
                let amount = match actual {
                    Actual::Zero => Decimal::ZERO,
                    Actual::Below(percent) => (hold.amount * Decimal::from(*percent)
                        / Decimal::ONE_HUNDRED)
                        .round_dp_with_strategy(9, RoundingStrategy::ToZero),
                    Actual::Equal => hold.amount,
                    Actual::Above(extra) => hold.amount + extra,
                };
                let id = hold.id.clone();
                let result = ledger.settle(&id, credits(amount), "gateway").await;
                let actual = match &result {
                    Ok(settlement) => {
                        assert_eq!(settlement.status, ReservationStatus::Settled);
                        Outcome::Settled {
                            settled: settlement.settled_amount.value(),
                            released: settlement.released_amount.value(),
                            uncollected: settlement.uncollected_amount.value(),
                            balance_after: settlement.wallet_balance_after.value(),
                        }
                    }
                    Err(error) => refused(error),
                };
                (self.model.settle(reservation, amount), actual)
            }
            Op::Release { reservation } => {
                let Some(reservation) = Self::pick(reservation, self.model.reservations.len())
                else {
                    return;
                };
                let id = self.model.reservations[reservation].id.clone();
                let result = ledger.release(&id, "gateway").await;
                if let Ok(released) = &result {
                    assert!(
                        matches!(
                            released.status,
                            ReservationStatus::Released | ReservationStatus::Expired
                        ),
                        "release answers a released or expired reservation, got {}",
                        released.status
                    );
                }
                (self.model.release(reservation), done(&result))
            }
            Op::Redeem { ticket } => {
                let Some(ticket) = Self::pick(ticket, self.model.tickets.len()) else {
                    return;
                };
                let id = self.model.tickets[ticket].id.clone();
                let result = ledger.redeem(&id, None, "gateway").await;
                let (reservation_id, actual) = match &result {
                    Ok(reservation) => {
                        let known = self
                            .model
                            .reservations
                            .iter()
                            .any(|known| known.id == reservation.id);
                        let actual = if known {
                            Outcome::Redeemed {
                                reservation_id: reservation.id.clone(),
                            }
                        } else {
                            Outcome::Held {
                                wallet_id: reservation.wallet_id.clone(),
                            }
                        };
                        (Some(reservation.id.clone()), actual)
                    }
                    Err(error) => (None, refused(error)),
                };
                (self.model.redeem(ticket, reservation_id), actual)
            }
            Op::AdvanceAndSweep { seconds } => {
                self.clock.advance(Duration::seconds(*seconds));
                let report = ledger.sweep().await.expect("the sweep runs");
                let expected = self.model.advance_and_sweep(Duration::seconds(*seconds));
                let actual = SweepCounts {
                    reservations_expired: report.reservations_expired,
                    wallets_activated: report.wallets_activated,
                    wallets_expired: report.wallets_expired,
                    cost_tickets_expired: report.cost_tickets_expired,
                };
                assert_eq!(actual, expected, "sweep report disagrees with the model");
                assert_eq!(self.clock.now(), self.model.now);
                return;
            }
            Op::Terminate { wallet } => {
                let Some(wallet) = Self::pick(wallet, self.model.wallets.len()) else {
                    return;
                };
                let id = self.model.wallets[wallet].id.clone();
                let result = ledger.terminate(&id, "admin").await;
                (self.model.terminate(wallet), done(&result))
            }
            Op::Activate { wallet } => {
                let Some(wallet) = Self::pick(wallet, self.model.wallets.len()) else {
                    return;
                };
                let id = self.model.wallets[wallet].id.clone();
                let result = ledger.activate(&id).await;
                (self.model.activate(wallet), done(&result))
            }
        };
        assert_eq!(actual, expected, "service and model disagree on {op:?}");
    }

    /// Invariants 1–5 and agreement with the model, after one step.
    async fn check(&mut self, step: usize, op: &Op) {
        let context = format!("after step {step} ({op:?})");
        let store = self.ledger.store();

        // The audit command must find nothing.
        let report = self.ledger.audit().await.unwrap();
        assert!(
            report.is_clean(),
            "{context}: audit found {:#?}",
            report.breaches
        );

        // 1. Conservation, read straight from the journal's account sums.
        let snapshot = store.audit_snapshot().await.unwrap();
        assert!(
            snapshot.unbalanced_transactions.is_empty(),
            "{context}: unbalanced transactions {:?}",
            snapshot.unbalanced_transactions
        );
        let total: Decimal = snapshot.account_sums.iter().map(|(_, sum)| *sum).sum();
        assert!(total.is_zero(), "{context}: all accounts sum to {total}");
        let sums: HashMap<&str, Decimal> = snapshot
            .account_sums
            .iter()
            .map(|(code, sum)| (code.as_str(), *sum))
            .collect();
        assert_eq!(
            snapshot.wallets.len(),
            self.model.wallets.len(),
            "{context}: wallet count"
        );

        // 4. Holds: held = the sum of the wallet's open reservations, read one by one.
        // 5. Exactly once: an ended reservation never changes again.
        let mut open: HashMap<WalletId, Decimal> = HashMap::new();
        for expected in &self.model.reservations {
            let reservation = store.reservation(&expected.id).await.unwrap().unwrap();
            assert_eq!(
                reservation.status, expected.status,
                "{context}: status of {}",
                expected.id
            );
            assert_eq!(reservation.amount.value(), expected.amount);
            assert_eq!(
                reservation.wallet_id,
                self.model.wallets[expected.wallet].id
            );
            if reservation.status == ReservationStatus::Held {
                *open.entry(reservation.wallet_id.clone()).or_default() +=
                    reservation.amount.value();
                continue;
            }
            if let Some((requested, settled, released, uncollected, _)) = expected.settlement {
                assert_eq!(
                    reservation.requested_amount.map(|c| c.value()),
                    Some(requested)
                );
                assert_eq!(reservation.settled_amount.map(|c| c.value()), Some(settled));
                assert_eq!(
                    reservation.released_amount.map(|c| c.value()),
                    Some(released)
                );
                assert_eq!(
                    reservation.uncollected_amount.map(|c| c.value()),
                    Some(uncollected)
                );
            }
            assert!(
                reservation.ended_at.is_some(),
                "{context}: ended without a time"
            );
            let first = self
                .ended
                .entry(reservation.id.clone())
                .or_insert_with(|| reservation.clone());
            assert_eq!(
                *first, reservation,
                "{context}: an ended reservation changed"
            );
        }

        for expected in &self.model.wallets {
            let wallet = store.wallet(&expected.id).await.unwrap().unwrap();
            let (paid, granted, held) = (
                wallet.paid.value(),
                wallet.granted.value(),
                wallet.held.value(),
            );
            // Agreement with the model.
            assert_eq!(
                wallet.status, expected.status,
                "{context}: status of {}",
                wallet.id
            );
            assert_eq!(paid, expected.paid, "{context}: paid of {}", wallet.id);
            assert_eq!(
                granted, expected.granted,
                "{context}: granted of {}",
                wallet.id
            );
            assert_eq!(held, expected.held, "{context}: held of {}", wallet.id);
            assert_eq!(
                wallet.total_spent.value(),
                expected.spent,
                "{context}: spent of {}",
                wallet.id
            );
            assert!(wallet.debt.is_zero());
            // 3. Non-negativity of paid, granted, held and available.
            let zero = Decimal::ZERO;
            assert!(
                paid >= zero && granted >= zero && held >= zero,
                "{context}: {wallet:?}"
            );
            assert!(
                held <= paid + granted,
                "{context}: held above balance {wallet:?}"
            );
            assert!(wallet.available().value() >= zero);
            // 2. Projection: the stored balances are the sums of the wallet's postings.
            for (pool, stored) in [
                (WalletPool::Paid, paid),
                (WalletPool::Granted, granted),
                (WalletPool::Held, held),
            ] {
                let code = Account::Wallet(wallet.id.clone(), pool).code();
                let posted = sums.get(code.as_str()).copied().unwrap_or_default();
                assert_eq!(posted, stored, "{context}: projection of {code}");
            }
            let open_sum = open.get(&wallet.id).copied().unwrap_or_default();
            assert_eq!(
                held, open_sum,
                "{context}: held vs open holds of {}",
                wallet.id
            );
        }

        // Cost tickets: status, figures and the reservation a redeem made.
        for expected in &self.model.tickets {
            let ticket = store.cost_ticket(&expected.id).await.unwrap().unwrap();
            let status = match expected.status {
                TicketStatus::Open => CostTicketStatus::Open,
                TicketStatus::Resolved => CostTicketStatus::Resolved,
                TicketStatus::Expired => CostTicketStatus::Expired,
            };
            assert_eq!(ticket.status, status, "{context}: status of {}", ticket.id);
            assert_eq!(ticket.required_amount.value(), expected.required);
            assert_eq!(ticket.best_available_amount.value(), expected.best);
            assert_eq!(ticket.shortfall_amount.value(), expected.shortfall);
            assert_eq!(
                ticket.reservation_id,
                expected
                    .reservation
                    .map(|index| self.model.reservations[index].id.clone())
            );
        }
    }

    /// Exactly once, from the journal's side: each reservation has one reserve line and, once
    /// ended, one ending line; no line names a reservation the model does not know.
    async fn check_journal_lines(&self) {
        let mut lines: HashMap<String, Vec<EntryKind>> = HashMap::new();
        for wallet in &self.model.wallets {
            let page = self
                .ledger
                .store()
                .wallet_lines(&WalletLineFilter {
                    wallet_id: wallet.id.clone(),
                    kind: None,
                    from: None,
                    to: None,
                    page: PageRequest {
                        page: 1,
                        per_page: 100_000,
                    },
                })
                .await
                .unwrap();
            for line in page.items {
                if line.reference_type == "reservation" {
                    lines.entry(line.reference_id).or_default().push(line.kind);
                }
            }
        }
        for reservation in &self.model.reservations {
            let mut kinds = lines.remove(reservation.id.as_str()).unwrap_or_default();
            kinds.sort_by_key(|kind| kind.as_str());
            let ending = match reservation.status {
                ReservationStatus::Held => None,
                ReservationStatus::Settled => Some(EntryKind::Settle),
                ReservationStatus::Released => Some(EntryKind::Release),
                ReservationStatus::Expired => Some(EntryKind::Expire),
            };
            let mut expected: Vec<EntryKind> =
                std::iter::once(EntryKind::Reserve).chain(ending).collect();
            expected.sort_by_key(|kind| kind.as_str());
            assert_eq!(kinds, expected, "journal lines of {}", reservation.id);
        }
        assert!(
            lines.is_empty(),
            "journal lines name unknown reservations: {lines:?}"
        );
    }
}
