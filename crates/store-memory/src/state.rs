use std::collections::{BTreeMap, HashMap};

use ledger_core::cost_ticket::CostTicket;
use ledger_core::id::{
    CostTicketId, OrgId, ReservationId, TeamId, TokenId, TransactionId, UserId, WalletId,
};
use ledger_core::journal::{Account, Posting, WalletLine};
use ledger_core::ports::{ApiToken, StoredResponse};
use ledger_core::reservation::Reservation;
use ledger_core::tenancy::{Organization, Team, User, WalletSettings};
use ledger_core::wallet::{Owner, Wallet};
use rust_decimal::Decimal;
use rustc_hash::{FxHashMap, FxHashSet};
use time::OffsetDateTime;

/// An idempotency key's record.
#[derive(Debug, Clone)]
pub(crate) struct KeyRecord {
    pub(crate) fingerprint: String,
    pub(crate) created_at: OffsetDateTime,
    pub(crate) response: Option<StoredResponse>,
}

/// Everything the store keeps.
///
/// The maps a reserve or settle touches hash with FxHash rather than SipHash: their keys are
/// ids (most of them made by the ledger's `IdSource`), and SipHash of those strings was about
/// an eighth of a reserve+settle pair. FxHash does not resist crafted collisions; this store is
/// for tests and embedders, not for untrusted tenants at scale.
#[derive(Debug, Default)]
pub(crate) struct State {
    /// Change only through [`State::put_wallet`] and [`State::remove_wallet`], which keep
    /// `wallets_by_owner` in step.
    pub(crate) wallets: BTreeMap<WalletId, Wallet>,
    /// Wallet ids per organization and owner, so a cascade reads its owners' wallets instead of
    /// scanning every wallet (the reserve hot path).
    pub(crate) wallets_by_owner: FxHashMap<OrgId, FxHashMap<Owner, Vec<WalletId>>>,
    pub(crate) reservations: FxHashMap<ReservationId, Reservation>,
    pub(crate) tickets: FxHashMap<CostTicketId, CostTicket>,
    /// Every journal transaction's postings summed per account (keyed by the account itself,
    /// not its text code, so applying a posting formats nothing).
    pub(crate) account_sums: FxHashMap<Account, Decimal>,
    /// Transactions whose postings did not sum to zero (kept for the audit to report).
    pub(crate) unbalanced: Vec<(TransactionId, Decimal)>,
    pub(crate) transaction_ids: FxHashSet<TransactionId>,
    /// History lines per wallet, oldest first.
    pub(crate) wallet_lines: FxHashMap<WalletId, Vec<WalletLine>>,
    pub(crate) settings: FxHashMap<OrgId, WalletSettings>,
    pub(crate) orgs: HashMap<OrgId, Organization>,
    pub(crate) teams: HashMap<TeamId, Team>,
    pub(crate) users: HashMap<UserId, User>,
    pub(crate) tokens: HashMap<TokenId, ApiToken>,
    pub(crate) keys: HashMap<(String, String), KeyRecord>,
    pub(crate) sessions:
        HashMap<ledger_core::id::PaymentSessionId, ledger_core::payment_session::PaymentSession>,
    pub(crate) provider_events: std::collections::HashSet<(String, String)>,
    pub(crate) payment_methods:
        BTreeMap<ledger_core::id::PaymentMethodId, ledger_core::ports::SavedPaymentMethod>,
    pub(crate) settings_documents: HashMap<String, String>,
}

impl State {
    /// Stores a wallet (new or changed) and keeps the owner index in step. Only a new wallet
    /// or one whose organization or owner changed touches the index, so the common update
    /// clones nothing.
    pub(crate) fn put_wallet(&mut self, wallet: Wallet) -> Option<Wallet> {
        if let Some(stored) = self.wallets.get_mut(&wallet.id)
            && stored.org_id == wallet.org_id
            && stored.owner == wallet.owner
        {
            return Some(std::mem::replace(stored, wallet));
        }
        let (org_id, owner, id) = (
            wallet.org_id.clone(),
            wallet.owner.clone(),
            wallet.id.clone(),
        );
        let previous = self.wallets.insert(id.clone(), wallet);
        if let Some(previous) = &previous {
            self.unindex_wallet(previous);
        }
        self.index_wallet(org_id, owner, id);
        previous
    }

    /// Removes a wallet and its owner index entry.
    pub(crate) fn remove_wallet(&mut self, id: &WalletId) -> Option<Wallet> {
        let removed = self.wallets.remove(id)?;
        self.unindex_wallet(&removed);
        Some(removed)
    }

    fn index_wallet(&mut self, org_id: OrgId, owner: Owner, id: WalletId) {
        self.wallets_by_owner
            .entry(org_id)
            .or_default()
            .entry(owner)
            .or_default()
            .push(id);
    }

    fn unindex_wallet(&mut self, wallet: &Wallet) {
        if let Some(ids) = self
            .wallets_by_owner
            .get_mut(&wallet.org_id)
            .and_then(|by_owner| by_owner.get_mut(&wallet.owner))
        {
            ids.retain(|id| *id != wallet.id);
        }
    }

    /// Applies the postings of one journal transaction to the account sums (`sum` is their
    /// total, recorded when not zero).
    pub(crate) fn apply_postings(
        &mut self,
        id: TransactionId,
        postings: impl Iterator<Item = Posting>,
        sum: Decimal,
    ) {
        for posting in postings {
            match self.account_sums.get_mut(&posting.account) {
                Some(account_sum) => *account_sum += posting.amount,
                None => {
                    self.account_sums.insert(posting.account, posting.amount);
                }
            }
        }
        if !sum.is_zero() {
            self.unbalanced.push((id.clone(), sum));
        }
        self.transaction_ids.insert(id);
    }

    /// Appends history lines (taken by value: the unit of work hands over its pending lines
    /// at commit). A wallet's id is cloned only for its first line.
    pub(crate) fn append_lines(&mut self, lines: impl Iterator<Item = WalletLine>) {
        for line in lines {
            match self.wallet_lines.get_mut(&line.wallet_id) {
                Some(history) => history.push(line),
                None => {
                    self.wallet_lines.insert(line.wallet_id.clone(), vec![line]);
                }
            }
        }
    }
}
