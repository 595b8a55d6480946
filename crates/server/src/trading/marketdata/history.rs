//! `iserver/marketdata/history` and the older `hmds/history`: bars of the simulated market, in
//! IBKR's period and bar grammar, never past the clock's present.
//!
//! `period` is a number and `min`, `h`, `d`, `w`, `m` or `y` (1–30 min, 1–8 h, 1–1000 d,
//! 1–792 w, 1–182 m, 1–15 y): minutes and hours count trading time back from the end; days count
//! trading days; weeks, months and years count calendar time. `bar` is `1min`, `2min`, `3min`,
//! `5min`, `10min`, `15min`, `30min`, `1h`, `2h`, `3h`, `4h`, `8h`, `1d`, `1w` or `1m`. The window
//! ends at `startTime` (`YYYYMMDD-HH:MM:SS`, UTC) when given, else now.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};
use market::bars::{Bar, BarQuery, BarSize};
use market::catalogue::Profile;
use market::quote::Activity;
use market::timeline::{Timeline, TradingDay};
use model::{AssetClass, Decimal, Instrument};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::listed;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{QueryParams, lenient_bool};
use crate::market::MarketNow;
use crate::state::AppState;
use crate::wire::{float, whole_or_double};

/// How many history requests IBKR serves at once.
pub const CONCURRENT_REQUESTS: usize = 5;

/// The most bars one request may produce.
const MAX_BARS: usize = 100_000;

/// The most minutes one request may compute: fifteen years of any market, a coin's
/// round-the-clock trading included (about 7.9 million minutes).
const MAX_MINUTES: usize = 8_000_000;

/// `history`'s query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct HistoryQuery {
    /// The conid.
    conid: Option<String>,
    /// How far back: `1d`, `5d`, `2w`, `3m`, `1y`, `30min`, `4h`; a week by default.
    period: Option<String>,
    /// Bar size: `1min` … `30min`, `1h` … `8h`, `1d`, `1w`, `1m`.
    bar: Option<String>,
    /// Include extended hours.
    #[serde(default, deserialize_with = "lenient_bool")]
    outside_rth: Option<bool>,
    /// The window's end, `YYYYMMDD-HH:MM:SS` UTC; now when absent.
    start_time: Option<String>,
}

/// One bar on the wire: prices as numbers, `t` the bar's start in epoch milliseconds.
#[derive(Debug, Serialize, ToSchema)]
pub struct BarPoint {
    o: f64,
    c: f64,
    h: f64,
    l: f64,
    /// An integer for shares, a fraction for coins.
    #[schema(value_type = f64)]
    v: serde_json::Number,
    t: i64,
}

/// `history`'s answer.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct History {
    server_id: String,
    symbol: String,
    text: String,
    price_factor: u32,
    start_time: String,
    /// The window's highest price times `priceFactor`, its bar's volume and minutes from the
    /// start, joined by `/`.
    high: String,
    /// Likewise for the lowest price.
    low: String,
    time_period: String,
    bar_length: u32,
    md_availability: String,
    mkt_data_delay: u32,
    outside_rth: bool,
    trading_day_duration: u32,
    volume_factor: u32,
    price_display_rule: u32,
    price_display_value: String,
    chart_pan_start_time: String,
    direction: i32,
    negative_capable: bool,
    message_version: u32,
    travel_time: u32,
    points: usize,
    data: Vec<BarPoint>,
}

/// A period: how far back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Period {
    TradingMinutes(u32),
    TradingDays(u32),
    Weeks(i64),
    Months(i64),
    Years(i64),
}

fn split(text: &str) -> Option<(u32, &str)> {
    let text = text.trim();
    let at = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(at);
    Some((number.parse().ok()?, unit))
}

fn parse_period(text: &str) -> Result<Period, ApiError> {
    let invalid = || {
        ApiError::bad_request(format!(
            "Bad Request: invalid period {text:?}: a number and min, h, d, w, m or y within IBKR's limits"
        ))
    };
    let (n, unit) = split(text).ok_or_else(invalid)?;
    let most = match unit {
        "min" => 30,
        "h" => 8,
        "d" => 1000,
        "w" => 792,
        "m" => 182,
        "y" => 15,
        _ => return Err(invalid()),
    };
    if n == 0 || n > most {
        return Err(invalid());
    }
    Ok(match unit {
        "min" => Period::TradingMinutes(n),
        "h" => Period::TradingMinutes(n * 60),
        "d" => Period::TradingDays(n),
        "w" => Period::Weeks(n.into()),
        "m" => Period::Months(n.into()),
        _ => Period::Years(n.into()),
    })
}

