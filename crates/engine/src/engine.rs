//! The engine: applies commands to the state.

use std::fmt;

use jiff::Timestamp;
use model::{AccountId, SessionId, Username};
use sha2::{Digest as _, Sha256};

use crate::state::{Account, Session, State, User};
use crate::world::World;
use crate::{Command, EngineError, Event};

/// The first numeric user id handed out; IBKR's user ids are eight-digit numbers.
const FIRST_USER_ID: u64 = 10_000_001;

/// The single owner of the broker's state.
#[derive(Debug, Clone, Default)]
pub struct Engine {
    state: State,
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
    /// When the bytes are not a snapshot of this engine's state format.
    pub fn from_snapshot(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        Ok(Self { state: serde_json::from_slice(bytes)? })
    }

    /// The canonical serialisation of the state, from which [`Engine::from_snapshot`] rebuilds it.
    pub fn snapshot(&self) -> Vec<u8> {
        // Serialising plain data with string keys cannot fail.
        serde_json::to_vec(&self.state).unwrap_or_default()
    }

    /// The hash of the canonical state.
    pub fn digest(&self) -> Digest {
        Digest(Sha256::digest(self.snapshot()).into())
    }

    /// Read access to the state.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// Applies one command admitted at `at`: either all of it, returning what changed, or none
    /// of it.
    ///
    /// # Errors
    /// The [`EngineError`] saying why the command was refused; the state is then unchanged.
    pub fn apply(&mut self, at: Timestamp, command: &Command) -> Result<Vec<Event>, EngineError> {
        if self.state.created_at.is_none() && !matches!(command, Command::CreateWorld { .. }) {
            return Err(EngineError::NoWorld);
        }
        let at = self.state.now.map_or(at, |now| now.max(at));
        let events = match command {
            Command::CreateWorld { seed, world } => self.create_world(at, *seed, world)?,
            Command::GatewayLogin { user } => self.gateway_login(at, user)?,
            Command::Logout { session } => self.logout(session)?,
            Command::OpenBrokerage { session, compete: _ } => self.open_brokerage(session)?,
            Command::SelectAccount { session, account } => self.select_account(session, account)?,
        };
        self.state.now = Some(at);
        Ok(events)
    }

    fn create_world(&mut self, at: Timestamp, seed: u64, world: &World) -> Result<Vec<Event>, EngineError> {
        if self.state.created_at.is_some() {
            return Err(EngineError::WorldExists);
        }
        world.validate()?;
        let state = &mut self.state;
        state.seed = seed;
        state.created_at = Some(at);
        for spec in &world.accounts {
            let account = Account {
                id: spec.id.clone(),
                title: spec.title.clone(),
                kind: spec.kind,
                margin: spec.margin,
                base_currency: spec.base_currency,
                cash: spec.cash.clone(),
                opened_at: at,
            };
            state.accounts.insert(account.id.clone(), account);
        }
        for (user_id, spec) in (FIRST_USER_ID..).zip(&world.users) {
            let user = User {
                username: spec.username.clone(),
                user_id,
                password_hash: spec.password_hash.clone(),
                accounts: spec.accounts.clone(),
            };
            state.users.insert(user.username.clone(), user);
        }
        Ok(vec![Event::WorldCreated])
    }

    fn gateway_login(&mut self, at: Timestamp, username: &Username) -> Result<Vec<Event>, EngineError> {
        let user =
            self.state.users.get(username).ok_or_else(|| EngineError::UnknownUser(username.clone()))?;
        let selected_account = user.accounts[0].clone();
        let mut events = Vec::new();
        if let Some(previous) = self.state.gateway_session.take() {
            self.state.sessions.remove(&previous);
            events.push(Event::SessionClosed { session: previous });
        }
        let id = self.next_session_id();
        let session = Session {
            id: id.clone(),
            user: username.clone(),
            opened_at: at,
            // The gateway connects the brokerage session as part of its login.
            brokerage: true,
            competing: false,
            selected_account,
        };
        self.state.sessions.insert(id.clone(), session);
        self.state.gateway_session = Some(id.clone());
        events.push(Event::SessionOpened { session: id.clone(), user: username.clone() });
        events.push(Event::BrokerageOpened { session: id });
        Ok(events)
    }

    fn logout(&mut self, id: &SessionId) -> Result<Vec<Event>, EngineError> {
        self.state.sessions.remove(id).ok_or_else(|| EngineError::UnknownSession(id.clone()))?;
        if self.state.gateway_session.as_ref() == Some(id) {
            self.state.gateway_session = None;
        }
        Ok(vec![Event::SessionClosed { session: id.clone() }])
    }

