//! Automatic top-up rules (seed 001) through the core, with a controllable clock and the
//! sandbox provider for paid credits.

use ledger_core::LedgerError;
use ledger_core::id::{PaymentMethodId, RuleId};
use ledger_core::payment_session::PaymentStatus;
use ledger_core::ports::SavedPaymentMethod;
use ledger_core::service::RULE_ID_UNSET;
use ledger_core::topup_rule::{RuleInterval, RuleMethod, RuleRunStatus, RuleTrigger, TopupRule};
use ledger_core::wallet::{Owner, Wallet};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use time::Duration;
use time::macros::datetime;

use crate::support::{Fixture, credits};

pub(crate) fn rule(method: RuleMethod, trigger: RuleTrigger) -> TopupRule {
    TopupRule {
        id: RuleId::parse(RULE_ID_UNSET).unwrap(),
        method,
        trigger,
        interval: None,
        threshold_credits: None,
        target_ongoing_balance: None,
        paid_credits: None,
        granted_credits: None,
        credit_type: None,
        payment_method_id: None,
        started_at: None,
        last_period_fired: 0,
        armed: true,
        max_paid_credits_per_month: None,
        state: Default::default(),
    }
}

pub(crate) async fn wallet_with(fx: &Fixture, granted: Decimal, rules: Vec<TopupRule>) -> Wallet {
    let new = ledger_core::service::NewWallet {
        org_id: fx.org.clone(),
        owner: Owner::User(fx.user.clone()),
        name: None,
        currency: fx.usd,
        rate_amount: Decimal::ONE,
        paid: credits(dec!(0)),
        granted: credits(granted),
        expiration_at: None,
        activates_at: None,
        priority: 0,
        fee_types: Vec::new(),
        rules,
        principal: "admin".to_owned(),
    };
    fx.ledger.create_wallet(&new).await.unwrap()
}

async fn reload(fx: &Fixture, wallet: &Wallet) -> Wallet {
    fx.ledger.store().wallet(&wallet.id).await.unwrap().unwrap()
}

/// Advances a simulated year in daily steps, sweeping after each, and answers the periods fired.
async fn run_a_year(fx: &Fixture) -> u64 {
    let mut fired = 0;
    for _ in 0..366 {
        fx.clock.advance(Duration::days(1));
        fired += fx.ledger.sweep().await.unwrap().rule_periods_fired;
    }
    fired
}

#[tokio::test]
async fn fixed_interval_rules_fire_exactly_once_per_period_over_a_year() {
    for (interval, expected) in [
        (RuleInterval::Weekly, 52),
        (RuleInterval::Monthly, 12),
        (RuleInterval::Quarterly, 4),
        (RuleInterval::Yearly, 1),
    ] {
        let fx = Fixture::new();
        fx.clock.set(datetime!(2027-01-01 00:00 UTC));
        let mut fixed = rule(RuleMethod::Fixed, RuleTrigger::Interval);
        fixed.interval = Some(interval);
        fixed.granted_credits = Some(credits(dec!(10)));
        let wallet = wallet_with(&fx, dec!(0), vec![fixed]).await;

        let fired = run_a_year(&fx).await;

        assert_eq!(fired, expected, "{interval:?}");
        assert_eq!(
            reload(&fx, &wallet).await.granted,
            credits(Decimal::from(expected) * dec!(10))
        );
        fx.assert_audit_clean().await;
    }
}

#[tokio::test]
async fn a_month_end_anchor_fires_on_the_last_day_of_short_months() {
    let fx = Fixture::new();
    fx.clock.set(datetime!(2028-01-31 12:00 UTC));
    let mut monthly = rule(RuleMethod::Fixed, RuleTrigger::Interval);
    monthly.interval = Some(RuleInterval::Monthly);
    monthly.granted_credits = Some(credits(dec!(1)));
    let wallet = wallet_with(&fx, dec!(0), vec![monthly]).await;

    fx.clock.set(datetime!(2028-02-29 11:59 UTC));
    assert_eq!(fx.ledger.sweep().await.unwrap().rule_periods_fired, 0);
    fx.clock.set(datetime!(2028-02-29 12:00 UTC));
    assert_eq!(
        fx.ledger.sweep().await.unwrap().rule_periods_fired,
        1,
        "leap-year February 29"
    );
    fx.clock.set(datetime!(2028-03-31 12:00 UTC));
    assert_eq!(
        fx.ledger.sweep().await.unwrap().rule_periods_fired,
        1,
        "back to the 31st"
    );
    assert_eq!(reload(&fx, &wallet).await.granted, credits(dec!(2)));
}

