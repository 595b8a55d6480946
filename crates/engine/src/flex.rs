//! IBKR's Flex Web Service: users' Flex tokens and query definitions, and the statements
//! requested with them.
//!
//! A token (known by its SHA-256, as every secret here) belongs to a user and may expire; a
//! query belongs to a user and says what a statement holds: its kind (Activity or Trade
//! Confirmation), sections, period, format (XML or CSV), date and time formats. A request (`SendRequest`) is journaled with the
//! period it resolved to, under a reference code derived from the seed and a counter, and is
//! ready after the world's generation delay of wall time; the statement itself is read from
//! the ledger when it is fetched (`GetStatement`), so a fetch always answers the same period.
//! A statement can be fetched for a day after it is ready; then its reference is forgotten.

use std::collections::{BTreeMap, BTreeSet};

use jiff::civil::{Date, Weekday};
use jiff::{SignedDuration, Timestamp, ToSpan};
use model::{AccountId, Username};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::{Engine, EngineError, Event};

/// Which statement a query makes: IBKR's `type` attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueryKind {
    /// Activity Flex (`AF`).
    Activity,
    /// Trade Confirmation Flex (`TCF`).
    TradeConfirmation,
}

impl QueryKind {
    /// IBKR's code for it.
    pub fn code(self) -> &'static str {
        match self {
            Self::Activity => "AF",
            Self::TradeConfirmation => "TCF",
        }
    }
}

/// The period a query covers when a request names no dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Period {
    /// The weekday before today.
    LastBusinessDay,
    /// The seven days before today.
    LastWeek,
    /// From the first of this month to today.
    MonthToDate,
    /// From the first of January to today.
    YearToDate,
    /// The 365 days to today.
    Last365CalendarDays,
}

impl Period {
    /// The New York dates the period covers, seen on `today`.
    pub fn dates(self, today: Date) -> (Date, Date) {
        let days = |n: i64| today.checked_sub(n.days()).unwrap_or(today);
        match self {
            Self::LastBusinessDay => {
                let mut day = days(1);
                while matches!(day.weekday(), Weekday::Saturday | Weekday::Sunday) {
                    day = day.checked_sub(1.day()).unwrap_or(day);
                }
                (day, day)
            }
            Self::LastWeek => (days(7), days(1)),
            Self::MonthToDate => (today.first_of_month(), today),
            Self::YearToDate => (today.first_of_year(), today),
            Self::Last365CalendarDays => (days(364), today),
        }
    }
}

/// How a statement is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// IBKR's `FlexQueryResponse` XML.
    #[default]
    Xml,
    /// CSV: a record per element.
    Csv,
}

/// A user's Flex query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlexQuery {
    /// Its id: the `q` of `SendRequest`.
    pub id: u64,
    /// Its name: the `queryName` of the statement.
    pub name: String,
    /// Whose it is: its statements cover the user's accounts.
    pub owner: Username,
    /// Activity or Trade Confirmation.
    pub kind: QueryKind,
    /// The sections it holds, by IBKR's element names (`Trades`, `CashReport`, …).
    pub sections: BTreeSet<String>,
    /// The period a request without dates covers.
    pub period: Period,
    /// XML or CSV.
    #[serde(default)]
    pub format: Format,
    /// How dates are written, as a `strftime` pattern (`%Y%m%d` by default, IBKR's
    /// `yyyyMMdd`).
    pub date_format: String,
    /// How times are written (`%H%M%S` by default, IBKR's `HHmmss`).
    pub time_format: String,
}

/// A user's Flex token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlexToken {
    /// Whose it is.
    pub user: Username,
    /// When it stops working, in wall time.
    pub expires_at: Option<Timestamp>,
}

/// A statement requested with `SendRequest`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlexRequest {
    /// The reference code `GetStatement` fetches it with.
    pub reference: String,
    /// The SHA-256 of the token it was requested with: only that token fetches it.
    pub token_hash: String,
    /// The query.
    pub query: u64,
    /// The accounts it covers.
    pub accounts: Vec<AccountId>,
    /// Its first New York day.
    pub from: Date,
    /// Its last New York day.
    pub to: Date,
    /// When it can be fetched, in wall time.
    pub ready_at: Timestamp,
}

