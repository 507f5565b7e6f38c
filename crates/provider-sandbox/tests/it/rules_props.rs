//! Property test: random sequences of reserves, settles, releases, credits, debits, clock
//! advances and sweeps on wallets with random top-up rules (all four strategies, granted and
//! paid credits, paid ones charged to a sandbox saved method that succeeds or declines) never
//! break the invariants. After every step:
//!
//! - the ledger's audit is clean (conservation, projection, holds, non-negativity);
//! - no wallet holds more than it has;
//! - a THRESHOLD rule never fires twice without the available balance going back above its
//!   threshold in between (read from the wallet's history, line by line);
//! - a rule never has two paid top-ups in flight, and never charges more per calendar month
//!   than its cap.
//!
//! `PROPTEST_CASES` raises (or lowers) the number of cases; 256 when unset. Failing cases are
//! saved in `proptest-regressions/it/rules_props.txt` and replayed first.

use std::collections::HashMap;

use ledger_core::id::{PaymentMethodId, ReservationId, RuleId, WalletId};
use ledger_core::journal::{EntryKind, WalletLine};
use ledger_core::payment_session::{PaymentSession, PaymentStatus};
use ledger_core::ports::{PageRequest, PaymentSessionFilter, SavedPaymentMethod, WalletLineFilter};
use ledger_core::service::{NewWallet, RULE_ID_UNSET, WalletPatch};
use ledger_core::topup_rule::{
    CreditType, RuleInterval, RuleMethod, RuleState, RuleTrigger, TopupRule,
};
use ledger_core::wallet::{Owner, Wallet};
use proptest::prelude::*;
use proptest::sample::Index;
use rust_decimal::Decimal;
use time::Duration;

use crate::support::{Fixture, credits};

const GOOD_METHOD: &str = "pm_good";
const DECLINING_METHOD: &str = "pm_decline";

/// A wallet to create before the operations.
#[derive(Debug, Clone)]
struct WalletSpec {
    /// The organization's wallet, else the user's.
    organization: bool,
    priority: i32,
    paid: u32,
    granted: u32,
    expires_in_days: Option<i64>,
    activates_in_days: Option<i64>,
    rules: Vec<TopupRule>,
}

/// How a settle's actual amount relates to the hold.
#[derive(Debug, Clone)]
enum Actual {
    /// This percentage of the hold (0–150).
    Percent(u32),
}

#[derive(Debug, Clone)]
enum Op {
    Reserve {
        cents: i64,
    },
    Settle {
        hold: Index,
        actual: Actual,
    },
    Release {
        hold: Index,
    },
    Credit {
        wallet: Index,
        paid: u32,
        granted: u32,
    },
    Debit {
        wallet: Index,
        paid: bool,
        cents: i64,
    },
    /// Moves the clock, then sweeps the ledger and the payments (as the worker does).
    Advance {
        seconds: i64,
    },
    /// Charges the paid top-ups started so far.
    ChargeTopups,
    /// Saves the wallet's rules again (what resumes a paused rule).
    SaveRules {
        wallet: Index,
    },
    Terminate {
        wallet: Index,
    },
}

fn interval() -> impl Strategy<Value = RuleInterval> {
    prop_oneof![
        Just(RuleInterval::Weekly),
        Just(RuleInterval::Monthly),
        Just(RuleInterval::Quarterly),
        Just(RuleInterval::Yearly),
    ]
}

