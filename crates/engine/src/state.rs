//! The canonical state. Every collection is a `BTreeMap`, so serialising it (for snapshots and
//! the digest) is deterministic.

use std::collections::{BTreeMap, BTreeSet};

use jiff::{SignedDuration, Timestamp};
use model::{AccountId, AccountKind, Conid, Currency, ExecutionId, MarginKind, OrderId, SessionId, Username};
use serde::{Deserialize, Serialize};

use crate::applications::Requests;
use crate::banking::Banking;
use crate::clock::Clock;
use crate::commissions::CommissionPlan;
use crate::corporate_actions::CorporateActions;
use crate::flex::Flex;
use crate::interest::Accrual;
use crate::ledger::Ledger;
use crate::market::{MarketChange, Overrides};
use crate::oauth::Registry;
use crate::orders::{Execution, Order};
use crate::positions::{Position, Positions};

/// Everything the broker knows. Only the engine mutates it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    pub(crate) seed: u64,
    /// The wall time of the last applied command; never moves backwards.
    pub(crate) wall: Option<Timestamp>,
    /// The market time the world was created at.
    pub(crate) created_at: Option<Timestamp>,
    /// Market time, as a function of wall time.
    pub(crate) clock: Clock,
    /// The control plane's changes to the simulated market.
    pub(crate) overrides: Overrides,
    pub(crate) users: BTreeMap<Username, User>,
    pub(crate) accounts: BTreeMap<AccountId, Account>,
    pub(crate) sessions: BTreeMap<SessionId, Session>,
    /// The session unauthenticated gateway requests act for, if someone is logged in.
    pub(crate) gateway_session: Option<SessionId>,
    /// Which session holds each user's brokerage session: IBKR allows one per username.
    pub(crate) brokerage: BTreeMap<Username, SessionId>,
    /// How many sessions were ever opened; session ids are derived from it.
    pub(crate) sessions_opened: u64,
    /// Every account's money and securities, double-entry.
    pub(crate) ledger: Ledger,
    /// Every account's holdings.
    pub(crate) positions: Positions,
    /// Every order ever accepted.
    pub(crate) orders: BTreeMap<OrderId, Order>,
    /// How many orders were ever accepted; order ids are derived from it.
    pub(crate) orders_placed: u64,
    /// Every execution, in order.
    pub(crate) executions: Vec<Execution>,
    /// Each account's client order ids, and the orders they name.
    pub(crate) client_ids: BTreeMap<AccountId, BTreeMap<String, OrderId>>,
    /// Each bracket parent's exits.
    pub(crate) children: BTreeMap<OrderId, Vec<OrderId>>,
    /// Each one-cancels-all group's orders, by the group's first order.
    pub(crate) oca_groups: BTreeMap<OrderId, Vec<OrderId>>,
    /// While orders work, the market instant they are up to date with.
    pub(crate) processed_until: Option<Timestamp>,
    /// Dividends and splits.
    #[serde(default)]
    pub(crate) corporate_actions: CorporateActions,
    /// Interest rates, and the last day interest was accrued for.
    #[serde(default)]
    pub(crate) accrual: Accrual,
    /// Whether margin deficits are liquidated.
    #[serde(default)]
    pub(crate) liquidation: bool,
    /// The market instant margin deficits were last looked for.
    #[serde(default)]
    pub(crate) liquidation_checked: Option<Timestamp>,
    /// OAuth 2.0 clients and their tokens.
    #[serde(default)]
    pub(crate) oauth: Registry,
    /// Account Management's applications and account changes.
    #[serde(default)]
    pub(crate) requests: Requests,
    /// Banking instructions and saved bank accounts.
    #[serde(default)]
    pub(crate) banking: Banking,
    /// Flex tokens, queries and the statements requested with them.
    #[serde(default)]
    pub(crate) flex: Flex,
}

