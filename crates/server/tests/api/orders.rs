use engine::clock::{ClockMode, ClockSpec};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use testkit::{AppOptions, Reply, TestApp, spawn_app_with};

const ORDERS: &str = "/v1/api/iserver/account/DU1234567/orders";

/// A server on a manual clock on Tuesday 2026-03-03 at 11:00 New York.
async fn market() -> TestApp {
    let clock = ClockSpec { mode: ClockMode::Manual, start: Some("2026-03-03T16:00:00Z".parse().unwrap()) };
    spawn_app_with(AppOptions { clock, ..AppOptions::default() }).await
}

/// The same, without IBKR's first-call quirks.
async fn plain_market() -> TestApp {
    let clock = ClockSpec { mode: ClockMode::Manual, start: Some("2026-03-03T16:00:00Z".parse().unwrap()) };
    spawn_app_with(AppOptions { clock, no_preflight: true, ..AppOptions::default() }).await
}

fn aapl(side: &str, quantity: u32, order_type: &str, price: Option<f64>) -> Value {
    let mut ticket =
        json!({"conid": 265598, "side": side, "quantity": quantity, "orderType": order_type, "tif": "GTC"});
    if let Some(price) = price {
        ticket["price"] = json!(price);
    }
    ticket
}

async fn last_price(app: &TestApp) -> f64 {
    let path = "/v1/api/iserver/marketdata/snapshot?conids=265598&fields=31";
    app.get(path).await;
    app.get(path).await.body[0]["31"].as_str().unwrap().trim_start_matches(['C', 'H']).parse().unwrap()
}

/// Places `tickets`, confirming every question; the final reply.
async fn place_confirmed(app: &TestApp, tickets: Value) -> Reply {
    let mut reply = app.post_json(ORDERS, json!({"orders": tickets})).await;
    for _ in 0..10 {
        let Some(id) = reply.body[0]["id"].as_str() else { break };
        reply = app.post_json(&format!("/v1/api/iserver/reply/{id}"), json!({"confirmed": true})).await;
    }
    reply
}

async fn live_orders(app: &TestApp, query: &str) -> Value {
    app.get(&format!("/v1/api/iserver/account/orders{query}")).await.body
}

#[tokio::test]
async fn a_market_order_asks_its_questions_then_fills() {
    let app = market().await;
    let first = app.post_json(ORDERS, json!({"orders": [aapl("BUY", 10, "MKT", None)]})).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    assert_eq!(first.body[0]["messageIds"], json!(["o354"]), "no market data was asked for: {}", first.text);
    assert_eq!(first.body[0]["isSuppressed"], false);
    let id = first.body[0]["id"].as_str().unwrap().to_owned();
    let second = app.post_json(&format!("/v1/api/iserver/reply/{id}"), json!({"confirmed": true})).await;
    assert_eq!(second.body[0]["messageIds"], json!(["o10151"]), "{}", second.text);
    let text = second.body[0]["message"][0].as_str().unwrap().replace('\n', "");
    assert!(text.contains("A Market Order is an instruction to trade your order at any available price"));
    let next = second.body[0]["id"].as_str().unwrap();
    let placed = app.post_json(&format!("/v1/api/iserver/reply/{next}"), json!({"confirmed": true})).await;
    assert_eq!(placed.body[0]["order_status"], "Filled", "{}", placed.text);
    assert!(placed.body[0]["order_id"].as_str().unwrap().parse::<u64>().is_ok(), "a string of digits");
    assert_eq!(placed.body[0]["encrypt_message"], "1");
    let used = app.post_json(&format!("/v1/api/iserver/reply/{id}"), json!({"confirmed": true})).await;
    assert_eq!(used.status, StatusCode::BAD_REQUEST);
    assert_eq!(used.error(), format!("reply id not found: '{id}'"));
    app.assert_journal_replays().await;
}

