//! Account applications and account changes (`POST`/`PATCH /gw/api/v1/accounts`), and the
//! requests they become (`/gw/api/v1/requests…`).
//!
//! An application is read from IBKR's `Application` schema: the customer's type (`INDIVIDUAL`
//! or `JOINT`; an advisor's client account is either, with `masterAccountId`), user name,
//! holders' names and dates of birth, and the first account's base currency, margin and alias.
//! Everything else the schema allows is validated and accepted, but not modelled.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use engine::Command;
use engine::Event;
use engine::applications::{AccountChange, ApplicationSpec, Holder, Request, RequestKind, RequestStatus};
use model::{AccountId, AccountKind, Currency, MarginKind, Username};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::account_management::accounts::ListQuery;
use crate::extract::PathParams;
use crate::gateway::problem::Problem;
use crate::gateway::{BodyForm, GatewayClient, TextBody, from_payload, query_object, sealed};
use crate::state::AppState;
use market::calendar::new_york_date;

/// IBKR's `ApplicationPayload`, as far as LocalBroker reads it.
#[derive(Debug, Deserialize)]
struct ApplicationPayload {
    application: Application,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Application {
    customer: Option<Customer>,
    #[serde(default)]
    accounts: Vec<AccountEntry>,
    master_account_id: Option<String>,
    paper_account: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Customer {
    #[serde(rename = "type")]
    kind: Option<String>,
    user_name: Option<String>,
    external_id: Option<String>,
    account_holder: Option<IndividualApplicant>,
    joint_holders: Option<JointApplicant>,
    paper_account: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct IndividualApplicant {
    #[serde(default)]
    account_holder_details: Vec<Individual>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct JointApplicant {
    #[serde(default)]
    first_holder_details: Vec<Individual>,
    #[serde(default)]
    second_holder_details: Vec<Individual>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Individual {
    name: Option<IndividualName>,
    date_of_birth: Option<String>,
}

#[derive(Debug, Deserialize)]
struct IndividualName {
    first: Option<String>,
    middle: Option<String>,
    last: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AccountEntry {
    base_currency: Option<String>,
    margin: Option<String>,
    alias: Option<String>,
}

/// The longest alias an account may have, as a change of alias allows.
const MAX_ALIAS: usize = 64;

/// The operation's name, for the schema and for messages.
const CREATE: &str = "POST /gw/api/v1/accounts";
const UPDATE: &str = "PATCH /gw/api/v1/accounts";

impl Application {
    /// What the engine needs of the application, or the field that stops it.
    fn spec(self) -> Result<ApplicationSpec, Problem> {
        let customer = self.customer.ok_or_else(|| Problem::field("application.customer", "is required"))?;
        let kind = match customer.kind.as_deref() {
            Some("INDIVIDUAL") => AccountKind::Individual,
            Some("JOINT") => AccountKind::Joint,
            _ => {
                return Err(Problem::field(
                    "application.customer.type",
                    "LocalBroker opens INDIVIDUAL and JOINT accounts (an advisor's client account is either)",
                ));
            }
        };
        let holders = match kind {
            AccountKind::Joint => {
                let joint = customer
                    .joint_holders
                    .ok_or_else(|| Problem::field("application.customer.jointHolders", "is required"))?;
                vec![
                    holder(
                        joint.first_holder_details,
                        "application.customer.jointHolders.firstHolderDetails",
                    )?,
                    holder(
                        joint.second_holder_details,
                        "application.customer.jointHolders.secondHolderDetails",
                    )?,
                ]
            }
            _ => {
                let details =
                    customer.account_holder.map(|holder| holder.account_holder_details).unwrap_or_default();
                vec![holder(details, "application.customer.accountHolder.accountHolderDetails")?]
            }
        };
        let username = customer
            .user_name
            .as_deref()
            .ok_or_else(|| Problem::field("application.customer.userName", "is required"))?
            .parse::<Username>()
            .map_err(|error| Problem::field("application.customer.userName", error.to_string()))?;
        let account = self.accounts.into_iter().next();
        let base_currency = match account.as_ref().and_then(|account| account.base_currency.as_deref()) {
            None => Currency::USD,
            Some(text) => text.parse().map_err(|_| {
                Problem::field("application.accounts[0].baseCurrency", format!("{text} is not a currency"))
            })?,
        };
        let margin = match account.as_ref().and_then(|account| account.margin.as_deref()) {
            None | Some("Cash" | "CASH") => MarginKind::Cash,
            Some(_) => MarginKind::Margin,
        };
        let alias = account.as_ref().and_then(|account| account.alias.clone());
        if alias.as_ref().is_some_and(|alias| alias.chars().count() > MAX_ALIAS) {
            return Err(Problem::field(
                "application.accounts[0].alias",
                format!("has at most {MAX_ALIAS} characters"),
            ));
        }
        let master_account = self
            .master_account_id
            .map(|raw| {
                raw.parse::<AccountId>().map_err(|_| {
                    Problem::field("application.masterAccountId", format!("{raw} is not an account id"))
                })
            })
            .transpose()?;
        Ok(ApplicationSpec {
            external_id: customer.external_id,
            kind,
            holders,
            username,
            margin,
            base_currency,
            master_account,
            paper: self.paper_account.or(customer.paper_account).unwrap_or(false),
            alias,
        })
    }
}

/// The first of `details` as a holder: a name is required, the date of birth is checked at
/// review.
fn holder(details: Vec<Individual>, field: &str) -> Result<Holder, Problem> {
    let individual = details.into_iter().next().ok_or_else(|| Problem::field(field, "names a holder"))?;
    let name = individual.name.as_ref().and_then(|name| {
        let parts: Vec<&str> = [&name.first, &name.middle, &name.last]
            .into_iter()
            .filter_map(|part| part.as_deref().map(str::trim).filter(|part| !part.is_empty()))
            .collect();
        (name.first.is_some() && name.last.is_some()).then(|| parts.join(" "))
    });
    let name = name
        .ok_or_else(|| Problem::field(format!("{field}[0].name"), "a first and a last name are required"))?;
    let date_of_birth = individual
        .date_of_birth
        .map(|text| {
            text.parse().map_err(|_| {
                Problem::field(
                    format!("{field}[0].dateOfBirth"),
                    format!("{text} is not a date (YYYY-MM-DD)"),
                )
            })
        })
        .transpose()?;
    Ok(Holder { name, date_of_birth })
}

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
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks accounts.write: the client is not approved", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is plain JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The broker refuses the application (a master account the client does not manage)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create(
    State(app): State<AppState>,
    headers: HeaderMap,
    TextBody(body): TextBody,
) -> Result<Json<StatusResponse>, Problem> {
    let client = GatewayClient::authorize(&app, &headers, &["accounts.write"]).await?;
    let (payload, signed) = client.payload(CREATE, &headers, &body, BodyForm::Signed)?;
    let payload: ApplicationPayload = from_payload(payload)?;
    let application = payload.application.spec()?;
    let command = Command::SubmitApplication { client_id: client.client_id.clone(), application };
    let events = app.broker.execute(sealed(signed, command)).await?;
    Ok(Json(submitted(&app, &events).await?))
}

/// The request `events` filed, as answered.
async fn submitted(app: &AppState, events: &[Event]) -> Result<StatusResponse, Problem> {
    let id = events
        .iter()
        .find_map(|event| match event {
            Event::RequestSubmitted { request, .. } => Some(*request),
            _ => None,
        })
        .ok_or_else(Problem::unavailable)?;
    app.broker
        .read(move |engine| engine.state().requests().requests.get(&id).map(StatusResponse::of))
        .await
        .map_err(|_| Problem::unavailable())?
        .ok_or_else(Problem::unavailable)
}

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
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks accounts.write", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is plain JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The account cannot take the change", body = Problem, content_type = "application/problem+json"),
        (status = 501, description = "A request kind LocalBroker does not model", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn update(
    State(app): State<AppState>,
    headers: HeaderMap,
    TextBody(body): TextBody,
) -> Result<Json<StatusResponse>, Problem> {
    let client = GatewayClient::authorize(&app, &headers, &["accounts.write"]).await?;
    let (payload, signed) = client.payload(UPDATE, &headers, &body, BodyForm::Signed)?;
    let payload: ChangePayload = from_payload(payload)?;
    let (raw, change) = change_of(payload.account_management_requests)?;
    let account = client.managed(&raw)?;
    let command = Command::ChangeAccount { client_id: client.client_id.clone(), account, change };
    let events = app.broker.execute(sealed(signed, command)).await?;
    Ok(Json(submitted(&app, &events).await?))
}

/// A request's status (IBKR's `AmRequestStatusResponse`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RequestStatusResponse {
    request_id: String,
    /// `CREATE_ACCOUNT`, `UPDATE_ACCOUNT_ALIAS`, `CHANGE_BASE_CURRENCY` or `CLOSE_ACCOUNT`.
    request_type: String,
    /// `PENDING`, `PROCESSED` or `REJECTED`.
    status: String,
    /// Why it was rejected.
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    /// The account it concerns or opens.
    acct_id: String,
}

impl RequestStatusResponse {
    fn of(request: &Request) -> Self {
        let (status, message) = match &request.status {
            RequestStatus::Pending => ("PENDING", None),
            RequestStatus::Processed => ("PROCESSED", None),
            RequestStatus::Rejected { reason } => ("REJECTED", Some(reason.clone())),
        };
        Self {
            request_id: request.id.to_string(),
            request_type: request_type(&request.kind).into(),
            status: status.into(),
            message,
            acct_id: request.account.to_string(),
        }
    }
}

fn request_type(kind: &RequestKind) -> &'static str {
    match kind {
        RequestKind::Application(_) => "CREATE_ACCOUNT",
        RequestKind::Change(AccountChange::Alias { .. }) => "UPDATE_ACCOUNT_ALIAS",
        RequestKind::Change(AccountChange::BaseCurrency { .. }) => "CHANGE_BASE_CURRENCY",
        RequestKind::Change(AccountChange::Close) => "CLOSE_ACCOUNT",
    }
}

/// The `type` of a request status query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RequestStatusQuery {
    /// `response` or `update`; both answer the request's current status.
    #[serde(rename = "type")]
    kind: Option<String>,
}

/// The status of one of the client's requests.
#[utoipa::path(
    get,
    path = "/gw/api/v1/requests/{requestId}/status",
    operation_id = "getRequestStatus",
    tag = "Account Management Utilities",
    params(("requestId" = u64, Path, description = "A request of the client"), RequestStatusQuery),
    responses(
        (status = 200, description = "The request's status", body = RequestStatusResponse),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks accounts.read", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The client has no such request", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn request_status(
    State(app): State<AppState>,
    headers: HeaderMap,
    PathParams(raw): PathParams<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<RequestStatusResponse>, Problem> {
    let client = GatewayClient::authorize(&app, &headers, &["accounts.read"]).await?;
    let query: RequestStatusQuery = crate::gateway::query(query.as_deref())?;
    if let Some(kind) = query.kind.filter(|kind| kind != "response" && kind != "update") {
        return Err(Problem::field("type", format!("is response or update, not {kind}")));
    }
    let missing = || Problem::not_found(format!("the client has no request {raw}"));
    let id: u64 = raw.parse().map_err(|_| missing())?;
    let client_id = client.client_id.clone();
    app.broker
        .read(move |engine| {
            let request = engine.state().requests().requests.get(&id)?;
            (request.client_id == client_id).then(|| RequestStatusResponse::of(request))
        })
        .await
        .map_err(|_| Problem::unavailable())?
        .map(Json)
        .ok_or_else(missing)
}

/// Whether a user name is free (IBKR's `UserNameAvailableResponse`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserNameAvailable {
    /// Whether it is a user name at all.
    is_valid: bool,
    /// Whether no user has it.
    is_available: bool,
    /// Free names like it, when it is taken.
    suggested_user_name: Vec<String>,
}

/// Whether an application may ask for a user name.
#[utoipa::path(
    get,
    path = "/gw/api/v1/validations/usernames/{username}",
    operation_id = "validateUsername",
    tag = "Account Management Utilities",
    params(("username" = String, Path, description = "The user name to check")),
    responses(
        (status = 200, description = "Whether it is valid and free", body = UserNameAvailable),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks accounts.read or validations.read", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn validate_username(
    State(app): State<AppState>,
    headers: HeaderMap,
    PathParams(raw): PathParams<String>,
) -> Result<Json<UserNameAvailable>, Problem> {
    GatewayClient::authorize(&app, &headers, &["accounts.read", "validations.read"]).await?;
    let Ok(username) = raw.parse::<Username>() else {
        return Ok(Json(UserNameAvailable {
            is_valid: false,
            is_available: false,
            suggested_user_name: Vec::new(),
        }));
    };
    let answer = app
        .broker
        .read(move |engine| {
            let state = engine.state();
            let taken = |name: &Username| {
                state.user(name).is_some() || state.requests().requests.values().any(|request| {
                    request.status == RequestStatus::Pending
                        && matches!(&request.kind, RequestKind::Application(spec) if &spec.username == name)
                })
            };
            let available = !taken(&username);
            let suggestions = if available {
                Vec::new()
            } else {
                (1..100)
                    .filter_map(|n| format!("{username}{n}").parse::<Username>().ok())
                    .filter(|name| !taken(name))
                    .take(3)
                    .map(|name| name.to_string())
                    .collect()
            };
            UserNameAvailable { is_valid: true, is_available: available, suggested_user_name: suggestions }
        })
        .await
        .map_err(|_| Problem::unavailable())?;
    Ok(Json(answer))
}

/// One request of a list (IBKR's `RequestDetail`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RequestDetail {
    request_id: u64,
    /// When it was submitted, in market time (RFC 3339).
    date_submitted: String,
    /// `PENDING`, `PROCESSED` or `REJECTED`.
    status: String,
    /// The account it concerns or opens (IBKR spells it so).
    #[serde(rename = "accountID")]
    account_id: String,
    request_type: String,
}

/// A page of requests (IBKR's `RequestDetailsResponse`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RequestDetails {
    request_details: Vec<RequestDetail>,
    offset: usize,
    limit: usize,
    total: usize,
}

/// The client's requests submitted between two dates, optionally of one status.
#[utoipa::path(
    get,
    path = "/gw/api/v1/requests",
    operation_id = "getRequests",
    tag = "Account Management Utilities",
    params(
        ("requestDetails" = Object, Query, description = "startDate and endDate (YYYY-MM-DD, required), offset, limit (at most 1000), status (PENDING, PROCESSED or REJECTED): as separate parameters, OpenAPI's form style, deepObject or JSON"),
    ),
    responses(
        (status = 200, description = "The page of requests", body = RequestDetails),
        (status = 400, description = "No valid date range", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks accounts.read", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn requests(
    State(app): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Json<RequestDetails>, Problem> {
    let client = GatewayClient::authorize(&app, &headers, &["accounts.read"]).await?;
    let request: ListQuery = query_object::read(query.as_deref(), "requestDetails")?;
    let (start, end, offset, limit) = request.window("requestDetails")?;
    let wanted = request.status().map(str::to_owned);
    let client_id = client.client_id.clone();
    let all = app
        .broker
        .read(move |engine| {
            let requests = engine.state().requests().requests.values();
            requests
                .filter(|request| request.client_id == client_id)
                .filter(|request| {
                    let day = new_york_date(request.submitted_at);
                    start <= day && day <= end
                })
                .map(|request| {
                    let status = RequestStatusResponse::of(request);
                    RequestDetail {
                        request_id: request.id,
                        date_submitted: request.submitted_at.to_string(),
                        status: status.status,
                        account_id: status.acct_id,
                        request_type: status.request_type,
                    }
                })
                .filter(|detail| wanted.as_ref().is_none_or(|wanted| &detail.status == wanted))
                .collect::<Vec<_>>()
        })
        .await
        .map_err(|_| Problem::unavailable())?;
    let total = all.len();
    let request_details = all.into_iter().skip(offset).take(limit).collect();
    Ok(Json(RequestDetails { request_details, offset, limit, total }))
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
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks accounts.read", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The client has no such application", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn processed(
    State(app): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Json<ProcessedApplication>, Problem> {
    let client = GatewayClient::authorize(&app, &headers, &["accounts.read"]).await?;
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
