use jiff::SignedDuration;
use model::{AccountId, Currency};

use super::{
    BankAccount, BankMethod, Direction, FiledInstruction, Instruction, InstructionRefusal,
    InstructionRejection, InstructionRequest, InstructionStatus, Rejection,
};
use crate::applications::tests::with_client;
use crate::funding::TransferRefusal;
use crate::testing::{AAPL, Broker, d};
use crate::{Command, EngineError, Event};

fn id(text: &str) -> AccountId {
    text.parse().unwrap()
}

fn file(broker: &mut Broker, instructions: Vec<(u64, Instruction)>) -> Result<u64, EngineError> {
    let instructions = instructions
        .into_iter()
        .map(|(client_instruction_id, instruction)| InstructionRequest { client_instruction_id, instruction })
        .collect();
    let events = broker.apply(Command::FileInstructions { client_id: "IB".into(), instructions })?;
    Ok(events
        .into_iter()
        .find_map(|event| match event {
            Event::InstructionsFiled { set } => Some(set),
            _ => None,
        })
        .unwrap())
}

fn statuses(broker: &Broker, set: u64) -> Vec<(InstructionStatus, Option<Rejection>)> {
    broker
        .engine
        .state()
        .banking()
        .set(set)
        .unwrap()
        .map(|filed| (filed.status, filed.reason.clone()))
        .collect()
}

fn bank(account: &str) -> Instruction {
    Instruction::AddBankInstruction {
        account: id(account),
        name: "Checking".into(),
        currency: Currency::USD,
        method: BankMethod::Ach,
        bank: BankAccount::default(),
        predefined: false,
    }
}

fn deposit(account: &str, amount: &str) -> Instruction {
    Instruction::Deposit {
        account: id(account),
        currency: Currency::USD,
        amount: d(amount),
        method: BankMethod::Ach,
        bank: Some("Checking".into()),
    }
}

fn withdrawal(account: &str, amount: &str) -> Instruction {
    Instruction::Withdrawal {
        account: id(account),
        currency: Currency::USD,
        amount: d(amount),
        method: BankMethod::Ach,
        bank: "Checking".into(),
    }
}

#[test]
fn a_deposit_settles_into_cash_after_the_settlement_delay() {
    let mut broker = with_client();
    let set = file(&mut broker, vec![(1, bank("DU7654321")), (2, deposit("DU7654321", "2500"))]).unwrap();
    assert_eq!(
        statuses(&broker, set),
        vec![(InstructionStatus::Processed, None), (InstructionStatus::Pending, None)]
    );
    assert_eq!(broker.cash("DU7654321"), d("100000"));
    broker.advance(SignedDuration::from_hours(23));
    assert_eq!(broker.cash("DU7654321"), d("100000"));
    broker.advance(SignedDuration::from_hours(1));
    assert_eq!(broker.cash("DU7654321"), d("102500"));
    assert_eq!(statuses(&broker, set)[1].0, InstructionStatus::Processed);
}

#[test]
fn an_ach_deposit_needs_a_saved_bank_and_rejections_say_why() {
    let mut broker = with_client();
    let set =
        file(&mut broker, vec![(1, deposit("DU7654321", "10")), (2, deposit("DU9999999", "10"))]).unwrap();
    let result = statuses(&broker, set);
    assert_eq!(result[0].0, InstructionStatus::Rejected);
    let no_bank = InstructionRejection::NoSuchBank {
        account: id("DU7654321"),
        method: BankMethod::Ach,
        currency: Currency::USD,
        name: "Checking".into(),
    };
    assert_eq!(result[0].1, Some(no_bank.into()), "{result:?}");
    assert_eq!(
        result[0].1.as_ref().unwrap().to_string(),
        r#"account DU7654321 has no Ach bank instruction in USD named "Checking""#,
        "the errorMessage the client reads"
    );
    assert_eq!(result[1].1, Some(InstructionRejection::NotManaged { account: id("DU9999999") }.into()));
}