/// A person who can log in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Login name.
    pub username: Username,
    /// IBKR's numeric user id (`userId`, `USER_ID`).
    pub user_id: u64,
    /// PHC-format password hash.
    pub password_hash: String,
    /// Entitled accounts, in display order; the first is selected at login.
    pub accounts: Vec<AccountId>,
    /// The client whose application created the user: only it opens sessions for them.
    #[serde(default)]
    pub onboarded_by: Option<String>,
}

/// A brokerage account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// Account id.
    pub id: AccountId,
    /// The holder's name.
    pub title: String,
    /// Ownership type.
    pub kind: AccountKind,
    /// Cash or margin.
    pub margin: MarginKind,
    /// Reporting currency.
    pub base_currency: Currency,
    /// How commissions are charged.
    #[serde(default)]
    pub commission_plan: CommissionPlan,
    /// When the account was opened, in market time.
    pub opened_at: Timestamp,
    /// The name its holder or broker gave it.
    #[serde(default)]
    pub alias: Option<String>,
    /// When it was closed, in market time; a closed account neither trades nor moves cash.
    #[serde(default)]
    pub closed_at: Option<Timestamp>,
    /// The advisor's master account, for an advisor's client account.
    #[serde(default)]
    pub master: Option<AccountId>,
    /// The user its application named, who holds it; advisors entitled to it are not.
    #[serde(default)]
    pub primary_user: Option<Username>,
}

/// How long a login session lasts, like IBKR's SSO session, which ends once a day.
pub const SESSION_LIFETIME: SignedDuration = SignedDuration::from_hours(24);

/// A login session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// Session id, as `tickle` reports it.
    pub id: SessionId,
    /// Who logged in.
    pub user: Username,
    /// When, in wall time: sessions belong to the real world, not the market.
    pub opened_at: Timestamp,
    /// The market time it was opened at: orders finished since then are the session's.
    pub market_opened_at: Timestamp,
    /// The account trading calls act on when they name none.
    pub selected_account: AccountId,
    /// The order questions (IBKR's message ids, such as `o163`) the session asked not to be
    /// asked again (`iserver/questions/suppress`).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub suppressed_questions: BTreeSet<String>,
}

impl Session {
    /// When the session ends by itself.
    pub fn expires_at(&self) -> Timestamp {
        self.opened_at.saturating_add(SESSION_LIFETIME).unwrap_or(self.opened_at)
    }

    /// Whether the session is still open at `now`: after its lifetime it answers like a
    /// logged-out one, until the user logs in again, as IBKR's daily session end does.
    pub fn is_active(&self, now: Timestamp) -> bool {
        now < self.expires_at()
    }
}

impl State {
    /// The seed the world was created with.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The wall time of the last applied command, once there is one.
    pub fn wall(&self) -> Option<Timestamp> {
        self.wall
    }

    /// The clock.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Market time when the wall clock reads `wall`.
    pub fn market_time(&self, wall: Timestamp) -> Timestamp {
        self.clock.market_time(wall)
    }

    /// The overrides of an instrument's market, in order, with their market instants.
    pub fn overrides(&self, conid: Conid) -> &[(Timestamp, MarketChange)] {
        self.overrides.get(&conid).map_or(&[], Vec::as_slice)
    }

    /// A user by name.
    pub fn user(&self, username: &Username) -> Option<&User> {
        self.users.get(username)
    }

    /// All users, by name.
    pub fn users(&self) -> impl Iterator<Item = &User> {
        self.users.values()
    }

    /// An account by id.
    pub fn account(&self, id: &AccountId) -> Option<&Account> {
        self.accounts.get(id)
    }

