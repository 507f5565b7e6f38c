//! The audit's tenancy check on the memory store: records of one organization that name a
//! wallet or owner of another.

use ledger_core::id::{OrgId, WalletId};
use ledger_core::ports::CrossOrgReference;
use ledger_core::wallet::Owner;

use crate::state::State;

impl State {
    /// Every cross-organization reference, sorted (kind, then id).
    pub(crate) fn cross_org_references(&self) -> Vec<CrossOrgReference> {
        let mut found = Vec::new();
        for (wallet_id, history) in &self.wallet_lines {
            for line in history.newest_first() {
                if let Some(org_id) = self.transaction_orgs.get(&line.transaction_id) {
                    self.check_wallet(
                        &mut found,
                        "transaction",
                        line.transaction_id.as_str(),
                        org_id,
                        wallet_id,
                    );
                }
            }
        }
        for reservation in self.reservations.values() {
            let id = reservation.id.as_str();
            self.check_wallet(
                &mut found,
                "reservation",
                id,
                &reservation.org_id,
                &reservation.wallet_id,
            );
        }
        for session in self.sessions.values() {
            let id = session.id.as_str();
            self.check_wallet(
                &mut found,
                "payment_session",
                id,
                &session.org_id,
                &session.wallet_id,
            );
        }
        for wallet in self.wallets.values() {
            let owner_org = match &wallet.owner {
                Owner::User(user_id) => self.users.get(user_id).map(|user| &user.org_id),
                Owner::Team(team_id) => self.teams.get(team_id).map(|team| &team.org_id),
                Owner::Organization(org_id) => Some(org_id),
            };
            if let Some(owner_org) = owner_org.filter(|owner_org| **owner_org != wallet.org_id) {
                found.push(CrossOrgReference {
                    kind: "wallet_owner".to_owned(),
                    id: wallet.id.to_string(),
                    org_id: wallet.org_id.to_string(),
                    other_id: wallet.owner.id_str().to_owned(),
                    other_org_id: owner_org.to_string(),
                });
            }
        }
        found.sort();
        found.dedup();
        found
    }

    /// Records `kind` `id` of `org_id` when `wallet_id` is a stored wallet of another
    /// organization.
    fn check_wallet(
        &self,
        found: &mut Vec<CrossOrgReference>,
        kind: &str,
        id: &str,
        org_id: &OrgId,
        wallet_id: &WalletId,
    ) {
        if let Some(wallet) = self
            .wallets
            .get(wallet_id)
            .filter(|wallet| wallet.org_id != *org_id)
        {
            found.push(CrossOrgReference {
                kind: kind.to_owned(),
                id: id.to_owned(),
                org_id: org_id.to_string(),
                other_id: wallet_id.to_string(),
                other_org_id: wallet.org_id.to_string(),
            });
        }
    }
}
