//! Expiring a Revolut checkout the buyer never paid. Revolut captures by itself, so an order
//! left open when purse expires the session could still be paid, and with its webhook lost
//! nothing would credit it. The sweep therefore cancels the order at Revolut first, expires
//! the session only once Revolut says the order is cancelled, and follows an order that was
//! paid (or is being paid) meanwhile to its credit.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use ledger_core::Ledger;
use ledger_core::id::OrgId;
use ledger_core::money::Credits;
use ledger_core::payment_session::{PaymentSession, PaymentStatus};
use ledger_core::payments::{
    Payments, ProviderResolver, SESSION_TTL_SECONDS_DEFAULT, STUCK_AFTER_SECONDS, StartCheckout,
};
use ledger_core::ports::{Clock, PaymentProvider, WebhookRequest};
use ledger_core::wallet::Owner;
use provider_revolut::RevolutProvider;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use store_memory::MemoryStore;
use testkit::fake_revolut::{FakeRevolutServer, Fault};
use testkit::{CounterIds, ManualClock};
use time::Duration;

use crate::{assert_audits_clean, config, eur, order_reaches};

#[derive(Debug)]
struct Only(Arc<RevolutProvider>);

impl ProviderResolver for Only {
    fn provider(&self, name: &str) -> Option<Arc<dyn PaymentProvider>> {
        (name == "revolut_pro").then(|| self.0.clone() as Arc<dyn PaymentProvider>)
    }
}

/// purse over the memory store with the Revolut adapter, and a fake Revolut with no webhook
/// URL: every delivery is lost.
struct World {
    fake: FakeRevolutServer,
    clock: Arc<ManualClock>,
    ledger: Ledger,
    adapter: Arc<RevolutProvider>,
    payments: Payments,
    org: OrgId,
}

impl World {
    async fn new() -> Self {
        let fake = FakeRevolutServer::start().await;
        let store = Arc::new(MemoryStore::new());
        let clock = Arc::new(ManualClock::at(time::OffsetDateTime::now_utc()));
        let ledger = Ledger::new(
            store.clone(),
            clock.clone(),
            Arc::new(CounterIds::default()),
        );
        let adapter = Arc::new(
            RevolutProvider::with_clock(config(&fake, vec![fake.signing_secret()]), clock.clone())
                .unwrap(),
        );
        let payments = Payments::new(ledger.clone(), store, Arc::new(Only(adapter.clone())));
        Self {
            fake,
            clock,
            ledger,
            adapter,
            payments,
            org: OrgId::parse("org_acme").unwrap(),
        }
    }

    /// A buyer opens a 25 EUR Revolut checkout and leaves the tab open.
    async fn checkout(&self) -> (PaymentSession, String) {
        let session = self
            .payments
            .start_checkout(&StartCheckout {
                org_id: self.org.clone(),
                user_id: None,
                provider: "revolut_pro".to_owned(),
                target_owner: Owner::Organization(self.org.clone()),
                amount: eur(dec!(25)),
                surface: "console".to_owned(),
                return_url: "https://console.example/return".to_owned(),
                cancel_url: "https://console.example/cancel".to_owned(),
                checkout_state: "state".to_owned(),
                save_payment_method: false,
                principal: "admin".to_owned(),
            })
            .await
            .unwrap();
        let order_id = session.provider_order_id.clone().unwrap();
        (session, order_id)
    }

    fn pass_the_session_ttl(&self) {
        self.clock
            .advance(Duration::seconds(SESSION_TTL_SECONDS_DEFAULT + 1));
    }

    async fn session(&self, session: &PaymentSession) -> PaymentSession {
        self.payments
            .store()
            .payment_session(&session.id)
            .await
            .unwrap()
            .unwrap()
    }

    async fn paid_credits(&self, session: &PaymentSession) -> Credits {
        self.ledger
            .store()
            .wallet(&session.wallet_id)
            .await
            .unwrap()
            .unwrap()
            .paid
    }

    fn order_state(&self, order_id: &str) -> serde_json::Value {
        self.fake.order(order_id).unwrap()["state"].clone()
    }

    fn cancels(&self, order_id: &str) -> usize {
        self.fake.count("POST", &cancel_path(order_id))
    }

    /// Every attempt at cancelling the order (the first and the adapter's two repeats) meets
    /// `fault`.
    fn fault_every_cancel(&self, order_id: &str, fault: Fault) {
        self.fake.inject("POST", &cancel_path(order_id), fault, 3);
    }

