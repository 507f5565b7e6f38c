//! Fixtures shared by the tests of this binary.

use std::sync::Arc;

use ledger_core::Ledger;
use ledger_core::cascade::CascadeScope;
use ledger_core::id::{OrgId, TeamId, UserId};
use ledger_core::money::{Credits, Currency};
use ledger_core::service::{NewWallet, ReserveRequest};
use ledger_core::wallet::{FeeType, Owner};
use rust_decimal::Decimal;
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

    pub(crate) async fn assert_audit_clean(&self) {
        let report = self.ledger.audit().await.unwrap();
        assert!(
            report.is_clean(),
            "audit found breaches: {:#?}",
            report.breaches
        );
    }
}

pub(crate) fn credits(value: Decimal) -> Credits {
    Credits::try_new(value).unwrap()
}
