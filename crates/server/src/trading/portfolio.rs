//! Portfolio accounts: `portfolio/accounts`, `portfolio/subaccounts`, `portfolio/{accountId}/meta`
//! (IBKR's "Trading Portfolio" tag).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use engine::state::Account;
use jiff::tz::TimeZone;
use model::{AccountId, AccountKind};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::PathParams;
use crate::state::AppState;
use crate::trading::is_paper;

/// An account as the portfolio endpoints describe it (IBKR's `accountAttributes`). Key
/// spellings follow the wire, not the spec's schema: `faclient` is lower-case (the spec's own
/// example and recorded responses, though its schema says `faClient`) and the prepaid-crypto
/// flags carry hyphens (recorded responses). `businessType` is `INDEPENDENT`, as recorded paper
/// accounts report it, although the schema's enum lists only `IB_SALES` and `IB_PROSERVE`.
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
        let customer_type = match account.kind {
            AccountKind::Individual => "INDIVIDUAL",
            AccountKind::Joint => "JOINT",
            AccountKind::Organization => "ORG",
        };
        // IBKR reports paper accounts as type DEMO whatever their ownership.
        let kind = if is_paper(&account.id) { "DEMO" } else { customer_type };
        let new_york = TimeZone::get("America/New_York").unwrap_or(TimeZone::UTC);
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
            account_alias: None,
            account_status,
            currency: account.base_currency.to_string(),
            kind: kind.into(),
            trading_type: "STKNOPT".into(),
            business_type: "INDEPENDENT".into(),
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
        (status = 401, description = "Nobody is logged in", body = ErrorBody),
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
        (status = 401, description = "Nobody is logged in", body = ErrorBody),
    )
)]
pub async fn portfolio_subaccounts(
    State(app): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<AccountAttributes>>, ApiError> {
    Ok(Json(entitled_accounts(&app, caller).await?))
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
        (status = 401, description = "Not logged in, or not an account of the caller", body = ErrorBody),
    )
)]
pub async fn account_meta(
    State(app): State<AppState>,
    caller: Caller,
    PathParams(raw): PathParams<String>,
) -> Result<Json<AccountAttributes>, ApiError> {
    let not_viewable =
        ApiError::new(StatusCode::UNAUTHORIZED, format!("account {raw} is not available to this session"));
    let Ok(id) = raw.parse::<AccountId>() else {
        return Err(not_viewable);
    };
    caller
        .read(&app, move |state, session| {
            let entitled = state.is_entitled(&session.user, &id);
            state.account(&id).filter(|_| entitled).map(AccountAttributes::of)
        })
        .await?
        .map(Json)
        .ok_or(not_viewable)
}