#[test]
fn withdrawals_are_limited_to_withdrawable_cash_and_held_while_pending() {
    let mut broker = with_client();
    file(&mut broker, vec![(1, bank("DU7654321"))]).unwrap();
    let now = broker.engine.state().market_time(broker.wall);
    assert_eq!(broker.engine.withdrawable(&id("DU7654321"), Currency::USD, now), d("100000"));
    let set =
        file(&mut broker, vec![(2, withdrawal("DU7654321", "60000")), (3, withdrawal("DU7654321", "60000"))])
            .unwrap();
    let result = statuses(&broker, set);
    assert_eq!(result[0].0, InstructionStatus::Pending);
    assert_eq!(result[1].0, InstructionStatus::Rejected, "the first withdrawal holds its cash");
    let exceeds = TransferRefusal::ExceedsWithdrawable {
        amount: d("60000"),
        currency: Currency::USD,
        withdrawable: d("40000"),
    };
    assert_eq!(result[1].1, Some(InstructionRejection::Transfer(exceeds).into()));
    broker.advance(SignedDuration::from_hours(24));
    assert_eq!(broker.cash("DU7654321"), d("40000"));
    assert_eq!(statuses(&broker, set)[0].0, InstructionStatus::Processed);
}

#[test]
fn a_resubmitted_client_instruction_id_answers_the_filed_instruction() {
    let mut broker = with_client();
    file(&mut broker, vec![(1, bank("DU7654321"))]).unwrap();
    let first = file(&mut broker, vec![(7, deposit("DU7654321", "100"))]).unwrap();
    let again = file(&mut broker, vec![(7, deposit("DU7654321", "100"))]).unwrap();
    let banking = broker.engine.state().banking();
    let ids = |set| banking.set(set).unwrap().map(|filed| filed.id).collect::<Vec<_>>();
    assert_eq!(ids(first), ids(again));
    broker.advance(SignedDuration::from_hours(24));
    assert_eq!(broker.cash("DU7654321"), d("100100"), "one deposit, not two");

    let digest = broker.engine.digest();
    let other = file(&mut broker, vec![(8, deposit("DU7654321", "1")), (7, deposit("DU7654321", "5"))]);
    assert_eq!(
        other,
        Err(EngineError::InstructionRefused(InstructionRefusal::ClientInstructionIdReused {
            client_instruction_id: 7
        }))
    );
    assert_eq!(broker.engine.digest(), digest, "nothing of the set is filed");
}

#[test]
fn internal_transfers_move_cash_at_once_between_managed_accounts() {
    let mut broker = with_client();
    let transfer = Instruction::InternalCashTransfer {
        from: id("DU7654321"),
        to: id("DU1234567"),
        currency: Currency::USD,
        amount: d("1000"),
    };
    let set = file(&mut broker, vec![(1, transfer)]).unwrap();
    assert_eq!(statuses(&broker, set)[0].0, InstructionStatus::Processed);
    assert_eq!(broker.cash("DU7654321"), d("99000"));
    assert_eq!(broker.cash("DU1234567"), d("1001000"));
    assert!(broker.engine.state().ledger().is_balanced());
}

#[test]
fn a_pending_instruction_can_be_cancelled_once() {
    let mut broker = with_client();
    file(&mut broker, vec![(1, bank("DU7654321"))]).unwrap();
    let set = file(&mut broker, vec![(2, deposit("DU7654321", "100"))]).unwrap();
    let target = broker.engine.state().banking().set(set).unwrap().next().unwrap().id;
    let cancel = |n| (n, Instruction::Cancel { instruction: target, reason: "typo".into() });
    let cancelled = file(&mut broker, vec![cancel(3)]).unwrap();
    assert_eq!(statuses(&broker, cancelled)[0].0, InstructionStatus::Processed);
    assert_eq!(
        statuses(&broker, set)[0],
        (InstructionStatus::Rejected, Some(Rejection::Cancelled { reason: "typo".into() }))
    );
    let late = file(&mut broker, vec![cancel(4)]).unwrap();
    let not_pending =
        InstructionRejection::NotCancellable { instruction: target, status: InstructionStatus::Rejected };
    assert_eq!(statuses(&broker, late)[0], (InstructionStatus::Rejected, Some(not_pending.into())));
    broker.advance(SignedDuration::from_hours(24));
    assert_eq!(broker.cash("DU7654321"), d("100000"));
}

#[test]
fn a_deleted_bank_instruction_cannot_be_withdrawn_to() {
    let mut broker = with_client();
    let delete = Instruction::DeleteBankInstruction {
        account: id("DU7654321"),
        name: "Checking".into(),
        currency: Currency::USD,
        method: BankMethod::Ach,
    };
    let set = file(&mut broker, vec![(1, bank("DU7654321")), (2, delete), (3, withdrawal("DU7654321", "1"))])
        .unwrap();
    let result: Vec<_> = statuses(&broker, set).into_iter().map(|(status, _)| status).collect();
    assert_eq!(
        result,
        [InstructionStatus::Processed, InstructionStatus::Processed, InstructionStatus::Rejected]
    );
    assert_eq!(broker.engine.state().banking().banks(&id("DU7654321")).count(), 0);
}

