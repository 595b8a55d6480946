//! `iserver/marketdata/history` and the older `hmds/history`: bars of the simulated market, in
//! IBKR's period and bar grammar, never past the clock's present.
//!
//! `period` is a positive number and `min`, `h`, `d`, `w`, `m` or `y`: minutes and hours count
//! trading time back from the end; days count trading days; weeks, months and years count
//! calendar time. `bar` is `1S`, `5S`, `10S`, `15S`, `30S`, `1min`, `2min`, `3min`, `5min`,
//! `10min`, `15min`, `30min`, `1h`, `2h`, `3h`, `4h`, `8h`, `1d`, `1w` or `1m`. The window ends at
//! `startTime` (`YYYYMMDD-HH:MM:SS`, UTC) when given, else now, and holds at most IBKR's 1,000
//! data points: a longer one answers its most recent 1,000 bars, so a client pages back by
//! asking again with `startTime` set to the first bar's start. Only the days those bars cover
//! are computed, at most 8,000,000 minutes of them: day, week or month bars reaching back
//! further than fifteen years of a coin's trading answer 400.
//!
//! A missing or malformed period (IBKR's units are case sensitive, so `1D` is not one) means
//! IBKR's default, and a missing bar likewise: the `default`s IBKR's OpenAPI document (2.28 and
//! 2.29) gives these parameters, `1d` and `1min`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use jiff::civil::Date;
use jiff::{Span, Timestamp};
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

/// The most bars one answer holds: IBKR's cap of 1,000 data points.
const MAX_POINTS: usize = 1_000;

/// The most minutes one request may compute: fifteen years of any market, a coin's
/// round-the-clock trading included (about 7.9 million minutes).
const MAX_MINUTES: usize = 8_000_000;

/// The period when none, or none IBKR's grammar reads, is given: `period`'s `default` in IBKR's
/// OpenAPI document.
const DEFAULT_PERIOD: &str = "1d";

/// The bar when none is given: `bar`'s `default` in IBKR's OpenAPI document.
const DEFAULT_BAR: &str = "1min";

/// `history`'s query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct HistoryQuery {
    /// The conid.
    conid: Option<String>,
    /// How far back: `1d`, `5d`, `2w`, `3m`, `1y`, `30min`, `4h`, any number; `1d`, IBKR's
    /// default, when absent or not in IBKR's grammar.
    period: Option<String>,
    /// Bar size: `1S` … `30S`, `1min` … `30min`, `1h` … `8h`, `1d`, `1w`, `1m`; `1min` when
    /// absent.
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
    TradingMinutes(u64),
    TradingDays(u32),
    Weeks(i64),
    Months(i64),
    Years(i64),
}

fn split(text: &str) -> Option<(u32, &str)> {
    let text = text.trim();
    let at = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(at);
    Some((number.parse().ok().filter(|&n| n > 0)?, unit))
}

/// A period as IBKR writes it, or `None` when it is not one: a positive number and `min`, `h`,
/// `d`, `w`, `m` or `y`, in lower case, or for `hmds/history` also `S` (seconds, rounded up to
/// whole minutes). Any number is taken; the ranges IBKR's Campus pages give are advice, and the
/// cap on bars bounds what a long period costs.
fn parse_period(text: &str, grammar: Grammar) -> Option<Period> {
    let (n, unit) = split(text)?;
    Some(match unit {
        "S" if grammar == Grammar::Hmds => Period::TradingMinutes(u64::from(n).div_ceil(60)),
        "min" => Period::TradingMinutes(n.into()),
        "h" => Period::TradingMinutes(u64::from(n) * 60),
        "d" => Period::TradingDays(n),
        "w" => Period::Weeks(n.into()),
        "m" => Period::Months(n.into()),
        "y" => Period::Years(n.into()),
        _ => return None,
    })
}

