//! Portfolio Analyst (IBKR's "Trading Portfolio Analyst" tag): `pa/performance`,
//! `pa/allperiods` and `pa/transactions`, computed from the ledger's history in the simulated
//! calendar.
//!
//! A day's value is the account's net liquidation value when the New York day ends (today's:
//! now); only US business days are listed. Returns are time-weighted: each day's return is its
//! closing value over the previous close plus the money paid in that day, less one, so
//! deposits and withdrawals are not returns.

use axum::Json;
use axum::extract::State;
use engine::ledger::{Book, Cause};
use engine::portfolio::Rates;
use engine::portfolio::history::DayValue;
use engine::state::State as EngineState;
use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};
use market::calendar::{new_york, new_york_midnight};
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
use crate::trading::numbers::float;

/// The periods `pa/performance` accepts: IBKR's spec's and its clients'.
const PERIODS: [&str; 9] = ["1D", "7D", "MTD", "1M", "3M", "6M", "12M", "YTD", "1Y"];

/// The periods `pa/allperiods` reports, as IBKR lists them.
const ALL_PERIODS: [&str; 6] = ["1D", "7D", "MTD", "1M", "YTD", "1Y"];

fn compact(date: Date) -> String {
    date.strftime("%Y%m%d").to_string()
}

/// The first day of `period` ending `today`.
fn period_start(period: &str, today: Date) -> Date {
    let months = |n: i32| today.checked_sub(n.months()).unwrap_or(today);
    match period {
        "1D" => today,
        "7D" => today.checked_sub(6.days()).unwrap_or(today),
        "MTD" => today.first_of_month(),
        "1M" => months(1),
        "3M" => months(3),
        "6M" => months(6),
        "YTD" => today.first_of_year(),
        _ => months(12),
    }
}

/// An account's history over one period.
struct Series {
    start_nav: (Date, Decimal),
    days: Vec<DayValue>,
}

impl Series {
    /// Cumulative time-weighted returns, one per day.
    fn cumulative(&self) -> Vec<f64> {
        let mut previous = self.start_nav.1;
        let mut growth = Decimal::ONE;
        self.days
            .iter()
            .map(|day| {
                let base = previous + day.paid_in;
                if !base.is_zero() {
                    growth *= day.net_liquidation / base;
                }
                previous = day.net_liquidation;
                float((growth - Decimal::ONE).round_dp(8))
            })
            .collect()
    }

    /// Returns per calendar month, `yyyymm` first.
    fn monthly(&self) -> Vec<(String, f64)> {
        let mut months: Vec<(String, Decimal)> = Vec::new();
        let mut previous = self.start_nav.1;
        for day in &self.days {
            let base = previous + day.paid_in;
            let factor = if base.is_zero() { Decimal::ONE } else { day.net_liquidation / base };
            previous = day.net_liquidation;
            let month = day.date.strftime("%Y%m").to_string();
            match months.last_mut() {
                Some((last, growth)) if *last == month => *growth *= factor,
                _ => months.push((month, factor)),
            }
        }
        months
            .into_iter()
            .map(|(month, growth)| (month, float((growth - Decimal::ONE).round_dp(8))))
            .collect()
    }

    fn dates(&self) -> Vec<String> {
        self.days.iter().map(|day| compact(day.date)).collect()
    }

    fn navs(&self) -> Vec<f64> {
        self.days.iter().map(|day| float(day.net_liquidation.round_dp(2))).collect()
    }
}

/// Each requested account's history from `start` (for each period) to now, consolidated:
/// the accounts' values added up in the first one's base currency.
struct History {
    ids: Vec<String>,
    base: Currency,
    today: Date,
    now: Timestamp,
    opened: Date,
    /// Values of every business day of the longest period, summed over the accounts.
    days: Vec<DayValue>,
    /// The value before the first of `days`, and that day.
    before: (Date, Decimal),
}

impl History {
    fn series(&self, start: Date) -> Series {
        let days: Vec<DayValue> = self.days.iter().filter(|day| day.date >= start).cloned().collect();
        let start_nav = match self.days.iter().rev().find(|day| day.date < start) {
            Some(day) => (day.date, day.net_liquidation),
            None => self.before,
        };
        Series { start_nav, days }
    }
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::bad_request(format!("Bad Request: {}", message.into()))
}

