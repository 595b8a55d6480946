//! Account Management requests: applications for new accounts, and changes to open ones.
//!
//! An introducing broker (an approved OAuth client) submits an application; it stays pending
//! for the world's review delay of market time, as IBKR's review takes its time, and is then
//! decided: an application whose data a broker could not accept (an applicant under 18, a user
//! name taken by someone the client does not serve, a currency the market does not price) is
//! rejected; any other opens a real account, creates or entitles its user, and leaves the
//! account among those the client manages. Account ids are derived from the seed and a
//! counter, so replaying a journal opens the same accounts.

use std::collections::BTreeMap;

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use model::{AccountId, AccountKind, Currency, Decimal, MarginKind, Username};
use serde::{Deserialize, Serialize};

use crate::commissions::CommissionPlan;
use crate::state::{Account, State, User};
use crate::{Engine, EngineError, Event};

/// How long Account Management work takes, in market time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timing {
    /// From an application's submission to its decision.
    pub review: SignedDuration,
    /// From a deposit, withdrawal or delivery instruction to its settlement.
    pub settlement: SignedDuration,
}

impl Default for Timing {
    fn default() -> Self {
        Self { review: SignedDuration::from_hours(1), settlement: SignedDuration::from_hours(24) }
    }
}

/// One person holding an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    /// Full name, as the account title shows it.
    pub name: String,
    /// Date of birth, when the application gives one.
    pub date_of_birth: Option<Date>,
    /// What else the application says of them, which the account's details give back.
    /// Applications journaled before these were kept have none, and keep their shape.
    #[serde(default, skip_serializing_if = "Particulars::is_empty")]
    pub particulars: Particulars,
}

/// What an application says of a holder besides their full name and date of birth.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Particulars {
    /// Given name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// Middle name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub middle_name: Option<String>,
    /// Family name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// Email address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Where they live (IBKR's `residenceAddress`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub residence: Option<Address>,
}

impl Particulars {
    /// Whether the application said nothing more.
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

/// A postal address, as IBKR's applications give one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    /// First street line.
    pub street1: Option<String>,
    /// Second street line.
    pub street2: Option<String>,
    /// City.
    pub city: Option<String>,
    /// State or province.
    pub state: Option<String>,
    /// Postal code.
    pub postal_code: Option<String>,
    /// Country, as IBKR's three-letter code.
    pub country: Option<String>,
}

/// What an application tells of the customer's finances (IBKR's `FinancialInformation`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finances {
    /// Net worth, in the base currency.
    pub net_worth: Option<i64>,
    /// Liquid net worth.
    pub liquid_net_worth: Option<i64>,
    /// Annual net income.
    pub annual_net_income: Option<i64>,
    /// Total assets.
    pub total_assets: Option<i64>,
    /// What the customer invests for (`Growth`, `Income`, …).
    pub investment_objectives: Vec<String>,
}

/// What an application asks for, as the edge distilled it from IBKR's `Application`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationSpec {
    /// The broker's own reference for the customer (`customer.externalId`).
    pub external_id: Option<String>,
    /// Ownership type.
    pub kind: AccountKind,
    /// The holders: one for an individual account, two for a joint one.
    pub holders: Vec<Holder>,
    /// The user who will trade the account: created, or entitled if the client already
    /// serves them.
    pub username: Username,
    /// Cash or margin.
    pub margin: MarginKind,
    /// Reporting currency.
    pub base_currency: Currency,
    /// The advisor's master account, for an advisor's client account.
    pub master_account: Option<AccountId>,
    /// A paper account (`DU…`) rather than a live one (`U…`).
    pub paper: bool,
    /// The account's alias, if the application names one.
    pub alias: Option<String>,
    /// The customer's email address. Applications journaled before it was kept have none,
    /// and keep their shape.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The customer's finances, as the application gives them; likewise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finances: Option<Box<Finances>>,
}

/// A change to an open account (one of IBKR's `accountManagementRequests`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum AccountChange {
    /// `updateAccountAlias`.
    Alias { alias: String },
    /// `changeBaseCurrency`.
    BaseCurrency { currency: Currency },
    /// `accountClose`: only an account without positions or working orders closes.
    Close,
}

