//! Invariants: a refused command leaves the digest unchanged; replaying the same commands
//! reproduces the same digest; a snapshot restores the exact state.

use std::collections::{BTreeMap, BTreeSet};

use model::{AccountKind, Currency, MarginKind, SessionId};
use proptest::prelude::*;
use rust_decimal::Decimal;

use super::*;
use crate::clock::ClockSpec;
use crate::market::MarketChangeRefusal;
use crate::world::{AccountSpec, UserSpec, WorldProblem};

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
    refuse(
        World {
            users: Vec::new(),
            accounts: Vec::new(),
            interest: Default::default(),
            liquidation: false,
            corporate_actions: Vec::new(),
            clients: Vec::new(),
            account_management: Default::default(),
            flex: Default::default(),
        },
        WorldProblem::NoUsers,
    );
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
fn a_session_suppresses_a_bounded_number_of_well_formed_question_ids() {
    let mut engine = created();
    let session = login(&mut engine, "demo");
    let suppress = |ids: Vec<String>| Command::SuppressQuestions {
        session: session.clone(),
        ids: ids.into_iter().collect(),
    };
    let long = format!("o{}", "1".repeat(40));
    assert_eq!(
        engine.apply(at(2), &suppress(vec![long])),
        Err(EngineError::QuestionsRefused(crate::QuestionRefusal::NotAMessageId {
            id: "o111111111111111".into()
        })),
        "only the start of the refused id is repeated"
    );
    let many = (0..65).map(|n| format!("o{n}")).collect();
    assert_eq!(
        engine.apply(at(2), &suppress(many)),
        Err(EngineError::QuestionsRefused(crate::QuestionRefusal::TooMany { count: 65 }))
    );
    assert!(engine.state().gateway_session().unwrap().suppressed_questions.is_empty());
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

fn browser_login(engine: &mut Engine, name: &str, second: i64) -> SessionId {
    let command =
        Command::BrowserLogin { user: name.parse().unwrap(), token_hash: format!("cookie-{second}") };
    let events = engine.apply(at(second), &command).unwrap();
    match events.as_slice() {
        [Event::SessionOpened { session, .. }] => session.clone(),
        other => panic!("unexpected events {other:?}"),
    }
}

fn holds(engine: &Engine, id: &SessionId, second: i64) -> bool {
    let session = engine.state().session(id).unwrap();
    engine.state().holds_brokerage(session, at(second))
}

#[test]
fn a_browser_login_leaves_the_gateway_session_alone() {
    let mut engine = created();
    let gateway = login(&mut engine, "demo2");
    let browser = browser_login(&mut engine, "demo", 2);
    assert_eq!(engine.state().gateway_session().unwrap().id, gateway);
    assert_eq!(engine.state().oauth().sso_sessions.get("cookie-2"), Some(&browser));
    assert!(holds(&engine, &browser, 3), "nobody else held demo's brokerage session");
}

#[test]
fn one_brokerage_session_per_user_taken_only_by_competing() {
    let mut engine = created();
    let first = login(&mut engine, "demo");
    let second = browser_login(&mut engine, "demo", 2);
    assert!(holds(&engine, &first, 3) && !holds(&engine, &second, 3), "the first login keeps it");

    let polite = Command::InitBrokerage { session: second.clone(), compete: false };
    assert_eq!(engine.apply(at(4), &polite), Err(EngineError::BrokerageHeld("demo".parse().unwrap())));
    assert!(holds(&engine, &first, 4));

    let taking = Command::InitBrokerage { session: second.clone(), compete: true };
    let events = engine.apply(at(5), &taking).unwrap();
    assert_eq!(events, vec![Event::BrokerageTaken { session: second.clone(), from: Some(first.clone()) }]);
    assert!(holds(&engine, &second, 5) && !holds(&engine, &first, 5));
    assert_eq!(engine.apply(at(6), &taking).unwrap(), Vec::new(), "holding it already changes nothing");

    engine.apply(at(7), &Command::Logout { session: second }).unwrap();
    let back = Command::InitBrokerage { session: first.clone(), compete: false };
    let events = engine.apply(at(8), &back).unwrap();
    assert_eq!(events, vec![Event::BrokerageTaken { session: first.clone(), from: None }]);
    assert!(holds(&engine, &first, 8), "a released brokerage session is free to take");
}

#[test]
fn an_expired_session_cannot_take_the_brokerage_session() {
    let mut engine = created();
    let first = login(&mut engine, "demo");
    let second = browser_login(&mut engine, "demo", 2);
    let day_later = at(2 + 24 * 3600);
    let late = Command::InitBrokerage { session: second.clone(), compete: true };
    assert_eq!(engine.apply(day_later, &late), Err(EngineError::UnknownSession(second)));
    assert_eq!(engine.state().brokerage.get(&"demo".parse().unwrap()), Some(&first));
}

#[test]
fn revoking_a_client_ends_the_sessions_it_opened() {
    let mut engine = created();
    let open = Command::OpenClientSession {
        client_id: "IB".into(),
        username: "demo2".parse().unwrap(),
        bearer_hash: "b".into(),
    };
    let session = match engine.apply(at(2), &open).unwrap().as_slice() {
        [Event::SessionOpened { session, .. }] => session.clone(),
        other => panic!("unexpected events {other:?}"),
    };
    let gateway = login(&mut engine, "demo");
    let events = engine.apply(at(3), &Command::RevokeClient { client_id: "IB".into() }).unwrap();
    assert!(events.contains(&Event::SessionClosed { session: session.clone() }), "{events:?}");
    assert!(engine.state().session(&session).is_none());
    assert!(engine.state().session(&gateway).is_some(), "sessions of others stay open");
}

#[test]
fn users_do_not_compete_with_each_other() {
    let mut engine = created();
    let demo = login(&mut engine, "demo");
    let demo2 = browser_login(&mut engine, "demo2", 2);
    assert!(holds(&engine, &demo, 3) && holds(&engine, &demo2, 3));
}

#[test]
fn only_entitled_accounts_can_be_selected() {
    let mut engine = created();
    let id = login(&mut engine, "demo");
    let before = engine.digest();
    let refused = engine
        .apply(at(2), &Command::SelectAccount { session: id.clone(), account: "DU7654321".parse().unwrap() });
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
    let text = String::from_utf8(bytes).unwrap().replacen(
        &format!("\"format\":{SNAPSHOT_FORMAT}"),
        "\"format\":0",
        1,
    );
    let refused = Engine::from_snapshot(text.as_bytes());
    assert!(matches!(refused, Err(SnapshotError::Format { found: 0, expected: SNAPSHOT_FORMAT })));
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
    assert_eq!(engine.state().wall(), Some(at(10)));
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
    let signed =
        (prop::sample::select(vec!["a", "b"]), 1i64..40, prop::option::of(account_management_strategy()))
            .prop_map(|(id, seconds, command)| Command::Signed {
                request: crate::oauth::SignedRequest {
                    client_id: "IB".into(),
                    id: id.into(),
                    expires: at(seconds),
                },
                command: command.map(Box::new),
            });
    prop_oneof![
        account_management_strategy(),
        signed,
        users.clone().prop_map(|u| Command::GatewayLogin { user: u.parse().unwrap() }),
        sessions.clone().prop_map(|session| Command::Logout { session }),
        users
            .clone()
            .prop_map(|u| Command::BrowserLogin { user: u.parse().unwrap(), token_hash: u.to_owned() }),
        (prop::sample::select(vec!["IB", "nobody"]), users, any::<bool>()).prop_map(
            |(client, u, checked)| {
                let (client_id, username, bearer_hash) =
                    (client.to_owned(), u.parse().unwrap(), format!("{client}{u}"));
                if checked {
                    Command::OpenClientSession { client_id, username, bearer_hash }
                } else {
                    Command::OpenSsoSession { client_id, username, bearer_hash }
                }
            }
        ),
        (sessions.clone(), any::<bool>())
            .prop_map(|(session, compete)| Command::InitBrokerage { session, compete }),
        (sessions.clone(), accounts)
            .prop_map(|(session, a)| Command::SelectAccount { session, account: a.parse().unwrap() }),
        (
            sessions.clone(),
            prop::collection::btree_set(prop::sample::select(vec!["o163", "o10151", "163", ""]), 0..3)
        )
            .prop_map(|(session, ids)| Command::SuppressQuestions {
                session,
                ids: ids.into_iter().map(str::to_owned).collect()
            }),
        sessions.prop_map(|session| Command::ResetSuppressedQuestions { session }),
    ]
}

/// Account Management's commands: applications, account changes and banking instructions,
/// valid or not, by the world's client or by one that does not exist.
fn account_management_strategy() -> impl Strategy<Value = Command> {
    use crate::applications::{AccountChange, ApplicationSpec, Holder};
    use crate::banking::{BankAccount, BankMethod, Direction, Instruction, InstructionRequest};

    let clients = prop::sample::select(vec!["IB", "IB", "nobody"]);
    let accounts = prop::sample::select(vec!["DU1234567", "DU7654321", "DU1111111"]);
    let account = accounts.clone().prop_map(|a| a.parse::<model::AccountId>().unwrap());
    let amount = (1i64..200_000).prop_map(|cents| Decimal::new(cents, 2));
    let instruction = prop_oneof![
        account.clone().prop_map(|account| Instruction::AddBankInstruction {
            account,
            name: "Checking".into(),
            currency: Currency::USD,
            method: BankMethod::Ach,
            bank: BankAccount::default(),
            predefined: false,
        }),
        (account.clone(), amount.clone()).prop_map(|(account, amount)| Instruction::Deposit {
            account,
            currency: Currency::USD,
            amount,
            method: BankMethod::Ach,
            bank: Some("Checking".into()),
        }),
        (account.clone(), amount.clone()).prop_map(|(account, amount)| Instruction::Withdrawal {
            account,
            currency: Currency::USD,
            amount,
            method: BankMethod::Ach,
            bank: "Checking".into(),
        }),
        (account.clone(), account.clone(), amount).prop_map(|(from, to, amount)| {
            Instruction::InternalCashTransfer { from, to, currency: Currency::USD, amount }
        }),
        (account.clone(), 1i64..20, any::<bool>()).prop_map(|(account, quantity, incoming)| {
            Instruction::FreeOfPayment {
                account,
                conid: model::Conid::new(265_598),
                quantity: Decimal::from(quantity),
                direction: if incoming { Direction::In } else { Direction::Out },
                contra_broker: "0534".into(),
            }
        }),
        (100_000_001u64..100_000_008)
            .prop_map(|instruction| Instruction::Cancel { instruction, reason: "changed my mind".into() }),
    ];
    let requests = prop::collection::vec(
        (1u64..8, instruction).prop_map(|(client_instruction_id, instruction)| InstructionRequest {
            client_instruction_id,
            instruction,
        }),
        1..4,
    );
    let application =
        (prop::sample::select(vec!["ada", "demo", "bob"]), any::<bool>()).prop_map(|(name, adult)| {
            ApplicationSpec {
                external_id: None,
                kind: AccountKind::Individual,
                holders: vec![Holder {
                    name: "A. Person".into(),
                    date_of_birth: Some(if adult { "1980-01-01" } else { "2020-01-01" }.parse().unwrap()),
                }],
                username: name.parse().unwrap(),
                margin: MarginKind::Cash,
                base_currency: Currency::USD,
                master_account: None,
                paper: false,
                alias: None,
            }
        });
    let change = prop_oneof![
        Just(AccountChange::Close),
        Just(AccountChange::Alias { alias: "Savings".into() }),
        Just(AccountChange::BaseCurrency { currency: Currency::EUR }),
    ];
    prop_oneof![
        (clients.clone(), requests).prop_map(|(client, instructions)| Command::FileInstructions {
            client_id: client.into(),
            instructions
        }),
        (clients.clone(), application).prop_map(|(client, application)| Command::SubmitApplication {
            client_id: client.into(),
            application
        }),
        (clients, account, change).prop_map(|(client, account, change)| Command::ChangeAccount {
            client_id: client.into(),
            account,
            change
        }),
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
                let seconds = i64::try_from(i).unwrap() + 1;
                // What time passing alone does by then (reviews and settlements falling due)
                // stays done, as `Engine::apply` says; nothing of a refused command does.
                let mut passed = engine.clone();
                let wall = passed.state.wall.map_or(at(seconds), |last| last.max(at(seconds)));
                let now = passed.state.clock.market_time(wall);
                passed.pass_time(now, &mut Vec::new()).unwrap();
                if engine.apply(at(seconds), command).is_err() {
                    prop_assert_eq!(engine.digest(), passed.digest());
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

#[test]
fn the_clock_moves_only_forward_and_only_by_commands() {
    use crate::clock::ClockMode;
    use jiff::SignedDuration;

    let start: Timestamp = "2026-03-02T14:30:00Z".parse().unwrap();
    let manual = ClockSpec { mode: ClockMode::Manual, start: Some(start) };
    let mut engine = Engine::new();
    engine.apply(at(0), &Command::CreateWorld { seed: 7, world: world(), clock: manual }).unwrap();
    assert_eq!(engine.state().market_time(at(1_000)), start, "manual time stands still");

    let minutes = |m: i64| start + SignedDuration::from_mins(m);
    engine.apply(at(1), &Command::AdvanceClock { by: SignedDuration::from_mins(5) }).unwrap();
    assert_eq!(engine.state().market_time(at(2)), minutes(5));
    let before = engine.digest();
    let back = engine.apply(at(3), &Command::SetClock { to: minutes(4) });
    assert_eq!(back, Err(EngineError::ClockBackwards { now: minutes(5), requested: minutes(4) }));
    let zero = engine.apply(at(3), &Command::AdvanceClock { by: SignedDuration::ZERO });
    assert_eq!(zero, Err(EngineError::NonPositiveAdvance(SignedDuration::ZERO)));
    assert_eq!(engine.digest(), before, "refusals change nothing");

    engine.apply(at(4), &Command::SetClock { to: minutes(60) }).unwrap();
    let events = engine.apply(at(10), &Command::SetClockMode { mode: ClockMode::Accelerated(60) }).unwrap();
    assert_eq!(events, vec![Event::ClockChanged { mode: ClockMode::Accelerated(60), now: minutes(60) }]);
    assert_eq!(engine.state().market_time(at(11)), minutes(61), "a wall second is a market minute");
}

#[test]
fn a_world_without_a_start_begins_at_the_wall_time() {
    let engine = created();
    assert_eq!(engine.state().market_time(at(0)), at(0));
    assert_eq!(engine.state().market_time(at(30)), at(30), "realtime by default");
}

#[test]
fn market_changes_are_kept_with_their_market_instant() {
    use crate::market::MarketChange;

    let mut engine = created();
    let aapl = model::Conid::new(265_598);
    let both = vec![MarketChange::Price(Decimal::new(150, 0)), MarketChange::Halt(true)];
    let changed = engine.apply(at(5), &Command::ChangeMarket { conid: aapl, changes: both }).unwrap();
    assert_eq!(
        changed,
        vec![
            Event::MarketChanged {
                conid: aapl,
                change: MarketChange::Price(Decimal::new(150, 0)),
                at: at(5)
            },
            Event::MarketChanged { conid: aapl, change: MarketChange::Halt(true), at: at(5) },
        ]
    );
    assert_eq!(
        engine.state().overrides(aapl),
        [(at(5), MarketChange::Price(Decimal::new(150, 0))), (at(5), MarketChange::Halt(true))]
    );
    let before = engine.digest();
    let unknown =
        Command::ChangeMarket { conid: model::Conid::new(1), changes: vec![MarketChange::Halt(true)] };
    assert_eq!(engine.apply(at(6), &unknown), Err(EngineError::UnknownInstrument(model::Conid::new(1))));
    let none = engine.apply(at(6), &Command::ChangeMarket { conid: aapl, changes: vec![] });
    assert_eq!(none, Err(EngineError::InvalidMarketChange(MarketChangeRefusal::NoChange)));
    let price = MarketChangeRefusal::NonPositivePrice { price: Decimal::ZERO };
    let volatility = MarketChangeRefusal::VolatilityOutOfRange { volatility: Decimal::new(11, 0) };
    for (bad, expected) in [
        (MarketChange::Price(Decimal::ZERO), price),
        (MarketChange::Volatility(Decimal::new(11, 0)), volatility),
    ] {
        let changes = vec![MarketChange::Halt(false), bad];
        let refused = engine.apply(at(7), &Command::ChangeMarket { conid: aapl, changes });
        assert_eq!(refused, Err(EngineError::InvalidMarketChange(expected)), "{bad:?}");
    }
    assert_eq!(engine.digest(), before, "a refused change applies none of its parts");
}

#[test]
fn the_clock_stays_where_the_market_has_prices() {
    use crate::clock::ClockMode;
    use jiff::SignedDuration;

    let start: Timestamp = "2100-12-30T00:00:00Z".parse().unwrap();
    let manual = |start| ClockSpec { mode: ClockMode::Manual, start: Some(start) };
    let too_early: Timestamp = "1999-12-31T00:00:00Z".parse().unwrap();
    let early = Engine::new()
        .apply(at(0), &Command::CreateWorld { seed: 7, world: world(), clock: manual(too_early) });
    assert!(matches!(early, Err(EngineError::ClockOutsideMarket { .. })), "{early:?}");

    let mut engine = Engine::new();
    engine.apply(at(0), &Command::CreateWorld { seed: 7, world: world(), clock: manual(start) }).unwrap();
    let before = engine.digest();
    let past_end = engine.apply(at(1), &Command::AdvanceClock { by: SignedDuration::from_hours(49) });
    assert!(matches!(past_end, Err(EngineError::ClockOutsideMarket { .. })), "{past_end:?}");
    let far = engine.apply(at(1), &Command::SetClock { to: Timestamp::MAX });
    assert!(matches!(far, Err(EngineError::ClockOutsideMarket { .. })), "{far:?}");
    assert_eq!(engine.digest(), before);
    engine.apply(at(2), &Command::AdvanceClock { by: SignedDuration::from_hours(48) }).unwrap();
    assert_eq!(engine.state().market_time(at(3)), "2101-01-01T00:00:00Z".parse::<Timestamp>().unwrap());
}
