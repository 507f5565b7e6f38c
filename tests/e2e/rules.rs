//! The four automatic top-up strategies of seed 001 through the HTTP API with the test clock:
//! interval rules over a simulated year (exact counts, month-end anchors), TARGET refills, and
//! a rule changed through `PATCH /v1/wallets/{id}`.

use ledger_core::topup_rule::{RuleInterval, add_periods};
use purse_e2e::TestApp;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use time::{Date, Duration, Month, OffsetDateTime, Time};

use crate::rules_support::{
    advance_to, clock_now, dec, decimal, last_run, on_both_engines, rfc3339, rule_topups, wallet,
};
use crate::scenarios::tenant;

on_both_engines!(
    fixed_interval_rules_fire_once_per_period_over_a_simulated_year,
    a_month_end_anchor_fires_on_the_last_day_of_shorter_months,
    target_interval_tops_up_to_the_target_counting_held_credits_as_spent,
    a_rule_changed_through_patch_keeps_its_periods_and_a_new_one_takes_over,
);

/// An organization wallet of `granted` credits with `rules`, through `POST /v1/wallets`.
pub(crate) async fn org_wallet(
    app: &TestApp,
    token: &str,
    org: &str,
    granted: &str,
    rules: Value,
) -> Value {
    app.create_wallet(
        token,
        json!({"owner_type": "organization", "owner_id": org, "currency": "USD",
               "rate_amount": "1", "granted_credits": granted,
               "recurring_transaction_rules": rules}),
    )
    .await
    .expect(201)
}

/// How many periods of `interval` from `anchor` have come by `now`.
fn periods_due(anchor: OffsetDateTime, interval: RuleInterval, now: OffsetDateTime) -> u32 {
    (1..)
        .take_while(|&k| add_periods(anchor, interval, k) <= now)
        .count()
        .try_into()
        .expect("a small count")
}

async fn fixed_interval_rules_fire_once_per_period_over_a_simulated_year(app: &TestApp) {
    // Arrange: one wallet per interval, 10 granted credits a period, one anchor for all. The
    // monthly one comes through seed 001's own endpoint and body.
    let t = tenant(app, "almanac").await;
    let anchor = (clock_now(app).await + Duration::minutes(1))
        .replace_nanosecond(0)
        .unwrap();
    let rule = |interval: &str| {
        json!([{"method": "FIXED", "trigger": "INTERVAL", "interval": interval,
                "granted_credits": "10", "started_at": rfc3339(anchor)}])
    };
    let mut wallets = Vec::new();
    for (interval, name) in [
        (RuleInterval::Weekly, "weekly"),
        (RuleInterval::Quarterly, "quarterly"),
        (RuleInterval::Yearly, "yearly"),
    ] {
        let created = org_wallet(app, &t.org_admin, &t.org, "0", rule(name)).await;
        wallets.push((interval, created["id"].as_str().unwrap().to_owned()));
    }
    let seed_body = json!({
        "external_customer_id": "almanac",
        "name": "Prepaid credits",
        "rate_amount": "1.0",
        "paid_credits": "0",
        "granted_credits": "0",
        "currency": "USD",
        "expiration_at": rfc3339(anchor + Duration::days(800)),
        "applies_to": {"fee_types": ["SUBSCRIPTION", "CHARGE"]},
        "recurring_transaction_rules": [{
            "method": "FIXED", "trigger": "INTERVAL", "interval": "monthly",
            "granted_credits": "10.0", "started_at": rfc3339(anchor)
        }]
    });
    let monthly = app
        .create_billing_wallet(&t.org_admin, seed_body)
        .await
        .expect(201);
    wallets.push((
        RuleInterval::Monthly,
        monthly["id"].as_str().unwrap().to_owned(),
    ));

    // Act: a year in weekly steps. Checkpoints sit 12 hours off the anchor's time of day, so
    // no period boundary is ever within seconds of one.
    let year_end = add_periods(anchor, RuleInterval::Yearly, 1) + Duration::hours(12);
    let mut checkpoint = anchor + Duration::hours(12);
    while checkpoint < year_end {
        checkpoint = (checkpoint + Duration::weeks(1)).min(year_end);
        advance_to(app, checkpoint).await;
        let now = clock_now(app).await;
        for (interval, wallet_id) in &wallets {
            let read = wallet(app, &t.org_admin, wallet_id).await;
            let expected = periods_due(anchor, *interval, now);
            assert_eq!(
                decimal(&read, "granted_credits"),
                Decimal::from(expected) * dec("10"),
                "{interval:?} at {now}"
            );
        }
    }

    // Assert: exact counts over the year, each period one history line.
    for (interval, wallet_id) in &wallets {
        let expected = match interval {
            RuleInterval::Weekly => 52,
            RuleInterval::Monthly => 12,
            RuleInterval::Quarterly => 4,
            RuleInterval::Yearly => 1,
        };
        assert_eq!(
            rule_topups(app, &t.org_admin, wallet_id).await,
            expected,
            "{interval:?}"
        );
        let read = wallet(app, &t.org_admin, wallet_id).await;
        assert_eq!(last_run(&read)["status"], "succeeded");
    }
    crate::rules_support::assert_audit_clean(app).await;
}

