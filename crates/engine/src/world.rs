//! The world a broker starts with: users, their accounts, and who may see what.

use std::collections::{BTreeMap, BTreeSet};

use model::{AccountId, AccountKind, Currency, MarginKind, Username};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::EngineError;
use crate::applications::Timing;
use crate::corporate_actions::CorporateAction;
use crate::flex::FlexQuery;
use crate::interest::InterestRates;
use crate::oauth::ClientKey;

/// The starting population. It reaches the engine already validated in shape (ids, currencies);
/// [`World::validate`] checks that its parts agree with each other.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct World {
    /// Everyone who can log in.
    pub users: Vec<UserSpec>,
    /// Every account, funded with its opening cash.
    pub accounts: Vec<AccountSpec>,
    /// Benchmark interest rates; none accrue interest when absent.
    #[serde(default)]
    pub interest: InterestRates,
    /// Whether the broker liquidates positions of margin accounts whose equity falls below
    /// their maintenance margin.
    #[serde(default)]
    pub liquidation: bool,
    /// Dividends and splits to announce when the world is created.
    #[serde(default)]
    pub corporate_actions: Vec<CorporateAction>,
    /// OAuth 2.0 clients registered when the world is created.
    #[serde(default)]
    pub clients: Vec<ClientSpec>,
    /// How long Account Management's reviews and settlements take.
    #[serde(default)]
    pub account_management: Timing,
    /// Flex tokens and queries.
    #[serde(default)]
    pub flex: FlexSpec,
}

/// The Flex Web Service's tokens and queries of a world, and how long a statement takes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlexSpec {
    /// Tokens, known by their SHA-256.
    pub tokens: Vec<FlexTokenSpec>,
    /// Query definitions.
    pub queries: Vec<FlexQuery>,
    /// How long a statement takes to generate, in wall time.
    pub generation: jiff::SignedDuration,
}

/// A Flex token of a world.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlexTokenSpec {
    /// The hex SHA-256 of its value.
    pub token_hash: String,
    /// Whose it is.
    pub user: Username,
    /// When it stops working, in wall time.
    pub expires_at: Option<jiff::Timestamp>,
}

/// An OAuth 2.0 client of the world.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientSpec {
    /// Its id.
    pub client_id: String,
    /// Its key.
    pub key: ClientKey,
    /// The scopes it asks for.
    pub scopes: BTreeSet<String>,
    /// Whether its Account Management scopes are approved from the start.
    #[serde(default)]
    pub approved: bool,
    /// The accounts it manages through Account Management, as an introducing broker's
    /// clients are under its master account.
    #[serde(default)]
    pub accounts: Vec<AccountId>,
    /// Users it may open sessions for besides those whose accounts it manages.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<Username>,
}

/// A user and the accounts they are entitled to, first one selected at login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSpec {
    /// Login name.
    pub username: Username,
    /// PHC-format password hash; the plain password never reaches the journal.
    pub password_hash: String,
    /// Entitled accounts, in the order the user sees them.
    pub accounts: Vec<AccountId>,
}

/// An account and its opening balances.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountSpec {
    /// Account id.
    pub id: AccountId,
    /// The account holder's name, shown as the account title.
    pub title: String,
    /// Ownership type.
    pub kind: AccountKind,
    /// Cash or margin.
    pub margin: MarginKind,
    /// Base currency for reporting.
    pub base_currency: Currency,
    /// Opening cash per currency.
    pub cash: BTreeMap<Currency, Decimal>,
}

impl World {
    /// Checks that the world is self-consistent: unique ids, entitlements naming existing
    /// accounts, every user with at least one account, no negative opening cash.
    ///
    /// # Errors
    /// [`EngineError::InvalidWorld`] naming the first problem found.
    pub fn validate(&self) -> Result<(), EngineError> {
        let invalid = |reason: String| Err(EngineError::InvalidWorld(reason));
        if self.users.is_empty() {
            return invalid("the world has no users".into());
        }
        let mut accounts = BTreeSet::new();
        for account in &self.accounts {
            if !accounts.insert(&account.id) {
                return invalid(format!("account {} is defined twice", account.id));
            }
            if let Some((currency, _)) = account.cash.iter().find(|(_, amount)| amount.is_sign_negative()) {
                return invalid(format!("account {} opens with negative {currency} cash", account.id));
            }
            let catalogue = market::Catalogue::standard();
            let unpriced =
                account.cash.keys().chain([&account.base_currency]).find(|c| !catalogue.prices_currency(**c));
            if let Some(currency) = unpriced {
                return invalid(format!(
                    "account {} uses {currency}, which no currency pair prices",
                    account.id
                ));
            }
        }
        let bounds = Decimal::new(-1, 1)..=Decimal::ONE;
        if let Some((currency, rate)) =
            self.interest.benchmarks.iter().find(|(_, rate)| !bounds.contains(rate))
        {
            return invalid(format!("the {currency} benchmark rate {rate} is not between -0.1 and 1"));
        }
        let mut usernames = BTreeSet::new();
        for user in &self.users {
            if !usernames.insert(&user.username) {
                return invalid(format!("user {} is defined twice", user.username));
            }
            if user.accounts.is_empty() {
                return invalid(format!("user {} has no accounts", user.username));
            }
            let mut listed = BTreeSet::new();
            if let Some(twice) = user.accounts.iter().find(|id| !listed.insert(*id)) {
                return invalid(format!("user {} lists account {twice} twice", user.username));
            }
            if let Some(missing) = user.accounts.iter().find(|id| !accounts.contains(id)) {
                return invalid(format!("user {} is entitled to unknown account {missing}", user.username));
            }
        }
        for client in &self.clients {
            if let Some(missing) = client.accounts.iter().find(|id| !accounts.contains(id)) {
                return invalid(format!("client {} manages unknown account {missing}", client.client_id));
            }
            if let Some(missing) = client.users.iter().find(|user| !usernames.contains(user)) {
                return invalid(format!("client {} acts for unknown user {missing}", client.client_id));
            }
        }
        self.validate_flex(&usernames)
    }

    fn validate_flex(&self, usernames: &BTreeSet<&Username>) -> Result<(), EngineError> {
        let invalid = |reason: String| Err(EngineError::InvalidWorld(reason));
        let mut tokens = BTreeSet::new();
        for token in &self.flex.tokens {
            if !tokens.insert(&token.token_hash) {
                return invalid(format!("a Flex token of {} is defined twice", token.user));
            }
            if !usernames.contains(&token.user) {
                return invalid(format!("a Flex token belongs to unknown user {}", token.user));
            }
        }
        let mut ids = BTreeSet::new();
        for query in &self.flex.queries {
            if !ids.insert(query.id) {
                return invalid(format!("Flex query {} is defined twice", query.id));
            }
            if !usernames.contains(&query.owner) {
                return invalid(format!("Flex query {} belongs to unknown user {}", query.id, query.owner));
            }
        }
        if self.flex.generation.is_negative() {
            return invalid("a Flex statement cannot take negative time to generate".into());
        }
        Ok(())
    }
}
