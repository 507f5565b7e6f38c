//! Money, credits and currencies: exact decimals with checked scales.
//!
//! Invariant: no value in this module is ever built from a float.

use std::fmt;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use crate::error::{ParseCreditsError, ParseCurrencyError, ParseMoneyError};

/// The largest number of decimal places a credit amount (or a `rate_amount`) may carry.
pub const CREDIT_SCALE_MAX: u32 = 9;

/// An ISO 4217 currency: three uppercase letters of an assigned code, with its minor units.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency {
    code: [u8; 3],
    minor_units: u8,
}

impl Currency {
    /// Parses an ISO 4217 code such as `USD`.
    ///
    /// # Errors
    /// Returns [`ParseCurrencyError`] when the code is not three uppercase ASCII letters or is
    /// not an assigned ISO 4217 currency (`QQQ`), or has no minor units (`XAU`).
    pub fn parse(code: &str) -> Result<Self, ParseCurrencyError> {
        let bytes = code.as_bytes();
        if bytes.len() != 3 || !bytes.iter().all(u8::is_ascii_uppercase) {
            return Err(ParseCurrencyError::Malformed(code.to_owned()));
        }
        let iso = iso_currency::Currency::from_code(code)
            .ok_or_else(|| ParseCurrencyError::Unknown(code.to_owned()))?;
        let minor_units = iso
            .exponent()
            .and_then(|exponent| u8::try_from(exponent).ok())
            .ok_or_else(|| ParseCurrencyError::Unknown(code.to_owned()))?;
        Ok(Self {
            code: [bytes[0], bytes[1], bytes[2]],
            minor_units,
        })
    }

    /// The three-letter code.
    pub fn code(&self) -> &str {
        // The bytes were checked to be ASCII uppercase letters in `parse`.
        std::str::from_utf8(&self.code).expect("currency code bytes are ASCII letters")
    }

    /// The number of decimal places of the currency's minor unit (USD 2, JPY 0, KWD 3).
    pub fn minor_units(&self) -> u32 {
        u32::from(self.minor_units)
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Currency({})", self.code())
    }
}

impl FromStr for Currency {
    type Err = ParseCurrencyError;
    fn from_str(code: &str) -> Result<Self, Self::Err> {
        Self::parse(code)
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = String::deserialize(deserializer)?;
        Self::parse(&code).map_err(serde::de::Error::custom)
    }
}

/// An amount of money in one currency, with at most the currency's minor units.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    amount: Decimal,
    currency: Currency,
}

impl Money {
    /// Builds a money amount, refusing more decimals than the currency has.
    ///
    /// # Errors
    /// Returns [`ParseMoneyError::TooManyDecimals`] when `amount` has more decimal places than
    /// the currency's minor units, and [`ParseMoneyError::Negative`] when it is below zero.
    pub fn try_new(amount: Decimal, currency: Currency) -> Result<Self, ParseMoneyError> {
        if amount.is_sign_negative() && !amount.is_zero() {
            return Err(ParseMoneyError::Negative(amount.to_string()));
        }
        if amount.normalize().scale() > currency.minor_units() {
            return Err(ParseMoneyError::TooManyDecimals {
                amount: amount.to_string(),
                currency: currency.code().to_owned(),
                minor_units: currency.minor_units(),
            });
        }
        Ok(Self {
            amount: amount.normalize(),
            currency,
        })
    }

    /// The amount in major units.
    pub fn amount(&self) -> Decimal {
        self.amount
    }

    /// The currency.
    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// The credits this money buys at `rate` money per credit.
    ///
    /// Design decision: the quotient is rounded **down** to [`CREDIT_SCALE_MAX`] places, so a
    /// purchase never creates a fraction of a credit that was not paid for.
    pub fn to_credits(&self, rate: Decimal) -> Credits {
        assert!(rate > Decimal::ZERO, "rate_amount must be positive");
        let credits =
            (self.amount / rate).round_dp_with_strategy(CREDIT_SCALE_MAX, RoundingStrategy::ToZero);
        Credits::from_decimal_unchecked(credits)
    }
}

/// A non-negative number of credits with at most [`CREDIT_SCALE_MAX`] decimal places.
///
/// Invariant: `0 <= value` and `value.scale() <= 9` (after normalisation).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Credits(Decimal);

impl Credits {
    /// Zero credits.
    pub const ZERO: Self = Self(Decimal::ZERO);

    /// Checks a decimal as a credit amount.
    ///
    /// # Errors
    /// Returns [`ParseCreditsError`] when the value is negative or has more than nine decimals.
    pub fn try_new(value: Decimal) -> Result<Self, ParseCreditsError> {
        if value.is_sign_negative() && !value.is_zero() {
            return Err(ParseCreditsError::Negative(value.to_string()));
        }
        let value = value.normalize();
        if value.scale() > CREDIT_SCALE_MAX {
            return Err(ParseCreditsError::TooManyDecimals(value.to_string()));
        }
        Ok(Self(value))
    }