    /// The lost `ORDER_COMPLETED` delivered after all, signed at the manual clock's time.
    async fn redeliver_order_completed(&self, session: &PaymentSession, order_id: &str) {
        let body = serde_json::to_vec(&serde_json::json!({
            "event": "ORDER_COMPLETED",
            "order_id": order_id,
            "merchant_order_ext_ref": session.id.as_str(),
        }))
        .unwrap();
        let timestamp_ms = self.clock.now().unix_timestamp_nanos() / 1_000_000;
        let headers = self.fake.sign_body(&body, timestamp_ms);
        let event = self
            .adapter
            .verify_webhook(&WebhookRequest { headers, body })
            .await
            .unwrap();
        self.payments
            .apply_event("revolut_pro", &event)
            .await
            .unwrap();
    }

    async fn assert_audits_clean(&self) {
        assert_audits_clean(&self.ledger, &self.payments).await;
    }

    /// The session completed with the checkout's 25 credited, and both audits are clean.
    async fn assert_completed_and_credited(&self, session: &PaymentSession) {
        assert_eq!(self.session(session).await.status, PaymentStatus::Completed);
        assert_eq!(self.paid_credits(session).await, credits(dec!(25)));
        self.assert_audits_clean().await;
    }
}

fn cancel_path(order_id: &str) -> String {
    format!("/api/orders/{order_id}/cancel")
}

fn credits(value: Decimal) -> Credits {
    Credits::try_new(value).unwrap()
}

#[tokio::test]
async fn the_sweep_cancels_the_unpaid_order_at_revolut_and_then_expires_the_session() {
    // Arrange
    let world = World::new().await;
    let (session, order_id) = world.checkout().await;
    world.pass_the_session_ttl();

    // Act
    let report = world.payments.sweep().await.unwrap();
    // The buyer comes back to the tab left open and tries to pay.
    let late_payment = world.fake.pay(&order_id, None).await;
    let again = world.payments.sweep().await.unwrap();

    // Assert
    assert_eq!(report.sessions_expired, 1);
    assert_eq!(world.session(&session).await.status, PaymentStatus::Expired);
    assert_eq!(world.order_state(&order_id), "cancelled");
    assert!(
        late_payment.is_none(),
        "the order of an expired session must not take money"
    );
    assert_eq!(world.cancels(&order_id), 1);
    assert_eq!(again.sessions_expired, 0, "nothing left to expire");
    assert_eq!(world.paid_credits(&session).await, credits(dec!(0)));
    world.assert_audits_clean().await;
}

#[tokio::test]
async fn an_order_paid_just_before_the_sweep_is_credited_once_and_not_expired() {
    // Arrange: the buyer pays in the last moment and the ORDER_COMPLETED webhook is lost.
    let world = World::new().await;
    let (session, order_id) = world.checkout().await;
    world.pass_the_session_ttl();
    world.fake.pay(&order_id, None).await.unwrap();

    // Act
    let report = world.payments.sweep().await.unwrap();
    let credited = world.session(&session).await;
    let later = world.payments.sweep().await.unwrap();
    world.redeliver_order_completed(&session, &order_id).await;

    // Assert
    assert_eq!(report.sessions_expired, 0);
    assert_eq!(later.sessions_expired, 0);
    assert_eq!(credited.status, PaymentStatus::Completed);
    assert_eq!(credited.credited_amount, Some(credits(dec!(25))));
    assert_eq!(
        world.session(&session).await.status,
        PaymentStatus::Completed
    );
    assert_eq!(
        world.paid_credits(&session).await,
        credits(dec!(25)),
        "credited exactly once, by the sweep; the late webhook adds nothing"
    );
    assert_eq!(world.order_state(&order_id), "completed");
    world.assert_audits_clean().await;
}

#[tokio::test]
async fn an_order_being_paid_when_the_sweep_comes_is_followed_to_its_credit() {
    // Arrange: the buyer pressed Pay; the payment is still processing at Revolut.
    let world = World::new().await;
    let (session, order_id) = world.checkout().await;
    world.pass_the_session_ttl();
    assert!(world.fake.start_payment(&order_id));

    // Act
    let first = world.payments.sweep().await.unwrap();
    let waiting = world.session(&session).await;
    assert!(world.fake.complete_payment(&order_id).await);
    world
        .clock
        .advance(Duration::seconds(STUCK_AFTER_SECONDS + 1));
    let second = world.payments.sweep().await.unwrap();

    // Assert
    assert_eq!(first.sessions_expired, 0);
    assert_eq!(
        waiting.status,
        PaymentStatus::Captured,
        "waits for the payment"
    );
    assert_eq!(second.sessions_reconciled, 1);
    world.assert_completed_and_credited(&session).await;
}

