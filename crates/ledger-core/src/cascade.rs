//! The cascade: which wallets a reservation tries, in which order.

use std::cmp::Ordering;

use time::OffsetDateTime;

use crate::id::{OrgId, TeamId, UserId};
use crate::money::{Credits, Currency};
use crate::wallet::{FeeType, Owner, OwnerType, Wallet};

/// Who a request runs for: its user, its team (optional) and their organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CascadeScope {
    /// The organization.
    pub org_id: OrgId,
    /// The user, when the request runs for one.
    pub user_id: Option<UserId>,
    /// The team, when the request names one.
    pub team_id: Option<TeamId>,
}

impl CascadeScope {
    /// The owners to try, in the organization's cascade order.
    pub fn owners(&self, cascade_order: &[OwnerType]) -> Vec<Owner> {
        cascade_order
            .iter()
            .filter_map(|owner_type| match owner_type {
                OwnerType::User => self.user_id.clone().map(Owner::User),
                OwnerType::Team => self.team_id.clone().map(Owner::Team),
                OwnerType::Organization => Some(Owner::Organization(self.org_id.clone())),
            })
            .collect()
    }
}

/// Orders `wallets` for a reservation: by the owners' cascade position, then inside one owner
/// by lower `priority`, sooner `expiration_at` (none last), older `created_at`, then id.
/// Wallets of owners outside `owners` are dropped.
pub fn order(mut wallets: Vec<Wallet>, owners: &[Owner]) -> Vec<Wallet> {
    wallets.retain(|wallet| owners.contains(&wallet.owner));
    let position = |wallet: &Wallet| owners.iter().position(|owner| *owner == wallet.owner);
    wallets.sort_by(|a, b| {
        position(a)
            .cmp(&position(b))
            .then(a.priority.cmp(&b.priority))
            .then(compare_expiry(a.expiration_at, b.expiration_at))
            .then(a.created_at.cmp(&b.created_at))
            .then(a.id.cmp(&b.id))
    });
    wallets
}

fn compare_expiry(a: Option<OffsetDateTime>, b: Option<OffsetDateTime>) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => a.cmp(&b),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// The largest amount one reservation could hold right now among `ordered` wallets, and the
/// first usable wallet with credits available.
pub fn best_available(
    ordered: &[Wallet],
    now: OffsetDateTime,
    currency: Currency,
    fee_type: FeeType,
) -> (Credits, Option<&Wallet>) {
    let usable = ordered
        .iter()
        .filter(|wallet| wallet.is_usable(now, currency, fee_type));
    let mut best = Credits::ZERO;
    let mut first = None;
    for wallet in usable {
        let available = wallet.available();
        if first.is_none() && !available.is_zero() {
            first = Some(wallet);
        }
        if available > best {
            best = available;
        }
    }
    (best, first)
}
