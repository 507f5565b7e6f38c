//! Top-up rules on the wire (`recurring_transaction_rules`), mapped to the core's
//! [`TopupRule`]: validated (errors name the rule and field), stored, and shown with their
//! state (`state.last_run`, pause, backoff, pending charge, the month's paid total).

use ledger_core::id::{OrgId, PaymentMethodId, RuleId};
use ledger_core::money::Credits;
use ledger_core::service::RULE_ID_UNSET;
use ledger_core::topup_rule::{
    CreditType, RuleInterval, RuleMethod, RuleState, RuleTrigger, TopupRule,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::super::views::rfc3339;
use crate::http::AppState;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Amount, parse_id, parse_timestamp};

/// The fields a rule takes. `state` is the server's and is ignored on input, so a rule read from
/// a wallet can be sent back in a PATCH as it is.
const RULE_FIELDS: [&str; 13] = [
    "id",
    "method",
    "trigger",
    "interval",
    "threshold_credits",
    "target_ongoing_balance",
    "paid_credits",
    "granted_credits",
    "credit_type",
    "payment_method_id",
    "started_at",
    "max_paid_credits_per_month",
    "state",
];

/// A rule as given.
#[derive(Debug, Deserialize)]
struct RuleInput {
    id: Option<String>,
    method: RuleMethod,
    trigger: RuleTrigger,
    interval: Option<RuleInterval>,
    threshold_credits: Option<Amount>,
    target_ongoing_balance: Option<Amount>,
    paid_credits: Option<Amount>,
    granted_credits: Option<Amount>,
    credit_type: Option<CreditType>,
    payment_method_id: Option<String>,
    started_at: Option<String>,
    max_paid_credits_per_month: Option<Amount>,
}

/// Whether unknown fields of a rule are refused (our API) or ignored (seed 001's body, which
/// carries fields this service does not use).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strictness {
    /// Unknown fields are 400.
    Strict,
    /// Unknown fields are ignored.
    Lenient,
}

/// Parses rules. Enum values are accepted in either case (`FIXED` or `fixed`). State of rules
/// that keep their id (`last_period_fired`, `armed`) is carried over from `existing`.
///
/// # Errors
/// 400 naming the rule and field at fault; combinations are checked by the ledger.
pub fn parse_rules(
    values: Vec<Value>,
    strictness: Strictness,
    existing: &[TopupRule],
) -> Result<Vec<TopupRule>, ApiError> {
    if values.len() > 20 {
        return Err(ApiError::invalid(
            "recurring_transaction_rules",
            "at most 20 rules per wallet",
        ));
    }
    values
        .into_iter()
        .enumerate()
        .map(|(index, value)| parse_rule(index, value, strictness, existing))
        .collect()
}

fn parse_rule(
    index: usize,
    mut value: Value,
    strictness: Strictness,
    existing: &[TopupRule],
) -> Result<TopupRule, ApiError> {
    let field = |name: &str| format!("recurring_transaction_rules[{index}].{name}");
    let Some(object) = value.as_object_mut() else {
        return Err(ApiError::invalid(
            &format!("recurring_transaction_rules[{index}]"),
            "a rule is a JSON object",
        ));
    };
    if strictness == Strictness::Strict
        && let Some(unknown) = object
            .keys()
            .find(|key| !RULE_FIELDS.contains(&key.as_str()))
    {
        return Err(ApiError::invalid(
            &field(unknown),
            format!("unknown rule field `{unknown}`"),
        ));
    }
    if strictness == Strictness::Lenient {
        object.retain(|key, _| RULE_FIELDS.contains(&key.as_str()));
    }
    for (key, upper) in [
        ("method", true),
        ("trigger", true),
        ("interval", false),
        ("credit_type", false),
    ] {
        if let Some(Value::String(text)) = object.get_mut(key) {
            *text = if upper {
                text.to_uppercase()
            } else {
                text.to_lowercase()
            };
        }
    }
    let input: RuleInput = serde_json::from_value(value).map_err(|error| {
        ApiError::invalid(
            &format!("recurring_transaction_rules[{index}]"),
            format!("invalid rule: {error}"),
        )
    })?;
    let id = match &input.id {
        Some(text) => parse_id::<RuleId>(&field("id"), text)?,
        None => RuleId::parse(RULE_ID_UNSET).map_err(|error| ApiError::internal(&error))?,
    };
    let credits = |amount: Option<Amount>, name: &str| -> Result<Option<Credits>, ApiError> {
        amount
            .map(|amount| amount.credits(&field(name)))
            .transpose()
    };
    let previous = existing.iter().find(|rule| rule.id == id);
    let rule = TopupRule {
        id,
        method: input.method,
        trigger: input.trigger,
        interval: input.interval,
        threshold_credits: credits(input.threshold_credits, "threshold_credits")?,
        target_ongoing_balance: input
            .target_ongoing_balance
            .map(|amount| amount.positive_credits(&field("target_ongoing_balance")))
            .transpose()?,
        paid_credits: credits(input.paid_credits, "paid_credits")?,
        granted_credits: credits(input.granted_credits, "granted_credits")?,
        credit_type: input.credit_type,
        payment_method_id: input
            .payment_method_id
            .as_deref()
            .map(|text| parse_id::<PaymentMethodId>(&field("payment_method_id"), text))
            .transpose()?,
        started_at: input
            .started_at
            .as_deref()
            .map(|text| parse_timestamp(&field("started_at"), text))
            .transpose()?,
        last_period_fired: previous.map_or(0, |rule| rule.last_period_fired),
        armed: previous.is_none_or(|rule| rule.armed),
        max_paid_credits_per_month: credits(
            input.max_paid_credits_per_month,
            "max_paid_credits_per_month",
        )?,
        state: previous.map(|rule| rule.state.clone()).unwrap_or_default(),
    };
    // The ledger checks the combination again; checking here lets the answer name the rule
    // (`recurring_transaction_rules[1].interval`), not only the field.
    rule.validate().map_err(|error| {
        ApiError::invalid(
            &field(error.field.as_deref().unwrap_or("method")),
            error.message,
        )
    })?;
    Ok(rule)
}

