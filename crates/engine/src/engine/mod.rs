//! The engine: applies commands to the state.
//!
//! Every command arrives with the wall time the journal admitted it at. Sessions live in wall
//! time (a login lasts a day of real time); everything about the market lives in market time,
//! which the [`Clock`](crate::clock::Clock) derives from the wall time.

mod session;
#[cfg(test)]
mod tests;

pub use session::QuestionRefusal;

use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::clock::{Clock, ClockSpec, within_market};
use crate::commissions::CommissionPlan;
use crate::flex::FlexToken;
use crate::interest::Accrual;
use crate::ledger::{Book, Cause, Entry, Posting};
use crate::oauth::Trust;
use crate::orders::book::OrderBook;
use crate::state::{Account, State, User};
use crate::world::{World, WorldProblem};
use crate::{Command, EngineError, Event, Executed};

/// The first numeric user id handed out; IBKR's user ids are eight-digit numbers.
pub(crate) const FIRST_USER_ID: u64 = 10_000_001;

/// The single owner of the broker's state.
#[derive(Debug, Clone, Default)]
pub struct Engine {
    pub(crate) state: State,
    /// The working orders, indexed; derived from the state.
    pub(crate) book: OrderBook,
}

/// The version of the snapshot format. Bump it whenever [`State`]'s serialised shape changes:
/// older snapshots are then ignored and the journal is replayed instead.
pub const SNAPSHOT_FORMAT: u32 = 8;

/// Why snapshot bytes could not be made or read.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// Not JSON of the expected shape.
    #[error("snapshot does not decode: {0}")]
    Decode(#[from] serde_json::Error),
    /// Written by a version with another state format.
    #[error("snapshot format {found}, expected {expected}")]
    Format { found: u32, expected: u32 },
}

#[derive(Serialize)]
struct SnapshotRef<'a> {
    format: u32,
    state: &'a State,
}

#[derive(Deserialize)]
struct SnapshotOwned {
    format: u32,
    state: State,
}

/// Feeds serialised bytes straight into the hasher, without building the whole snapshot.
struct DigestWriter<'a>(&'a mut Sha256);