/// Flex tokens, queries and requests, and how long generation takes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flex {
    /// Tokens by the hex SHA-256 of their value.
    pub tokens: BTreeMap<String, FlexToken>,
    /// Queries by id.
    pub queries: BTreeMap<u64, FlexQuery>,
    /// Requests by reference code.
    pub requests: BTreeMap<String, FlexRequest>,
    /// How many requests were made: reference codes are derived from it.
    pub requested: u64,
    /// How long a statement takes to generate, in wall time.
    pub generation: SignedDuration,
}

/// Why a Flex request is refused, with IBKR's error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FlexError {
    /// 1012: the token expired.
    TokenExpired,
    /// 1014: no such query for the token's user.
    QueryInvalid,
    /// 1015: no such token.
    TokenInvalid,
    /// 1017: no such reference code for the token.
    ReferenceInvalid,
    /// 1018: more requests from the token than IBKR allows.
    TooManyRequests,
    /// 1019: the statement is still being generated.
    InProgress,
    /// 1020: the request cannot be validated (a bad date range).
    InvalidRequest,
    /// 1021: the statement could not be written (the disk failed it).
    NotRetrievable,
}

impl FlexError {
    /// IBKR's error code.
    pub fn code(self) -> u16 {
        match self {
            Self::TokenExpired => 1012,
            Self::QueryInvalid => 1014,
            Self::TokenInvalid => 1015,
            Self::ReferenceInvalid => 1017,
            Self::TooManyRequests => 1018,
            Self::InProgress => 1019,
            Self::InvalidRequest => 1020,
            Self::NotRetrievable => 1021,
        }
    }

    /// IBKR's message for it.
    pub fn message(self) -> &'static str {
        match self {
            Self::TokenExpired => "Token has expired.",
            Self::QueryInvalid => "Query is invalid.",
            Self::TokenInvalid => "Token is invalid.",
            Self::ReferenceInvalid => "Invalid reference code.",
            Self::TooManyRequests => {
                "Too many requests have been made from this token. Please try again shortly."
            }
            Self::InProgress => "Statement generation in progress. Please try again shortly.",
            Self::InvalidRequest => "Invalid request or unable to validate request.",
            Self::NotRetrievable => {
                "Statement could not be retrieved at this time. Please try again shortly."
            }
        }
    }
}

/// A Flex token or query the control plane cannot add. Tokens and queries are defined once, so
/// that a statement always answers the definition it was requested under.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlexDefinitionRefusal {
    /// A token is issued once; its hash is not repeated, as the token is a secret.
    #[error("that Flex token is issued already")]
    TokenIssued,
    /// A query id names one query for good.
    #[error("Flex query {id} is defined already")]
    QueryDefined { id: u64 },
    /// A query holds only sections its statement type writes.
    #[error("{section} is not a section of this query type")]
    UnknownSection { kind: QueryKind, section: String },
}

/// The sections a query of `kind` may hold, by IBKR's element names, in the order a
/// statement writes them.
pub fn sections(kind: QueryKind) -> &'static [&'static str] {
    match kind {
        QueryKind::Activity => &[
            "AccountInformation",
            "ChangeInNAV",
            "CashReport",
            "EquitySummaryInBase",
            "MTMPerformanceSummaryInBase",
            "OpenPositions",
            "PriorPeriodPositions",
            "FxPositions",
            "Trades",
            "UnbundledCommissionDetails",
            "CashTransactions",
            "Transfers",
            "CorporateActions",
            "InterestAccruals",
            "ConversionRates",
        ],
        QueryKind::TradeConfirmation => &["AccountInformation", "TradeConfirms"],
    }
}