/// What a request asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "request")]
pub enum RequestKind {
    /// A new account.
    Application(ApplicationSpec),
    /// A change to an open account.
    Change(AccountChange),
}

/// Where a request stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum RequestStatus {
    /// Waiting for review.
    Pending,
    /// Done.
    Processed,
    /// Refused, and why.
    Rejected { reason: String },
}

/// One Account Management request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// IBKR's `requestId`.
    pub id: u64,
    /// The client that made it.
    pub client_id: String,
    /// The account it concerns; for an application, the one it will open.
    pub account: AccountId,
    /// What it asks.
    pub kind: RequestKind,
    /// When it was submitted, in market time.
    pub submitted_at: Timestamp,
    /// When it was decided, in market time.
    pub decided_at: Option<Timestamp>,
    /// Where it stands.
    pub status: RequestStatus,
}

/// An account's place in its life, as Account Management reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifecycle {
    /// Applied for, under review since the instant given.
    Pending { since: Timestamp },
    /// Its application was rejected.
    Rejected { since: Timestamp, at: Timestamp },
    /// Open since the instant given.
    Open { since: Timestamp },
    /// Closed.
    Closed { opened: Timestamp, at: Timestamp },
}

impl Lifecycle {
    /// IBKR's status letter and its words.
    pub fn status(self) -> (&'static str, &'static str) {
        match self {
            Self::Pending { .. } => ("P", "Pending"),
            Self::Rejected { .. } => ("R", "Rejected"),
            Self::Open { .. } => ("O", "Open"),
            Self::Closed { .. } => ("C", "Closed"),
        }
    }
}

/// Every Account Management request, and how long such work takes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requests {
    /// The world's delays.
    pub timing: Timing,
    /// Requests by id.
    pub requests: BTreeMap<u64, Request>,
    /// How many account ids were drawn; they are derived from it.
    pub ids_drawn: u64,
}

/// The first request id: IBKR's are five-digit and more.
const FIRST_REQUEST_ID: u64 = 10_001;

/// The youngest an account holder may be, in years.
const ADULT_AGE: i16 = 18;

/// The longest an account alias may be, in characters.
const MAX_ALIAS: usize = 64;

/// An Account Management request refused when it is made: nothing is filed. The texts reach
/// the client as the detail of a business-error problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestRefusal {
    /// Account Management is for approved clients that have not been revoked.
    #[error("client {client_id:?} is not approved for Account Management")]
    ClientNotApproved { client_id: String },
    /// An advisor's client account joins a master account the client already manages.
    #[error("the master account {master} is not one the client manages")]
    MasterNotManaged { master: AccountId },
    /// An account belongs to someone.
    #[error("an application names at least one account holder")]
    NoHolders,
    /// A client acts only on the accounts it manages.
    #[error("account {account} is not one the client manages")]
    NotManaged { account: AccountId },
    /// Only an open account changes.
    #[error("account {account} is not open")]
    NotOpen { account: AccountId },
    /// IBKR's limit on an alias's length; `length` is the alias's, in characters.
    #[error("an account alias has at most {MAX_ALIAS} characters")]
    AliasTooLong { length: usize },
    /// An account reports in a currency the market's pairs price, so that it can be valued.
    #[error("{currency} is not a currency LocalBroker's pairs price")]
    UnpricedCurrency { currency: Currency },
    /// A closed account holds nothing, so its positions must go first.
    #[error("account {account} holds positions: close or transfer them first")]
    HoldsPositions { account: AccountId },
    /// A closed account works no orders, so they must be cancelled first.
    #[error("account {account} has working orders: cancel them first")]
    WorkingOrders { account: AccountId },
    /// A closed account holds no cash, so it must be paid out first.
    #[error("account {account} holds {cash} {currency}: withdraw or transfer it first")]
    HoldsCash { account: AccountId, cash: Decimal, currency: Currency },
    /// A pending instruction would move money or shares into or out of the account after it
    /// closed.
    #[error("account {account} has instruction {instruction} pending: cancel it first")]
    InstructionPending { account: AccountId, instruction: u64 },
}