fn buy_aapl(broker: &mut Broker, account: &str, quantity: i64) {
    let ticket = crate::testing::ticket(model::Side::Buy, quantity, model::OrderType::Market);
    broker.place(account, vec![ticket]).unwrap();
    broker.advance(SignedDuration::from_secs(5));
}

#[test]
fn an_internal_position_transfer_moves_shares_at_their_average_cost() {
    let mut broker = with_client();
    buy_aapl(&mut broker, "DU1234567", 10);
    let cost = |broker: &Broker, account: &str| {
        broker.engine.state().positions(&id(account)).find(|(conid, _)| *conid == AAPL).map(|(_, p)| p.cost)
    };
    let before = cost(&broker, "DU1234567").unwrap();
    let transfer = |quantity: &str| Instruction::InternalPositionTransfer {
        from: id("DU1234567"),
        to: id("DU7654321"),
        conid: AAPL,
        quantity: d(quantity),
    };
    let too_many = file(&mut broker, vec![(1, transfer("11"))]).unwrap();
    assert_eq!(statuses(&broker, too_many)[0].0, InstructionStatus::Rejected);
    let moved = file(&mut broker, vec![(2, transfer("4"))]).unwrap();
    assert_eq!(statuses(&broker, moved)[0].0, InstructionStatus::Processed);
    assert_eq!((broker.position("DU1234567"), broker.position("DU7654321")), (d("6"), d("4")));
    assert_eq!(cost(&broker, "DU1234567").unwrap() + cost(&broker, "DU7654321").unwrap(), before);
    assert!(broker.engine.state().ledger().is_balanced());
}

#[test]
fn shares_delivered_free_of_payment_arrive_at_settlement_and_history_knows_it() {
    let mut broker = with_client();
    let before = broker.engine.state().market_time(broker.wall);
    let delivery = |direction, quantity: &str| Instruction::FreeOfPayment {
        account: id("DU7654321"),
        conid: AAPL,
        quantity: d(quantity),
        direction,
        contra_broker: "0534".into(),
    };
    let incoming = file(&mut broker, vec![(1, delivery(Direction::In, "100"))]).unwrap();
    assert_eq!(statuses(&broker, incoming)[0].0, InstructionStatus::Pending);
    assert_eq!(broker.position("DU7654321"), d("0"));
    broker.advance(SignedDuration::from_hours(24));
    assert_eq!(broker.position("DU7654321"), d("100"));
    let state = broker.engine.state();
    assert!(state.quantities_at(&id("DU7654321"), before).is_empty(), "not held before the delivery");

    let out =
        file(&mut broker, vec![(2, delivery(Direction::Out, "60")), (3, delivery(Direction::Out, "60"))])
            .unwrap();
    let result: Vec<_> = statuses(&broker, out).into_iter().map(|(status, _)| status).collect();
    assert_eq!(
        result,
        [InstructionStatus::Pending, InstructionStatus::Rejected],
        "the first delivery holds its shares"
    );
    broker.advance(SignedDuration::from_hours(24));
    assert_eq!(broker.position("DU7654321"), d("40"));
    assert!(broker.engine.state().ledger().is_balanced());
}

#[test]
fn oversized_deliveries_and_deliveries_into_a_short_position_are_rejected() {
    let mut broker = with_client();
    let huge = Instruction::FreeOfPayment {
        account: id("DU7654321"),
        conid: AAPL,
        quantity: "10000000000000000000000000".parse().unwrap(),
        direction: Direction::In,
        contra_broker: "0534".into(),
    };
    let set = file(&mut broker, vec![(1, huge)]).unwrap();
    assert_eq!(statuses(&broker, set)[0].0, InstructionStatus::Rejected);
    broker.advance(SignedDuration::from_hours(24));

    let sell = crate::testing::ticket(model::Side::Sell, 10, model::OrderType::Market);
    broker.place("DU1234567", vec![sell]).unwrap();
    broker.advance(SignedDuration::from_secs(5));
    assert_eq!(broker.position("DU1234567"), d("-10"));
    let into_short = Instruction::FreeOfPayment {
        account: id("DU1234567"),
        conid: AAPL,
        quantity: d("10"),
        direction: Direction::In,
        contra_broker: "0534".into(),
    };
    let set = file(&mut broker, vec![(2, into_short)]).unwrap();
    let (status, reason) = statuses(&broker, set).remove(0);
    assert_eq!(status, InstructionStatus::Rejected);
    let short =
        InstructionRejection::ShortInto { account: id("DU1234567"), conid: AAPL, symbol: "AAPL".into() };
    assert_eq!(reason, Some(short.into()));
}

