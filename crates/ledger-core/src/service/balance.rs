//! The effective balance of a user (and team) in cascade order.

use serde::Serialize;

use super::Ledger;
use crate::cascade::{self, CascadeScope};
use crate::error::LedgerError;
use crate::id::WalletId;
use crate::money::{Credits, Currency};
use crate::ports::DirectoryStore;
use crate::wallet::{FeeType, Wallet};

/// The balance view of `GET /v1/wallets/balance`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BalanceView {
    /// The currency.
    pub currency: Currency,
    /// The largest amount one reservation can get now.
    pub effective_available: Credits,
    /// The first usable wallet in cascade order with credits available.
    pub effective_wallet_id: Option<WalletId>,
    /// The cascade's wallets, in order.
    pub wallets: Vec<Wallet>,
}

impl Ledger {
    /// The cascade's wallets and what one reservation could get now.
    ///
    /// # Errors
    /// Store failures.
    pub async fn balance(
        &self,
        directory: &dyn DirectoryStore,
        scope: &CascadeScope,
        currency: Currency,
    ) -> Result<BalanceView, LedgerError> {
        let now = self.now();
        let settings = directory.wallet_settings(&scope.org_id).await?;
        let owners = scope.owners(&settings.cascade_order);
        let wallets = self
            .store
            .cascade_wallets(&scope.org_id, &owners, currency)
            .await?;
        let ordered = cascade::order(wallets, &owners);
        let (effective_available, first) =
            cascade::best_available(&ordered, now, currency, FeeType::Charge);
        let effective_wallet_id = first.map(|wallet| wallet.id.clone());
        Ok(BalanceView {
            currency,
            effective_available,
            effective_wallet_id,
            wallets: ordered,
        })
    }
}
