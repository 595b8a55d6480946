//! IBKR's "Trading Portfolio" tag: the accounts (`portfolio/accounts`, `portfolio/subaccounts`,
//! `portfolio/{accountId}/meta`, here), their [`positions`], [`summary`], [`ledger`] and
//! [`allocation`].

pub mod allocation;
pub mod ledger;
pub mod positions;
pub mod summary;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use engine::portfolio::Portfolio;
use engine::state::{Account, State as EngineState};
use jiff::Timestamp;
use model::AccountKind;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{AccountSegment, PathParams, QueryParams};
use crate::state::AppState;
use crate::trading::is_paper;

/// An account as the portfolio endpoints describe it (IBKR's `accountAttributes`). Key
/// spellings follow the wire, not the spec's schema: `faclient` is lower-case (the spec's own
/// example and recorded responses, though its schema says `faClient`) and the prepaid-crypto
/// flags carry hyphens (recorded responses). `businessType` is `IB_SALES`, one of the two values
/// IBKR's schema allows and the one its `{accountId}/meta` example shows, so that clients
/// generated with strict enums read it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountAttributes {
    id: String,
    #[serde(rename = "PrepaidCrypto-Z")]
    prepaid_crypto_z: bool,
    #[serde(rename = "PrepaidCrypto-P")]
    prepaid_crypto_p: bool,
    brokerage_access: bool,
    account_id: String,
    account_van: String,
    account_title: String,
    display_name: String,
    account_alias: Option<String>,
    /// When the account opened: midnight New York time of that day, in epoch milliseconds.
    account_status: i64,
    currency: String,
    #[serde(rename = "type")]
    kind: String,
    trading_type: String,
    business_type: String,
    category: String,
    ib_entity: String,
    #[serde(rename = "faclient")]
    fa_client: bool,
    clearing_status: String,
    covestor: bool,
    no_client_trading: bool,
    #[serde(rename = "trackVirtualFXPortfolio")]
    track_virtual_fx_portfolio: bool,
    acct_cust_type: String,
    parent: AccountParent,
    desc: String,
}

/// An account's place in an advisor or multiplex structure; LocalBroker's accounts stand alone.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountParent {
    mmc: Vec<String>,
    account_id: String,
    #[serde(rename = "isMParent")]
    is_m_parent: bool,
    #[serde(rename = "isMChild")]
    is_m_child: bool,
    is_multiplex: bool,
}

impl AccountAttributes {
    fn of(account: &Account) -> Self {
        let id = account.id.to_string();
        let customer_type = customer_type(account.kind);
        // IBKR reports paper accounts as type DEMO whatever their ownership.
        let kind = if is_paper(&account.id) { "DEMO" } else { customer_type };
        let new_york = market::calendar::new_york();
        let opened_day = account.opened_at.to_zoned_datetime(new_york);
        let account_status = opened_day.start_of_day().map_or(0, |day| day.timestamp().as_millisecond());
        Self {
            id: id.clone(),
            prepaid_crypto_z: false,
            prepaid_crypto_p: false,
            brokerage_access: true,
            account_id: id.clone(),
            account_van: id.clone(),
            account_title: account.title.clone(),
            display_name: account.title.clone(),
            account_alias: account.alias.clone(),
            account_status,
            currency: account.base_currency.to_string(),
            kind: kind.into(),
            trading_type: "STKNOPT".into(),
            business_type: "IB_SALES".into(),
            category: String::new(),
            ib_entity: "IBLLC-US".into(),
            fa_client: false,
            clearing_status: "O".into(),
            covestor: false,
            no_client_trading: false,
            track_virtual_fx_portfolio: false,
            acct_cust_type: customer_type.into(),
            parent: AccountParent {
                mmc: Vec::new(),
                account_id: String::new(),
                is_m_parent: false,
                is_m_child: false,
                is_multiplex: false,
            },
            desc: id,
        }
    }
}

/// How IBKR names an account's ownership.
pub(crate) fn customer_type(kind: AccountKind) -> &'static str {
    match kind {
        AccountKind::Individual => "INDIVIDUAL",
        AccountKind::Joint => "JOINT",
        AccountKind::Organization => "ORG",
    }
}

async fn entitled_accounts(app: &AppState, caller: Caller) -> Result<Vec<AccountAttributes>, ApiError> {
    caller
        .read(app, |state, session| state.entitled_accounts(session).map(AccountAttributes::of).collect())
        .await
}

