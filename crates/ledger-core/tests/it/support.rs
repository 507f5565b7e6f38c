//! Fixtures shared by the tests of this binary.

use std::sync::Arc;

use ledger_core::Ledger;
use ledger_core::cascade::CascadeScope;
use ledger_core::id::{OrgId, PaymentMethodId, RuleId, TeamId, UserId};
use ledger_core::money::{Credits, Currency};
use ledger_core::payments::{Payments, ProviderResolver};
use ledger_core::ports::{MockPaymentProvider, PaymentProvider, PaymentStore, SavedPaymentMethod};
use ledger_core::service::{NewWallet, RULE_ID_UNSET, ReserveRequest};
use ledger_core::topup_rule::{RuleMethod, RuleTrigger, TopupRule};
use ledger_core::wallet::{FeeType, Owner};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use store_memory::MemoryStore;
use testkit::{CounterIds, ManualClock};

pub(crate) struct Fixture {
    pub(crate) ledger: Ledger,
    pub(crate) store: Arc<MemoryStore>,
    pub(crate) clock: Arc<ManualClock>,
    pub(crate) org: OrgId,
    pub(crate) team: TeamId,
    pub(crate) user: UserId,
    pub(crate) usd: Currency,
}

impl Fixture {
    pub(crate) fn new() -> Self {
        let store = Arc::new(MemoryStore::new());
        let clock = Arc::new(ManualClock::default());
        let ledger = Ledger::new(
            store.clone(),
            clock.clone(),
            Arc::new(CounterIds::default()),
        );
        Self {
            ledger,
            store,
            clock,
            org: OrgId::parse("org_acme").unwrap(),
            team: TeamId::parse("team_ml").unwrap(),
            user: UserId::parse("user_ada").unwrap(),
            usd: Currency::parse("USD").unwrap(),
        }
    }

    pub(crate) fn new_wallet(&self, owner: Owner, paid: Decimal, granted: Decimal) -> NewWallet {
        NewWallet {
            org_id: self.org.clone(),
            owner,
            name: None,
            currency: self.usd,
            rate_amount: Decimal::ONE,
            paid: credits(paid),
            granted: credits(granted),
            expiration_at: None,
            activates_at: None,
            priority: 0,
            fee_types: Vec::new(),
            rules: Vec::new(),
            principal: "test".to_owned(),
        }
    }

    pub(crate) fn reserve_request(&self, amount: Decimal) -> ReserveRequest {
        ReserveRequest {
            scope: CascadeScope {
                org_id: self.org.clone(),
                user_id: Some(self.user.clone()),
                team_id: Some(self.team.clone()),
            },
            amount: credits(amount),
            currency: self.usd,
            fee_type: FeeType::Charge,
            ttl_seconds: Some(60),
            metadata: None,
            principal: "gateway".to_owned(),
        }
    }

    /// The payments service over the fixture's store, with `provider` (a mockall script) as the
    /// only configured provider, under `name`.
    pub(crate) fn payments_with(
        &self,
        name: &'static str,
        provider: MockPaymentProvider,
    ) -> Payments {
        Payments::new(
            self.ledger.clone(),
            self.store.clone(),
            Arc::new(Only {
                name,
                provider: Arc::new(provider),
            }),
        )
    }

    /// Saves a method of the fixture's user, in `org`, at `provider` with `token`.
    pub(crate) async fn saved_method(
        &self,
        org: &OrgId,
        id: &str,
        provider: &str,
        token: &str,
    ) -> SavedPaymentMethod {
        let method = SavedPaymentMethod {
            id: PaymentMethodId::parse(id).unwrap(),
            org_id: org.clone(),
            provider: provider.to_owned(),
            owner: Owner::User(self.user.clone()),
            provider_token: token.to_owned(),
            provider_customer_id: Some("cus-1".to_owned()),
            label: "visa •••• 4242".to_owned(),
            created_at: time::OffsetDateTime::UNIX_EPOCH,
        };
        self.store.insert_payment_method(&method).await.unwrap();
        method
    }

    pub(crate) async fn assert_audit_clean(&self) {
        let report = self.ledger.audit().await.unwrap();
        assert!(
            report.is_clean(),
            "audit found breaches: {:#?}",
            report.breaches
        );
    }
}

/// A resolver that knows one provider.
#[derive(Debug)]
struct Only {
    name: &'static str,
    provider: Arc<MockPaymentProvider>,
}

impl ProviderResolver for Only {
    fn provider(&self, name: &str) -> Option<Arc<dyn PaymentProvider>> {
        (name == self.name).then(|| self.provider.clone() as Arc<dyn PaymentProvider>)
    }
}

pub(crate) fn credits(value: Decimal) -> Credits {
    Credits::try_new(value).unwrap()
}

/// A new FIXED rule of `trigger` with no interval, threshold, amounts or method yet, armed and
/// with a fresh state: each test rule sets what it is about on top of it.
pub(crate) fn fixed_rule(trigger: RuleTrigger) -> TopupRule {
    TopupRule {
        id: RuleId::parse(RULE_ID_UNSET).unwrap(),
        method: RuleMethod::Fixed,
        trigger,
        interval: None,
        threshold_credits: None,
        target_ongoing_balance: None,
        paid_credits: None,
        granted_credits: None,
        credit_type: None,
        payment_method_id: None,
        started_at: None,
        last_period_fired: 0,
        armed: true,
        max_paid_credits_per_month: None,
        state: Default::default(),
    }
}

/// A FIXED threshold rule that buys 25 paid credits with `method` whenever the wallet's
/// available credits drop below 10.
pub(crate) fn paid_below_ten(method: &PaymentMethodId) -> TopupRule {
    TopupRule {
        threshold_credits: Some(credits(dec!(10))),
        paid_credits: Some(credits(dec!(25))),
        payment_method_id: Some(method.clone()),
        ..fixed_rule(RuleTrigger::Threshold)
    }
}