#[test]
fn a_bank_instruction_serves_its_own_currency_only() {
    let mut broker = with_client();
    let euros = Instruction::Withdrawal {
        account: id("DU7654321"),
        currency: Currency::EUR,
        amount: d("1"),
        method: BankMethod::Ach,
        bank: "Checking".into(),
    };
    let set = file(&mut broker, vec![(1, bank("DU7654321")), (2, euros)]).unwrap();
    let (status, reason) = statuses(&broker, set).remove(1);
    assert_eq!(status, InstructionStatus::Rejected);
    let no_euro_bank = InstructionRejection::NoSuchBank {
        account: id("DU7654321"),
        method: BankMethod::Ach,
        currency: Currency::EUR,
        name: "Checking".into(),
    };
    assert_eq!(reason, Some(no_euro_bank.into()));
}

#[test]
fn pending_work_of_a_revoked_client_or_a_closed_account_is_rejected_when_due() {
    let mut broker = with_client();
    file(&mut broker, vec![(1, bank("DU7654321"))]).unwrap();
    let set = file(&mut broker, vec![(2, deposit("DU7654321", "100"))]).unwrap();
    broker.apply(Command::RevokeClient { client_id: "IB".into() }).unwrap();
    broker.advance(SignedDuration::from_hours(24));
    let (status, reason) = statuses(&broker, set).remove(0);
    assert_eq!(status, InstructionStatus::Rejected);
    assert_eq!(reason, Some(InstructionRejection::ClientNotApproved { client_id: "IB".into() }.into()));
    assert_eq!(broker.cash("DU7654321"), d("100000"));
}

#[test]
fn a_cash_account_cannot_spend_what_a_withdrawal_holds() {
    let mut broker = with_client();
    file(&mut broker, vec![(1, bank("DU7654321")), (2, withdrawal("DU7654321", "99500"))]).unwrap();
    let buy = crate::testing::ticket(model::Side::Buy, 10, model::OrderType::Market);
    let refused = broker.place("DU7654321", vec![buy]);
    assert!(matches!(
        refused,
        Err(EngineError::OrderRejected(crate::orders::OrderRejection::InsufficientFunds { .. }))
    ));
}

/// The texts an instruction's `errorMessage` shows, written out in full.
#[test]
fn rejections_keep_their_words() {
    let account = id("DU1234567");
    let cases = [
        (
            InstructionRejection::Transfer(TransferRefusal::AmountOutOfRange { amount: d("0") }),
            "an amount must be above 0 and at most 1000000000000, not 0",
        ),
        (
            InstructionRejection::ClientNotApproved { client_id: "IB".into() },
            r#"client "IB" is not approved for Account Management"#,
        ),
        (
            InstructionRejection::NotManaged { account: account.clone() },
            "account DU1234567 is not one the client manages",
        ),
        (InstructionRejection::NotOpen { account: account.clone() }, "account DU1234567 is not open"),
        (InstructionRejection::AchWithoutBank, "an ACH deposit names a bank instruction"),
        (
            InstructionRejection::NoSuchBank {
                account: account.clone(),
                method: BankMethod::Wire,
                currency: Currency::EUR,
                name: "Main \"EU\"".into(),
            },
            r#"account DU1234567 has no Wire bank instruction in EUR named "Main \"EU\"""#,
        ),
        (
            InstructionRejection::SameAccount { account: account.clone() },
            "a transfer's source and target accounts differ",
        ),
        (
            InstructionRejection::BankNameLength { length: 0 },
            "a bank instruction's name has 1 to 100 characters",
        ),
        (
            InstructionRejection::BankExists { account: account.clone(), name: "Checking".into() },
            r#"account DU1234567 already has a bank instruction named "Checking""#,
        ),
        (
            InstructionRejection::NoSuchInstruction { instruction: 100_000_009 },
            "the client has no instruction 100000009",
        ),
        (
            InstructionRejection::NotCancellable {
                instruction: 100_000_002,
                status: InstructionStatus::Processed,
            },
            "instruction 100000002 is Processed and can no longer be cancelled",
        ),
        (InstructionRejection::UnlistedConid { conid: model::Conid::new(1) }, "conid 1 is not listed"),
        (
            InstructionRejection::NotAShare { conid: model::Conid::new(12_087_792), symbol: "EUR".into() },
            "EUR is not a share: only shares transfer",
        ),
        (
            InstructionRejection::ShareCount { quantity: d("1.5") },
            "a transfer moves a whole number of shares above 0 and at most 1000000000, not 1.5",
        ),
        (
            InstructionRejection::ShortInto { account: account.clone(), conid: AAPL, symbol: "AAPL".into() },
            "account DU1234567 is short AAPL: shares cannot be delivered into it",
        ),
        (
            InstructionRejection::NotFreeToDeliver {
                account,
                conid: AAPL,
                symbol: "AAPL".into(),
                free: d("40"),
                quantity: d("60"),
            },
            "account DU1234567 has 40 AAPL free to deliver, not 60",
        ),
        (
            InstructionRejection::ValueOverflow { conid: AAPL, quantity: d("1") },
            "the shares' value is beyond what LocalBroker counts",
        ),
    ];
    for (rejection, text) in cases {
        assert_eq!(rejection.to_string(), text);
    }
    assert_eq!(
        InstructionRefusal::ClientInstructionIdReused { client_instruction_id: 7 }.to_string(),
        "clientInstructionId 7 was already used for another instruction"
    );
}

