use std::collections::{BTreeMap, HashMap};

use ledger_core::cost_ticket::CostTicket;
use ledger_core::id::{CostTicketId, OrgId, ReservationId, TeamId, TokenId, UserId, WalletId};
use ledger_core::journal::{JournalTransaction, WalletLine};
use ledger_core::ports::{ApiToken, StoredResponse};
use ledger_core::reservation::Reservation;
use ledger_core::tenancy::{Organization, Team, User, WalletSettings};
use ledger_core::wallet::Wallet;
use rust_decimal::Decimal;
use time::OffsetDateTime;

/// An idempotency key's record.
#[derive(Debug, Clone)]
pub(crate) struct KeyRecord {
    pub(crate) fingerprint: String,
    pub(crate) created_at: OffsetDateTime,
    pub(crate) response: Option<StoredResponse>,
}

/// Everything the store keeps.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) wallets: BTreeMap<WalletId, Wallet>,
    pub(crate) reservations: HashMap<ReservationId, Reservation>,
    pub(crate) tickets: HashMap<CostTicketId, CostTicket>,
    /// Every journal transaction's postings summed per account code.
    pub(crate) account_sums: HashMap<String, Decimal>,
    /// Transactions whose postings did not sum to zero (kept for the audit to report).
    pub(crate) unbalanced: Vec<(ledger_core::id::TransactionId, Decimal)>,
    pub(crate) transaction_ids: std::collections::HashSet<ledger_core::id::TransactionId>,
    /// History lines per wallet, oldest first.
    pub(crate) wallet_lines: HashMap<WalletId, Vec<WalletLine>>,
    pub(crate) settings: HashMap<OrgId, WalletSettings>,
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
    /// Applies a journal transaction: account sums and history lines.
    pub(crate) fn apply_journal(&mut self, transaction: &JournalTransaction) {
        let mut sum = Decimal::ZERO;
        for posting in &transaction.postings {
            *self.account_sums.entry(posting.account.code()).or_default() += posting.amount;
            sum += posting.amount;
        }
        if !sum.is_zero() {
            self.unbalanced.push((transaction.id.clone(), sum));
        }
        self.transaction_ids.insert(transaction.id.clone());
        for line in &transaction.wallet_lines {
            self.wallet_lines
                .entry(line.wallet_id.clone())
                .or_default()
                .push(line.clone());
        }
    }
}
