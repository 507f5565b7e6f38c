//! The double-entry journal: every credit movement is one transaction of postings that sum to
//! zero. Wallet balances are a projection of it: they change only through [`JournalBuilder`].

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::id::{OrgId, TransactionId, WalletId};
use crate::money::Credits;
use crate::wallet::Wallet;

/// The part of a wallet an account tracks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WalletPool {
    /// Paid credits: the account's balance is `wallet.paid`.
    Paid,
    /// Granted credits: the balance is `wallet.granted`.
    Granted,
    /// Held credits: the balance is `wallet.held`.
    Held,
    /// Debt: the balance is `-wallet.debt` (a receivable from the wallet's owner).
    Debt,
}

/// An account of the journal.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Account {
    /// One pool of one wallet.
    Wallet(WalletId, WalletPool),
    /// The counterpart of every wallet's held account.
    HoldsOutstanding,
    /// Credits bought through a provider (one account per provider).
    PaymentClearing(String),
    /// Free promotional credits granted.
    PromotionalGrants,
    /// Credits charged: revenue.
    Consumption,
    /// Credits forfeited by termination or expiry.
    Expiry,
    /// Paid credits added or removed by an admin.
    AdminAdjustments,
}

impl Account {
    /// The stable text form stored by adapters: `wallet:wal_x:paid`, `system:consumption`,
    /// `clearing:paypal`.
    pub fn code(&self) -> String {
        match self {
            Self::Wallet(id, pool) => {
                let pool = match pool {
                    WalletPool::Paid => "paid",
                    WalletPool::Granted => "granted",
                    WalletPool::Held => "held",
                    WalletPool::Debt => "debt",
                };
                format!("wallet:{id}:{pool}")
            }
            Self::HoldsOutstanding => "system:holds_outstanding".to_owned(),
            Self::PaymentClearing(provider) => format!("clearing:{provider}"),
            Self::PromotionalGrants => "system:promotional_grants".to_owned(),
            Self::Consumption => "system:consumption".to_owned(),
            Self::Expiry => "system:expiry".to_owned(),
            Self::AdminAdjustments => "system:admin_adjustments".to_owned(),
        }
    }

    /// Parses [`Account::code`].
    pub fn parse(code: &str) -> Option<Self> {
        let mut parts = code.splitn(3, ':');
        match (parts.next()?, parts.next()?, parts.next()) {
            ("wallet", id, Some(pool)) => {
                let pool = match pool {
                    "paid" => WalletPool::Paid,
                    "granted" => WalletPool::Granted,
                    "held" => WalletPool::Held,
                    "debt" => WalletPool::Debt,
                    _ => return None,
                };
                Some(Self::Wallet(WalletId::parse(id).ok()?, pool))
            }
            ("clearing", provider, None) => Some(Self::PaymentClearing(provider.to_owned())),
            ("system", name, None) => match name {
                "holds_outstanding" => Some(Self::HoldsOutstanding),
                "promotional_grants" => Some(Self::PromotionalGrants),
                "consumption" => Some(Self::Consumption),
                "expiry" => Some(Self::Expiry),
                "admin_adjustments" => Some(Self::AdminAdjustments),
                _ => None,
            },
            _ => None,
        }
    }
}

/// What caused a journal transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// Credits put on a wallet when it was created.
    Opening,
    /// A hold placed.
    Reserve,
    /// A hold settled: charge and release.
    Settle,
    /// A hold voided.
    Release,
    /// A hold expired.
    Expire,
    /// A one-step charge.
    Charge,
    /// Credits added by an admin.
    Credit,
    /// Credits removed by an admin.
    Debit,
    /// Credits moved down the tree.
    Allocate,
    /// Credits moved back up the tree.
    Reclaim,
    /// Credits forfeited on termination.
    Forfeit,
    /// Credits bought through a payment session.
    Topup,
    /// Paid credits taken back by a refund.
    Refund,
    /// Paid credits taken back by a provider reversal (chargeback).
    Reversal,
    /// Credits added by a top-up rule.
    RuleTopup,
}

impl EntryKind {
    /// The wire name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Opening => "opening",
            Self::Reserve => "reserve",
            Self::Settle => "settle",
            Self::Release => "release",
            Self::Expire => "expire",
            Self::Charge => "charge",
            Self::Credit => "credit",
            Self::Debit => "debit",
            Self::Allocate => "allocate",
            Self::Reclaim => "reclaim",
            Self::Forfeit => "forfeit",
            Self::Topup => "topup",
            Self::Refund => "refund",
            Self::Reversal => "reversal",
            Self::RuleTopup => "rule_topup",
        }
    }

    /// Parses the wire name.
    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::Opening,
            Self::Reserve,
            Self::Settle,
            Self::Release,
            Self::Expire,
            Self::Charge,
            Self::Credit,
            Self::Debit,
            Self::Allocate,
            Self::Reclaim,
            Self::Forfeit,
            Self::Topup,
            Self::Refund,
            Self::Reversal,
            Self::RuleTopup,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == text)
    }
}

