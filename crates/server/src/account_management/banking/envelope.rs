//! IBKR's instruction envelopes read into the engine's instruction requests, field by field,
//! with the field that stops one named in the problem.

use std::str::FromStr;

use axum::http::HeaderMap;
use engine::banking::{BankAccount, BankMethod, Direction, Instruction, InstructionRequest, Query};
use model::{AccountId, Conid, Currency, Decimal};
use serde_json::{Map, Value};

use crate::gateway::problem::Problem;
use crate::gateway::{BodyForm, GatewayClient};
use engine::oauth::SignedRequest;

use super::Operation;

fn rejected_field(field: &str, message: impl Into<String>) -> Problem {
    Problem::field(format!("instruction.{field}"), message)
}

/// The fields of one instruction object.
struct Fields<'a>(&'a Map<String, Value>);

impl Fields<'_> {
    fn text(&self, name: &str) -> Result<&str, Problem> {
        self.optional_text(name)?.ok_or_else(|| rejected_field(name, "is required"))
    }

    fn optional_text(&self, name: &str) -> Result<Option<&str>, Problem> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(_) => Err(rejected_field(name, "is a string")),
        }
    }

    fn parsed<T: FromStr>(&self, name: &str, what: &str) -> Result<T, Problem> {
        let text = self.text(name)?;
        text.parse().map_err(|_| rejected_field(name, format!("{text} is not {what}")))
    }

    fn account(&self, name: &str) -> Result<AccountId, Problem> {
        self.parsed(name, "an account id")
    }

    fn currency(&self) -> Result<Currency, Problem> {
        self.parsed("currency", "a currency")
    }

    fn amount(&self, name: &str) -> Result<Decimal, Problem> {
        let number = self.0.get(name).ok_or_else(|| rejected_field(name, "is required"))?;
        let text = match number {
            Value::Number(number) => number.to_string(),
            Value::String(text) => text.clone(),
            _ => return Err(rejected_field(name, "is a number")),
        };
        Decimal::from_str(&text)
            .or_else(|_| Decimal::from_scientific(&text))
            .map_err(|_| rejected_field(name, format!("{text} is not an amount")))
    }

    fn whole(&self, name: &str) -> Result<u64, Problem> {
        let amount = self.amount(name)?;
        let whole = amount.trunc();
        (whole == amount && whole >= Decimal::ZERO)
            .then(|| u64::try_from(whole).ok())
            .flatten()
            .ok_or_else(|| rejected_field(name, "is a whole number of at least 0"))
    }

    fn method(&self, allowed: &[BankMethod]) -> Result<BankMethod, Problem> {
        let text = self.text("bankInstructionMethod")?;
        let method = match text {
            "ACH" | "USACH" | "CAACH" => Some(BankMethod::Ach),
            "WIRE" => Some(BankMethod::Wire),
            "SEPA" => Some(BankMethod::Sepa),
            _ => None,
        };
        method.filter(|method| allowed.contains(method)).ok_or_else(|| {
            let names: Vec<String> = allowed.iter().map(method_name).collect();
            rejected_field(
                "bankInstructionMethod",
                format!("LocalBroker takes {} here, not {text}", names.join(", ")),
            )
        })
    }

    /// The conid of `tradingInstrument`: LocalBroker's instruments have no CUSIP or ISIN.
    fn instrument(&self) -> Result<Conid, Problem> {
        let instrument = self.object("tradingInstrument")?;
        if instrument.0.get("conid").is_none() {
            return Err(rejected_field(
                "tradingInstrument",
                "LocalBroker identifies instruments by conid, not by tradingInstrumentDescription",
            ));
        }
        let conid =
            instrument.whole("conid").map_err(|_| rejected_field("tradingInstrument.conid", "is a conid"))?;
        u32::try_from(conid)
            .map(Conid::new)
            .map_err(|_| rejected_field("tradingInstrument.conid", format!("{conid} is not a conid")))
    }

    fn object(&self, name: &str) -> Result<Fields<'_>, Problem> {
        match self.0.get(name) {
            Some(Value::Object(inner)) => Ok(Fields(inner)),
            _ => Err(rejected_field(name, "is required")),
        }
    }
}

pub(super) fn method_name(method: &BankMethod) -> String {
    match method {
        BankMethod::Ach => "ACH",
        BankMethod::Wire => "WIRE",
        BankMethod::Sepa => "SEPA",
    }
    .into()
}

/// The last four characters of an account number: all LocalBroker keeps of it.
fn tail(number: Option<&str>) -> Option<String> {
    number.map(|number| {
        let chars: Vec<char> = number.chars().collect();
        chars[chars.len().saturating_sub(4)..].iter().collect()
    })
}

