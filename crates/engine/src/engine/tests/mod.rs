//! Invariants: a refused command leaves the digest unchanged; replaying the same commands
//! reproduces the same digest; a snapshot restores the exact state. The world the tests share,
//! and logging in to it, are here; the tests are in the modules below, by subject.

mod clock;
mod replay;
mod sessions;
mod world;

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use model::{AccountKind, Currency, MarginKind, SessionId};
use rust_decimal::Decimal;

use crate::clock::ClockSpec;
use crate::world::{AccountSpec, UserSpec, World};
use crate::{Command, Engine, Event};

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
        interest: Default::default(),
        liquidation: false,
        corporate_actions: Vec::new(),
        clients: vec![crate::world::ClientSpec {
            client_id: "IB".into(),
            key: crate::oauth::ClientKey {
                kid: "main".into(),
                algorithm: crate::oauth::KeyAlgorithm::Rs256,
                public_key_pem: "not checked by the engine".into(),
            },
            scopes: BTreeSet::from(["accounts.write".to_owned(), "transfers.write".to_owned()]),
            approved: true,
            accounts: vec!["DU1234567".parse().unwrap(), "DU7654321".parse().unwrap()],
            users: Vec::new(),
        }],
        // Short enough for reviews and settlements to fall due within a generated run.
        account_management: crate::applications::Timing {
            review: jiff::SignedDuration::from_secs(3),
            settlement: jiff::SignedDuration::from_secs(5),
        },
        flex: Default::default(),
    }
}

fn at(second: i64) -> Timestamp {
    Timestamp::from_second(1_772_000_000 + second).unwrap()
}

fn created() -> Engine {
    let mut engine = Engine::new();
    engine
        .apply(at(0), &Command::CreateWorld { seed: 7, world: world(), clock: ClockSpec::default() })
        .unwrap();
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
