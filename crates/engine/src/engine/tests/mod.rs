//! Invariants: a refused command leaves the digest unchanged; replaying the same commands
//! reproduces the same digest; a snapshot restores the exact state. The world the tests share,
//! and logging in to it, are here; the tests are in the modules below, by subject.

mod clock;
mod replay;
mod sessions;
mod world;

use std::collections::BTreeSet;

use jiff::{SignedDuration, Timestamp};
use model::{MarginKind, SessionId};
use rust_decimal::Decimal;

use crate::applications::Timing;
use crate::clock::ClockSpec;
use crate::fixtures;
use crate::oauth::{ClientKey, KeyAlgorithm};
use crate::world::{ClientSpec, World};
use crate::{Command, Engine, Event};

/// `demo` with margin accounts `DU1234567` (1,000,000 USD) and `DU1111111` (5 USD), `demo2`
/// with `DU7654321` (100,000 USD), and the approved client `IB` managing the first and the last.
fn world() -> World {
    World {
        clients: vec![ClientSpec {
            client_id: "IB".into(),
            key: ClientKey {
                kid: "main".into(),
                algorithm: KeyAlgorithm::Rs256,
                public_key_pem: "not checked by the engine".into(),
            },
            scopes: BTreeSet::from(["accounts.write".to_owned(), "transfers.write".to_owned()]),
            approved: true,
            accounts: vec!["DU1234567".parse().unwrap(), "DU7654321".parse().unwrap()],
            users: Vec::new(),
        }],
        // Short enough for reviews and settlements to fall due within a generated run.
        account_management: Timing {
            review: SignedDuration::from_secs(3),
            settlement: SignedDuration::from_secs(5),
        },
        ..fixtures::world(
            vec![
                fixtures::user("demo", &["DU1234567", "DU1111111"]),
                fixtures::user("demo2", &["DU7654321"]),
            ],
            vec![
                fixtures::account("DU1234567", MarginKind::Margin, Decimal::new(1_000_000, 0)),
                fixtures::account("DU1111111", MarginKind::Margin, Decimal::new(5, 0)),
                fixtures::account("DU7654321", MarginKind::Margin, Decimal::new(100_000, 0)),
            ],
        )
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
