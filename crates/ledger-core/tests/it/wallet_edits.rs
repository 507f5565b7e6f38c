//! Wallet edits that must not mint credits or revive a wallet: PATCH and activation of an
//! expired wallet, a rule listed twice, and threshold rules on operations that raise the
//! balance.

use ledger_core::error::LedgerError;
use ledger_core::service::WalletPatch;
use ledger_core::topup_rule::{RuleInterval, RuleTrigger, TopupRule};
use ledger_core::wallet::{Owner, WalletStatus};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use time::Duration;

use crate::support::{Fixture, credits, fixed_rule};

fn granted_rule(trigger: RuleTrigger, granted: Decimal) -> TopupRule {
    TopupRule {
        interval: (trigger == RuleTrigger::Interval).then_some(RuleInterval::Monthly),
        threshold_credits: (trigger == RuleTrigger::Threshold).then(|| credits(dec!(20))),
        granted_credits: Some(credits(granted)),
        ..fixed_rule(trigger)
    }
}

fn is_conflict<T: std::fmt::Debug>(outcome: &Result<T, LedgerError>, expected: &str) -> bool {
    matches!(outcome, Err(LedgerError::Conflict { code, .. }) if *code == expected)
}

#[tokio::test]
async fn a_patch_cannot_revive_a_wallet_past_its_expiry() {
    let fx = Fixture::new();
    let mut new = fx.new_wallet(Owner::User(fx.user.clone()), dec!(10), dec!(0));
    new.expiration_at = Some(fx.clock.now_plus(Duration::minutes(30)));
    let wallet = fx.ledger.create_wallet(&new).await.unwrap();
    fx.clock.advance(Duration::minutes(31));

    let patched = fx
        .ledger
        .patch_wallet(
            &wallet.id,
            &WalletPatch {
                expiration_at: Some(Some(fx.clock.now_plus(Duration::days(365)))),
                ..WalletPatch::default()
            },
        )
        .await;
    fx.ledger.sweep().await.unwrap();

    assert!(is_conflict(&patched, "wallet_expired"), "{patched:?}");
    let stored = fx.ledger.store().wallet(&wallet.id).await.unwrap().unwrap();
    assert_eq!(stored.status, WalletStatus::Terminated);
    assert_eq!(stored.paid, credits(dec!(0)), "its credits were forfeited");
    assert!(
        fx.ledger
            .reserve(&fx.reserve_request(dec!(1)))
            .await
            .is_err()
    );
    assert!(fx.ledger.audit().await.unwrap().is_clean());
}

#[tokio::test]
async fn an_expired_pending_wallet_is_not_activated() {
    let fx = Fixture::new();
    let mut new = fx.new_wallet(Owner::User(fx.user.clone()), dec!(10), dec!(0));
    new.activates_at = Some(fx.clock.now_plus(Duration::minutes(10)));
    new.expiration_at = Some(fx.clock.now_plus(Duration::minutes(20)));
    let wallet = fx.ledger.create_wallet(&new).await.unwrap();
    assert_eq!(wallet.status, WalletStatus::Pending);
    fx.clock.advance(Duration::minutes(21));

    let activated = fx.ledger.activate(&wallet.id).await;

    assert!(is_conflict(&activated, "wallet_expired"), "{activated:?}");
    fx.ledger.sweep().await.unwrap();
    let stored = fx.ledger.store().wallet(&wallet.id).await.unwrap().unwrap();
    assert_eq!(stored.status, WalletStatus::Terminated);
    assert!(fx.ledger.audit().await.unwrap().is_clean());
}

#[tokio::test]
async fn a_patch_cannot_expire_a_pending_wallet_before_it_activates() {
    let fx = Fixture::new();
    let mut new = fx.new_wallet(Owner::User(fx.user.clone()), dec!(10), dec!(0));
    new.activates_at = Some(fx.clock.now_plus(Duration::days(2)));
    let wallet = fx.ledger.create_wallet(&new).await.unwrap();

    let patched = fx
        .ledger
        .patch_wallet(
            &wallet.id,
            &WalletPatch {
                expiration_at: Some(Some(fx.clock.now_plus(Duration::days(1)))),
                ..WalletPatch::default()
            },
        )
        .await;

    assert!(
        matches!(patched, Err(LedgerError::Invalid(_))),
        "{patched:?}"
    );
    let stored = fx.ledger.store().wallet(&wallet.id).await.unwrap().unwrap();
    assert_eq!(stored.expiration_at, None);
}

#[tokio::test]
async fn a_rule_listed_twice_is_refused_and_fires_once_per_period() {
    let fx = Fixture::new();
    let mut new = fx.new_wallet(Owner::User(fx.user.clone()), dec!(0), dec!(0));
    new.rules = vec![granted_rule(RuleTrigger::Interval, dec!(100))];
    let wallet = fx.ledger.create_wallet(&new).await.unwrap();
    let rule = wallet.rules[0].clone();

    let patched = fx
        .ledger
        .patch_wallet(
            &wallet.id,
            &WalletPatch {
                rules: Some(vec![rule.clone(), rule]),
                ..WalletPatch::default()
            },
        )
        .await;
    fx.clock.advance(Duration::days(32));
    fx.ledger.sweep().await.unwrap();

    assert!(
        matches!(patched, Err(LedgerError::Invalid(_))),
        "{patched:?}"
    );
    let stored = fx.ledger.store().wallet(&wallet.id).await.unwrap().unwrap();
    assert_eq!(stored.rules.len(), 1);
    assert_eq!(stored.granted, credits(dec!(100)), "one period, one top-up");
}

#[tokio::test]
async fn a_threshold_rule_fires_on_a_spend_not_on_a_credit_or_a_release() {
    let fx = Fixture::new();
    let mut new = fx.new_wallet(Owner::User(fx.user.clone()), dec!(0), dec!(0));
    new.rules = vec![granted_rule(RuleTrigger::Threshold, dec!(25))];
    let wallet = fx.ledger.create_wallet(&new).await.unwrap();

    // Below the threshold of 20 already, but raising the balance is no downward crossing.
    let credited = fx
        .ledger
        .credit(&wallet.id, credits(dec!(6)), credits(dec!(0)), "admin")
        .await
        .unwrap();
    let hold = fx
        .ledger
        .reserve(&fx.reserve_request(dec!(1)))
        .await
        .unwrap();
    let after_reserve = fx.ledger.store().wallet(&wallet.id).await.unwrap().unwrap();
    let released = fx.ledger.release(&hold.id, "gateway").await.unwrap();
    let after_release = fx.ledger.store().wallet(&wallet.id).await.unwrap().unwrap();

    assert_eq!(credited.granted, credits(dec!(0)), "a credit fires nothing");
    assert_eq!(
        after_reserve.granted,
        credits(dec!(25)),
        "the reserve lowered the balance below the threshold: one top-up"
    );
    assert_eq!(released.status.as_str(), "released");
    assert_eq!(
        after_release.granted,
        credits(dec!(25)),
        "the release raised it: nothing more"
    );
    assert!(fx.ledger.audit().await.unwrap().is_clean());
}
