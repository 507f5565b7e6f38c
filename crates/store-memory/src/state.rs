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
use rustc_hash::FxHashMap;
use time::OffsetDateTime;

use crate::unit_of_work::Scratch;

/// An idempotency key's record.
#[derive(Debug, Clone)]
pub(crate) struct KeyRecord {
    pub(crate) fingerprint: String,
    pub(crate) created_at: OffsetDateTime,
    pub(crate) response: Option<StoredResponse>,
}

/// One wallet's history lines, oldest first, in chunks: appending never moves the lines
/// already stored. (One `Vec` per wallet grew by copying: a hot wallet's history is tens of MB,
/// and its reallocations were a fifth of a reserve+settle pair.)
#[derive(Debug, Default)]
pub(crate) struct History {
    chunks: Vec<Vec<WalletLine>>,
    len: usize,
}

impl History {
    /// The largest chunk, in lines (about 1 MB): a new chunk is as large as the history so
    /// far, at least 8 lines, so a wallet with few lines keeps little spare room.
    const CHUNK_LINES_MAX: usize = 4096;

    fn push(&mut self, line: WalletLine) {
        if let Some(chunk) = self
            .chunks
            .last_mut()
            .filter(|chunk| chunk.len() < chunk.capacity())
        {
            chunk.push(line);
        } else {
            let mut chunk = Vec::with_capacity(self.len.clamp(8, Self::CHUNK_LINES_MAX));
            chunk.push(line);
            self.chunks.push(chunk);
        }
        self.len += 1;
    }

    /// The lines, newest first.
    pub(crate) fn newest_first(&self) -> impl Iterator<Item = &WalletLine> {
        self.chunks
            .iter()
            .rev()
            .flat_map(|chunk| chunk.iter().rev())
    }
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
    /// Every committed transaction's organization (the audit's tenancy check reads it).
    pub(crate) transaction_orgs: FxHashMap<TransactionId, OrgId>,
    /// History lines per wallet.
    pub(crate) wallet_lines: FxHashMap<WalletId, History>,
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
    /// The empty buffers of the last unit of work, for the next one.
    pub(crate) scratch: Scratch,
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

    /// Applies the postings of one journal transaction of `org_id` to the account sums (`sum`
    /// is their total, recorded when not zero).
    pub(crate) fn apply_postings(
        &mut self,
        id: TransactionId,
        org_id: OrgId,
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
        self.transaction_orgs.insert(id, org_id);
    }

    /// Appends history lines (taken by value: the unit of work hands over its pending lines
    /// at commit). A wallet's id is cloned only for its first line.
    pub(crate) fn append_lines(&mut self, lines: impl Iterator<Item = WalletLine>) {
        for line in lines {
            match self.wallet_lines.get_mut(&line.wallet_id) {
                Some(history) => history.push(line),
                None => {
                    let mut history = History::default();
                    let wallet_id = line.wallet_id.clone();
                    history.push(line);
                    self.wallet_lines.insert(wallet_id, history);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use ledger_core::journal::EntryKind;
    use ledger_core::money::Credits;

    use super::*;

    fn line(n: usize) -> WalletLine {
        WalletLine {
            transaction_id: TransactionId::from_suffix(&n.to_string()),
            wallet_id: WalletId::from_suffix("a"),
            kind: EntryKind::Reserve,
            paid_delta: Decimal::ZERO,
            granted_delta: Decimal::ZERO,
            held_delta: Decimal::ONE,
            debt_delta: Decimal::ZERO,
            balance_after: Credits::ZERO,
            held_after: Credits::ZERO,
            reference_type: "reservation".to_owned(),
            reference_id: format!("res_{n}"),
            created_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn history_answers_newest_first_across_chunks() {
        let mut history = History::default();
        let count = 3 * History::CHUNK_LINES_MAX + 5;

        for n in 0..count {
            history.push(line(n));
        }

        let seen: Vec<String> = history
            .newest_first()
            .map(|line| line.reference_id.clone())
            .collect();
        let expected: Vec<String> = (0..count).rev().map(|n| format!("res_{n}")).collect();
        assert_eq!(seen, expected);
        assert!(history.chunks.len() > 3);
    }
}