#[tokio::test]
async fn missed_periods_catch_up_once_each_and_never_again() {
    let fx = Fixture::new();
    let mut weekly = rule(RuleMethod::Fixed, RuleTrigger::Interval);
    weekly.interval = Some(RuleInterval::Weekly);
    weekly.granted_credits = Some(credits(dec!(5)));
    let wallet = wallet_with(&fx, dec!(0), vec![weekly]).await;

    fx.clock.advance(Duration::days(22));
    let first = fx.ledger.sweep().await.unwrap().rule_periods_fired;
    let second = fx.ledger.sweep().await.unwrap().rule_periods_fired;

    assert_eq!((first, second), (3, 0));
    assert_eq!(reload(&fx, &wallet).await.granted, credits(dec!(15)));
}

#[tokio::test]
async fn target_interval_tops_up_to_the_target_only() {
    let fx = Fixture::new();
    let mut target = rule(RuleMethod::Target, RuleTrigger::Interval);
    target.interval = Some(RuleInterval::Monthly);
    target.target_ongoing_balance = Some(credits(dec!(100)));
    let wallet = wallet_with(&fx, dec!(30), vec![target]).await;
    let hold = fx.ledger.reserve(&fx.reserve(dec!(20))).await.unwrap();
    fx.ledger
        .settle(&hold.id, credits(dec!(20)), "gateway")
        .await
        .unwrap();

    fx.clock.advance(Duration::days(31));
    fx.ledger.sweep().await.unwrap();
    fx.clock.advance(Duration::days(31));
    fx.ledger.sweep().await.unwrap();

    // 10 left, so the first period adds 90; the second finds the target met and adds nothing.
    let after = reload(&fx, &wallet).await;
    assert_eq!(after.available(), credits(dec!(100)));
    assert_eq!(after.granted, credits(dec!(100)));
    fx.assert_audit_clean().await;
}

#[tokio::test]
async fn fixed_threshold_fires_once_per_downward_crossing() {
    let fx = Fixture::new();
    let mut threshold = rule(RuleMethod::Fixed, RuleTrigger::Threshold);
    threshold.threshold_credits = Some(credits(dec!(20)));
    threshold.granted_credits = Some(credits(dec!(5)));
    let wallet = wallet_with(&fx, dec!(30), vec![threshold]).await;

    // 30 → 15: crosses 20, fires (+5 = 20: at the threshold, not above, so it stays disarmed).
    let hold = fx.ledger.reserve(&fx.reserve(dec!(15))).await.unwrap();
    assert_eq!(reload(&fx, &wallet).await.available(), credits(dec!(20)));
    // Still below after more spend: no second fire for the same crossing.
    fx.ledger
        .settle(&hold.id, credits(dec!(15)), "gateway")
        .await
        .unwrap();
    let again = fx.ledger.reserve(&fx.reserve(dec!(2))).await.unwrap();
    assert_eq!(reload(&fx, &wallet).await.available(), credits(dec!(18)));
    // Back above (admin credit), then a new drop below fires again.
    fx.ledger.release(&again.id, "gateway").await.unwrap();
    fx.ledger
        .credit(&wallet.id, credits(dec!(0)), credits(dec!(10)), "admin")
        .await
        .unwrap();
    fx.ledger.reserve(&fx.reserve(dec!(15))).await.unwrap();

    // 30 + 5 (first fire) - 15 (settled, granted first) + 10 (credit) + 5 (second fire).
    let after = reload(&fx, &wallet).await;
    assert_eq!(after.granted, credits(dec!(35)));
    fx.assert_audit_clean().await;
}

