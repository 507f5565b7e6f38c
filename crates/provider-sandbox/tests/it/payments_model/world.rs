//! The system under test and the model side by side: set-up, and one operation on both.

use std::sync::{Arc, Mutex};

use ledger_core::cascade::CascadeScope;
use ledger_core::id::{OrgId, PaymentSessionId, TeamId, UserId, WalletId};
use ledger_core::journal::WalletLine;
use ledger_core::money::{Credits, Currency, Money};
use ledger_core::payment_session::{PaymentSession, PaymentStatus};
use ledger_core::payments::{Payments, StartCheckout};
use ledger_core::ports::{
    DirectoryStore, LedgerStore, PageRequest, ProviderEvent, ProviderEventKind, WalletLineFilter,
};
use ledger_core::service::NewWallet;
use ledger_core::tenancy::{Organization, Team, User, UserRole};
use ledger_core::wallet::{Owner, Wallet};
use ledger_core::{Ledger, LedgerError};
use provider_sandbox::SandboxProvider;
use rust_decimal::{Decimal, RoundingStrategy};
use store_memory::MemoryStore;
use testkit::{CounterIds, ManualClock};

use super::model::{Model, ModelWallet, Outcome};
use super::recording::{Recorder, Transitions};
use super::{RefundAmount, WalletSpec};
use crate::support::Providers;

pub(super) const ORG: &str = "org_acme";
pub(super) const OTHER_ORG: &str = "org_other";
const TEAM: &str = "team_ml";
const ADA: &str = "user_ada";
const BOB: &str = "user_bob";
const ZED: &str = "user_zed";
pub(super) const STATE: &str = "state-xyz";

/// The second organization, set up once and never named by an operation.
#[derive(Debug)]
pub(super) struct OtherOrg {
    pub(super) wallet: Wallet,
    pub(super) session: PaymentSession,
    pub(super) lines: u64,
}

pub(super) struct World {
    pub(super) ledger: Ledger,
    pub(super) payments: Payments,
    pub(super) sandbox: Arc<SandboxProvider>,
    pub(super) clock: Arc<ManualClock>,
    pub(super) transitions: Arc<Mutex<Transitions>>,
    pub(super) model: Model,
    pub(super) usd: Currency,
    /// Each session's status at the last check.
    pub(super) seen: Vec<PaymentStatus>,
    pub(super) other: OtherOrg,
}

pub(super) fn org() -> OrgId {
    OrgId::parse(ORG).unwrap()
}

/// The checkout targets, by index.
fn owner(index: usize) -> Owner {
    match index {
        0 => Owner::Organization(org()),
        1 => Owner::Team(TeamId::parse(TEAM).unwrap()),
        2 => Owner::User(UserId::parse(ADA).unwrap()),
        _ => Owner::User(UserId::parse(BOB).unwrap()),
    }
}

/// A reserve's scope and the checkout targets its cascade tries, in order.
pub(super) fn scope(index: usize) -> (CascadeScope, &'static [usize]) {
    let (user, team, owners): (Option<&str>, Option<&str>, &'static [usize]) = match index {
        0 => (None, None, &[0]),
        1 => (None, Some(TEAM), &[1, 0]),
        2 => (Some(ADA), Some(TEAM), &[2, 1, 0]),
        _ => (Some(BOB), None, &[3, 0]),
    };
    let scope = CascadeScope {
        org_id: org(),
        user_id: user.map(|id| UserId::parse(id).unwrap()),
        team_id: team.map(|id| TeamId::parse(id).unwrap()),
    };
    (scope, owners)
}

/// The outcome of a call; infrastructure errors fail the test.
pub(super) fn outcome<T>(result: &Result<T, LedgerError>) -> Outcome {
    match result {
        Ok(_) => Outcome::Done,
        Err(LedgerError::Invalid(_)) => Outcome::Invalid,
        Err(LedgerError::Conflict { code, .. }) => Outcome::Conflict(code),
        Err(LedgerError::InvalidTransition { .. }) => Outcome::InvalidTransition,
        Err(LedgerError::InsufficientBalance { .. }) => Outcome::InsufficientBalance,
        Err(LedgerError::Provider(_)) => Outcome::Provider,
        Err(other) => panic!("unexpected failure: {other:?}"),
    }
}

