use async_trait::async_trait;
use rust_decimal::Decimal;
use time::OffsetDateTime;

use crate::cost_ticket::{CostTicket, CostTicketStatus};
use crate::error::StoreError;
use crate::id::PaymentSessionId;
use crate::id::{CostTicketId, OrgId, ReservationId, TransactionId, UserId, WalletId};
use crate::journal::{EntryKind, JournalTransaction, WalletLine};
use crate::money::Currency;
use crate::payment_session::PaymentSession;
use crate::reservation::Reservation;
use crate::tenancy::WalletSettings;
use crate::wallet::{Owner, OwnerType, Wallet, WalletStatus};

/// Which page of a list, counted from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// The page, from 1.
    pub page: u32,
    /// Items per page, 1..=100.
    pub per_page: u32,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            page: 1,
            per_page: 20,
        }
    }
}

impl PageRequest {
    /// How many items to skip.
    pub fn offset(&self) -> u64 {
        u64::from(self.page.saturating_sub(1)) * u64::from(self.per_page)
    }
}

/// One page of a list and the total count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The items of the page.
    pub items: Vec<T>,
    /// How many items match in all.
    pub total: u64,
}

impl<T> Page<T> {
    /// Whether pages follow this one.
    pub fn has_more(&self, request: PageRequest) -> bool {
        request.offset() + (self.items.len() as u64) < self.total
    }
}

/// Which wallets a list shows. `None` fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WalletFilter {
    /// Only this organization's wallets (`None`: every organization, for platform admins).
    pub org_id: Option<OrgId>,
    /// Only this owner type.
    pub owner_type: Option<OwnerType>,
    /// Only this owner id.
    pub owner_id: Option<String>,
    /// Only this status.
    pub status: Option<WalletStatus>,
    /// Only wallets of one of these owners (the caller's visibility).
    pub visible_to: Option<Vec<Owner>>,
    /// The page. Ordered by `created_at`, then id.
    pub page: PageRequest,
}

/// Which cost tickets a list shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CostTicketFilter {
    /// The organization.
    pub org_id: Option<OrgId>,
    /// Only this status (as stored; the reader maps open-past-expiry to expired).
    pub status: Option<CostTicketStatus>,
    /// Only this user's.
    pub user_id: Option<UserId>,
    /// The page. Newest first.
    pub page: PageRequest,
}

/// Which history lines of a wallet a list shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalletLineFilter {
    /// The wallet.
    pub wallet_id: WalletId,
    /// Only this kind.
    pub kind: Option<EntryKind>,
    /// Only lines at or after.
    pub from: Option<OffsetDateTime>,
    /// Only lines at or before.
    pub to: Option<OffsetDateTime>,
    /// The page. Newest first.
    pub page: PageRequest,
}

/// Background work due at an instant.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DueWork {
    /// Held reservations whose `expires_at` has passed.
    pub expired_reservations: Vec<ReservationId>,
    /// PENDING wallets whose `activates_at` has passed.
    pub wallets_to_activate: Vec<WalletId>,
    /// Wallets not TERMINATED whose `expiration_at` has passed.
    pub wallets_to_expire: Vec<WalletId>,
    /// Open cost tickets whose `expires_at` has passed.
    pub tickets_to_expire: Vec<CostTicketId>,
}

impl DueWork {
    /// Whether nothing is due.
    pub fn is_empty(&self) -> bool {
        self.expired_reservations.is_empty()
            && self.wallets_to_activate.is_empty()
            && self.wallets_to_expire.is_empty()
            && self.tickets_to_expire.is_empty()
    }
}

/// What the audit needs from a store, read in one consistent snapshot.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditSnapshot {
    /// Every wallet.
    pub wallets: Vec<Wallet>,
    /// The sum of postings per account code.
    pub account_sums: Vec<(String, Decimal)>,
    /// Transactions whose postings do not sum to zero, with their sum.
    pub unbalanced_transactions: Vec<(TransactionId, Decimal)>,
    /// Per wallet, the sum of the amounts of its held reservations.
    pub open_hold_sums: Vec<(WalletId, Decimal)>,
    /// Records that touch a wallet or owner of another organization than their own
    /// (invariant 7, tenancy); empty in a sound ledger.
    pub cross_org_references: Vec<CrossOrgReference>,
}

/// A record of one organization that names a wallet (or a wallet that names an owner) of
/// another organization: a breach of tenancy the audit reports.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct CrossOrgReference {
    /// What the record is: `transaction` (its history lines name the wallet), `reservation`,
    /// `payment_session`, or `wallet_owner` (a wallet whose user or team owner belongs to
    /// another organization; an `organization` owner must be the wallet's own).
    pub kind: String,
    /// The record's id.
    pub id: String,
    /// The record's organization.
    pub org_id: String,
    /// The wallet (or owner) it names.
    pub other_id: String,
    /// That wallet's (or owner's) organization.
    pub other_org_id: String,
}

