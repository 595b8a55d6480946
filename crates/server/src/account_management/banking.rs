//! Banking, as IBKR's asynchronous instructions (`{instructionType, instruction}` envelopes, or
//! `{instructionType, instructions: [...]}` for the `:bulk` forms): deposits and withdrawals,
//! internal cash transfers, saved bank accounts, cancels, the queries, and polling.
//!
//! Every instruction is filed in a set and answered with its ids and status: `PENDING` until a
//! deposit or withdrawal settles on the simulated clock, `PROCESSED`, or `REJECTED` with the
//! reason (422 for a single instruction, 207 for a bulk that has any). Bodies are taken signed
//! (`application/jwt`) or as plain JSON, as IBKR's spec declares JSON for these `SIGNED_JWT`
//! operations.

use std::str::FromStr;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use engine::Command;
use engine::Engine;
use engine::Event;
use engine::banking::{
    BankAccount, BankMethod, Direction, FiledInstruction, Instruction, InstructionRequest, InstructionStatus,
    Query, Rejection,
};
use jiff::Timestamp;
use model::{AccountId, Conid, Currency, Decimal};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::extract::PathParams;
use crate::gateway::problem::Problem;
use crate::gateway::{BodyForm, GatewayClient, TextBody, sealed};
use crate::state::AppState;
use crate::trading::numbers::float;
use engine::oauth::SignedRequest;

/// An instruction's outcome (IBKR's `InstructionResult`, with a query's answer beside).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InstructionResult {
    client_instruction_id: u64,
    instruction_type: String,
    /// `PENDING`, `PROCESSED` or `REJECTED`.
    #[schema(value_type = String)]
    instruction_status: InstructionStatus,
    instruction_id: u64,
    /// When a pending instruction settles, or how it ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    /// Why it was rejected.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<InstructionError>,
    /// A query's answer: its fields, as IBKR's query results name them.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    answer: Map<String, Value>,
}

/// Why an instruction was rejected.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InstructionError {
    /// `REJECTED` for a refusal, `CANCELLED` for a cancel.
    error_code: String,
    error_message: String,
}

/// One instruction's answer (IBKR's `AsynchronousInstructionResponse`, or the `Business Error`
/// problem of a rejected one).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InstructionResponse {
    /// `/simple` for a rejected instruction.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    kind: Option<String>,
    /// `Business Error` for a rejected instruction.
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<String>,
    /// 202 filed, 201 a processed query, 200 a poll, 422 rejected.
    status: u16,
    instruction_set_id: u64,
    instruction_result: InstructionResult,
}

/// A set's answer (IBKR's `AsynchronousInstructionSetResponse` and `BulkMultiStatusResponse`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InstructionSetResponse {
    /// 202 all filed, 207 some rejected, 200 a poll.
    status: u16,
    instruction_set_id: u64,
    instruction_results: Vec<InstructionResponse>,
}

/// What the client may send to an operation.
struct Operation {
    /// `POST /gw/api/v1/…`, naming its schema.
    name: &'static str,
    /// IBKR's allowed scopes.
    scopes: &'static [&'static str],
    /// A query: answered 201 with its result.
    query: bool,
}

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

