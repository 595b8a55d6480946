//! `trsrv/secdef/schedule`: a symbol's trading schedule, in IBKR's shape: one template day for
//! each weekday (dated 2000-01-01, a Saturday, to 2000-01-07, a Friday) followed by the dated
//! exceptions (holidays and early closes) of the coming year of market time. Times are `HHMM` in the venue's
//! time zone; `sessions` holds the liquid (regular) hours and `tradingtimes` every hour orders
//! trade.

use axum::Json;
use axum::extract::State;
use jiff::civil::{Date, date};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use market::calendar::{DayHours, Hours, Market, Minute};
use model::Instrument;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ErrorBody};
use crate::extract::QueryParams;
use crate::state::AppState;

/// How far ahead the dated exceptions reach, and how far back.
const DAYS_AHEAD: i32 = 365;
const DAYS_BEHIND: i32 = 7;

/// `trsrv/secdef/schedule`'s query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleQuery {
    /// `STK` for stocks and ETFs, `CASH` for currency pairs, `CRYPTO` for coins. Required.
    asset_class: Option<String>,
    /// The symbol; for a currency pair, `EUR.USD`. Required.
    symbol: Option<String>,
    /// Only this venue (`NASDAQ`, `NYSE`, …; `SMART` has no schedule).
    exchange: Option<String>,
    /// Only these venues, comma-separated.
    exchange_filter: Option<String>,
}

/// Regular hours.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LiquidSession {
    opening_time: String,
    closing_time: String,
    prop: String,
}

/// Hours in which orders trade.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TradingTime {
    opening_time: String,
    closing_time: String,
    /// `LIQUID` on a day the market trades, as in IBKR's example; absent on a closed day.
    #[serde(skip_serializing_if = "Option::is_none")]
    prop: Option<String>,
    /// `Y` when DAY orders are cancelled at the close.
    cancel_day_orders: String,
}

/// One day of a schedule.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleDay {
    clearing_cycle_end_time: String,
    trading_schedule_date: String,
    sessions: Vec<LiquidSession>,
    /// IBKR's spelling, all lower-case.
    tradingtimes: Vec<TradingTime>,
}

/// A venue's schedule.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VenueSchedule {
    id: String,
    trade_venue_id: String,
    exchange: String,
    description: String,
    timezone: String,
    schedules: Vec<ScheduleDay>,
}

/// A venue: its name, its other name in IBKR's routing, a description and its ids. The ids
/// of NASDAQ (IBKR's ISLAND) and NYSE are IBKR's; the others are LocalBroker's own.
struct Venue {
    name: &'static str,
    alias: &'static str,
    description: &'static str,
    id: &'static str,
    trade_venue_id: &'static str,
}

const VENUES: &[Venue] = &[
    Venue { name: "NASDAQ", alias: "ISLAND", description: "NASDAQ", id: "p102082", trade_venue_id: "v13133" },
    Venue {
        name: "NYSE",
        alias: "NYSE",
        description: "New York Stock Exchange",
        id: "p101781",
        trade_venue_id: "v13038",
    },
    Venue { name: "ARCA", alias: "ARCA", description: "NYSE Arca", id: "p900001", trade_venue_id: "v900001" },
    Venue {
        name: "IDEALPRO",
        alias: "IDEALPRO",
        description: "IDEALPRO",
        id: "p900002",
        trade_venue_id: "v900002",
    },
    Venue { name: "PAXOS", alias: "PAXOS", description: "Paxos", id: "p900003", trade_venue_id: "v900003" },
    Venue { name: "IBIS", alias: "IBIS", description: "Xetra", id: "p900004", trade_venue_id: "v900004" },
];

impl Venue {
    fn of(instrument: &Instrument) -> Option<&'static Venue> {
        VENUES.iter().find(|v| v.name == instrument.listing_exchange)
    }

    fn is_named(&self, name: &str) -> bool {
        name.eq_ignore_ascii_case(self.name) || name.eq_ignore_ascii_case(self.alias)
    }
}

fn hhmm(minute: Minute) -> String {
    format!("{:02}{:02}", minute / 60, minute % 60)
}

fn schedule_day(market: Market, day: &DayHours, date: Date) -> ScheduleDay {
    let trading_schedule_date = date.strftime("%Y%m%d").to_string();
    if day.is_closed() {
        return ScheduleDay {
            clearing_cycle_end_time: "0000".into(),
            trading_schedule_date,
            sessions: Vec::new(),
            tradingtimes: vec![TradingTime {
                opening_time: "0000".into(),
                closing_time: "0000".into(),
                prop: None,
                cancel_day_orders: "N".into(),
            }],
        };
    }
    let clearing = match market {
        Market::UsEquity | Market::Xetra => day.extended.iter().map(|h| h.close).max().unwrap_or(0),
        Market::Forex => 17 * 60,
        Market::Crypto => 0,
    };
    ScheduleDay {
        clearing_cycle_end_time: hhmm(clearing),
        trading_schedule_date,
        sessions: day
            .regular
            .iter()
            .map(|&Hours { open, close }| LiquidSession {
                opening_time: hhmm(open),
                closing_time: hhmm(close),
                prop: "LIQUID".into(),
            })
            .collect(),
        tradingtimes: day
            .extended
            .iter()
            .map(|&Hours { open, close }| TradingTime {
                opening_time: hhmm(open),
                closing_time: hhmm(close),
                prop: Some("LIQUID".into()),
                cancel_day_orders: "Y".into(),
            })
            .collect(),
    }
}

