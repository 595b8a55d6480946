use serde_json::json;

use model::{Conid, Decimal};

use super::*;

/// The field and message that stop `body` as an instruction of `kind`.
fn refusal(kind: &str, body: Value) -> (String, String) {
    let problem = instruction(kind, body).unwrap_err();
    let argument = &problem.invalid_arguments[0];
    (argument.field.clone(), argument.message.clone())
}

fn deposit() -> Value {
    json!({"clientInstructionId": 7, "accountId": "DU1", "currency": "USD", "amount": 100,
           "bankInstructionMethod": "WIRE"})
}

fn with(mut body: Value, field: &str, value: Value) -> Value {
    body[field] = value;
    body
}

fn without(mut body: Value, field: &str) -> Value {
    body.as_object_mut().unwrap().remove(field);
    body
}

#[test]
fn each_field_that_stops_an_instruction_is_named_with_what_is_wrong() {
    let cases = [
        (
            "DEPOSIT",
            without(deposit(), "clientInstructionId"),
            "instruction.clientInstructionId",
            "is required",
        ),
        (
            "DEPOSIT",
            with(deposit(), "clientInstructionId", json!(1.5)),
            "instruction.clientInstructionId",
            "is a whole number of at least 0",
        ),
        (
            "DEPOSIT",
            with(deposit(), "clientInstructionId", json!(-1)),
            "instruction.clientInstructionId",
            "is a whole number of at least 0",
        ),
        ("DEPOSIT", without(deposit(), "accountId"), "instruction.accountId", "is required"),
        ("DEPOSIT", with(deposit(), "accountId", json!(5)), "instruction.accountId", "is a string"),
        (
            "DEPOSIT",
            with(deposit(), "accountId", json!("du 1")),
            "instruction.accountId",
            "du 1 is not an account id",
        ),
        (
            "DEPOSIT",
            with(deposit(), "currency", json!("DOLLARS")),
            "instruction.currency",
            "DOLLARS is not a currency",
        ),
        ("DEPOSIT", with(deposit(), "amount", json!(true)), "instruction.amount", "is a number"),
        ("DEPOSIT", with(deposit(), "amount", json!("lots")), "instruction.amount", "lots is not an amount"),
        ("DEPOSIT", without(deposit(), "amount"), "instruction.amount", "is required"),
        (
            "DEPOSIT",
            with(deposit(), "bankInstructionMethod", json!("SEPA")),
            "instruction.bankInstructionMethod",
            "LocalBroker takes ACH, WIRE here, not SEPA",
        ),
        (
            "DEPOSIT",
            with(deposit(), "bankInstructionName", json!(3)),
            "instruction.bankInstructionName",
            "is a string",
        ),
        (
            "DEPOSIT",
            with(with(deposit(), "accountId", json!("du 1")), "clientInstructionId", json!(-1)),
            "instruction.clientInstructionId",
            "is a whole number of at least 0",
        ),
        (
            "DEPOSIT",
            with(with(deposit(), "amount", json!("x")), "accountId", json!("du 1")),
            "instruction.accountId",
            "du 1 is not an account id",
        ),
        ("WITHDRAWAL", deposit(), "instruction.bankInstructionName", "is required"),
        ("INTERNAL_CASH_TRANSFER", deposit(), "instruction.sourceAccountId", "is required"),
        (
            "ACH_INSTRUCTION",
            with(deposit(), "bankInstructionName", json!("Main")),
            "instruction.clientAccountInfo",
            "is required",
        ),
        (
            "ACH_INSTRUCTION",
            with(
                with(deposit(), "bankInstructionName", json!("Main")),
                "clientAccountInfo",
                json!({"bankName": 1}),
            ),
            "instruction.bankName",
            "is a string",
        ),
        (
            "PREDEFINED_DESTINATION_INSTRUCTION",
            with(deposit(), "financialInstitution", json!("bank")),
            "instruction.financialInstitution",
            "is required",
        ),
        ("DELETE_BANK_INSTRUCTION", deposit(), "instruction.bankInstructionName", "is required"),
        ("FOP", deposit(), "instruction.tradingInstrument", "is required"),
        (
            "FOP",
            with(deposit(), "tradingInstrument", json!({"tradingInstrumentDescription": {}})),
            "instruction.tradingInstrument",
            "LocalBroker identifies instruments by conid, not by tradingInstrumentDescription",
        ),
        (
            "FOP",
            with(deposit(), "tradingInstrument", json!({"conid": "AAPL"})),
            "instruction.tradingInstrument.conid",
            "is a conid",
        ),
        (
            "FOP",
            with(deposit(), "tradingInstrument", json!({"conid": 5_000_000_000_u64})),
            "instruction.tradingInstrument.conid",
            "5000000000 is not a conid",
        ),
        (
            "FOP",
            with(with(deposit(), "tradingInstrument", json!({"conid": 265598})), "quantity", json!(1)),
            "instruction.direction",
            "is required",
        ),
        (
            "FOP",
            with(
                with(with(deposit(), "tradingInstrument", json!({"conid": 265598})), "quantity", json!(1)),
                "direction",
                json!("UP"),
            ),
            "instruction.direction",
            "is IN or OUT, not UP",
        ),
        (
            "INTERNAL_POSITION_TRANSFER",
            with(with(deposit(), "sourceAccountId", json!("DU1")), "targetAccountId", json!("DU2")),
            "instruction.tradingInstrument",
            "is required",
        ),
        ("CANCEL_INSTRUCTION", deposit(), "instruction.instructionId", "is required"),
        (
            "QUERY_WITHDRAWABLE_FUNDS",
            with(deposit(), "currency", json!(null)),
            "instruction.currency",
            "is required",
        ),
        (
            "QUERY_BANK_INSTRUCTION",
            with(deposit(), "bankInstructionMethod", json!("CHEQUE")),
            "instruction.bankInstructionMethod",
            "LocalBroker takes ACH, WIRE, SEPA here, not CHEQUE",
        ),
        ("QUERY_RECENT_INSTRUCTIONS", deposit(), "instruction.transactionHistory", "is required"),
        (
            "QUERY_RECENT_INSTRUCTIONS",
            with(deposit(), "transactionHistory", json!({"daysToGoBack": "many"})),
            "instruction.daysToGoBack",
            "many is not an amount",
        ),
    ];
    for (kind, body, field, message) in cases {
        let shown = body.to_string();
        assert_eq!(refusal(kind, body), (field.to_owned(), message.to_owned()), "{kind} {shown}");
    }
}

