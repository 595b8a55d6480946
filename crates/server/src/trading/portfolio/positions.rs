//! Positions: `portfolio/{accountId}/positions/{pageId}`, `portfolio2/{accountId}/positions`,
//! `portfolio/{accountId}/position/{conid}`, `portfolio/positions/{conid}` and
//! `portfolio/{accountId}/positions/invalidate`.
//!
//! Every row is a holding of one [`engine::portfolio::Portfolio`], read in one engine query, so
//! market values and P&L agree with the summary and the ledger at the same instant.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use engine::portfolio::{Holding, Portfolio};
use model::{AssetClass, ShareKind};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{valued, valued_all};
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{AccountSegment, ConidSegment, PathParams, QueryParams};
use crate::state::AppState;
use crate::trading::contracts::secdef::DisplayRule;
use crate::trading::contracts::{IncrementRule, country_code, increment_rules, sec_type};
use crate::wire::float;
use crate::wire::whole_or_double;

/// How many rows a page of `portfolio/{accountId}/positions/{pageId}` holds.
pub const PAGE_SIZE: usize = 100;

/// A position as `portfolio/{accountId}/positions/{pageId}` reports it, with its contract's
/// details merged in (IBKR adds them once it has the security definition, which LocalBroker
/// always has). Key order follows recorded responses.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PositionRow {
    acct_id: String,
    conid: u32,
    contract_desc: String,
    #[schema(value_type = f64)]
    position: serde_json::Number,
    mkt_price: f64,
    mkt_value: f64,
    currency: String,
    avg_cost: f64,
    avg_price: f64,
    realized_pnl: f64,
    unrealized_pnl: f64,
    /// The same figures in the account's base currency, at the rate the account is valued at.
    base_mkt_value: f64,
    base_mkt_price: f64,
    base_avg_cost: f64,
    base_avg_price: f64,
    base_realized_pnl: f64,
    base_unrealized_pnl: f64,
    exchs: Option<String>,
    expiry: Option<String>,
    put_or_call: Option<String>,
    /// IBKR reports 0 for shares once the definition is merged (recorded responses).
    multiplier: f64,
    /// A string once the definition is merged (recorded responses).
    strike: String,
    exercise_style: Option<String>,
    con_exch_map: Vec<String>,
    asset_class: String,
    und_conid: u32,
    model: String,
    increment_rules: Vec<IncrementRule>,
    display_rule: DisplayRule,
    /// How old the row's market data is, in milliseconds: LocalBroker values it when asked.
    time: u32,
    /// The contract's name in Chinese, HTML-escaped as IBKR sends it; the catalogue has none.
    chinese_name: String,
    all_exchanges: String,
    listing_exchange: String,
    country_code: String,
    name: String,
    last_trading_day: Option<String>,
    group: Option<String>,
    sector: Option<String>,
    sector_group: Option<String>,
    ticker: String,
    #[serde(rename = "type")]
    kind: String,
    has_options: bool,
    full_name: String,
    #[serde(rename = "isUS")]
    is_us: bool,
    is_event_contract: bool,
    page_size: usize,
}

