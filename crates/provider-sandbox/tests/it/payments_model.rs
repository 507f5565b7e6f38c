//! The model-based property test of the payment paths: random sequences of checkouts through
//! the sandbox provider (approve, cancel, confirm — twice, and racing its own approved event),
//! provider-side captures, webhooks (captured, approved, denied, refunded, reversed; replayed,
//! with duplicate event ids and duplicate refund ids), admin refunds (partial, full, more than
//! is left, twice), session expiry through the test clock and the sweeps, reserves and settles
//! that spend the credits later refunds want back, and admin credits. They run against the real
//! `Ledger` and `Payments` on the memory store with the real `SandboxProvider`, and against the
//! reference model of `payments_model/model.rs` (with `refund_model.rs` and `ledger_model.rs`).
//! The store is wrapped by `recording.rs`, which only watches the committed session writes.
//!
//! After every step (`payments_model/checks.rs`): the ledger's audit and the payments audit are
//! clean; every wallet, session, sandbox order and reservation agrees with the model; no balance
//! or debt is negative; each credited session has exactly one top-up line in the journal, for
//! exactly `amount / rate` rounded down, and its refund lines add up to what it refunded;
//! refunds never exceed what was captured or credited; every committed status move of a session
//! follows the graph of `domain.md`; and the second organization's wallet and session are
//! exactly as they were.
//!
//! `PROPTEST_CASES` raises (or lowers) the number of cases; 256 when unset. Failing cases are
//! saved in `proptest-regressions/it/payments_model.txt` and replayed first.

mod checkout_steps;
mod checks;
mod dispatch;
mod ledger_model;
mod ledger_steps;
mod model;
mod recording;
mod refund_model;
mod refund_steps;
mod world;

use proptest::prelude::*;
use proptest::sample::Index;
use rust_decimal::Decimal;

use self::world::World;

/// Which token a confirm sends with the session.
#[derive(Debug, Clone, Copy)]
enum Token {
    None,
    Right,
    Wrong,
}

/// How much a refund asks for, relative to what is left of the session.
#[derive(Debug, Clone, Copy)]
enum RefundAmount {
    /// All that is left (an admin refund names no amount).
    All,
    /// This much money, in cents.
    Cents(i64),
    /// This percentage of what is left, rounded down to cents.
    Percent(u32),
    /// What is left plus this many cents.
    Above(i64),
    /// Thousandths: a sub-cent amount, which USD does not have.
    SubCent(i64),
}

/// Which session (or hold) an operation names: with `preferred`, one of those it prefers (a
/// checkout step one where it has something to do, a refund or spend one that credited its
/// wallet, a settle or release a hold still held; see `dispatch.rs`) when there is one, else
/// any.
#[derive(Debug, Clone)]
struct Pick {
    index: Index,
    preferred: bool,
}

#[derive(Debug, Clone)]
enum Op {
    /// A buyer starts a checkout for a target: 0 the organization, 1 the team, 2 Ada, 3 Bob
    /// (who has no wallet until his first checkout makes one).
    Start {
        owner: usize,
        cents: i64,
    },
    /// The happy path in a browser: a checkout, then Approve on the sandbox page (which
    /// captures and credits through the order-approved event).
    Pay {
        owner: usize,
        cents: i64,
    },
    /// The buyer presses Approve on the sandbox page; `event`: the page also applies the
    /// order-approved event, as `apps/api` does (else it was lost).
    Approve {
        session: Pick,
        event: bool,
    },
    /// The buyer presses Cancel on the sandbox page; `tell`: the page also cancels the session,
    /// as `apps/api` does (else the buyer closed the window before it could).
    Cancel {
        session: Pick,
        tell: bool,
    },
    /// The console confirms.
    Confirm {
        session: Pick,
        token: Token,
        state_ok: bool,
    },
    /// Two confirms, and the order-approved event when the order was approved, at once.
    ConfirmRace {
        session: Pick,
    },
    /// The sandbox captures the order while we never hear of it (our process died).
    ProviderCapture {
        session: Pick,
    },
    /// The late capture: the buyer approves at the sandbox after the session expired or failed
    /// here (most often), the sandbox captures, and its capture webhook arrives.
    LateCapture {
        session: Pick,
        event: u8,
    },
    /// A capture-completed webhook for an order the sandbox captured.
    CaptureWebhook {
        session: Pick,
        event: u8,
    },
    /// An order-approved webhook for an approved order: `None` replays the sandbox page's own
    /// event id, `Some` is another delivery id.
    ApprovedWebhook {
        session: Pick,
        event: Option<u8>,
    },
    /// A capture-denied webhook for an order the sandbox did not capture.
    DeniedWebhook {
        session: Pick,
        event: u8,
    },
    /// An admin refund.
    AdminRefund {
        session: Pick,
        amount: RefundAmount,
    },
    /// A refund (or a reversal, a chargeback) the provider reports, with one of a few refund
    /// ids and one of a few event ids, so both repeat.
    ProviderRefund {
        session: Pick,
        reversal: bool,
        refund: u8,
        event: u8,
        amount: RefundAmount,
    },
    /// The provider reports one of our own admin refunds back.
    ReplayAdminRefund {
        session: Pick,
        refund: Index,
        event: u8,
    },
    /// A webhook for an order nobody knows.
    UnknownWebhook,
    /// A reserve: 0 organization only, 1 the team then the organization, 2 Ada then the team
    /// then the organization, 3 Bob then the organization.
    Reserve {
        scope: usize,
        amount: Decimal,
        ttl_seconds: i64,
    },
    /// The gateway spends this percentage of the first wallet of the cascade that has
    /// anything: a reserve settled in full at once.
    Spend {
        scope: usize,
        percent: u32,
    },
    /// The gateway spends this percentage of the wallet a session topped up (first in the
    /// cascade of its owner), so that a later refund of the session meets spent credits.
    SpendTopUp {
        session: Pick,
        percent: u32,
    },
    /// Settles a hold at this percentage of it (above 100: more than was held).
    Settle {
        hold: Pick,
        percent: u32,
    },
    Release {
        hold: Pick,
    },
    /// An admin credit of paid and granted credits.
    Credit {
        wallet: Index,
        paid: Decimal,
        granted: Decimal,
    },
    /// Moves the clock, then sweeps the ledger and the payments, as the worker does.
    AdvanceAndSweep {
        seconds: i64,
    },
}