fn parse_bar(text: &str) -> Result<(BarSize, u32), ApiError> {
    let invalid = || {
        ApiError::bad_request(format!(
            "Bad Request: invalid bar {text:?}: 1min, 2min, 3min, 5min, 10min, 15min, 30min, 1h, 2h, 3h, 4h, 8h, 1d, 1w or 1m"
        ))
    };
    let (n, unit) = split(text).ok_or_else(invalid)?;
    let minutes = |m: u32| u16::try_from(m).map(BarSize::Minutes).map_err(|_| invalid());
    // The match admits only small sizes, so the products cannot overflow.
    Ok(match (unit, n) {
        ("min", 1 | 2 | 3 | 5 | 10 | 15 | 30) => (minutes(n)?, n * 60),
        ("h", 1 | 2 | 3 | 4 | 8) => (minutes(n * 60)?, n * 3_600),
        ("d", 1) => (BarSize::Day, 86_400),
        ("w", 1) => (BarSize::Week, 604_800),
        ("m", 1) => (BarSize::Month, 2_592_000),
        _ => return Err(invalid()),
    })
}

fn parse_end(text: Option<&str>, now: Timestamp) -> Result<Timestamp, ApiError> {
    let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
        return Ok(now);
    };
    let end = jiff::civil::DateTime::strptime("%Y%m%d-%H:%M:%S", text.trim())
        .and_then(|local| local.to_zoned_datetime(jiff::tz::TimeZone::UTC))
        .map_err(|_| {
            ApiError::bad_request(format!("Bad Request: startTime must be YYYYMMDD-HH:MM:SS, got {text:?}"))
        })?;
    // Nothing after the market's present exists yet.
    Ok(end.timestamp().min(now))
}

/// The minutes of `day` the bars show.
fn shown(day: &TradingDay, outside_rth: bool) -> std::ops::Range<u32> {
    if outside_rth { day.session.clone() } else { day.regular.clone() }
}

/// The start of the `bar_minutes` bar `minute` falls in, not before the day's first minute
/// `day_start`: a period of minutes starts with a whole bar, stamped on the bar grid.
fn on_bar_grid(timeline: &Timeline, minute: u32, bar_minutes: u16, day_start: u32) -> u32 {
    let into_bar = timeline.clock_of(minute).1 % bar_minutes.max(1);
    minute.saturating_sub(u32::from(into_bar)).max(day_start)
}

/// The trading days a period ending at `end` covers, oldest first, and the first minute it
/// shows.
fn window(timeline: &Timeline, period: Period, end: Timestamp, outside_rth: bool) -> (Vec<TradingDay>, u32) {
    let Some(mut last) = timeline.trading_day(end) else {
        return (Vec::new(), 0);
    };
    // Before the day's regular session, regular-hours history ends with the day before.
    let position = timeline.position(end);
    if !outside_rth
        && position.minute <= last.regular.start
        && !(position.open && last.regular.contains(&position.minute))
    {
        match timeline.previous_trading_day(last.date) {
            Some(previous) => last = previous,
            None => return (Vec::new(), 0),
        }
    }
    let back = |days: &mut Vec<TradingDay>, while_: &dyn Fn(&TradingDay, usize) -> bool| {
        while let Some(previous) = days.last().and_then(|day| timeline.previous_trading_day(day.date)) {
            if !while_(&previous, days.len()) {
                break;
            }
            days.push(previous);
        }
    };
    let since = |first: Date| move |day: &TradingDay, _: usize| day.date > first;
    let mut days = vec![last.clone()];
    let mut first_minute = 0;
    match period {
        Period::TradingDays(n) => back(&mut days, &|_, taken| taken < n as usize),
        Period::Weeks(n) => {
            back(&mut days, &since(last.date.checked_sub((7 * n).days()).unwrap_or(last.date)))
        }
        Period::Months(n) => back(&mut days, &since(last.date.checked_sub(n.months()).unwrap_or(last.date))),
        Period::Years(n) => back(&mut days, &since(last.date.checked_sub(n.years()).unwrap_or(last.date))),
        Period::TradingMinutes(n) => {
            // Count back through the minutes the bars show, the one in progress included.
            let end_minute = position.minute + u32::from(position.fraction > 0.0);
            let mut remaining = n;
            days.clear();
            let mut day = Some(last);
            while let (Some(current), true) = (day, remaining > 0) {
                let minutes = shown(&current, outside_rth);
                let upto = minutes.end.min(end_minute).max(minutes.start);
                let taken = (upto - minutes.start).min(remaining);
                first_minute = upto - taken;
                remaining -= taken;
                day = timeline.previous_trading_day(current.date);
                days.push(current);
            }
        }
    }
    days.reverse();
    (days, first_minute)
}

