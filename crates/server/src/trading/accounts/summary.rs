//! `iserver/account/{accountId}/summary` and its views by segment (`available_funds`,
//! `balances`, `margins`, `market_value`): the brokerage session's account summary, from the
//! same valuation as the portfolio endpoints.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use engine::portfolio::{Portfolio, Segment};
use model::{AssetClass, Decimal};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{AccountSegment, PathParams};
use crate::state::AppState;
use crate::trading::invalid_account;
use crate::trading::portfolio::valued_or;
use crate::wire::grouped;
use engine::state::State as EngineState;
use market::calendar::Market;
use market::timeline::Timeline;

/// A whole number of the base currency, as this summary rounds its amounts.
fn whole(value: Decimal) -> f64 {
    crate::wire::float(value.round())
}

/// One currency's cash in the summary; the last row is the total in the base currency.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CashBalance {
    currency: String,
    balance: f64,
    settled_cash: f64,
}

/// The account summary, amounts rounded to whole units of the base currency as IBKR rounds
/// them.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountSummary {
    /// Empty for an individual account (recorded responses).
    account_type: String,
    status: String,
    /// Cash in every currency, in the base currency.
    balance: f64,
    #[serde(rename = "SMA")]
    sma: f64,
    buying_power: f64,
    available_funds: f64,
    excess_liquidity: f64,
    net_liquidation_value: f64,
    equity_with_loan_value: f64,
    /// What the account borrows: cash below zero.
    #[serde(rename = "regTLoan")]
    reg_t_loan: f64,
    #[serde(rename = "securitiesGVP")]
    securities_gvp: f64,
    total_cash_value: f64,
    accrued_interest: f64,
    #[serde(rename = "regTMargin")]
    reg_t_margin: f64,
    initial_margin: f64,
    maintenance_margin: f64,
    cash_balances: Vec<CashBalance>,
}

impl AccountSummary {
    fn of(portfolio: &Portfolio) -> Self {
        let cash = portfolio.total_cash();
        let mut cash_balances: Vec<CashBalance> = portfolio
            .currencies
            .values()
            .filter(|line| !line.cash.is_zero() || line.currency == portfolio.base)
            .map(|line| CashBalance {
                currency: line.currency.to_string(),
                balance: whole(line.cash),
                settled_cash: whole(line.settled_cash),
            })
            .collect();
        cash_balances.push(CashBalance {
            currency: format!("Total (in {})", portfolio.base),
            balance: whole(cash),
            settled_cash: whole(portfolio.settled_cash()),
        });
        Self {
            account_type: String::new(),
            status: String::new(),
            balance: whole(cash),
            sma: whole(portfolio.sma()),
            buying_power: whole(portfolio.buying_power()),
            available_funds: whole(portfolio.available_funds()),
            excess_liquidity: whole(portfolio.excess_liquidity()),
            net_liquidation_value: whole(portfolio.net_liquidation()),
            equity_with_loan_value: whole(portfolio.equity_with_loan()),
            reg_t_loan: whole((-cash).max(Decimal::ZERO)),
            securities_gvp: whole(portfolio.segment(Segment::Securities).gross_position_value()),
            total_cash_value: whole(cash),
            accrued_interest: whole(portfolio.interest_accrued()),
            reg_t_margin: whole(portfolio.reg_t_margin()),
            initial_margin: whole(portfolio.initial_margin()),
            maintenance_margin: whole(portfolio.maintenance_margin()),
            cash_balances,
        }
    }
}

/// The account's summary: balances, margin and funds.
#[utoipa::path(
    get,
    path = "/iserver/account/{accountId}/summary",
    operation_id = "getAccountSummary",
    tag = "Accounts",
    params(("accountId" = String, Path, description = "Account id")),
    responses(
        (status = 200, description = "The summary", body = AccountSummary),
        (status = 400, description = "Not an account of the caller", body = ErrorBody),
        crate::docs::NotLoggedIn,
    )
)]
pub async fn account_summary(
    State(app): State<AppState>,
    caller: Caller,
    PathParams(account): PathParams<AccountSegment>,
) -> Result<Json<AccountSummary>, ApiError> {
    let summary =
        valued_or(&app, caller, &account, invalid_account, |_, portfolio| AccountSummary::of(&portfolio));
    Ok(Json(summary.await?))
}

