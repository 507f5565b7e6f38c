//! The sweep fires interval rules on every ACTIVE wallet, however many there are: it pages
//! through them by wallet id instead of reading one batch (review 3, F1: wallet 201 onward
//! never got its top-ups).

use ledger_core::id::WalletId;
use ledger_core::topup_rule::{RuleInterval, RuleTrigger, TopupRule};
use ledger_core::wallet::Owner;
use rust_decimal_macros::dec;
use time::Duration;

use crate::support::{Fixture, credits, fixed_rule};

/// More than two pages of the sweep's batch of 200, with a partial last page.
const DUE_WALLETS: usize = 450;

fn granted_every(interval: RuleInterval) -> TopupRule {
    TopupRule {
        interval: Some(interval),
        granted_credits: Some(credits(dec!(10))),
        ..fixed_rule(RuleTrigger::Interval)
    }
}

async fn wallet_with(fx: &Fixture, interval: RuleInterval) -> WalletId {
    let mut new = fx.new_wallet(Owner::User(fx.user.clone()), dec!(0), dec!(0));
    new.rules = vec![granted_every(interval)];
    fx.ledger.create_wallet(&new).await.unwrap().id
}

#[tokio::test]
async fn the_sweep_fires_each_due_period_of_every_wallet_across_pages_exactly_once() {
    // Arrange: monthly wallets, with a yearly one (not due) after every tenth, so pages also
    // hold wallets the sweep must leave alone.
    let fx = Fixture::new();
    let mut monthly = Vec::new();
    let mut yearly = Vec::new();
    for index in 0..DUE_WALLETS {
        monthly.push(wallet_with(&fx, RuleInterval::Monthly).await);
        if index % 10 == 0 {
            yearly.push(wallet_with(&fx, RuleInterval::Yearly).await);
        }
    }
    fx.clock.advance(Duration::days(32));

    // Act
    let first = fx.ledger.sweep().await.unwrap();
    let second = fx.ledger.sweep().await.unwrap();

    // Assert
    let mut granted_wrong = Vec::new();
    for id in &monthly {
        let wallet = fx.ledger.store().wallet(id).await.unwrap().unwrap();
        if wallet.granted != credits(dec!(10)) || wallet.rules[0].last_period_fired != 1 {
            granted_wrong.push((id.to_string(), wallet.granted));
        }
    }
    for id in &yearly {
        let wallet = fx.ledger.store().wallet(id).await.unwrap().unwrap();
        if !wallet.granted.is_zero() {
            granted_wrong.push((id.to_string(), wallet.granted));
        }
    }
    assert!(
        granted_wrong.is_empty(),
        "{} wallets granted wrong (first sweep {first:?}): {:?}",
        granted_wrong.len(),
        &granted_wrong[..granted_wrong.len().min(5)]
    );
    assert_eq!(
        first.rule_periods_fired,
        u64::try_from(DUE_WALLETS).unwrap()
    );
    assert_eq!(
        second.rule_periods_fired, 0,
        "a period fires once: {second:?}"
    );
}