pub(super) fn credits(value: Decimal) -> Credits {
    Credits::try_new(value).unwrap()
}

async fn directory(store: &MemoryStore, now: time::OffsetDateTime) {
    let usd = Currency::parse("USD").unwrap();
    for id in [ORG, OTHER_ORG] {
        store
            .insert_org(&Organization {
                id: OrgId::parse(id).unwrap(),
                name: id.to_owned(),
                external_id: None,
                default_currency: usd,
                created_at: now,
            })
            .await
            .unwrap();
    }
    store
        .insert_team(&Team {
            id: TeamId::parse(TEAM).unwrap(),
            org_id: org(),
            name: "ML".to_owned(),
        })
        .await
        .unwrap();
    for (id, org_id) in [(ADA, ORG), (BOB, ORG), (ZED, OTHER_ORG)] {
        store
            .insert_user(&User {
                id: UserId::parse(id).unwrap(),
                org_id: OrgId::parse(org_id).unwrap(),
                email: format!("{id}@example.test"),
                name: None,
                external_id: None,
                role: UserRole::Member,
                team_ids: if id == ADA {
                    vec![TeamId::parse(TEAM).unwrap()]
                } else {
                    Vec::new()
                },
                team_owner_of: Vec::new(),
                created_at: now,
            })
            .await
            .unwrap();
    }
}

fn new_wallet(org_id: OrgId, owner: Owner, spec: &WalletSpec, usd: Currency) -> NewWallet {
    NewWallet {
        org_id,
        owner,
        name: None,
        currency: usd,
        rate_amount: spec.rate,
        paid: credits(spec.paid),
        granted: credits(spec.granted),
        expiration_at: None,
        activates_at: None,
        priority: 0,
        fee_types: Vec::new(),
        rules: Vec::new(),
        principal: "admin".to_owned(),
    }
}

impl World {
    pub(super) async fn new(wallets: &[WalletSpec; 3]) -> Self {
        let store = Arc::new(MemoryStore::new());
        let (recording, transitions) = Recorder::wrap(store.clone());
        let clock = Arc::new(ManualClock::default());
        let ids = Arc::new(CounterIds::default());
        let ledger = Ledger::new(Arc::new(recording), clock.clone(), ids.clone());
        let sandbox = Arc::new(SandboxProvider::new(
            store.clone(),
            ids,
            "http://127.0.0.1:8080",
        ));
        let payments = Payments::new(
            ledger.clone(),
            store.clone(),
            Arc::new(Providers(sandbox.clone())),
        );
        let usd = Currency::parse("USD").unwrap();
        directory(&store, ledger.clock().now()).await;

        let mut model = Model::new(ledger.clock().now());
        for (index, spec) in wallets.iter().enumerate() {
            let wallet = ledger
                .create_wallet(&new_wallet(org(), owner(index), spec, usd))
                .await
                .unwrap();
            model.add_wallet(
                index,
                ModelWallet {
                    id: wallet.id,
                    rate: spec.rate,
                    paid: spec.paid,
                    granted: spec.granted,
                    held: Decimal::ZERO,
                    debt: Decimal::ZERO,
                    spent: Decimal::ZERO,
                },
            );
        }
        let other = Self::other_org(&ledger, &payments, &sandbox, usd).await;
        Self {
            ledger,
            payments,
            sandbox,
            clock,
            transitions,
            model,
            usd,
            seen: Vec::new(),
            other,
        }
    }

