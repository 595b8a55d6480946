use engine::clock::{ClockMode, ClockSpec};
use reqwest::StatusCode;
use serde_json::{Value, json};
use testkit::{AppOptions, TestApp, spawn_app_with};

/// Tuesday 2026-03-03, 11:00 New York: the regular session is running.
const TUESDAY_MORNING: &str = "2026-03-03T16:00:00Z";
/// The same Tuesday, 17:00 New York: after the regular close.
const TUESDAY_EVENING: &str = "2026-03-03T22:00:00Z";

async fn market_at(start: &str) -> TestApp {
    let clock = ClockSpec { mode: ClockMode::Manual, start: Some(start.parse().unwrap()) };
    spawn_app_with(AppOptions { clock, ..AppOptions::default() }).await
}

async fn snapshot(app: &TestApp, conids: &str, fields: &str) -> Vec<Value> {
    let path = format!("/v1/api/iserver/marketdata/snapshot?conids={conids}&fields={fields}");
    let first = app.get(&path).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let reply = app.get(&path).await;
    reply.body.as_array().unwrap().clone()
}

fn number(entry: &Value, field: &str) -> f64 {
    entry[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} in {entry}"))
        .trim_start_matches(['C', 'H'])
        .replace(',', "")
        .parse()
        .unwrap()
}