impl PositionRow {
    fn of(portfolio: &Portfolio, holding: &Holding) -> Self {
        let instrument = holding.instrument;
        let kind = match (instrument.asset_class, instrument.share_kind) {
            (AssetClass::Stock, Some(ShareKind::Etf)) => "ETF",
            (AssetClass::Stock, _) => "COMMON",
            _ => "",
        };
        let average = float(holding.average_cost());
        let base = portfolio.holding_in_base(holding);
        Self {
            acct_id: portfolio.account.to_string(),
            conid: instrument.conid.get(),
            contract_desc: instrument.local_symbol(),
            position: whole_or_double(holding.quantity),
            mkt_price: float(holding.mark),
            mkt_value: float(holding.market_value()),
            currency: instrument.currency.to_string(),
            avg_cost: average,
            avg_price: average,
            realized_pnl: float(holding.realized),
            unrealized_pnl: float(holding.unrealized()),
            base_mkt_value: float(base.market_value),
            base_mkt_price: float(base.mark),
            base_avg_cost: float(base.average_cost),
            base_avg_price: float(base.average_cost),
            base_realized_pnl: float(base.realized),
            base_unrealized_pnl: float(base.unrealized),
            exchs: None,
            expiry: None,
            put_or_call: None,
            multiplier: 0.0,
            strike: "0".into(),
            exercise_style: None,
            con_exch_map: Vec::new(),
            asset_class: sec_type(instrument).into(),
            und_conid: 0,
            model: String::new(),
            increment_rules: increment_rules(instrument),
            display_rule: DisplayRule::of(instrument),
            time: 0,
            chinese_name: String::new(),
            all_exchanges: instrument.exchanges.join(","),
            listing_exchange: instrument.listing_exchange.clone(),
            country_code: country_code(instrument).into(),
            name: instrument.name.clone(),
            last_trading_day: None,
            group: instrument.category.clone(),
            sector: instrument.industry.clone(),
            sector_group: None,
            ticker: instrument.symbol.clone(),
            kind: kind.into(),
            has_options: false,
            full_name: instrument.local_symbol(),
            is_us: country_code(instrument) == "US",
            is_event_contract: false,
            page_size: PAGE_SIZE,
        }
    }

    /// The column `sort` names, compared; unknown columns sort by name.
    fn compare(&self, other: &Self, column: &str) -> Ordering {
        let number = |row: &Self| match column {
            "position" => row.position.as_f64(),
            "mktPrice" => Some(row.mkt_price),
            "mktValue" => Some(row.mkt_value),
            "avgCost" => Some(row.avg_cost),
            "avgPrice" => Some(row.avg_price),
            "realizedPnl" => Some(row.realized_pnl),
            "unrealizedPnl" => Some(row.unrealized_pnl),
            "conid" => Some(f64::from(row.conid)),
            _ => None,
        };
        match (number(self), number(other)) {
            (Some(a), Some(b)) => a.total_cmp(&b),
            _ => match column {
                "currency" => self.currency.cmp(&other.currency),
                "assetClass" => self.asset_class.cmp(&other.asset_class),
                _ => self.contract_desc.cmp(&other.contract_desc),
            },
        }
    }
}

/// Ordering of the positions list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PositionsQuery {
    /// Column to sort by, such as `position` or `mktValue`; by name when absent or unknown.
    sort: Option<String>,
    /// `a` (ascending, the default) or `d`.
    direction: Option<String>,
}

fn ordered(mut rows: Vec<PositionRow>, query: &PositionsQuery) -> Result<Vec<PositionRow>, ApiError> {
    let descending = match query.direction.as_deref().map(str::trim) {
        None | Some("" | "a" | "A") => false,
        Some("d" | "D") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "Bad Request: direction must be a or d, not {other:?}"
            )));
        }
    };
    let column = query.sort.as_deref().unwrap_or("name");
    rows.sort_by(|a, b| {
        let order = a.compare(b, column).then(a.conid.cmp(&b.conid));
        if descending { order.reverse() } else { order }
    });
    Ok(rows)
}

fn rows(portfolio: &Portfolio) -> Vec<PositionRow> {
    portfolio.holdings.iter().map(|holding| PositionRow::of(portfolio, holding)).collect()
}