/// The accounts the caller may view.
#[utoipa::path(
    get,
    path = "/portfolio/accounts",
    operation_id = "getAllAccounts",
    tag = "Portfolio",
    responses(
        (status = 200, description = "The caller's accounts", body = Vec<AccountAttributes>),
        crate::docs::NotLoggedIn,
    )
)]
pub async fn portfolio_accounts(
    State(app): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<AccountAttributes>>, ApiError> {
    Ok(Json(entitled_accounts(&app, caller).await?))
}

/// The caller's sub-accounts. A user who is not an advisor sees their own accounts, as at
/// IBKR.
#[utoipa::path(
    get,
    path = "/portfolio/subaccounts",
    operation_id = "getAllSubaccounts",
    tag = "Portfolio",
    responses(
        (status = 200, description = "The caller's accounts", body = Vec<AccountAttributes>),
        crate::docs::NotLoggedIn,
    )
)]
pub async fn portfolio_subaccounts(
    State(app): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<AccountAttributes>>, ApiError> {
    Ok(Json(entitled_accounts(&app, caller).await?))
}

/// How many accounts a page of `portfolio/subaccounts2` holds.
const SUBACCOUNTS_PAGE: usize = 20;

/// `portfolio/subaccounts2`'s paging.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PageMetadata {
    page_num: usize,
    page_size: usize,
    total: usize,
}

/// A page of `portfolio/subaccounts2`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubaccountPage {
    metadata: PageMetadata,
    subaccounts: Vec<AccountAttributes>,
}

/// `portfolio/subaccounts2`'s query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SubaccountsQuery {
    /// The page, from 0.
    page: Option<String>,
}

/// The caller's accounts, 20 to a page, for structures too large for `portfolio/subaccounts`.
#[utoipa::path(
    get,
    path = "/portfolio/subaccounts2",
    operation_id = "getLargeSubaccounts",
    tag = "Portfolio",
    params(SubaccountsQuery),
    responses(
        (status = 200, description = "A page of the caller's accounts", body = SubaccountPage),
        (status = 400, description = "A page that is not a number", body = ErrorBody),
        crate::docs::NotLoggedIn,
    )
)]
pub async fn portfolio_subaccounts_paged(
    State(app): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<SubaccountsQuery>,
) -> Result<Json<SubaccountPage>, ApiError> {
    let raw = query.page.unwrap_or_default();
    let page: usize = if raw.trim().is_empty() {
        0
    } else {
        raw.trim().parse().map_err(|_| ApiError::bad_request(format!("Bad Request: invalid page {raw:?}")))?
    };
    let accounts = entitled_accounts(&app, caller).await?;
    let total = accounts.len();
    let subaccounts =
        accounts.into_iter().skip(page.saturating_mul(SUBACCOUNTS_PAGE)).take(SUBACCOUNTS_PAGE).collect();
    Ok(Json(SubaccountPage {
        metadata: PageMetadata { page_num: page, page_size: SUBACCOUNTS_PAGE, total },
        subaccounts,
    }))
}

/// A combination (spread) position; LocalBroker trades no combinations, so there are none.
#[derive(Debug, Serialize, ToSchema)]
pub struct ComboPosition {
    name: String,
    description: String,
}

/// The account's combination positions: always none, as LocalBroker's instruments are single
/// shares, currencies and coins. The account is still checked.
#[utoipa::path(
    get,
    path = "/portfolio/{accountId}/combo/positions",
    operation_id = "getComboPositions",
    tag = "Portfolio",
    params(
        ("accountId" = String, Path, description = "Account id"),
        ("nocache" = Option<bool>, Query, description = "Nothing is cached"),
    ),
    responses(
        (status = 200, description = "No combinations", body = Vec<ComboPosition>),
        crate::docs::NotCallersAccount,
    )
)]
pub async fn combo_positions(
    State(app): State<AppState>,
    caller: Caller,
    PathParams(account): PathParams<AccountSegment>,
) -> Result<Json<Vec<ComboPosition>>, ApiError> {
    valued(&app, caller, &account).await?;
    Ok(Json(Vec::new()))
}

/// The error for an account the caller may not view: 401, as IBKR answers it.
fn not_viewable(raw: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, format!("account {raw} is not available to this session"))
}

