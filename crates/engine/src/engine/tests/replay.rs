//! Replay and snapshots: random commands, valid or not, replay to the same digest, a refused
//! one changes nothing, and a snapshot restores the exact state; a snapshot of another format
//! is refused.

use model::{AccountKind, Currency, MarginKind};
use proptest::prelude::*;
use rust_decimal::Decimal;

use super::{at, created, login};
use crate::{Command, Engine, SNAPSHOT_FORMAT, SnapshotError};

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
    use crate::applications::{AccountChange, ApplicationSpec, Holder, Particulars};
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
                    particulars: Particulars::default(),
                }],
                username: name.parse().unwrap(),
                margin: MarginKind::Cash,
                base_currency: Currency::USD,
                master_account: None,
                paper: false,
                alias: None,
                email: None,
                finances: None,
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
fn an_account_opened_without_cash_restores_from_its_snapshot_to_the_same_digest() {
    let world = crate::fixtures::world(
        vec![crate::fixtures::user("demo", &["DU1234567"])],
        vec![crate::fixtures::account("DU1234567", MarginKind::Cash, Decimal::ZERO)],
    );
    let mut engine = Engine::new();
    engine.apply(at(0), &Command::CreateWorld { seed: 7, world, clock: Default::default() }).unwrap();
    let restored = Engine::from_snapshot(&engine.snapshot().unwrap()).unwrap();
    assert_eq!(restored.digest(), engine.digest());
}