/// The hex SHA-256 of a token's value: how tokens are known.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl Flex {
    /// The user of the token whose value hashes to `hash`, if it works at wall time `now`.
    ///
    /// # Errors
    /// 1015 for an unknown token, 1012 for an expired one.
    pub(crate) fn user_of(&self, hash: &str, now: Timestamp) -> Result<&Username, FlexError> {
        let token = self.tokens.get(hash).ok_or(FlexError::TokenInvalid)?;
        if token.expires_at.is_some_and(|expiry| expiry <= now) {
            return Err(FlexError::TokenExpired);
        }
        Ok(&token.user)
    }

    /// Query `query`, if it belongs to the user of the token hashing to `hash` and the token
    /// works at wall time `now`: what a statement request needs.
    ///
    /// # Errors
    /// 1015 or 1012 for the token, 1014 for a query that is not its user's.
    pub fn query_of(&self, hash: &str, query: u64, now: Timestamp) -> Result<&FlexQuery, FlexError> {
        let user = self.user_of(hash, now)?;
        self.queries.get(&query).filter(|definition| &definition.owner == user).ok_or(FlexError::QueryInvalid)
    }

    /// The request `reference` made with the token hashing to `hash`, if it is ready at `now`.
    ///
    /// # Errors
    /// 1015 or 1012 for the token, 1017 for a reference the token did not request, 1019 while
    /// it is being generated.
    pub fn ready(&self, hash: &str, reference: &str, now: Timestamp) -> Result<&FlexRequest, FlexError> {
        self.user_of(hash, now)?;
        let request = self
            .requests
            .get(reference)
            .filter(|request| request.token_hash == hash)
            .ok_or(FlexError::ReferenceInvalid)?;
        if now < request.ready_at {
            return Err(FlexError::InProgress);
        }
        if expired(request, now) {
            return Err(FlexError::ReferenceInvalid);
        }
        Ok(request)
    }
}

impl Engine {
    /// Issues a Flex token to `user`, known by `token_hash`.
    pub(crate) fn issue_flex_token(
        &mut self,
        user: &Username,
        token_hash: &str,
        expires_at: Option<Timestamp>,
    ) -> Result<Vec<Event>, EngineError> {
        if !self.state.users.contains_key(user) {
            return Err(EngineError::UnknownUser(user.clone()));
        }
        if self.state.flex.tokens.contains_key(token_hash) {
            return Err(FlexDefinitionRefusal::TokenIssued.into());
        }
        let token = FlexToken { user: user.clone(), expires_at };
        self.state.flex.tokens.insert(token_hash.to_owned(), token);
        Ok(vec![Event::FlexDefined])
    }

    /// Defines `query`, whose id must be new.
    pub(crate) fn define_flex_query(&mut self, query: &FlexQuery) -> Result<Vec<Event>, EngineError> {
        if !self.state.users.contains_key(&query.owner) {
            return Err(EngineError::UnknownUser(query.owner.clone()));
        }
        if self.state.flex.queries.contains_key(&query.id) {
            return Err(FlexDefinitionRefusal::QueryDefined { id: query.id }.into());
        }
        let all = sections(query.kind);
        if let Some(unknown) = query.sections.iter().find(|section| !all.contains(&section.as_str())) {
            return Err(
                FlexDefinitionRefusal::UnknownSection { kind: query.kind, section: unknown.clone() }.into()
            );
        }
        self.state.flex.queries.insert(query.id, query.clone());
        Ok(vec![Event::FlexDefined])
    }
}

/// How long a statement can be fetched once it is ready, in wall time.
const KEPT: SignedDuration = SignedDuration::from_hours(24);

/// Whether `request` can no longer be fetched at wall time `now`.
fn expired(request: &FlexRequest, now: Timestamp) -> bool {
    request.ready_at.saturating_add(KEPT).is_ok_and(|until| until <= now)
}

/// The longest period a request may cover, in days: a leap year.
const MAX_DAYS: i32 = 366;

