//! The operations that file instructions, one per IBKR path: transfers, bank instructions,
//! cancels and the queries.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;

use super::{Operation, file};
use crate::gateway::problem::Problem;
use crate::gateway::{
    Authorized, BalancesRead, BankInstructionsRead, BankInstructionsWrite, InstructionsRead,
    InstructionsWrite, TextBody, TransfersRead, TransfersWrite,
};
use crate::state::AppState;

macro_rules! instruction_route {
    ($name:ident, $bulk:expr, $path:literal, $id:literal, $summary:literal, $operation:ident: $scopes:ty, $status:literal) => {
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
                crate::docs::NoAccessToken,
                (status = 403, description = "The token lacks the operation's scope", body = Problem, content_type = "application/problem+json"),
                (status = 422, description = "Rejected: the reason, with the instruction's ids; or a clientInstructionId already used for another instruction", body = Problem, content_type = "application/problem+json"),
                (status = 501, description = "An instruction type LocalBroker does not model", body = Problem, content_type = "application/problem+json"),
            )
        )]
        pub async fn $name(
            State(app): State<AppState>,
            client: Authorized<$scopes>,
            headers: HeaderMap,
            TextBody(body): TextBody,
        ) -> Result<Response, Problem> {
            file(&app, client.into_client(), &headers, &body, &$operation, $bulk).await
        }
    };
}

const EXTERNAL_CASH: Operation =
    Operation { name: "POST /gw/api/v1/external-cash-transfers", created: false };
const EXTERNAL_CASH_QUERY: Operation =
    Operation { name: "POST /gw/api/v1/external-cash-transfers/query", created: true };
const EXTERNAL_ASSETS: Operation =
    Operation { name: "POST /gw/api/v1/external-asset-transfers", created: false };
const INTERNAL_ASSETS: Operation =
    Operation { name: "POST /gw/api/v1/internal-asset-transfers", created: false };
const INTERNAL_CASH: Operation = Operation { name: "POST /gw/api/v1/internal-cash-transfers", created: true };
const BANK_INSTRUCTIONS: Operation = Operation { name: "POST /gw/api/v1/bank-instructions", created: false };
const BANK_INSTRUCTIONS_QUERY: Operation =
    Operation { name: "POST /gw/api/v1/bank-instructions/query", created: true };
const CANCEL: Operation = Operation { name: "POST /gw/api/v1/instructions/cancel", created: true };
/// A bulk cancel's instructions are each answered 202, as every bulk's are.
const CANCEL_BULK: Operation = Operation { name: "POST /gw/api/v1/instructions/cancel", created: false };
/// Answered 202: the query is pending for a minute, as IBKR answers it.
const INSTRUCTIONS_QUERY: Operation =
    Operation { name: "POST /gw/api/v1/instructions/query", created: false };
const BALANCES_QUERY: Operation = Operation { name: "POST /gw/api/v1/balances/query", created: true };

