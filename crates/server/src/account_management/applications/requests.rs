//! The requests applications and changes become: their status, the list of them, and
//! whether a user name is free.

use axum::Json;
use axum::extract::{RawQuery, State};
use engine::applications::{AccountChange, Request, RequestKind, RequestStatus};
use model::Username;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::account_management::accounts::ListQuery;
use crate::extract::PathParams;
use crate::gateway::problem::Problem;
use crate::gateway::query_object;
use crate::gateway::{AccountsRead, Authorized, ValidationsRead};
use crate::state::AppState;
use market::calendar::new_york_date;

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
    pub(super) message: Option<String>,
    /// The account it concerns or opens.
    acct_id: String,
}

impl RequestStatusResponse {
    pub(super) fn of(request: &Request) -> Self {
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
        crate::docs::NoAccessToken,
        (status = 403, description = "The token lacks accounts.read", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The client has no such request", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn request_status(
    State(app): State<AppState>,
    PathParams(raw): PathParams<String>,
    RawQuery(query): RawQuery,
    client: Authorized<AccountsRead>,
) -> Result<Json<RequestStatusResponse>, Problem> {
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
        crate::docs::NoAccessToken,
        (status = 403, description = "The token lacks accounts.read or validations.read", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn validate_username(
    State(app): State<AppState>,
    PathParams(raw): PathParams<String>,
    _client: Authorized<ValidationsRead>,
) -> Result<Json<UserNameAvailable>, Problem> {
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
        crate::docs::NoAccessToken,
        (status = 403, description = "The token lacks accounts.read", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn requests(
    State(app): State<AppState>,
    RawQuery(query): RawQuery,
    client: Authorized<AccountsRead>,
) -> Result<Json<RequestDetails>, Problem> {
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