/// The first January 31, 12:00 UTC, at least two days after `now`.
fn next_january_31(now: OffsetDateTime) -> OffsetDateTime {
    let mut year = now.year();
    loop {
        let candidate = Date::from_calendar_date(year, Month::January, 31)
            .unwrap()
            .with_time(Time::from_hms(12, 0, 0).unwrap())
            .assume_utc();
        if candidate > now + Duration::days(2) {
            return candidate;
        }
        year += 1;
    }
}

fn on(year: i32, month: Month, day: u8, hour: u8) -> OffsetDateTime {
    Date::from_calendar_date(year, month, day)
        .unwrap()
        .with_time(Time::from_hms(hour, 0, 0).unwrap())
        .assume_utc()
}

async fn a_month_end_anchor_fires_on_the_last_day_of_shorter_months(app: &TestApp) {
    let t = tenant(app, "monthend").await;
    let anchor = next_january_31(clock_now(app).await);
    let year = anchor.year();
    let february_end = time::util::days_in_month(Month::February, year);
    let created = org_wallet(
        app,
        &t.org_admin,
        &t.org,
        "0",
        json!([{"method": "FIXED", "trigger": "INTERVAL", "interval": "monthly",
                "granted_credits": "1", "started_at": rfc3339(anchor)}]),
    )
    .await;
    let wallet_id = created["id"].as_str().unwrap();
    let admin = t.org_admin.as_str();
    let granted_at = |instant| async move {
        advance_to(app, instant).await;
        decimal(&wallet(app, admin, wallet_id).await, "granted_credits")
    };

    // The anchor itself is not a period (k ≥ 1); February's period is its last day.
    assert_eq!(granted_at(anchor + Duration::hours(1)).await, dec("0"));
    assert_eq!(
        granted_at(on(year, Month::February, february_end, 11)).await,
        dec("0")
    );
    assert_eq!(
        granted_at(on(year, Month::February, february_end, 13)).await,
        dec("1")
    );
    // Counted from the anchor, not from February: back to the 31st in March.
    assert_eq!(granted_at(on(year, Month::March, 30, 13)).await, dec("1"));
    assert_eq!(granted_at(on(year, Month::March, 31, 13)).await, dec("2"));
    assert_eq!(granted_at(on(year, Month::April, 30, 13)).await, dec("3"));
    assert_eq!(granted_at(on(year, Month::May, 31, 13)).await, dec("4"));

    let lines =
        crate::rules_support::lines_of_kind(app, &t.org_admin, wallet_id, "rule_topup").await;
    let days: Vec<&str> = lines
        .iter()
        .rev()
        .map(|line| &line["created_at"].as_str().unwrap()[5..10])
        .collect();
    let february = format!("02-{february_end}");
    assert_eq!(days, [february.as_str(), "03-31", "04-30", "05-31"]);
}

async fn target_interval_tops_up_to_the_target_counting_held_credits_as_spent(app: &TestApp) {
    // Arrange: 30 credits, a monthly rule that tops up to 100; 20 spent, then 5 held just
    // before the period.
    let t = tenant(app, "target").await;
    let started_at = (clock_now(app).await + Duration::minutes(1))
        .replace_nanosecond(0)
        .unwrap();
    let created = org_wallet(
        app,
        &t.org_admin,
        &t.org,
        "30",
        json!([{"method": "TARGET", "trigger": "INTERVAL", "interval": "monthly",
                "target_ongoing_balance": "100", "started_at": rfc3339(started_at)}]),
    )
    .await;
    let wallet_id = created["id"].as_str().unwrap();
    let spent = app
        .reserve(&t.gateway, json!({"user_id": t.user, "amount": "20"}), None)
        .await
        .expect(201);
    app.settle(&t.gateway, spent["id"].as_str().unwrap(), "20")
        .await
        .expect(200);
    let first_period = add_periods(started_at, RuleInterval::Monthly, 1);
    advance_to(app, first_period - Duration::hours(1)).await;
    app.reserve(
        &t.gateway,
        json!({"user_id": t.user, "amount": "5", "ttl_seconds": 86400}),
        None,
    )
    .await
    .expect(201);

    // Act
    advance_to(app, first_period + Duration::hours(1)).await;

    // Assert: 10 left, 5 of them held, so the rule added 95 to make 100 available.
    let read = wallet(app, &t.org_admin, wallet_id).await;
    assert_eq!(decimal(&read, "available_credits"), dec("100"));
    assert_eq!(decimal(&read, "held_credits"), dec("5"));
    assert_eq!(decimal(&read, "granted_credits"), dec("105"));
    assert_eq!(last_run(&read)["granted_credits"], "95");

    // The next period finds the target met (the hold expired meanwhile): nothing is added, and
    // the run says why.
    advance_to(
        app,
        add_periods(started_at, RuleInterval::Monthly, 2) + Duration::hours(1),
    )
    .await;
    let read = wallet(app, &t.org_admin, wallet_id).await;
    assert_eq!(decimal(&read, "available_credits"), dec("105"));
    assert_eq!(last_run(&read)["status"], "failed");
    assert_eq!(last_run(&read)["error_code"], "nothing_to_add");
    assert_eq!(rule_topups(app, &t.org_admin, wallet_id).await, 1);
    crate::rules_support::assert_audit_clean(app).await;
}