/// A page of the account's positions, 100 to a page from page 0; past the last page, `[]`.
#[utoipa::path(
    get,
    path = "/portfolio/{accountId}/positions/{pageId}",
    operation_id = "getPaginatedPositions",
    tag = "Portfolio",
    params(
        ("accountId" = String, Path, description = "Account id"),
        ("pageId" = u32, Path, description = "Page, from 0"),
        PositionsQuery,
        ("model" = Option<String>, Query, description = "Model portfolio; there are none, so it changes nothing"),
        ("period" = Option<String>, Query, description = "P&L period; P&L is always since the position opened"),
        ("waitForSecDef" = Option<bool>, Query, description = "Contract details are always merged in"),
    ),
    responses(
        (status = 200, description = "The page's positions", body = Vec<PositionRow>),
        (status = 400, description = "A page or direction that is not one", body = ErrorBody),
        crate::docs::NotCallersAccount,
    )
)]
pub async fn positions_page(
    State(app): State<AppState>,
    caller: Caller,
    PathParams((account, page)): PathParams<(AccountSegment, String)>,
    QueryParams(query): QueryParams<PositionsQuery>,
) -> Result<Json<Vec<PositionRow>>, ApiError> {
    let page: usize = page
        .trim()
        .parse()
        .map_err(|_| ApiError::bad_request(format!("Bad Request: invalid page {page:?}")))?;
    page_of(&app, caller, &account, page, &query).await
}

/// The first page of the account's positions: IBKR's gateway takes the path without its page
/// as page 0, and clients written against older documentation call it so.
#[utoipa::path(
    get,
    path = "/portfolio/{accountId}/positions",
    operation_id = "getFirstPositionsPage",
    tag = "Portfolio",
    params(
        ("accountId" = String, Path, description = "Account id"),
        PositionsQuery,
    ),
    responses(
        (status = 200, description = "The first page's positions", body = Vec<PositionRow>),
        (status = 400, description = "A direction that is not one", body = ErrorBody),
        crate::docs::NotCallersAccount,
    )
)]
pub async fn positions_first_page(
    State(app): State<AppState>,
    caller: Caller,
    PathParams(account): PathParams<AccountSegment>,
    QueryParams(query): QueryParams<PositionsQuery>,
) -> Result<Json<Vec<PositionRow>>, ApiError> {
    page_of(&app, caller, &account, 0, &query).await
}

/// Page `page` of the account's positions, ordered as `query` asks.
async fn page_of(
    app: &AppState,
    caller: Caller,
    account: &AccountSegment,
    page: usize,
    query: &PositionsQuery,
) -> Result<Json<Vec<PositionRow>>, ApiError> {
    let portfolio = valued(app, caller, account).await?;
    let rows = ordered(rows(&portfolio), query)?;
    Ok(Json(rows.into_iter().skip(page.saturating_mul(PAGE_SIZE)).take(PAGE_SIZE).collect()))
}

/// A position as `portfolio2/{accountId}/positions` reports it: fewer fields, unrounded, the
/// conid as a string (recorded responses; the spec's schema says a number).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LivePosition {
    #[schema(value_type = f64)]
    position: serde_json::Number,
    conid: String,
    avg_cost: f64,
    avg_price: f64,
    currency: String,
    description: String,
    is_last_to_loq: bool,
    market_price: f64,
    market_value: f64,
    realized_pnl: f64,
    sec_type: String,
    /// Market time of the valuation, epoch seconds.
    timestamp: i64,
    unrealized_pnl: f64,
    asset_class: String,
    sector: Option<String>,
    group: Option<String>,
    model: String,
}

