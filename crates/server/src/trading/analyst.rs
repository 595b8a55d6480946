//! Portfolio Analyst (IBKR's "Trading Portfolio Analyst" tag): `pa/performance`,
//! `pa/allperiods` and `pa/transactions`, written from the engine's performance and
//! transaction reports ([`engine::reports::performance`], [`engine::reports::transactions`]).

use axum::Json;
use axum::extract::State;
use engine::reports::performance::{self, Period, Series};
use engine::reports::transactions::Transactions as Traded;
use jiff::Timestamp;
use jiff::civil::Date;
use market::calendar::new_york;
use model::{AccountId, Conid, Currency, Decimal, Side};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::JsonBody;
use crate::state::AppState;
use crate::wire::{float, whole_or_double};

/// The periods `pa/performance` accepts, by IBKR's codes: its spec's and its clients'.
const PERIODS: [(&str, Period); 9] = [
    ("1D", Period::OneDay),
    ("7D", Period::SevenDays),
    ("MTD", Period::MonthToDate),
    ("1M", Period::OneMonth),
    ("3M", Period::ThreeMonths),
    ("6M", Period::SixMonths),
    ("12M", Period::TwelveMonths),
    ("YTD", Period::YearToDate),
    ("1Y", Period::TwelveMonths),
];

/// The periods `pa/allperiods` reports, as IBKR lists them.
const ALL_PERIODS: [(&str, Period); 6] = [
    ("1D", Period::OneDay),
    ("7D", Period::SevenDays),
    ("MTD", Period::MonthToDate),
    ("1M", Period::OneMonth),
    ("YTD", Period::YearToDate),
    ("1Y", Period::TwelveMonths),
];

fn compact(date: Date) -> String {
    date.strftime("%Y%m%d").to_string()
}

/// A return as Portfolio Analyst shows it: to eight decimals.
fn rate_of_return(value: Decimal) -> f64 {
    float(value.round_dp(8))
}

fn dates(series: &Series) -> Vec<String> {
    series.days.iter().map(|day| compact(day.date)).collect()
}

fn navs(series: &Series) -> Vec<f64> {
    series.days.iter().map(|day| float(day.net_liquidation.round_dp(2))).collect()
}

fn cumulative(series: &Series) -> Vec<f64> {
    series.cumulative_returns().into_iter().map(rate_of_return).collect()
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::bad_request(format!("Bad Request: {}", message.into()))
}

/// The accounts named by `raw`, the caller's, consolidated back to the earliest of `periods`.
async fn history(
    app: &AppState,
    caller: Caller,
    raw: Vec<String>,
    periods: Vec<Period>,
) -> Result<(Vec<String>, performance::Performance), ApiError> {
    if raw.is_empty() {
        return Err(invalid("acctIds must name at least one account"));
    }
    let ids: Vec<AccountId> = raw
        .iter()
        .map(|id| id.trim().parse().map_err(|_| invalid(format!("acctIds names an unknown account {id:?}"))))
        .collect::<Result<_, _>>()?;
    let names = ids.iter().map(ToString::to_string).collect();
    let wall = Timestamp::now();
    let read = caller
        .read(app, move |state, session| -> Result<performance::Performance, String> {
            let unknown = |id: &AccountId| format!("acctIds names an unknown account \"{id}\"");
            if let Some(id) =
                ids.iter().find(|id| state.account(id).is_none() || !state.is_entitled(&session.user, id))
            {
                return Err(unknown(id));
            }
            state.performance(&ids, &periods, state.market_time(wall)).ok_or_else(|| unknown(&ids[0]))
        })
        .await?;
    Ok((names, read.map_err(invalid)?))
}

/// `pa/performance`'s body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PerformanceRequest {
    acct_ids: Vec<String>,
    /// `1D`, `7D`, `MTD`, `1M`, `3M`, `6M`, `12M` (the default), `YTD` or `1Y`.
    period: Option<String>,
}

/// One account's (or the consolidated) series of a performance block.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SeriesData {
    id: String,
    id_type: String,
    #[serde(rename = "startNAV", skip_serializing_if = "Option::is_none")]
    start_nav: Option<StartNav>,
    start: String,
    end: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    returns: Option<Vec<f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    navs: Option<Vec<f64>>,
    base_currency: String,
}