/// A valid rule of any of the four strategies, adding granted and/or paid credits.
fn rule() -> impl Strategy<Value = TopupRule> {
    (
        any::<bool>(),
        prop_oneof![interval().prop_map(Some), Just(None)],
        0_u32..=50,
        (0_u32..=40, 0_u32..=30, 1_u32..=100),
        any::<bool>(),
        any::<bool>(),
        prop_oneof![Just(None), (10_u32..=120).prop_map(Some)],
    )
        .prop_map(
            |(fixed, interval, threshold, (paid, granted, above), paid_target, good, cap)| {
                let mut rule = TopupRule {
                    id: RuleId::parse(RULE_ID_UNSET).unwrap(),
                    method: if fixed {
                        RuleMethod::Fixed
                    } else {
                        RuleMethod::Target
                    },
                    trigger: if interval.is_some() {
                        RuleTrigger::Interval
                    } else {
                        RuleTrigger::Threshold
                    },
                    interval,
                    threshold_credits: interval
                        .is_none()
                        .then(|| credits(Decimal::from(threshold))),
                    target_ongoing_balance: None,
                    paid_credits: None,
                    granted_credits: None,
                    credit_type: None,
                    payment_method_id: None,
                    started_at: None,
                    last_period_fired: 0,
                    armed: true,
                    max_paid_credits_per_month: cap.map(|cap| credits(Decimal::from(cap))),
                    state: RuleState::default(),
                };
                if fixed {
                    let granted = if paid == 0 && granted == 0 {
                        1
                    } else {
                        granted
                    };
                    rule.paid_credits = (paid > 0).then(|| credits(Decimal::from(paid)));
                    rule.granted_credits = (granted > 0).then(|| credits(Decimal::from(granted)));
                } else {
                    rule.target_ongoing_balance = Some(credits(Decimal::from(threshold + above)));
                    rule.credit_type = Some(if paid_target {
                        CreditType::Paid
                    } else {
                        CreditType::Granted
                    });
                }
                if rule.adds_paid() {
                    let method = if good { GOOD_METHOD } else { DECLINING_METHOD };
                    rule.payment_method_id = Some(PaymentMethodId::parse(method).unwrap());
                }
                rule
            },
        )
}

fn wallet_spec() -> impl Strategy<Value = WalletSpec> {
    (
        any::<bool>(),
        0_i32..3,
        (0_u32..=100, 0_u32..=100),
        prop_oneof![3 => Just(None), 1 => (5_i64..=120).prop_map(Some)],
        prop_oneof![4 => Just(None), 1 => (1_i64..=4).prop_map(Some)],
        prop::collection::vec(rule(), 0..3),
    )
        .prop_map(
            |(organization, priority, (paid, granted), expires, activates, rules)| WalletSpec {
                organization,
                priority,
                paid,
                granted,
                expires_in_days: expires,
                activates_in_days: activates,
                rules,
            },
        )
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (100_i64..=6000).prop_map(|cents| Op::Reserve { cents }),
        5 => (any::<Index>(), 0_u32..=150)
            .prop_map(|(hold, percent)| Op::Settle { hold, actual: Actual::Percent(percent) }),
        2 => any::<Index>().prop_map(|hold| Op::Release { hold }),
        2 => (any::<Index>(), 0_u32..=40, 0_u32..=40)
            .prop_map(|(wallet, paid, granted)| Op::Credit { wallet, paid, granted }),
        2 => (any::<Index>(), any::<bool>(), 1_i64..=3000)
            .prop_map(|(wallet, paid, cents)| Op::Debit { wallet, paid, cents }),
        4 => prop_oneof![
            (60_i64..=7200),
            (3600_i64..=86_400 * 3),
            (86_400_i64..=86_400 * 40),
        ]
        .prop_map(|seconds| Op::Advance { seconds }),
        2 => Just(Op::ChargeTopups),
        1 => any::<Index>().prop_map(|wallet| Op::SaveRules { wallet }),
        1 => any::<Index>().prop_map(|wallet| Op::Terminate { wallet }),
    ]
}

fn config() -> ProptestConfig {
    testkit::props::config("proptest-regressions/it/rules_props.txt", 2_048)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn rule_firing_never_breaks_the_invariants(
        wallets in prop::collection::vec(wallet_spec(), 1..4),
        ops in prop::collection::vec(op(), 1..40),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a current-thread runtime builds");
        runtime.block_on(run(wallets, ops));
    }
}

