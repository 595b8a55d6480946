//! Account applications and account changes (`POST`/`PATCH /gw/api/v1/accounts`), and the
//! requests they become (`/gw/api/v1/requests…`).
//!
//! An application is read from IBKR's `Application` schema: the customer's type (`INDIVIDUAL`
//! or `JOINT`; an advisor's client account is either, with `masterAccountId`), user name,
//! holders' names and dates of birth, and the first account's base currency, margin and alias.
//! Everything else the schema allows is validated and accepted, but not modelled.

pub mod changes;
pub mod form;
pub mod requests;

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use engine::Command;
use engine::Reply;
use engine::applications::{Request, RequestKind, RequestStatus};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::gateway::problem::Problem;
use crate::gateway::{AccountsRead, AccountsWrite, Authorized, BodyForm, TextBody, from_payload, sealed};
use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use self::form::ApplicationPayload;
use self::requests::RequestStatusResponse;

/// The operation's name, for the schema and for messages.
const CREATE: &str = "POST /gw/api/v1/accounts";
const UPDATE: &str = "PATCH /gw/api/v1/accounts";

/// What a submitted request answers (IBKR's `StatusResponse`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatusResponse {
    request_id: u64,
    /// When it was submitted, in market time (RFC 3339).
    date_submitted: String,
    file_data: FileData,
}

/// IBKR's `FileData`: here the processed request, as its status endpoint reports it.
#[derive(Debug, Serialize, ToSchema)]
pub struct FileData {
    /// `request-<requestId>`.
    name: String,
    data: RequestStatusResponse,
}

impl StatusResponse {
    fn of(request: &Request) -> Self {
        Self {
            request_id: request.id,
            date_submitted: request.submitted_at.to_string(),
            file_data: FileData {
                name: format!("request-{}", request.id),
                data: RequestStatusResponse::of(request),
            },
        }
    }
}

/// Submits an account application, signed by the client. The account it will open is named at
/// once; it is pending until the world's review delay has passed on the simulated clock.
#[utoipa::path(
    post,
    path = "/gw/api/v1/accounts",
    operation_id = "createAccount",
    tag = "Account Management Accounts",
    request_body(content = String, content_type = "application/jwt", description = "IBKR's ApplicationPayload, as the claims of a JWT signed by the client"),
    responses(
        (status = 200, description = "The application was filed", body = StatusResponse),
        (status = 400, description = "The body is not a signed application that follows IBKR's schema", body = Problem, content_type = "application/problem+json"),
        crate::docs::NoAccessToken,
        (status = 403, description = "The token lacks accounts.write: the client is not approved", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is plain JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The broker refuses the application (a master account the client does not manage)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create(
    State(app): State<AppState>,
    client: Authorized<AccountsWrite>,
    headers: HeaderMap,
    TextBody(body): TextBody,
) -> Result<Json<StatusResponse>, Problem> {
    let (payload, signed) = client.payload(CREATE, &headers, &body, BodyForm::Signed)?;
    let payload: ApplicationPayload = from_payload(payload)?;
    let application = payload.application.spec()?;
    let command = Command::SubmitApplication { client_id: client.client_id.clone(), application };
    let executed = app.broker.execute(sealed(signed, command)).await?;
    Ok(Json(submitted(&app, executed.reply).await?))
}

/// The request a command submitted, as answered.
async fn submitted(app: &AppState, reply: Reply) -> Result<StatusResponse, Problem> {
    let Reply::RequestSubmitted(id) = reply else {
        return Err(Problem::unavailable());
    };
    app.broker
        .read(move |engine| engine.state().requests().requests.get(&id).map(StatusResponse::of))
        .await
        .map_err(|_| Problem::unavailable())?
        .ok_or_else(Problem::unavailable)
}

/// Which application to read back.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct ProcessedQuery {
    /// The account the application opens.
    account_id: Option<String>,
    /// The broker's own reference for the customer (`customer.externalId`).
    external_id: Option<String>,
}

/// An application read back (IBKR's `ResponseFileResponse`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProcessedApplication {
    /// Whether it was decided.
    is_processed: bool,
    /// `request-<requestId>`.
    name: String,
    /// The request, as its status endpoint reports it.
    data: RequestStatusResponse,
    /// Whether it was rejected.
    has_error: bool,
    /// Why.
    #[serde(skip_serializing_if = "Option::is_none")]
    error_description: Option<String>,
}

/// One of the client's applications, by the account it opens or by the customer's external id.
#[utoipa::path(
    get,
    path = "/gw/api/v1/accounts",
    operation_id = "getApplication",
    tag = "Account Management Accounts",
    params(ProcessedQuery),
    responses(
        (status = 200, description = "The application and where it stands", body = ProcessedApplication),
        (status = 400, description = "Neither accountId nor externalId", body = Problem, content_type = "application/problem+json"),
        crate::docs::NoAccessToken,
        (status = 403, description = "The token lacks accounts.read", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The client has no such application", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn processed(
    State(app): State<AppState>,
    RawQuery(query): RawQuery,
    client: Authorized<AccountsRead>,
) -> Result<Json<ProcessedApplication>, Problem> {
    let query: ProcessedQuery = crate::gateway::query(query.as_deref())?;
    let (account, external) = match (query.account_id, query.external_id) {
        (None, None) => return Err(Problem::field("accountId", "accountId or externalId is required")),
        pair => pair,
    };
    let client_id = client.client_id.clone();
    let what = account.clone().or(external.clone()).unwrap_or_default();
    app.broker
        .read(move |engine| {
            let request = engine.state().requests().requests.values().find(|request| {
                let RequestKind::Application(spec) = &request.kind else { return false };
                request.client_id == client_id
                    && account.as_ref().is_none_or(|account| &request.account.to_string() == account)
                    && external.as_ref().is_none_or(|external| spec.external_id.as_ref() == Some(external))
            })?;
            let data = RequestStatusResponse::of(request);
            Some(ProcessedApplication {
                is_processed: request.status != RequestStatus::Pending,
                name: format!("request-{}", request.id),
                has_error: data.message.is_some(),
                error_description: data.message.clone(),
                data,
            })
        })
        .await
        .map_err(|_| Problem::unavailable())?
        .map(Json)
        .ok_or_else(|| Problem::not_found(format!("the client has no application for {what}")))
}

/// The routes of Account Management's account applications and requests.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(requests::requests))
        .routes(routes!(create, changes::update, processed))
        .routes(routes!(requests::request_status))
        .routes(routes!(requests::validate_username))
}
