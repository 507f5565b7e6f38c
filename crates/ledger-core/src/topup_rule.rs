//! Automatic top-up rules (seed 001): method FIXED or TARGET, trigger INTERVAL or THRESHOLD.

use serde::{Deserialize, Serialize};
use time::{Date, Duration, Month, OffsetDateTime};

use crate::error::ValidationError;
use crate::id::{PaymentMethodId, PaymentSessionId, RuleId};
use crate::money::Credits;

/// How much a rule adds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RuleMethod {
    /// The rule's paid and/or granted credits.
    Fixed,
    /// What brings the available balance to `target_ongoing_balance`.
    Target,
}

/// When a rule fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RuleTrigger {
    /// Every interval from `started_at`.
    Interval,
    /// When the available balance drops below `threshold_credits`.
    Threshold,
}

/// The period of an interval rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleInterval {
    /// Every 7 days.
    Weekly,
    /// Every calendar month.
    Monthly,
    /// Every three calendar months.
    Quarterly,
    /// Every calendar year.
    Yearly,
}

/// Which pool a TARGET rule fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CreditType {
    /// Paid credits, charged to a saved payment method.
    Paid,
    /// Granted credits, added at once.
    Granted,
}

/// A top-up rule as configured, plus the state that makes it fire exactly once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopupRule {
    /// Its id.
    pub id: RuleId,
    /// FIXED or TARGET.
    pub method: RuleMethod,
    /// INTERVAL or THRESHOLD.
    pub trigger: RuleTrigger,
    /// The period (INTERVAL only).
    pub interval: Option<RuleInterval>,
    /// The balance below which it fires (THRESHOLD only).
    pub threshold_credits: Option<Credits>,
    /// The balance a TARGET rule tops up to.
    pub target_ongoing_balance: Option<Credits>,
    /// Paid credits a FIXED rule adds.
    pub paid_credits: Option<Credits>,
    /// Granted credits a FIXED rule adds.
    pub granted_credits: Option<Credits>,
    /// The pool a TARGET rule fills.
    pub credit_type: Option<CreditType>,
    /// The saved payment method paid credits are charged to.
    pub payment_method_id: Option<PaymentMethodId>,
    /// The anchor of an interval rule.
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub started_at: Option<OffsetDateTime>,
    /// Interval rules: the last period index `k` that fired (`started_at + k × interval`).
    #[serde(default)]
    pub last_period_fired: u32,
    /// Threshold rules: whether the balance is above the threshold, so a drop below fires.
    #[serde(default = "armed_default")]
    pub armed: bool,
    /// Optional cap on paid credits this rule adds per calendar month (UTC).
    #[serde(default)]
    pub max_paid_credits_per_month: Option<Credits>,
    /// The state that keeps the rule safe: pending charge, declines, pause, monthly total.
    #[serde(default)]
    pub state: RuleState,
}

/// What a rule run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleRunStatus {
    /// Credits were added.
    Succeeded,
    /// A paid charge was started and is pending at the provider.
    Pending,
    /// Nothing was added (declined, suppressed, capped, paused).
    Failed,
}

/// The last run of a rule, shown on the wallet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleRun {
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// What happened.
    pub status: RuleRunStatus,
    /// Paid credits asked for.
    pub paid_credits: Credits,
    /// Granted credits added.
    pub granted_credits: Credits,
    /// The payment session of a paid charge.
    pub payment_session_id: Option<PaymentSessionId>,
    /// Why it failed, as a code (`declined:INSTRUMENT_DECLINED`, `pending_topup`, `monthly_cap`).
    pub error_code: Option<String>,
    /// A human sentence.
    pub message: Option<String>,
}

/// The safety state of a rule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleState {
    /// The paid charge in flight; while set, no new paid top-up starts for the rule.
    pub pending_session_id: Option<PaymentSessionId>,
    /// Declines in a row.
    pub consecutive_declines: u32,
    /// No paid charge before this instant (after a decline).
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub backoff_until: Option<OffsetDateTime>,
    /// Paused: the rule adds no paid credits until its rules are saved again.
    pub paused: bool,
    /// Why it is paused.
    pub paused_reason: Option<String>,
    /// The calendar month (`2026-12`) `month_paid_credits` counts.
    pub month: Option<String>,
    /// Paid credits added by the rule in `month`.
    pub month_paid_credits: Credits,
    /// The last run.
    pub last_run: Option<RuleRun>,
}