/// The account's positions, valued now; not paged.
#[utoipa::path(
    get,
    path = "/portfolio2/{accountId}/positions",
    operation_id = "getPositions2",
    tag = "Portfolio",
    params(("accountId" = String, Path, description = "Account id"), PositionsQuery),
    responses(
        (status = 200, description = "The positions", body = Vec<LivePosition>),
        crate::docs::NotCallersAccount,
    )
)]
pub async fn live_positions(
    State(app): State<AppState>,
    caller: Caller,
    PathParams(account): PathParams<AccountSegment>,
    QueryParams(query): QueryParams<PositionsQuery>,
) -> Result<Json<Vec<LivePosition>>, ApiError> {
    let portfolio = valued(&app, caller, &account).await?;
    let timestamp = portfolio.at.as_second();
    let rows = ordered(rows(&portfolio), &query)?;
    let live = rows.into_iter().map(|row| LivePosition {
        position: row.position,
        conid: row.conid.to_string(),
        avg_cost: row.avg_cost,
        avg_price: row.avg_price,
        currency: row.currency,
        description: row.contract_desc,
        is_last_to_loq: false,
        market_price: row.mkt_price,
        market_value: row.mkt_value,
        realized_pnl: row.realized_pnl,
        sec_type: row.asset_class.clone(),
        timestamp,
        unrealized_pnl: row.unrealized_pnl,
        asset_class: row.asset_class,
        sector: row.sector,
        group: row.group,
        model: row.model,
    });
    Ok(Json(live.collect()))
}

/// The account's position in one contract: a list of one row, or an empty list when there is
/// none.
#[utoipa::path(
    get,
    path = "/portfolio/{accountid}/position/{conid}",
    operation_id = "getPositionByAcctConid",
    tag = "Portfolio",
    params(
        ("accountid" = String, Path, description = "Account id"),
        ("conid" = u32, Path, description = "Contract id"),
    ),
    responses(
        (status = 200, description = "The position", body = Vec<PositionRow>),
        (status = 400, description = "Not a conid", body = ErrorBody),
        crate::docs::NotCallersAccount,
    )
)]
pub async fn position(
    State(app): State<AppState>,
    caller: Caller,
    PathParams((account, conid)): PathParams<(AccountSegment, ConidSegment)>,
) -> Result<Json<Vec<PositionRow>>, ApiError> {
    let ConidSegment(conid) = conid;
    let portfolio = valued(&app, caller, &account).await?;
    let row = portfolio.holding(conid).map(|holding| PositionRow::of(&portfolio, holding));
    Ok(Json(row.into_iter().collect()))
}

/// The caller's positions in one contract, in every account the caller may see, keyed by
/// account; accounts without a position are left out.
#[utoipa::path(
    get,
    path = "/portfolio/positions/{conid}",
    operation_id = "getPositionsByConid",
    tag = "Portfolio",
    params(("conid" = u32, Path, description = "Contract id")),
    responses(
        (status = 200, description = "Positions by account", body = BTreeMap<String, Vec<PositionRow>>),
        (status = 400, description = "Not a conid", body = ErrorBody),
        crate::docs::NotLoggedIn,
    )
)]
pub async fn positions_by_conid(
    State(app): State<AppState>,
    caller: Caller,
    PathParams(ConidSegment(conid)): PathParams<ConidSegment>,
) -> Result<Json<BTreeMap<String, Vec<PositionRow>>>, ApiError> {
    let portfolios = valued_all(&app, caller).await?;
    let held = portfolios.iter().filter_map(|portfolio| {
        let holding = portfolio.holding(conid)?;
        Some((portfolio.account.to_string(), vec![PositionRow::of(portfolio, holding)]))
    });
    Ok(Json(held.collect()))
}

/// What `positions/invalidate` answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct Invalidated {
    /// `success`.
    message: String,
}

/// Drops the account's cached positions. LocalBroker values positions on every request, so
/// there is nothing to drop; the account is still checked.
#[utoipa::path(
    post,
    path = "/portfolio/{accountId}/positions/invalidate",
    operation_id = "invalidatePositions",
    tag = "Portfolio",
    params(("accountId" = String, Path, description = "Account id")),
    responses(
        (status = 200, description = "Done", body = Invalidated),
        crate::docs::NotCallersAccount,
    )
)]
pub async fn invalidate_positions(
    State(app): State<AppState>,
    caller: Caller,
    PathParams(account): PathParams<AccountSegment>,
) -> Result<Json<Invalidated>, ApiError> {
    valued(&app, caller, &account).await?;
    Ok(Json(Invalidated { message: "success".into() }))
}