fn venue_schedule(instrument: &Instrument, venue: &Venue, today: Date) -> VenueSchedule {
    let market = Market::of(instrument);
    // 2000-01-01 was a Saturday: IBKR's template week runs from it to Friday 2000-01-07.
    let template = (0..7).map(|offset| date(2000, 1, 1 + offset)).map(|day| {
        let hours = market.regular_hours(day.weekday());
        schedule_day(market, &hours, day)
    });
    let from = today.checked_sub(DAYS_BEHIND.days()).unwrap_or(today);
    let to = today.checked_add(DAYS_AHEAD.days()).unwrap_or(today);
    let exceptions =
        market.exceptions(from, to).into_iter().map(|(day, hours)| schedule_day(market, &hours, day));
    VenueSchedule {
        id: venue.id.into(),
        trade_venue_id: venue.trade_venue_id.into(),
        exchange: venue.name.into(),
        description: venue.description.into(),
        timezone: market.timezone().into(),
        schedules: template.chain(exceptions).collect(),
    }
}

/// The trading schedule of a symbol's venue.
#[utoipa::path(
    get,
    path = "/trsrv/secdef/schedule",
    operation_id = "getTradingScheduleBySymbol",
    tag = "Contracts",
    params(ScheduleQuery),
    responses(
        (status = 200, description = "The venue's schedule; empty when the exchange filters exclude it", body = Vec<VenueSchedule>),
        (status = 400, description = "Missing parameters or an unknown symbol", body = ErrorBody),
    )
)]
pub async fn trading_schedule(
    State(app): State<AppState>,
    QueryParams(query): QueryParams<ScheduleQuery>,
) -> Result<Json<Vec<VenueSchedule>>, ApiError> {
    let asset_class = query.asset_class.unwrap_or_default().trim().to_ascii_uppercase();
    let symbol = query.symbol.unwrap_or_default();
    if asset_class.is_empty() || symbol.trim().is_empty() {
        return Err(ApiError::bad_request("Bad Request: assetClass and symbol are required"));
    }
    let instrument = match asset_class.as_str() {
        "STK" => app.catalogue.stock(&symbol),
        "CASH" => app.catalogue.pair(&symbol),
        "CRYPTO" => app.catalogue.coin(&symbol),
        "OPT" | "FUT" | "CFD" | "WAR" | "SWP" | "FND" | "BND" | "ICS" => None,
        other => return Err(ApiError::bad_request(format!("Bad Request: invalid assetClass {other:?}"))),
    }
    .ok_or_else(|| {
        ApiError::bad_request(format!("Bad Request: no {asset_class} contract for symbol {symbol:?}"))
    })?;
    let Some(venue) = Venue::of(instrument) else {
        return Ok(Json(Vec::new()));
    };
    let wanted_exchange = query.exchange.as_deref().is_none_or(|name| venue.is_named(name.trim()));
    let wanted_by_filter = query
        .exchange_filter
        .as_deref()
        .is_none_or(|filter| filter.split(',').any(|name| venue.is_named(name.trim())));
    if !(wanted_exchange && wanted_by_filter) {
        return Ok(Json(Vec::new()));
    }
    let zone = TimeZone::get(Market::of(instrument).timezone()).unwrap_or(TimeZone::UTC);
    let wall = Timestamp::now();
    let now = app.broker.read(move |engine| engine.state().market_time(wall)).await?;
    let today = now.to_zoned_datetime(zone).date();
    Ok(Json(vec![venue_schedule(instrument, venue, today)]))
}

#[cfg(test)]
mod tests {
    use market::Catalogue;

    use super::*;

    #[test]
    fn the_template_week_runs_saturday_to_friday() {
        let aapl = Catalogue::standard().stock("AAPL").unwrap();
        let schedule = venue_schedule(aapl, Venue::of(aapl).unwrap(), date(2026, 11, 20));
        let saturday = &schedule.schedules[0];
        assert_eq!(saturday.trading_schedule_date, "20000101");
        assert!(saturday.sessions.is_empty());
        let monday = &schedule.schedules[2];
        assert_eq!(monday.trading_schedule_date, "20000103");
        assert_eq!(
            (monday.sessions[0].opening_time.as_str(), monday.sessions[0].closing_time.as_str()),
            ("0930", "1600")
        );
        assert_eq!(
            (monday.tradingtimes[0].opening_time.as_str(), monday.tradingtimes[0].closing_time.as_str()),
            ("0400", "2000")
        );
        assert_eq!(monday.clearing_cycle_end_time, "2000");
    }

    #[test]
    fn holidays_and_early_closes_follow_the_template() {
        let aapl = Catalogue::standard().stock("AAPL").unwrap();
        let schedule = venue_schedule(aapl, Venue::of(aapl).unwrap(), date(2026, 11, 20));
        let thanksgiving = schedule.schedules.iter().find(|d| d.trading_schedule_date == "20261126").unwrap();
        assert!(thanksgiving.sessions.is_empty());
        assert_eq!(thanksgiving.tradingtimes[0].cancel_day_orders, "N");
        let day_after = schedule.schedules.iter().find(|d| d.trading_schedule_date == "20261127").unwrap();
        assert_eq!(day_after.sessions[0].closing_time, "1300");
        assert_eq!(day_after.tradingtimes[0].closing_time, "1700");
    }
}