#[tokio::test]
async fn a_cancel_that_times_out_leaves_the_session_open_and_the_next_sweep_expires_it() {
    // Arrange: every cancel attempt outlives the client's timeout; the first still cancels.
    let world = World::new().await;
    let (session, order_id) = world.checkout().await;
    world.pass_the_session_ttl();
    world.fault_every_cancel(&order_id, Fault::Delay(StdDuration::from_millis(600)));

    // Act
    let first = world.payments.sweep().await.unwrap();
    let open = world.session(&session).await;
    order_reaches(&world.fake, &order_id, "cancelled").await;
    let second = world.payments.sweep().await.unwrap();

    // Assert
    assert_eq!(first.sessions_expired, 0);
    assert_eq!(
        open.status,
        PaymentStatus::Created,
        "unknown whether the order is cancelled"
    );
    assert_eq!(second.sessions_expired, 1);
    assert_eq!(world.session(&session).await.status, PaymentStatus::Expired);
    assert!(world.fake.pay(&order_id, None).await.is_none());
    assert_eq!(world.paid_credits(&session).await, credits(dec!(0)));
    world.assert_audits_clean().await;
}

#[tokio::test]
async fn a_cancel_that_failed_leaves_the_session_open_and_a_payment_before_the_next_sweep_is_credited()
 {
    // Arrange: Revolut fails every cancel attempt before doing anything.
    let world = World::new().await;
    let (session, order_id) = world.checkout().await;
    world.pass_the_session_ttl();
    world.fault_every_cancel(&order_id, Fault::ServerError);

    // Act
    let first = world.payments.sweep().await.unwrap();
    let open = world.session(&session).await;
    // The order is still payable, and the buyer pays; the webhook is lost.
    world.fake.pay(&order_id, None).await.unwrap();
    world.clock.advance(Duration::minutes(1));
    let second = world.payments.sweep().await.unwrap();

    // Assert
    assert_eq!(first.sessions_expired, 0);
    assert_eq!(open.status, PaymentStatus::Created);
    assert_eq!(second.sessions_expired, 0);
    world.assert_completed_and_credited(&session).await;
}

#[tokio::test]
async fn an_order_that_expired_at_revolut_meanwhile_expires_the_session() {
    // Arrange: `expire_pending_after` elapsed at Revolut before the sweep came.
    let world = World::new().await;
    let (session, order_id) = world.checkout().await;
    world.pass_the_session_ttl();
    world.fake.expire(&order_id).await;

    // Act
    let report = world.payments.sweep().await.unwrap();

    // Assert
    assert_eq!(report.sessions_expired, 1);
    assert_eq!(world.session(&session).await.status, PaymentStatus::Expired);
    assert_eq!(world.order_state(&order_id), "failed");
    world.assert_audits_clean().await;
}

#[tokio::test]
async fn checkout_orders_expire_at_revolut_no_sooner_than_the_session() {
    let world = World::new().await;

    let (session, _order_id) = world.checkout().await;

    let create = &world.fake.requests_to("POST", "/api/orders")[0];
    assert_eq!(create.json()["expire_pending_after"], "PT3H");
    assert_eq!(
        session.expires_at - session.created_at,
        Duration::seconds(SESSION_TTL_SECONDS_DEFAULT),
        "the session's TTL is 3 hours"
    );
}

#[tokio::test]
async fn a_buyer_whose_card_was_declined_may_pay_again_and_is_credited_once() {
    // Arrange: the buyer's first attempt is declined; the order is `pending` again.
    let world = World::new().await;
    let (session, order_id) = world.checkout().await;
    world.fake.decline(&order_id, "insufficient_funds").await;

    // Act
    let after_decline = world
        .payments
        .confirm(&session.id, None, "state")
        .await
        .unwrap();
    world.fake.pay(&order_id, None).await.unwrap();
    let paid = world
        .payments
        .confirm(&session.id, None, "state")
        .await
        .unwrap();

    // Assert
    assert_eq!(
        after_decline.session().status,
        PaymentStatus::Created,
        "a declined attempt does not close a buyer's checkout"
    );
    assert_eq!(paid.session().status, PaymentStatus::Completed);
    assert_eq!(world.paid_credits(&session).await, credits(dec!(25)));
    assert_eq!(world.cancels(&order_id), 0);
    world.assert_audits_clean().await;
}
