//! The harness every contract case runs in: the store, a `Ledger` on it, a manual clock, and
//! builders of domain values.

use std::sync::Arc;

use ledger_core::Ledger;
use ledger_core::cascade::CascadeScope;
use ledger_core::cost_ticket::{CostTicket, CostTicketStatus};
use ledger_core::id::{CostTicketId, OrgId, ReservationId, TeamId, UserId, WalletId};
use ledger_core::money::{Credits, Currency};
use ledger_core::ports::IdSource;
use ledger_core::reservation::{Reservation, ReservationStatus};
use ledger_core::service::{NewWallet, ReserveRequest};
use ledger_core::wallet::{FeeType, Owner, Wallet, WalletStatus};
use rust_decimal::Decimal;
use time::{Duration, OffsetDateTime};

use super::StoreUnderTest;
use crate::{CounterIds, ManualClock};

/// A fresh store plus everything a case needs.
#[derive(Debug)]
pub struct Harness {
    /// The store under test.
    pub store: StoreUnderTest,
    /// The service on the store.
    pub ledger: Ledger,
    /// The service's clock.
    pub clock: Arc<ManualClock>,
    /// The service's ids (also used for raw values).
    pub ids: Arc<CounterIds>,
    /// The organization of the fixtures.
    pub org: OrgId,
    /// A team of it.
    pub team: TeamId,
    /// A user of it.
    pub user: UserId,
    /// The currency of the fixtures.
    pub usd: Currency,
}

/// Whole credits.
///
/// # Panics
/// When `units` is negative.
pub fn credits(units: i64) -> Credits {
    Credits::try_new(Decimal::from(units)).expect("non-negative credits")
}

/// Credits from a decimal string.
///
/// # Panics
/// When the text is not a credit amount.
pub fn credits_str(text: &str) -> Credits {
    text.parse().expect("a credit amount")
}

impl Harness {
    /// Wraps a fresh store.
    ///
    /// # Panics
    /// Never: the fixture ids are well-formed.
    pub fn new(store: StoreUnderTest) -> Self {
        let clock = Arc::new(ManualClock::default());
        let ids = Arc::new(CounterIds::default());
        let ledger = Ledger::new(store.ledger.clone(), clock.clone(), ids.clone());
        Self {
            store,
            ledger,
            clock,
            ids,
            org: OrgId::parse("org_acme").expect("fixture id"),
            team: TeamId::parse("team_ml").expect("fixture id"),
            user: UserId::parse("user_ada").expect("fixture id"),
            usd: Currency::parse("USD").expect("fixture currency"),
        }
    }

    /// Runs the store's teardown.
    pub async fn finish(self) {
        self.store.finish().await;
    }

    /// The current instant of the clock.
    pub fn now(&self) -> OffsetDateTime {
        use ledger_core::ports::Clock;
        self.clock.now()
    }

    /// A fresh id suffix.
    pub fn suffix(&self) -> String {
        self.ids.next_suffix()
    }

    /// The wallet request of the fixtures: USD, rate 1, no rules.
    pub fn new_wallet(&self, owner: Owner, paid: i64, granted: i64) -> NewWallet {
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
            principal: "contract".to_owned(),
        }
    }

    /// Creates a wallet through the service (with its opening journal).
    ///
    /// # Panics
    /// When the service refuses.
    pub async fn create_wallet(&self, owner: Owner, paid: i64, granted: i64) -> Wallet {
        self.ledger
            .create_wallet(&self.new_wallet(owner, paid, granted))
            .await
            .expect("create wallet")
    }

    /// The user's wallet owner.
    pub fn user_owner(&self) -> Owner {
        Owner::User(self.user.clone())
    }

    /// A reserve request for the fixture user and team.
    pub fn reserve_request(&self, amount: Credits) -> ReserveRequest {
        ReserveRequest {
            scope: CascadeScope {
                org_id: self.org.clone(),
                user_id: Some(self.user.clone()),
                team_id: Some(self.team.clone()),
            },
            amount,
            currency: self.usd,
            fee_type: FeeType::Charge,
            ttl_seconds: Some(60),
            metadata: None,
            principal: "gateway".to_owned(),
        }
    }

    /// A wallet value with no journal behind it (for raw port calls).
    pub fn raw_wallet(&self, owner: Owner) -> Wallet {
        let now = self.now();
        Wallet {
            id: WalletId::from_suffix(&self.suffix()),
            org_id: self.org.clone(),
            owner,
            name: None,
            status: WalletStatus::Active,
            currency: self.usd,
            rate_amount: Decimal::ONE,
            paid: Credits::ZERO,
            granted: Credits::ZERO,
            held: Credits::ZERO,
            debt: Credits::ZERO,
            total_spent: Credits::ZERO,
            total_allocated: Credits::ZERO,
            expiration_at: None,
            activates_at: None,
            priority: 0,
            fee_types: Vec::new(),
            rules: Vec::new(),
            created_at: now,
            updated_at: now,
        }
    }

    /// A held reservation value on `wallet` (for raw port calls).
    pub fn raw_reservation(&self, wallet: &Wallet, amount: Credits) -> Reservation {
        let now = self.now();
        Reservation {
            id: ReservationId::from_suffix(&self.suffix()),
            org_id: wallet.org_id.clone(),
            wallet_id: wallet.id.clone(),
            wallet_owner: wallet.owner.clone(),
            user_id: Some(self.user.clone()),
            team_id: None,
            amount,
            fee_type: FeeType::Charge,
            status: ReservationStatus::Held,
            expires_at: now + Duration::seconds(60),
            settled_amount: None,
            requested_amount: None,
            uncollected_amount: None,
            released_amount: None,
            end_reason: None,
            wallet_balance_after: None,
            metadata: None,
            created_at: now,
            ended_at: None,
        }
    }

    /// An open cost ticket value (for raw port calls).
    pub fn raw_ticket(&self, required: Credits) -> CostTicket {
        let now = self.now();
        CostTicket {
            id: CostTicketId::from_suffix(&self.suffix()),
            org_id: self.org.clone(),
            user_id: Some(self.user.clone()),
            team_id: Some(self.team.clone()),
            currency: self.usd,
            required_amount: required,
            best_available_amount: Credits::ZERO,
            shortfall_amount: required,
            fee_type: FeeType::Charge,
            status: CostTicketStatus::Open,
            reservation_id: None,
            reservation_ttl_seconds: None,
            metadata: None,
            created_at: now,
            resolved_at: None,
            expires_at: now + Duration::seconds(3600),
        }
    }

    /// Inserts and commits a raw wallet.
    ///
    /// # Panics
    /// When the store refuses.
    pub async fn insert_raw_wallet(&self, wallet: &Wallet) {
        let mut uow = self.store.ledger.begin().await.expect("begin");
        uow.insert_wallet(wallet).await.expect("insert wallet");
        uow.commit().await.expect("commit");
    }

    /// Asserts that the audit finds no breach.
    ///
    /// # Panics
    /// When it does.
    pub async fn assert_audit_clean(&self) {
        let report = self.ledger.audit().await.expect("audit");
        assert!(
            report.is_clean(),
            "audit found breaches: {:#?}",
            report.breaches
        );
    }

    /// The stored wallet.
    ///
    /// # Panics
    /// When it is missing.
    pub async fn stored_wallet(&self, id: &WalletId) -> Wallet {
        self.store
            .ledger
            .wallet(id)
            .await
            .expect("read wallet")
            .expect("wallet exists")
    }
}