/// A wallet made before the operations.
#[derive(Debug, Clone)]
struct WalletSpec {
    rate: Decimal,
    paid: Decimal,
    granted: Decimal,
}

/// Checkout money: small odd cents, any cents, whole units; zero now and then (refused).
fn checkout_cents() -> impl Strategy<Value = i64> {
    prop_oneof![
        1 => Just(0_i64),
        4 => 1_i64..=99,
        8 => 1_i64..=20_000,
        3 => (1_i64..=200).prop_map(|units| units * 100),
    ]
}

/// Credits: whole, cents, and nine-decimal fractions.
fn credits() -> impl Strategy<Value = Decimal> {
    prop_oneof![
        2 => (0_i64..=60).prop_map(Decimal::from),
        2 => (0_i64..=6_000).prop_map(|cents| Decimal::new(cents, 2)),
        1 => (1_i64..=30_000_000_000).prop_map(|nanos| Decimal::new(nanos, 9)),
    ]
}

fn positive_credits() -> impl Strategy<Value = Decimal> {
    credits().prop_filter("a reserve asks for something", |amount| !amount.is_zero())
}

fn refund_amount() -> impl Strategy<Value = RefundAmount> {
    prop_oneof![
        3 => Just(RefundAmount::All),
        3 => (1_i64..=5_000).prop_map(RefundAmount::Cents),
        4 => (1_u32..=100).prop_map(RefundAmount::Percent),
        1 => (1_i64..=500).prop_map(RefundAmount::Above),
        1 => (1_i64..=50_000).prop_map(RefundAmount::SubCent),
    ]
}

fn wallet_spec() -> impl Strategy<Value = WalletSpec> {
    (
        prop::sample::select(vec![
            Decimal::ONE,
            Decimal::new(5, 1),
            Decimal::from(3),
            Decimal::new(7, 2),
        ]),
        credits(),
        prop_oneof![2 => Just(Decimal::ZERO), 1 => credits()],
    )
        .prop_map(|(rate, paid, granted)| WalletSpec {
            rate,
            paid,
            granted,
        })
}

/// Refunds, spends, settles and releases mostly name what they prefer.
fn preferring() -> impl Strategy<Value = Pick> {
    (any::<Index>(), prop::bool::weighted(0.85))
        .prop_map(|(index, preferred)| Pick { index, preferred })
}

/// Checkout steps name a session of their liking more often than not: the rest find the
/// sessions where the step should change nothing.
fn checkout_pick() -> impl Strategy<Value = Pick> {
    (any::<Index>(), prop::bool::weighted(0.6))
        .prop_map(|(index, preferred)| Pick { index, preferred })
}