/// What the checks remember between steps.
#[derive(Default)]
struct Observed {
    /// Per wallet: history lines already checked.
    lines_seen: HashMap<WalletId, u64>,
    /// Per wallet: debt after the last checked line.
    debt: HashMap<WalletId, Decimal>,
    /// Per threshold rule: whether the balance was above its threshold since its last fire.
    above_since_fire: HashMap<RuleId, bool>,
    /// Per rule: paid top-up sessions already seen.
    sessions_seen: HashMap<RuleId, usize>,
}

struct World {
    fx: Fixture,
    wallets: Vec<WalletId>,
    holds: Vec<ReservationId>,
    observed: Observed,
}

async fn run(specs: Vec<WalletSpec>, ops: Vec<Op>) {
    let fx = Fixture::new();
    for (id, token) in [
        (GOOD_METHOD, "sbxpm_good"),
        (DECLINING_METHOD, "sbxpm_decline"),
    ] {
        fx.payments
            .store()
            .insert_payment_method(&SavedPaymentMethod {
                id: PaymentMethodId::parse(id).unwrap(),
                org_id: fx.org.clone(),
                provider: "sandbox".to_owned(),
                owner: Owner::User(fx.user.clone()),
                provider_token: token.to_owned(),
                provider_customer_id: None,
                label: "Sandbox card".to_owned(),
                created_at: fx.clock.now_plus(Duration::ZERO),
            })
            .await
            .unwrap();
    }
    let mut world = World {
        wallets: Vec::new(),
        holds: Vec::new(),
        observed: Observed::default(),
        fx,
    };
    for spec in specs {
        let fx = &world.fx;
        let new = NewWallet {
            org_id: fx.org.clone(),
            owner: if spec.organization {
                Owner::Organization(fx.org.clone())
            } else {
                Owner::User(fx.user.clone())
            },
            name: None,
            currency: fx.usd,
            rate_amount: Decimal::ONE,
            paid: credits(Decimal::from(spec.paid)),
            granted: credits(Decimal::from(spec.granted)),
            expiration_at: spec
                .expires_in_days
                .map(|days| fx.clock.now_plus(Duration::days(days))),
            activates_at: spec
                .activates_in_days
                .map(|days| fx.clock.now_plus(Duration::days(days))),
            priority: spec.priority,
            fee_types: Vec::new(),
            rules: spec.rules,
            principal: "admin".to_owned(),
        };
        let wallet = fx.ledger.create_wallet(&new).await.unwrap();
        world.wallets.push(wallet.id);
    }
    check(&mut world).await;
    for op in ops {
        apply(&mut world, op).await;
        check(&mut world).await;
    }
}

/// Applies one operation. Refusals (402, 409) are part of the game: only the state after them
/// is checked.
async fn apply(world: &mut World, op: Op) {
    let fx = &world.fx;
    match op {
        Op::Reserve { cents } => {
            if let Ok(hold) = fx.ledger.reserve(&fx.reserve(Decimal::new(cents, 2))).await {
                world.holds.push(hold.id);
            }
        }
        Op::Settle { hold, actual } => {
            if world.holds.is_empty() {
                return;
            }
            let id = world.holds[hold.index(world.holds.len())].clone();
            let Ok(Some(reservation)) = fx.ledger.store().reservation(&id).await else {
                return;
            };
            let Actual::Percent(percent) = actual;
            let amount = (reservation.amount.value() * Decimal::from(percent)
                / Decimal::ONE_HUNDRED)
                .round_dp(2);
            let _ = fx.ledger.settle(&id, credits(amount), "gateway").await;
        }
        Op::Release { hold } => {
            if world.holds.is_empty() {
                return;
            }
            let id = world.holds[hold.index(world.holds.len())].clone();
            let _ = fx.ledger.release(&id, "gateway").await;
        }
        Op::Credit {
            wallet,
            paid,
            granted,
        } => {
            let id = &world.wallets[wallet.index(world.wallets.len())];
            let _ = fx
                .ledger
                .credit(
                    id,
                    credits(Decimal::from(paid)),
                    credits(Decimal::from(granted)),
                    "admin",
                )
                .await;
        }
        Op::Debit {
            wallet,
            paid,
            cents,
        } => {
            let id = &world.wallets[wallet.index(world.wallets.len())];
            let amount = credits(Decimal::new(cents, 2));
            let (paid, granted) = if paid {
                (amount, credits(Decimal::ZERO))
            } else {
                (credits(Decimal::ZERO), amount)
            };
            let _ = fx.ledger.debit(id, paid, granted, "admin").await;
        }
        Op::Advance { seconds } => {
            fx.clock.advance(Duration::seconds(seconds));
            fx.ledger.sweep().await.unwrap();
            fx.payments.sweep().await.unwrap();
        }
        Op::ChargeTopups => {
            fx.payments.run_auto_topups().await.unwrap();
        }
        Op::SaveRules { wallet } => {
            let id = &world.wallets[wallet.index(world.wallets.len())];
            let current = fx.ledger.store().wallet(id).await.unwrap().unwrap();
            let patch = WalletPatch {
                name: None,
                expiration_at: None,
                priority: None,
                fee_types: None,
                rules: Some(current.rules),
            };
            let _ = fx.ledger.patch_wallet(id, &patch).await;
        }
        Op::Terminate { wallet } => {
            let id = &world.wallets[wallet.index(world.wallets.len())];
            let _ = fx.ledger.terminate(id, "admin").await;
        }
    }
}