    fn open_brokerage(&mut self, id: &SessionId) -> Result<Vec<Event>, EngineError> {
        let session = self.session_mut(id)?;
        session.brokerage = true;
        Ok(vec![Event::BrokerageOpened { session: id.clone() }])
    }

    fn select_account(&mut self, id: &SessionId, account: &AccountId) -> Result<Vec<Event>, EngineError> {
        let session = self.state.sessions.get(id).ok_or_else(|| EngineError::UnknownSession(id.clone()))?;
        let entitled =
            self.state.users.get(&session.user).is_some_and(|user| user.accounts.contains(account));
        if !entitled {
            return Err(EngineError::NotEntitled { user: session.user.clone(), account: account.clone() });
        }
        self.session_mut(id)?.selected_account = account.clone();
        Ok(vec![Event::AccountSelected { session: id.clone(), account: account.clone() }])
    }

    fn session_mut(&mut self, id: &SessionId) -> Result<&mut Session, EngineError> {
        self.state.sessions.get_mut(id).ok_or_else(|| EngineError::UnknownSession(id.clone()))
    }

    /// Session ids look like IBKR's (32 hex digits) and are derived from the seed and a counter,
    /// so a replay reproduces them.
    fn next_session_id(&mut self) -> SessionId {
        self.state.sessions_opened += 1;
        let mut hasher = Sha256::new();
        hasher.update(b"localbroker/session");
        hasher.update(self.state.seed.to_be_bytes());
        hasher.update(self.state.sessions_opened.to_be_bytes());
        let hash = hex::encode(hasher.finalize());
        SessionId::new(hash[..32].to_owned())
    }
}

#[cfg(test)]
mod tests {
    //! Invariants: a refused command leaves the digest unchanged; replaying the same commands
    //! reproduces the same digest; a snapshot restores the exact state.

    use std::collections::BTreeMap;

    use model::{AccountKind, Currency, MarginKind};
    use proptest::prelude::*;
    use rust_decimal::Decimal;

    use super::*;
    use crate::world::{AccountSpec, UserSpec};

    fn account(id: &str, cash: i64) -> AccountSpec {
        AccountSpec {
            id: id.parse().unwrap(),
            title: format!("Holder of {id}"),
            kind: AccountKind::Individual,
            margin: MarginKind::Margin,
            base_currency: Currency::USD,
            cash: BTreeMap::from([(Currency::USD, Decimal::new(cash, 0))]),
        }
    }

    fn user(name: &str, accounts: &[&str]) -> UserSpec {
        UserSpec {
            username: name.parse().unwrap(),
            password_hash: "$argon2id$test".into(),
            accounts: accounts.iter().map(|a| a.parse().unwrap()).collect(),
        }
    }

    fn world() -> World {
        World {
            users: vec![user("demo", &["DU1234567", "DU1111111"]), user("demo2", &["DU7654321"])],
            accounts: vec![
                account("DU1234567", 1_000_000),
                account("DU1111111", 5),
                account("DU7654321", 100_000),
            ],
        }
    }

    fn at(second: i64) -> Timestamp {
        Timestamp::from_second(1_772_000_000 + second).unwrap()
    }

    fn created() -> Engine {
        let mut engine = Engine::new();
        engine.apply(at(0), &Command::CreateWorld { seed: 7, world: world() }).unwrap();
        engine
    }

    fn login(engine: &mut Engine, name: &str) -> SessionId {
        let events = engine.apply(at(1), &Command::GatewayLogin { user: name.parse().unwrap() }).unwrap();
        events
            .into_iter()
            .find_map(|event| match event {
                Event::SessionOpened { session, .. } => Some(session),
                _ => None,
            })
            .unwrap()
    }

    #[test]
    fn nothing_but_the_world_comes_first() {
        let mut engine = Engine::new();
        let refused = engine.apply(at(0), &Command::GatewayLogin { user: "demo".parse().unwrap() });
        assert_eq!(refused, Err(EngineError::NoWorld));
    }

    #[test]
    fn the_world_is_created_once() {
        let mut engine = created();
        let again = engine.apply(at(1), &Command::CreateWorld { seed: 7, world: world() });
        assert_eq!(again, Err(EngineError::WorldExists));
    }

