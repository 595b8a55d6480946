//! World files: the TOML a user writes to describe the users and accounts a new broker starts
//! with. The built-in demo world ([`WorldFile::demo`]) is itself such a file.

use std::collections::BTreeMap;

use engine::applications::Timing;
use engine::corporate_actions::CorporateAction;
use engine::flex::{FlexQuery, Format, Period, QueryKind};
use engine::interest::InterestRates;
use engine::oauth::{ClientKey, KeyAlgorithm};
use engine::world::{AccountSpec, ClientSpec, FlexSpec, FlexTokenSpec, UserSpec, World};
use jiff::SignedDuration;
use model::{AccountId, AccountKind, Currency, Decimal, MarginKind, Username};
use serde::Deserialize;

use crate::auth::password;

/// A parsed world file. Passwords are in the clear here and hashed by [`WorldFile::into_world`],
/// so they never reach the journal.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorldFile {
    users: Vec<UserEntry>,
    #[serde(default)]
    accounts: Vec<AccountEntry>,
    /// Benchmark interest rates; LocalBroker's [`DEFAULT_BENCHMARKS`] when absent.
    #[serde(default)]
    interest: Option<InterestEntry>,
    /// Risk policies.
    #[serde(default)]
    risk: RiskEntry,
    /// Dividends and splits, announced when the world is created.
    #[serde(default)]
    corporate_actions: Vec<CorporateAction>,
    /// OAuth 2.0 clients, registered when the world is created.
    #[serde(default)]
    clients: Vec<ClientEntry>,
    /// How long Account Management's reviews and settlements take.
    #[serde(default)]
    account_management: AccountManagementEntry,
    /// Flex tokens and queries.
    #[serde(default)]
    flex: FlexEntry,
}

/// The `[flex]` table.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FlexEntry {
    /// How long a statement takes to generate, in wall time; none when absent.
    generation: Option<String>,
    #[serde(default)]
    tokens: Vec<FlexTokenEntry>,
    #[serde(default)]
    queries: Vec<FlexQueryEntry>,
}

/// A `[[flex.tokens]]` entry: the token in the clear, hashed before it is journaled.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct FlexTokenEntry {
    token: String,
    user: Username,
    /// RFC 3339; never when absent.
    expires: Option<jiff::Timestamp>,
}

/// A Flex query as a world file's `[[flex.queries]]` entry, or the control plane's body
/// (which may spell `date_format` and `time_format` in camel case).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FlexQueryEntry {
    id: u64,
    name: String,
    #[schema(value_type = String)]
    user: Username,
    /// `activity` or `trade_confirmation`.
    #[serde(rename = "type")]
    #[schema(value_type = String)]
    kind: QueryKind,
    /// `LastBusinessDay`, `LastWeek`, `MonthToDate`, `YearToDate` or `Last365CalendarDays`.
    #[schema(value_type = String)]
    period: Period,
    /// `xml` (the default) or `csv`.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    format: Format,
    /// IBKR's section names; all of the query type's when absent.
    sections: Option<Vec<String>>,
    /// IBKR's date pattern (`yyyyMMdd` by default).
    #[serde(default = "default_date_format", alias = "dateFormat")]
    date_format: String,
    /// IBKR's time pattern (`HHmmss` by default).
    #[serde(default = "default_time_format", alias = "timeFormat")]
    time_format: String,
}

fn default_date_format() -> String {
    "yyyyMMdd".into()
}

fn default_time_format() -> String {
    "HHmmss".into()
}

/// The date patterns IBKR's Flex queries offer, as `strftime` patterns.
/// (ibflex reads these; ibkr-flex-client reads `yyyyMMdd` only.)
const DATE_FORMATS: [(&str, &str); 5] = [
    ("yyyyMMdd", "%Y%m%d"),
    ("yyyy-MM-dd", "%Y-%m-%d"),
    ("MM/dd/yyyy", "%m/%d/%Y"),
    ("MM/dd/yy", "%m/%d/%y"),
    ("dd-MMM-yy", "%d-%b-%y"),
];

/// The time patterns IBKR's Flex queries offer, as `strftime` patterns.
const TIME_FORMATS: [(&str, &str); 2] = [("HHmmss", "%H%M%S"), ("HH:mm:ss", "%H:%M:%S")];