/// A full trading day's minutes, as `tradingDayDuration` reports them.
fn trading_day_minutes(instrument: &Instrument, outside_rth: bool) -> u32 {
    match (instrument.asset_class, outside_rth) {
        (AssetClass::Forex | AssetClass::Crypto, _) => 1440,
        (AssetClass::Stock, true) => 960,
        (AssetClass::Stock, false) => 390,
    }
}

fn utc_text(t: Timestamp) -> String {
    t.to_zoned_datetime(jiff::tz::TimeZone::UTC).strftime("%Y%m%d-%H:%M:%S").to_string()
}

/// The answer for `bars` of `instrument`.
fn answer(
    instrument: &Instrument,
    bars: &[Bar],
    period_text: &str,
    bar_seconds: u32,
    outside_rth: bool,
) -> History {
    let digits = instrument.price_decimals();
    let factor = 10u32.pow(digits);
    let scaled = |d: Decimal| (d * Decimal::from(factor)).round().to_string();
    let start = bars.first().map(|bar| bar.start);
    let extreme = |pick: fn(&Bar) -> Decimal, highest: bool| {
        let found = if highest {
            bars.iter().max_by_key(|bar| pick(bar))
        } else {
            bars.iter().min_by_key(|bar| pick(bar))
        };
        found.map_or_else(String::new, |bar| {
            let minutes = start.map_or(0, |s| bar.start.duration_since(s).as_mins());
            format!("{}/{}/{minutes}", scaled(pick(bar)), bar.volume.normalize())
        })
    };
    let start_text = start.map(utc_text).unwrap_or_default();
    History {
        server_id: format!("history-{}", instrument.conid),
        symbol: instrument.symbol.clone(),
        text: instrument.name.clone(),
        price_factor: factor,
        start_time: start_text.clone(),
        high: extreme(|bar| bar.high, true),
        low: extreme(|bar| bar.low, false),
        time_period: period_text.to_owned(),
        bar_length: bar_seconds,
        md_availability: "S".into(),
        mkt_data_delay: 0,
        outside_rth,
        trading_day_duration: trading_day_minutes(instrument, outside_rth),
        volume_factor: 1,
        price_display_rule: 1,
        price_display_value: digits.to_string(),
        chart_pan_start_time: start_text,
        direction: -1,
        negative_capable: false,
        message_version: 2,
        travel_time: 0,
        points: bars.len(),
        data: bars
            .iter()
            .map(|bar| BarPoint {
                o: float(bar.open),
                c: float(bar.close),
                h: float(bar.high),
                l: float(bar.low),
                v: whole_or_double(bar.volume),
                t: bar.start.as_millisecond(),
            })
            .collect(),
    }
}