async fn advance(app: &TestApp, by: &str) {
    assert_eq!(app.post_json("/_localbroker/clock", json!({"advance": by})).await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_first_snapshot_opens_the_stream_and_the_next_answers_values() {
    let app = market_at(TUESDAY_MORNING).await;
    let first = app.get("/v1/api/iserver/marketdata/snapshot?conids=265598&fields=31,84,86").await;
    assert_eq!(first.body, json!([{"conid": 265598, "conidEx": "265598"}]));
    let second = app.get("/v1/api/iserver/marketdata/snapshot?conids=265598&fields=31,84,86").await;
    let aapl = &second.body[0];
    assert_eq!(aapl["conid"], 265_598, "an integer, like trsrv/stocks'");
    assert_eq!(aapl["6509"], "RpB");
    let (last, bid, ask) = (number(aapl, "31"), number(aapl, "84"), number(aapl, "86"));
    assert!(bid <= last && last <= ask && bid < ask, "{aapl}");
    assert!(
        aapl["_updated"].as_i64().unwrap()
            == "2026-03-03T16:00:00Z".parse::<jiff::Timestamp>().unwrap().as_millisecond()
    );
    let remembered = app.get("/v1/api/iserver/marketdata/snapshot?conids=265598").await;
    assert!(remembered.body[0].get("31").is_some(), "fields asked once keep coming");
}

#[tokio::test]
async fn every_supported_field_answers_a_string() {
    let app = market_at(TUESDAY_MORNING).await;
    let fields = "31,55,70,71,82,83,84,85,86,87,88,6004,6008,6070,6119,6509,7051,7059,7094,7184,7219,7221,7295,7633,7635,7741,7762,7768";
    let aapl = &snapshot(&app, "265598", fields).await[0];
    for field in fields.split(',') {
        assert!(aapl[field].is_string(), "{field} in {aapl}");
    }
    assert_eq!(aapl["55"], "AAPL");
    assert_eq!(aapl["6070"], "STK");
    assert_eq!(aapl["7633"], "28.0%");
    let change = number(aapl, "31") - number(aapl, "7741");
    assert!((number(aapl, "82") - change).abs() < 1e-6, "{aapl}");
    assert!(aapl["87"].as_str().unwrap().ends_with(['K', 'M']), "{aapl}");
}

#[tokio::test]
async fn a_manual_clock_freezes_the_market_until_it_is_advanced() {
    let app = market_at(TUESDAY_MORNING).await;
    let before = snapshot(&app, "265598,12087792", "31,84,86").await;
    assert_eq!(
        app.get("/v1/api/iserver/marketdata/snapshot?conids=265598,12087792&fields=31,84,86").await.body,
        json!(before)
    );
    advance(&app, "1m").await;
    let after =
        app.get("/v1/api/iserver/marketdata/snapshot?conids=265598,12087792&fields=31,84,86").await.body;
    assert_ne!(after[0]["31"], before[0]["31"]);
    assert_ne!(after[1]["31"], before[1]["31"]);
}

#[tokio::test]
async fn a_price_override_moves_the_market_at_once_and_survives_a_restart() {
    let app = market_at(TUESDAY_MORNING).await;
    let changed = app.post_json("/_localbroker/market/265598", json!({"price": 100})).await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    let aapl = &snapshot(&app, "265598", "31,84,86").await[0];
    let (last, bid, ask) = (number(aapl, "31"), number(aapl, "84"), number(aapl, "86"));
    assert!((last - 100.0).abs() <= ask - bid, "within one spread of 100: {aapl}");
    app.post_json("/_localbroker/market/265598", json!({"halt": true})).await;
    advance(&app, "30m").await;
    let halted = app.get("/v1/api/iserver/marketdata/snapshot?conids=265598&fields=31").await;
    assert!(halted.body[0]["31"].as_str().unwrap().starts_with('H'), "{}", halted.text);
    let app = app.restart().await;
    let again = snapshot(&app, "265598", "31").await;
    assert_eq!(again[0]["31"], halted.body[0]["31"], "overrides are journaled");
    let half_bad = app.post_json("/_localbroker/market/265598", json!({"price": 120, "volatility": 0})).await;
    assert_eq!(half_bad.status, StatusCode::BAD_REQUEST, "{}", half_bad.text);
    assert_eq!(
        app.get("/v1/api/iserver/marketdata/snapshot?conids=265598&fields=31").await.body[0]["31"],
        again[0]["31"],
        "a refused change applies none of its parts"
    );
    for bad in [json!({}), json!({"price": -1}), json!({"volatility": 0}), json!({"speed": 1})] {
        assert_eq!(
            app.post_json("/_localbroker/market/265598", bad.clone()).await.status,
            StatusCode::BAD_REQUEST,
            "{bad}"
        );
    }
    assert_eq!(
        app.post_json("/_localbroker/market/1", json!({"halt": true})).await.status,
        StatusCode::BAD_REQUEST
    );
    app.assert_journal_replays().await;
}

#[tokio::test]
async fn stocks_rest_on_holidays_and_weekends_and_currencies_on_saturdays() {
    for (start, closed_stock, fx_moves) in [
        ("2026-12-25T16:00:00Z", true, true),
        ("2026-03-07T16:00:00Z", true, false),
        ("2026-03-04T16:00:00Z", false, true),
    ] {
        let app = market_at(start).await;
        let before = snapshot(&app, "265598,12087792", "31,6509").await;
        advance(&app, "2h").await;
        let after =
            app.get("/v1/api/iserver/marketdata/snapshot?conids=265598,12087792&fields=31,6509").await.body;
        assert_eq!(before[0]["31"] == after[0]["31"], closed_stock, "AAPL at {start}: {before:?} {after}");
        if closed_stock {
            assert!(
                after[0]["31"].as_str().unwrap().starts_with('C'),
                "closed stocks show the close: {after}"
            );
            assert_eq!(after[0]["6509"], "ZpB");
        }
        assert_eq!(before[1]["31"] != after[1]["31"], fx_moves, "EUR.USD at {start}");
    }
}

#[tokio::test]
async fn a_day_of_minutes_is_390_regular_bars_and_its_day_bar_summarises_them() {
    let app = market_at(TUESDAY_EVENING).await;
    let minutes = app.get("/v1/api/iserver/marketdata/history?conid=265598&period=1d&bar=1min").await;
    assert_eq!(minutes.status, StatusCode::OK, "{}", minutes.text);
    let bars = minutes.body["data"].as_array().unwrap();
    assert_eq!(bars.len(), 390);
    assert_eq!(bars[0]["t"], "2026-03-03T14:30:00Z".parse::<jiff::Timestamp>().unwrap().as_millisecond());
    for bar in bars {
        let (o, h, l, c) = (
            bar["o"].as_f64().unwrap(),
            bar["h"].as_f64().unwrap(),
            bar["l"].as_f64().unwrap(),
            bar["c"].as_f64().unwrap(),
        );
        assert!(l <= o.min(c) && o.max(c) <= h, "{bar}");
    }
    let max_high = bars.iter().map(|b| b["h"].as_f64().unwrap()).fold(f64::MIN, f64::max);
    let day = app.get("/v1/api/iserver/marketdata/history?conid=265598&period=1d&bar=1d").await;
    assert_eq!(day.body["data"][0]["h"].as_f64().unwrap(), max_high);
    let volume: u64 = bars.iter().map(|b| b["v"].as_u64().unwrap()).sum();
    assert_eq!(day.body["data"][0]["v"].as_u64().unwrap(), volume);
    let extended =
        app.get("/v1/api/iserver/marketdata/history?conid=265598&period=1d&bar=1min&outsideRth=true").await;
    assert_eq!(extended.body["data"].as_array().unwrap().len(), 780, "04:00 to the present 17:00");
    assert_eq!(minutes.body["mdAvailability"], "S");
    assert_eq!(minutes.body["symbol"], "AAPL");
    let hmds = app.get("/v1/api/hmds/history?conid=265598&period=1d&bar=1min").await;
    assert_eq!(hmds.body["data"], minutes.body["data"]);
}

#[tokio::test]
async fn history_never_reaches_past_the_present() {
    let app = market_at(TUESDAY_MORNING).await;
    let now = "2026-03-03T16:00:00Z".parse::<jiff::Timestamp>().unwrap().as_millisecond();
    let reply = app.get("/v1/api/iserver/marketdata/history?conid=265598&period=1d&bar=5min").await;
    let bars = reply.body["data"].as_array().unwrap();
    assert_eq!(bars.len(), 18, "09:30 to 11:00 in 5-minute bars");
    assert!(bars.iter().all(|bar| bar["t"].as_i64().unwrap() < now));
    let later = app
        .get("/v1/api/iserver/marketdata/history?conid=265598&period=1d&bar=5min&startTime=20300101-00:00:00")
        .await;
    assert_eq!(later.body["data"], reply.body["data"], "a startTime in the future means now");
    let earlier = app
        .get("/v1/api/iserver/marketdata/history?conid=265598&period=2h&bar=1min&startTime=20260302-17:00:00")
        .await;
    assert_eq!(earlier.body["data"].as_array().unwrap().len(), 120);
    let half_hour = app
        .get("/v1/api/iserver/marketdata/history?conid=265598&period=30min&bar=5min&startTime=20260303-15:33:00")
        .await;
    let starts: Vec<i64> =
        half_hour.body["data"].as_array().unwrap().iter().map(|bar| bar["t"].as_i64().unwrap()).collect();
    assert_eq!(starts.len(), 7, "10:00 to 10:30, the first bar whole: {}", half_hour.text);
    assert_eq!(starts[0], "2026-03-03T15:00:00Z".parse::<jiff::Timestamp>().unwrap().as_millisecond());
    assert!(starts.iter().all(|t| t % 300_000 == 0), "every bar on the 5-minute grid: {starts:?}");
    let week = app.get("/v1/api/iserver/marketdata/history?conid=265598&period=1w&bar=1d").await;
    assert_eq!(week.body["data"].as_array().unwrap().len(), 5, "2026-02-25 to 2026-03-03: five trading days");
    for bad in ["period=1d&bar=4min", "period=1d&bar=5mins", "period=1d&bar=1d&startTime=yesterday"] {
        let reply = app.get(&format!("/v1/api/iserver/marketdata/history?conid=265598&{bad}")).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}: {}", reply.text);
    }
    let unknown = app.get("/v1/api/iserver/marketdata/history?conid=1&period=1d&bar=1d").await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
}

fn starts(reply: &testkit::Reply) -> Vec<i64> {
    reply.body["data"]
        .as_array()
        .unwrap_or_else(|| panic!("{}", reply.text))
        .iter()
        .map(|bar| bar["t"].as_i64().unwrap())
        .collect()
}

/// AAPL's history with `query`.
async fn history(app: &TestApp, query: &str) -> testkit::Reply {
    app.get(&format!("/v1/api/iserver/marketdata/history?conid=265598&{query}")).await
}

fn millis(text: &str) -> i64 {
    text.parse::<jiff::Timestamp>().unwrap().as_millisecond()
}

#[tokio::test]
async fn a_long_period_answers_its_most_recent_thousand_bars_ending_now() {
    let app = market_at(TUESDAY_MORNING).await;
    let minutes = history(&app, "period=80h&bar=1min").await;
    let bars = starts(&minutes);
    assert_eq!(bars.len(), 1_000, "80 hours of minutes are 4,800: the most recent 1,000");
    assert_eq!(bars[999], millis("2026-03-03T15:59:00Z"), "the last bar is the minute before now");
    assert_eq!(minutes.body["points"], 999, "IBKR counts one less than the bars");
    let fives = starts(&history(&app, "period=80h&bar=5min").await);
    assert_eq!(fives.len(), 960, "80 trading hours hold 960 five-minute bars");
    assert_eq!(fives[959], millis("2026-03-03T15:55:00Z"));
    let years = starts(&history(&app, "period=40y&bar=1d").await);
    assert_eq!(years.len(), 1_000, "any number of years; the most recent 1,000 days");
    assert_eq!(years[999], millis("2026-03-03T14:30:00Z"), "today's bar so far");
    let seconds = starts(&history(&app, "period=1d&bar=30S").await);
    assert_eq!(seconds.len(), 90 * 2, "09:30 to 11:00 in 30-second bars");
    assert!(seconds.windows(2).all(|pair| pair[1] - pair[0] == 30_000), "every 30 seconds");
}

#[tokio::test]
async fn a_minutes_seconds_add_up_to_its_bar() {
    let app = market_at(TUESDAY_MORNING).await;
    let minutes = history(&app, "period=3min&bar=1min").await.body["data"].as_array().unwrap().clone();
    let seconds = history(&app, "period=3min&bar=1S").await;
    assert_eq!(seconds.body["barLength"], 1);
    let seconds = seconds.body["data"].as_array().unwrap().clone();
    assert_eq!(seconds.len(), 180);
    for (minute, parts) in minutes.iter().zip(seconds.chunks(60)) {
        let field = |bar: &Value, key: &str| bar[key].as_f64().unwrap();
        let high = parts.iter().map(|bar| field(bar, "h")).fold(f64::MIN, f64::max);
        let low = parts.iter().map(|bar| field(bar, "l")).fold(f64::MAX, f64::min);
        let volume: u64 = parts.iter().map(|bar| bar["v"].as_u64().unwrap()).sum();
        assert_eq!(parts[0]["t"], minute["t"]);
        assert_eq!(
            (field(&parts[0], "o"), high, low, field(&parts[59], "c"), volume),
            (
                field(minute, "o"),
                field(minute, "h"),
                field(minute, "l"),
                field(minute, "c"),
                minute["v"].as_u64().unwrap()
            ),
            "{minute}"
        );
    }
}

#[tokio::test]
async fn paging_back_a_year_of_minutes_returns_every_minute_once() {
    let app = market_at(TUESDAY_EVENING).await;
    let days = history(&app, "period=1y&bar=1d").await.body["data"].as_array().unwrap().clone();
    let first = days[0]["t"].as_i64().unwrap();
    let mut minutes: Vec<Value> = Vec::new();
    let mut cursor = None::<i64>;
    loop {
        let start = cursor.map(|t| {
            let utc =
                jiff::Timestamp::from_millisecond(t).unwrap().to_zoned_datetime(jiff::tz::TimeZone::UTC);
            format!("&startTime={}", utc.strftime("%Y%m%d-%H:%M:%S"))
        });
        let page = history(&app, &format!("period=1y&bar=1min{}", start.unwrap_or_default())).await;
        let bars = page.body["data"].as_array().unwrap_or_else(|| panic!("{}", page.text)).clone();
        assert!(bars.len() <= 1_000);
        let Some(oldest) = bars.first().map(|bar| bar["t"].as_i64().unwrap()) else { break };
        minutes.splice(0..0, bars.into_iter().filter(|bar| bar["t"].as_i64().unwrap() >= first));
        if oldest <= first {
            break;
        }
        cursor = Some(oldest);
    }
    let times: Vec<i64> = minutes.iter().map(|bar| bar["t"].as_i64().unwrap()).collect();
    assert!(times.windows(2).all(|pair| pair[0] < pair[1]), "in order, no minute twice");
    assert!(times.iter().all(|t| t % 60_000 == 0));
    // Each day's minutes add up to its day bar, so none is missing.
    let mut rest = &minutes[..];
    for (index, day) in days.iter().enumerate() {
        let next = days.get(index + 1).map_or(i64::MAX, |bar| bar["t"].as_i64().unwrap());
        let count = rest.iter().take_while(|bar| bar["t"].as_i64().unwrap() < next).count();
        let (of_day, later) = rest.split_at(count);
        rest = later;
        let volume: u64 = of_day.iter().map(|bar| bar["v"].as_u64().unwrap()).sum();
        assert_eq!(volume, day["v"].as_u64().unwrap(), "{day}");
        assert_eq!(of_day.first().map(|bar| &bar["o"]), Some(&day["o"]), "{day}");
        assert_eq!(of_day.last().map(|bar| &bar["c"]), Some(&day["c"]), "{day}");
    }
    assert!(minutes.len() > 240 * 390, "a year of regular sessions: {}", minutes.len());
}

#[tokio::test]
async fn a_malformed_period_means_ibkrs_default() {
    let app = market_at(TUESDAY_EVENING).await;
    let day = history(&app, "period=1d&bar=1h").await;
    for malformed in ["period=5D&bar=1h", "period=week&bar=1h", "period=0d&bar=1h", "bar=1h"] {
        let reply = history(&app, malformed).await;
        assert_eq!(reply.status, StatusCode::OK, "{malformed}: {}", reply.text);
        assert_eq!(reply.body["timePeriod"], "1d", "{malformed}");
        assert_eq!(reply.body["data"], day.body["data"], "{malformed}");
    }
    let minutes = history(&app, "period=1d").await;
    assert_eq!(minutes.body["barLength"], 60, "IBKR's default bar");
    assert_eq!(starts(&minutes).len(), 390);
}

#[tokio::test]
async fn hmds_history_answers_its_own_shape() {
    let app = market_at(TUESDAY_MORNING).await;
    let reply = app.get("/v1/api/hmds/history?conid=265598&period=1d&bar=5mins").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let keys: Vec<&str> = reply.body.as_object().unwrap().keys().map(String::as_str).collect();
    let mut expected =
        ["data", "endTime", "endTimeVal", "mktDataDelay", "points", "startTime", "startTimeVal"];
    expected.sort_unstable();
    let mut keys = keys;
    keys.sort_unstable();
    assert_eq!(keys, expected);
    assert_eq!(reply.body["startTime"], "20260303-09:30:00", "in the exchange's time");
    assert_eq!(reply.body["startTimeVal"], millis("2026-03-03T14:30:00Z"));
    assert_eq!(reply.body["endTime"], "20260303-11:00:00");
    assert_eq!(reply.body["endTimeVal"], millis(TUESDAY_MORNING));
    assert_eq!(reply.body["points"], 18);
    let iserver = app.get("/v1/api/iserver/marketdata/history?conid=265598&period=1d&bar=5min").await;
    assert_eq!(reply.body["data"], iserver.body["data"], "the same bars");
    let seconds = app.get("/v1/api/hmds/history?conid=265598&period=600S&bar=30secs").await;
    assert_eq!(starts(&seconds).len(), 20, "ten minutes of 30-second bars");
}

#[tokio::test]
async fn before_the_open_regular_hours_history_is_the_previous_day() {
    let app = market_at("2026-03-03T13:00:00Z").await;
    let reply = app.get("/v1/api/iserver/marketdata/history?conid=265598&period=1d&bar=1min").await;
    let bars = reply.body["data"].as_array().unwrap();
    assert_eq!(bars.len(), 390, "{}", reply.text);
    assert_eq!(bars[0]["t"], "2026-03-02T14:30:00Z".parse::<jiff::Timestamp>().unwrap().as_millisecond());
    let extended =
        app.get("/v1/api/iserver/marketdata/history?conid=265598&period=1d&bar=1min&outsideRth=true").await;
    assert_eq!(extended.body["data"].as_array().unwrap().len(), 240, "04:00 to the present 08:00");
}

#[tokio::test]
async fn a_currency_day_runs_from_five_in_the_evening_new_york() {
    let app = market_at("2026-03-04T12:00:00Z").await;
    let reply = app.get("/v1/api/iserver/marketdata/history?conid=12087792&period=2d&bar=1d").await;
    assert_eq!(reply.body["tradingDayDuration"], 1440);
    let starts: Vec<i64> =
        reply.body["data"].as_array().unwrap().iter().map(|bar| bar["t"].as_i64().unwrap()).collect();
    let millis = |text: &str| text.parse::<jiff::Timestamp>().unwrap().as_millisecond();
    assert_eq!(starts, [millis("2026-03-02T22:00:00Z"), millis("2026-03-03T22:00:00Z")], "{}", reply.text);
    let hours = app.get("/v1/api/iserver/marketdata/history?conid=12087792&period=1d&bar=1h").await;
    assert_eq!(hours.body["data"].as_array().unwrap().len(), 14, "22:00 to the present 12:00");
}

#[tokio::test]
async fn coins_trade_through_the_weekend_in_fractions() {
    let app = market_at("2026-03-08T12:00:00Z").await;
    let before = &snapshot(&app, "479624278", "31,84,85,86,87,88,6070,6509,7059").await[0];
    assert_eq!(before["6070"], "CRYPTO");
    assert_eq!(before["6509"], "RpB", "open on a Sunday: {before}");
    let size = before["85"].as_str().unwrap();
    assert!(size.starts_with("0.") || size.starts_with("1.") || size.starts_with("2."), "{before}");
    assert_eq!(size.split('.').nth(1).unwrap().len(), 8, "eight decimals, as IBKR shows coins: {size}");
    advance(&app, "1h").await;
    let after = app.get("/v1/api/iserver/marketdata/snapshot?conids=479624278&fields=31").await.body;
    assert_ne!(after[0]["31"], before["31"], "a coin moves on Sundays");
    let hours = app.get("/v1/api/iserver/marketdata/history?conid=479624278&period=1d&bar=1h").await;
    let bars = hours.body["data"].as_array().unwrap();
    assert_eq!(bars.len(), 13, "midnight UTC to the present 13:00: {}", hours.text);
    assert_eq!(bars[0]["t"], "2026-03-08T00:00:00Z".parse::<jiff::Timestamp>().unwrap().as_millisecond());
    assert!(bars.iter().any(|bar| bar["v"].as_f64().unwrap().fract() != 0.0), "fractional volume");
    assert_eq!(hours.body["tradingDayDuration"], 1440);
}

#[tokio::test]
async fn the_older_md_snapshot_shares_the_sessions_streams() {
    let app = market_at(TUESDAY_MORNING).await;
    let path = "/v1/api/md/snapshot?conids=265598@SMART:CS,8314&fields=31,84,86";
    let first = app.get(path).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    assert_eq!(
        first.body,
        json!([{"conid": 265598, "conidEx": "265598"}, {"conid": 8314, "conidEx": "8314"}])
    );
    let second = app.get(path).await.body;
    let current = snapshot(&app, "265598", "31,84,86").await;
    assert_eq!(second[0]["31"], current[0]["31"], "{second}");
    assert!(second[1]["84"].is_string(), "{second}");
    let unknown = app.get("/v1/api/md/snapshot?conids=1@SMART:CS&fields=31").await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_snapshot_takes_at_most_a_hundred_conids() {
    let app = market_at(TUESDAY_MORNING).await;
    let at_most = vec!["265598"; 100].join(",");
    let reply = app.get(&format!("/v1/api/iserver/marketdata/snapshot?conids={at_most}&fields=31")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let many = vec!["265598"; 101].join(",");
    let reply = app.get(&format!("/v1/api/iserver/marketdata/snapshot?conids={many}&fields=31")).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
    assert!(reply.error().contains("at most 100"), "{}", reply.error());
    let repeated = snapshot(&app, "265598,265598", "31").await;
    assert_eq!(repeated.len(), 1, "one entry per conid: {repeated:?}");
}

#[tokio::test]
async fn a_new_session_starts_without_streams() {
    let app = market_at(TUESDAY_MORNING).await;
    snapshot(&app, "265598", "31").await;
    app.post("/v1/api/logout").await;
    assert_eq!(app.login("demo", "demo").await.status, StatusCode::OK);
    let first = app.get("/v1/api/iserver/marketdata/snapshot?conids=265598&fields=31").await;
    assert_eq!(first.body, json!([{"conid": 265598, "conidEx": "265598"}]));
}

#[tokio::test]
async fn the_same_seed_serves_the_same_market() {
    let first = market_at(TUESDAY_EVENING).await;
    let second = market_at(TUESDAY_EVENING).await;
    let path = "/v1/api/iserver/marketdata/history?conid=265598&period=2d&bar=1min";
    let (a, b) = (first.get(path).await, second.get(path).await);
    assert_eq!(a.body["data"].as_array().unwrap().len(), 2 * 390);
    assert_eq!(a.text, b.text, "byte-identical history");
    assert_eq!(
        snapshot(&first, "265598,12087792", "31,84,86,87").await,
        snapshot(&second, "265598,12087792", "31,84,86,87").await
    );
    let clock = ClockSpec { mode: ClockMode::Manual, start: Some(TUESDAY_EVENING.parse().unwrap()) };
    let other =
        spawn_app_with(AppOptions { clock, seed: Some(testkit::SEED + 1), ..AppOptions::default() }).await;
    assert_ne!(other.get(path).await.body["data"], a.body["data"], "another seed, another market");
}

#[tokio::test]
async fn streams_are_closed_one_by_one_or_all_at_once() {
    let app = market_at(TUESDAY_MORNING).await;
    snapshot(&app, "265598,8314", "31").await;
    let closed = app.post_json("/v1/api/iserver/marketdata/unsubscribe", json!({"conid": 265598})).await;
    assert_eq!(closed.body, json!({"success": true}));
    let again = app.post_json("/v1/api/iserver/marketdata/unsubscribe", json!({"conid": 265598})).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    let reopened = app.get("/v1/api/iserver/marketdata/snapshot?conids=265598&fields=31").await;
    assert_eq!(reopened.body, json!([{"conid": 265598, "conidEx": "265598"}]), "a closed stream opens again");
    assert_eq!(
        app.get("/v1/api/iserver/marketdata/unsubscribeall").await.body,
        json!({"unsubscribed": true})
    );
    assert_eq!(
        app.post_json("/v1/api/iserver/marketdata/unsubscribe", json!({"conid": 8314})).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn exchange_rates_come_from_the_pairs() {
    let app = market_at(TUESDAY_MORNING).await;
    let eur_usd =
        app.get("/v1/api/iserver/exchangerate?source=EUR&target=USD").await.body["rate"].as_f64().unwrap();
    let usd_eur =
        app.get("/v1/api/iserver/exchangerate?source=usd&target=eur").await.body["rate"].as_f64().unwrap();
    assert!((eur_usd * usd_eur - 1.0).abs() < 1e-12);
    let fx = &snapshot(&app, "12087792", "84,86").await[0];
    assert!(number(fx, "84") <= eur_usd && eur_usd <= number(fx, "86"), "the mid of EUR.USD: {eur_usd} {fx}");
    let cross = app.get("/v1/api/iserver/exchangerate?source=GBP&target=CHF").await;
    assert!(cross.body["rate"].as_f64().unwrap() > 0.5, "across the dollar: {}", cross.text);
    assert_eq!(app.get("/v1/api/iserver/exchangerate?source=EUR&target=EUR").await.body["rate"], 1.0);
    assert_eq!(
        app.get("/v1/api/iserver/exchangerate?source=EUR&target=XYZ").await.status,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn a_regulatory_snapshot_answers_at_once() {
    let app = market_at(TUESDAY_MORNING).await;
    let reply = app.get("/v1/api/md/regsnapshot?conid=265598").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.body["31"].is_string() && reply.body["84"].is_string(), "{}", reply.text);
    assert_eq!(app.get("/v1/api/md/regsnapshot").await.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn contract_rules_suggest_the_last_price() {
    let app = market_at(TUESDAY_MORNING).await;
    let rules = app.post_json("/v1/api/iserver/contract/rules", json!({"conid": 265598})).await.body;
    let last = number(&snapshot(&app, "265598", "31").await[0], "31");
    assert_eq!(rules["limitPrice"].as_f64().unwrap(), last);
    assert_eq!(rules["orderDefaults"]["LMT"]["LP"].as_str().unwrap().parse::<f64>().unwrap(), last);
}