#[tokio::test]
async fn target_threshold_refills_to_the_target() {
    let fx = Fixture::new();
    let mut target = rule(RuleMethod::Target, RuleTrigger::Threshold);
    target.threshold_credits = Some(credits(dec!(10)));
    target.target_ongoing_balance = Some(credits(dec!(50)));
    let wallet = wallet_with(&fx, dec!(40), vec![target]).await;

    let hold = fx.ledger.reserve(&fx.reserve(dec!(35))).await.unwrap();
    fx.ledger
        .settle(&hold.id, credits(dec!(35)), "gateway")
        .await
        .unwrap();

    assert_eq!(reload(&fx, &wallet).await.available(), credits(dec!(50)));
    fx.assert_audit_clean().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_settles_below_a_threshold_fire_it_once() {
    let fx = Fixture::new();
    let mut threshold = rule(RuleMethod::Fixed, RuleTrigger::Threshold);
    threshold.threshold_credits = Some(credits(dec!(50)));
    threshold.granted_credits = Some(credits(dec!(1)));
    let wallet = wallet_with(&fx, dec!(100), vec![threshold]).await;

    let mut tasks = Vec::new();
    for _ in 0..40 {
        let ledger = fx.ledger.clone();
        let request = fx.reserve(dec!(2));
        tasks.push(tokio::spawn(async move {
            let hold = ledger.reserve(&request).await.unwrap();
            ledger
                .settle(&hold.id, credits(dec!(2)), "gateway")
                .await
                .unwrap();
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }

    let after = reload(&fx, &wallet).await;
    assert_eq!(after.total_spent, credits(dec!(80)));
    assert_eq!(
        after.granted,
        credits(dec!(21)),
        "100 - 80 spent + exactly one fire of 1"
    );
    fx.assert_audit_clean().await;
}

pub(crate) async fn saved_method(fx: &Fixture, token: &str) -> PaymentMethodId {
    let id = PaymentMethodId::parse(&format!("pm_{}", token.replace('_', ""))).unwrap();
    fx.payments
        .store()
        .insert_payment_method(&SavedPaymentMethod {
            id: id.clone(),
            org_id: fx.org.clone(),
            provider: "sandbox".to_owned(),
            owner: Owner::User(fx.user.clone()),
            provider_token: token.to_owned(),
            provider_customer_id: None,
            label: "Sandbox card".to_owned(),
            created_at: fx.clock.now_plus(Duration::ZERO),
        })
        .await
        .unwrap();
    id
}

#[tokio::test]
async fn paid_threshold_credits_stay_pending_until_the_charge_succeeds() {
    let fx = Fixture::new();
    let method = saved_method(&fx, "sbxpm_good").await;
    let mut threshold = rule(RuleMethod::Fixed, RuleTrigger::Threshold);
    threshold.threshold_credits = Some(credits(dec!(10)));
    threshold.paid_credits = Some(credits(dec!(25)));
    threshold.payment_method_id = Some(method);
    let wallet = wallet_with(&fx, dec!(20), vec![threshold]).await;

    fx.ledger.reserve(&fx.reserve(dec!(15))).await.unwrap();
    let pending = reload(&fx, &wallet).await;
    assert_eq!(
        pending.paid,
        credits(dec!(0)),
        "nothing added before the charge"
    );
    let run = pending.rules[0].state.last_run.clone().unwrap();
    assert_eq!(run.status, RuleRunStatus::Pending);
    // A second crossing while pending is suppressed by the rail, not charged twice.
    fx.payments.sweep().await.unwrap();

    let after = reload(&fx, &wallet).await;
    assert_eq!(after.paid, credits(dec!(25)));
    assert_eq!(
        after.rules[0].state.last_run.as_ref().unwrap().status,
        RuleRunStatus::Succeeded
    );
    assert!(after.rules[0].state.pending_session_id.is_none());
    let session = fx
        .payments
        .store()
        .payment_session(run.payment_session_id.as_ref().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(session.status, PaymentStatus::Completed);
    assert_eq!(session.surface, "auto_topup");
    fx.assert_audit_clean().await;
}

#[tokio::test]
async fn declined_paid_charges_add_nothing_back_off_and_pause_after_three() {
    let fx = Fixture::new();
    let method = saved_method(&fx, "sbxpm_decline").await;
    let mut weekly = rule(RuleMethod::Fixed, RuleTrigger::Interval);
    weekly.interval = Some(RuleInterval::Weekly);
    weekly.paid_credits = Some(credits(dec!(10)));
    weekly.payment_method_id = Some(method);
    let wallet = wallet_with(&fx, dec!(0), vec![weekly]).await;

    for _ in 0..4 {
        fx.clock.advance(Duration::weeks(1));
        fx.ledger.sweep().await.unwrap();
        fx.payments.sweep().await.unwrap();
    }

    let after = reload(&fx, &wallet).await;
    assert!(after.paid.is_zero());
    let state = &after.rules[0].state;
    assert_eq!(state.consecutive_declines, 3);
    assert!(state.paused, "paused after three declines");
    let run = state.last_run.as_ref().unwrap();
    assert_eq!(run.status, RuleRunStatus::Failed);
    assert_eq!(run.error_code.as_deref(), Some("rule_paused"));
    fx.assert_audit_clean().await;
}

#[tokio::test]
async fn a_monthly_cap_blocks_paid_top_ups_visibly() {
    let fx = Fixture::new();
    let method = saved_method(&fx, "sbxpm_capped").await;
    let mut threshold = rule(RuleMethod::Fixed, RuleTrigger::Threshold);
    threshold.threshold_credits = Some(credits(dec!(10)));
    threshold.paid_credits = Some(credits(dec!(30)));
    threshold.payment_method_id = Some(method);
    threshold.max_paid_credits_per_month = Some(credits(dec!(20)));
    let wallet = wallet_with(&fx, dec!(15), vec![threshold]).await;

    fx.ledger.reserve(&fx.reserve(dec!(10))).await.unwrap();

    let after = reload(&fx, &wallet).await;
    let run = after.rules[0].state.last_run.as_ref().unwrap();
    assert_eq!(run.status, RuleRunStatus::Failed);
    assert_eq!(run.error_code.as_deref(), Some("monthly_cap"));
    assert!(after.rules[0].state.pending_session_id.is_none());
}

#[tokio::test]
async fn invalid_rule_combinations_are_refused_by_name() {
    let fx = Fixture::new();
    let cases = [
        (
            rule(RuleMethod::Target, RuleTrigger::Threshold),
            "threshold_credits",
        ),
        (rule(RuleMethod::Fixed, RuleTrigger::Interval), "interval"),
        (
            {
                let mut target = rule(RuleMethod::Target, RuleTrigger::Interval);
                target.interval = Some(RuleInterval::Weekly);
                target
            },
            "target_ongoing_balance",
        ),
        (
            {
                let mut paid = rule(RuleMethod::Fixed, RuleTrigger::Interval);
                paid.interval = Some(RuleInterval::Weekly);
                paid.paid_credits = Some(credits(dec!(1)));
                paid
            },
            "payment_method_id",
        ),
    ];
    for (bad, field) in cases {
        let new = ledger_core::service::NewWallet {
            org_id: fx.org.clone(),
            owner: Owner::User(fx.user.clone()),
            name: None,
            currency: fx.usd,
            rate_amount: Decimal::ONE,
            paid: credits(dec!(0)),
            granted: credits(dec!(0)),
            expiration_at: None,
            activates_at: None,
            priority: 0,
            fee_types: Vec::new(),
            rules: vec![bad],
            principal: "admin".to_owned(),
        };
        let Err(LedgerError::Invalid(error)) = fx.ledger.create_wallet(&new).await else {
            panic!("expected a validation error about {field}");
        };
        assert_eq!(error.field.as_deref(), Some(field));
    }
}

#[tokio::test]
async fn rules_of_a_terminated_wallet_stop() {
    let fx = Fixture::new();
    let mut weekly = rule(RuleMethod::Fixed, RuleTrigger::Interval);
    weekly.interval = Some(RuleInterval::Weekly);
    weekly.granted_credits = Some(credits(dec!(5)));
    let wallet = wallet_with(&fx, dec!(0), vec![weekly]).await;
    fx.ledger.terminate(&wallet.id, "admin").await.unwrap();

    fx.clock.advance(Duration::weeks(3));
    let report = fx.ledger.sweep().await.unwrap();

    assert_eq!(report.rule_periods_fired, 0);
    assert!(reload(&fx, &wallet).await.granted.is_zero());
    assert!(matches!(
        fx.ledger
            .credit(&wallet.id, credits(dec!(1)), credits(dec!(0)), "admin")
            .await,
        Err(LedgerError::Conflict { .. })
    ));
}

#[tokio::test]
async fn periods_that_ended_while_a_wallet_was_pending_do_not_fire_on_activation() {
    let fx = Fixture::new();
    let mut weekly = rule(RuleMethod::Fixed, RuleTrigger::Interval);
    weekly.interval = Some(RuleInterval::Weekly);
    weekly.granted_credits = Some(credits(dec!(5)));
    let mut new = ledger_core::service::NewWallet {
        org_id: fx.org.clone(),
        owner: Owner::User(fx.user.clone()),
        name: None,
        currency: fx.usd,
        rate_amount: Decimal::ONE,
        paid: credits(dec!(0)),
        granted: credits(dec!(0)),
        expiration_at: None,
        activates_at: Some(fx.clock.now_plus(Duration::days(20))),
        priority: 0,
        fee_types: Vec::new(),
        rules: vec![weekly],
        principal: "admin".to_owned(),
    };
    let scheduled = fx.ledger.create_wallet(&new).await.unwrap();
    new.activates_at = Some(fx.clock.now_plus(Duration::days(365)));
    let explicit = fx.ledger.create_wallet(&new).await.unwrap();

    // Weeks 1 and 2 end while both are PENDING; the sweep runs a day late, at day 22, so
    // the scheduled wallet activates then (as of day 20) and the other is activated by hand.
    fx.clock.advance(Duration::days(22));
    let report = fx.ledger.sweep().await.unwrap();
    fx.ledger.activate(&explicit.id).await.unwrap();
    fx.clock.advance(Duration::days(7));
    fx.ledger.sweep().await.unwrap();

    // Week 3 (day 21) came after the scheduled activation and caught up; week 4 fired for both.
    assert_eq!(report.wallets_activated, 1);
    assert_eq!(reload(&fx, &scheduled).await.granted, credits(dec!(10)));
    assert_eq!(reload(&fx, &explicit).await.granted, credits(dec!(5)));
    fx.assert_audit_clean().await;
}

#[tokio::test]
async fn a_rule_saved_again_keeps_its_anchor_and_a_new_interval_counts_from_now() {
    let fx = Fixture::new();
    fx.clock.set(datetime!(2027-01-01 00:00 UTC));
    let mut weekly = rule(RuleMethod::Fixed, RuleTrigger::Interval);
    weekly.interval = Some(RuleInterval::Weekly);
    weekly.granted_credits = Some(credits(dec!(5)));
    let wallet = wallet_with(&fx, dec!(0), vec![weekly]).await;
    fx.clock.advance(Duration::days(15));
    fx.ledger.sweep().await.unwrap();
    let save_again = |interval| {
        let mut saved = reload_rule_template(&wallet);
        saved.interval = Some(interval);
        ledger_core::service::WalletPatch {
            name: None,
            expiration_at: None,
            priority: None,
            fee_types: None,
            rules: Some(vec![saved]),
        }
    };

    // Saved again by id without `started_at`: same anchor, so week 3 (day 21) fires.
    let saved = fx
        .ledger
        .patch_wallet(&wallet.id, &save_again(RuleInterval::Weekly))
        .await
        .unwrap();
    assert_eq!(saved.rules[0].started_at, wallet.rules[0].started_at);
    fx.clock.advance(Duration::days(7));
    fx.ledger.sweep().await.unwrap();
    assert_eq!(reload(&fx, &wallet).await.granted, credits(dec!(15)));

    // Made monthly: counts from now, so nothing fires at once and February 1 fires once.
    fx.ledger
        .patch_wallet(&wallet.id, &save_again(RuleInterval::Monthly))
        .await
        .unwrap();
    assert_eq!(fx.ledger.sweep().await.unwrap().rule_periods_fired, 0);
    fx.clock.set(datetime!(2027-02-01 01:00 UTC));
    assert_eq!(fx.ledger.sweep().await.unwrap().rule_periods_fired, 1);
    assert_eq!(reload(&fx, &wallet).await.granted, credits(dec!(20)));
}

/// The wallet's first rule as a client sends it back: its id and settings, no anchor.
fn reload_rule_template(wallet: &Wallet) -> TopupRule {
    let mut saved = rule(RuleMethod::Fixed, RuleTrigger::Interval);
    saved.id = wallet.rules[0].id.clone();
    saved.granted_credits = wallet.rules[0].granted_credits;
    saved
}

#[tokio::test]
async fn a_rule_naming_another_organizations_method_charges_nothing_and_pauses() {
    let fx = Fixture::new();
    let method = PaymentMethodId::parse("pm_elsewhere").unwrap();
    let other_org = ledger_core::id::OrgId::parse("org_other").unwrap();
    fx.payments
        .store()
        .insert_payment_method(&SavedPaymentMethod {
            id: method.clone(),
            org_id: other_org.clone(),
            provider: "sandbox".to_owned(),
            owner: Owner::Organization(other_org),
            provider_token: "sbxpm_good".to_owned(),
            provider_customer_id: None,
            label: "Someone else's card".to_owned(),
            created_at: fx.clock.now_plus(Duration::ZERO),
        })
        .await
        .unwrap();
    let mut threshold = rule(RuleMethod::Fixed, RuleTrigger::Threshold);
    threshold.threshold_credits = Some(credits(dec!(10)));
    threshold.paid_credits = Some(credits(dec!(25)));
    threshold.payment_method_id = Some(method);
    let wallet = wallet_with(&fx, dec!(20), vec![threshold]).await;

    fx.ledger.reserve(&fx.reserve(dec!(15))).await.unwrap();
    fx.payments.sweep().await.unwrap();

    let after = reload(&fx, &wallet).await;
    assert!(after.paid.is_zero());
    let state = &after.rules[0].state;
    assert!(state.paused, "paused: the method is not the organization's");
    let run = state.last_run.as_ref().unwrap();
    assert_eq!(
        run.error_code.as_deref(),
        Some("declined:payment_method_missing")
    );
    fx.assert_audit_clean().await;
}

#[tokio::test]
async fn a_paid_top_up_is_charged_even_behind_a_hundred_unapproved_checkouts() {
    let fx = Fixture::new();
    let method = saved_method(&fx, "sbxpm_good").await;
    let mut threshold = rule(RuleMethod::Fixed, RuleTrigger::Threshold);
    threshold.threshold_credits = Some(credits(dec!(10)));
    threshold.paid_credits = Some(credits(dec!(25)));
    threshold.payment_method_id = Some(method);
    let wallet = wallet_with(&fx, dec!(20), vec![threshold]).await;
    fx.ledger.reserve(&fx.reserve(dec!(15))).await.unwrap();
    // Buyers elsewhere on the platform open checkouts they never approve (3 hours each).
    for _ in 0..100 {
        fx.clock.advance(Duration::seconds(1));
        fx.payments
            .start_checkout(&fx.start(dec!(10)))
            .await
            .unwrap();
    }

    fx.payments.sweep().await.unwrap();

    let after = reload(&fx, &wallet).await;
    assert_eq!(
        after.paid,
        credits(dec!(25)),
        "the rule's charge must not be starved by newer unapproved sessions"
    );
    assert!(after.rules[0].state.pending_session_id.is_none());
    fx.assert_audit_clean().await;
}

#[tokio::test]
async fn a_declined_paid_threshold_charge_is_retried_on_a_later_write_after_the_backoff() {
    let fx = Fixture::new();
    let method = saved_method(&fx, "sbxpm_decline_retry").await;
    let mut threshold = rule(RuleMethod::Fixed, RuleTrigger::Threshold);
    threshold.threshold_credits = Some(credits(dec!(10)));
    threshold.paid_credits = Some(credits(dec!(25)));
    threshold.payment_method_id = Some(method);
    let wallet = wallet_with(&fx, dec!(20), vec![threshold]).await;

    // First crossing: a charge starts and is declined.
    fx.ledger.reserve(&fx.reserve(dec!(12))).await.unwrap();
    fx.payments.sweep().await.unwrap();
    // Still below, inside the backoff: no new charge, the run says why.
    fx.ledger.reserve(&fx.reserve(dec!(1))).await.unwrap();
    let backing_off = reload(&fx, &wallet).await;
    assert_eq!(backing_off.rules[0].state.consecutive_declines, 1);
    assert_eq!(
        backing_off.rules[0]
            .state
            .last_run
            .as_ref()
            .unwrap()
            .error_code
            .as_deref(),
        Some("backing_off")
    );
    // After the backoff, the next write below the threshold charges again.
    fx.clock.advance(Duration::hours(2));
    fx.ledger.reserve(&fx.reserve(dec!(1))).await.unwrap();
    fx.payments.sweep().await.unwrap();

    let after = reload(&fx, &wallet).await;
    assert_eq!(
        after.rules[0].state.consecutive_declines, 2,
        "a second charge was tried and declined"
    );
    assert!(after.paid.is_zero());
    fx.assert_audit_clean().await;
}
