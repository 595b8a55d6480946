//! Worlds for tests and benchmarks: users, accounts, a world of them with nothing else, and an
//! engine started from one with a user logged in at the gateway. Compiled for the engine's own
//! tests and, through the `test-support` feature, for the crates that test against the engine,
//! so that they share one way of building a world.

// Test support: a test stops at the first thing that is not as expected.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use jiff::Timestamp;
use model::{AccountKind, Currency, Decimal, MarginKind, SessionId};

use crate::clock::{ClockMode, ClockSpec};
use crate::world::{AccountSpec, UserSpec, World};
use crate::{Command, Engine, Reply};

/// A user who may use `accounts`, with a password hash nothing checks.
///
/// # Panics
/// When `name` or an account id is not valid.
pub fn user(name: &str, accounts: &[&str]) -> UserSpec {
    UserSpec {
        username: name.parse().expect("a valid username"),
        password_hash: "$argon2id$test".into(),
        accounts: accounts.iter().map(|id| id.parse().expect("a valid account id")).collect(),
    }
}

/// An individual account `id` in US dollars, titled with its id, opened with `usd`.
///
/// # Panics
/// When `id` is not a valid account id.
pub fn account(id: &str, margin: MarginKind, usd: Decimal) -> AccountSpec {
    AccountSpec {
        id: id.parse().expect("a valid account id"),
        title: id.into(),
        kind: AccountKind::Individual,
        margin,
        base_currency: Currency::USD,
        cash: BTreeMap::from([(Currency::USD, usd)]),
    }
}

/// A world of `users` and `accounts` and nothing else: no interest, no liquidation, no
/// corporate actions, clients or Flex set-up, Account Management's default timing.
pub fn world(users: Vec<UserSpec>, accounts: Vec<AccountSpec>) -> World {
    World {
        users,
        accounts,
        interest: Default::default(),
        liquidation: false,
        corporate_actions: Vec::new(),
        clients: Vec::new(),
        account_management: Default::default(),
        flex: Default::default(),
    }
}

/// An engine created from `world` with `seed` at wall time `wall`, its market clock manual at
/// `market`, and the gateway session `user` logged in with.
///
/// # Panics
/// When the world is refused, or the user cannot log in.
pub fn started(
    world: World,
    seed: u64,
    wall: Timestamp,
    market: Timestamp,
    user: &str,
) -> (Engine, SessionId) {
    let mut engine = Engine::new();
    let clock = ClockSpec { mode: ClockMode::Manual, start: Some(market) };
    engine.apply(wall, &Command::CreateWorld { seed, world, clock }).expect("the world is valid");
    let user = user.parse().expect("a valid username");
    match engine.execute(wall, &Command::GatewayLogin { user }).expect("the user logs in").reply {
        Reply::SessionOpened(session) => (engine, session),
        reply => panic!("a login opens a session, not {reply:?}"),
    }
}