fn method_name(method: &BankMethod) -> String {
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
fn instruction(instruction_type: &str, body: &Map<String, Value>) -> Result<InstructionRequest, Problem> {
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
fn envelope(
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

/// Files what the body instructs and answers it.
async fn file(
    app: &AppState,
    headers: &HeaderMap,
    body: &str,
    operation: &Operation,
    bulk: bool,
) -> Result<Response, Problem> {
    let client = GatewayClient::authorize(app, headers, operation.scopes).await?;
    let (instructions, signed) = envelope(operation, &client, headers, body, bulk)?;
    let command = Command::FileInstructions { client_id: client.client_id.clone(), instructions };
    let events = app.broker.execute(sealed(signed, command)).await?;
    let set = events
        .iter()
        .find_map(|event| match event {
            Event::InstructionsFiled { set } => Some(*set),
            _ => None,
        })
        .ok_or_else(Problem::unavailable)?;
    let query = operation.query;
    let answers = app
        .broker
        .read(move |engine| {
            let now = engine.state().market_time(Timestamp::now());
            let filed = engine.state().banking().set(set)?;
            Some(
                filed
                    .map(|filed| response(engine, filed, set, now, Answer::Filed { query }))
                    .collect::<Vec<_>>(),
            )
        })
        .await
        .map_err(|_| Problem::unavailable())?
        .ok_or_else(Problem::unavailable)?;
    if bulk {
        let any_rejected = answers.iter().any(|answer| answer.status == 422);
        let status = if any_rejected { StatusCode::MULTI_STATUS } else { StatusCode::ACCEPTED };
        let set = InstructionSetResponse {
            status: status.as_u16(),
            instruction_set_id: set,
            instruction_results: answers,
        };
        return Ok((status, Json(set)).into_response());
    }
    let answer = answers.into_iter().next().ok_or_else(Problem::unavailable)?;
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::ACCEPTED);
    Ok((status, Json(answer)).into_response())
}

/// Why an instruction is answered.
#[derive(Debug, Clone, Copy)]
enum Answer {
    /// It was just filed; a query is answered 201.
    Filed { query: bool },
    /// The client polls it.
    Polled,
}

/// `filed`'s answer, as part of instruction set `set` (a resubmitted instruction is part of
/// the set it came in again, as well as of the one that first filed it).
fn response(
    engine: &Engine,
    filed: &FiledInstruction,
    set: u64,
    now: Timestamp,
    answer: Answer,
) -> InstructionResponse {
    let rejected = filed.status == InstructionStatus::Rejected;
    let status = match answer {
        Answer::Filed { .. } if rejected => 422,
        Answer::Filed { query: true } => 201,
        Answer::Filed { query: false } => 202,
        Answer::Polled => 200,
    };
    let business = matches!(answer, Answer::Filed { .. }) && rejected;
    InstructionResponse {
        kind: business.then(|| "/simple".to_owned()),
        title: business.then(|| "Business Error".to_owned()),
        status,
        instruction_set_id: set,
        instruction_result: result(engine, filed, now),
    }
}

fn result(engine: &Engine, filed: &FiledInstruction, now: Timestamp) -> InstructionResult {
    let description = match filed.status {
        InstructionStatus::Pending => filed.due_at.map(|due| format!("settles at {due}")),
        _ => None,
    };
    let error = filed.reason.as_ref().map(|reason| InstructionError {
        error_code: match reason {
            Rejection::Cancelled { .. } => "CANCELLED",
            Rejection::Refused(_) => "REJECTED",
        }
        .into(),
        error_message: reason.to_string(),
    });
    let answer = match (&filed.instruction, filed.status) {
        (Instruction::Query { account, query }, InstructionStatus::Processed) => {
            query_answer(engine, filed, account, query, now)
        }
        _ => Map::new(),
    };
    InstructionResult {
        client_instruction_id: filed.client_instruction_id,
        instruction_type: filed.instruction.instruction_type().into(),
        instruction_status: filed.status,
        instruction_id: filed.id,
        description,
        error,
        answer,
    }
}

/// A query's answer, read now.
fn query_answer(
    engine: &Engine,
    filed: &FiledInstruction,
    account: &AccountId,
    query: &Query,
    now: Timestamp,
) -> Map<String, Value> {
    let state = engine.state();
    let mut answer = Map::new();
    answer.insert("accountId".into(), account.to_string().into());
    match query {
        Query::WithdrawableFunds { currency } => {
            let amount = float(engine.withdrawable(account, *currency, now));
            answer.insert("currency".into(), currency.to_string().into());
            for field in [
                "withdrawableAmount",
                "withdrawableAmountNoBorrow",
                "allowedTransferAmountToMaster",
                "allowedTransferAmountToMasterNoBorrow",
            ] {
                answer.insert(field.into(), amount.into());
            }
        }
        Query::WithdrawableCashEquity { currency } => {
            let cash = float(engine.withdrawable(account, *currency, now));
            let equity = float(engine.available_equity(account, *currency, now));
            answer.insert("currency".into(), currency.to_string().into());
            answer.insert("withdrawableCashAmount".into(), cash.into());
            answer.insert("availableEquityValue".into(), equity.into());
        }
        Query::BankInstructions { method } => {
            let details: Vec<Value> = state
                .banking()
                .banks(account)
                .filter(|bank| bank.method == *method)
                .map(|bank| {
                    serde_json::json!({
                        "instructionName": bank.name,
                        "type": if bank.predefined { "PREDEFINED_DESTINATION" } else { "ACH" },
                        "currency": bank.currency.to_string(),
                        "instructionStatus": "PROCESSED",
                        "bankRoutingNumber": bank.bank.routing_number.clone().unwrap_or_default(),
                        "bankAccountNumber": bank.bank.account_number_tail.as_ref().map(|tail| format!("*****{tail}")).unwrap_or_default(),
                    })
                })
                .collect();
            answer.insert("bankInstructionMethod".into(), method_name(method).into());
            answer.insert("bankInstructionDetails".into(), details.into());
        }
        Query::RecentInstructions { days } => {
            let since = now - jiff::SignedDuration::from_hours(24 * i64::from(*days));
            let result: Vec<Value> = state
                .banking()
                .instructions
                .values()
                .filter(|other| other.id != filed.id && other.client_id == filed.client_id)
                .filter(|other| {
                    other.submitted_at >= since && other.instruction.accounts().contains(&account)
                })
                .map(|other| {
                    serde_json::json!({
                        "clientInstructionId": other.client_instruction_id,
                        "ibInstructionId": other.id,
                        "instructionSetId": other.set,
                        "instructionType": other.instruction.instruction_type(),
                        "requestDate": other.submitted_at.to_string(),
                        "status": other.status,
                    })
                })
                .collect();
            answer.insert(
                "instructionHistory".into(),
                serde_json::json!({
                    "historyMaxDepthNumberOfDays": days,
                    "historyMaxDepthNumberOfInstruction": result.len(),
                    "result": result,
                }),
            );
        }
    }
    answer
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::schema::tests::ibkr_examples;

    /// The instruction types LocalBroker answers 501.
    const UNMODELLED: [&str; 8] = [
        "DWAC",
        "COMPLEX_ASSET_TRANSFER",
        "EXTERNAL_POSITION_TRANSFER",
        "QUERY_IRA_CONTRIBUTIONS",
        "TRADITIONAL_BANK_INSTRUCTION_VERIFICATION",
        "EDDA_INSTRUCTION",
        "QUERY_RECENT_RECURRING_EVENTS",
        "QUERY_RECURRING_INSTRUCTIONS",
    ];

    #[test]
    fn every_example_of_ibkr_reads_as_an_instruction_or_is_named_unmodelled() {
        for (operation, name, body) in ibkr_examples() {
            let kind = body["instructionType"].as_str().unwrap();
            let items = match (&body["instruction"], &body["instructions"]) {
                (Value::Object(one), _) => vec![one.clone()],
                (_, Value::Array(many)) => many.iter().filter_map(|item| item.as_object().cloned()).collect(),
                _ => panic!("{operation} {name}: no instruction"),
            };
            for item in items {
                let read = instruction(kind, &item);
                let by_description = item
                    .get("tradingInstrument")
                    .is_some_and(|instrument| instrument.get("tradingInstrumentDescription").is_some());
                if UNMODELLED.contains(&kind) {
                    assert_eq!(read.unwrap_err().status, 501, "{operation} {name}");
                } else if by_description {
                    let problem = read.unwrap_err();
                    assert_eq!(
                        problem.invalid_arguments[0].field, "instruction.tradingInstrument",
                        "{operation} {name}"
                    );
                } else {
                    read.unwrap_or_else(|problem| panic!("{operation} {name}: {problem:?}"));
                }
            }
        }
    }
}

macro_rules! instruction_route {
    ($name:ident, $bulk:expr, $path:literal, $id:literal, $summary:literal, $operation:expr, $status:literal) => {
        #[doc = $summary]
        #[utoipa::path(
            post,
            path = $path,
            operation_id = $id,
            tag = "Account Management Banking",
            request_body(content = Object, description = "IBKR's instruction envelope, as JSON or as the claims of a JWT signed by the client (application/jwt)"),
            responses(
                (status = $status, description = "Filed: the set's id and each instruction's status", body = Object),
                (status = 400, description = "The body does not follow IBKR's schema", body = Problem, content_type = "application/problem+json"),
                (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
                (status = 403, description = "The token lacks the operation's scope", body = Problem, content_type = "application/problem+json"),
                (status = 422, description = "Rejected: the reason, with the instruction's ids; or a clientInstructionId already used for another instruction", body = Problem, content_type = "application/problem+json"),
                (status = 501, description = "An instruction type LocalBroker does not model", body = Problem, content_type = "application/problem+json"),
            )
        )]
        pub async fn $name(
            State(app): State<AppState>,
            headers: HeaderMap,
            TextBody(body): TextBody,
        ) -> Result<Response, Problem> {
            file(&app, &headers, &body, &$operation, $bulk).await
        }
    };
}

const EXTERNAL_CASH: Operation =
    Operation { name: "POST /gw/api/v1/external-cash-transfers", scopes: &["transfers.write"], query: false };
const EXTERNAL_CASH_QUERY: Operation = Operation {
    name: "POST /gw/api/v1/external-cash-transfers/query",
    scopes: &["transfers.read"],
    query: true,
};
const EXTERNAL_ASSETS: Operation = Operation {
    name: "POST /gw/api/v1/external-asset-transfers",
    scopes: &["transfers.write"],
    query: false,
};
const INTERNAL_ASSETS: Operation = Operation {
    name: "POST /gw/api/v1/internal-asset-transfers",
    scopes: &["transfers.write"],
    query: false,
};
const INTERNAL_CASH: Operation =
    Operation { name: "POST /gw/api/v1/internal-cash-transfers", scopes: &["transfers.write"], query: false };
const BANK_INSTRUCTIONS: Operation = Operation {
    name: "POST /gw/api/v1/bank-instructions",
    scopes: &["bank-instructions.write"],
    query: false,
};
const BANK_INSTRUCTIONS_QUERY: Operation = Operation {
    name: "POST /gw/api/v1/bank-instructions/query",
    scopes: &["bank-instructions.read"],
    query: true,
};
const CANCEL: Operation =
    Operation { name: "POST /gw/api/v1/instructions/cancel", scopes: &["instructions.write"], query: false };
const INSTRUCTIONS_QUERY: Operation =
    Operation { name: "POST /gw/api/v1/instructions/query", scopes: &["instructions.read"], query: true };
const BALANCES_QUERY: Operation =
    Operation { name: "POST /gw/api/v1/balances/query", scopes: &["balances.read"], query: true };

instruction_route!(
    external_cash_transfer,
    false,
    "/gw/api/v1/external-cash-transfers",
    "transferCash",
    "A deposit (`DEPOSIT`, ACH from a saved bank instruction or WIRE) or a withdrawal (`WITHDRAWAL`, to a saved bank instruction, within withdrawable cash); pending until it settles after the world's settlement delay.",
    EXTERNAL_CASH,
    202
);
instruction_route!(
    external_cash_transfers,
    true,
    "/gw/api/v1/external-cash-transfers:bulk",
    "transferCashBulk",
    "Deposits and withdrawals in bulk, filed in order as one set.",
    EXTERNAL_CASH,
    202
);
instruction_route!(
    external_cash_query,
    false,
    "/gw/api/v1/external-cash-transfers/query",
    "queryWithdrawableFunds",
    "What can be withdrawn from an account (`QUERY_WITHDRAWABLE_FUNDS`).",
    EXTERNAL_CASH_QUERY,
    201
);
instruction_route!(
    internal_cash_transfer,
    false,
    "/gw/api/v1/internal-cash-transfers",
    "transferCashInternally",
    "Moves cash between two open accounts the client manages (`INTERNAL_CASH_TRANSFER`), at once.",
    INTERNAL_CASH,
    202
);
instruction_route!(
    internal_cash_transfers,
    true,
    "/gw/api/v1/internal-cash-transfers:bulk",
    "transferCashInternallyBulk",
    "Internal cash transfers in bulk.",
    INTERNAL_CASH,
    202
);
instruction_route!(
    external_asset_transfer,
    false,
    "/gw/api/v1/external-asset-transfers",
    "transferPositionsExternally",
    "Shares delivered free of payment from another broker or to it (`FOP`, by conid); pending until it settles after the world's settlement delay. Shares come in at their value then, and leave at the position's average cost.",
    EXTERNAL_ASSETS,
    202
);
instruction_route!(
    external_asset_transfers,
    true,
    "/gw/api/v1/external-asset-transfers:bulk",
    "transferPositionsExternallyBulk",
    "External position transfers in bulk.",
    EXTERNAL_ASSETS,
    202
);
instruction_route!(
    internal_asset_transfer,
    false,
    "/gw/api/v1/internal-asset-transfers",
    "transferPositionsInternally",
    "Moves shares between two open accounts the client manages (`INTERNAL_POSITION_TRANSFER`, by conid), at once, at the source's average cost.",
    INTERNAL_ASSETS,
    202
);
instruction_route!(
    internal_asset_transfers,
    true,
    "/gw/api/v1/internal-asset-transfers:bulk",
    "transferPositionsInternallyBulk",
    "Internal position transfers in bulk.",
    INTERNAL_ASSETS,
    202
);
instruction_route!(
    bank_instruction,
    false,
    "/gw/api/v1/bank-instructions",
    "manageBankInstructions",
    "Saves (`ACH_INSTRUCTION`, `PREDEFINED_DESTINATION_INSTRUCTION`) or deletes (`DELETE_BANK_INSTRUCTION`) a bank account of an account, at once.",
    BANK_INSTRUCTIONS,
    202
);
instruction_route!(
    bank_instructions,
    true,
    "/gw/api/v1/bank-instructions:bulk",
    "manageBankInstructionsBulk",
    "Bank instructions in bulk.",
    BANK_INSTRUCTIONS,
    202
);
instruction_route!(
    bank_instructions_query,
    false,
    "/gw/api/v1/bank-instructions/query",
    "queryBankInstructions",
    "An account's saved bank accounts of one method (`QUERY_BANK_INSTRUCTION`).",
    BANK_INSTRUCTIONS_QUERY,
    201
);
instruction_route!(
    cancel_instruction,
    false,
    "/gw/api/v1/instructions/cancel",
    "cancelInstruction",
    "Cancels a pending instruction of the client (`CANCEL_INSTRUCTION`).",
    CANCEL,
    202
);
instruction_route!(
    cancel_instructions,
    true,
    "/gw/api/v1/instructions/cancel:bulk",
    "cancelInstructionsBulk",
    "Cancels in bulk.",
    CANCEL,
    202
);
instruction_route!(
    instructions_query,
    false,
    "/gw/api/v1/instructions/query",
    "queryRecentInstructions",
    "The client's instructions for an account over the last days (`QUERY_RECENT_INSTRUCTIONS`).",
    INSTRUCTIONS_QUERY,
    201
);
instruction_route!(
    balances_query,
    false,
    "/gw/api/v1/balances/query",
    "queryWithdrawableCashEquity",
    "Withdrawable cash and available equity of an account (`QUERY_WITHDRAWABLE_CASH_EQUITY`).",
    BALANCES_QUERY,
    201
);

/// Reads what `find` picks of the client's instructions, answered as polled.
async fn poll<R, F>(app: &AppState, client: GatewayClient, what: String, find: F) -> Result<Json<R>, Problem>
where
    R: Send + 'static,
    F: FnOnce(&Engine, &str, Timestamp) -> Option<R> + Send + 'static,
{
    let client_id = client.client_id;
    app.broker
        .read(move |engine| find(engine, &client_id, engine.state().market_time(Timestamp::now())))
        .await
        .map_err(|_| Problem::unavailable())?
        .map(Json)
        .ok_or_else(|| Problem::not_found(format!("the client has no {what}")))
}

fn polled(engine: &Engine, filed: &FiledInstruction, set: u64, now: Timestamp) -> InstructionResponse {
    response(engine, filed, set, now, Answer::Polled)
}

/// One of the client's instructions, by IBKR's id.
#[utoipa::path(
    get,
    path = "/gw/api/v1/instructions/{instructionId}",
    operation_id = "getInstruction",
    tag = "Account Management Banking",
    params(("instructionId" = u64, Path, description = "IBKR's instruction id")),
    responses(
        (status = 200, description = "The instruction's status", body = InstructionResponse),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks instructions.read", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The client has no such instruction", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn instruction_status(
    State(app): State<AppState>,
    headers: HeaderMap,
    PathParams(raw): PathParams<String>,
) -> Result<Json<InstructionResponse>, Problem> {
    let client = GatewayClient::authorize(&app, &headers, &["instructions.read"]).await?;
    let id = raw.parse::<u64>().ok();
    poll(&app, client, format!("instruction {raw}"), move |engine, client_id, now| {
        let filed = engine.state().banking().instructions.get(&id?)?;
        (filed.client_id == client_id).then(|| polled(engine, filed, filed.set, now))
    })
    .await
}

/// One of the client's instructions, by the client's own id.
#[utoipa::path(
    get,
    path = "/gw/api/v1/client-instructions/{clientInstructionId}",
    operation_id = "getClientInstruction",
    tag = "Account Management Banking",
    params(("clientInstructionId" = u64, Path, description = "The client's own instruction id")),
    responses(
        (status = 200, description = "The instruction's status", body = InstructionResponse),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks instructions.read", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The client has no such instruction", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn client_instruction_status(
    State(app): State<AppState>,
    headers: HeaderMap,
    PathParams(raw): PathParams<String>,
) -> Result<Json<InstructionResponse>, Problem> {
    let client = GatewayClient::authorize(&app, &headers, &["instructions.read"]).await?;
    let id = raw.parse::<u64>().ok();
    poll(&app, client, format!("client instruction {raw}"), move |engine, client_id, now| {
        let filed = engine.state().banking().by_client_id(client_id, id?)?;
        Some(polled(engine, filed, filed.set, now))
    })
    .await
}

/// One of the client's instruction sets.
#[utoipa::path(
    get,
    path = "/gw/api/v1/instruction-sets/{instructionSetId}",
    operation_id = "getInstructionSet",
    tag = "Account Management Banking",
    params(("instructionSetId" = u64, Path, description = "IBKR's instruction set id")),
    responses(
        (status = 200, description = "Each instruction's status", body = InstructionSetResponse),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks instructions.read", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The client has no such set", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn instruction_set_status(
    State(app): State<AppState>,
    headers: HeaderMap,
    PathParams(raw): PathParams<String>,
) -> Result<Json<InstructionSetResponse>, Problem> {
    let client = GatewayClient::authorize(&app, &headers, &["instructions.read"]).await?;
    let id = raw.parse::<u64>().ok();
    poll(&app, client, format!("instruction set {raw}"), move |engine, client_id, now| {
        let set = id?;
        let filed: Vec<&FiledInstruction> = engine.state().banking().set(set)?.collect();
        if filed.iter().any(|filed| filed.client_id != client_id) {
            return None;
        }
        let instruction_results = filed.into_iter().map(|filed| polled(engine, filed, set, now)).collect();
        Some(InstructionSetResponse { status: 200, instruction_set_id: set, instruction_results })
    })
    .await
}