    #[test]
    fn an_inconsistent_world_is_refused() {
        let mut broken = world();
        broken.users[0].accounts.push("DU999".parse().unwrap());
        let refused = Engine::new().apply(at(0), &Command::CreateWorld { seed: 1, world: broken });
        assert!(matches!(refused, Err(EngineError::InvalidWorld(reason)) if reason.contains("DU999")));
    }

    #[test]
    fn login_selects_the_first_entitled_account_and_connects_the_brokerage() {
        let mut engine = created();
        let id = login(&mut engine, "demo");
        let session = engine.state().gateway_session().unwrap();
        assert_eq!(session.id, id);
        assert_eq!(session.selected_account.as_str(), "DU1234567");
        assert!(session.brokerage);
        assert_eq!(id.as_str().len(), 32);
    }

    #[test]
    fn a_new_gateway_login_replaces_the_previous_session() {
        let mut engine = created();
        let first = login(&mut engine, "demo");
        let second = login(&mut engine, "demo2");
        assert_ne!(first, second);
        assert!(engine.state().session(&first).is_none());
        assert_eq!(engine.state().gateway_session().unwrap().user.as_str(), "demo2");
    }

    #[test]
    fn logout_ends_the_gateway_session() {
        let mut engine = created();
        let id = login(&mut engine, "demo");
        engine.apply(at(2), &Command::Logout { session: id.clone() }).unwrap();
        assert!(engine.state().gateway_session().is_none());
        assert_eq!(
            engine.apply(at(3), &Command::Logout { session: id.clone() }),
            Err(EngineError::UnknownSession(id))
        );
    }

    #[test]
    fn only_entitled_accounts_can_be_selected() {
        let mut engine = created();
        let id = login(&mut engine, "demo");
        let before = engine.digest();
        let refused = engine.apply(
            at(2),
            &Command::SelectAccount { session: id.clone(), account: "DU7654321".parse().unwrap() },
        );
        assert!(matches!(refused, Err(EngineError::NotEntitled { .. })));
        assert_eq!(engine.digest(), before, "a refused command changes nothing");
        engine
            .apply(at(3), &Command::SelectAccount { session: id, account: "DU1111111".parse().unwrap() })
            .unwrap();
        assert_eq!(engine.state().gateway_session().unwrap().selected_account.as_str(), "DU1111111");
    }

    #[test]
    fn time_never_moves_backwards() {
        let mut engine = created();
        engine.apply(at(10), &Command::GatewayLogin { user: "demo".parse().unwrap() }).unwrap();
        engine.apply(at(5), &Command::GatewayLogin { user: "demo".parse().unwrap() }).unwrap();
        assert_eq!(engine.state().now(), Some(at(10)));
        assert_eq!(engine.state().gateway_session().unwrap().opened_at, at(10));
    }

    fn command_strategy() -> impl Strategy<Value = Command> {
        let users = prop::sample::select(vec!["demo", "demo2", "nobody"]);
        let accounts = prop::sample::select(vec!["DU1234567", "DU1111111", "DU7654321"]);
        let sessions = (1u64..4).prop_map(|n| {
            // Ids of sessions that may or may not exist, as derived for seed 7.
            let mut engine = created();
            let mut id = None;
            for _ in 0..n {
                id = Some(login(&mut engine, "demo"));
            }
            id.unwrap()
        });
        prop_oneof![
            users.prop_map(|u| Command::GatewayLogin { user: u.parse().unwrap() }),
            sessions.clone().prop_map(|session| Command::Logout { session }),
            (sessions.clone(), any::<bool>())
                .prop_map(|(session, compete)| Command::OpenBrokerage { session, compete }),
            (sessions, accounts)
                .prop_map(|(session, a)| Command::SelectAccount { session, account: a.parse().unwrap() }),
        ]
    }

    proptest! {
        #[test]
        fn replay_reproduces_the_digest_and_refusals_change_nothing(
            commands in prop::collection::vec(command_strategy(), 0..40)
        ) {
            let run = |commands: &[Command]| {
                let mut engine = created();
                for (i, command) in commands.iter().enumerate() {
                    let before = engine.digest();
                    let seconds = i64::try_from(i).unwrap() + 1;
                    if engine.apply(at(seconds), command).is_err() {
                        prop_assert_eq!(engine.digest(), before);
                    }
                }
                Ok(engine)
            };
            let first = run(&commands)?;
            let second = run(&commands)?;
            prop_assert_eq!(first.digest(), second.digest());
            let restored = Engine::from_snapshot(&first.snapshot()).unwrap();
            prop_assert_eq!(restored.digest(), first.digest());
            prop_assert_eq!(restored.state(), first.state());
        }
    }
}