    /// Checks a decimal as a strictly positive credit amount.
    ///
    /// # Errors
    /// As [`Credits::try_new`], plus [`ParseCreditsError::NotPositive`] for zero.
    pub fn try_positive(value: Decimal) -> Result<Self, ParseCreditsError> {
        let credits = Self::try_new(value)?;
        if credits.is_zero() {
            return Err(ParseCreditsError::NotPositive(value.to_string()));
        }
        Ok(credits)
    }

    /// Builds credits from a value the caller has already checked (the result of arithmetic on
    /// checked credits). Panics in debug builds when the invariant does not hold.
    pub(crate) fn from_decimal_unchecked(value: Decimal) -> Self {
        debug_assert!(
            !value.is_sign_negative() || value.is_zero(),
            "credits below zero: {value}"
        );
        debug_assert!(
            value.normalize().scale() <= CREDIT_SCALE_MAX,
            "credits scale: {value}"
        );
        Self(value.normalize())
    }

    /// The decimal value.
    pub fn value(&self) -> Decimal {
        self.0
    }

    /// Whether this is zero credits.
    pub fn is_zero(&self) -> bool {
        self.0.is_zero()
    }

    /// `self + other`.
    #[must_use]
    pub fn plus(self, other: Self) -> Self {
        Self::from_decimal_unchecked(self.0 + other.0)
    }

    /// `self - other`, or `None` when it would go below zero.
    #[must_use]
    pub fn checked_minus(self, other: Self) -> Option<Self> {
        (self.0 >= other.0).then(|| Self::from_decimal_unchecked(self.0 - other.0))
    }

    /// `max(self - other, 0)`.
    #[must_use]
    pub fn saturating_minus(self, other: Self) -> Self {
        self.checked_minus(other).unwrap_or(Self::ZERO)
    }

    /// The smaller of two amounts.
    #[must_use]
    pub fn min(self, other: Self) -> Self {
        if self <= other { self } else { other }
    }
}

impl fmt::Display for Credits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for Credits {
    type Err = ParseCreditsError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let value = Decimal::from_str_exact(text.trim())
            .map_err(|_| ParseCreditsError::Malformed(text.to_owned()))?;
        Self::try_new(value)
    }
}

impl<'de> Deserialize<'de> for Credits {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = <Decimal as Deserialize>::deserialize(deserializer)?;
        Self::try_new(value).map_err(serde::de::Error::custom)
    }
}

/// Checks a `rate_amount` (money per credit): positive, at most nine decimals.
///
/// # Errors
/// Returns [`ParseCreditsError`] when the rate is zero, negative or too precise.
pub fn check_rate_amount(rate: Decimal) -> Result<Decimal, ParseCreditsError> {
    Credits::try_positive(rate).map(|credits| credits.value())
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    #[test]
    fn currency_parse_accepts_assigned_codes_and_knows_minor_units() {
        assert_eq!(Currency::parse("USD").unwrap().minor_units(), 2);
        assert_eq!(Currency::parse("JPY").unwrap().minor_units(), 0);
        assert_eq!(Currency::parse("KWD").unwrap().minor_units(), 3);
    }

    #[test]
    fn currency_parse_rejects_lowercase_unassigned_and_wrong_length() {
        assert!(matches!(
            Currency::parse("usd"),
            Err(ParseCurrencyError::Malformed(_))
        ));
        assert!(matches!(
            Currency::parse("US"),
            Err(ParseCurrencyError::Malformed(_))
        ));
        assert!(matches!(
            Currency::parse("QQQ"),
            Err(ParseCurrencyError::Unknown(_))
        ));
    }

    #[test]
    fn money_refuses_more_decimals_than_the_currency_has() {
        let usd = Currency::parse("USD").unwrap();
        let jpy = Currency::parse("JPY").unwrap();
        assert!(Money::try_new(dec!(10.25), usd).is_ok());
        assert!(Money::try_new(dec!(10.250), usd).is_ok());
        assert!(Money::try_new(dec!(10.255), usd).is_err());
        assert!(Money::try_new(dec!(1.5), jpy).is_err());
        assert!(Money::try_new(dec!(-1), usd).is_err());
    }

    #[test]
    fn money_to_credits_rounds_down_and_never_creates_credits() {
        let usd = Currency::parse("USD").unwrap();
        let money = Money::try_new(dec!(10), usd).unwrap();
        let credits = money.to_credits(dec!(3));
        assert_eq!(credits.value(), dec!(3.333333333));
        assert!(credits.value() * dec!(3) <= dec!(10));
    }

    #[test]
    fn credits_refuse_ten_decimals_and_negatives() {
        assert!("0.000000001".parse::<Credits>().is_ok());
        assert!("0.0000000001".parse::<Credits>().is_err());
        assert!("-1".parse::<Credits>().is_err());
        assert!("abc".parse::<Credits>().is_err());
        assert!(Credits::try_positive(Decimal::ZERO).is_err());
    }
}
