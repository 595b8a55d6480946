use engine::clock::{ClockMode, ClockSpec};
use reqwest::StatusCode;
use serde_json::json;
use testkit::{AppOptions, TestApp, spawn_app, spawn_app_with};

const START: &str = "2026-03-02T14:30:00Z";

async fn manual() -> TestApp {
    let clock = ClockSpec { mode: ClockMode::Manual, start: Some(START.parse().unwrap()) };
    spawn_app_with(AppOptions { clock, ..AppOptions::default() }).await
}

#[tokio::test]
async fn the_default_clock_runs_with_the_wall_clock() {
    let app = spawn_app().await;
    let clock = app.get("/_localbroker/clock").await;
    assert_eq!(clock.body["mode"], "realtime");
    let now: jiff::Timestamp = clock.body["now"].as_str().unwrap().parse().unwrap();
    let drift = jiff::Timestamp::now().duration_since(now).abs();
    assert!(drift < jiff::SignedDuration::from_secs(60), "{drift:?}");
}

#[tokio::test]
async fn a_manual_clock_moves_only_when_told_and_never_back() {
    let app = manual().await;
    assert_eq!(app.get("/_localbroker/clock").await.body, json!({"now": START, "mode": "manual"}));
    let advanced = app.post_json("/_localbroker/clock", json!({"advance": "5m"})).await;
    assert_eq!(advanced.body, json!({"now": "2026-03-02T14:35:00Z", "mode": "manual"}));
    let set = app.post_json("/_localbroker/clock", json!({"set": "2026-03-03T09:30:00-05:00"})).await;
    assert_eq!(set.body["now"], "2026-03-03T14:30:00Z");
    let back = app.post_json("/_localbroker/clock", json!({"set": START})).await;
    assert_eq!(back.status, StatusCode::BAD_REQUEST);
    assert!(back.error().contains("cannot be set back"), "{}", back.error());
    for bad in [
        json!({}),
        json!({"advance": "5m", "set": START}),
        json!({"advance": "soon"}),
        json!({"mode": "fast"}),
        json!({"speed": 2}),
    ] {
        let reply = app.post_json("/_localbroker/clock", bad.clone()).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}");
    }
    assert_eq!(
        app.get("/_localbroker/clock").await.body["now"],
        "2026-03-03T14:30:00Z",
        "refusals change nothing"
    );
    let accelerated = app.post_json("/_localbroker/clock", json!({"mode": "accelerated:3600"})).await;
    assert_eq!(accelerated.body["mode"], "accelerated:3600");
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let later: jiff::Timestamp =
        app.get("/_localbroker/clock").await.body["now"].as_str().unwrap().parse().unwrap();
    assert!(later > "2026-03-03T14:30:10Z".parse().unwrap(), "an hour a second: {later}");
    app.assert_journal_replays().await;
}

#[tokio::test]
async fn the_clock_stops_where_the_simulated_market_ends() {
    let app = manual().await;
    for beyond in [json!({"set": "2101-01-01T00:00:01Z"}), json!({"advance": "99999d"})] {
        let reply = app.post_json("/_localbroker/clock", beyond.clone()).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{beyond}");
        assert!(reply.error().contains("outside the simulated market"), "{}", reply.error());
    }
    assert_eq!(app.get("/_localbroker/clock").await.body["now"], START);
}

#[tokio::test]
async fn the_clock_survives_a_restart() {
    let app = manual().await;
    app.post_json("/_localbroker/clock", json!({"advance": "3d"})).await;
    let app = app.restart().await;
    assert_eq!(
        app.get("/_localbroker/clock").await.body,
        json!({"now": "2026-03-05T14:30:00Z", "mode": "manual"})
    );
}

#[tokio::test]
async fn the_schedule_reaches_a_year_ahead_of_market_time() {
    let app = manual().await;
    let schedule = app.get("/v1/api/trsrv/secdef/schedule?assetClass=STK&symbol=AAPL").await;
    let dates: Vec<&str> = schedule.body[0]["schedules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|day| day["tradingScheduleDate"].as_str().unwrap())
        .collect();
    assert!(dates.contains(&"20260403"), "Good Friday 2026: {dates:?}");
    assert!(!dates.contains(&"20270326"), "Good Friday 2027 is more than a year after the market's now");
}