/// Reads the accounts' history back to the earliest of `periods`.
async fn history(
    app: &AppState,
    caller: Caller,
    raw: Vec<String>,
    periods: Vec<String>,
) -> Result<History, ApiError> {
    if raw.is_empty() {
        return Err(invalid("acctIds must name at least one account"));
    }
    let ids: Vec<AccountId> = raw
        .iter()
        .map(|id| id.trim().parse().map_err(|_| invalid(format!("acctIds names an unknown account {id:?}"))))
        .collect::<Result<_, _>>()?;
    let wall = Timestamp::now();
    let read = caller
        .read(app, move |state, session| -> Result<History, String> {
            let now = state.market_time(wall);
            let today = now.to_zoned_datetime(new_york()).date();
            let mut accounts = Vec::new();
            for id in &ids {
                let account = state.account(id).filter(|_| state.is_entitled(&session.user, id));
                accounts.push(account.ok_or_else(|| format!("acctIds names an unknown account \"{id}\""))?);
            }
            let base = accounts[0].base_currency;
            let opened = accounts.iter().map(|a| a.opened_at).min().unwrap_or(now);
            let opened = opened.to_zoned_datetime(new_york()).date();
            let start = periods.iter().map(|p| period_start(p, today)).min().unwrap_or(today);
            let before_date = state.last_business_day_before(start).unwrap_or(start);
            let mut days: Vec<DayValue> = Vec::new();
            let mut before = Decimal::ZERO;
            for account in &accounts {
                let rate = Rates::new(state, base, now).rate(account.base_currency);
                let series = state.daily_values(&account.id, account.base_currency, start, now);
                for day in series {
                    let day = DayValue {
                        net_liquidation: day.net_liquidation * rate,
                        paid_in: day.paid_in * rate,
                        ..day
                    };
                    match days.iter_mut().find(|kept| kept.date == day.date) {
                        Some(kept) => {
                            kept.net_liquidation += day.net_liquidation;
                            kept.paid_in += day.paid_in;
                        }
                        None => days.push(day),
                    }
                }
                before += opening_value(state, account, before_date, rate);
            }
            days.sort_by_key(|day| day.date);
            Ok(History {
                ids: ids.iter().map(ToString::to_string).collect(),
                base,
                today,
                now,
                opened,
                days,
                before: (before_date, before),
            })
        })
        .await?;
    read.map_err(invalid)
}