impl FlexEntry {
    fn spec(self) -> Result<FlexSpec, WorldFileError> {
        let generation = match &self.generation {
            None => SignedDuration::ZERO,
            Some(text) => delay(text).ok_or_else(|| {
                WorldFileError::Flex(format!("generation {text:?} is not a number and s, m, h, d or w"))
            })?,
        };
        let tokens = self
            .tokens
            .into_iter()
            .map(|entry| {
                let token = entry.token.trim();
                if token.is_empty() {
                    return Err(WorldFileError::Flex(format!("a token of {} is empty", entry.user)));
                }
                let token_hash = engine::flex::token_hash(token);
                Ok(FlexTokenSpec { token_hash, user: entry.user, expires_at: entry.expires })
            })
            .collect::<Result<_, _>>()?;
        let queries = self.queries.into_iter().map(FlexQueryEntry::query).collect::<Result<_, _>>()?;
        Ok(FlexSpec { tokens, queries, generation })
    }
}

impl FlexQueryEntry {
    /// The engine's query, its patterns translated and its sections checked.
    ///
    /// # Errors
    /// [`WorldFileError::Flex`] naming the pattern or section that is not IBKR's.
    pub fn query(self) -> Result<FlexQuery, WorldFileError> {
        let pattern = |table: &[(&str, &'static str)], text: &str, what: &str| {
            table.iter().find(|(ibkr, _)| *ibkr == text).map(|(_, pattern)| (*pattern).to_owned()).ok_or_else(
                || {
                    let known: Vec<&str> = table.iter().map(|(ibkr, _)| *ibkr).collect();
                    WorldFileError::Flex(format!(
                        "query {}: {what} {text:?} is not one of {}",
                        self.id,
                        known.join(", ")
                    ))
                },
            )
        };
        let date_format = pattern(&DATE_FORMATS, &self.date_format, "date_format")?;
        let time_format = pattern(&TIME_FORMATS, &self.time_format, "time_format")?;
        let all = engine::flex::sections(self.kind);
        let sections = match self.sections {
            None => all.iter().map(|section| (*section).to_owned()).collect(),
            Some(named) => {
                if let Some(unknown) = named.iter().find(|section| !all.contains(&section.as_str())) {
                    return Err(WorldFileError::Flex(format!(
                        "query {}: {unknown} is not a section of this query type: {}",
                        self.id,
                        all.join(", ")
                    )));
                }
                named.into_iter().collect()
            }
        };
        Ok(FlexQuery {
            id: self.id,
            name: self.name,
            owner: self.user,
            kind: self.kind,
            sections,
            period: self.period,
            format: self.format,
            date_format,
            time_format,
        })
    }
}

/// The `[account_management]` table: durations of market time such as `"30m"`, `"1h"` or
/// `"2d"`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountManagementEntry {
    /// From an application's submission to its decision; an hour when absent.
    review: Option<String>,
    /// From a deposit or withdrawal instruction to its settlement; a day when absent.
    settlement: Option<String>,
}

/// The longest a world's delay (an Account Management review or settlement, a Flex statement's
/// generation) may be: a year, past which nothing it delays would fall due in the simulated
/// market.
const MAX_DELAY: SignedDuration = SignedDuration::from_hours(24 * 366);

/// A world's delay: a duration ([`crate::duration::parse`]) of at most [`MAX_DELAY`].
fn delay(text: &str) -> Option<SignedDuration> {
    crate::duration::parse(text).filter(|duration| *duration <= MAX_DELAY)
}

impl AccountManagementEntry {
    fn timing(&self) -> Result<Timing, WorldFileError> {
        let defaults = Timing::default();
        let parse = |field: &'static str, text: &Option<String>, default: SignedDuration| match text {
            None => Ok(default),
            Some(text) => delay(text).ok_or_else(|| WorldFileError::Duration { field, text: text.clone() }),
        };
        Ok(Timing {
            review: parse("review", &self.review, defaults.review)?,
            settlement: parse("settlement", &self.settlement, defaults.settlement)?,
        })
    }
}

/// A `[[clients]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientEntry {
    client_id: String,
    kid: String,
    /// The public key, PEM text.
    public_key: String,
    /// `RS256` (the default) or `ES256`.
    #[serde(default)]
    alg: Option<KeyAlgorithm>,
    /// Space-separated scopes.
    #[serde(default)]
    scopes: String,
    /// Account Management scopes approved from the start.
    #[serde(default)]
    approved: bool,
    /// The accounts it manages through Account Management.
    #[serde(default)]
    accounts: Vec<AccountId>,
    /// Users it may open sessions for besides those whose accounts it manages.
    #[serde(default)]
    users: Vec<model::Username>,
}

/// The `[risk]` table.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RiskEntry {
    /// Liquidate margin accounts whose equity falls below their maintenance margin.
    #[serde(default)]
    liquidation: bool,
}

/// The `[interest]` table: annual benchmark rates per currency, as fractions.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct InterestEntry {
    benchmark: BTreeMap<Currency, Decimal>,
}

