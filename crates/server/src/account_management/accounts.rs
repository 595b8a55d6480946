//! Accounts as Account Management sees them: their status and details.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{RawQuery, State};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use engine::applications::{
    Address, ApplicationSpec, Finances, Holder, Lifecycle, Request, RequestKind, RequestStatus,
};
use engine::state::State as EngineState;
use jiff::Timestamp;
use jiff::civil::Date;
use market::calendar::new_york_date;
use model::{AccountId, MarginKind};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::account_management::utilities::exchange_groups;
use crate::extract::PathParams;
use crate::gateway::problem::Problem;
use crate::gateway::query_object;
use crate::gateway::{AccountsRead, Authorized};
use crate::state::AppState;
use crate::trading::portfolio::customer_type;
use crate::wire::float;

/// An account's status (IBKR's `AccountStatusResponse`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountStatus {
    account_id: String,
    /// IBKR's status letter: `P` pending, `O` open, `R` rejected, `C` closed.
    status: String,
    /// The letter in words.
    description: String,
    /// When the account was opened, in market time (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    date_opened: Option<String>,
    /// When it started trading: at opening, in LocalBroker.
    #[serde(skip_serializing_if = "Option::is_none")]
    date_started: Option<String>,
    /// When it was closed.
    #[serde(skip_serializing_if = "Option::is_none")]
    date_closed: Option<String>,
    /// The advisor's master account, for an advisor's client account.
    #[serde(skip_serializing_if = "Option::is_none")]
    master_account_id: Option<String>,
    /// Why its application was rejected.
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

impl AccountStatus {
    /// The status of `id`, if it exists or was applied for.
    pub(crate) fn of(state: &EngineState, id: &AccountId) -> Option<Self> {
        let lifecycle = state.lifecycle(id)?;
        let (status, description) = lifecycle.status();
        let (opened, closed) = match lifecycle {
            Lifecycle::Open { since } => (Some(since), None),
            Lifecycle::Closed { opened, at } => (Some(opened), Some(at)),
            Lifecycle::Pending { .. } | Lifecycle::Rejected { .. } => (None, None),
        };
        let message = state.requests().application(id).and_then(|request| match &request.status {
            RequestStatus::Rejected { reason } => Some(reason.clone()),
            _ => None,
        });
        Some(Self {
            account_id: id.to_string(),
            status: status.into(),
            description: description.into(),
            date_opened: opened.map(|at| at.to_string()),
            date_started: opened.map(|at| at.to_string()),
            date_closed: closed.map(|at| at.to_string()),
            master_account_id: state
                .account(id)
                .and_then(|account| account.master.as_ref())
                .map(ToString::to_string),
            message,
        })
    }
}

/// The status of an account the client manages.
#[utoipa::path(
    get,
    path = "/gw/api/v1/accounts/{accountId}/status",
    operation_id = "getAccountStatus",
    tag = "Account Management Accounts",
    params(("accountId" = String, Path, description = "An account the client manages")),
    responses(
        (status = 200, description = "The account's status", body = AccountStatus),
        crate::docs::NoAccessToken,
        (status = 403, description = "The token lacks accounts.read, or the client does not manage the account", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn status(
    State(app): State<AppState>,
    PathParams(account): PathParams<String>,
    client: Authorized<AccountsRead>,
) -> Result<Json<AccountStatus>, Problem> {
    Ok(Json(client.read_managed(&app, &account, AccountStatus::of).await?))
}

/// An account's details (IBKR's `AccountDetailsResponse`), as far as LocalBroker's accounts
/// have them.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountDetails {
    /// Always false: errors are answered as problem details.
    has_error: bool,
    account: AccountData,
    /// The holders, as their application gave them.
    associated_persons: Vec<AssociatedPerson>,
    /// What the application told of the customer's finances, by IBKR's field name.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    #[schema(value_type = Object)]
    financial_information: BTreeMap<&'static str, serde_json::Value>,
    /// The exchange groups the account trades on: every venue of LocalBroker's market.
    trade_bundles: Vec<String>,
}

/// A holder of the account (IBKR's `AssociatedPerson`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AssociatedPerson {
    #[serde(skip_serializing_if = "Option::is_none")]
    first_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    middle_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_name: Option<String>,
    /// `YYYY-MM-DD`.
    #[serde(skip_serializing_if = "Option::is_none")]
    date_of_birth: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    /// The residence address, by IBKR's field names.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    residence: BTreeMap<&'static str, String>,
    /// `Holder`, as IBKR names an account holder's association.
    associations: Vec<String>,
    /// The user who trades the account; the first holder's.
    #[serde(skip_serializing_if = "Option::is_none")]
    username: Option<String>,
}