/// The account's portfolio at the current market instant, if the caller may view it.
///
/// # Errors
/// 401 for an account that is not the caller's (or not an account id) and when nobody is
/// logged in; 503 when the broker is stopping.
pub(crate) async fn valued(
    app: &AppState,
    caller: Caller,
    account: &AccountSegment,
) -> Result<Portfolio, ApiError> {
    valued_with(app, caller, account, |_, portfolio| portfolio).await
}

/// What `query` makes of the account's portfolio at the current market instant and of the
/// state it was valued in, if the caller may view the account.
///
/// # Errors
/// As [`valued`].
pub(crate) async fn valued_with<R, F>(
    app: &AppState,
    caller: Caller,
    account: &AccountSegment,
    query: F,
) -> Result<R, ApiError>
where
    R: Send + 'static,
    F: FnOnce(&EngineState, Portfolio) -> R + Send + 'static,
{
    valued_or(app, caller, account, not_viewable, query).await
}

/// As [`valued_with`], answering `refusal` for an account the caller may not view.
///
/// # Errors
/// `refusal` for an account that is not the caller's (or not an account id); 401 when nobody
/// is logged in; 503 when the broker is stopping.
pub(crate) async fn valued_or<R, F>(
    app: &AppState,
    caller: Caller,
    account: &AccountSegment,
    refusal: fn(&str) -> ApiError,
    query: F,
) -> Result<R, ApiError>
where
    R: Send + 'static,
    F: FnOnce(&EngineState, Portfolio) -> R + Send + 'static,
{
    let raw = account.raw.as_str();
    let id = account.id.clone().ok_or_else(|| refusal(raw))?;
    let wall = Timestamp::now();
    caller
        .read(app, move |state, session| {
            let at = state.market_time(wall);
            let portfolio =
                state.is_entitled(&session.user, &id).then(|| state.portfolio(&id, at)).flatten()?;
            Some(query(state, portfolio))
        })
        .await?
        .ok_or_else(|| refusal(raw))
}

/// The portfolios of every account the caller may view, at one market instant.
///
/// # Errors
/// 401 when nobody is logged in; 503 when the broker is stopping.
pub(crate) async fn valued_all(app: &AppState, caller: Caller) -> Result<Vec<Portfolio>, ApiError> {
    let wall = Timestamp::now();
    caller
        .read(app, move |state, session| {
            let at = state.market_time(wall);
            state.entitled_accounts(session).filter_map(|account| state.portfolio(&account.id, at)).collect()
        })
        .await
}

/// One account's attributes. An account the caller may not view answers 401, as IBKR's does.
#[utoipa::path(
    get,
    path = "/portfolio/{accountId}/meta",
    operation_id = "getPortfolioMetadata",
    tag = "Portfolio",
    params(("accountId" = String, Path, description = "Account id")),
    responses(
        (status = 200, description = "The account", body = AccountAttributes),
        crate::docs::NotCallersAccount,
    )
)]
pub async fn account_meta(
    State(app): State<AppState>,
    caller: Caller,
    PathParams(account): PathParams<AccountSegment>,
) -> Result<Json<AccountAttributes>, ApiError> {
    let AccountSegment { raw, id } = account;
    let id = id.ok_or_else(|| not_viewable(&raw))?;
    caller
        .read(&app, move |state, session| {
            let entitled = state.is_entitled(&session.user, &id);
            state.account(&id).filter(|_| entitled).map(AccountAttributes::of)
        })
        .await?
        .map(Json)
        .ok_or_else(|| not_viewable(&raw))
}

/// The routes of IBKR's "Trading Portfolio" tag.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(portfolio_accounts))
        .routes(routes!(portfolio_subaccounts))
        .routes(routes!(account_meta))
        .routes(routes!(portfolio_subaccounts_paged))
        .routes(routes!(combo_positions))
        .routes(routes!(positions::positions_page))
        .routes(routes!(positions::positions_first_page))
        .routes(routes!(positions::live_positions))
        .routes(routes!(positions::position))
        .routes(routes!(positions::positions_by_conid))
        .routes(routes!(positions::invalidate_positions))
        .routes(routes!(summary::portfolio_summary))
        .routes(routes!(ledger::portfolio_ledger))
        .routes(routes!(allocation::account_allocation))
        .routes(routes!(allocation::consolidated_allocation_get, allocation::consolidated_allocation_post))
}