impl Engine {
    /// Files a statement request made at wall time `wall` with the token hashing to
    /// `token_hash`, for `query`, over `dates` or the query's period; answers
    /// [`Event::FlexRequested`] with its reference code.
    pub(crate) fn request_flex(
        &mut self,
        wall: Timestamp,
        now: Timestamp,
        token_hash: &str,
        query: u64,
        dates: Option<(Date, Date)>,
    ) -> Result<Vec<Event>, EngineError> {
        let definition = self.state.flex.query_of(token_hash, query, wall).map_err(EngineError::Flex)?;
        let user = &definition.owner;
        let today = market::calendar::new_york_date(now);
        let (from, to) = dates.unwrap_or_else(|| definition.period.dates(today));
        let span = from.until(to).map(|span| span.get_days()).unwrap_or(i32::MAX);
        if to < from || span >= MAX_DAYS {
            return Err(EngineError::Flex(FlexError::InvalidRequest));
        }
        let accounts = self.state.users.get(user).map(|user| user.accounts.clone()).unwrap_or_default();
        // Requests a day past ready can no longer be fetched: they are forgotten.
        self.state.flex.requests.retain(|_, request| !expired(request, wall));
        let reference = loop {
            self.state.flex.requested += 1;
            let number = self.derived_number(b"flex", self.state.flex.requested);
            let reference = (number % 9_000_000_000 + 1_000_000_000).to_string();
            if !self.state.flex.requests.contains_key(&reference) {
                break reference;
            }
        };
        let ready_at = wall.saturating_add(self.state.flex.generation).unwrap_or(wall);
        let request = FlexRequest {
            reference: reference.clone(),
            token_hash: token_hash.to_owned(),
            query,
            accounts,
            from,
            to,
            ready_at,
        };
        self.state.flex.requests.insert(reference.clone(), request);
        Ok(vec![Event::FlexRequested { reference }])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Command;
    use crate::testing::Broker;

    /// The texts a refused definition answers with, written out in full.
    #[test]
    fn definition_refusals_keep_their_words() {
        let cases = [
            (FlexDefinitionRefusal::TokenIssued, "that Flex token is issued already"),
            (FlexDefinitionRefusal::QueryDefined { id: 42 }, "Flex query 42 is defined already"),
            (
                FlexDefinitionRefusal::UnknownSection {
                    kind: QueryKind::TradeConfirmation,
                    section: "Bogus".into(),
                },
                "Bogus is not a section of this query type",
            ),
        ];
        for (refusal, text) in cases {
            assert_eq!(refusal.to_string(), text);
        }
    }

    #[test]
    fn a_statement_is_fetched_for_a_day_after_it_is_ready_then_forgotten() {
        let mut broker = Broker::at("2026-03-03 11:00");
        let hash = token_hash("42");
        let user: Username = "demo".parse().unwrap();
        broker
            .apply(Command::IssueFlexToken { user: user.clone(), token_hash: hash.clone(), expires_at: None })
            .unwrap();
        let query = FlexQuery {
            id: 1,
            name: "q".into(),
            owner: user,
            kind: QueryKind::Activity,
            sections: BTreeSet::from(["Trades".to_owned()]),
            period: Period::MonthToDate,
            format: Format::Xml,
            date_format: "%Y%m%d".into(),
            time_format: "%H%M%S".into(),
        };
        broker.apply(Command::DefineFlexQuery { query }).unwrap();
        let request =
            || Command::RequestFlexStatement { token_hash: token_hash("42"), query: 1, from: None, to: None };
        let events = broker.apply(request()).unwrap();
        let Some(Event::FlexRequested { reference }) = events.last().cloned() else { panic!("{events:?}") };
        assert!(broker.engine.state().flex().ready(&hash, &reference, broker.wall).is_ok());
        broker.wall += SignedDuration::from_hours(25);
        assert_eq!(
            broker.engine.state().flex().ready(&hash, &reference, broker.wall).err(),
            Some(FlexError::ReferenceInvalid)
        );
        broker.apply(request()).unwrap();
        assert!(!broker.engine.state().flex().requests.contains_key(&reference), "forgotten");
    }

    #[test]
    fn periods_end_today_or_on_the_last_business_day() {
        let monday: Date = "2026-03-02".parse().unwrap();
        let dates = |period: Period| {
            let (from, to) = period.dates(monday);
            (from.to_string(), to.to_string())
        };
        assert_eq!(dates(Period::LastBusinessDay), ("2026-02-27".into(), "2026-02-27".into()));
        assert_eq!(dates(Period::LastWeek), ("2026-02-23".into(), "2026-03-01".into()));
        assert_eq!(dates(Period::MonthToDate), ("2026-03-01".into(), "2026-03-02".into()));
        assert_eq!(dates(Period::YearToDate), ("2026-01-01".into(), "2026-03-02".into()));
        assert_eq!(dates(Period::Last365CalendarDays), ("2025-03-03".into(), "2026-03-02".into()));
    }
}
