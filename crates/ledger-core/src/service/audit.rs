//! The audit: every invariant of `domain.md` checked against a live store.

use std::collections::HashMap;

use rust_decimal::Decimal;
use serde::Serialize;

use super::Ledger;
use crate::error::LedgerError;
use crate::journal::{Account, WalletPool};
use crate::ports::AuditSnapshot;

/// One broken invariant, with the ids that show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Breach {
    /// Which invariant (`conservation`, `projection`, `non_negativity`, `holds`, `terminated`,
    /// `tenancy`).
    pub invariant: &'static str,
    /// The wallet, transaction or account at fault.
    pub subject: String,
    /// What was found.
    pub detail: String,
}

/// The audit's findings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AuditReport {
    /// Wallets checked.
    pub wallets_checked: usize,
    /// Accounts checked.
    pub accounts_checked: usize,
    /// Every breach found; empty when the ledger is sound.
    pub breaches: Vec<Breach>,
}

impl AuditReport {
    /// Whether no invariant is broken.
    pub fn is_clean(&self) -> bool {
        self.breaches.is_empty()
    }
}

impl Ledger {
    /// Recomputes every wallet's balances from the journal and checks conservation,
    /// projection, non-negativity, holds and tenancy (no record of one organization names a
    /// wallet or owner of another).
    ///
    /// # Errors
    /// Store failures.
    pub async fn audit(&self) -> Result<AuditReport, LedgerError> {
        let snapshot = self.store.audit_snapshot().await?;
        Ok(check(&snapshot))
    }
}

/// Checks a snapshot (pure, so property tests can run it on the memory store's snapshot).
pub fn check(snapshot: &AuditSnapshot) -> AuditReport {
    let mut breaches = Vec::new();
    for (transaction_id, sum) in &snapshot.unbalanced_transactions {
        breaches.push(Breach {
            invariant: "conservation",
            subject: transaction_id.to_string(),
            detail: format!("postings sum to {sum}"),
        });
    }
    let total: Decimal = snapshot.account_sums.iter().map(|(_, sum)| *sum).sum();
    if !total.is_zero() {
        breaches.push(Breach {
            invariant: "conservation",
            subject: "journal".to_owned(),
            detail: format!("all accounts sum to {total}"),
        });
    }
    let sums: HashMap<&str, Decimal> = snapshot
        .account_sums
        .iter()
        .map(|(code, sum)| (code.as_str(), *sum))
        .collect();
    let holds: HashMap<&str, Decimal> = snapshot
        .open_hold_sums
        .iter()
        .map(|(wallet, sum)| (wallet.as_str(), *sum))
        .collect();
    for wallet in &snapshot.wallets {
        let posted = |pool: WalletPool| {
            sums.get(Account::Wallet(wallet.id.clone(), pool).code().as_str())
                .copied()
                .unwrap_or_default()
        };
        let expected = [
            ("paid", wallet.paid.value(), posted(WalletPool::Paid)),
            (
                "granted",
                wallet.granted.value(),
                posted(WalletPool::Granted),
            ),
            ("held", wallet.held.value(), posted(WalletPool::Held)),
            ("debt", wallet.debt.value(), -posted(WalletPool::Debt)),
        ];
        for (pool, stored, journal) in expected {
            if stored != journal {
                breaches.push(Breach {
                    invariant: "projection",
                    subject: wallet.id.to_string(),
                    detail: format!("{pool} is {stored} but its journal sums to {journal}"),
                });
            }
            if journal.is_sign_negative() && !journal.is_zero() {
                breaches.push(Breach {
                    invariant: "non_negativity",
                    subject: wallet.id.to_string(),
                    detail: format!("{pool} sums to {journal}"),
                });
            }
        }
        if wallet.held > wallet.balance() {
            breaches.push(Breach {
                invariant: "non_negativity",
                subject: wallet.id.to_string(),
                detail: format!(
                    "held {} exceeds paid + granted {}",
                    wallet.held,
                    wallet.balance()
                ),
            });
        }
        if wallet.status == crate::wallet::WalletStatus::Terminated
            && !(wallet.paid.is_zero() && wallet.granted.is_zero() && wallet.held.is_zero())
        {
            // Termination forfeits every credit and ends every hold; nothing credits a
            // terminated wallet afterwards (debt may stay: it is owed, not held).
            breaches.push(Breach {
                invariant: "terminated",
                subject: wallet.id.to_string(),
                detail: format!(
                    "terminated but holds paid {}, granted {}, held {}",
                    wallet.paid, wallet.granted, wallet.held
                ),
            });
        }
        let open = holds.get(wallet.id.as_str()).copied().unwrap_or_default();
        if open != wallet.held.value() {
            breaches.push(Breach {
                invariant: "holds",
                subject: wallet.id.to_string(),
                detail: format!(
                    "held is {} but its open reservations sum to {open}",
                    wallet.held
                ),
            });
        }
    }
    for reference in &snapshot.cross_org_references {
        breaches.push(Breach {
            invariant: "tenancy",
            subject: reference.id.clone(),
            detail: format!(
                "{} of organization {} names {} of organization {}",
                reference.kind, reference.org_id, reference.other_id, reference.other_org_id
            ),
        });
    }
    AuditReport {
        wallets_checked: snapshot.wallets.len(),
        accounts_checked: snapshot.account_sums.len(),
        breaches,
    }
}
