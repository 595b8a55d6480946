//! The world a broker starts with: users, their accounts, and who may see what.

use std::collections::{BTreeMap, BTreeSet};

use jiff::SignedDuration;
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

/// Why a world cannot be created: its parts contradict each other, or the engine refuses one
/// of them as it would refuse the command that adds it later. A world is created once, from
/// its file, before any client is served, so these reach the operator starting the broker.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorldProblem {
    /// Nobody could log in.
    #[error("the world has no users")]
    NoUsers,
    /// Account ids name one account each.
    #[error("account {account} is defined twice")]
    AccountDefinedTwice { account: AccountId },
    /// An account opens with cash it has, not with a debt.
    #[error("account {account} opens with negative {currency} cash")]
    NegativeCash { account: AccountId, currency: Currency, amount: Decimal },
    /// Cash is held, and an account reports, only in currencies the market's pairs price, so
    /// that it can be valued.
    #[error("account {account} uses {currency}, which no currency pair prices")]
    UnpricedCurrency { account: AccountId, currency: Currency },
    /// Benchmark rates are yearly fractions; beyond these bounds one is surely a typo.
    #[error("the {currency} benchmark rate {rate} is not between -0.1 and 1")]
    BenchmarkRate { currency: Currency, rate: Decimal },
    /// User names name one user each.
    #[error("user {user} is defined twice")]
    UserDefinedTwice { user: Username },
    /// A user logs in to see an account.
    #[error("user {user} has no accounts")]
    UserWithoutAccounts { user: Username },
    /// A user's accounts are a list without repeats, the first one selected at login.
    #[error("user {user} lists account {account} twice")]
    AccountListedTwice { user: Username, account: AccountId },
    /// A user is entitled only to accounts of the world.
    #[error("user {user} is entitled to unknown account {account}")]
    UnknownEntitlement { user: Username, account: AccountId },
    /// A client manages only accounts of the world.
    #[error("client {client_id} manages unknown account {account}")]
    ClientManagesUnknownAccount { client_id: String, account: AccountId },
    /// A client acts only for users of the world.
    #[error("client {client_id} acts for unknown user {user}")]
    ClientActsForUnknownUser { client_id: String, user: Username },
    /// A token is known by its hash, so a hash names one token; the hash is not repeated, as
    /// the token is a secret.
    #[error("a Flex token of {user} is defined twice")]
    FlexTokenDefinedTwice { user: Username },
    /// A token belongs to a user of the world.
    #[error("a Flex token belongs to unknown user {user}")]
    FlexTokenOfUnknownUser { user: Username },
    /// Query ids name one query each.
    #[error("Flex query {id} is defined twice")]
    FlexQueryDefinedTwice { id: u64 },
    /// A query belongs to a user of the world.
    #[error("Flex query {id} belongs to unknown user {owner}")]
    FlexQueryOfUnknownUser { id: u64, owner: Username },
    /// A statement is ready some time after it is asked for, never before.
    #[error("a Flex statement cannot take negative time to generate")]
    NegativeGeneration { generation: SignedDuration },
    /// The client's registration or approval was refused as the command would be.
    #[error("client {client_id}: {refusal}")]
    ClientRefused { client_id: String, refusal: Box<EngineError> },
    /// A corporate action was refused as its announcement would be; `number` counts from 1, in
    /// the order the world lists them.
    #[error("corporate action {number}: {refusal}")]
    CorporateActionRefused { number: usize, refusal: Box<EngineError> },
    /// The liquidator's user name does not parse. It is a constant, so this is a bug in the
    /// engine, reported rather than panicking mid-command.
    #[error("liquidator")]
    Liquidator,
}

impl World {
    /// Checks that the world is self-consistent: unique ids, entitlements naming existing
    /// accounts, every user with at least one account, no negative opening cash.
    ///
    /// # Errors
    /// The first [`WorldProblem`] found.
    pub fn validate(&self) -> Result<(), WorldProblem> {
        if self.users.is_empty() {
            return Err(WorldProblem::NoUsers);
        }
        let mut accounts = BTreeSet::new();
        for account in &self.accounts {
            if !accounts.insert(&account.id) {
                return Err(WorldProblem::AccountDefinedTwice { account: account.id.clone() });
            }
            if let Some((&currency, &amount)) =
                account.cash.iter().find(|(_, amount)| amount.is_sign_negative())
            {
                return Err(WorldProblem::NegativeCash { account: account.id.clone(), currency, amount });
            }
            let catalogue = market::Catalogue::standard();
            let unpriced =
                account.cash.keys().chain([&account.base_currency]).find(|c| !catalogue.prices_currency(**c));
            if let Some(&currency) = unpriced {
                return Err(WorldProblem::UnpricedCurrency { account: account.id.clone(), currency });
            }
        }
        let bounds = Decimal::new(-1, 1)..=Decimal::ONE;
        if let Some((&currency, &rate)) =
            self.interest.benchmarks.iter().find(|(_, rate)| !bounds.contains(rate))
        {
            return Err(WorldProblem::BenchmarkRate { currency, rate });
        }
        let mut usernames = BTreeSet::new();
        for user in &self.users {
            let name = || user.username.clone();
            if !usernames.insert(&user.username) {
                return Err(WorldProblem::UserDefinedTwice { user: name() });
            }
            if user.accounts.is_empty() {
                return Err(WorldProblem::UserWithoutAccounts { user: name() });
            }
            let mut listed = BTreeSet::new();
            if let Some(twice) = user.accounts.iter().find(|id| !listed.insert(*id)) {
                return Err(WorldProblem::AccountListedTwice { user: name(), account: twice.clone() });
            }
            if let Some(missing) = user.accounts.iter().find(|id| !accounts.contains(id)) {
                return Err(WorldProblem::UnknownEntitlement { user: name(), account: missing.clone() });
            }
        }
        for client in &self.clients {
            let client_id = || client.client_id.clone();
            if let Some(missing) = client.accounts.iter().find(|id| !accounts.contains(id)) {
                let account = missing.clone();
                return Err(WorldProblem::ClientManagesUnknownAccount { client_id: client_id(), account });
            }
            if let Some(missing) = client.users.iter().find(|user| !usernames.contains(user)) {
                let user = missing.clone();
                return Err(WorldProblem::ClientActsForUnknownUser { client_id: client_id(), user });
            }
        }
        self.validate_flex(&usernames)
    }

    fn validate_flex(&self, usernames: &BTreeSet<&Username>) -> Result<(), WorldProblem> {
        let mut tokens = BTreeSet::new();
        for token in &self.flex.tokens {
            if !tokens.insert(&token.token_hash) {
                return Err(WorldProblem::FlexTokenDefinedTwice { user: token.user.clone() });
            }
            if !usernames.contains(&token.user) {
                return Err(WorldProblem::FlexTokenOfUnknownUser { user: token.user.clone() });
            }
        }
        let mut ids = BTreeSet::new();
        for query in &self.flex.queries {
            if !ids.insert(query.id) {
                return Err(WorldProblem::FlexQueryDefinedTwice { id: query.id });
            }
            if !usernames.contains(&query.owner) {
                return Err(WorldProblem::FlexQueryOfUnknownUser {
                    id: query.id,
                    owner: query.owner.clone(),
                });
            }
        }
        if self.flex.generation.is_negative() {
            return Err(WorldProblem::NegativeGeneration { generation: self.flex.generation });
        }
        Ok(())
    }
}