impl AssociatedPerson {
    fn of(holder: &Holder, username: Option<String>) -> Self {
        let particulars = &holder.particulars;
        let residence = particulars.residence.as_ref().map(address).unwrap_or_default();
        Self {
            first_name: particulars.first_name.clone(),
            middle_name: particulars.middle_name.clone(),
            last_name: particulars.last_name.clone(),
            date_of_birth: holder.date_of_birth.map(|date| date.to_string()),
            email: particulars.email.clone(),
            residence,
            associations: vec!["Holder".into()],
            username,
        }
    }
}

/// An address by IBKR's field names, without the parts it lacks.
fn address(address: &Address) -> BTreeMap<&'static str, String> {
    [
        ("street1", &address.street1),
        ("street2", &address.street2),
        ("city", &address.city),
        ("state", &address.state),
        ("postalCode", &address.postal_code),
        ("country", &address.country),
    ]
    .into_iter()
    .filter_map(|(name, part)| part.clone().map(|part| (name, part)))
    .collect()
}

/// The application's finances by IBKR's field names: amounts as `{"amount": n}`, the
/// objectives as their list.
fn finances(finances: &Finances) -> BTreeMap<&'static str, serde_json::Value> {
    let amounts = [
        ("netWorth", finances.net_worth),
        ("liquidNetWorth", finances.liquid_net_worth),
        ("annualNetIncome", finances.annual_net_income),
        ("totalAssets", finances.total_assets),
    ];
    amounts
        .into_iter()
        .filter_map(|(name, amount)| amount.map(|amount| (name, serde_json::json!({ "amount": amount }))))
        .collect()
}

/// IBKR's `AccountData`: the fields an engine account has.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountData {
    account_id: String,
    /// The first user entitled to the account.
    #[serde(skip_serializing_if = "Option::is_none")]
    primary_user: Option<String>,
    /// `O` open or `C` closed.
    clearing_status: String,
    clearing_status_description: String,
    base_currency: String,
    /// When the account was opened, in market time (RFC 3339).
    date_opened: String,
    date_begun: String,
    account_title: String,
    /// `Cash` or `Margin`.
    margin: String,
    /// `INDIVIDUAL`, `JOINT` or `ORG`.
    applicant_type: String,
    /// Net liquidation value in the base currency, now.
    equity: f64,
    /// The name its holder or broker gave it.
    #[serde(skip_serializing_if = "Option::is_none")]
    account_alias: Option<String>,
    /// The advisor's master account, for an advisor's client account.
    #[serde(skip_serializing_if = "Option::is_none")]
    master_account_id: Option<String>,
    /// The broker's own reference for the customer, from the application.
    #[serde(skip_serializing_if = "Option::is_none")]
    external_id: Option<String>,
    /// The customer's email address, from the application.
    #[serde(skip_serializing_if = "Option::is_none")]
    email_address: Option<String>,
    /// When the application was approved, in market time (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    date_approved: Option<String>,
    /// When money first came in: the opening balance or the first deposit.
    #[serde(skip_serializing_if = "Option::is_none")]
    date_funded: Option<String>,
    /// What the customer invests for, from the application.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    investment_objectives: Vec<String>,
    /// The first holder's residence, by IBKR's field names.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    registered_address: BTreeMap<&'static str, String>,
}

/// What an application request asked for.
fn spec_of(request: &Request) -> Option<&ApplicationSpec> {
    match &request.kind {
        RequestKind::Application(spec) => Some(spec),
        RequestKind::Change(_) => None,
    }
}