/// A view of the summary: per segment (`total`, `securities`, `commodities`,
/// `Crypto at Paxos`), display strings such as `"825,208 USD"` by label.
type SegmentView = BTreeMap<String, BTreeMap<String, String>>;

/// The parts of an account the views show, with their names there.
fn parts(portfolio: &Portfolio) -> [(&'static str, Option<Portfolio>); 4] {
    [
        ("total", Some(portfolio.clone())),
        ("securities", Some(portfolio.segment(Segment::Securities))),
        ("commodities", None),
        ("Crypto at Paxos", Some(portfolio.segment(Segment::Crypto))),
    ]
}

/// One figure of a view: an amount in the base currency, or text.
enum Cell {
    Money(Decimal),
    Text(String),
}

/// What a view's rows may read besides the part's figures: facts of the whole account, each
/// worked out only if a row asks for it.
struct AccountFacts<'a> {
    state: &'a EngineState,
    portfolio: &'a Portfolio,
}

impl AccountFacts<'_> {
    /// Day trades left today, or `None` where the pattern-day-trader rule does not apply.
    fn day_trades_left(&self) -> Option<usize> {
        self.state.day_trades_left(self.portfolio).map(|left| left[0])
    }

    /// When the look-ahead figures next take over: the coming regular close, New York time.
    fn next_change(&self) -> String {
        next_close(self.portfolio.at)
    }
}

/// The first regular close of the US stock market after `at`, as IBKR writes the time of the
/// next look-ahead change (`@ 16:00:00`).
fn next_close(at: jiff::Timestamp) -> String {
    let timeline = Timeline::of(Market::UsEquity);
    let zone = timeline.zone();
    let today = at.to_zoned_datetime(zone.clone()).date();
    let until = today.checked_add(jiff::Span::new().days(10)).unwrap_or(today);
    timeline
        .trading_days(today, until)
        .map(|day| timeline.start_of(day.regular.end))
        .find(|close| *close > at)
        .map(|close| close.to_zoned_datetime(zone.clone()).strftime("@ %H:%M:%S").to_string())
        .unwrap_or_default()
}

/// What a view shows of one part of the account.
type Rows = fn(&str, &Portfolio, &AccountFacts<'_>) -> Vec<(&'static str, Cell)>;

/// Builds a view: for each part, the labels `rows` gives it; an absent part (commodities, which
/// LocalBroker does not trade) shows zeros.
fn view(portfolio: &Portfolio, facts: &AccountFacts<'_>, rows: Rows) -> SegmentView {
    let empty = portfolio.segment(Segment::Crypto).segment(Segment::Securities);
    let text = |cell: Cell| match cell {
        Cell::Money(value) => format!("{} {}", grouped(value, 0), portfolio.base),
        Cell::Text(text) => text,
    };
    parts(portfolio)
        .into_iter()
        .map(|(name, part)| {
            let part = part.as_ref().unwrap_or(&empty);
            let labels =
                rows(name, part, facts).into_iter().map(|(label, cell)| (label.to_owned(), text(cell)));
            (name.to_owned(), labels.collect())
        })
        .collect()
}

async fn segment_view(
    app: &AppState,
    caller: Caller,
    account: &AccountSegment,
    rows: Rows,
) -> Result<Json<SegmentView>, ApiError> {
    let view = valued_or(app, caller, account, invalid_account, move |state, portfolio| {
        view(&portfolio, &AccountFacts { state, portfolio: &portfolio }, rows)
    });
    Ok(Json(view.await?))
}

/// Nothing LocalBroker lists expires, so what IBKR projects for after an expiry (its
/// `Prdctd Pst-xpry …` rows, the change expiring positions would bring) is zero.
const NO_EXPIRY: Decimal = Decimal::ZERO;

fn available_funds_rows(name: &str, part: &Portfolio, facts: &AccountFacts<'_>) -> Vec<(&'static str, Cell)> {
    let mut rows = vec![
        ("current_available", Cell::Money(part.available_funds())),
        ("current_excess", Cell::Money(part.excess_liquidity())),
        ("Prdctd Pst-xpry Excss", Cell::Money(NO_EXPIRY)),
        ("Lk Ahd Avlbl Fnds", Cell::Money(part.available_funds())),
        ("Lk Ahd Excss Lqdty", Cell::Money(part.excess_liquidity())),
        ("overnight_available", Cell::Money(part.available_funds())),
        ("overnight_excess", Cell::Money(part.excess_liquidity())),
    ];
    if matches!(name, "total" | "securities") {
        rows.push(("SMA", Cell::Money(part.sma())));
        rows.push(("leverage", Cell::Text(format!("{:.2}", part.leverage()))));
    }
    if name == "total" {
        rows.push(("buying_power", Cell::Money(part.buying_power())));
        rows.push(("Lk Ahd Nxt Chng", Cell::Text(facts.next_change())));
        let left = facts.day_trades_left().map_or_else(|| "Unlimited".to_owned(), |left| left.to_string());
        rows.push(("day_trades_left", Cell::Text(left)));
    }
    rows
}

