//! Typed ids: opaque strings with the type prefix of `api.md` (`wal_…`, `res_…`).
//!
//! An id is an immutable shared string (`Arc<str>`): wallets, reservations, journal postings
//! and history lines all carry ids, and the ports move owned values, so a clone must not
//! allocate. It serializes as a plain string.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::ParseIdError;

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(Arc<str>);

        impl $name {
            /// The prefix every id of this type starts with.
            pub const PREFIX: &'static str = $prefix;

            /// Builds an id from a random suffix given by an [`IdSource`](crate::ports::IdSource).
            pub fn from_suffix(suffix: &str) -> Self {
                Self(joined($prefix, suffix))
            }

            /// Parses an id, checking its prefix and characters.
            ///
            /// # Errors
            /// Returns [`ParseIdError`] when the prefix is wrong or the rest is empty or holds
            /// characters other than ASCII letters, digits, `_` and `-`.
            pub fn parse(text: &str) -> Result<Self, ParseIdError> {
                let rest = text.strip_prefix($prefix).ok_or_else(|| ParseIdError {
                    expected_prefix: $prefix,
                    value: text.to_owned(),
                })?;
                let well_formed = !rest.is_empty()
                    && rest.len() <= 64
                    && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
                if !well_formed {
                    return Err(ParseIdError { expected_prefix: $prefix, value: text.to_owned() });
                }
                Ok(Self(Arc::from(text)))
            }

            /// The full id, prefix included.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl FromStr for $name {
            type Err = ParseIdError;
            fn from_str(text: &str) -> Result<Self, Self::Err> {
                Self::parse(text)
            }
        }

        impl TryFrom<String> for $name {
            type Error = ParseIdError;
            fn try_from(text: String) -> Result<Self, Self::Error> {
                Self::parse(&text)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                String::from(&*id.0)
            }
        }
    };
}

/// `prefix` then `suffix` as one shared string, with one allocation: ids are made from an
/// `IdSource` suffix several times per operation, so this skips `format!` and its `String`.
fn joined(prefix: &str, suffix: &str) -> Arc<str> {
    let mut buffer = [0_u8; 96];
    let len = prefix.len() + suffix.len();
    if len <= buffer.len() {
        buffer[..prefix.len()].copy_from_slice(prefix.as_bytes());
        buffer[prefix.len()..len].copy_from_slice(suffix.as_bytes());
        // Two `str`s joined are UTF-8; the check only keeps this free of `unsafe`.
        if let Ok(text) = std::str::from_utf8(&buffer[..len]) {
            return Arc::from(text);
        }
    }
    Arc::from(format!("{prefix}{suffix}"))
}

typed_id!(
    /// An organization.
    OrgId, "org_"
);
typed_id!(
    /// A team of an organization.
    TeamId, "team_"
);
typed_id!(
    /// A user of an organization.
    UserId, "user_"
);
typed_id!(
    /// A wallet.
    WalletId, "wal_"
);
typed_id!(
    /// A reservation (hold).
    ReservationId, "res_"
);
typed_id!(
    /// A cost ticket.
    CostTicketId, "ct_"
);
typed_id!(
    /// A payment session.
    PaymentSessionId, "sess_"
);
typed_id!(
    /// A journal transaction.
    TransactionId, "txn_"
);
typed_id!(
    /// An API token.
    TokenId, "tok_"
);
typed_id!(
    /// A top-up rule of a wallet.
    RuleId, "rule_"
);
typed_id!(
    /// A saved payment method.
    PaymentMethodId, "pm_"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_with_their_prefix() {
        let id = WalletId::from_suffix("abc123");
        assert_eq!(id.as_str(), "wal_abc123");
        assert_eq!(WalletId::parse("wal_abc123").unwrap(), id);
    }

    #[test]
    fn long_suffixes_join_too() {
        let suffix = "x".repeat(200);
        assert_eq!(
            WalletId::from_suffix(&suffix).as_str(),
            format!("wal_{suffix}")
        );
        assert_eq!(String::from(WalletId::from_suffix("a1")), "wal_a1");
    }

    #[test]
    fn ids_refuse_a_wrong_prefix_or_empty_rest() {
        assert!(WalletId::parse("res_abc").is_err());
        assert!(WalletId::parse("wal_").is_err());
        assert!(WalletId::parse("wal_a b").is_err());
    }
}
