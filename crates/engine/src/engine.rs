//! The engine: applies commands to the state.

use std::fmt;

use jiff::Timestamp;
use model::{AccountId, SessionId, Username};
use serde::{Deserialize, Serialize};
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

/// The version of the snapshot format. Bump it whenever [`State`]'s serialised shape changes:
/// older snapshots are then ignored and the journal is replayed instead.
pub const SNAPSHOT_FORMAT: u32 = 1;

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
        Ok(Self { state: snapshot.state })
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
        let session = Session { id: id.clone(), user: username.clone(), opened_at: at, selected_account };
        self.state.sessions.insert(id.clone(), session);
        self.state.gateway_session = Some(id.clone());
        events.push(Event::SessionOpened { session: id, user: username.clone() });
        Ok(events)
    }

    fn logout(&mut self, id: &SessionId) -> Result<Vec<Event>, EngineError> {
        self.state.sessions.remove(id).ok_or_else(|| EngineError::UnknownSession(id.clone()))?;
        if self.state.gateway_session.as_ref() == Some(id) {
            self.state.gateway_session = None;
        }
        Ok(vec![Event::SessionClosed { session: id.clone() }])
    }

    fn select_account(&mut self, id: &SessionId, account: &AccountId) -> Result<Vec<Event>, EngineError> {
        let unknown = || EngineError::UnknownSession(id.clone());
        let user = self.state.sessions.get(id).ok_or_else(unknown)?.user.clone();
        if !self.state.is_entitled(&user, account) {
            return Err(EngineError::NotEntitled { user, account: account.clone() });
        }
        self.state.sessions.get_mut(id).ok_or_else(unknown)?.selected_account = account.clone();
        Ok(vec![Event::AccountSelected { session: id.clone(), account: account.clone() }])
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
        let refuse = |world: World, expected: &str| {
            let refused = Engine::new().apply(at(0), &Command::CreateWorld { seed: 1, world });
            assert!(
                matches!(refused, Err(EngineError::InvalidWorld(ref reason)) if reason.contains(expected)),
                "{refused:?}"
            );
        };
        let mut unknown_account = world();
        unknown_account.users[0].accounts.push("DU999".parse().unwrap());
        refuse(unknown_account, "unknown account DU999");
        let mut listed_twice = world();
        listed_twice.users[0].accounts.push("DU1234567".parse().unwrap());
        refuse(listed_twice, "lists account DU1234567 twice");
        let mut no_accounts = world();
        no_accounts.users[1].accounts.clear();
        refuse(no_accounts, "demo2 has no accounts");
        let mut twin_user = world();
        twin_user.users.push(twin_user.users[0].clone());
        refuse(twin_user, "user demo is defined twice");
        let mut twin_account = world();
        twin_account.accounts.push(twin_account.accounts[0].clone());
        refuse(twin_account, "account DU1234567 is defined twice");
        refuse(World { users: Vec::new(), accounts: Vec::new() }, "no users");
        let mut negative = world();
        negative.accounts[0].cash.insert(Currency::USD, Decimal::new(-1, 0));
        refuse(negative, "negative USD cash");
    }

    #[test]
    fn login_selects_the_first_entitled_account() {
        let mut engine = created();
        let id = login(&mut engine, "demo");
        let session = engine.state().gateway_session().unwrap();
        assert_eq!(session.id, id);
        assert_eq!(session.selected_account.as_str(), "DU1234567");
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
    fn snapshots_of_another_format_are_refused() {
        let bytes = created().snapshot().unwrap();
        let text = String::from_utf8(bytes).unwrap().replacen("\"format\":1", "\"format\":0", 1);
        let refused = Engine::from_snapshot(text.as_bytes());
        assert!(matches!(refused, Err(SnapshotError::Format { found: 0, expected: 1 })));
        assert!(matches!(Engine::from_snapshot(b"{}"), Err(SnapshotError::Decode(_))));
    }

    #[test]
    fn a_session_lasts_a_day() {
        let mut engine = created();
        login(&mut engine, "demo");
        let session = engine.state().gateway_session().unwrap();
        let opened = session.opened_at;
        let hours = |h: i64| opened.checked_add(jiff::SignedDuration::from_hours(h)).unwrap();
        assert!(session.is_active(hours(23)));
        assert!(!session.is_active(hours(24)));
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
            let restored = Engine::from_snapshot(&first.snapshot().unwrap()).unwrap();
            prop_assert_eq!(restored.digest(), first.digest());
            prop_assert_eq!(restored.state(), first.state());
        }
    }
}