async fn check(world: &mut World) {
    world.fx.assert_audit_clean().await;
    let sessions = auto_topup_sessions(&world.fx).await;
    for wallet_id in world.wallets.clone() {
        let wallet = world
            .fx
            .ledger
            .store()
            .wallet(&wallet_id)
            .await
            .unwrap()
            .unwrap();
        assert!(
            wallet.held <= wallet.balance(),
            "{wallet_id} holds {} of {}",
            wallet.held,
            wallet.balance()
        );
        let lines = new_lines(world, &wallet_id).await;
        check_threshold_fires(&mut world.observed, &wallet, &lines, &sessions);
        check_paid_rails(&wallet, &sessions);
    }
}

/// The wallet's history lines not checked yet, oldest first.
async fn new_lines(world: &mut World, wallet_id: &WalletId) -> Vec<WalletLine> {
    let seen = world
        .observed
        .lines_seen
        .get(wallet_id)
        .copied()
        .unwrap_or(0);
    let mut newest_first = Vec::new();
    for page in 1.. {
        let filter = WalletLineFilter {
            wallet_id: wallet_id.clone(),
            kind: None,
            from: None,
            to: None,
            page: PageRequest {
                page,
                per_page: 100,
            },
        };
        let lines = world.fx.ledger.store().wallet_lines(&filter).await.unwrap();
        let wanted = usize::try_from(lines.total - seen).unwrap();
        let done = lines.items.is_empty() || newest_first.len() + lines.items.len() >= wanted;
        newest_first.extend(lines.items);
        if done {
            newest_first.truncate(wanted);
            world
                .observed
                .lines_seen
                .insert(wallet_id.clone(), lines.total);
            break;
        }
    }
    newest_first.reverse();
    newest_first
}

async fn auto_topup_sessions(fx: &Fixture) -> Vec<PaymentSession> {
    let mut sessions = Vec::new();
    for page in 1.. {
        let filter = PaymentSessionFilter {
            page: PageRequest {
                page,
                per_page: 100,
            },
            ..PaymentSessionFilter::default()
        };
        let found = fx
            .payments
            .store()
            .list_payment_sessions(&filter)
            .await
            .unwrap();
        let more = found.has_more(filter.page);
        sessions.extend(
            found
                .items
                .into_iter()
                .filter(|session| session.surface == "auto_topup"),
        );
        if !more {
            break;
        }
    }
    sessions
}

/// A rule's paid top-ups carry its id as their `checkout_state`.
fn sessions_of<'a>(
    sessions: &'a [PaymentSession],
    rule: &TopupRule,
) -> impl Iterator<Item = &'a PaymentSession> {
    sessions
        .iter()
        .filter(move |session| session.checkout_state == rule.id.as_str())
}