impl fmt::Display for EntryKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One leg of a transaction. Amounts are signed; a transaction's legs sum to zero.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Posting {
    /// The account moved.
    pub account: Account,
    /// The signed amount.
    pub amount: Decimal,
}

/// What a transaction did to one wallet, as the wallet's history shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WalletLine {
    /// The transaction.
    pub transaction_id: TransactionId,
    /// The wallet.
    pub wallet_id: WalletId,
    /// The transaction's kind.
    pub kind: EntryKind,
    /// Change of paid credits.
    pub paid_delta: Decimal,
    /// Change of granted credits.
    pub granted_delta: Decimal,
    /// Change of held credits.
    pub held_delta: Decimal,
    /// Change of debt.
    pub debt_delta: Decimal,
    /// `paid + granted` after the transaction.
    pub balance_after: Credits,
    /// `held` after the transaction.
    pub held_after: Credits,
    /// What caused it (`reservation`, `payment_session`, `admin`, …).
    pub reference_type: String,
    /// The cause's id.
    pub reference_id: String,
    /// When.
    pub created_at: OffsetDateTime,
}

/// One journal transaction.
///
/// Invariant: `postings` sum to zero and there are at least two of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalTransaction {
    /// Its id.
    pub id: TransactionId,
    /// The organization whose credits moved.
    pub org_id: OrgId,
    /// What kind of movement.
    pub kind: EntryKind,
    /// What caused it (`reservation`, `payment_session`, `admin`, `rule`, `wallet`).
    pub reference_type: String,
    /// The cause's id.
    pub reference_id: String,
    /// Who caused it (a user id, a token id, `system`).
    pub principal: String,
    /// When.
    pub created_at: OffsetDateTime,
    /// The legs.
    pub postings: Vec<Posting>,
    /// The per-wallet view of the legs.
    pub wallet_lines: Vec<WalletLine>,
}

impl JournalTransaction {
    /// Whether it lowered the available credits of `wallet_id` (its credits, less holds, or
    /// raised its debt): what counts as a downward crossing for threshold rules.
    pub fn lowers_available(&self, wallet_id: &crate::id::WalletId) -> bool {
        self.wallet_lines
            .iter()
            .filter(|line| line.wallet_id == *wallet_id)
            .any(|line| {
                line.paid_delta + line.granted_delta - line.held_delta < Decimal::ZERO
                    || line.debt_delta > Decimal::ZERO
            })
    }
}

/// The most postings the common transactions make (a settle: held, granted and paid legs).
const POSTINGS_USUAL_MAX: usize = 6;

/// Builds one journal transaction while applying its movements to wallets.
///
/// Balances change only here, so the projection invariant (stored balances equal the sum of
/// their postings) holds by construction.
#[derive(Debug)]
pub struct JournalBuilder {
    transaction: JournalTransaction,
}

impl JournalBuilder {
    /// Starts a transaction.
    pub fn new(
        id: TransactionId,
        org_id: OrgId,
        kind: EntryKind,
        reference: (&str, &str),
        principal: &str,
        now: OffsetDateTime,
    ) -> Self {
        Self {
            transaction: JournalTransaction {
                id,
                org_id,
                kind,
                reference_type: reference.0.to_owned(),
                reference_id: reference.1.to_owned(),
                principal: principal.to_owned(),
                created_at: now,
                // A settle makes six postings (held, granted and paid legs); a `Vec` that
                // starts at four would reallocate on every settle.
                postings: Vec::with_capacity(POSTINGS_USUAL_MAX),
                wallet_lines: Vec::new(),
            },
        }
    }

    /// Moves `amount` between a pool of `wallet` and `counter`: a positive amount adds to the
    /// pool, a negative one takes from it. The wallet is changed in place.
    ///
    /// # Panics
    /// When the move would take a pool below zero: the caller decides amounts and must have
    /// checked them (a broken check must stop the ledger, not corrupt it).
    pub fn move_wallet(
        &mut self,
        wallet: &mut Wallet,
        pool: WalletPool,
        amount: Decimal,
        counter: Account,
    ) -> &mut Self {
        if amount.is_zero() {
            return self;
        }
        self.apply(wallet, pool, amount);
        let leg = if pool == WalletPool::Debt {
            -amount
        } else {
            amount
        };
        self.transaction.postings.push(Posting {
            account: counter,
            amount: -leg,
        });
        self
    }