fn balances_rows(name: &str, part: &Portfolio, _: &AccountFacts<'_>) -> Vec<(&'static str, Cell)> {
    let mut rows = vec![
        ("net_liquidation", Cell::Money(part.net_liquidation())),
        // Every price of the simulated market is known exactly.
        ("Nt Lqdtn Uncrtnty", Cell::Money(Decimal::ZERO)),
        ("equity_with_loan", Cell::Money(part.equity_with_loan())),
        ("cash", Cell::Money(part.total_cash())),
        ("MTD Interest", Cell::Money(part.interest_accrued())),
        ("Pndng Dbt Crd Chrgs", Cell::Money(Decimal::ZERO)),
    ];
    if matches!(name, "total" | "securities") {
        rows.push(("Prvs Dy Eqty Wth Ln Vl", Cell::Money(part.day_start)));
        rows.push(("sec_gross_pos_val", Cell::Money(part.gross_position_value())));
        rows.push(("Rg T Eqty Wth Ln Vl", Cell::Money(part.equity_with_loan())));
    }
    rows
}

fn margins_rows(name: &str, part: &Portfolio, _: &AccountFacts<'_>) -> Vec<(&'static str, Cell)> {
    let mut rows = vec![
        ("current_initial", Cell::Money(part.initial_margin())),
        ("Prdctd Pst-xpry Mrgn @ Opn", Cell::Money(NO_EXPIRY)),
        ("current_maint", Cell::Money(part.maintenance_margin())),
        ("projected_liquidity_inital_margin", Cell::Money(part.initial_margin())),
        ("Prjctd Lk Ahd Mntnnc Mrgn", Cell::Money(part.maintenance_margin())),
        ("projected_overnight_initial_margin", Cell::Money(part.initial_margin())),
        ("Prjctd Ovrnght Mntnnc Mrgn", Cell::Money(part.maintenance_margin())),
    ];
    if matches!(name, "total" | "securities") {
        rows.push(("RegT Margin", Cell::Money(part.reg_t_margin())));
    }
    rows
}

/// The account's funds by segment: available funds, excess liquidity, buying power.
#[utoipa::path(
    get,
    path = "/iserver/account/{accountId}/summary/available_funds",
    operation_id = "getAvailableFunds",
    tag = "Accounts",
    params(("accountId" = String, Path, description = "Account id")),
    responses(
        (status = 200, description = "Funds by segment", body = BTreeMap<String, BTreeMap<String, String>>),
        (status = 400, description = "Not an account of the caller", body = ErrorBody),
        crate::docs::NotLoggedIn,
    )
)]
pub async fn available_funds(
    State(app): State<AppState>,
    caller: Caller,
    PathParams(account): PathParams<AccountSegment>,
) -> Result<Json<SegmentView>, ApiError> {
    segment_view(&app, caller, &account, available_funds_rows).await
}

/// The account's balances by segment: net liquidation, equity, cash, gross position value.
#[utoipa::path(
    get,
    path = "/iserver/account/{accountId}/summary/balances",
    operation_id = "getBalances",
    tag = "Accounts",
    params(("accountId" = String, Path, description = "Account id")),
    responses(
        (status = 200, description = "Balances by segment", body = BTreeMap<String, BTreeMap<String, String>>),
        (status = 400, description = "Not an account of the caller", body = ErrorBody),
        crate::docs::NotLoggedIn,
    )
)]
pub async fn balances(
    State(app): State<AppState>,
    caller: Caller,
    PathParams(account): PathParams<AccountSegment>,
) -> Result<Json<SegmentView>, ApiError> {
    segment_view(&app, caller, &account, balances_rows).await
}