/// An account's value when `date` ended, or 0 before it opened.
fn opening_value(
    state: &EngineState,
    account: &engine::state::Account,
    date: Date,
    rate: Decimal,
) -> Decimal {
    let end = date.tomorrow().ok().and_then(new_york_midnight);
    match end {
        Some(end) if end > account.opened_at => {
            state.net_liquidation_at(&account.id, account.base_currency, end) * rate
        }
        _ => Decimal::ZERO,
    }
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
    let period = request.period.unwrap_or_else(|| "12M".into()).trim().to_ascii_uppercase();
    if !PERIODS.contains(&period.as_str()) {
        return Err(invalid(format!("period must be one of {}, not {period:?}", PERIODS.join(", "))));
    }
    let history = history(&app, caller, request.acct_ids, vec![period.clone()]).await?;
    let start = period_start(&period, history.today).max(history.opened);
    let series = history.series(start);
    let id = history.ids.join(",");
    let (first, last) = (
        series.days.first().map_or(compact(start), |d| compact(d.date)),
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
    let monthly = series.monthly();
    let start_nav =
        StartNav { date: compact(series.start_nav.0), val: float(series.start_nav.1.round_dp(2)) };
    Ok(Json(Performance {
        cps: Block {
            freq: "D".into(),
            dates: series.dates(),
            data: vec![data(Some(series.cumulative()), None, None)],
        },
        tpps: Block {
            freq: "M".into(),
            dates: monthly.iter().map(|(month, _)| month.clone()).collect(),
            data: vec![data(Some(monthly.iter().map(|(_, r)| *r).collect()), None, None)],
        },
        nav: Block {
            freq: "D".into(),
            dates: series.dates(),
            data: vec![data(None, Some(series.navs()), Some(start_nav))],
        },
        pm: "TWR".into(),
        nd: days_inclusive(start, history.today),
        id: "getPerformanceData".into(),
        included: history.ids.clone(),
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
    let periods: Vec<String> = ALL_PERIODS.iter().map(|p| (*p).to_owned()).collect();
    let history = history(&app, caller, request.acct_ids, periods).await?;
    let mut account = serde_json::Map::new();
    let mut earliest = history.today;
    for period in ALL_PERIODS {
        let start = period_start(period, history.today).max(history.opened);
        earliest = earliest.min(start);
        let series = history.series(start);
        account.insert(
            period.into(),
            serde_json::json!({
                "freq": "D",
                "startNAV": {"date": compact(series.start_nav.0), "val": float(series.start_nav.1.round_dp(2))},
                "dates": series.dates(),
                "nav": series.navs(),
                "cps": series.cumulative(),
            }),
        );
    }
    account.insert("baseCurrency".into(), history.base.to_string().into());
    account.insert("start".into(), compact(earliest).into());
    account.insert("end".into(), compact(history.today).into());
    account.insert("periods".into(), serde_json::json!(ALL_PERIODS));
    let updated = history.now.to_zoned_datetime(new_york()).strftime("%Y-%m-%d %H:%M:%S").to_string();
    account.insert("lastSuccessfulUpdate".into(), updated.into());
    let key = history.ids.join(",");
    let mut body = serde_json::Map::new();
    body.insert("pm".into(), "TWR".into());
    body.insert("nd".into(), days_inclusive(earliest, history.today).into());
    body.insert("id".into(), "getPerformanceAllPeriods".into());
    body.insert("currencyType".into(), "base".into());
    body.insert("view".into(), serde_json::json!(history.ids));
    body.insert("included".into(), serde_json::json!(history.ids));
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
    fx_rate: f64,
    pr: f64,
    qty: f64,
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
    fx_rate: f64,
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
            Ok(list(state, &ids, &conids, currency, days, state.market_time(wall)))
        })
        .await?;
    Ok(Json(found.map_err(invalid)?))
}

fn list(
    state: &EngineState,
    ids: &[AccountId],
    conids: &[Conid],
    currency: Currency,
    days: u64,
    now: Timestamp,
) -> Transactions {
    let zone = new_york();
    let today = now.to_zoned_datetime(zone.clone()).date();
    let first = today.checked_sub(i64::try_from(days).unwrap_or(90).days()).unwrap_or(today);
    let from = first.to_zoned_datetime(zone.clone()).map_or(now, |day| day.timestamp());
    let mut transactions = Vec::new();
    let mut realized = Vec::new();
    let mut total = Decimal::ZERO;
    for id in ids {
        let gains: std::collections::BTreeMap<model::ExecutionId, Decimal> = state
            .ledger()
            .entries_since(id, from)
            .filter_map(|entry| match entry.cause {
                Cause::Execution { execution } => {
                    let gain =
                        entry.postings.iter().filter(|p| p.book == Book::RealizedPnl).map(|p| -p.amount);
                    Some((execution, gain.sum()))
                }
                _ => None,
            })
            .collect();
        for execution in state.executions(id).filter(|e| e.at >= from && conids.contains(&e.conid)) {
            let Some(instrument) = market::Catalogue::standard().get(execution.conid) else { continue };
            let rate = Rates::new(state, currency, execution.at).rate(instrument.currency);
            let local = execution.at.to_zoned_datetime(zone.clone());
            let signed = execution.side.sign() * execution.quantity;
            transactions.push(Transaction {
                acctid: id.to_string(),
                conid: execution.conid.get(),
                cur: instrument.currency.to_string(),
                date: local.strftime("%a %b %d %H:%M:%S %Z %Y").to_string(),
                raw_date: local.strftime("%Y%m%d").to_string(),
                fx_rate: float(rate),
                pr: float(execution.price),
                qty: float(signed),
                amt: float(-signed * execution.price),
                kind: if execution.side == Side::Buy { "Buy" } else { "Sell" }.into(),
                desc: instrument.name.clone(),
            });
            let gain = gains.get(&execution.id).copied().unwrap_or_default();
            if !gain.is_zero() {
                total += gain * rate;
                realized.push(Realized {
                    date: local.strftime("%Y%m%d").to_string(),
                    cur: instrument.currency.to_string(),
                    fx_rate: float(rate),
                    side: if gain > Decimal::ZERO { "G" } else { "L" }.into(),
                    acctid: id.to_string(),
                    amt: gain.round_dp(4).to_string(),
                    conid: execution.conid.get().to_string(),
                });
            }
        }
    }
    Transactions {
        rc: 0,
        nd: days + 1,
        rpnl: RealizedTotal { data: realized, amt: total.round_dp(4).to_string() },
        currency: currency.to_string(),
        from: from.as_millisecond(),
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