/// Why an application was rejected at its review: its data is kept with the request, as the
/// text the client reads when it asks how the request ended.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Objection {
    /// The client lost its approval while the application was under review.
    #[error("client {client_id:?} is not approved for Account Management")]
    ClientNotApproved { client_id: String },
    /// A joint account is held by two people; `holders` is how many the application names.
    #[error("a joint account has two holders")]
    JointWithOneHolder { holders: usize },
    /// A broker must know each holder is an adult.
    #[error("no date of birth is given for {holder}")]
    NoDateOfBirth { holder: String },
    /// Account holders are adults.
    #[error("{holder} is younger than {ADULT_AGE}")]
    UnderAge { holder: String, born: Date },
    /// An account reports in a currency the market's pairs price, so that it can be valued.
    #[error("{currency} is not a currency LocalBroker's pairs price")]
    UnpricedCurrency { currency: Currency },
    /// An advisor's client account joins an open master account.
    #[error("the master account {master} is not open")]
    MasterNotOpen { master: AccountId },
    /// The user name belongs to someone the client does not serve.
    #[error("the user name {username} is taken")]
    UsernameTaken { username: Username },
}

impl Requests {
    fn next_id(&self) -> u64 {
        FIRST_REQUEST_ID + self.requests.len() as u64
    }

    /// When the next pending application is due for its decision.
    pub(crate) fn next_due(&self) -> Option<Timestamp> {
        self.pending().map(|request| request.submitted_at + self.timing.review).min()
    }

    fn pending(&self) -> impl Iterator<Item = &Request> {
        self.requests.values().filter(|request| request.status == RequestStatus::Pending)
    }

    /// The application that names `account`.
    pub fn application(&self, account: &AccountId) -> Option<&Request> {
        self.requests.values().find(|request| {
            &request.account == account && matches!(request.kind, RequestKind::Application(_))
        })
    }
}

impl State {
    /// Where `account` stands: open or closed if it exists, else as its application does.
    pub fn lifecycle(&self, account: &AccountId) -> Option<Lifecycle> {
        if let Some(open) = self.accounts.get(account) {
            return Some(match open.closed_at {
                Some(at) => Lifecycle::Closed { opened: open.opened_at, at },
                None => Lifecycle::Open { since: open.opened_at },
            });
        }
        let application = self.requests.application(account)?;
        let since = application.submitted_at;
        match application.status {
            RequestStatus::Rejected { .. } => {
                Some(Lifecycle::Rejected { since, at: application.decided_at.unwrap_or(since) })
            }
            _ => Some(Lifecycle::Pending { since }),
        }
    }

    /// Account Management's requests.
    pub fn requests(&self) -> &Requests {
        &self.requests
    }

    /// When money first came into `account`: the first opening balance, deposit or internal
    /// transfer that brought cash.
    pub fn funded_at(&self, account: &AccountId) -> Option<Timestamp> {
        use crate::ledger::{Book, Cause};
        self.ledger
            .entries(account)
            .filter(|entry| matches!(entry.cause, Cause::Opening | Cause::Deposit | Cause::InternalTransfer))
            .find(|entry| entry.postings.iter().any(|p| p.book == Book::Cash && p.amount > Decimal::ZERO))
            .map(|entry| entry.at)
    }
}

impl Engine {
    /// Files `client_id`'s application; answers [`Event::RequestSubmitted`] with its request
    /// id and the account id it will open.
    pub(crate) fn submit_application(
        &mut self,
        now: Timestamp,
        client_id: &str,
        spec: &ApplicationSpec,
    ) -> Result<Vec<Event>, EngineError> {
        let client = self.client_of(client_id)?;
        if let Some(master) = &spec.master_account
            && !client.accounts.contains(master)
        {
            return Err(RequestRefusal::MasterNotManaged { master: master.clone() }.into());
        }
        if spec.holders.is_empty() {
            return Err(RequestRefusal::NoHolders.into());
        }
        let account = self.draw_account_id(spec.paper);
        let id = self.state.requests.next_id();
        let request = Request {
            id,
            client_id: client_id.to_owned(),
            account: account.clone(),
            kind: RequestKind::Application(spec.clone()),
            submitted_at: now,
            decided_at: None,
            status: RequestStatus::Pending,
        };
        self.state.requests.requests.insert(id, request);
        self.manage(client_id, &account);
        Ok(vec![Event::RequestSubmitted { request: id, account }])
    }