impl std::io::Write for DigestWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.update(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A SHA-256 hash of the canonical state: equal digests mean equal states.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Digest([u8; 32]);

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Engine {
    /// An engine with no world; the first command must be [`Command::CreateWorld`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Restores an engine from [`Engine::snapshot`] bytes.
    ///
    /// # Errors
    /// [`SnapshotError`] when the bytes are not a snapshot of this version's state format; the
    /// journal then has to be replayed from its start.
    pub fn from_snapshot(bytes: &[u8]) -> Result<Self, SnapshotError> {
        let snapshot: SnapshotOwned = serde_json::from_slice(bytes)?;
        if snapshot.format != SNAPSHOT_FORMAT {
            return Err(SnapshotError::Format { found: snapshot.format, expected: SNAPSHOT_FORMAT });
        }
        let book = OrderBook::of(snapshot.state.orders.values());
        Ok(Self { state: snapshot.state, book })
    }

    /// The state, serialised with its format version, for [`Engine::from_snapshot`].
    ///
    /// # Errors
    /// When the state cannot be serialised (a map key that is not a string).
    pub fn snapshot(&self) -> Result<Vec<u8>, SnapshotError> {
        Ok(serde_json::to_vec(&SnapshotRef { format: SNAPSHOT_FORMAT, state: &self.state })?)
    }

    /// The hash of the canonical state.
    pub fn digest(&self) -> Digest {
        let mut hasher = Sha256::new();
        // Writing into a hasher cannot fail; a state that cannot be serialised hashes as what
        // was written of it, which still differs from any other state's digest.
        let _ = serde_json::to_writer(DigestWriter(&mut hasher), &self.state);
        Digest(hasher.finalize().into())
    }

    /// A number derived from the seed, a purpose and a counter: ids that look drawn at random
    /// (account ids, Flex reference codes), yet replay alike.
    pub(crate) fn derived_number(&self, purpose: &[u8], counter: u64) -> u64 {
        let mut hasher = Sha256::new();
        hasher.update(self.state.seed.to_be_bytes());
        hasher.update(purpose);
        hasher.update(counter.to_be_bytes());
        let digest = hasher.finalize();
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        u64::from_be_bytes(first)
    }

    /// Read access to the state.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// Applies one command admitted at `at`. First the market time that passed since the last
    /// command acts on the working orders (fills, triggers, expiries), whatever the command is;
    /// then the command applies whole, returning everything that changed, or is refused.
    ///
    /// # Errors
    /// The [`EngineError`] saying why the command was refused; nothing of the command itself
    /// was applied, though what the passing time did to working orders stays done (it would
    /// happen the same way at the next command, and a replay refuses the command again).
    pub fn apply(&mut self, at: Timestamp, command: &Command) -> Result<Vec<Event>, EngineError> {
        if self.state.created_at.is_none() && !matches!(command, Command::CreateWorld { .. }) {
            return Err(EngineError::NoWorld);
        }
        let wall = self.state.wall.map_or(at, |last| last.max(at));
        let now = self.state.clock.market_time(wall);
        let mut events = Vec::new();
        // Time has passed for the working orders and the corporate actions, whatever the
        // command makes of it.
        self.pass_time(now, &mut events)?;
        events.extend(self.dispatch(wall, now, command)?);
        self.state.wall = Some(wall);
        self.state.processed_until = (!self.book.is_empty()).then(|| self.state.clock.market_time(wall));
        Ok(events)
    }

    /// Applies `command` as [`Engine::apply`] does, and answers what its caller asked for too:
    /// the session, the orders, the request it made ([`Reply`](crate::Reply)).
    ///
    /// # Errors
    /// As [`Engine::apply`].
    pub fn execute(&mut self, at: Timestamp, command: &Command) -> Result<Executed, EngineError> {
        let events = self.apply(at, command)?;
        let reply = self.reply(command, &events);
        Ok(Executed { events, reply })
    }

    /// Applies `command` itself, at wall time `wall` and market time `now`.
    fn dispatch(
        &mut self,
        wall: Timestamp,
        now: Timestamp,
        command: &Command,
    ) -> Result<Vec<Event>, EngineError> {
        Ok(match command {
            Command::CreateWorld { seed, world, clock } => self.create_world(wall, *seed, world, *clock)?,
            Command::GatewayLogin { user } => self.gateway_login(wall, user)?,
            Command::Logout { session } => self.logout(session)?,
            Command::SelectAccount { session, account } => self.select_account(session, account)?,
            Command::SuppressQuestions { session, ids } => self.suppress_questions(session, ids)?,
            Command::ResetSuppressedQuestions { session } => self.reset_suppressed_questions(session)?,
            Command::SetClockMode { mode } => self.set_clock_mode(wall, *mode),
            Command::AdvanceClock { by } => self.advance_clock(wall, *by)?,
            Command::SetClock { to } => self.set_clock(wall, *to)?,
            Command::ChangeMarket { conid, changes } => self.change_market(wall, *conid, changes)?,
            Command::PlaceOrders { session, account, tickets, one_cancels_all } => {
                self.place_orders(now, session, account, tickets, *one_cancels_all)?
            }
            Command::ModifyOrder { session, account, order, ticket } => {
                self.modify_order(now, session, account, *order, ticket)?
            }
            Command::CancelOrder { session, account, order } => {
                self.cancel_order(now, session, account, *order)?
            }
            Command::CancelAllOrders { session, account } => self.cancel_all_orders(now, session, account)?,
            Command::Deposit { account, currency, amount } => {
                self.deposit(now, account, *currency, *amount)?
            }
            Command::Withdraw { account, currency, amount } => {
                self.withdraw(now, account, *currency, *amount)?
            }
            Command::AnnounceCorporateAction { action } => self.announce(now, action)?,
            Command::RegisterClient { client_id, key, scopes } => {
                self.register_client(client_id, key, scopes)?
            }
            Command::ApproveClient { client_id } => self.review_client(client_id, false)?,
            Command::RevokeClient { client_id } => self.review_client(client_id, true)?,
            Command::IssueToken { grant } => self.issue_token(wall, grant)?,
            Command::OpenClientSession { client_id, username, bearer_hash } => {
                self.open_sso_session(wall, client_id, username, bearer_hash, Trust::Checked)?
            }
            Command::OpenSsoSession { client_id, username, bearer_hash } => {
                self.open_sso_session(wall, client_id, username, bearer_hash, Trust::AsJournaled)?
            }
            Command::BrowserLogin { user, token_hash } => self.browser_login(wall, user, token_hash)?,
            Command::InitBrokerage { session, compete } => self.init_brokerage(wall, session, *compete)?,
            Command::AssignAccounts { client_id, accounts } => self.assign_accounts(client_id, accounts)?,
            Command::IssueFlexToken { user, token_hash, expires_at } => {
                self.issue_flex_token(user, token_hash, *expires_at)?
            }
            Command::DefineFlexQuery { query } => self.define_flex_query(query)?,
            Command::RequestFlexStatement { token_hash, query, from, to } => {
                let dates = from.zip(*to);
                self.request_flex(wall, now, token_hash, *query, dates)?
            }
            Command::SubmitApplication { client_id, application } => {
                self.submit_application(now, client_id, application)?
            }
            Command::ChangeAccount { client_id, account, change } => {
                self.change_account(now, client_id, account, change)?
            }
            Command::FileInstructions { client_id, instructions } => {
                self.file_instructions(now, client_id, instructions)?
            }
            Command::Signed { request, command } => {
                self.check_signed(wall, request)?;
                let events = match command.as_deref() {
                    Some(Command::Signed { .. }) => {
                        return Err(crate::oauth::OAuthRefusal::NestedSignedRequest.into());
                    }
                    Some(inner) => self.dispatch(wall, now, inner)?,
                    None => Vec::new(),
                };
                self.spend_signed(wall, request);
                events
            }
            Command::Tick => Vec::new(),
        })
    }

    /// Brings working orders, corporate actions and interest up to `now`, in time order: orders
    /// up to each instant something else is due, then that, then on; then margin deficits are
    /// liquidated if the world asks for it.
    pub(crate) fn pass_time(&mut self, now: Timestamp, events: &mut Vec<Event>) -> Result<(), EngineError> {
        loop {
            let actions = self.state.corporate_actions.next_due();
            let interest = self.state.accrual.next_due();
            let applications = self.state.requests.next_due();
            let instructions = self.state.banking.next_due();
            let Some(due) = [actions, interest, applications, instructions]
                .into_iter()
                .flatten()
                .min()
                .filter(|due| *due <= now)
            else {
                break;
            };
            self.catch_up(due, events)?;
            if !self.book.is_empty() {
                self.state.processed_until = self.state.processed_until.max(Some(due));
            }
            if actions == Some(due) {
                self.run_corporate_actions(due, events)?;
            }
            if interest == Some(due) {
                self.run_interest(due, events)?;
            }
            if applications == Some(due) {
                self.review_applications(due, events);
            }
            if instructions == Some(due) {
                self.settle_instructions(due, events)?;
            }
        }
        self.catch_up(now, events)?;
        self.state.processed_until = (!self.book.is_empty()).then_some(now);
        self.liquidate(now, events)
    }

    fn create_world(
        &mut self,
        wall: Timestamp,
        seed: u64,
        world: &World,
        clock: ClockSpec,
    ) -> Result<Vec<Event>, EngineError> {
        if self.state.created_at.is_some() {
            return Err(EngineError::WorldExists);
        }
        world.validate()?;
        let start = within_market(clock.start.unwrap_or(wall))?;
        let state = &mut self.state;
        state.seed = seed;
        state.clock = Clock::new(clock.mode, start, wall);
        let at = state.clock.market_time(wall);
        state.created_at = Some(at);
        state.accrual = Accrual::new(world.interest.clone(), at);
        state.liquidation = world.liquidation;
        state.requests.timing = world.account_management;
        state.flex.generation = world.flex.generation;
        for token in &world.flex.tokens {
            let user = FlexToken { user: token.user.clone(), expires_at: token.expires_at };
            state.flex.tokens.insert(token.token_hash.clone(), user);
        }
        for query in &world.flex.queries {
            state.flex.queries.insert(query.id, query.clone());
        }
        for spec in &world.accounts {
            let account = Account {
                id: spec.id.clone(),
                title: spec.title.clone(),
                kind: spec.kind,
                margin: spec.margin,
                base_currency: spec.base_currency,
                commission_plan: CommissionPlan::default(),
                opened_at: at,
                alias: None,
                closed_at: None,
                master: None,
                primary_user: None,
            };
            state.accounts.insert(account.id.clone(), account);
            let postings = spec.cash.iter().flat_map(|(&currency, &amount)| {
                [Posting::new(Book::Cash, currency, amount), Posting::new(Book::Capital, currency, -amount)]
            });
            let opening =
                Entry { account: spec.id.clone(), at, cause: Cause::Opening, postings: postings.collect() };
            state.ledger.post(opening)?;
        }
        for (user_id, spec) in (FIRST_USER_ID..).zip(&world.users) {
            let user = User {
                username: spec.username.clone(),
                user_id,
                password_hash: spec.password_hash.clone(),
                accounts: spec.accounts.clone(),
                onboarded_by: None,
            };
            state.users.insert(user.username.clone(), user);
        }
        let mut events = vec![Event::WorldCreated];
        for client in &world.clients {
            let invalid = |refusal: EngineError| {
                EngineError::from(WorldProblem::ClientRefused {
                    client_id: client.client_id.clone(),
                    refusal: Box::new(refusal),
                })
            };
            events.extend(
                self.register_client(&client.client_id, &client.key, &client.scopes).map_err(invalid)?,
            );
            if client.approved {
                events.extend(self.review_client(&client.client_id, false).map_err(invalid)?);
            }
            if let Some(registered) = self.state.oauth.clients.get_mut(&client.client_id) {
                registered.accounts.extend(client.accounts.iter().cloned());
                registered.users.extend(client.users.iter().cloned());
            }
        }
        for (index, action) in world.corporate_actions.iter().enumerate() {
            let announced = self.announce(at, action).map_err(|refusal| {
                EngineError::from(WorldProblem::CorporateActionRefused {
                    number: index + 1,
                    refusal: Box::new(refusal),
                })
            })?;
            events.extend(announced);
        }
        Ok(events)
    }
}
