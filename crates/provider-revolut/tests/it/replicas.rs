//! A rule's paid top-up whose Revolut charge never reported back, resumed by another `purse`
//! replica: two payment services over one store (as two processes share one database), each
//! with its own adapter, so nothing the first adapter remembered in memory helps the second.
//! Revolut has no idempotency for creating an order: only the order id stored on the session
//! before the payment call keeps the retry from creating and paying a second order.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use ledger_core::Ledger;
use ledger_core::cascade::CascadeScope;
use ledger_core::id::{OrgId, PaymentMethodId, PaymentSessionId, RuleId, UserId};
use ledger_core::money::{Credits, Currency};
use ledger_core::payment_session::{PaymentSession, PaymentStatus};
use ledger_core::payments::{Payments, ProviderResolver, STUCK_AFTER_SECONDS};
use ledger_core::ports::{PaymentProvider, PaymentStore, SavedPaymentMethod};
use ledger_core::service::{NewWallet, RULE_ID_UNSET, ReserveRequest};
use ledger_core::topup_rule::{RuleMethod, RuleTrigger, TopupRule};
use ledger_core::wallet::{FeeType, Owner, Wallet};
use provider_revolut::RevolutProvider;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use store_memory::MemoryStore;
use testkit::fake_revolut::{FakeRevolutServer, Fault, SavedFor};
use testkit::{CounterIds, ManualClock};
use time::Duration;

use crate::{config, order_reaches};

/// One replica's view of the providers: its own Revolut adapter.
#[derive(Debug)]
struct Replica(Arc<RevolutProvider>);

impl ProviderResolver for Replica {
    fn provider(&self, name: &str) -> Option<Arc<dyn PaymentProvider>> {
        (name == "revolut_pro").then(|| self.0.clone() as Arc<dyn PaymentProvider>)
    }
}

pub(crate) struct World {
    pub(crate) fake: FakeRevolutServer,
    pub(crate) store: Arc<MemoryStore>,
    pub(crate) clock: Arc<ManualClock>,
    ids: Arc<CounterIds>,
    pub(crate) ledger: Ledger,
    org: OrgId,
    user: UserId,
    eur: Currency,
}

impl World {
    pub(crate) async fn new() -> Self {
        let fake = FakeRevolutServer::start().await;
        let store = Arc::new(MemoryStore::new());
        let clock = Arc::new(ManualClock::at(time::OffsetDateTime::now_utc()));
        let ids = Arc::new(CounterIds::default());
        let ledger = Ledger::new(store.clone(), clock.clone(), ids.clone());
        Self {
            fake,
            store,
            clock,
            ids,
            ledger,
            org: OrgId::parse("org_acme").unwrap(),
            user: UserId::parse("user_ada").unwrap(),
            eur: Currency::parse("EUR").unwrap(),
        }
    }

    /// A `purse` process: its own payment service and a fresh adapter with empty memory,
    /// over the shared store.
    pub(crate) fn replica(&self) -> Payments {
        let adapter = RevolutProvider::with_clock(
            config(&self.fake, vec![self.fake.signing_secret()]),
            self.clock.clone(),
        )
        .unwrap();
        let ledger = Ledger::new(self.store.clone(), self.clock.clone(), self.ids.clone());
        Payments::new(
            ledger,
            self.store.clone(),
            Arc::new(Replica(Arc::new(adapter))),
        )
    }

    /// A wallet whose threshold rule buys 25 paid credits with a card saved at the fake,
    /// drawn below its threshold: the rule has started a paid top-up, not charged yet.
    pub(crate) async fn rule_started_a_paid_top_up(&self) -> (Wallet, PaymentSession) {
        let (customer, method) = self.fake.create_saved_card(SavedFor::Merchant);
        let method_id = PaymentMethodId::parse("pm_revolut1").unwrap();
        self.store
            .insert_payment_method(&SavedPaymentMethod {
                id: method_id.clone(),
                org_id: self.org.clone(),
                provider: "revolut_pro".to_owned(),
                owner: Owner::User(self.user.clone()),
                provider_token: format!("{customer}/card/{method}"),
                provider_customer_id: Some(customer),
                label: "visa •••• 4242".to_owned(),
                created_at: self.clock.now_plus(Duration::ZERO),
            })
            .await
            .unwrap();
        let wallet = self
            .ledger
            .create_wallet(&NewWallet {
                org_id: self.org.clone(),
                owner: Owner::User(self.user.clone()),
                name: None,
                currency: self.eur,
                rate_amount: Decimal::ONE,
                paid: credits(dec!(0)),
                granted: credits(dec!(20)),
                expiration_at: None,
                activates_at: None,
                priority: 0,
                fee_types: Vec::new(),
                rules: vec![paid_threshold_rule(method_id)],
                principal: "admin".to_owned(),
            })
            .await
            .unwrap();
        self.ledger
            .reserve(&ReserveRequest {
                scope: CascadeScope {
                    org_id: self.org.clone(),
                    user_id: Some(self.user.clone()),
                    team_id: None,
                },
                amount: credits(dec!(15)),
                currency: self.eur,
                fee_type: FeeType::Charge,
                ttl_seconds: Some(60),
                metadata: None,
                principal: "gateway".to_owned(),
            })
            .await
            .unwrap();
        let wallet = self.wallet(&wallet).await;
        let session_id = wallet.rules[0]
            .state
            .pending_session_id
            .clone()
            .expect("the crossing started a paid top-up");
        (wallet, self.session(&session_id).await)
    }

    pub(crate) async fn wallet(&self, wallet: &Wallet) -> Wallet {
        self.ledger
            .store()
            .wallet(&wallet.id)
            .await
            .unwrap()
            .unwrap()
    }