    /// Applies `change` to `account`, which `client_id` manages, at once.
    pub(crate) fn change_account(
        &mut self,
        now: Timestamp,
        client_id: &str,
        account: &AccountId,
        change: &AccountChange,
    ) -> Result<Vec<Event>, EngineError> {
        let client = self.client_of(client_id)?;
        let not_open = || RequestRefusal::NotOpen { account: account.clone() };
        if !client.accounts.contains(account) {
            return Err(RequestRefusal::NotManaged { account: account.clone() }.into());
        }
        let open = self.state.accounts.get(account).filter(|a| a.closed_at.is_none()).ok_or_else(not_open)?;
        match change {
            AccountChange::Alias { alias } if alias.chars().count() > MAX_ALIAS => {
                return Err(RequestRefusal::AliasTooLong { length: alias.chars().count() }.into());
            }
            AccountChange::BaseCurrency { currency }
                if !market::Catalogue::standard().prices_currency(*currency) =>
            {
                return Err(RequestRefusal::UnpricedCurrency { currency: *currency }.into());
            }
            AccountChange::Close => self.check_closable(open)?,
            _ => {}
        }
        let Some(open) = self.state.accounts.get_mut(account) else { return Err(not_open().into()) };
        match change {
            AccountChange::Alias { alias } => open.alias = Some(alias.clone()),
            AccountChange::BaseCurrency { currency } => open.base_currency = *currency,
            AccountChange::Close => open.closed_at = Some(now),
        }
        let id = self.state.requests.next_id();
        let request = Request {
            id,
            client_id: client_id.to_owned(),
            account: account.clone(),
            kind: RequestKind::Change(change.clone()),
            submitted_at: now,
            decided_at: Some(now),
            status: RequestStatus::Processed,
        };
        self.state.requests.requests.insert(id, request);
        Ok(vec![Event::RequestSubmitted { request: id, account: account.clone() }])
    }

    /// An account closes empty: no positions, no working orders, no cash, and nothing pending
    /// that would bring any in or take any out.
    fn check_closable(&self, account: &Account) -> Result<(), RequestRefusal> {
        let id = &account.id;
        if self.state.positions(id).next().is_some() {
            return Err(RequestRefusal::HoldsPositions { account: id.clone() });
        }
        if self.state.orders(id).any(|order| !order.status.is_final()) {
            return Err(RequestRefusal::WorkingOrders { account: id.clone() });
        }
        if let Some((currency, cash)) = self.state.ledger.cash(id).find(|(_, cash)| !cash.is_zero()) {
            return Err(RequestRefusal::HoldsCash { account: id.clone(), cash, currency });
        }
        let pending = self.state.banking.instructions.values().filter(|filed| {
            filed.status == crate::banking::InstructionStatus::Pending
                && filed.instruction.accounts().contains(&id)
        });
        if let Some(filed) = pending.into_iter().next() {
            return Err(RequestRefusal::InstructionPending { account: id.clone(), instruction: filed.id });
        }
        Ok(())
    }

    /// Decides every application whose review ended by `now`, oldest first.
    pub(crate) fn review_applications(&mut self, now: Timestamp, events: &mut Vec<Event>) {
        let review = self.state.requests.timing.review;
        let due: Vec<u64> = self
            .state
            .requests
            .pending()
            .filter(|request| request.submitted_at + review <= now)
            .map(|request| request.id)
            .collect();
        for id in due {
            let Some(request) = self.state.requests.requests.get(&id).cloned() else { continue };
            let RequestKind::Application(spec) = &request.kind else { continue };
            let decided = request.submitted_at + review;
            let status = match self.objection(&request.client_id, spec, decided) {
                Some(objection) => RequestStatus::Rejected { reason: objection.to_string() },
                None => {
                    self.open_account(&request, spec, decided);
                    events.push(Event::AccountOpened { account: request.account.clone() });
                    RequestStatus::Processed
                }
            };
            if let Some(stored) = self.state.requests.requests.get_mut(&id) {
                stored.status = status;
                stored.decided_at = Some(decided);
            }
            events.push(Event::RequestDecided { request: id });
        }
    }