impl AccountData {
    /// The account `id`, with what `application` (the request that opened it, if one did)
    /// supplied.
    fn of(
        state: &EngineState,
        id: &AccountId,
        now: Timestamp,
        application: Option<&Request>,
    ) -> Option<Self> {
        let account = state.account(id)?;
        let spec = application.and_then(spec_of);
        let first_holder = spec.and_then(|spec| spec.holders.first());
        let portfolio = state.portfolio(id, now)?;
        // The applicant of an account an application opened; else, for a world's account, its
        // first entitled user.
        let primary_user = account
            .primary_user
            .as_ref()
            .or_else(|| state.users().find(|user| user.accounts.contains(id)).map(|user| &user.username))
            .map(ToString::to_string);
        let (clearing_status, clearing_status_description) = match account.closed_at {
            Some(_) => ("C", "Closed"),
            None => ("O", "Open"),
        };
        Some(Self {
            account_id: id.to_string(),
            primary_user,
            clearing_status: clearing_status.into(),
            clearing_status_description: clearing_status_description.into(),
            base_currency: account.base_currency.to_string(),
            date_opened: account.opened_at.to_string(),
            date_begun: account.opened_at.to_string(),
            account_title: account.title.clone(),
            margin: match account.margin {
                MarginKind::Cash => "Cash",
                MarginKind::Margin => "Margin",
            }
            .into(),
            applicant_type: customer_type(account.kind).into(),
            equity: float(portfolio.net_liquidation().round_dp(2)),
            account_alias: account.alias.clone(),
            master_account_id: account.master.as_ref().map(ToString::to_string),
            external_id: spec.and_then(|spec| spec.external_id.clone()),
            email_address: spec
                .and_then(|spec| spec.email.clone())
                .or_else(|| first_holder.and_then(|holder| holder.particulars.email.clone())),
            date_approved: application.and_then(|request| request.decided_at).map(|at| at.to_string()),
            date_funded: state.funded_at(id).map(|at| at.to_string()),
            investment_objectives: spec
                .and_then(|spec| spec.finances.as_ref())
                .map(|finances| finances.investment_objectives.clone())
                .unwrap_or_default(),
            registered_address: first_holder
                .and_then(|holder| holder.particulars.residence.as_ref())
                .map(address)
                .unwrap_or_default(),
        })
    }
}

impl AccountDetails {
    fn of(state: &EngineState, id: &AccountId, now: Timestamp) -> Option<Self> {
        let application = state.requests().application(id);
        let account = AccountData::of(state, id, now, application)?;
        let spec = application.and_then(spec_of);
        let associated_persons = spec
            .map(|spec| {
                let username = spec.username.to_string();
                spec.holders
                    .iter()
                    .enumerate()
                    .map(|(index, holder)| {
                        AssociatedPerson::of(holder, (index == 0).then(|| username.clone()))
                    })
                    .collect()
            })
            .unwrap_or_default();
        Some(Self {
            has_error: false,
            account,
            associated_persons,
            financial_information: spec
                .and_then(|spec| spec.finances.as_deref())
                .map(finances)
                .unwrap_or_default(),
            trade_bundles: exchange_groups().into_iter().collect(),
        })
    }
}

/// The details of an account the client manages.
#[utoipa::path(
    get,
    path = "/gw/api/v1/accounts/{accountId}/details",
    operation_id = "getAccountDetails",
    tag = "Account Management Accounts",
    params(("accountId" = String, Path, description = "An account the client manages")),
    responses(
        (status = 200, description = "The account's details", body = AccountDetails),
        crate::docs::NoAccessToken,
        (status = 403, description = "The token lacks accounts.read, or the client does not manage the account", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The account's application is pending or was rejected", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn details(
    State(app): State<AppState>,
    PathParams(account): PathParams<String>,
    client: Authorized<AccountsRead>,
) -> Result<Json<AccountDetails>, Problem> {
    let data = client
        .read_managed(&app, &account, |state, id| {
            state.lifecycle(id).map(|_| AccountDetails::of(state, id, state.market_time(Timestamp::now())))
        })
        .await?
        .ok_or_else(|| {
            Problem::not_found(format!(
                "account {account} is not open yet: its application is pending or was rejected"
            ))
        })?;
    Ok(Json(data))
}

/// A date range of IBKR's list queries (`AccountStatusRequest`, `RequestDetailsRequest`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ListQuery {
    start_date: String,
    end_date: String,
    #[serde(default)]
    offset: usize,
    limit: Option<usize>,
    status: Option<String>,
}

