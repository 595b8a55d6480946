//! Banking, as IBKR's asynchronous instructions (`{instructionType, instruction}` envelopes, or
//! `{instructionType, instructions: [...]}` for the `:bulk` forms): deposits and withdrawals,
//! internal cash transfers, saved bank accounts, cancels, the queries, and polling.
//!
//! Every instruction is filed in a set and answered with its ids and status: `PENDING` until a
//! deposit or withdrawal settles on the simulated clock, `PROCESSED`, or `REJECTED` with the
//! reason (422 for a single instruction, 207 for a bulk that has any). Bodies are taken signed
//! (`application/jwt`) or as plain JSON, as IBKR's spec declares JSON for these `SIGNED_JWT`
//! operations.

mod envelope;
mod fields;
pub mod filing;
mod instructions;
mod queries;
pub mod status;

use axum::Json;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use engine::Command;
use engine::Engine;
use engine::Reply;
use engine::banking::{FiledInstruction, Instruction, InstructionStatus, Rejection};
use jiff::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;

use self::envelope::envelope;
use self::queries::QueryAnswer;
use crate::gateway::problem::Problem;
use crate::gateway::{GatewayClient, sealed};
use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

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
    /// IBKR's reference of a processed instruction; 0 until it is processed, as in IBKR's
    /// examples.
    ib_reference_id: u64,
    /// `PENDING` for a query still being answered, as IBKR marks one.
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<String>,
    /// When a pending instruction settles, or when it was processed.
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    /// Why it was rejected.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<InstructionError>,
    /// A query's answer: its fields, as IBKR's query results name them.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    answer: Option<QueryAnswer>,
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
    /// 202 filed, 201 for the operations IBKR answers so (queries, a cancel), 200 a poll, 422
    /// rejected.
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
    /// Answered 201 (IBKR's `Created`: a query with its result, a cancel) rather than 202.
    created: bool,
}

/// Files what the body instructs and answers it.
async fn file(
    app: &AppState,
    client: GatewayClient,
    headers: &HeaderMap,
    body: &str,
    operation: &Operation,
    bulk: bool,
) -> Result<Response, Problem> {
    let (instructions, signed) = envelope(operation, &client, headers, body, bulk)?;
    let command = Command::FileInstructions { client_id: client.client_id.clone(), instructions };
    let Reply::InstructionsFiled(set) = app.broker.execute(sealed(signed, command)).await?.reply else {
        return Err(Problem::unavailable());
    };
    let created = operation.created;
    let answers = app
        .broker
        .read(move |engine| {
            let now = engine.state().market_time(Timestamp::now());
            let filed = engine.state().banking().set(set)?;
            Some(
                filed
                    .map(|filed| response(engine, filed, set, now, Answer::Filed { created }))
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
    /// It was just filed, by an operation IBKR answers 201 or 202.
    Filed { created: bool },
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
        Answer::Filed { created: true } => 201,
        Answer::Filed { created: false } => 202,
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

/// Where LocalBroker's references of processed instructions start: each is the instruction's
/// id past it, so an instruction keeps one reference for good without another record.
const IB_REFERENCES: u64 = 100_000_000;

fn result(engine: &Engine, filed: &FiledInstruction, now: Timestamp) -> InstructionResult {
    let query = matches!(filed.instruction, Instruction::Query { .. });
    let pending_query = query && filed.status == InstructionStatus::Pending;
    let description = match filed.status {
        InstructionStatus::Pending if query => filed.due_at.map(|due| {
            format!("Query is being processed: poll GET /gw/api/v1/instructions/{} after {due}", filed.id)
        }),
        InstructionStatus::Pending => filed.due_at.map(|due| format!("settles at {due}")),
        InstructionStatus::Processed => filed.decided_at.map(|at| format!("processed at {at}")),
        InstructionStatus::Rejected => None,
    };
    let ib_reference_id = match filed.status {
        InstructionStatus::Processed => IB_REFERENCES + filed.id,
        _ => 0,
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
            Some(queries::answer(engine, filed, account, query, now))
        }
        _ => None,
    };
    InstructionResult {
        client_instruction_id: filed.client_instruction_id,
        instruction_type: filed.instruction.instruction_type().into(),
        instruction_status: filed.status,
        instruction_id: filed.id,
        ib_reference_id,
        code: pending_query.then(|| "PENDING".to_owned()),
        description,
        error,
        answer,
    }
}

/// The routes of Account Management's banking: transfers, bank instructions and their status.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(filing::external_cash_transfer))
        .routes(routes!(filing::external_cash_transfers))
        .routes(routes!(filing::external_cash_query))
        .routes(routes!(filing::external_asset_transfer))
        .routes(routes!(filing::external_asset_transfers))
        .routes(routes!(filing::internal_asset_transfer))
        .routes(routes!(filing::internal_asset_transfers))
        .routes(routes!(filing::internal_cash_transfer))
        .routes(routes!(filing::internal_cash_transfers))
        .routes(routes!(filing::bank_instruction))
        .routes(routes!(filing::bank_instructions))
        .routes(routes!(filing::bank_instructions_query))
        .routes(routes!(filing::cancel_instruction))
        .routes(routes!(filing::cancel_instructions))
        .routes(routes!(filing::instructions_query))
        .routes(routes!(filing::balances_query))
        .routes(routes!(status::instruction_status))
        .routes(routes!(status::client_instruction_status))
        .routes(routes!(status::instruction_set_status))
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::instructions::instruction;
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
                (one @ Value::Object(_), _) => vec![one.clone()],
                (_, Value::Array(many)) => many.iter().filter(|item| item.is_object()).cloned().collect(),
                _ => panic!("{operation} {name}: no instruction"),
            };
            for item in items {
                let by_description = item
                    .get("tradingInstrument")
                    .is_some_and(|instrument| instrument.get("tradingInstrumentDescription").is_some());
                let read = instruction(kind, item);
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
