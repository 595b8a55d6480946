//! Account changes (`PATCH /gw/api/v1/accounts`): an alias, a base currency, a closure.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use engine::Command;
use engine::applications::AccountChange;
use serde::Deserialize;

use crate::gateway::problem::Problem;
use crate::gateway::{AccountsWrite, Authorized, BodyForm, TextBody, from_payload, sealed};
use crate::state::AppState;

use super::{StatusResponse, UPDATE, submitted};

/// IBKR's `AccountManagementRequestsPayload`, as far as LocalBroker models it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChangePayload {
    account_management_requests: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdateAccountAlias {
    account_id: Option<String>,
    account_alias: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChangeBaseCurrency {
    account_id: Option<String>,
    new_base_currency: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AccountClose {
    account_id: Option<String>,
}

/// The one change a request asks, and its account.
fn change_of(
    requests: serde_json::Map<String, serde_json::Value>,
) -> Result<(String, AccountChange), Problem> {
    const FIELD: &str = "accountManagementRequests";
    let mut entries = requests.into_iter();
    let (Some((kind, value)), None) = (entries.next(), entries.next()) else {
        return Err(Problem::field(FIELD, "names exactly one request"));
    };
    let required = |value: Option<String>, name: &str| {
        value.ok_or_else(|| Problem::field(format!("{FIELD}.{kind}.{name}"), "is required"))
    };
    match kind.as_str() {
        "updateAccountAlias" => {
            let request: UpdateAccountAlias = from_payload(value)?;
            let alias = required(request.account_alias, "accountAlias")?;
            Ok((required(request.account_id, "accountId")?, AccountChange::Alias { alias }))
        }
        "changeBaseCurrency" => {
            let request: ChangeBaseCurrency = from_payload(value)?;
            let text = required(request.new_base_currency, "newBaseCurrency")?;
            let currency = text.parse().map_err(|_| {
                Problem::field(format!("{FIELD}.{kind}.newBaseCurrency"), format!("{text} is not a currency"))
            })?;
            Ok((required(request.account_id, "accountId")?, AccountChange::BaseCurrency { currency }))
        }
        "accountClose" => {
            let request: AccountClose = from_payload(value)?;
            Ok((required(request.account_id, "accountId")?, AccountChange::Close))
        }
        other => Err(Problem::not_implemented(format!(
            "LocalBroker models updateAccountAlias, changeBaseCurrency and accountClose, not {other}"
        ))),
    }
}

/// Changes an account the client manages: its alias (`updateAccountAlias`), its base currency
/// (`changeBaseCurrency`) or closing it (`accountClose`, refused while it holds positions or
/// working orders). The change applies at once.
#[utoipa::path(
    patch,
    path = "/gw/api/v1/accounts",
    operation_id = "updateAccount",
    tag = "Account Management Accounts",
    request_body(content = String, content_type = "application/jwt", description = "IBKR's AccountManagementRequestsPayload with one request, as the claims of a JWT signed by the client"),
    responses(
        (status = 200, description = "The change was made", body = StatusResponse),
        (status = 400, description = "The body is not a signed request that follows IBKR's schema", body = Problem, content_type = "application/problem+json"),
        crate::docs::NoAccessToken,
        (status = 403, description = "The token lacks accounts.write", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is plain JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The account cannot take the change", body = Problem, content_type = "application/problem+json"),
        (status = 501, description = "A request kind LocalBroker does not model", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn update(
    State(app): State<AppState>,
    client: Authorized<AccountsWrite>,
    headers: HeaderMap,
    TextBody(body): TextBody,
) -> Result<Json<StatusResponse>, Problem> {
    let (payload, signed) = client.payload(UPDATE, &headers, &body, BodyForm::Signed)?;
    let payload: ChangePayload = from_payload(payload)?;
    let (raw, change) = change_of(payload.account_management_requests)?;
    let account = client.managed(&raw)?;
    let command = Command::ChangeAccount { client_id: client.client_id.clone(), account, change };
    let executed = app.broker.execute(sealed(signed, command)).await?;
    Ok(Json(submitted(&app, executed.reply).await?))
}