/// The most a list answers at once, and the default.
const MAX_LIMIT: usize = 1000;
const DEFAULT_LIMIT: usize = 100;

impl ListQuery {
    /// The New York dates the list covers, and how many to skip and take.
    pub(crate) fn window(&self, name: &str) -> Result<(Date, Date, usize, usize), Problem> {
        let date = |text: &str, field: &str| {
            text.parse::<Date>().map_err(|_| {
                Problem::field(format!("{name}.{field}"), format!("{text} is not a date (YYYY-MM-DD)"))
            })
        };
        let (start, end) = (date(&self.start_date, "startDate")?, date(&self.end_date, "endDate")?);
        if end < start {
            return Err(Problem::field(format!("{name}.endDate"), "is before startDate"));
        }
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(Problem::field(format!("{name}.limit"), format!("is 1 to {MAX_LIMIT}")));
        }
        Ok((start, end, self.offset, limit))
    }

    /// The status letter asked for, if any.
    pub(crate) fn status(&self) -> Option<&str> {
        self.status.as_deref()
    }
}

/// A page of account statuses (IBKR's `AccountStatusBulkResponse`).
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountStatuses {
    accounts: Vec<AccountStatus>,
    offset: usize,
    limit: usize,
    total: usize,
}

/// The statuses of the accounts the client manages that were opened (or, not yet open,
/// applied for) between two dates, optionally of one status.
#[utoipa::path(
    get,
    path = "/gw/api/v1/accounts/status",
    operation_id = "getAccountStatuses",
    tag = "Account Management Accounts",
    params(
        ("accountStatusRequest" = Object, Query, description = "startDate and endDate (YYYY-MM-DD, required), offset, limit (at most 1000), status: as separate parameters, OpenAPI's form style (startDate,2026-03-01,endDate,…), deepObject or JSON"),
    ),
    responses(
        (status = 200, description = "The page of statuses", body = AccountStatuses),
        (status = 400, description = "No valid date range", body = Problem, content_type = "application/problem+json"),
        crate::docs::NoAccessToken,
        (status = 403, description = "The token lacks accounts.read", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn statuses(
    State(app): State<AppState>,
    RawQuery(query): RawQuery,
    client: Authorized<AccountsRead>,
) -> Result<Json<AccountStatuses>, Problem> {
    let request: ListQuery = query_object::read(query.as_deref(), "accountStatusRequest")?;
    let (start, end, offset, limit) = request.window("accountStatusRequest")?;
    let wanted = request.status().map(str::to_owned);
    let managed = client.accounts().clone();
    let all = app
        .broker
        .read(move |engine| {
            let state = engine.state();
            managed
                .iter()
                .filter_map(|id| {
                    let since = match state.lifecycle(id)? {
                        Lifecycle::Pending { since }
                        | Lifecycle::Rejected { since, .. }
                        | Lifecycle::Open { since } => since,
                        Lifecycle::Closed { opened, .. } => opened,
                    };
                    let day = new_york_date(since);
                    (start <= day && day <= end).then(|| AccountStatus::of(state, id)).flatten()
                })
                .filter(|status| wanted.as_ref().is_none_or(|wanted| &status.status == wanted))
                .collect::<Vec<_>>()
        })
        .await
        .map_err(|_| Problem::unavailable())?;
    let total = all.len();
    let accounts = all.into_iter().skip(offset).take(limit).collect();
    Ok(Json(AccountStatuses { accounts, offset, limit, total }))
}

/// The routes of Account Management's accounts' status and details.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(status)).routes(routes!(statuses)).routes(routes!(details))
}