instruction_route!(
    external_cash_transfer,
    false,
    "/gw/api/v1/external-cash-transfers",
    "transferCash",
    "A deposit (`DEPOSIT`, ACH from a saved bank instruction or WIRE) or a withdrawal (`WITHDRAWAL`, to a saved bank instruction, within withdrawable cash); pending until it settles after the world's settlement delay.",
    EXTERNAL_CASH: TransfersWrite,
    202
);
instruction_route!(
    external_cash_transfers,
    true,
    "/gw/api/v1/external-cash-transfers:bulk",
    "transferCashBulk",
    "Deposits and withdrawals in bulk, filed in order as one set.",
    EXTERNAL_CASH: TransfersWrite,
    202
);
instruction_route!(
    external_cash_query,
    false,
    "/gw/api/v1/external-cash-transfers/query",
    "queryWithdrawableFunds",
    "What can be withdrawn from an account (`QUERY_WITHDRAWABLE_FUNDS`).",
    EXTERNAL_CASH_QUERY: TransfersRead,
    201
);
instruction_route!(
    internal_cash_transfer,
    false,
    "/gw/api/v1/internal-cash-transfers",
    "transferCashInternally",
    "Moves cash between two open accounts the client manages (`INTERNAL_CASH_TRANSFER`), at once: \
     answered 201, processed, as IBKR's `SynchronousInstructionResponse`.",
    INTERNAL_CASH: TransfersWrite,
    201
);
instruction_route!(
    internal_cash_transfers,
    true,
    "/gw/api/v1/internal-cash-transfers:bulk",
    "transferCashInternallyBulk",
    "Internal cash transfers in bulk.",
    INTERNAL_CASH: TransfersWrite,
    202
);
instruction_route!(
    external_asset_transfer,
    false,
    "/gw/api/v1/external-asset-transfers",
    "transferPositionsExternally",
    "Shares delivered free of payment from another broker or to it (`FOP`, by conid); pending until it settles after the world's settlement delay. Shares come in at their value then, and leave at the position's average cost.",
    EXTERNAL_ASSETS: TransfersWrite,
    202
);
instruction_route!(
    external_asset_transfers,
    true,
    "/gw/api/v1/external-asset-transfers:bulk",
    "transferPositionsExternallyBulk",
    "External position transfers in bulk.",
    EXTERNAL_ASSETS: TransfersWrite,
    202
);
instruction_route!(
    internal_asset_transfer,
    false,
    "/gw/api/v1/internal-asset-transfers",
    "transferPositionsInternally",
    "Moves shares between two open accounts the client manages (`INTERNAL_POSITION_TRANSFER`, by conid), at once, at the source's average cost.",
    INTERNAL_ASSETS: TransfersWrite,
    202
);
instruction_route!(
    internal_asset_transfers,
    true,
    "/gw/api/v1/internal-asset-transfers:bulk",
    "transferPositionsInternallyBulk",
    "Internal position transfers in bulk.",
    INTERNAL_ASSETS: TransfersWrite,
    202
);
instruction_route!(
    bank_instruction,
    false,
    "/gw/api/v1/bank-instructions",
    "manageBankInstructions",
    "Saves (`ACH_INSTRUCTION`, `PREDEFINED_DESTINATION_INSTRUCTION`) or deletes (`DELETE_BANK_INSTRUCTION`) a bank account of an account, at once.",
    BANK_INSTRUCTIONS: BankInstructionsWrite,
    202
);
instruction_route!(
    bank_instructions,
    true,
    "/gw/api/v1/bank-instructions:bulk",
    "manageBankInstructionsBulk",
    "Bank instructions in bulk.",
    BANK_INSTRUCTIONS: BankInstructionsWrite,
    202
);
instruction_route!(
    bank_instructions_query,
    false,
    "/gw/api/v1/bank-instructions/query",
    "queryBankInstructions",
    "An account's saved bank accounts of one method (`QUERY_BANK_INSTRUCTION`).",
    BANK_INSTRUCTIONS_QUERY: BankInstructionsRead,
    201
);
instruction_route!(
    cancel_instruction,
    false,
    "/gw/api/v1/instructions/cancel",
    "cancelInstruction",
    "Cancels a pending instruction of the client (`CANCEL_INSTRUCTION`).",
    CANCEL: InstructionsWrite,
    201
);
instruction_route!(
    cancel_instructions,
    true,
    "/gw/api/v1/instructions/cancel:bulk",
    "cancelInstructionsBulk",
    "Cancels in bulk.",
    CANCEL_BULK: InstructionsWrite,
    202
);
instruction_route!(
    instructions_query,
    false,
    "/gw/api/v1/instructions/query",
    "queryRecentInstructions",
    "The client's instructions for an account over the last days (`QUERY_RECENT_INSTRUCTIONS`): \
     pending at first, as IBKR answers it, with the answer a minute later at \
     `GET /gw/api/v1/instructions/{instructionId}`.",
    INSTRUCTIONS_QUERY: InstructionsRead,
    202
);
instruction_route!(
    balances_query,
    false,
    "/gw/api/v1/balances/query",
    "queryWithdrawableCashEquity",
    "Withdrawable cash and available equity of an account (`QUERY_WITHDRAWABLE_CASH_EQUITY`).",
    BALANCES_QUERY: BalancesRead,
    201
);