/// The value the period's returns start from, and its date.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StartNav {
    date: String,
    val: f64,
}

/// A block of `pa/performance`: dates and one series.
#[derive(Debug, Serialize, ToSchema)]
pub struct Block {
    freq: String,
    dates: Vec<String>,
    data: Vec<SeriesData>,
}

/// `pa/performance`'s answer: cumulative returns (`cps`), returns per month (`tpps`) and
/// daily values (`nav`).
#[derive(Debug, Serialize, ToSchema)]
pub struct Performance {
    /// IBKR's return code: 0, the answer is complete.
    rc: u32,
    cps: Block,
    tpps: Block,
    nav: Block,
    pm: String,
    nd: i64,
    id: String,
    included: Vec<String>,
    #[serde(rename = "currencyType")]
    currency_type: String,
}

fn days_inclusive(start: Date, end: Date) -> i64 {
    start.until(end).map_or(0, |span| i64::from(span.get_days())) + 1
}

/// The accounts' value and time-weighted returns over a period.
#[utoipa::path(
    post,
    path = "/pa/performance",
    operation_id = "getPerformance",
    tag = "Portfolio Analyst",
    request_body = PerformanceRequest,
    responses(
        (status = 200, description = "Returns and values", body = Performance),
        (status = 400, description = "No accounts, an account not the caller's, or an unknown period", body = ErrorBody),
        crate::docs::NotLoggedIn,
    )
)]
pub async fn performance(
    State(app): State<AppState>,
    caller: Caller,
    JsonBody(request): JsonBody<PerformanceRequest>,
) -> Result<Json<Performance>, ApiError> {
    let code = request.period.unwrap_or_else(|| "12M".into()).trim().to_ascii_uppercase();
    let Some(&(_, period)) = PERIODS.iter().find(|(known, _)| *known == code) else {
        let codes: Vec<&str> = PERIODS.iter().map(|(known, _)| *known).collect();
        return Err(invalid(format!("period must be one of {}, not {code:?}", codes.join(", "))));
    };
    let (ids, history) = history(&app, caller, request.acct_ids, vec![period]).await?;
    let series = history.series(period);
    let id = ids.join(",");
    let (first, last) = (
        series.days.first().map_or(compact(series.start), |d| compact(d.date)),
        series.days.last().map_or(compact(history.today), |d| compact(d.date)),
    );
    let data = |returns: Option<Vec<f64>>, navs: Option<Vec<f64>>, start_nav: Option<StartNav>| SeriesData {
        id: id.clone(),
        id_type: "acctid".into(),
        start_nav,
        start: first.clone(),
        end: last.clone(),
        returns,
        navs,
        base_currency: history.base.to_string(),
    };
    let monthly = series.monthly_returns();
    let start_nav =
        StartNav { date: compact(series.start_value.date), val: float(series.start_value.value.round_dp(2)) };
    Ok(Json(Performance {
        rc: 0,
        cps: Block {
            freq: "D".into(),
            dates: dates(&series),
            data: vec![data(Some(cumulative(&series)), None, None)],
        },
        tpps: Block {
            freq: "M".into(),
            dates: monthly.iter().map(|month| month.month.strftime("%Y%m").to_string()).collect(),
            data: vec![data(
                Some(monthly.iter().map(|month| rate_of_return(month.value)).collect()),
                None,
                None,
            )],
        },
        nav: Block {
            freq: "D".into(),
            dates: dates(&series),
            data: vec![data(None, Some(navs(&series)), Some(start_nav))],
        },
        pm: "TWR".into(),
        nd: days_inclusive(series.start, history.today),
        id: "getPerformanceData".into(),
        included: ids.clone(),
        currency_type: "base".into(),
    }))
}

/// `pa/allperiods`' body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AllPeriodsRequest {
    acct_ids: Vec<String>,
}