/// Reads one instruction of `instruction_type`.
pub(super) fn instruction(
    instruction_type: &str,
    body: &Map<String, Value>,
) -> Result<InstructionRequest, Problem> {
    let fields = Fields(body);
    let client_instruction_id = fields.whole("clientInstructionId")?;
    let instruction = match instruction_type {
        "DEPOSIT" => Instruction::Deposit {
            account: fields.account("accountId")?,
            currency: fields.currency()?,
            amount: fields.amount("amount")?,
            method: fields.method(&[BankMethod::Ach, BankMethod::Wire])?,
            bank: fields.optional_text("bankInstructionName")?.map(str::to_owned),
        },
        "WITHDRAWAL" => Instruction::Withdrawal {
            account: fields.account("accountId")?,
            currency: fields.currency()?,
            amount: fields.amount("amount")?,
            method: fields.method(&[BankMethod::Ach, BankMethod::Wire, BankMethod::Sepa])?,
            bank: fields.text("bankInstructionName")?.to_owned(),
        },
        "INTERNAL_CASH_TRANSFER" => Instruction::InternalCashTransfer {
            from: fields.account("sourceAccountId")?,
            to: fields.account("targetAccountId")?,
            currency: fields.currency()?,
            amount: fields.amount("amount")?,
        },
        "ACH_INSTRUCTION" => {
            let info = fields.object("clientAccountInfo")?;
            Instruction::AddBankInstruction {
                account: fields.account("accountId")?,
                name: fields.text("bankInstructionName")?.to_owned(),
                currency: fields.currency()?,
                method: BankMethod::Ach,
                bank: BankAccount {
                    bank_name: info.optional_text("bankName")?.map(str::to_owned),
                    routing_number: info.optional_text("bankRoutingNumber")?.map(str::to_owned),
                    account_number_tail: tail(info.optional_text("bankAccountNumber")?),
                },
                predefined: false,
            }
        }
        "PREDEFINED_DESTINATION_INSTRUCTION" => {
            let institution = fields.object("financialInstitution")?;
            Instruction::AddBankInstruction {
                account: fields.account("accountId")?,
                name: fields.text("bankInstructionName")?.to_owned(),
                currency: fields.currency()?,
                method: fields.method(&[BankMethod::Ach, BankMethod::Wire, BankMethod::Sepa])?,
                bank: BankAccount {
                    bank_name: institution.optional_text("name")?.map(str::to_owned),
                    routing_number: institution.optional_text("identifier")?.map(str::to_owned),
                    account_number_tail: tail(institution.optional_text("clientAccountId")?),
                },
                predefined: true,
            }
        }
        "DELETE_BANK_INSTRUCTION" => Instruction::DeleteBankInstruction {
            account: fields.account("accountId")?,
            name: fields.text("bankInstructionName")?.to_owned(),
            currency: fields.currency()?,
            method: fields.method(&[BankMethod::Ach, BankMethod::Wire])?,
        },
        "FOP" => Instruction::FreeOfPayment {
            account: fields.account("accountId")?,
            conid: fields.instrument()?,
            quantity: fields.amount("quantity")?,
            direction: match fields.text("direction")? {
                "IN" => Direction::In,
                "OUT" => Direction::Out,
                other => return Err(rejected_field("direction", format!("is IN or OUT, not {other}"))),
            },
            contra_broker: fields.text("contraBrokerDtcCode")?.to_owned(),
        },
        "INTERNAL_POSITION_TRANSFER" => Instruction::InternalPositionTransfer {
            from: fields.account("sourceAccountId")?,
            to: fields.account("targetAccountId")?,
            conid: fields.instrument()?,
            quantity: fields.amount("transferQuantity")?,
        },
        "CANCEL_INSTRUCTION" => Instruction::Cancel {
            instruction: fields.whole("instructionId")?,
            reason: fields.text("reason")?.to_owned(),
        },
        "QUERY_WITHDRAWABLE_FUNDS" => Instruction::Query {
            account: fields.account("accountId")?,
            query: Query::WithdrawableFunds { currency: fields.currency()? },
        },
        "QUERY_WITHDRAWABLE_CASH_EQUITY" => Instruction::Query {
            account: fields.account("accountId")?,
            query: Query::WithdrawableCashEquity { currency: fields.currency()? },
        },
        "QUERY_BANK_INSTRUCTION" => Instruction::Query {
            account: fields.account("accountId")?,
            query: Query::BankInstructions {
                method: fields.method(&[BankMethod::Ach, BankMethod::Wire, BankMethod::Sepa])?,
            },
        },
        "QUERY_RECENT_INSTRUCTIONS" => {
            let history = fields.object("transactionHistory")?;
            let days = history.whole("daysToGoBack")?;
            Instruction::Query {
                account: fields.account("accountId")?,
                query: Query::RecentInstructions {
                    days: u32::try_from(days.clamp(1, 3_650)).unwrap_or(3_650),
                },
            }
        }
        other => {
            return Err(Problem::not_implemented(format!(
                "LocalBroker does not model {other} instructions: see the README's coverage table"
            )));
        }
    };
    Ok(InstructionRequest { client_instruction_id, instruction })
}