fn op() -> impl Strategy<Value = Op> {
    let token = prop_oneof![
        6 => Just(Token::None),
        6 => Just(Token::Right),
        1 => Just(Token::Wrong),
    ];
    prop_oneof![
        3 => (0_usize..4, checkout_cents()).prop_map(|(owner, cents)| Op::Start { owner, cents }),
        3 => (0_usize..4, checkout_cents()).prop_map(|(owner, cents)| Op::Pay { owner, cents }),
        5 => (checkout_pick(), prop::bool::weighted(0.5))
            .prop_map(|(session, event)| Op::Approve { session, event }),
        1 => (checkout_pick(), prop::bool::weighted(0.8))
            .prop_map(|(session, tell)| Op::Cancel { session, tell }),
        5 => (checkout_pick(), token, prop::bool::weighted(0.95))
            .prop_map(|(session, token, state_ok)| Op::Confirm { session, token, state_ok }),
        1 => checkout_pick().prop_map(|session| Op::ConfirmRace { session }),
        2 => checkout_pick().prop_map(|session| Op::ProviderCapture { session }),
        2 => (checkout_pick(), 0_u8..3)
            .prop_map(|(session, event)| Op::CaptureWebhook { session, event }),
        3 => (checkout_pick(), 0_u8..3)
            .prop_map(|(session, event)| Op::LateCapture { session, event }),
        1 => (checkout_pick(), prop::option::of(0_u8..3))
            .prop_map(|(session, event)| Op::ApprovedWebhook { session, event }),
        1 => (checkout_pick(), 0_u8..2)
            .prop_map(|(session, event)| Op::DeniedWebhook { session, event }),
        4 => (preferring(), refund_amount())
            .prop_map(|(session, amount)| Op::AdminRefund { session, amount }),
        5 => (preferring(), prop::bool::weighted(0.4), 0_u8..3, 0_u8..4, refund_amount())
            .prop_map(|(session, reversal, refund, event, amount)| Op::ProviderRefund {
                session,
                reversal,
                refund,
                event,
                amount,
            }),
        1 => (preferring(), any::<Index>(), 0_u8..4)
            .prop_map(|(session, refund, event)| Op::ReplayAdminRefund { session, refund, event }),
        1 => Just(Op::UnknownWebhook),
        4 => (0_usize..4, positive_credits(), prop::sample::select(vec![60_i64, 3_600, 86_400]))
            .prop_map(|(scope, amount, ttl_seconds)| Op::Reserve { scope, amount, ttl_seconds }),
        2 => (0_usize..4, prop_oneof![1 => 1_u32..=100, 2 => 60_u32..=100])
            .prop_map(|(scope, percent)| Op::Spend { scope, percent }),
        3 => (preferring(), prop_oneof![1 => 1_u32..=100, 2 => 60_u32..=100])
            .prop_map(|(session, percent)| Op::SpendTopUp { session, percent }),
        2 => (preferring(), 0_u32..=150).prop_map(|(hold, percent)| Op::Settle { hold, percent }),
        1 => preferring().prop_map(|hold| Op::Release { hold }),
        2 => (any::<Index>(), credits(), prop_oneof![2 => Just(Decimal::ZERO), 1 => credits()])
            .prop_map(|(wallet, paid, granted)| Op::Credit { wallet, paid, granted }),
        3 => prop::sample::select(vec![30_i64, 600, 3_600, 4 * 3_600, 4 * 3_600, 86_400])
            .prop_map(|seconds| Op::AdvanceAndSweep { seconds }),
    ]
}

/// The wallets of the organization, the team and Ada, then a few checkouts, then anything.
fn sequence() -> impl Strategy<Value = ([WalletSpec; 3], Vec<Op>)> {
    (
        [wallet_spec(), wallet_spec(), wallet_spec()],
        prop::collection::vec(
            (0_usize..4, checkout_cents(), prop::bool::weighted(0.7)).prop_map(
                |(owner, cents, pay)| {
                    if pay {
                        Op::Pay { owner, cents }
                    } else {
                        Op::Start { owner, cents }
                    }
                },
            ),
            1..3,
        ),
        prop::collection::vec(op(), 1..45),
    )
        .prop_map(|(wallets, mut starts, ops)| {
            starts.extend(ops);
            (wallets, starts)
        })
}

fn config() -> ProptestConfig {
    testkit::props::config("proptest-regressions/it/payments_model.txt", 4_096)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn the_payment_paths_agree_with_the_model_and_keep_every_invariant(
        (wallets, ops) in sequence(),
    ) {
        // Two workers, so that the racing confirms run in parallel; every other step is
        // awaited one after the other.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .expect("a current-thread runtime builds");
        runtime.block_on(run(wallets, ops));
    }
}

async fn run(wallets: [WalletSpec; 3], ops: Vec<Op>) {
    let mut world = World::new(&wallets).await;
    world.check(0, None).await;
    for (step, op) in ops.iter().enumerate() {
        world.apply(op).await;
        world.check(step + 1, Some(op)).await;
    }
}
