//! What kind of brokerage account an account is.

use serde::{Deserialize, Serialize};

/// Who owns the account, in IBKR's account-type terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountKind {
    /// One natural person.
    Individual,
    /// Two or more natural persons.
    Joint,
    /// A company, trust or other organisation.
    Organization,
}

/// How the account may borrow: it decides whether a purchase beyond cash is margin or rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MarginKind {
    /// No borrowing; purchases settle against cash.
    Cash,
    /// Reg T margin.
    Margin,
}