/// Computes the history; the bars are computed off the async workers.
pub(crate) async fn history(
    app: &AppState,
    conid: Option<String>,
    period: Option<String>,
    bar: Option<String>,
    outside_rth: bool,
    start_time: Option<String>,
) -> Result<History, ApiError> {
    let (instrument, profile): (&'static Instrument, &'static Profile) =
        listed(app, &conid.unwrap_or_default())?;
    // IBKR's default period is a week.
    let period_text = period.unwrap_or_else(|| "1w".to_owned());
    let bar_text = bar.ok_or_else(|| ApiError::bad_request("Bad Request: bar is required"))?;
    let period = parse_period(&period_text)?;
    let (size, bar_seconds) = parse_bar(&bar_text)?;
    // IBKR serves at most five history requests at a time and answers 429 beyond. The slot
    // goes with the computation, which runs on even if the client hangs up.
    let slot = app
        .history_slots
        .clone()
        .try_acquire_owned()
        .map_err(|_| ApiError::new(StatusCode::TOO_MANY_REQUESTS, "Too many requests"))?;
    let market = MarketNow::read(app, vec![instrument.conid]).await?;
    let end = parse_end(start_time.as_deref(), market.now)?;
    let bars = tokio::task::spawn_blocking(move || {
        let _slot = slot;
        let path = market.path(instrument, profile);
        let (days, first_minute) = window(path.timeline(), period, end, outside_rth);
        let first_minute = match (size, days.first()) {
            (BarSize::Minutes(n), Some(first_day)) => {
                on_bar_grid(path.timeline(), first_minute, n, shown(first_day, outside_rth).start)
            }
            _ => first_minute,
        };
        let minutes: usize = days.iter().map(|day| shown(day, outside_rth).len()).sum();
        let expected = match size {
            BarSize::Minutes(n) => minutes / usize::from(n.max(1)),
            _ => days.len(),
        };
        if minutes > MAX_MINUTES || expected > MAX_BARS {
            return Err(ApiError::bad_request(format!(
                "Bad Request: {minutes} minutes in about {expected} bars asked, at most {MAX_MINUTES} minutes \
                 and {MAX_BARS} bars: shorten the period, widen the bar or leave out extended hours"
            )));
        }
        let request = BarQuery {
            path: &path,
            activity: Activity::new(market.seed, instrument, profile),
            instrument,
            size,
            outside_rth,
            now: end,
            from: first_minute,
        };
        Ok(request.bars(&days))
    })
    .await
    .map_err(|_| ApiError::unavailable())??;
    Ok(answer(instrument, &bars, &period_text, bar_seconds, outside_rth))
}

/// Historical bars.
#[utoipa::path(
    get,
    path = "/iserver/marketdata/history",
    operation_id = "getMdHistory",
    tag = "Market data",
    params(HistoryQuery),
    responses(
        (status = 200, description = "The bars, oldest first", body = History),
        (status = 400, description = "Missing or malformed parameters, or too many bars", body = ErrorBody),
        (status = 429, description = "Five history requests are already being served", body = ErrorBody),
    )
)]
pub async fn market_history(
    State(app): State<AppState>,
    QueryParams(query): QueryParams<HistoryQuery>,
) -> Result<Json<History>, ApiError> {
    let outside_rth = query.outside_rth.unwrap_or(false);
    Ok(Json(history(&app, query.conid, query.period, query.bar, outside_rth, query.start_time).await?))
}

/// Historical bars through IBKR's older HMDS endpoint; the same bars as `iserver/marketdata/history`.
#[utoipa::path(
    get,
    path = "/hmds/history",
    operation_id = "getHmdsHistory",
    tag = "Market data",
    params(HistoryQuery),
    responses(
        (status = 200, description = "The bars, oldest first", body = History),
        (status = 400, description = "Missing or malformed parameters, or too many bars", body = ErrorBody),
        (status = 429, description = "Five history requests are already being served", body = ErrorBody),
    )
)]
pub async fn hmds_history(
    State(app): State<AppState>,
    QueryParams(query): QueryParams<HistoryQuery>,
) -> Result<Json<History>, ApiError> {
    let outside_rth = query.outside_rth.unwrap_or(false);
    Ok(Json(history(&app, query.conid, query.period, query.bar, outside_rth, query.start_time).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_and_bars_follow_ibkrs_grammar_and_limits() {
        assert_eq!(parse_period("5d").unwrap(), Period::TradingDays(5));
        assert_eq!(parse_period("2h").unwrap(), Period::TradingMinutes(120));
        assert_eq!(parse_period("15y").unwrap(), Period::Years(15));
        for bad in ["", "d", "0d", "1001d", "31min", "9h", "16y", "5x", "100000000h", "99999999999d"] {
            assert!(parse_period(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_bar("5min").unwrap(), (BarSize::Minutes(5), 300));
        assert_eq!(parse_bar("4h").unwrap(), (BarSize::Minutes(240), 14_400));
        assert_eq!(parse_bar("1d").unwrap(), (BarSize::Day, 86_400));
        for bad in ["4min", "5h", "2d", "1S", "min"] {
            assert!(parse_bar(bad).is_err(), "{bad}");
        }
    }
}