    pub(crate) async fn session(&self, id: &PaymentSessionId) -> PaymentSession {
        self.store.payment_session(id).await.unwrap().unwrap()
    }

    /// The orders created at the fake for this session (`POST /api/orders` with its
    /// reference).
    pub(crate) fn orders_created_for(&self, session: &PaymentSession) -> usize {
        self.fake
            .requests_to("POST", "/api/orders")
            .into_iter()
            .filter(|request| request.path == "/api/orders")
            .filter(|request| {
                request.json()["merchant_order_data"]["reference"] == session.id.as_str()
            })
            .count()
    }

    /// The order the first payment request named (`POST /api/orders/{id}/payments`).
    pub(crate) fn first_paid_order(&self) -> String {
        let pay = &self.fake.requests_to("POST", "/api/orders/")[0];
        pay.path
            .trim_start_matches("/api/orders/")
            .trim_end_matches("/payments")
            .to_owned()
    }

    /// The payment attempts the fake recorded on an order.
    pub(crate) fn payments_on(&self, order_id: &str) -> Vec<serde_json::Value> {
        self.fake.order(order_id).unwrap()["payments"]
            .as_array()
            .unwrap()
            .clone()
    }
}

pub(crate) fn credits(value: Decimal) -> Credits {
    Credits::try_new(value).unwrap()
}

fn paid_threshold_rule(method: PaymentMethodId) -> TopupRule {
    TopupRule {
        id: RuleId::parse(RULE_ID_UNSET).unwrap(),
        method: RuleMethod::Fixed,
        trigger: RuleTrigger::Threshold,
        interval: None,
        threshold_credits: Some(credits(dec!(10))),
        target_ongoing_balance: None,
        paid_credits: Some(credits(dec!(25))),
        granted_credits: None,
        credit_type: None,
        payment_method_id: Some(method),
        started_at: None,
        last_period_fired: 0,
        armed: true,
        max_paid_credits_per_month: None,
        state: Default::default(),
    }
}

#[tokio::test]
async fn a_charge_that_timed_out_after_paying_is_credited_by_another_replica_without_a_second_order()
 {
    // Arrange
    let world = World::new().await;
    let (wallet, session) = world.rule_started_a_paid_top_up().await;
    let replica_a = world.replica();
    let replica_b = world.replica();
    // Every attempt at paying (the first and the adapter's two repeats) outlives the
    // client's timeout; the first one still pays the order at the fake.
    world.fake.inject(
        "POST",
        "/api/orders/",
        Fault::Delay(StdDuration::from_millis(700)),
        3,
    );

    // Act
    let after_a = replica_a.charge_auto_topup(&session).await.unwrap();
    let order_id = world.first_paid_order();
    order_reaches(&world.fake, &order_id, "completed").await;
    world
        .clock
        .advance(Duration::seconds(STUCK_AFTER_SECONDS + 1));
    let report = replica_b.sweep().await.unwrap();

    // Assert
    assert_eq!(
        after_a.status,
        PaymentStatus::Capturing,
        "outcome unknown to A"
    );
    assert_eq!(report.sessions_reconciled, 1);
    assert_eq!(
        world.orders_created_for(&session),
        1,
        "one order at Revolut"
    );
    assert_eq!(
        world.payments_on(&order_id).len(),
        1,
        "one payment at Revolut"
    );
    let resumed = world.session(&session.id).await;
    assert_eq!(resumed.status, PaymentStatus::Completed);
    assert_eq!(
        resumed.provider_order_id.as_deref(),
        Some(order_id.as_str())
    );
    assert_eq!(
        after_a.provider_order_id.as_deref(),
        Some(order_id.as_str()),
        "stored before the payment call"
    );
    let after = world.wallet(&wallet).await;
    assert_eq!(after.paid, credits(dec!(25)), "credited exactly once");
    assert!(after.rules[0].state.pending_session_id.is_none());
    assert!(world.ledger.audit().await.unwrap().is_clean());
}

#[tokio::test]
async fn a_charge_whose_payment_never_happened_is_paid_by_another_replica_on_the_same_order() {
    // Arrange
    let world = World::new().await;
    let (wallet, session) = world.rule_started_a_paid_top_up().await;
    let replica_a = world.replica();
    let replica_b = world.replica();
    // The order is created, then every attempt at paying it fails before any work.
    world
        .fake
        .inject("POST", "/api/orders/", Fault::ServerError, 3);

    // Act
    let after_a = replica_a.charge_auto_topup(&session).await.unwrap();
    let order_id = world.first_paid_order();
    let unpaid = world.payments_on(&order_id).len();
    world
        .clock
        .advance(Duration::seconds(STUCK_AFTER_SECONDS + 1));
    let resumed = replica_b.reconcile(&session.id).await.unwrap();

    // Assert
    assert_eq!(after_a.status, PaymentStatus::Capturing);
    assert_eq!(unpaid, 0, "nothing paid before the reconciler");
    assert_eq!(
        world.orders_created_for(&session),
        1,
        "the same order, not a new one"
    );
    assert_eq!(world.payments_on(&order_id).len(), 1);
    assert_eq!(resumed.status, PaymentStatus::Completed);
    assert_eq!(
        resumed.provider_order_id.as_deref(),
        Some(order_id.as_str())
    );
    assert_eq!(
        world
            .fake
            .count("POST", &format!("/api/orders/{order_id}/payments")),
        4,
        "A's three refused attempts, then B's payment"
    );
    assert_eq!(world.wallet(&wallet).await.paid, credits(dec!(25)));
    assert!(world.ledger.audit().await.unwrap().is_clean());
}
