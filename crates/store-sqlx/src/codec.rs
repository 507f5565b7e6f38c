//! Conversions between domain values and their stored form, shared by both engines.
//!
//! - Instants are stored as `BIGINT` microseconds since the Unix epoch, UTC, on both engines:
//!   the same comparisons and ordering everywhere, the range of PostgreSQL's `timestamptz`
//!   (any year the `time` crate parses), and no dependency on a driver's date types.
//!   Sub-microsecond digits are dropped on write, as `timestamptz` would.
//! - Amounts are exact decimals: `NUMERIC` on PostgreSQL (bound as `Decimal`), and on SQLite
//!   the canonical `Decimal::to_string` of the normalized value, because SQLite has no exact
//!   decimal type and its `REAL` would round. Text parses back to the same value, exactly.
//! - Enums use the core's wire names; ids the full prefixed strings.

use std::str::FromStr;

use ledger_core::error::StoreError;
use ledger_core::money::{Credits, Currency};
use rust_decimal::Decimal;
use time::OffsetDateTime;

/// An instant as stored.
pub(crate) fn instant_to_micros(at: OffsetDateTime) -> i64 {
    let micros = at.unix_timestamp_nanos().div_euclid(1_000);
    // `time` limits years to ±9999, about ±3.2e17 µs: far inside i64.
    i64::try_from(micros).unwrap_or(if micros < 0 { i64::MIN } else { i64::MAX })
}

/// An optional instant as stored.
pub(crate) fn optional_instant_to_micros(at: Option<OffsetDateTime>) -> Option<i64> {
    at.map(instant_to_micros)
}

/// A stored instant.
pub(crate) fn instant_from_micros(micros: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000)
        .map_err(|error| StoreError::Corrupt(format!("instant {micros} µs: {error}")))
}

/// A stored optional instant.
pub(crate) fn optional_instant_from_micros(
    micros: Option<i64>,
) -> Result<Option<OffsetDateTime>, StoreError> {
    micros.map(instant_from_micros).transpose()
}

/// A decimal as SQLite stores it: canonical text of the normalized value.
pub(crate) fn decimal_to_text(value: Decimal) -> String {
    value.normalize().to_string()
}

/// A decimal stored by SQLite.
pub(crate) fn decimal_from_text(text: &str) -> Result<Decimal, StoreError> {
    Decimal::from_str_exact(text)
        .map_err(|error| StoreError::Corrupt(format!("amount `{text}`: {error}")))
}

/// A stored credit amount.
pub(crate) fn credits(value: Decimal) -> Result<Credits, StoreError> {
    Credits::try_new(value).map_err(|error| StoreError::Corrupt(format!("credits: {error}")))
}

/// A stored currency code.
pub(crate) fn currency(code: &str) -> Result<Currency, StoreError> {
    Currency::parse(code).map_err(|error| StoreError::Corrupt(format!("currency: {error}")))
}

/// Parses a stored id, or any value whose `FromStr` error displays.
pub(crate) fn parse<T>(text: &str, what: &str) -> Result<T, StoreError>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    text.parse()
        .map_err(|error| StoreError::Corrupt(format!("{what} `{text}`: {error}")))
}

/// Parses a stored optional id.
pub(crate) fn parse_optional<T>(text: Option<&str>, what: &str) -> Result<Option<T>, StoreError>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    text.map(|text| parse(text, what)).transpose()
}

/// Parses a stored wire name with the enum's own `parse`.
pub(crate) fn wire<T>(
    text: &str,
    what: &str,
    parse: fn(&str) -> Option<T>,
) -> Result<T, StoreError> {
    parse(text).ok_or_else(|| StoreError::Corrupt(format!("{what} `{text}`")))
}

/// A value stored as JSON text.
pub(crate) fn to_json<T: serde::Serialize>(value: &T, what: &str) -> Result<String, StoreError> {
    serde_json::to_string(value)
        .map_err(|error| StoreError::Corrupt(format!("{what} as JSON: {error}")))
}

/// A value stored as JSON text.
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(
    text: &str,
    what: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|error| StoreError::Corrupt(format!("{what}: {error}")))
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;
    use time::macros::datetime;

    use super::*;

    #[test]
    fn instants_round_trip_at_microsecond_precision() {
        for at in [
            datetime!(2026-01-01 00:00 UTC),
            datetime!(1969-12-31 23:59:59.999_999 UTC),
            datetime!(9999-12-31 23:59:59.123_456 UTC),
            datetime!(2026-03-04 05:06:07.000_001 UTC),
        ] {
            assert_eq!(instant_from_micros(instant_to_micros(at)).unwrap(), at);
        }
    }

    #[test]
    fn sub_microsecond_digits_are_dropped_toward_the_past() {
        let at = datetime!(2026-01-01 00:00:00.000_000_999 UTC);

        let stored = instant_from_micros(instant_to_micros(at)).unwrap();

        assert_eq!(stored, datetime!(2026-01-01 00:00 UTC));
    }

    #[test]
    fn decimals_round_trip_through_canonical_text_exactly() {
        for value in [
            dec!(0),
            dec!(12.5),
            dec!(-3),
            dec!(0.000000001),
            dec!(79228162514264337593543950335),
            dec!(1.100),
        ] {
            let text = decimal_to_text(value);
            assert_eq!(decimal_from_text(&text).unwrap(), value);
            assert!(
                !text.ends_with('0') || !text.contains('.'),
                "{text} is not canonical"
            );
        }
        assert_eq!(decimal_to_text(dec!(1.100)), "1.1");
    }

    #[test]
    fn corrupt_values_are_reported_not_panicked() {
        assert!(matches!(
            decimal_from_text("1e3x"),
            Err(StoreError::Corrupt(_))
        ));
        assert!(matches!(currency("usd"), Err(StoreError::Corrupt(_))));
        assert!(matches!(
            parse::<ledger_core::id::WalletId>("res_1", "wallet id"),
            Err(StoreError::Corrupt(_))
        ));
    }
}