/// Declines in a row after which a rule pauses.
pub const DECLINES_BEFORE_PAUSE: u32 = 3;

/// The backoff after the `n`-th decline in a row: 1 h, 2 h, 4 h, … at most 24 h.
pub fn decline_backoff(consecutive_declines: u32) -> Duration {
    let hours = 1_i64 << consecutive_declines.saturating_sub(1).min(5);
    Duration::hours(hours.min(24))
}

/// Decline codes that will not succeed on a retry: the rule pauses at once.
pub fn is_never_retry(code: &str) -> bool {
    const NEVER_RETRY: [&str; 16] = [
        "PAYER_ACTION_REQUIRED",
        "REDIRECT_PAYER_FOR_ALTERNATE_FUNDING",
        "AGREEMENT_ALREADY_CANCELLED",
        "BILLING_AGREEMENT_NOT_FOUND",
        "TOKEN_ID_NOT_FOUND",
        "MISMATCHED_VAULT_ID_TO_PAYMENT_SOURCE",
        "PAYMENT_SOURCE_CANNOT_BE_USED",
        "INVALID_VAULT_ID",
        "INVALID_RESOURCE_ID",
        "NOT_ELIGIBLE_FOR_TOKEN_PROCESSING",
        "NOT_ENABLED_TO_VAULT_PAYMENT_SOURCE",
        "PAYEE_BLOCKED_TRANSACTION",
        "COMPLIANCE_VIOLATION",
        "payment_method_missing",
        "authentication_challenge",
        "do_not_honour",
    ];
    NEVER_RETRY
        .iter()
        .any(|never| never.eq_ignore_ascii_case(code))
}

fn armed_default() -> bool {
    true
}

impl TopupRule {
    /// A paid top-up this rule started was not served (declined, or its method revoked): a
    /// paid-only threshold rule re-arms, so it fires again on a later write below its
    /// threshold (granted credits of a mixed rule were already added, so it stays disarmed).
    pub(crate) fn rearm_after_unserved_top_up(&mut self) {
        if self.trigger == RuleTrigger::Threshold
            && self.granted_credits.is_none_or(|granted| granted.is_zero())
        {
            self.armed = true;
        }
    }

    /// Checks the combination of fields.
    ///
    /// # Errors
    /// A [`ValidationError`] naming the missing or conflicting field.
    pub fn validate(&self) -> Result<(), ValidationError> {
        let field = |name: &str, message: &str| Err(ValidationError::field(name, message));
        match self.trigger {
            RuleTrigger::Interval => {
                if self.interval.is_none() {
                    return field("interval", "an INTERVAL rule needs interval");
                }
                if self.threshold_credits.is_some() {
                    return field(
                        "threshold_credits",
                        "an INTERVAL rule takes no threshold_credits",
                    );
                }
            }
            RuleTrigger::Threshold => {
                if self.threshold_credits.is_none() {
                    return field(
                        "threshold_credits",
                        "a THRESHOLD rule needs threshold_credits",
                    );
                }
                if self.interval.is_some() {
                    return field("interval", "a THRESHOLD rule takes no interval");
                }
            }
        }
        match self.method {
            RuleMethod::Fixed => {
                let paid = self.paid_credits.unwrap_or_default();
                let granted = self.granted_credits.unwrap_or_default();
                if paid.is_zero() && granted.is_zero() {
                    return field(
                        "paid_credits",
                        "a FIXED rule needs paid_credits or granted_credits above zero",
                    );
                }
                if self.target_ongoing_balance.is_some() {
                    return field(
                        "target_ongoing_balance",
                        "a FIXED rule takes no target_ongoing_balance",
                    );
                }
            }
            RuleMethod::Target => {
                let Some(target) = self.target_ongoing_balance else {
                    return field(
                        "target_ongoing_balance",
                        "a TARGET rule needs target_ongoing_balance",
                    );
                };
                if self.paid_credits.is_some() || self.granted_credits.is_some() {
                    return field(
                        "paid_credits",
                        "a TARGET rule computes its amount; it takes no paid_credits or granted_credits",
                    );
                }
                if let Some(threshold) = self.threshold_credits
                    && threshold >= target
                {
                    return field(
                        "threshold_credits",
                        "threshold_credits must be below target_ongoing_balance",
                    );
                }
            }
        }
        if self.adds_paid() && self.payment_method_id.is_none() {
            return field(
                "payment_method_id",
                "a rule that adds paid credits needs payment_method_id",
            );
        }
        Ok(())
    }