    /// The second organization: a wallet with credits and one completed checkout.
    async fn other_org(
        ledger: &Ledger,
        payments: &Payments,
        sandbox: &SandboxProvider,
        usd: Currency,
    ) -> OtherOrg {
        let other_org = OrgId::parse(OTHER_ORG).unwrap();
        let spec = WalletSpec {
            rate: Decimal::ONE,
            paid: Decimal::from(30),
            granted: Decimal::from(5),
        };
        ledger
            .create_wallet(&new_wallet(
                other_org.clone(),
                Owner::Organization(other_org.clone()),
                &spec,
                usd,
            ))
            .await
            .unwrap();
        let session = payments
            .start_checkout(&StartCheckout {
                org_id: other_org.clone(),
                user_id: Some(UserId::parse(ZED).unwrap()),
                provider: provider_sandbox::NAME.to_owned(),
                target_owner: Owner::Organization(other_org),
                amount: Money::try_new(Decimal::new(1_250, 2), usd).unwrap(),
                surface: "console".to_owned(),
                return_url: "https://console.example/return".to_owned(),
                cancel_url: "https://console.example/cancel".to_owned(),
                checkout_state: STATE.to_owned(),
                save_payment_method: false,
                principal: ZED.to_owned(),
            })
            .await
            .unwrap();
        sandbox
            .approve(session.provider_order_id.as_deref().unwrap())
            .await
            .unwrap();
        let done = payments.confirm(&session.id, None, STATE).await.unwrap();
        let session = done.session().clone();
        assert_eq!(session.status, PaymentStatus::Completed);
        let wallet = ledger
            .store()
            .wallet(&session.wallet_id)
            .await
            .unwrap()
            .unwrap();
        let lines = all_lines(ledger.store().as_ref(), &wallet.id).await.len();
        OtherOrg {
            wallet,
            session,
            lines: u64::try_from(lines).unwrap(),
        }
    }

    pub(super) fn checkout(&self, owner_index: usize, cents: i64) -> StartCheckout {
        StartCheckout {
            org_id: org(),
            user_id: Some(UserId::parse(ADA).unwrap()),
            provider: provider_sandbox::NAME.to_owned(),
            target_owner: owner(owner_index),
            amount: Money::try_new(Decimal::new(cents, 2), self.usd).unwrap(),
            surface: "console".to_owned(),
            return_url: "https://console.example/return".to_owned(),
            cancel_url: "https://console.example/cancel".to_owned(),
            checkout_state: STATE.to_owned(),
            save_payment_method: false,
            principal: ADA.to_owned(),
        }
    }

    pub(super) fn money(&self, amount: Decimal) -> Money {
        Money::try_new(amount, self.usd).unwrap()
    }

    pub(super) fn session_ids(&self, session: usize) -> (PaymentSessionId, String) {
        let session = &self.model.sessions[session];
        (session.id.clone(), session.order_id.clone())
    }

    pub(super) fn event(
        &self,
        session: usize,
        event_id: String,
        kind: ProviderEventKind,
    ) -> ProviderEvent {
        ProviderEvent {
            event_id,
            order_id: Some(self.model.sessions[session].order_id.clone()),
            session_id: None,
            kind,
        }
    }

    /// The money a refund asks for, from what is left of the session.
    pub(super) fn refund_money(&self, session: usize, amount: RefundAmount) -> Option<Decimal> {
        let left = self.model.sessions[session].left();
        match amount {
            RefundAmount::All => None,
            RefundAmount::Cents(cents) => Some(Decimal::new(cents, 2)),
            RefundAmount::Percent(percent) => Some(
                (left * Decimal::from(percent) / Decimal::ONE_HUNDRED)
                    .round_dp_with_strategy(2, RoundingStrategy::ToZero),
            ),
            RefundAmount::Above(cents) => Some(left + Decimal::new(cents, 2)),
            RefundAmount::SubCent(thousandths) => Some(Decimal::new(thousandths, 3)),
        }
    }
}

/// Every history line of a wallet, newest first.
pub(super) async fn all_lines(store: &dyn LedgerStore, wallet_id: &WalletId) -> Vec<WalletLine> {
    store
        .wallet_lines(&WalletLineFilter {
            wallet_id: wallet_id.clone(),
            kind: None,
            from: None,
            to: None,
            page: PageRequest {
                page: 1,
                per_page: 100_000,
            },
        })
        .await
        .unwrap()
        .items
}
