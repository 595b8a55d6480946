//! Brokerage accounts: `iserver/accounts`, `iserver/account` (switch) and
//! `iserver/account/search/{searchPattern}` (IBKR's "Trading Accounts" tag), with each
//! account's [`summary`] and [`pnl`].

pub mod pnl;
pub mod summary;

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use engine::Command;
use engine::state::{Account, Session, State as EngineState};
use model::AccountId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, PathParams};
use crate::state::{AppState, ServerIdentity};
use crate::trading::{ServerInfo, is_paper};

/// Per-account properties in `iserver/accounts`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountProperties {
    has_child_accounts: bool,
    supports_cash_qty: bool,
    lite_under_pro: bool,
    #[serde(rename = "noFXConv")]
    no_fx_conv: bool,
    is_prop: bool,
    supports_fractions: bool,
    allow_customer_time: bool,
    auto_fx: bool,
}

impl AccountProperties {
    /// LocalBroker's accounts take cash-quantity orders and currency conversions; they hold
    /// whole shares only.
    fn of_localbroker() -> Self {
        Self {
            has_child_accounts: false,
            supports_cash_qty: true,
            lite_under_pro: false,
            no_fx_conv: false,
            is_prop: false,
            supports_fractions: false,
            allow_customer_time: false,
            auto_fx: false,
        }
    }
}

/// The account features IBKR grants a user, as `iserver/accounts` lists them.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AllowedFeatures {
    #[serde(rename = "showGFIS")]
    show_gfis: bool,
    #[serde(rename = "showEUCostReport")]
    show_eu_cost_report: bool,
    allow_event_contract: bool,
    #[serde(rename = "allowFXConv")]
    allow_fx_conv: bool,
    allow_financial_lens: bool,
    #[serde(rename = "allowMTA")]
    allow_mta: bool,
    allow_type_ahead: bool,
    allow_event_trading: bool,
    snapshot_refresh_timeout: u32,
    lite_user: bool,
    show_web_news: bool,
    research: bool,
    debug_pnl: bool,
    show_tax_opt: bool,
    show_impact_dashboard: bool,
    allow_dyn_account: bool,
    allow_crypto: bool,
    #[serde(rename = "allowFA")]
    allow_fa: bool,
    allow_lite_under_pro: bool,
    allowed_asset_types: String,
    restrict_trade_subscription: bool,
    show_uk_user_labels: bool,
    side_by_side: bool,
}

impl AllowedFeatures {
    /// What LocalBroker's users may do: trade stocks and currencies, convert currencies; no
    /// advisor, crypto, event or dynamic-account features.
    fn of_localbroker() -> Self {
        Self {
            show_gfis: false,
            show_eu_cost_report: false,
            allow_event_contract: false,
            allow_fx_conv: true,
            allow_financial_lens: false,
            allow_mta: false,
            allow_type_ahead: true,
            allow_event_trading: false,
            snapshot_refresh_timeout: 30,
            lite_user: false,
            show_web_news: false,
            research: false,
            debug_pnl: false,
            show_tax_opt: false,
            show_impact_dashboard: false,
            allow_dyn_account: false,
            allow_crypto: false,
            allow_fa: false,
            allow_lite_under_pro: false,
            allowed_asset_types: "STK,CASH".into(),
            restrict_trade_subscription: false,
            show_uk_user_labels: false,
            side_by_side: true,
        }
    }
}

/// `iserver/accounts`'s answer (IBKR's `userAccountsResponse`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BrokerageAccounts {
    accounts: Vec<String>,
    acct_props: BTreeMap<String, AccountProperties>,
    aliases: BTreeMap<String, String>,
    allow_features: AllowedFeatures,
    chart_periods: BTreeMap<String, Vec<String>>,
    groups: Vec<String>,
    profiles: Vec<String>,
    selected_account: String,
    server_info: ServerInfo,
    session_id: String,
    /// `isFT` as in the spec's example and recorded responses; the spec's schema says `isFt`.
    #[serde(rename = "isFT")]
    is_ft: bool,
    is_paper: bool,
}

/// The name the Trading API shows for an account: the alias its holder gave it (through
/// Account Management or its application), else its id, as IBKR shows an account without one.
fn alias_of(account: &Account) -> String {
    account.alias.clone().unwrap_or_else(|| account.id.to_string())
}

impl BrokerageAccounts {
    /// The session's accounts, as `iserver/accounts` and the websocket's `act` message list
    /// them.
    pub(crate) fn of(state: &EngineState, session: &Session, identity: &ServerIdentity) -> Self {
        let entitled: Vec<_> = state.entitled_accounts(session).collect();
        let paper = entitled.iter().all(|account| is_paper(&account.id));
        let ids: Vec<String> = entitled.iter().map(|account| account.id.to_string()).collect();
        Self {
            acct_props: ids.iter().map(|id| (id.clone(), AccountProperties::of_localbroker())).collect(),
            aliases: entitled.iter().map(|account| (account.id.to_string(), alias_of(account))).collect(),
            allow_features: AllowedFeatures::of_localbroker(),
            chart_periods: ["STK", "CASH"]
                .into_iter()
                .map(|sec| (sec.to_owned(), vec!["*".to_owned()]))
                .collect(),
            groups: Vec::new(),
            profiles: Vec::new(),
            selected_account: session.selected_account.to_string(),
            server_info: ServerInfo::of(identity),
            session_id: brokerage_session_id(session.id.as_str()),
            is_ft: false,
            is_paper: paper,
            accounts: ids,
        }
    }
}