/// Durable storage of the ledger.
///
/// Writes happen only inside a [`UnitOfWork`]; the read methods here see committed data and
/// take no locks.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait LedgerStore: Send + Sync + std::fmt::Debug {
    /// Opens a unit of work: a transaction whose writes all become visible at `commit`, or not
    /// at all when it is dropped.
    ///
    /// # Errors
    /// MUST return `StoreError::Unavailable` when the database cannot be reached and
    /// `StoreError::Conflict` when it is busy beyond the adapter's own bounded wait.
    async fn begin(&self) -> Result<Box<dyn UnitOfWork>, StoreError>;

    /// A wallet.
    ///
    /// # Errors
    /// `StoreError::Unavailable` or `StoreError::Corrupt`.
    async fn wallet(&self, id: &WalletId) -> Result<Option<Wallet>, StoreError>;

    /// A page of wallets.
    ///
    /// # Errors
    /// `StoreError::Unavailable` or `StoreError::Corrupt`.
    async fn list_wallets(&self, filter: &WalletFilter) -> Result<Page<Wallet>, StoreError>;

    /// The wallets of `owners` in one organization and currency (the cascade's candidates).
    ///
    /// # Errors
    /// `StoreError::Unavailable` or `StoreError::Corrupt`.
    async fn cascade_wallets(
        &self,
        org_id: &OrgId,
        owners: &[Owner],
        currency: Currency,
    ) -> Result<Vec<Wallet>, StoreError>;

    /// A reservation.
    ///
    /// # Errors
    /// `StoreError::Unavailable` or `StoreError::Corrupt`.
    async fn reservation(&self, id: &ReservationId) -> Result<Option<Reservation>, StoreError>;

    /// A cost ticket.
    ///
    /// # Errors
    /// `StoreError::Unavailable` or `StoreError::Corrupt`.
    async fn cost_ticket(&self, id: &CostTicketId) -> Result<Option<CostTicket>, StoreError>;

    /// A page of cost tickets, newest first.
    ///
    /// # Errors
    /// `StoreError::Unavailable` or `StoreError::Corrupt`.
    async fn list_cost_tickets(
        &self,
        filter: &CostTicketFilter,
    ) -> Result<Page<CostTicket>, StoreError>;

    /// A page of a wallet's history lines, newest first.
    ///
    /// # Errors
    /// `StoreError::Unavailable` or `StoreError::Corrupt`.
    async fn wallet_lines(&self, filter: &WalletLineFilter)
    -> Result<Page<WalletLine>, StoreError>;

    /// What background work is due at `now`, at most `limit` items of each kind.
    ///
    /// # Errors
    /// `StoreError::Unavailable` or `StoreError::Corrupt`.
    async fn due_work(&self, now: OffsetDateTime, limit: u32) -> Result<DueWork, StoreError>;

    /// One page of the ACTIVE wallets that have at least one INTERVAL rule, due or not, in
    /// ascending wallet id order: those whose id is greater than `after` (all when `None`), at
    /// most `limit` of them.
    ///
    /// The sweep pages through them with the last id of each page as the next `after` (keyset
    /// paging), so every such wallet is visited however many there are. Whether a period is
    /// due is the core's calendar arithmetic, so the store cannot filter on it; the sweep
    /// checks each snapshot and locks only the wallets with a due period. (`after` is owned
    /// because mockall cannot mock an `Option<&T>` argument.)
    ///
    /// # Errors
    /// `StoreError::Unavailable` or `StoreError::Corrupt`.
    async fn interval_rule_wallets(
        &self,
        after: Option<WalletId>,
        limit: u32,
    ) -> Result<Vec<Wallet>, StoreError>;

    /// Everything the audit checks, read in one consistent snapshot.
    ///
    /// # Errors
    /// `StoreError::Unavailable` or `StoreError::Corrupt`.
    async fn audit_snapshot(&self) -> Result<AuditSnapshot, StoreError>;
}

