use std::sync::Arc;

use ledger_core::Ledger;
use ledger_core::cascade::CascadeScope;
use ledger_core::id::{OrgId, UserId};
use ledger_core::money::{Credits, Currency, Money};
use ledger_core::payment_session::PaymentSession;
use ledger_core::payments::{Payments, ProviderResolver, StartCheckout};
use ledger_core::ports::PaymentProvider;
use ledger_core::service::ReserveRequest;
use ledger_core::wallet::{FeeType, Owner, Wallet};
use provider_sandbox::SandboxProvider;
use rust_decimal::Decimal;
use store_memory::MemoryStore;
use testkit::{CounterIds, ManualClock};

#[derive(Debug)]
pub(crate) struct Providers(pub Arc<SandboxProvider>);

impl ProviderResolver for Providers {
    fn provider(&self, name: &str) -> Option<Arc<dyn PaymentProvider>> {
        (name == provider_sandbox::NAME).then(|| self.0.clone() as Arc<dyn PaymentProvider>)
    }
}

/// A resolver that answers every provider name with the one provider.
#[derive(Debug)]
struct Only<P>(Arc<P>);

impl<P: PaymentProvider + 'static> ProviderResolver for Only<P> {
    fn provider(&self, _name: &str) -> Option<Arc<dyn PaymentProvider>> {
        Some(self.0.clone())
    }
}

pub(crate) struct Fixture {
    pub(crate) payments: Payments,
    pub(crate) ledger: Ledger,
    pub(crate) sandbox: Arc<SandboxProvider>,
    pub(crate) clock: Arc<ManualClock>,
    pub(crate) org: OrgId,
    pub(crate) user: UserId,
    pub(crate) usd: Currency,
}

impl Fixture {
    pub(crate) fn new() -> Self {
        let store = Arc::new(MemoryStore::new());
        let clock = Arc::new(ManualClock::default());
        let ids = Arc::new(CounterIds::default());
        let ledger = Ledger::new(store.clone(), clock.clone(), ids.clone());
        let sandbox = Arc::new(SandboxProvider::new(
            store.clone(),
            ids,
            "http://127.0.0.1:8080",
        ));
        let payments = Payments::new(ledger.clone(), store, Arc::new(Providers(sandbox.clone())));
        Self {
            payments,
            ledger,
            sandbox,
            clock,
            org: OrgId::parse("org_acme").unwrap(),
            user: UserId::parse("user_ada").unwrap(),
            usd: Currency::parse("USD").unwrap(),
        }
    }

    pub(crate) fn start(&self, amount: Decimal) -> StartCheckout {
        StartCheckout {
            org_id: self.org.clone(),
            user_id: Some(self.user.clone()),
            provider: "sandbox".to_owned(),
            target_owner: Owner::Organization(self.org.clone()),
            amount: Money::try_new(amount, self.usd).unwrap(),
            surface: "console".to_owned(),
            return_url: "https://console.example/return".to_owned(),
            cancel_url: "https://console.example/cancel".to_owned(),
            checkout_state: "state-xyz".to_owned(),
            save_payment_method: false,
            principal: "user_ada".to_owned(),
        }
    }

    /// A checkout the buyer approved at the sandbox.
    pub(crate) async fn approved(&self, amount: Decimal) -> PaymentSession {
        let session = self
            .payments
            .start_checkout(&self.start(amount))
            .await
            .unwrap();
        self.sandbox
            .approve(session.provider_order_id.as_deref().unwrap())
            .await
            .unwrap();
        session
    }

    /// A checkout the buyer approved and the console confirmed: the session is completed and
    /// its credits are paid into the wallet.
    pub(crate) async fn completed(&self, amount: Decimal) -> PaymentSession {
        let session = self.approved(amount).await;
        self.payments
            .confirm(&session.id, None, "state-xyz")
            .await
            .unwrap();
        session
    }

    /// The payments service over the fixture's ledger and store, with `provider` answering
    /// every provider name.
    pub(crate) fn payments_with<P: PaymentProvider + 'static>(&self, provider: Arc<P>) -> Payments {
        Payments::new(
            self.ledger.clone(),
            self.payments.store().clone(),
            Arc::new(Only(provider)),
        )
    }

    pub(crate) async fn wallet(&self, session: &PaymentSession) -> Wallet {
        self.ledger
            .store()
            .wallet(&session.wallet_id)
            .await
            .unwrap()
            .unwrap()
    }

    pub(crate) fn reserve(&self, amount: Decimal) -> ReserveRequest {
        ReserveRequest {
            scope: CascadeScope {
                org_id: self.org.clone(),
                user_id: Some(self.user.clone()),
                team_id: None,
            },
            amount: Credits::try_new(amount).unwrap(),
            currency: self.usd,
            fee_type: FeeType::Charge,
            ttl_seconds: Some(60),
            metadata: None,
            principal: "gateway".to_owned(),
        }
    }

    pub(crate) async fn assert_audit_clean(&self) {
        let sessions = ledger_core::payments::audit::audit_sessions(
            self.ledger.store().as_ref(),
            self.payments.store().as_ref(),
        )
        .await
        .unwrap();
        assert!(sessions.is_empty(), "payments audit: {sessions:#?}");
        let report = self.ledger.audit().await.unwrap();
        assert!(report.is_clean(), "audit: {:#?}", report.breaches);
    }
}

pub(crate) fn credits(value: Decimal) -> Credits {
    Credits::try_new(value).unwrap()
}