/// A bar size and its length in seconds, as `barLength` gives it.
fn parse_bar(text: &str, grammar: Grammar) -> Result<(BarSize, u32), ApiError> {
    let invalid = || {
        ApiError::bad_request(format!(
            "Bad Request: invalid bar {text:?}: 1S, 5S, 10S, 15S, 30S, 1min, 2min, 3min, 5min, 10min, 15min, 30min, \
             1h, 2h, 3h, 4h, 8h, 1d, 1w or 1m"
        ))
    };
    let (n, unit) = split(text).ok_or_else(invalid)?;
    let unit = match (grammar, unit) {
        (Grammar::Hmds, "secs" | "sec") => "S",
        (Grammar::Hmds, "mins") => "min",
        (Grammar::Hmds, "hrs" | "hr" | "hour" | "hours") => "h",
        (_, unit) => unit,
    };
    let minutes = |m: u32| u16::try_from(m).map(BarSize::Minutes).map_err(|_| invalid());
    // The match admits only small sizes, so the conversions and products cannot fail.
    Ok(match (unit, n) {
        ("S", 1 | 5 | 10 | 15 | 30) => (BarSize::Seconds(u8::try_from(n).map_err(|_| invalid())?), n),
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
    // A period longer than the calendar reaches back to its beginning.
    let since = |span: Result<Span, jiff::Error>| {
        let first = span.and_then(|span| last.date.checked_sub(span)).unwrap_or(Date::MIN);
        move |day: &TradingDay, _: usize| day.date > first
    };
    let mut days = vec![last.clone()];
    let mut first_minute = 0;
    match period {
        Period::TradingDays(n) => back(&mut days, &|_, taken| taken < n as usize),
        Period::Weeks(n) => back(&mut days, &since(Span::new().try_weeks(n))),
        Period::Months(n) => back(&mut days, &since(Span::new().try_months(n))),
        Period::Years(n) => back(&mut days, &since(Span::new().try_years(n))),
        Period::TradingMinutes(n) => {
            // Count back through the minutes the bars show, the one in progress included.
            let end_minute = position.minute + u32::from(position.fraction > 0.0);
            let mut remaining = n;
            days.clear();
            let mut day = Some(last);
            while let (Some(current), true) = (day, remaining > 0) {
                let minutes = shown(&current, outside_rth);
                let upto = minutes.end.min(end_minute).max(minutes.start);
                let available = upto - minutes.start;
                let taken = u32::try_from(remaining).map_or(available, |remaining| available.min(remaining));
                first_minute = upto - taken;
                remaining -= u64::from(taken);
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

/// An instant as IBKR's history writes one, `YYYYMMDD-HH:MM:SS`, in `zone`: UTC in
/// `iserver/marketdata/history`, the exchange's time in `hmds/history` (IBKR's example gives
/// `20231211-04:00:00` for `startTimeVal` 09:00 UTC).
fn time_text(t: Timestamp, zone: &jiff::tz::TimeZone) -> String {
    t.to_zoned_datetime(zone.clone()).strftime("%Y%m%d-%H:%M:%S").to_string()
}

fn points(bars: &[Bar]) -> Vec<BarPoint> {
    bars.iter()
        .map(|bar| BarPoint {
            o: float(bar.open),
            c: float(bar.close),
            h: float(bar.high),
            l: float(bar.low),
            v: whole_or_double(bar.volume),
            t: bar.start.as_millisecond(),
        })
        .collect()
}

/// What a history request computed: the bars of a window, and how it was asked.
pub(crate) struct Bars {
    instrument: &'static Instrument,
    bars: Vec<Bar>,
    /// The window's end: `startTime`, or now.
    end: Timestamp,
    zone: &'static jiff::tz::TimeZone,
    period_text: String,
    bar_seconds: u32,
    outside_rth: bool,
}

impl Bars {
    /// `iserver/marketdata/history`'s answer.
    pub(crate) fn history(&self) -> History {
        let (instrument, bars) = (self.instrument, &self.bars);
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
        let start_text = start.map(|start| time_text(start, &jiff::tz::TimeZone::UTC)).unwrap_or_default();
        History {
            server_id: format!("history-{}", instrument.conid),
            symbol: instrument.symbol.clone(),
            text: instrument.name.clone(),
            price_factor: factor,
            start_time: start_text.clone(),
            high: extreme(|bar| bar.high, true),
            low: extreme(|bar| bar.low, false),
            time_period: self.period_text.clone(),
            bar_length: self.bar_seconds,
            md_availability: "S".into(),
            mkt_data_delay: 0,
            outside_rth: self.outside_rth,
            trading_day_duration: trading_day_minutes(instrument, self.outside_rth),
            volume_factor: 1,
            price_display_rule: 1,
            price_display_value: digits.to_string(),
            chart_pan_start_time: start_text,
            direction: -1,
            negative_capable: false,
            message_version: 2,
            travel_time: 0,
            // IBKR's examples count one less than the bars they hold (`points: 3` with four bars
            // in its OpenAPI document, `points: 0` with one on its Campus page).
            points: bars.len().saturating_sub(1),
            data: points(bars),
        }
    }

    /// `hmds/history`'s answer, in the shape IBKR last published for it (`hmdsHistoryResponse`,
    /// OpenAPI document 2.15 to 2.20): the window's start and end as text and as epoch
    /// milliseconds, the bars, and how many there are.
    fn hmds(&self) -> HmdsHistory {
        let start = self.bars.first().map_or(self.end, |bar| bar.start);
        HmdsHistory {
            start_time: time_text(start, self.zone),
            start_time_val: start.as_millisecond(),
            end_time: time_text(self.end, self.zone),
            end_time_val: self.end.as_millisecond(),
            points: self.bars.len(),
            data: points(&self.bars),
            mkt_data_delay: 0,
        }
    }
}

/// `hmds/history`'s answer.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HmdsHistory {
    /// The first bar's start, `YYYYMMDD-HH:MM:SS` in the exchange's time.
    start_time: String,
    /// The same instant in epoch milliseconds.
    start_time_val: i64,
    /// The window's end: `startTime` if given, else now.
    end_time: String,
    /// The same instant in epoch milliseconds.
    end_time_val: i64,
    data: Vec<BarPoint>,
    /// How many bars `data` holds.
    points: usize,
    /// Milliseconds the request waited for data: none here.
    mkt_data_delay: u32,
}

/// Which of IBKR's two grammars a request is read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Grammar {
    /// `iserver/marketdata/history`'s: `5min`, `1h`, `30S`.
    Iserver,
    /// `hmds/history`'s, which also takes its own spellings: `5mins`, `1hrs`, `30secs`, and a
    /// period in seconds (`3600S`).
    Hmds,
}

/// Computes the bars of a history request; they are computed off the async workers.
pub(crate) async fn history(
    app: &AppState,
    conid: Option<String>,
    period: Option<String>,
    bar: Option<String>,
    outside_rth: bool,
    start_time: Option<String>,
) -> Result<Bars, ApiError> {
    bars(
        app,
        Grammar::Iserver,
        HistoryQuery { conid, period, bar, outside_rth: Some(outside_rth), start_time },
    )
    .await
}

async fn bars(app: &AppState, grammar: Grammar, query: HistoryQuery) -> Result<Bars, ApiError> {
    let (instrument, profile): (&'static Instrument, &'static Profile) =
        listed(app, &query.conid.unwrap_or_default())?;
    let outside_rth = query.outside_rth.unwrap_or(false);
    let given =
        query.period.as_deref().and_then(|text| parse_period(text, grammar).map(|period| (text, period)));
    let (period_text, period) = given.unwrap_or((DEFAULT_PERIOD, Period::TradingDays(1)));
    let period_text = period_text.trim().to_owned();
    let (size, bar_seconds) = parse_bar(query.bar.as_deref().unwrap_or(DEFAULT_BAR), grammar)?;
    // IBKR serves at most five history requests at a time and answers 429 beyond. The slot
    // goes with the computation, which runs on even if the client hangs up.
    let slot = app
        .history_slots
        .clone()
        .try_acquire_owned()
        .map_err(|_| ApiError::new(StatusCode::TOO_MANY_REQUESTS, "Too many requests"))?;
    let market = MarketNow::read(app, vec![instrument.conid]).await?;
    let end = parse_end(query.start_time.as_deref(), market.now)?;
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
        let request = BarQuery {
            path: &path,
            activity: Activity::new(market.seed, instrument, profile),
            instrument,
            size,
            outside_rth,
            now: end,
            from: first_minute,
        };
        let needed = request.covering(&days, MAX_POINTS);
        let minutes: usize = needed.iter().map(|day| shown(day, outside_rth).len()).sum();
        if minutes > MAX_MINUTES {
            return Err(ApiError::bad_request(format!(
                "Bad Request: {MAX_POINTS} bars of this size span {minutes} minutes, at most {MAX_MINUTES}: \
                 shorten the period, narrow the bar or leave out extended hours"
            )));
        }
        Ok((request.recent(needed, MAX_POINTS), path.timeline().zone()))
    })
    .await
    .map_err(|_| ApiError::unavailable())??;
    let (bars, zone) = bars;
    Ok(Bars { instrument, bars, end, zone, period_text, bar_seconds, outside_rth })
}

/// Historical bars.
#[utoipa::path(
    get,
    path = "/iserver/marketdata/history",
    operation_id = "getMdHistory",
    tag = "Market data",
    params(HistoryQuery),
    responses(
        (status = 200, description = "The bars, oldest first: the most recent 1,000 of the period", body = History),
        (status = 400, description = "Missing or malformed parameters", body = ErrorBody),
        (status = 429, description = "Five history requests are already being served", body = ErrorBody),
    )
)]
pub async fn market_history(
    State(app): State<AppState>,
    QueryParams(query): QueryParams<HistoryQuery>,
) -> Result<Json<History>, ApiError> {
    Ok(Json(bars(&app, Grammar::Iserver, query).await?.history()))
}