/// One atomic unit of work: reads that lock, and writes that become visible together.
///
/// Lock order, to keep adapters free of deadlocks: wallets first (several in ascending id
/// order), then reservations and cost tickets. Adapters MAY still report a deadlock as
/// `StoreError::Conflict`; the service then runs the whole unit again.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait UnitOfWork: Send {
    /// Reads a wallet and locks it until the unit ends: no other unit changes it meanwhile.
    ///
    /// # Errors
    /// `StoreError::Conflict` on a deadlock or serialization failure, `Unavailable` otherwise.
    async fn lock_wallet(&mut self, id: &WalletId) -> Result<Option<Wallet>, StoreError>;

    /// The wallets of `owners` in one organization and currency, read without locks (the
    /// cascade's candidates; the service locks the one it picks with `lock_wallet`).
    ///
    /// # Errors
    /// `StoreError::Unavailable` or `StoreError::Corrupt`.
    async fn cascade_wallets(
        &mut self,
        org_id: &OrgId,
        owners: &[Owner],
        currency: Currency,
    ) -> Result<Vec<Wallet>, StoreError>;

    /// Stores a new wallet.
    ///
    /// # Errors
    /// `StoreError::Duplicate` when the id exists.
    async fn insert_wallet(&mut self, wallet: &Wallet) -> Result<(), StoreError>;

    /// Stores a wallet read by `lock_wallet` (balances, fields, rules, status).
    ///
    /// # Errors
    /// `StoreError::Unavailable`.
    async fn update_wallet(&mut self, wallet: &Wallet) -> Result<(), StoreError>;

    /// Appends a journal transaction with its postings and wallet lines.
    ///
    /// # Errors
    /// `StoreError::Duplicate` when the transaction id exists.
    async fn append_journal(&mut self, transaction: JournalTransaction) -> Result<(), StoreError>;

    /// Reads a reservation and locks it until the unit ends.
    ///
    /// # Errors
    /// `StoreError::Conflict` on a deadlock, `Unavailable` otherwise.
    async fn lock_reservation(
        &mut self,
        id: &ReservationId,
    ) -> Result<Option<Reservation>, StoreError>;

    /// The held reservations of a wallet the unit has locked.
    ///
    /// # Errors
    /// `StoreError::Unavailable`.
    async fn held_reservations(
        &mut self,
        wallet_id: &WalletId,
    ) -> Result<Vec<Reservation>, StoreError>;

    /// Stores a new reservation.
    ///
    /// # Errors
    /// `StoreError::Duplicate` when the id exists.
    async fn insert_reservation(&mut self, reservation: &Reservation) -> Result<(), StoreError>;

    /// Stores a reservation read by `lock_reservation`.
    ///
    /// # Errors
    /// `StoreError::Unavailable`.
    async fn update_reservation(&mut self, reservation: &Reservation) -> Result<(), StoreError>;

    /// Reads a cost ticket and locks it until the unit ends.
    ///
    /// # Errors
    /// `StoreError::Conflict` on a deadlock, `Unavailable` otherwise.
    async fn lock_cost_ticket(
        &mut self,
        id: &CostTicketId,
    ) -> Result<Option<CostTicket>, StoreError>;

    /// Stores a new cost ticket.
    ///
    /// # Errors
    /// `StoreError::Duplicate` when the id exists.
    async fn insert_cost_ticket(&mut self, ticket: &CostTicket) -> Result<(), StoreError>;

    /// Stores a cost ticket read by `lock_cost_ticket`.
    ///
    /// # Errors
    /// `StoreError::Unavailable`.
    async fn update_cost_ticket(&mut self, ticket: &CostTicket) -> Result<(), StoreError>;

    /// The organization's wallet settings (defaults when none are stored).
    ///
    /// # Errors
    /// `StoreError::Unavailable`.
    async fn wallet_settings(&mut self, org_id: &OrgId) -> Result<WalletSettings, StoreError>;

    /// Reads a payment session and locks it until the unit ends (the compare-and-set of the
    /// payment state machine: lock, check the status, write).
    ///
    /// # Errors
    /// `StoreError::Conflict` on a deadlock, `Unavailable` otherwise. The default answers
    /// `Unavailable` for stores without payments.
    async fn lock_payment_session(
        &mut self,
        id: &PaymentSessionId,
    ) -> Result<Option<PaymentSession>, StoreError> {
        let _ = id;
        Err(payments_unsupported())
    }

    /// Stores a new payment session.
    ///
    /// # Errors
    /// `StoreError::Duplicate` when the id exists.
    async fn insert_payment_session(&mut self, session: &PaymentSession) -> Result<(), StoreError> {
        let _ = session;
        Err(payments_unsupported())
    }

    /// Stores a payment session read by `lock_payment_session`.
    ///
    /// # Errors
    /// `StoreError::Unavailable`.
    async fn update_payment_session(&mut self, session: &PaymentSession) -> Result<(), StoreError> {
        let _ = session;
        Err(payments_unsupported())
    }

    /// Records that a provider event was applied; `false` when it was recorded before (the
    /// caller then applies nothing). Rolled back with the unit.
    ///
    /// # Errors
    /// `StoreError::Unavailable`.
    async fn record_provider_event(
        &mut self,
        provider: &str,
        event_id: &str,
    ) -> Result<bool, StoreError> {
        let _ = (provider, event_id);
        Err(payments_unsupported())
    }

    /// Makes every write of the unit visible, atomically.
    ///
    /// # Errors
    /// `StoreError::Conflict` when the database refused the commit (serialization failure):
    /// nothing was applied. `StoreError::Unavailable` when the outcome is unknown.
    async fn commit(self: Box<Self>) -> Result<(), StoreError>;
}

fn payments_unsupported() -> StoreError {
    StoreError::Unavailable("this store does not keep payment sessions".into())
}
