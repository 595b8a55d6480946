//! Creating the world: it comes first and once, its opening cash, and the problems that make
//! one refused, in the words the operator reads.

use std::collections::BTreeSet;

use model::Currency;
use rust_decimal::Decimal;

use super::{at, created, world};
use crate::clock::ClockSpec;
use crate::fixtures;
use crate::world::{World, WorldProblem};
use crate::{Command, Engine, EngineError};

#[test]
fn nothing_but_the_world_comes_first() {
    let mut engine = Engine::new();
    let refused = engine.apply(at(0), &Command::GatewayLogin { user: "demo".parse().unwrap() });
    assert_eq!(refused, Err(EngineError::NoWorld));
}

#[test]
fn the_world_is_created_once() {
    let mut engine = created();
    let again =
        engine.apply(at(1), &Command::CreateWorld { seed: 7, world: world(), clock: ClockSpec::default() });
    assert_eq!(again, Err(EngineError::WorldExists));
}

#[test]
fn opening_cash_is_paid_in_capital() {
    let engine = created();
    let ledger = engine.state().ledger();
    let account: model::AccountId = "DU7654321".parse().unwrap();
    assert_eq!(ledger.cash(&account).collect::<Vec<_>>(), [(Currency::USD, Decimal::new(100_000, 0))]);
    assert_eq!(
        ledger.balance(&account, crate::ledger::Book::Capital, Currency::USD),
        Decimal::new(-100_000, 0)
    );
    assert!(ledger.is_balanced());
}

#[test]
fn an_inconsistent_world_is_refused() {
    let refuse = |world: World, expected: WorldProblem| {
        let refused =
            Engine::new().apply(at(0), &Command::CreateWorld { seed: 1, world, clock: ClockSpec::default() });
        assert_eq!(refused, Err(EngineError::InvalidWorld(expected)));
    };
    let user = |name: &str| name.parse::<model::Username>().unwrap();
    let account = |id: &str| id.parse::<model::AccountId>().unwrap();
    let mut unknown_account = world();
    unknown_account.users[0].accounts.push(account("DU999"));
    refuse(
        unknown_account,
        WorldProblem::UnknownEntitlement { user: user("demo"), account: account("DU999") },
    );
    let mut listed_twice = world();
    listed_twice.users[0].accounts.push(account("DU1234567"));
    refuse(
        listed_twice,
        WorldProblem::AccountListedTwice { user: user("demo"), account: account("DU1234567") },
    );
    let mut no_accounts = world();
    no_accounts.users[1].accounts.clear();
    refuse(no_accounts, WorldProblem::UserWithoutAccounts { user: user("demo2") });
    let mut twin_user = world();
    twin_user.users.push(twin_user.users[0].clone());
    refuse(twin_user, WorldProblem::UserDefinedTwice { user: user("demo") });
    let mut twin_account = world();
    twin_account.accounts.push(twin_account.accounts[0].clone());
    refuse(twin_account, WorldProblem::AccountDefinedTwice { account: account("DU1234567") });
    refuse(fixtures::world(Vec::new(), Vec::new()), WorldProblem::NoUsers);
    let mut negative = world();
    negative.accounts[0].cash.insert(Currency::USD, Decimal::new(-1, 0));
    let opening = negative.accounts[0].id.clone();
    refuse(
        negative,
        WorldProblem::NegativeCash {
            account: opening,
            currency: Currency::USD,
            amount: Decimal::NEGATIVE_ONE,
        },
    );
    let mut unmanageable = world();
    unmanageable.clients.push(crate::world::ClientSpec {
        client_id: "APP".into(),
        key: crate::oauth::ClientKey {
            kid: "main".into(),
            algorithm: crate::oauth::KeyAlgorithm::Rs256,
            public_key_pem: String::new(),
        },
        scopes: BTreeSet::new(),
        approved: true,
        accounts: vec!["DU999".parse().unwrap()],
        users: Vec::new(),
    });
    refuse(
        unmanageable,
        WorldProblem::ClientManagesUnknownAccount { client_id: "APP".into(), account: account("DU999") },
    );
    let mut stranger = world();
    stranger.clients[0].users.push(user("nobody"));
    refuse(stranger, WorldProblem::ClientActsForUnknownUser { client_id: "IB".into(), user: user("nobody") });
}

/// The texts an invalid world is refused with, written out in full: the operator starting the
/// broker reads them.
#[test]
fn world_problems_keep_their_words() {
    let user = |name: &str| name.parse::<model::Username>().unwrap();
    let account = |id: &str| id.parse::<model::AccountId>().unwrap();
    let cases = [
        (WorldProblem::NoUsers, "the world has no users"),
        (
            WorldProblem::NegativeCash {
                account: account("DU1234567"),
                currency: Currency::USD,
                amount: Decimal::NEGATIVE_ONE,
            },
            "account DU1234567 opens with negative USD cash",
        ),
        (
            WorldProblem::UnpricedCurrency { account: account("DU1234567"), currency: Currency::EUR },
            "account DU1234567 uses EUR, which no currency pair prices",
        ),
        (
            WorldProblem::BenchmarkRate { currency: Currency::USD, rate: Decimal::new(15, 1) },
            "the USD benchmark rate 1.5 is not between -0.1 and 1",
        ),
        (
            WorldProblem::AccountListedTwice { user: user("demo"), account: account("DU1234567") },
            "user demo lists account DU1234567 twice",
        ),
        (
            WorldProblem::UnknownEntitlement { user: user("demo"), account: account("DU999") },
            "user demo is entitled to unknown account DU999",
        ),
        (
            WorldProblem::ClientManagesUnknownAccount { client_id: "APP".into(), account: account("DU999") },
            "client APP manages unknown account DU999",
        ),
        (WorldProblem::FlexTokenDefinedTwice { user: user("demo") }, "a Flex token of demo is defined twice"),
        (
            WorldProblem::FlexQueryOfUnknownUser { id: 7, owner: user("nobody") },
            "Flex query 7 belongs to unknown user nobody",
        ),
        (
            WorldProblem::NegativeGeneration { generation: jiff::SignedDuration::from_secs(-1) },
            "a Flex statement cannot take negative time to generate",
        ),
        (
            WorldProblem::ClientRefused {
                client_id: "APP".into(),
                refusal: Box::new(crate::oauth::OAuthRefusal::InvalidId.into()),
            },
            "client APP: client ids and key ids are 1 to 128 printable characters",
        ),
        (
            WorldProblem::CorporateActionRefused {
                number: 2,
                refusal: Box::new(
                    crate::corporate_actions::CorporateActionRefusal::SplitRatio { to: 1, from: 1 }.into(),
                ),
            },
            "corporate action 2: corporate action refused: a split turns 1 to 1000 shares into another number of them",
        ),
        (WorldProblem::Liquidator, "liquidator"),
    ];
    for (problem, text) in cases {
        assert_eq!(EngineError::from(problem).to_string(), format!("invalid world: {text}"));
    }
}