/// Replays the new history lines: each fire of a THRESHOLD rule (a `rule_topup` line naming
/// it, or for a rule that adds paid credits only, a new paid top-up session) must come after
/// the available balance was above the threshold since the rule's previous fire.
fn check_threshold_fires(
    observed: &mut Observed,
    wallet: &Wallet,
    lines: &[WalletLine],
    sessions: &[PaymentSession],
) {
    let thresholds: Vec<(&TopupRule, Decimal)> = wallet
        .rules
        .iter()
        .filter_map(|rule| {
            let threshold = rule.threshold_credits?;
            (rule.trigger == RuleTrigger::Threshold).then_some((rule, threshold.value()))
        })
        .collect();
    let mut debt = observed
        .debt
        .get(&wallet.id)
        .copied()
        .unwrap_or(Decimal::ZERO);
    for line in lines {
        debt += line.debt_delta;
        let available = if debt > Decimal::ZERO {
            Decimal::ZERO
        } else {
            line.balance_after.value() - line.held_after.value()
        };
        assert!(available >= Decimal::ZERO, "negative available: {line:?}");
        for (rule, threshold) in &thresholds {
            let above = observed
                .above_since_fire
                .entry(rule.id.clone())
                .or_insert(true);
            let fired = line.kind == EntryKind::RuleTopup
                && line.reference_type == "rule"
                && line.reference_id == rule.id.as_str();
            if fired {
                assert!(
                    *above,
                    "rule {} fired again at {} without the balance going back above {threshold}",
                    rule.id, line.created_at
                );
                *above = false;
            }
            if available > *threshold {
                *above = true;
            }
        }
    }
    observed.debt.insert(wallet.id.clone(), debt);
    for (rule, threshold) in &thresholds {
        let paid_only = match rule.method {
            RuleMethod::Fixed => {
                rule.adds_paid() && rule.granted_credits.is_none_or(|granted| granted.is_zero())
            }
            RuleMethod::Target => rule.target_credit_type() == CreditType::Paid,
        };
        let count = sessions_of(sessions, rule).count();
        let seen = observed.sessions_seen.insert(rule.id.clone(), count);
        if !paid_only {
            continue;
        }
        let above = observed
            .above_since_fire
            .entry(rule.id.clone())
            .or_insert(true);
        let mut ordered: Vec<&PaymentSession> = sessions_of(sessions, rule).collect();
        ordered.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        for index in seen.unwrap_or(0)..count {
            // A declined charge did not serve its crossing: the rule may charge again while
            // the balance is still below (after its backoff).
            let previous_failed = index
                .checked_sub(1)
                .and_then(|previous| ordered.get(previous))
                .is_some_and(|previous| previous.status == PaymentStatus::Failed);
            assert!(
                *above || previous_failed,
                "paid rule {} started a second top-up without the balance going back above {threshold}",
                rule.id
            );
            *above = false;
        }
    }
}

/// At most one paid top-up in flight per rule, and no calendar month over the rule's cap.
fn check_paid_rails(wallet: &Wallet, sessions: &[PaymentSession]) {
    for rule in &wallet.rules {
        let in_flight = sessions_of(sessions, rule)
            .filter(|session| {
                matches!(
                    session.status,
                    PaymentStatus::Created | PaymentStatus::Capturing | PaymentStatus::Captured
                )
            })
            .count();
        assert!(
            in_flight <= 1,
            "rule {} has {in_flight} top-ups in flight",
            rule.id
        );
        let Some(cap) = rule.max_paid_credits_per_month else {
            continue;
        };
        let mut per_month: HashMap<(i32, u8), Decimal> = HashMap::new();
        for session in sessions_of(sessions, rule) {
            if session.status == PaymentStatus::Completed {
                let at = session.updated_at;
                *per_month
                    .entry((at.year(), u8::from(at.month())))
                    .or_default() += session
                    .credited_amount
                    .map_or(Decimal::ZERO, |credited| credited.value());
            }
        }
        for (month, total) in per_month {
            assert!(
                total <= cap.value(),
                "rule {} added {total} paid credits in {month:?}, over its cap of {cap}",
                rule.id
            );
        }
    }
}