/// The accounts' value and cumulative returns over each of IBKR's standard periods: under the
/// accounts' ids, a block per period with `startNAV`, `dates`, `nav` and `cps`.
#[utoipa::path(
    post,
    path = "/pa/allperiods",
    operation_id = "getAllPeriods",
    tag = "Portfolio Analyst",
    request_body = AllPeriodsRequest,
    responses(
        (status = 200, description = "Blocks by period", body = Object),
        (status = 400, description = "No accounts, or an account not the caller's", body = ErrorBody),
        crate::docs::NotLoggedIn,
    )
)]
pub async fn all_periods(
    State(app): State<AppState>,
    caller: Caller,
    JsonBody(request): JsonBody<AllPeriodsRequest>,
) -> Result<Json<Value>, ApiError> {
    let periods = ALL_PERIODS.iter().map(|&(_, period)| period).collect();
    let (ids, history) = history(&app, caller, request.acct_ids, periods).await?;
    let mut account = serde_json::Map::new();
    let mut earliest = history.today;
    for (code, period) in ALL_PERIODS {
        let series = history.series(period);
        earliest = earliest.min(series.start);
        account.insert(
            code.into(),
            serde_json::json!({
                "freq": "D",
                "startNAV": {"date": compact(series.start_value.date), "val": float(series.start_value.value.round_dp(2))},
                "dates": dates(&series),
                "nav": navs(&series),
                "cps": cumulative(&series),
            }),
        );
    }
    account.insert("baseCurrency".into(), history.base.to_string().into());
    account.insert("start".into(), compact(earliest).into());
    account.insert("end".into(), compact(history.today).into());
    let codes: Vec<&str> = ALL_PERIODS.iter().map(|(code, _)| *code).collect();
    account.insert("periods".into(), serde_json::json!(codes));
    let updated = history.at.to_zoned_datetime(new_york()).strftime("%Y-%m-%d %H:%M:%S").to_string();
    account.insert("lastSuccessfulUpdate".into(), updated.into());
    let key = ids.join(",");
    let mut body = serde_json::Map::new();
    // IBKR's return code: 0, the answer is complete.
    body.insert("rc".into(), 0.into());
    body.insert("pm".into(), "TWR".into());
    body.insert("nd".into(), days_inclusive(earliest, history.today).into());
    body.insert("id".into(), "getPerformanceAllPeriods".into());
    body.insert("currencyType".into(), "base".into());
    body.insert("view".into(), serde_json::json!(ids));
    body.insert("included".into(), serde_json::json!(ids));
    body.insert(key, Value::Object(account));
    Ok(Json(Value::Object(body)))
}

/// A number or a string of one, as clients send ids and day counts.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Loose {
    Number(u64),
    Text(String),
}

impl Loose {
    fn number(&self) -> Option<u64> {
        match self {
            Self::Number(n) => Some(*n),
            Self::Text(text) => text.trim().parse().ok(),
        }
    }
}

/// `pa/transactions`' body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TransactionsRequest {
    acct_ids: Vec<String>,
    /// The contracts; conids as numbers or strings.
    conids: Vec<Loose>,
    /// The currency amounts are reported in; `USD` by default.
    currency: Option<String>,
    /// Days back; 90 by default.
    days: Option<Loose>,
}

/// One trade of `pa/transactions`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Transaction {
    acctid: String,
    conid: u32,
    cur: String,
    /// Java's `Date.toString()` form, New York time.
    date: String,
    raw_date: String,
    #[schema(value_type = f64)]
    fx_rate: serde_json::Number,
    pr: f64,
    #[schema(value_type = f64)]
    qty: serde_json::Number,
    /// Cash the trade moved, before commission: negative for a purchase.
    amt: f64,
    #[serde(rename = "type")]
    kind: String,
    desc: String,
}

/// One realized gain or loss of `pa/transactions`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Realized {
    date: String,
    cur: String,
    #[schema(value_type = f64)]
    fx_rate: serde_json::Number,
    /// `G` for a gain, `L` for a loss.
    side: String,
    acctid: String,
    amt: String,
    conid: String,
}

/// The realized P&L of `pa/transactions`: each one and their total.
#[derive(Debug, Serialize, ToSchema)]
pub struct RealizedTotal {
    data: Vec<Realized>,
    amt: String,
}

/// `pa/transactions`' answer.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Transactions {
    rc: u32,
    nd: u64,
    rpnl: RealizedTotal,
    currency: String,
    /// Epoch milliseconds.
    from: i64,
    id: String,
    /// Epoch milliseconds.
    to: i64,
    includes_real_time: bool,
    transactions: Vec<Transaction>,
}