/// Checks that every rule's `payment_method_id` names a saved method of the wallet's
/// organization. Another organization's method is 404, as is any other organization's resource
/// named in a body: a rule must never charge another organization's customer.
///
/// # Errors
/// 404 naming the rule's field; store failures.
pub async fn check_payment_methods(
    state: &AppState,
    org_id: &OrgId,
    rules: &[TopupRule],
) -> ApiResult<()> {
    for (index, rule) in rules.iter().enumerate() {
        let Some(method_id) = &rule.payment_method_id else {
            continue;
        };
        let method = state.payment_store.payment_method(method_id).await?;
        if method.is_none_or(|method| &method.org_id != org_id) {
            return Err(
                ApiError::not_found("payment method", method_id.as_str()).detail(
                    "field",
                    format!("recurring_transaction_rules[{index}].payment_method_id"),
                ),
            );
        }
    }
    Ok(())
}

/// A rule as shown.
#[derive(Debug, Clone, Serialize)]
pub struct RuleView {
    id: String,
    method: RuleMethod,
    trigger: RuleTrigger,
    interval: Option<RuleInterval>,
    threshold_credits: Option<Credits>,
    target_ongoing_balance: Option<Credits>,
    paid_credits: Option<Credits>,
    granted_credits: Option<Credits>,
    credit_type: Option<CreditType>,
    payment_method_id: Option<String>,
    started_at: Option<String>,
    max_paid_credits_per_month: Option<Credits>,
    /// What the rule last did and the rails holding it (pending charge, backoff, pause).
    state: RuleState,
}

impl RuleView {
    /// The view of a rule.
    pub fn of(rule: &TopupRule) -> Self {
        Self {
            id: rule.id.to_string(),
            method: rule.method,
            trigger: rule.trigger,
            interval: rule.interval,
            threshold_credits: rule.threshold_credits,
            target_ongoing_balance: rule.target_ongoing_balance,
            paid_credits: rule.paid_credits,
            granted_credits: rule.granted_credits,
            credit_type: rule.credit_type,
            payment_method_id: rule.payment_method_id.as_ref().map(ToString::to_string),
            started_at: rule.started_at.map(rfc3339),
            max_paid_credits_per_month: rule.max_paid_credits_per_month,
            state: rule.state.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn rules_accept_either_case_and_keep_exact_amounts() {
        let rules = parse_rules(
            vec![
                json!({"method": "fixed", "trigger": "INTERVAL", "interval": "Monthly",
                        "granted_credits": "10.5"}),
            ],
            Strictness::Strict,
            &[],
        )
        .unwrap();

        assert_eq!(rules[0].method, RuleMethod::Fixed);
        assert_eq!(rules[0].interval, Some(RuleInterval::Monthly));
        assert_eq!(rules[0].granted_credits.unwrap().to_string(), "10.5");
    }

    #[test]
    fn strict_rules_refuse_unknown_fields_and_lenient_ones_ignore_them() {
        let rule = json!({"method": "FIXED", "trigger": "THRESHOLD", "threshold_credits": 5,
                          "granted_credits": 1, "invoice_requires_successful_payment": false});

        assert!(parse_rules(vec![rule.clone()], Strictness::Strict, &[]).is_err());
        assert!(parse_rules(vec![rule], Strictness::Lenient, &[]).is_ok());
    }

    #[test]
    fn unknown_enum_values_are_refused() {
        let rule = json!({"method": "SOMETIMES", "trigger": "INTERVAL", "interval": "weekly"});

        assert!(parse_rules(vec![rule], Strictness::Strict, &[]).is_err());
    }

    #[test]
    fn invalid_combinations_name_the_rule_and_field() {
        let rules = vec![
            json!({"method": "FIXED", "trigger": "INTERVAL", "interval": "weekly", "granted_credits": 1}),
            json!({"method": "TARGET", "trigger": "THRESHOLD", "threshold_credits": 5}),
        ];

        let error = parse_rules(rules, Strictness::Strict, &[]).unwrap_err();

        let body = error.to_body();
        assert_eq!(
            body["error"]["details"]["field"],
            "recurring_transaction_rules[1].target_ongoing_balance"
        );
    }

    #[test]
    fn a_rule_as_shown_can_be_sent_back() {
        let rules = parse_rules(
            vec![
                json!({"method": "FIXED", "trigger": "THRESHOLD", "threshold_credits": 5,
                         "granted_credits": 1}),
            ],
            Strictness::Strict,
            &[],
        )
        .unwrap();
        let shown = serde_json::to_value(RuleView::of(&rules[0])).unwrap();
        assert!(shown["state"].is_object());

        assert!(parse_rules(vec![shown], Strictness::Strict, &rules).is_ok());
    }
}