/// The benchmark rates a world without an `[interest]` table accrues at: LocalBroker's fixed
/// assumptions, close to the overnight rates of late 2025, not live figures.
pub const DEFAULT_BENCHMARKS: [(&str, &str); 7] = [
    ("USD", "0.0388"),
    ("EUR", "0.0193"),
    ("GBP", "0.0397"),
    ("CHF", "0"),
    ("JPY", "0.0048"),
    ("CAD", "0.0225"),
    ("AUD", "0.0360"),
];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserEntry {
    username: Username,
    password: String,
    accounts: Vec<AccountId>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountEntry {
    id: AccountId,
    title: String,
    #[serde(rename = "type")]
    kind: AccountKind,
    margin: MarginKind,
    base_currency: Currency,
    #[serde(default)]
    cash: BTreeMap<Currency, Decimal>,
}

/// Why a world file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum WorldFileError {
    #[error("invalid world file: {0}")]
    Syntax(#[from] toml::de::Error),
    #[error("cannot hash the password of {user}: {reason}")]
    Password { user: Username, reason: String },
    #[error("flex: {0}")]
    Flex(String),
    #[error("client {0}: public_key is not a PEM public key of its alg")]
    ClientKey(String),
    #[error(
        "account_management.{field}: {text:?} is not a number and s, m, h, d or w, like \"1h\", of at most a year"
    )]
    Duration { field: &'static str, text: String },
}

/// The demo world's source, also shown in the README.
pub const DEMO: &str = include_str!("demo.toml");

impl WorldFile {
    /// Parses a world file's text.
    ///
    /// # Errors
    /// [`WorldFileError::Syntax`] naming the line and the problem.
    pub fn parse(text: &str) -> Result<Self, WorldFileError> {
        Ok(toml::from_str(text)?)
    }

    /// The built-in demo world: user `demo` with margin account `DU1234567` (1,000,000 USD),
    /// user `demo2` with cash account `DU7654321` (100,000 USD); both passwords `demo`.
    pub fn demo() -> Self {
        Self::parse(DEMO).unwrap_or_else(|e| unreachable!("the embedded demo world parses: {e}"))
    }