/// The trades of some contracts over the last days, with the gains and losses they realized,
/// converted into one currency.
#[utoipa::path(
    post,
    path = "/pa/transactions",
    operation_id = "getTransactions",
    tag = "Portfolio Analyst",
    request_body = TransactionsRequest,
    responses(
        (status = 200, description = "The trades", body = Transactions),
        (status = 400, description = "No accounts or conids, an unknown currency, or an account not the caller's", body = ErrorBody),
        crate::docs::NotLoggedIn,
    )
)]
pub async fn transactions(
    State(app): State<AppState>,
    caller: Caller,
    JsonBody(request): JsonBody<TransactionsRequest>,
) -> Result<Json<Transactions>, ApiError> {
    let conids: Vec<Conid> = request
        .conids
        .iter()
        .map(|conid| conid.number().and_then(|n| u32::try_from(n).ok()).map(Conid::new))
        .collect::<Option<_>>()
        .filter(|conids: &Vec<Conid>| !conids.is_empty())
        .ok_or_else(|| invalid("conids must list at least one conid"))?;
    let currency: Currency = request
        .currency
        .as_deref()
        .unwrap_or("USD")
        .trim()
        .to_ascii_uppercase()
        .parse()
        .map_err(|_| invalid("currency must be an ISO currency code"))?;
    let days = match &request.days {
        None => 90,
        Some(days) => days
            .number()
            .filter(|d| (1..=3650).contains(d))
            .ok_or_else(|| invalid("days must be 1 to 3650"))?,
    };
    if request.acct_ids.is_empty() {
        return Err(invalid("acctIds must name at least one account"));
    }
    let ids: Vec<AccountId> = request
        .acct_ids
        .iter()
        .map(|id| id.trim().parse().map_err(|_| invalid(format!("acctIds names an unknown account {id:?}"))))
        .collect::<Result<_, _>>()?;
    let wall = Timestamp::now();
    let found = caller
        .read(&app, move |state, session| {
            if let Some(id) = ids.iter().find(|id| !state.is_entitled(&session.user, id)) {
                return Err(format!("acctIds names an unknown account \"{id}\""));
            }
            let now = state.market_time(wall);
            Ok(list(&state.transactions(&ids, &conids, currency, days, now), currency, days, now))
        })
        .await?;
    Ok(Json(found.map_err(invalid)?))
}

/// The trades as `pa/transactions` lists them, New York times in Java's `Date` form.
fn list(traded: &Traded<'_>, currency: Currency, days: u64, now: Timestamp) -> Transactions {
    let zone = new_york();
    let mut transactions = Vec::new();
    let mut realized = Vec::new();
    for trade in &traded.trades {
        let (execution, instrument) = (trade.execution, trade.instrument);
        let local = execution.at.to_zoned_datetime(zone.clone());
        transactions.push(Transaction {
            acctid: trade.account.to_string(),
            conid: execution.conid.get(),
            cur: instrument.currency.to_string(),
            date: local.strftime("%a %b %d %H:%M:%S %Z %Y").to_string(),
            raw_date: local.strftime("%Y%m%d").to_string(),
            fx_rate: whole_or_double(trade.fx_rate),
            pr: float(execution.price),
            qty: whole_or_double(trade.quantity),
            amt: float(trade.amount),
            kind: if execution.side == Side::Buy { "Buy" } else { "Sell" }.into(),
            desc: instrument.name.clone(),
        });
        if !trade.realized.is_zero() {
            realized.push(Realized {
                date: local.strftime("%Y%m%d").to_string(),
                cur: instrument.currency.to_string(),
                fx_rate: whole_or_double(trade.fx_rate),
                side: if trade.realized > Decimal::ZERO { "G" } else { "L" }.into(),
                acctid: trade.account.to_string(),
                amt: trade.realized.round_dp(4).to_string(),
                conid: execution.conid.get().to_string(),
            });
        }
    }
    Transactions {
        rc: 0,
        nd: days + 1,
        rpnl: RealizedTotal { data: realized, amt: traded.realized.round_dp(4).to_string() },
        currency: currency.to_string(),
        from: traded.from.as_millisecond(),
        id: "getTransactions".into(),
        to: now.as_millisecond(),
        includes_real_time: true,
        transactions,
    }
}

/// The routes of IBKR's "Trading Portfolio Analyst" tag.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(performance))
        .routes(routes!(all_periods))
        .routes(routes!(transactions))
}
