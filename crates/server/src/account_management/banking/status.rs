//! Polling: an instruction's, a client instruction's and a set's status.

use axum::Json;
use axum::extract::State;
use engine::Engine;
use engine::banking::FiledInstruction;
use jiff::Timestamp;

use super::{Answer, InstructionResponse, InstructionSetResponse, response};
use crate::extract::PathParams;
use crate::gateway::GatewayClient;
use crate::gateway::problem::Problem;
use crate::gateway::{Authorized, InstructionsRead};
use crate::state::AppState;

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
        crate::docs::NoAccessToken,
        (status = 403, description = "The token lacks instructions.read", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The client has no such instruction", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn instruction_status(
    State(app): State<AppState>,
    PathParams(raw): PathParams<String>,
    client: Authorized<InstructionsRead>,
) -> Result<Json<InstructionResponse>, Problem> {
    let id = raw.parse::<u64>().ok();
    poll(&app, client.into_client(), format!("instruction {raw}"), move |engine, client_id, now| {
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
        crate::docs::NoAccessToken,
        (status = 403, description = "The token lacks instructions.read", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The client has no such instruction", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn client_instruction_status(
    State(app): State<AppState>,
    PathParams(raw): PathParams<String>,
    client: Authorized<InstructionsRead>,
) -> Result<Json<InstructionResponse>, Problem> {
    let id = raw.parse::<u64>().ok();
    poll(&app, client.into_client(), format!("client instruction {raw}"), move |engine, client_id, now| {
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
        crate::docs::NoAccessToken,
        (status = 403, description = "The token lacks instructions.read", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The client has no such set", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn instruction_set_status(
    State(app): State<AppState>,
    PathParams(raw): PathParams<String>,
    client: Authorized<InstructionsRead>,
) -> Result<Json<InstructionSetResponse>, Problem> {
    let id = raw.parse::<u64>().ok();
    poll(&app, client.into_client(), format!("instruction set {raw}"), move |engine, client_id, now| {
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