    /// Moves `amount` from a pool of `from` to the same pool of `to` (allocate, reclaim): one
    /// posting on each wallet, summing to zero.
    ///
    /// # Panics
    /// When `from`'s pool would go below zero.
    pub fn move_between(
        &mut self,
        from: &mut Wallet,
        to: &mut Wallet,
        pool: WalletPool,
        amount: Decimal,
    ) -> &mut Self {
        if amount.is_zero() {
            return self;
        }
        self.apply(from, pool, -amount);
        self.apply(to, pool, amount);
        self
    }

    /// Moves `amount` of `from`'s paid credits into repaying `to`'s debt (an allocation into a
    /// wallet in debt: paid top-ups repay debt first).
    ///
    /// # Panics
    /// When `from`'s paid credits or `to`'s debt would go below zero.
    pub fn repay_between(
        &mut self,
        from: &mut Wallet,
        to: &mut Wallet,
        amount: Decimal,
    ) -> &mut Self {
        if amount.is_zero() {
            return self;
        }
        self.apply(from, WalletPool::Paid, -amount);
        self.apply(to, WalletPool::Debt, -amount);
        self
    }

    /// Applies one signed posting to one pool of a wallet, with its history line.
    fn apply(&mut self, wallet: &mut Wallet, pool: WalletPool, amount: Decimal) {
        let balance = match pool {
            WalletPool::Paid => &mut wallet.paid,
            WalletPool::Granted => &mut wallet.granted,
            WalletPool::Held => &mut wallet.held,
            WalletPool::Debt => &mut wallet.debt,
        };
        let next = balance.value() + amount;
        assert!(
            !next.is_sign_negative() || next.is_zero(),
            "{pool:?} of wallet {} would go to {next}",
            wallet.id
        );
        *balance = Credits::from_decimal_unchecked(next);
        wallet.updated_at = self.transaction.created_at;
        // Debt is a receivable: its account balance is the negated debt.
        let leg = if pool == WalletPool::Debt {
            -amount
        } else {
            amount
        };
        self.transaction.postings.push(Posting {
            account: Account::Wallet(wallet.id.clone(), pool),
            amount: leg,
        });
        self.record_line(wallet, pool, amount);
        wallet.check_invariants();
    }

    fn record_line(&mut self, wallet: &Wallet, pool: WalletPool, amount: Decimal) {
        let index = match self
            .transaction
            .wallet_lines
            .iter()
            .position(|line| line.wallet_id == wallet.id)
        {
            Some(index) => index,
            None => {
                self.transaction.wallet_lines.push(WalletLine {
                    transaction_id: self.transaction.id.clone(),
                    wallet_id: wallet.id.clone(),
                    kind: self.transaction.kind,
                    paid_delta: Decimal::ZERO,
                    granted_delta: Decimal::ZERO,
                    held_delta: Decimal::ZERO,
                    debt_delta: Decimal::ZERO,
                    balance_after: wallet.balance(),
                    held_after: wallet.held,
                    reference_type: self.transaction.reference_type.clone(),
                    reference_id: self.transaction.reference_id.clone(),
                    created_at: self.transaction.created_at,
                });
                self.transaction.wallet_lines.len() - 1
            }
        };
        let line = &mut self.transaction.wallet_lines[index];
        match pool {
            WalletPool::Paid => line.paid_delta += amount,
            WalletPool::Granted => line.granted_delta += amount,
            WalletPool::Held => line.held_delta += amount,
            WalletPool::Debt => line.debt_delta += amount,
        }
        line.balance_after = wallet.balance();
        line.held_after = wallet.held;
    }

    /// Whether no posting was made.
    pub fn is_empty(&self) -> bool {
        self.transaction.postings.is_empty()
    }

    /// Finishes the transaction.
    ///
    /// # Panics
    /// When the postings do not sum to zero (impossible through `move_wallet`).
    pub fn finish(self) -> JournalTransaction {
        let sum: Decimal = self.transaction.postings.iter().map(|p| p.amount).sum();
        assert!(
            sum.is_zero(),
            "journal transaction {} sums to {sum}",
            self.transaction.id
        );
        self.transaction
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_codes_round_trip() {
        for account in [
            Account::Wallet(WalletId::from_suffix("a1"), WalletPool::Held),
            Account::Wallet(WalletId::from_suffix("a1"), WalletPool::Debt),
            Account::HoldsOutstanding,
            Account::PaymentClearing("paypal".to_owned()),
            Account::Consumption,
            Account::Expiry,
            Account::PromotionalGrants,
            Account::AdminAdjustments,
        ] {
            assert_eq!(Account::parse(&account.code()), Some(account));
        }
    }

    #[test]
    fn entry_kinds_round_trip() {
        assert_eq!(EntryKind::parse("rule_topup"), Some(EntryKind::RuleTopup));
        assert_eq!(EntryKind::parse("nope"), None);
    }
}