/// Historical bars through IBKR's older HMDS endpoint, in its own shape; the same bars as
/// `iserver/marketdata/history`.
#[utoipa::path(
    get,
    path = "/hmds/history",
    operation_id = "getHmdsHistory",
    tag = "Market data",
    params(HistoryQuery),
    responses(
        (status = 200, description = "The bars, oldest first: the most recent 1,000 of the period", body = HmdsHistory),
        (status = 400, description = "Missing or malformed parameters", body = ErrorBody),
        (status = 429, description = "Five history requests are already being served", body = ErrorBody),
    )
)]
pub async fn hmds_history(
    State(app): State<AppState>,
    QueryParams(query): QueryParams<HistoryQuery>,
) -> Result<Json<HmdsHistory>, ApiError> {
    Ok(Json(bars(&app, Grammar::Hmds, query).await?.hmds()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_and_bars_follow_ibkrs_grammar() {
        let iserver = |text| parse_period(text, Grammar::Iserver);
        assert_eq!(iserver("5d"), Some(Period::TradingDays(5)));
        assert_eq!(iserver("80h"), Some(Period::TradingMinutes(4_800)));
        assert_eq!(iserver("2000d"), Some(Period::TradingDays(2_000)), "no upper bound");
        assert_eq!(iserver("40y"), Some(Period::Years(40)));
        for malformed in ["", "d", "0d", "5x", "1D", "1W", "3600S", "99999999999d", "-1d"] {
            assert_eq!(iserver(malformed), None, "{malformed}");
        }
        assert_eq!(parse_period("3600S", Grammar::Hmds), Some(Period::TradingMinutes(60)));
        let iserver_bar = |text| parse_bar(text, Grammar::Iserver).ok();
        assert_eq!(iserver_bar("5min"), Some((BarSize::Minutes(5), 300)));
        assert_eq!(iserver_bar("4h"), Some((BarSize::Minutes(240), 14_400)));
        assert_eq!(iserver_bar("1d"), Some((BarSize::Day, 86_400)));
        assert_eq!(iserver_bar("30S"), Some((BarSize::Seconds(30), 30)));
        for bad in ["4min", "5h", "2d", "2S", "min", "5mins", "30secs"] {
            assert_eq!(iserver_bar(bad), None, "{bad}");
        }
        let hmds_bar = |text| parse_bar(text, Grammar::Hmds).ok();
        assert_eq!(hmds_bar("5mins"), Some((BarSize::Minutes(5), 300)));
        assert_eq!(hmds_bar("30secs"), Some((BarSize::Seconds(30), 30)));
        assert_eq!(hmds_bar("1hrs"), Some((BarSize::Minutes(60), 3_600)));
        assert_eq!(hmds_bar("1h"), Some((BarSize::Minutes(60), 3_600)));
    }
}