    /// The engine's world, with every password replaced by its hash.
    ///
    /// # Errors
    /// [`WorldFileError::Password`] if hashing fails.
    pub fn into_world(self) -> Result<World, WorldFileError> {
        let users = self
            .users
            .into_iter()
            .map(|user| {
                let password_hash = password::hash(&user.password)
                    .map_err(|reason| WorldFileError::Password { user: user.username.clone(), reason })?;
                Ok(UserSpec { username: user.username, password_hash, accounts: user.accounts })
            })
            .collect::<Result<_, WorldFileError>>()?;
        let accounts = self
            .accounts
            .into_iter()
            .map(|a| AccountSpec {
                id: a.id,
                title: a.title,
                kind: a.kind,
                margin: a.margin,
                base_currency: a.base_currency,
                cash: a.cash,
            })
            .collect();
        let clients: Result<Vec<ClientSpec>, WorldFileError> = self
            .clients
            .into_iter()
            .map(|entry| {
                let key = ClientKey {
                    kid: entry.kid,
                    algorithm: entry.alg.unwrap_or(KeyAlgorithm::Rs256),
                    public_key_pem: entry.public_key,
                };
                if crate::oauth::decoding_key(&key).is_none() {
                    return Err(WorldFileError::ClientKey(entry.client_id));
                }
                let scopes = entry.scopes.split_whitespace().map(str::to_owned).collect();
                Ok(ClientSpec {
                    client_id: entry.client_id,
                    key,
                    scopes,
                    approved: entry.approved,
                    accounts: entry.accounts,
                    users: entry.users,
                })
            })
            .collect();
        let benchmarks = match self.interest {
            Some(entry) => entry.benchmark,
            None => DEFAULT_BENCHMARKS
                .iter()
                .filter_map(|(currency, rate)| Some((currency.parse().ok()?, rate.parse().ok()?)))
                .collect(),
        };
        Ok(World {
            users,
            accounts,
            interest: InterestRates { benchmarks },
            liquidation: self.risk.liquidation,
            corporate_actions: self.corporate_actions,
            clients: clients?,
            account_management: self.account_management.timing()?,
            flex: self.flex.spec()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_world_is_the_documented_one() {
        let world = WorldFile::demo().into_world().unwrap();
        world.validate().unwrap();
        let demo = &world.users[0];
        assert_eq!(demo.username.as_str(), "demo");
        assert_eq!(demo.accounts[0].as_str(), "DU1234567");
        assert!(password::verify("demo", &demo.password_hash));
        let margin = &world.accounts[0];
        assert_eq!(margin.margin, MarginKind::Margin);
        assert_eq!(margin.cash[&Currency::USD], "1000000.00".parse::<Decimal>().unwrap());
        let cash = &world.accounts[1];
        assert_eq!((cash.id.as_str(), cash.margin), ("DU7654321", MarginKind::Cash));
        assert_eq!(cash.cash[&Currency::USD], "100000.00".parse::<Decimal>().unwrap());
    }

    #[test]
    fn a_world_schedules_dividends_and_splits() {
        let text = format!(
            "{}{}",
            DEMO,
            r#"
[[corporate_actions]]
kind = "dividend"
conid = 265598
amount = "0.26"
ex_date = "2026-05-11"
pay_date = "2026-05-14"

[[corporate_actions]]
kind = "split"
conid = 272093
to = 2
from = 1
on = "2026-06-01"
"#
        );
        let world = WorldFile::parse(&text).unwrap().into_world().unwrap();
        assert_eq!(world.corporate_actions.len(), 2);
        assert!(matches!(
            world.corporate_actions[1],
            CorporateAction::Split { to: 2, from: 1, on: Some(_), .. }
        ));
    }

    #[test]
    fn a_world_registers_its_oauth_clients() {
        let key = include_str!("../../tests/fixtures/client-rsa.pub");
        let text = format!(
            "{DEMO}\n[[clients]]\nclient_id = \"WORLDCLIENT\"\nkid = \"main\"\nscopes = \"sso-sessions.write\"\napproved = true\npublic_key = \"\"\"\n{key}\"\"\"\n"
        );
        let world = WorldFile::parse(&text).unwrap().into_world().unwrap();
        assert_eq!(world.clients[0].client_id, "WORLDCLIENT");
        assert!(world.clients[0].approved);
        let bad = format!("{DEMO}\n[[clients]]\nclient_id = \"X\"\nkid = \"k\"\npublic_key = \"nope\"\n");
        assert!(matches!(WorldFile::parse(&bad).unwrap().into_world(), Err(WorldFileError::ClientKey(_))));
    }

    #[test]
    fn account_management_delays_are_durations_of_at_most_a_year() {
        let timing = |table: &str| WorldFile::parse(&format!("{DEMO}\n{table}")).unwrap().into_world();
        let world = timing("[account_management]\nreview = \"30m\"\nsettlement = \"2d\"\n").unwrap();
        assert_eq!(world.account_management.review, SignedDuration::from_mins(30));
        assert_eq!(world.account_management.settlement, SignedDuration::from_hours(48));
        assert_eq!(WorldFile::demo().into_world().unwrap().account_management, Timing::default());
        for bad in ["0h", "soon", "53w", "99999999999w"] {
            let refused = timing(&format!("[account_management]\nsettlement = \"{bad}\"\n"));
            assert!(matches!(refused, Err(WorldFileError::Duration { field: "settlement", .. })), "{bad}");
        }
    }

    #[test]
    fn flex_tokens_are_hashed_and_queries_checked() {
        let demo = WorldFile::demo().into_world().unwrap();
        assert_eq!(demo.flex.tokens[0].token_hash, engine::flex::token_hash("123456789012345678901234"));
        let query = &demo.flex.queries[0];
        assert_eq!((query.id, query.date_format.as_str()), (1_000_001, "%Y%m%d"));
        assert!(query.sections.contains("Trades") && query.sections.contains("ConversionRates"));
        let with = |entry: &str| {
            let text = format!(
                "{DEMO}\n[[flex.queries]]\nid = 7\nname = \"q\"\nuser = \"demo\"\ntype = \"activity\"\nperiod = \"MonthToDate\"\n{entry}\n"
            );
            WorldFile::parse(&text).unwrap().into_world()
        };
        assert!(with("sections = [\"Trades\"]").is_ok());
        assert!(matches!(with("sections = [\"TradeConfirms\"]"), Err(WorldFileError::Flex(_))));
        assert!(matches!(with("date_format = \"dd.MM.yyyy\""), Err(WorldFileError::Flex(_))));
    }

    #[test]
    fn mistakes_are_reported_with_their_place() {
        let error =
            WorldFile::parse("[[users]]\nusername = \"a\"\npasword = \"x\"\naccounts = []\n").unwrap_err();
        let message = error.to_string();
        assert!(message.contains("pasword"), "{message}");
        let bad_id =
            WorldFile::parse("[[users]]\nusername = \"a\"\npassword = \"x\"\naccounts = [\"du1\"]\n");
        assert!(bad_id.unwrap_err().to_string().contains("account id"));
    }
}