#[tokio::test]
async fn declining_a_question_drops_the_order() {
    let app = plain_market().await;
    let asked = app.post_json(ORDERS, json!({"orders": [aapl("BUY", 10, "MKT", None)]})).await;
    let id = asked.body[0]["id"].as_str().unwrap();
    let declined = app.post_json(&format!("/v1/api/iserver/reply/{id}"), json!({"confirmed": false})).await;
    assert_eq!(declined.body, json!({"error": "Order not confirmed"}));
    assert_eq!(live_orders(&app, "").await["orders"], json!([]), "it never existed");
}

#[tokio::test]
async fn a_newer_request_voids_an_unanswered_question() {
    let app = plain_market().await;
    let first = app.post_json(ORDERS, json!({"orders": [aapl("BUY", 1, "MKT", None)]})).await;
    app.post_json(ORDERS, json!({"orders": [aapl("BUY", 2, "MKT", None)]})).await;
    let id = first.body[0]["id"].as_str().unwrap();
    let late = app.post_json(&format!("/v1/api/iserver/reply/{id}"), json!({"confirmed": true})).await;
    assert_eq!(late.status, StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn suppressed_questions_are_not_asked() {
    let app = plain_market().await;
    let suppressed =
        app.post_json("/v1/api/iserver/questions/suppress", json!({"messageIds": ["o354", "o10151"]})).await;
    assert_eq!(suppressed.body, json!({"status": "submitted"}));
    let placed = app.post_json(ORDERS, json!({"orders": [aapl("BUY", 10, "MKT", None)]})).await;
    assert_eq!(placed.body[0]["order_status"], "Filled", "{}", placed.text);
    assert_eq!(
        app.post("/v1/api/iserver/questions/suppress/reset").await.body,
        json!({"status": "submitted"})
    );
    let asked = app.post_json(ORDERS, json!({"orders": [aapl("BUY", 10, "MKT", None)]})).await;
    assert!(asked.body[0]["id"].is_string(), "{}", asked.text);
    let empty = app.post_json("/v1/api/iserver/questions/suppress", json!({"messageIds": []})).await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_suppression_outlives_a_restart_as_its_session_does() {
    let app = plain_market().await;
    let all = ["o354", "o10151", "o163", "o383", "o451", "o403"];
    app.post_json("/v1/api/iserver/questions/suppress", json!({ "messageIds": all })).await;
    let app = app.restart().await;
    let placed = app.post_json(ORDERS, json!({"orders": [aapl("BUY", 10, "MKT", None)]})).await;
    assert_eq!(placed.body[0]["order_status"], "Filled", "asked nothing after the restart: {}", placed.text);
    app.post("/v1/api/iserver/questions/suppress/reset").await;
    let app = app.restart().await;
    let asked = app.post_json(ORDERS, json!({"orders": [aapl("BUY", 10, "MKT", None)]})).await;
    assert!(asked.body[0]["id"].is_string(), "the reset outlives it too: {}", asked.text);
    let nonsense = app
        .post_json("/v1/api/iserver/questions/suppress", json!({"messageIds": ["x".repeat(10_000)]}))
        .await;
    assert_eq!(nonsense.status, StatusCode::BAD_REQUEST, "{}", nonsense.text);
    assert!(nonsense.text.len() < 200, "{}", nonsense.text);
    app.assert_journal_replays().await;
}

#[tokio::test]
async fn live_orders_are_primed_by_the_first_call() {
    let app = market().await;
    let last = last_price(&app).await;
    let limit = ((last * 0.99) * 100.0).round() / 100.0;
    let placed = place_confirmed(&app, json!([aapl("BUY", 10, "LMT", Some(limit))])).await;
    let id: u64 = placed.body[0]["order_id"].as_str().unwrap().parse().unwrap();
    assert_eq!(live_orders(&app, "").await, json!({"orders": [], "snapshot": false}), "IBKR's first call");
    let listed = live_orders(&app, "").await;
    assert_eq!(listed["snapshot"], true);
    let order = &listed["orders"][0];
    assert_eq!(order["orderId"], id, "a number here");
    assert_eq!((order["status"].as_str(), order["side"].as_str()), (Some("Submitted"), Some("BUY")));
    assert_eq!((order["totalSize"].as_f64(), order["remainingQuantity"].as_f64()), (Some(10.0), Some(10.0)));
    assert_eq!(order["price"], format!("{limit:.2}"));
    assert_eq!(order["orderType"], "Limit");
    assert_eq!(live_orders(&app, "?filters=filled").await["orders"], json!([]));
    assert_eq!(live_orders(&app, "?filters=submitted,filled").await["orders"].as_array().unwrap().len(), 1);
    assert_eq!(
        live_orders(&app, "?filters=filled&filters=submitted").await["orders"].as_array().unwrap().len(),
        1,
        "easyib's repeated keys"
    );
    assert_eq!(live_orders(&app, "?force=True").await, json!({"orders": [], "snapshot": false}));
}

#[tokio::test]
async fn an_orders_status_shows_it_in_full() {
    let app = plain_market().await;
    let last = last_price(&app).await;
    let limit = ((last * 0.99) * 100.0).round() / 100.0;
    let mut ticket = aapl("BUY", 3, "LMT", Some(limit));
    ticket["cOID"] = json!("mine-1");
    let placed = place_confirmed(&app, json!([ticket])).await;
    assert_eq!(placed.body[0]["local_order_id"], "mine-1");
    let id = placed.body[0]["order_id"].as_str().unwrap();
    let status = app.get(&format!("/v1/api/iserver/account/order/status/{id}")).await;
    assert_eq!(status.body["order_id"].as_u64(), id.parse().ok());
    assert_eq!(status.body["order_status"], "Submitted");
    assert_eq!((status.body["side"].as_str(), status.body["total_size"].as_str()), (Some("B"), Some("3.0")));
    assert_eq!(status.body["limit_price"], format!("{limit:.2}"));
    assert_eq!(status.body["conid"], 265598);
    let unknown = app.get("/v1/api/iserver/account/order/status/42").await;
    assert_eq!(unknown.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(unknown.error(), "OrderID 42 doesn't exist");
}

#[tokio::test]
async fn a_modified_order_shows_its_new_terms() {
    let app = plain_market().await;
    let last = last_price(&app).await;
    let limit = ((last * 0.99) * 100.0).round() / 100.0;
    let placed = place_confirmed(&app, json!([aapl("BUY", 10, "LMT", Some(limit))])).await;
    let id = placed.body[0]["order_id"].as_str().unwrap().to_owned();
    let lower = limit - 0.50;
    let path = format!("/v1/api/iserver/account/DU1234567/order/{id}");
    let mut modified = app.post_json(&path, aapl("BUY", 5, "LMT", Some(lower))).await;
    if let Some(reply) = modified.body[0]["id"].as_str() {
        modified = app.post_json(&format!("/v1/api/iserver/reply/{reply}"), json!({"confirmed": true})).await;
    }
    assert_eq!(modified.body[0]["order_id"], id, "{}", modified.text);
    let status = app.get(&format!("/v1/api/iserver/account/order/status/{id}")).await.body;
    assert_eq!(
        (status["total_size"].as_str(), status["limit_price"].as_str()),
        (Some("5.0"), Some(format!("{lower:.2}").as_str()))
    );
    let sideways = app.post_json(&path, aapl("SELL", 5, "LMT", Some(lower))).await;
    assert!(sideways.error().contains("keeps the order's contract and side"), "{}", sideways.text);
    let unknown =
        app.post_json("/v1/api/iserver/account/DU1234567/order/7", aapl("BUY", 5, "LMT", Some(lower))).await;
    assert_eq!(
        unknown.body,
        json!({"error": "OrderID 7 doesn't exist"}),
        "inside an HTTP 200, as IBKR answers"
    );
}

#[tokio::test]
async fn a_cancelled_order_is_cancelled_and_stays_so() {
    let app = plain_market().await;
    let last = last_price(&app).await;
    let limit = ((last * 0.99) * 100.0).round() / 100.0;
    let placed = place_confirmed(
        &app,
        json!([aapl("BUY", 10, "LMT", Some(limit)), aapl("BUY", 1, "LMT", Some(limit))]),
    )
    .await;
    let id = placed.body[0]["order_id"].as_str().unwrap().to_owned();
    let path = format!("/v1/api/iserver/account/DU1234567/order/{id}");
    let cancelled = app.request(Method::DELETE, &path, None).await;
    assert_eq!(
        cancelled.body,
        json!({"msg": "Request was submitted", "order_id": id.parse::<u64>().unwrap(), "conid": 265598, "account": "DU1234567"})
    );
    let status = app.get(&format!("/v1/api/iserver/account/order/status/{id}")).await.body;
    assert_eq!(status["order_status"], "Cancelled");
    let again = app.request(Method::DELETE, &path, None).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST, "{}", again.text);
    let all = app.request(Method::DELETE, "/v1/api/iserver/account/DU1234567/order/-1", None).await;
    assert_eq!(all.body["msg"], "Request was submitted");
    let listed = live_orders(&app, "?filters=submitted").await;
    assert_eq!(listed["orders"], json!([]), "cancel-all left nothing working");
}

#[tokio::test]
async fn whatif_previews_without_placing() {
    let app = plain_market().await;
    let preview =
        app.post_json(&format!("{ORDERS}/whatif"), json!({"orders": [aapl("BUY", 10, "MKT", None)]})).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.text);
    assert_eq!(preview.body["amount"]["commission"], "1.00 USD");
    assert!(
        preview.body["amount"]["amount"].as_str().unwrap().ends_with("USD (10 Shares)"),
        "{}",
        preview.text
    );
    assert_eq!(preview.body["equity"]["current"], "1,000,000");
    assert_eq!(preview.body["position"], json!({"current": "0", "change": "10", "after": "10"}));
    let margin = preview.body["initial"]["change"].as_str().unwrap().replace(',', "");
    assert!(margin.parse::<i64>().unwrap() > 0, "{}", preview.text);
    assert_eq!(live_orders(&app, "").await["orders"], json!([]), "nothing was placed");
    app.login("demo2", "demo").await;
    let refused = app
        .post_json(
            "/v1/api/iserver/account/DU7654321/orders/whatif",
            json!({"orders": [aapl("SELL", 10, "MKT", None)]}),
        )
        .await;
    assert!(refused.error().contains("cannot sell short"), "{}", refused.text);
}

#[tokio::test]
async fn the_singular_paths_of_ibkrs_earlier_documentation_place_and_preview_one_bare_ticket() {
    let app = plain_market().await;
    let suppressed = json!({"messageIds": ["o354", "o10151", "o163"]});
    app.post_json("/v1/api/iserver/questions/suppress", suppressed).await;
    let ticket = aapl("BUY", 10, "LMT", Some(100.0));
    let previewed = app.post_json("/v1/api/iserver/account/DU1234567/order/whatif", ticket.clone()).await;
    let plural = app.post_json(&format!("{ORDERS}/whatif"), json!({"orders": [ticket.clone()]})).await;
    assert_eq!(previewed.status, StatusCode::OK, "{}", previewed.text);
    assert_eq!(previewed.body, plural.body, "the preview of the plural path");
    assert_eq!(live_orders(&app, "").await["orders"], json!([]), "a preview, not a modification");
    let placed = app.post_json("/v1/api/iserver/account/DU1234567/order", ticket).await;
    assert_eq!(placed.status, StatusCode::OK, "{}", placed.text);
    let id = placed.body[0]["order_id"].as_str().unwrap_or_else(|| panic!("{}", placed.text));
    let orders = live_orders(&app, "").await;
    assert_eq!(orders["orders"][0]["orderId"].to_string(), id, "{orders}");
    let malformed = app.post_json("/v1/api/iserver/account/DU1234567/order", json!({"orders": []})).await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST, "a bare ticket, not the plural body");
}

#[tokio::test]
async fn an_account_filter_the_user_may_not_use_is_refused_like_any_unknown_account() {
    let app = plain_market().await;
    for path in ["iserver/account/orders", "iserver/account/trades"] {
        let own = app.get(&format!("/v1/api/{path}?accountId=DU1234567")).await;
        assert_eq!(own.status, StatusCode::OK, "{path}: {}", own.text);
        for other in ["DU7654321", "DU9999999", "not-an-id"] {
            let refused = app.get(&format!("/v1/api/{path}?accountId={other}")).await;
            assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{path} {other}: {}", refused.text);
            assert_eq!(refused.error(), format!("Bad Request: accountId is not valid: {other}"));
        }
    }
}

#[tokio::test]
async fn a_preview_warns_of_an_instrument_the_session_has_no_market_data_for() {
    let app = plain_market().await;
    let body = json!({"orders": [aapl("BUY", 10, "LMT", Some(100.0))]});
    let blind = app.post_json(&format!("{ORDERS}/whatif"), body.clone()).await;
    let warning = blind.body["warn"].as_str().unwrap_or_else(|| panic!("{}", blind.text));
    assert!(warning.starts_with("21/") && warning.contains("market data"), "{warning}");
    last_price(&app).await;
    let seen = app.post_json(&format!("{ORDERS}/whatif"), body).await;
    assert_eq!(seen.body["warn"], "", "nothing to warn of, as a string: {}", seen.text);
}

#[tokio::test]
async fn a_fill_shows_in_trades_and_moves_cash() {
    let app = plain_market().await;
    app.post_json("/v1/api/iserver/questions/suppress", json!({"messageIds": ["o354", "o10151"]})).await;
    app.post_json(ORDERS, json!({"orders": [aapl("BUY", 10, "MKT", None)]})).await;
    let trades = app.get("/v1/api/iserver/account/trades/?days=1").await;
    let trade = &trades.body[0];
    assert_eq!(
        (trade["side"].as_str(), trade["size"].as_f64(), trade["conid"].as_u64()),
        (Some("B"), Some(10.0), Some(265598))
    );
    assert!(trade["price"].is_string() && trade["commission"] == "1.0", "{trade}");
    let execution = trade["execution_id"].as_str().unwrap();
    assert!(execution.len() == 23 && execution.matches('.').count() == 3, "{execution}");
    assert_eq!(trade["position"], "10");
    assert_eq!(app.get("/v1/api/iserver/account/trades?days=9").await.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_ticket_ibkr_cannot_read_is_refused_as_ibkr_refuses_it() {
    let app = plain_market().await;
    let bad_side = app.post_json(ORDERS, json!({"orders": [aapl("HOLD", 1, "MKT", None)]})).await;
    assert_eq!(
        (bad_side.status, bad_side.error()),
        (StatusCode::BAD_REQUEST, "Invalid Side (must be 'BUY' or 'SELL').")
    );
    let no_price = app.post_json(ORDERS, json!({"orders": [aapl("BUY", 1, "LMT", None)]})).await;
    assert_eq!(
        (no_price.status, no_price.body.clone()),
        (StatusCode::OK, json!({"error": "Invalid order price fields"}))
    );
    let off_tick = place_confirmed(&app, json!([aapl("BUY", 1, "LMT", Some(100.001))])).await;
    assert!(off_tick.error().starts_with("Invalid order price fields"), "{}", off_tick.text);
    let other = app
        .post_json(
            "/v1/api/iserver/account/DU9999999/orders",
            json!({"orders": [aapl("BUY", 1, "MKT", None)]}),
        )
        .await;
    assert_eq!(
        (other.status, other.error()),
        (StatusCode::BAD_REQUEST, "Bad Request: accountId is not valid: DU9999999")
    );
    app.login("demo2", "demo").await;
    let short = place_confirmed_on(&app, "DU7654321", json!([aapl("SELL", 5, "MKT", None)])).await;
    assert!(short.error().contains("cannot sell short"), "{}", short.text);
    let digest = app.digest().await;
    let broke = place_confirmed_on(&app, "DU7654321", json!([aapl("BUY", 1000, "MKT", None)])).await;
    assert!(broke.error().contains("insufficient funds"), "{}", broke.text);
    assert_eq!(app.digest().await, digest, "a refusal changes nothing");
}

async fn place_confirmed_on(app: &TestApp, account: &str, tickets: Value) -> Reply {
    let mut reply =
        app.post_json(&format!("/v1/api/iserver/account/{account}/orders"), json!({"orders": tickets})).await;
    for _ in 0..10 {
        let Some(id) = reply.body[0]["id"].as_str() else { break };
        reply = app.post_json(&format!("/v1/api/iserver/reply/{id}"), json!({"confirmed": true})).await;
    }
    reply
}

#[tokio::test]
async fn a_stop_fires_when_the_control_plane_moves_the_price() {
    let app = plain_market().await;
    let last = last_price(&app).await;
    place_confirmed(&app, json!([aapl("BUY", 10, "MKT", None)])).await;
    let stop = ((last - 5.0) * 100.0).round() / 100.0;
    let placed = place_confirmed(&app, json!([aapl("SELL", 10, "STP", Some(stop))])).await;
    assert_eq!(placed.body[0]["order_status"], "PreSubmitted", "{}", placed.text);
    let id = placed.body[0]["order_id"].as_str().unwrap().to_owned();
    app.post_json("/_localbroker/market/265598", json!({"price": stop - 1.0})).await;
    let status = app.get(&format!("/v1/api/iserver/account/order/status/{id}")).await.body;
    assert_eq!(status["order_status"], "Filled", "{status}");
}

#[tokio::test]
async fn a_day_order_expires_at_the_close_and_orders_survive_a_restart() {
    let app = plain_market().await;
    let last = last_price(&app).await;
    let limit = ((last * 0.9) * 100.0).round() / 100.0;
    let mut day = aapl("BUY", 10, "LMT", Some(limit));
    day["tif"] = json!("DAY");
    let placed = place_confirmed(&app, json!([day])).await;
    let id = placed.body[0]["order_id"].as_str().unwrap().to_owned();
    let app = app.restart().await;
    let status = format!("/v1/api/iserver/account/order/status/{id}");
    assert_eq!(app.get(&status).await.body["order_status"], "Submitted", "the order is journaled");
    app.post_json("/_localbroker/clock", json!({"advance": "5h"})).await;
    assert_eq!(app.get(&status).await.body["order_status"], "Cancelled", "16:00 came");
    app.assert_journal_replays().await;
}

#[tokio::test]
async fn a_client_order_id_is_a_short_label() {
    let app = crate::quiet_market().await;
    for (why, id) in [("too long", "c".repeat(MAX + 1)), ("a control character", "bell\u{7}".to_owned())] {
        let mut ticket = aapl("BUY", 1, "LMT", Some(100.0));
        ticket["cOID"] = json!(id);
        let refused = app.post_json(ORDERS, json!({ "orders": [ticket] })).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{why}: {}", refused.text);
        assert!(refused.error().starts_with("cOID is at most 64 characters"), "{why}: {}", refused.text);
        assert!(refused.text.len() < 300, "{why}: {} bytes", refused.text.len());
    }
    let mut ticket = aapl("BUY", 1, "LMT", Some(100.0));
    ticket["cOID"] = json!("c".repeat(MAX));
    let placed = app.post_json(ORDERS, json!({ "orders": [ticket] })).await;
    assert!(placed.body[0]["order_id"].is_string(), "{}", placed.text);
}

const MAX: usize = server::trading::orders::ticket::MAX_CLIENT_ORDER_ID;