/// The envelope's instructions: one, or the bulk form's list, each checked against the
/// single form's schema.
pub(super) fn envelope(
    operation: &Operation,
    client: &GatewayClient,
    headers: &HeaderMap,
    body: &str,
    bulk: bool,
) -> Result<(Vec<InstructionRequest>, Option<SignedRequest>), Problem> {
    let name = if bulk { format!("{}:bulk", operation.name) } else { operation.name.to_owned() };
    let (payload, signed) = client.payload(&name, headers, body, BodyForm::SignedOrJson)?;
    let instruction_type = payload["instructionType"].as_str().unwrap_or_default().to_owned();
    let items: Vec<Map<String, Value>> = if bulk {
        let list = payload["instructions"].as_array().cloned().unwrap_or_default();
        if list.is_empty() {
            return Err(Problem::field("instructions", "lists at least one instruction"));
        }
        list.into_iter()
            .enumerate()
            .map(|(index, item)| {
                let single = serde_json::json!({ "instructionType": instruction_type, "instruction": item });
                crate::gateway::schema::check(operation.name, &single)
                    .map_err(|problem| at_index(problem, index))?;
                match item {
                    Value::Object(map) => Ok(map),
                    _ => Err(Problem::field(format!("instructions[{index}]"), "is an object")),
                }
            })
            .collect::<Result<_, _>>()?
    } else {
        match payload.get("instruction") {
            Some(Value::Object(map)) => vec![map.clone()],
            _ => return Err(Problem::field("instruction", "is an object")),
        }
    };
    let instructions = items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            let read = instruction(&instruction_type, item);
            if bulk { read.map_err(|problem| at_index(problem, index)) } else { read }
        })
        .collect::<Result<_, _>>()?;
    Ok((instructions, signed))
}

/// A single instruction's problem, placed at its index in a bulk.
fn at_index(mut problem: Problem, index: usize) -> Problem {
    for argument in &mut problem.invalid_arguments {
        argument.field = argument.field.replacen("instruction", &format!("instructions[{index}]"), 1);
    }
    problem
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// The field and message that stop `body` as an instruction of `kind`.
    fn refusal(kind: &str, body: Value) -> (String, String) {
        let Value::Object(body) = body else { panic!("{body} is not an object") };
        let problem = instruction(kind, &body).unwrap_err();
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
            (
                "DEPOSIT",
                with(deposit(), "amount", json!("lots")),
                "instruction.amount",
                "lots is not an amount",
            ),
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
                    with(
                        with(deposit(), "tradingInstrument", json!({"conid": 265598})),
                        "quantity",
                        json!(1),
                    ),
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
        let Value::Object(body) = deposit() else { unreachable!() };
        let read = instruction("DEPOSIT", &body).unwrap();
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
            let Value::Object(body) = body else { unreachable!() };
            match instruction("QUERY_RECENT_INSTRUCTIONS", &body).unwrap().instruction {
                Instruction::Query { query: Query::RecentInstructions { days }, .. } => days,
                other => panic!("{other:?}"),
            }
        };
        assert_eq!((days(json!(0)), days(json!("30")), days(json!(100_000))), (1, 30, 3_650));
        let transfer = json!({"clientInstructionId": 1, "sourceAccountId": "DU1", "targetAccountId": "DU2",
                              "tradingInstrument": {"conid": 265598}, "transferQuantity": "2.5"});
        let Value::Object(transfer) = transfer else { unreachable!() };
        let Instruction::InternalPositionTransfer { conid, quantity, .. } =
            instruction("INTERNAL_POSITION_TRANSFER", &transfer).unwrap().instruction
        else {
            panic!("not a position transfer")
        };
        assert_eq!((conid, quantity), (Conid::new(265_598), Decimal::new(25, 1)));
        let ach = json!({"clientInstructionId": 1, "accountId": "DU1", "bankInstructionName": "Main",
                         "currency": "USD", "clientAccountInfo": {"bankName": "First", "bankAccountNumber": "123456789"}});
        let Value::Object(ach) = ach else { unreachable!() };
        let Instruction::AddBankInstruction { bank, method, predefined, .. } =
            instruction("ACH_INSTRUCTION", &ach).unwrap().instruction
        else {
            panic!("not a bank instruction")
        };
        assert_eq!(
            (bank.bank_name.as_deref(), bank.account_number_tail.as_deref(), method, predefined),
            (Some("First"), Some("6789"), BankMethod::Ach, false)
        );
    }
}