    /// The pool a TARGET rule fills: its `credit_type`, else paid when it names a payment
    /// method, else granted.
    pub fn target_credit_type(&self) -> CreditType {
        self.credit_type
            .unwrap_or(if self.payment_method_id.is_some() {
                CreditType::Paid
            } else {
                CreditType::Granted
            })
    }

    /// Whether the rule adds paid credits (money through the provider).
    pub fn adds_paid(&self) -> bool {
        match self.method {
            RuleMethod::Fixed => self.paid_credits.is_some_and(|paid| !paid.is_zero()),
            RuleMethod::Target => self.target_credit_type() == CreditType::Paid,
        }
    }

    /// The credits (paid, granted) the rule adds when the wallet's available balance is
    /// `available`.
    pub fn amounts(&self, available: Credits) -> (Credits, Credits) {
        match self.method {
            RuleMethod::Fixed => (
                self.paid_credits.unwrap_or_default(),
                self.granted_credits.unwrap_or_default(),
            ),
            RuleMethod::Target => {
                let missing = self
                    .target_ongoing_balance
                    .unwrap_or_default()
                    .saturating_minus(available);
                match self.target_credit_type() {
                    CreditType::Paid => (missing, Credits::ZERO),
                    CreditType::Granted => (Credits::ZERO, missing),
                }
            }
        }
    }

    /// The index of the interval rule's next period not fired yet, when it is due at `now`;
    /// `None` for a threshold rule or when the next period is still ahead.
    pub fn due_interval_period(&self, now: OffsetDateTime) -> Option<u32> {
        if self.trigger != RuleTrigger::Interval {
            return None;
        }
        let next = self.last_period_fired.checked_add(1)?;
        self.period_at(next)
            .is_some_and(|at| at <= now)
            .then_some(next)
    }

    /// The instant of period `k` (k ≥ 1) of an interval rule.
    pub fn period_at(&self, k: u32) -> Option<OffsetDateTime> {
        let started_at = self.started_at?;
        let interval = self.interval?;
        Some(add_periods(started_at, interval, k))
    }
}

/// `anchor + k × interval`, calendar-correct: months are counted from the anchor, and a day
/// the target month lacks is clamped to its last day (Jan 31 + 1 month = Feb 28 or 29, + 2
/// months = Mar 31).
pub fn add_periods(anchor: OffsetDateTime, interval: RuleInterval, k: u32) -> OffsetDateTime {
    let months = match interval {
        RuleInterval::Weekly => return anchor + Duration::weeks(i64::from(k)),
        RuleInterval::Monthly => k,
        RuleInterval::Quarterly => k * 3,
        RuleInterval::Yearly => k * 12,
    };
    let date = anchor.date();
    let total =
        i64::from(date.year()) * 12 + i64::from(u8::from(date.month())) - 1 + i64::from(months);
    let year = i32::try_from(total.div_euclid(12)).unwrap_or(i32::MAX);
    let month_index = u8::try_from(total.rem_euclid(12) + 1).unwrap_or(1);
    let month = Month::try_from(month_index).unwrap_or(Month::January);
    let day = date.day().min(time::util::days_in_month(month, year));
    let new_date = Date::from_calendar_date(year, month, day).unwrap_or(date);
    anchor.replace_date(new_date)
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn monthly_periods_clamp_to_month_end_from_the_anchor() {
        let anchor = datetime!(2024-01-31 10:00 UTC);
        assert_eq!(
            add_periods(anchor, RuleInterval::Monthly, 1),
            datetime!(2024-02-29 10:00 UTC)
        );
        assert_eq!(
            add_periods(anchor, RuleInterval::Monthly, 2),
            datetime!(2024-03-31 10:00 UTC)
        );
        assert_eq!(
            add_periods(anchor, RuleInterval::Quarterly, 1),
            datetime!(2024-04-30 10:00 UTC)
        );
        assert_eq!(
            add_periods(anchor, RuleInterval::Yearly, 1),
            datetime!(2025-01-31 10:00 UTC)
        );
    }

    #[test]
    fn yearly_from_leap_day_lands_on_feb_28() {
        let anchor = datetime!(2024-02-29 00:00 UTC);
        assert_eq!(
            add_periods(anchor, RuleInterval::Yearly, 1),
            datetime!(2025-02-28 00:00 UTC)
        );
        assert_eq!(
            add_periods(anchor, RuleInterval::Yearly, 4),
            datetime!(2028-02-29 00:00 UTC)
        );
    }
}
