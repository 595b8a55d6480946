//! Identifiers. Each is validated once, at the edge, by `TryFrom`/`FromStr`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// An IBKR contract id. IBKR's conids are positive integers and stay integers on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Conid(u32);

impl Conid {
    /// Wraps a raw conid.
    pub const fn new(raw: u32) -> Self {
        Self(raw)
    }

    /// The raw integer, as IBKR sends it.
    pub const fn get(self) -> u32 {
        self.0
    }
}

impl fmt::Display for Conid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Why a string is not a valid identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// Not a conid.
    #[error("conid must be a positive integer, got {0:?}")]
    Conid(String),
    /// Not an account id.
    #[error("account id must be 1 to 20 upper-case letters or digits, got {0:?}")]
    Account(String),
    /// Not a username.
    #[error("username must be 1 to 64 letters, digits, '.', '_' or '-', got {0:?}")]
    Username(String),
}

impl FromStr for Conid {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().parse::<u32>() {
            Ok(raw) if raw > 0 => Ok(Self(raw)),
            _ => Err(IdError::Conid(s.to_owned())),
        }
    }
}

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident, $valid:expr, $err:path) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;

            fn try_from(s: String) -> Result<Self, Self::Error> {
                let valid: fn(&str) -> bool = $valid;
                if valid(&s) { Ok(Self(s)) } else { Err($err(s)) }
            }
        }

        impl FromStr for $name {
            type Err = IdError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::try_from(s.to_owned())
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

string_id!(
    /// A brokerage account id such as `DU1234567` (paper) or `U1234567` (live).
    AccountId,
    |s| (1..=20).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()),
    IdError::Account
);

string_id!(
    /// The name a user logs in with.
    Username,
    |s| (1..=64).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')),
    IdError::Username
);

/// A login session's id: what `tickle` reports as `session` and what a websocket presents in its
/// `api` cookie. The engine derives it from the seed, so replays reproduce it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SessionId(String);

impl SessionId {
    /// Wraps an id the engine derived.
    pub fn new(id: String) -> Self {
        Self(id)
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conids_are_positive_integers() {
        assert_eq!("265598".parse::<Conid>(), Ok(Conid::new(265_598)));
        assert!("0".parse::<Conid>().is_err());
        assert!("-1".parse::<Conid>().is_err());
        assert!("AAPL".parse::<Conid>().is_err());
    }

    #[test]
    fn account_ids_are_upper_case_alphanumerics() {
        assert!("DU1234567".parse::<AccountId>().is_ok());
        assert!("du1234567".parse::<AccountId>().is_err());
        assert!("".parse::<AccountId>().is_err());
        assert!("DU 1".parse::<AccountId>().is_err());
    }

    #[test]
    fn ids_deserialize_only_when_valid() {
        let ok: Result<AccountId, _> = serde_json::from_str("\"DU1\"");
        assert!(ok.is_ok());
        let bad: Result<AccountId, _> = serde_json::from_str("\"d-1\"");
        assert!(bad.is_err());
        assert_eq!(serde_json::to_string(&Conid::new(8314)).unwrap(), "8314");
    }
}