async fn a_rule_changed_through_patch_keeps_its_periods_and_a_new_one_takes_over(app: &TestApp) {
    // Arrange: a weekly rule of 5 that has fired twice.
    let t = tenant(app, "patched").await;
    let started_at = (clock_now(app).await + Duration::minutes(1))
        .replace_nanosecond(0)
        .unwrap();
    let created = org_wallet(
        app,
        &t.org_admin,
        &t.org,
        "0",
        json!([{"method": "FIXED", "trigger": "INTERVAL", "interval": "weekly",
                "granted_credits": "5", "started_at": rfc3339(started_at)}]),
    )
    .await;
    let wallet_id = created["id"].as_str().unwrap();
    let week = |k: i32| started_at + Duration::weeks(k.into()) + Duration::hours(12);
    let month = |k: u32| add_periods(started_at, RuleInterval::Monthly, k) + Duration::hours(12);
    advance_to(app, week(2)).await;
    let read = wallet(app, &t.org_admin, wallet_id).await;
    assert_eq!(decimal(&read, "granted_credits"), dec("10"));
    let rule_id = read["recurring_transaction_rules"][0]["id"].clone();

    // Act 1: the rule sent back by id with a new amount and no `started_at`.
    let patched = app
        .patch_wallet(
            &t.org_admin,
            wallet_id,
            json!({"recurring_transaction_rules": [
                {"id": rule_id, "method": "FIXED", "trigger": "INTERVAL", "interval": "weekly",
                 "granted_credits": "7"}]}),
        )
        .await
        .expect(200);
    advance_to(app, week(3)).await;

    // Assert 1: same rule, same anchor; weeks 1–2 did not fire again, week 3 added 7.
    assert_eq!(patched["recurring_transaction_rules"][0]["id"], rule_id);
    assert_eq!(
        patched["recurring_transaction_rules"][0]["started_at"],
        rfc3339(started_at)
    );
    let read = wallet(app, &t.org_admin, wallet_id).await;
    assert_eq!(decimal(&read, "granted_credits"), dec("17"));

    // Act 2: the same rule made monthly. Its new schedule counts from now: the first month
    // fires at its end, not three months on (the weekly count), and nothing fires at once.
    let mut rule = read["recurring_transaction_rules"][0].clone();
    rule["interval"] = json!("monthly");
    app.patch_wallet(
        &t.org_admin,
        wallet_id,
        json!({"recurring_transaction_rules": [rule]}),
    )
    .await
    .expect(200);
    let unchanged = wallet(app, &t.org_admin, wallet_id).await;
    advance_to(app, month(1)).await;
    let read = wallet(app, &t.org_admin, wallet_id).await;
    assert_eq!(decimal(&unchanged, "granted_credits"), dec("17"));
    assert_eq!(decimal(&read, "granted_credits"), dec("24"));

    // Act 3: the interval rule replaced by a TARGET + THRESHOLD rule.
    app.patch_wallet(
        &t.org_admin,
        wallet_id,
        json!({"recurring_transaction_rules": [
            {"method": "TARGET", "trigger": "THRESHOLD", "threshold_credits": "10",
             "target_ongoing_balance": "40"}]}),
    )
    .await
    .expect(200);
    advance_to(app, month(2)).await;
    let unchanged = wallet(app, &t.org_admin, wallet_id).await;
    let hold = app
        .reserve(&t.gateway, json!({"user_id": t.user, "amount": "15"}), None)
        .await
        .expect(201);

    // Assert 3: no more monthly credits; the crossing to 9 refilled to 40 available.
    assert_eq!(decimal(&unchanged, "granted_credits"), dec("24"));
    let read = wallet(app, &t.org_admin, wallet_id).await;
    assert_eq!(decimal(&read, "available_credits"), dec("40"));
    assert_eq!(hold["status"], "held");
    assert_eq!(rule_topups(app, &t.org_admin, wallet_id).await, 5);
    crate::rules_support::assert_audit_clean(app).await;
}