    /// Why the application cannot be accepted at `at`, if it cannot.
    fn objection(&self, client_id: &str, spec: &ApplicationSpec, at: Timestamp) -> Option<Objection> {
        if self.client_of(client_id).is_err() {
            return Some(Objection::ClientNotApproved { client_id: client_id.to_owned() });
        }
        let today = market::calendar::new_york_date(at);
        if spec.kind == AccountKind::Joint && spec.holders.len() < 2 {
            return Some(Objection::JointWithOneHolder { holders: spec.holders.len() });
        }
        for holder in &spec.holders {
            let Some(born) = holder.date_of_birth else {
                return Some(Objection::NoDateOfBirth { holder: holder.name.clone() });
            };
            let adult = born.checked_add(jiff::Span::new().years(ADULT_AGE)).is_ok_and(|date| date <= today);
            if !adult {
                return Some(Objection::UnderAge { holder: holder.name.clone(), born });
            }
        }
        if !market::Catalogue::standard().prices_currency(spec.base_currency) {
            return Some(Objection::UnpricedCurrency { currency: spec.base_currency });
        }
        if let Some(master) = &spec.master_account
            && !matches!(self.state.lifecycle(master), Some(Lifecycle::Open { .. }))
        {
            return Some(Objection::MasterNotOpen { master: master.clone() });
        }
        let serves =
            |user: &User| {
                self.state.oauth.clients.get(client_id).is_some_and(|client| {
                    user.accounts.iter().any(|account| client.accounts.contains(account))
                })
            };
        match self.state.users.get(&spec.username) {
            Some(user) if !serves(user) => Some(Objection::UsernameTaken { username: spec.username.clone() }),
            _ => None,
        }
    }

    fn open_account(&mut self, request: &Request, spec: &ApplicationSpec, at: Timestamp) {
        let names: Vec<&str> = spec.holders.iter().map(|holder| holder.name.as_str()).collect();
        let account = Account {
            id: request.account.clone(),
            title: names.join(" and "),
            kind: spec.kind,
            margin: spec.margin,
            base_currency: spec.base_currency,
            commission_plan: CommissionPlan::default(),
            opened_at: at,
            alias: spec.alias.clone(),
            closed_at: None,
            master: spec.master_account.clone(),
            primary_user: Some(spec.username.clone()),
        };
        self.state.accounts.insert(account.id.clone(), account);
        let next_user_id = self.state.users.values().map(|user| user.user_id + 1).max().unwrap_or(0);
        let user = self.state.users.entry(spec.username.clone()).or_insert_with(|| User {
            username: spec.username.clone(),
            user_id: next_user_id.max(crate::engine::FIRST_USER_ID),
            password_hash: String::new(),
            accounts: Vec::new(),
            onboarded_by: Some(request.client_id.clone()),
        });
        user.accounts.push(request.account.clone());
        if let Some(master) = &spec.master_account {
            for advisor in self.state.users.values_mut().filter(|user| user.accounts.contains(master)) {
                if !advisor.accounts.contains(&request.account) {
                    advisor.accounts.push(request.account.clone());
                }
            }
        }
    }

    /// A fresh account id: `U` or `DU` and seven digits, derived from the seed and a counter.
    fn draw_account_id(&mut self, paper: bool) -> AccountId {
        loop {
            self.state.requests.ids_drawn += 1;
            let number =
                self.derived_number(b"account", self.state.requests.ids_drawn) % 9_000_000 + 1_000_000;
            let text = format!("{}{number}", if paper { "DU" } else { "U" });
            let Ok(id) = text.parse::<AccountId>() else { continue };
            if !self.state.accounts.contains_key(&id) && self.state.requests.application(&id).is_none() {
                return id;
            }
        }
    }

    /// Client `client_id`, if Account Management is open to it: approved and not revoked.
    pub(crate) fn client_of(&self, client_id: &str) -> Result<&crate::oauth::OAuthClient, RequestRefusal> {
        self.state
            .oauth
            .clients
            .get(client_id)
            .filter(|client| client.approved && !client.revoked)
            .ok_or_else(|| RequestRefusal::ClientNotApproved { client_id: client_id.to_owned() })
    }

    /// Adds `account` to those `client_id` manages.
    pub(crate) fn manage(&mut self, client_id: &str, account: &AccountId) {
        if let Some(client) = self.state.oauth.clients.get_mut(client_id) {
            client.accounts.insert(account.clone());
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