    /// The accounts a user is entitled to, in the user's order.
    fn accounts_of<'a>(&'a self, user: &'a User) -> impl Iterator<Item = &'a Account> + 'a {
        user.accounts.iter().filter_map(|id| self.accounts.get(id))
    }

    /// The accounts the session's user is entitled to, in the user's order: everything a
    /// request in this session may see.
    pub fn entitled_accounts<'a>(&'a self, session: &'a Session) -> impl Iterator<Item = &'a Account> + 'a {
        self.users.get(&session.user).into_iter().flat_map(|user| self.accounts_of(user))
    }

    /// Whether `username` may see and act on `account`.
    pub fn is_entitled(&self, username: &Username, account: &AccountId) -> bool {
        self.users.get(username).is_some_and(|user| user.accounts.contains(account))
    }

    /// How much there is to snapshot: orders, executions and ledger entries.
    pub fn size(&self) -> u64 {
        (self.orders.len() + self.executions.len() + self.ledger.len()) as u64
    }

    /// The ledger of every account.
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// The account's holdings, by instrument; closed positions are left out.
    pub fn positions<'a>(&'a self, account: &AccountId) -> impl Iterator<Item = (Conid, &'a Position)> + 'a {
        self.positions
            .get(account)
            .into_iter()
            .flatten()
            .filter(|(_, position)| !position.quantity.is_zero())
            .map(|(conid, position)| (*conid, position))
    }

    /// Dividends announced, accrued and paid, and splits done.
    pub fn corporate_actions(&self) -> &CorporateActions {
        &self.corporate_actions
    }

    /// Banking instructions and saved bank accounts.
    pub fn banking(&self) -> &Banking {
        &self.banking
    }

    /// Flex tokens, queries and requests.
    pub fn flex(&self) -> &Flex {
        &self.flex
    }

    /// OAuth 2.0 clients and the tokens issued to them.
    pub fn oauth(&self) -> &Registry {
        &self.oauth
    }

    /// An order by id.
    pub fn order(&self, id: OrderId) -> Option<&Order> {
        self.orders.get(&id)
    }

    /// The account's orders, oldest first.
    pub fn orders<'a>(&'a self, account: &'a AccountId) -> impl Iterator<Item = &'a Order> + 'a {
        self.orders.values().filter(move |order| &order.account == account)
    }

    /// The account's executions, oldest first.
    pub fn executions<'a>(&'a self, account: &'a AccountId) -> impl Iterator<Item = &'a Execution> + 'a {
        self.executions.iter().filter(move |execution| &execution.account == account)
    }

    /// An execution by id.
    pub fn execution(&self, id: ExecutionId) -> Option<&Execution> {
        self.executions.get(Self::execution_position(id)?)
    }

    /// Where execution `id` lies in the order executions were made, which a split's
    /// `executions_before` counts: ids are handed out in that order from 1.
    pub(crate) fn execution_position(id: ExecutionId) -> Option<usize> {
        usize::try_from(id.get().checked_sub(1)?).ok()
    }

    /// An open session by id.
    pub fn session(&self, id: &SessionId) -> Option<&Session> {
        self.sessions.get(id)
    }

    /// The open session holding `user`'s brokerage session at wall time `now`, if one does.
    pub(crate) fn brokerage_holder(&self, user: &Username, now: Timestamp) -> Option<&Session> {
        self.brokerage.get(user).and_then(|id| self.sessions.get(id)).filter(|session| session.is_active(now))
    }

    /// Whether `session` holds its user's brokerage session, and so may use `/iserver`.
    pub fn holds_brokerage(&self, session: &Session, now: Timestamp) -> bool {
        self.brokerage_status(session, now).0
    }

    /// Whether `session` holds its user's brokerage session, and whether another open session
    /// of the user does instead (IBKR's `competing`).
    pub fn brokerage_status(&self, session: &Session, now: Timestamp) -> (bool, bool) {
        match self.brokerage_holder(&session.user, now) {
            Some(holder) => (holder.id == session.id, holder.id != session.id),
            None => (false, false),
        }
    }

    /// The session gateway requests act for, if a user is logged in at the gateway.
    pub fn gateway_session(&self) -> Option<&Session> {
        self.gateway_session.as_ref().and_then(|id| self.sessions.get(id))
    }
}