/// A rejection is stored as the text it was before it had a type, so that snapshots and the
/// state digest stay as they were, and it reads back as the variant it was.
#[test]
fn a_rejection_is_stored_as_its_text_and_reads_back_as_what_it_was() {
    let cancelled = Rejection::Cancelled { reason: "typo".into() };
    let refused: Rejection = InstructionRejection::AchWithoutBank.into();
    assert_eq!(serde_json::to_value(&cancelled).unwrap(), serde_json::json!("cancelled: typo"));
    assert_eq!(
        serde_json::to_value(&refused).unwrap(),
        serde_json::json!("an ACH deposit names a bank instruction")
    );
    for rejection in [cancelled, refused, Rejection::Cancelled { reason: String::new() }] {
        let stored = serde_json::to_string(&rejection).unwrap();
        assert_eq!(serde_json::from_str::<Rejection>(&stored).unwrap(), rejection, "{stored}");
    }
    let filed = serde_json::json!({
        "id": 100_000_002, "set": 100_000_002, "client_id": "IB", "client_instruction_id": 2,
        "instruction": {"type": "cancel", "instruction": 100_000_001, "reason": "typo"},
        "status": "REJECTED", "submitted_at": "2026-03-02T15:00:00Z", "due_at": null,
        "decided_at": "2026-03-02T15:00:00Z", "reason": "cancelled: changed my mind"
    });
    let read: FiledInstruction = serde_json::from_value(filed.clone()).unwrap();
    assert_eq!(read.reason, Some(Rejection::Cancelled { reason: "changed my mind".into() }));
    assert_eq!(serde_json::to_value(&read).unwrap(), filed, "written back byte for byte");
}

#[test]
fn a_query_of_recent_instructions_is_answered_a_minute_later_unless_journaled_before_that() {
    let mut broker = with_client();
    let recent = |deferred| Instruction::Query {
        account: id("DU7654321"),
        query: super::Query::RecentInstructions { days: 3, deferred },
    };
    let set = file(&mut broker, vec![(1, recent(true))]).unwrap();
    assert_eq!(statuses(&broker, set), vec![(InstructionStatus::Pending, None)]);
    broker.advance(SignedDuration::from_secs(59));
    assert_eq!(statuses(&broker, set)[0].0, InstructionStatus::Pending);
    broker.advance(SignedDuration::from_secs(1));
    assert_eq!(statuses(&broker, set)[0].0, InstructionStatus::Processed);

    let old: Instruction = serde_json::from_value(serde_json::json!({
        "type": "query", "account": "DU7654321", "query": {"query": "recent_instructions", "days": 3}
    }))
    .unwrap();
    assert_eq!(old, recent(false), "a query journaled before the delay reads as answered at once");
    let set = file(&mut broker, vec![(2, old)]).unwrap();
    assert_eq!(statuses(&broker, set), vec![(InstructionStatus::Processed, None)]);
    let again = file(&mut broker, vec![(2, recent(true))]).expect("the same query, sent again");
    assert_eq!(statuses(&broker, again), vec![(InstructionStatus::Processed, None)], "the one filed before");
    let written = serde_json::to_value(recent(false)).unwrap();
    assert_eq!(
        written["query"],
        serde_json::json!({"query": "recent_instructions", "days": 3}),
        "its old shape"
    );
}