/// The accounts the caller may trade, and the one selected.
#[utoipa::path(
    get,
    path = "/iserver/accounts",
    operation_id = "getBrokerageAccounts",
    tag = "Accounts",
    responses(
        (status = 200, description = "The caller's brokerage accounts", body = BrokerageAccounts),
        crate::docs::NotLoggedIn,
    )
)]
pub async fn brokerage_accounts(
    State(app): State<AppState>,
    caller: Caller,
) -> Result<Json<BrokerageAccounts>, ApiError> {
    let identity = app.identity.clone();
    let accounts =
        caller.read(&app, move |state, session| BrokerageAccounts::of(state, session, &identity)).await?;
    Ok(Json(accounts))
}

/// IBKR's `sessionId` is two hex groups joined by a dot (`65ee8a41.0000001e`); LocalBroker
/// forms it from the session id's first sixteen digits.
fn brokerage_session_id(session: &str) -> String {
    let head = session.get(..8).unwrap_or(session);
    let tail = session.get(8..16).unwrap_or_default();
    format!("{head}.{tail}")
}

/// `iserver/account`'s body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SwitchAccountRequest {
    /// The account to act on by default.
    #[serde(rename = "acctId")]
    acct_id: Option<String>,
}

/// `iserver/account`'s answer: IBKR's `setAccountResponse`, or, when the account was already
/// selected, IBKR's `{"success": "Account already set"}`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum SwitchAccountResponse {
    /// The selection changed.
    Set {
        set: bool,
        #[serde(rename = "acctId")]
        acct_id: String,
    },
    /// Nothing to change.
    AlreadySet { success: String },
}

/// Switches the account that trading calls act on when they name none.
#[utoipa::path(
    post,
    path = "/iserver/account",
    operation_id = "setActiveAccount",
    tag = "Accounts",
    request_body = SwitchAccountRequest,
    responses(
        (status = 200, description = "The account is selected", body = SwitchAccountResponse),
        (status = 400, description = "No such account for this user", body = ErrorBody),
        crate::docs::NotLoggedIn,
    )
)]
pub async fn switch_account(
    State(app): State<AppState>,
    caller: Caller,
    JsonBody(request): JsonBody<SwitchAccountRequest>,
) -> Result<Json<SwitchAccountResponse>, ApiError> {
    let raw = request.acct_id.ok_or_else(|| ApiError::bad_request("Bad Request: acctId is required"))?;
    let account: AccountId = raw
        .parse()
        .map_err(|_| ApiError::bad_request(format!("Bad Request: accountId is not valid: {raw}")))?;
    let (session, current) =
        caller.read(&app, |_, session| (session.id.clone(), session.selected_account.clone())).await?;
    if current == account {
        return Ok(Json(SwitchAccountResponse::AlreadySet { success: "Account already set".into() }));
    }
    app.broker.execute(Command::SelectAccount { session, account: account.clone() }).await?;
    Ok(Json(SwitchAccountResponse::Set { set: true, acct_id: account.to_string() }))
}

/// One match of an account search.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MatchedAccount {
    account_id: String,
    alias: String,
    allocation_id: String,
}

/// `iserver/account/search`'s answer.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountSearch {
    matched_accounts: Vec<MatchedAccount>,
    pattern: String,
}

/// Searches the caller's accounts by id or holder name. IBKR reserves this search for
/// advisors with dynamic accounts and answers 503 to others; LocalBroker answers every user,
/// with their own accounts only.
#[utoipa::path(
    get,
    path = "/iserver/account/search/{searchPattern}",
    operation_id = "getDynamicAccounts",
    tag = "Accounts",
    params(("searchPattern" = String, Path, description = "Part of an account id or holder name")),
    responses(
        (status = 200, description = "Matching accounts", body = AccountSearch),
        crate::docs::NotLoggedIn,
    )
)]
pub async fn search_accounts(
    State(app): State<AppState>,
    caller: Caller,
    PathParams(pattern): PathParams<String>,
) -> Result<Json<AccountSearch>, ApiError> {
    let needle = pattern.to_ascii_uppercase();
    let matched_accounts = caller
        .read(&app, move |state, session| {
            state
                .entitled_accounts(session)
                .filter(|a| a.id.as_str().contains(&needle) || a.title.to_ascii_uppercase().contains(&needle))
                .map(|a| MatchedAccount {
                    account_id: a.id.to_string(),
                    alias: alias_of(a),
                    allocation_id: a.id.to_string(),
                })
                .collect()
        })
        .await?;
    Ok(Json(AccountSearch { matched_accounts, pattern }))
}

/// The routes of IBKR's "Trading Accounts" tag, with each account's summary and P&L.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(brokerage_accounts))
        .routes(routes!(switch_account))
        .routes(routes!(search_accounts))
        .routes(routes!(summary::account_summary))
        .routes(routes!(summary::available_funds))
        .routes(routes!(summary::balances))
        .routes(routes!(summary::margins))
        .routes(routes!(summary::market_values))
        .routes(routes!(pnl::partitioned_pnl))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_brokerage_session_id_has_ibkrs_form() {
        assert_eq!(brokerage_session_id("1f4d946a3d7625921497fb9b88786662"), "1f4d946a.3d762592");
        assert_eq!(brokerage_session_id("short"), "short.");
    }
}
