//! IBKR's instruction envelopes (`{instructionType, instruction}`, or the bulk form's
//! `{instructionType, instructions: [...]}`), each instruction read by its schema.

use axum::http::HeaderMap;
use engine::banking::InstructionRequest;
use engine::oauth::SignedRequest;
use serde_json::Value;

use super::Operation;
use super::instructions::instruction;
use crate::gateway::problem::Problem;
use crate::gateway::{BodyForm, GatewayClient};

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
    let items: Vec<Value> = if bulk {
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
                    Value::Object(_) => Ok(item),
                    _ => Err(Problem::field(format!("instructions[{index}]"), "is an object")),
                }
            })
            .collect::<Result<_, _>>()?
    } else {
        match payload.get("instruction") {
            Some(item @ Value::Object(_)) => vec![item.clone()],
            _ => return Err(Problem::field("instruction", "is an object")),
        }
    };
    let instructions = items
        .into_iter()
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