#[test]
fn instructions_read_with_what_they_name() {
    let read = instruction("DEPOSIT", deposit()).unwrap();
    assert_eq!(read.client_instruction_id, 7);
    let Instruction::Deposit { account, currency, amount, method, bank } = read.instruction else {
        panic!("{read:?}")
    };
    assert_eq!(
        (account.as_str(), currency, amount, method, bank),
        ("DU1", Currency::USD, Decimal::new(100, 0), BankMethod::Wire, None)
    );
    let days = |days: Value| {
        let body = with(deposit(), "transactionHistory", json!({"daysToGoBack": days}));
        match instruction("QUERY_RECENT_INSTRUCTIONS", body).unwrap().instruction {
            Instruction::Query { query: Query::RecentInstructions { days, .. }, .. } => days,
            other => panic!("{other:?}"),
        }
    };
    assert_eq!((days(json!(0)), days(json!("30")), days(json!(100_000))), (1, 30, 3_650));
    let transfer = json!({"clientInstructionId": 1, "sourceAccountId": "DU1", "targetAccountId": "DU2",
                          "tradingInstrument": {"conid": 265598}, "transferQuantity": "2.5"});
    let Instruction::InternalPositionTransfer { conid, quantity, .. } =
        instruction("INTERNAL_POSITION_TRANSFER", transfer).unwrap().instruction
    else {
        panic!("not a position transfer")
    };
    assert_eq!((conid, quantity), (Conid::new(265_598), Decimal::new(25, 1)));
    let ach = json!({"clientInstructionId": 1, "accountId": "DU1", "bankInstructionName": "Main",
                     "currency": "USD", "clientAccountInfo": {"bankName": "First", "bankAccountNumber": "123456789"}});
    let Instruction::AddBankInstruction { bank, method, predefined, .. } =
        instruction("ACH_INSTRUCTION", ach).unwrap().instruction
    else {
        panic!("not a bank instruction")
    };
    assert_eq!(
        (bank.bank_name.as_deref(), bank.account_number_tail.as_deref(), method, predefined),
        (Some("First"), Some("6789"), BankMethod::Ach, false)
    );
}