/// The account's margin requirements by segment.
#[utoipa::path(
    get,
    path = "/iserver/account/{accountId}/summary/margins",
    operation_id = "getMargins",
    tag = "Accounts",
    params(("accountId" = String, Path, description = "Account id")),
    responses(
        (status = 200, description = "Margins by segment", body = BTreeMap<String, BTreeMap<String, String>>),
        (status = 400, description = "Not an account of the caller", body = ErrorBody),
        crate::docs::NotLoggedIn,
    )
)]
pub async fn margins(
    State(app): State<AppState>,
    caller: Caller,
    PathParams(account): PathParams<AccountSegment>,
) -> Result<Json<SegmentView>, ApiError> {
    segment_view(&app, caller, &account, margins_rows).await
}

/// One column of the market-value view: a currency's figures in that currency, or the totals
/// in the base currency.
struct Column {
    currency: Option<model::Currency>,
    rate: Decimal,
    cash: Decimal,
    settled: Decimal,
    net: Decimal,
    unrealized: Decimal,
    realized: Decimal,
    dividends: Decimal,
    interest: Decimal,
}

/// What LocalBroker's accounts never hold, shown as zero in every column.
const NEVER_HELD: [&str; 14] = [
    "options",
    "futures",
    "future_options",
    "funds",
    "mutual_funds",
    "money_market",
    "bonds",
    "Govt Bonds",
    "t_bills",
    "warrants",
    "issuer_option",
    "commodity",
    "Notional CFD",
    "cfd",
];

/// The account's holdings and cash by currency, each in that currency, and their total in the
/// base currency under `Total (in <base>)`. Amounts are whole units with thousands separators,
/// the exchange rate a decimal, as IBKR writes them.
fn market_value(portfolio: &Portfolio) -> SegmentView {
    let of_class = |currency: Option<model::Currency>, class: AssetClass| match currency {
        Some(currency) => portfolio.market_value_in(currency, class),
        None => portfolio.market_value_of(class),
    };
    let row = |column: Column| {
        let mut row: BTreeMap<String, String> =
            NEVER_HELD.into_iter().map(|label| (label.to_owned(), grouped(Decimal::ZERO, 0))).collect();
        let figures = [
            ("total_cash", column.cash),
            ("settled_cash", column.settled),
            ("MTD Interest", column.interest),
            ("stock", of_class(column.currency, AssetClass::Stock)),
            ("Cryptocurrency", of_class(column.currency, AssetClass::Crypto)),
            ("dividends_receivable", column.dividends),
            ("net_liquidation", column.net),
            ("unrealized_pnl", column.unrealized),
            ("realized_pnl", column.realized),
        ];
        row.extend(figures.into_iter().map(|(label, value)| (label.to_owned(), grouped(value, 0))));
        row.insert("Exchange Rate".into(), format!("{:.6}", column.rate.round_dp(6)));
        row
    };
    let mut view: SegmentView = portfolio
        .currencies
        .values()
        .map(|line| {
            let column = Column {
                currency: Some(line.currency),
                rate: line.rate,
                cash: line.cash,
                settled: line.settled_cash,
                net: line.net_liquidation(),
                unrealized: line.unrealized,
                realized: line.realized,
                dividends: line.dividends,
                interest: line.interest,
            };
            (line.currency.to_string(), row(column))
        })
        .collect();
    let total = Column {
        currency: None,
        rate: Decimal::ONE,
        cash: portfolio.total_cash(),
        settled: portfolio.settled_cash(),
        net: portfolio.net_liquidation(),
        unrealized: portfolio.unrealized(),
        realized: portfolio.realized(),
        dividends: portfolio.dividends_receivable(),
        interest: portfolio.interest_accrued(),
    };
    view.insert(format!("Total (in {})", portfolio.base), row(total));
    view
}

/// The account's market value by currency.
#[utoipa::path(
    get,
    path = "/iserver/account/{accountId}/summary/market_value",
    operation_id = "getMarketValue",
    tag = "Accounts",
    params(("accountId" = String, Path, description = "Account id")),
    responses(
        (status = 200, description = "Values by currency", body = BTreeMap<String, BTreeMap<String, String>>),
        (status = 400, description = "Not an account of the caller", body = ErrorBody),
        crate::docs::NotLoggedIn,
    )
)]
pub async fn market_values(
    State(app): State<AppState>,
    caller: Caller,
    PathParams(account): PathParams<AccountSegment>,
) -> Result<Json<SegmentView>, ApiError> {
    Ok(Json(
        valued_or(&app, caller, &account, invalid_account, |_, portfolio| market_value(&portfolio)).await?,
    ))
}
