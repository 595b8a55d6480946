//! The entitlement matrix: on a strict server, `demo` walks every implemented route of the
//! Trading API and every account topic of the websocket naming `demo2`'s account and order,
//! and learns nothing of them, nor changes anything of theirs.

use engine::clock::{ClockMode, ClockSpec};
use futures_util::{SinkExt, StreamExt};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use testkit::{AppOptions, Reply, TestApp, spawn_app_with};
use tokio_tungstenite::tungstenite::Message;

use crate::oauth::reply;
use crate::security::{logged_in, socket_request};

const OTHER_ACCOUNT: &str = "DU7654321";
const OTHER_ORDER_REF: &str = "demo2-private-order";
const AAPL: u64 = 265_598;
const QUESTIONS: [&str; 8] = ["o163", "o354", "o383", "o451", "o403", "o10151", "o10331", "o10223"];

async fn send(
    client: &reqwest::Client,
    app: &TestApp,
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> Reply {
    let mut request = client.request(method, format!("{}{path}", app.url));
    if let Some(body) = body {
        request = request.json(body);
    }
    reply(request.send().await.unwrap()).await
}

/// What `demo2` has that `demo` must not see: a working order, a position and their account.
async fn demo2_trades(app: &TestApp, demo2: &reqwest::Client) -> String {
    send(demo2, app, Method::GET, "/v1/api/iserver/accounts", None).await;
    let suppress = json!({"messageIds": QUESTIONS});
    send(demo2, app, Method::POST, "/v1/api/iserver/questions/suppress", Some(&suppress)).await;
    let path = format!("/v1/api/iserver/account/{OTHER_ACCOUNT}/orders");
    let bought =
        json!({"orders": [{"conid": AAPL, "orderType": "MKT", "side": "BUY", "quantity": 5, "tif": "DAY"}]});
    let filled = send(demo2, app, Method::POST, &path, Some(&bought)).await;
    assert_eq!(filled.status, StatusCode::OK, "{}", filled.text);
    let working = json!({"orders": [{"conid": AAPL, "orderType": "LMT", "price": 1, "side": "BUY", "quantity": 1, "tif": "GTC", "cOID": OTHER_ORDER_REF}]});
    let placed = send(demo2, app, Method::POST, &path, Some(&working)).await;
    placed.body[0]["order_id"].as_str().unwrap_or_else(|| panic!("an order id: {}", placed.text)).to_owned()
}

/// What `demo2` sees of their own account; the walk must leave it as it was.
async fn demo2_view(app: &TestApp, demo2: &reqwest::Client) -> Vec<Value> {
    let mut view = Vec::new();
    for path in [
        format!("/v1/api/portfolio/{OTHER_ACCOUNT}/positions/0"),
        format!("/v1/api/portfolio/{OTHER_ACCOUNT}/ledger"),
        "/v1/api/iserver/account/orders".to_owned(),
    ] {
        let mut body = send(demo2, app, Method::GET, &path, None).await.body;
        if let Some(orders) = body.get_mut("orders").and_then(Value::as_array_mut) {
            for order in orders {
                order.as_object_mut().unwrap().remove("lastExecutionTime_r");
            }
        }
        view.push(body);
    }
    view
}

/// Every implemented Trading API operation, as `(method, path template)`.
async fn operations(app: &TestApp) -> Vec<(Method, String, Vec<String>)> {
    let spec = app.get("/openapi.json").await.body;
    let mut found = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        let Some(path) = path.strip_prefix("/v1/api") else { continue };
        for (method, operation) in item.as_object().unwrap() {
            let Ok(method) = method.to_uppercase().parse::<Method>() else { continue };
            let query: Vec<String> = operation["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "query")
                .filter_map(|p| p["name"].as_str().map(str::to_owned))
                .collect();
            found.push((method, path.to_owned(), query));
        }
    }
    found
}

/// The value each parameter gets: the other user's account and order wherever one fits.
fn argument(name: &str, order: &str) -> String {
    match name {
        "accountId" | "accountid" | "acctIds" | "acctId" => OTHER_ACCOUNT.to_owned(),
        "orderId" => order.to_owned(),
        "conid" | "conids" => AAPL.to_string(),
        "searchPattern" => "DU765".to_owned(),
        "symbol" | "symbols" => "AAPL".to_owned(),
        _ => "1".to_owned(),
    }
}

fn concrete(template: &str, query: &[String], order: &str) -> String {
    let mut path = String::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let end = rest[start..].find('}').unwrap() + start;
        path.push_str(&rest[..start]);
        path.push_str(&argument(&rest[start + 1..end], order));
        rest = &rest[end + 1..];
    }
    path.push_str(rest);
    let pairs: Vec<String> = query.iter().map(|name| format!("{name}={}", argument(name, order))).collect();
    if pairs.is_empty() { format!("/v1/api{path}") } else { format!("/v1/api{path}?{}", pairs.join("&")) }
}

/// A body naming the other account every way IBKR's bodies do.
fn body(order: &str) -> Value {
    json!({
        "acctId": OTHER_ACCOUNT,
        "accountId": OTHER_ACCOUNT,
        "acctIds": [OTHER_ACCOUNT],
        "accountIds": [OTHER_ACCOUNT],
        "orderId": order,
        "conids": [AAPL],
        "confirmed": true,
        "orders": [{"acctId": OTHER_ACCOUNT, "conid": AAPL, "orderType": "MKT", "side": "SELL", "quantity": 5, "tif": "DAY"}],
    })
}

/// IBKR's own 5xx answers: 503 for an order it does not know, 500 `unknown` for a market-data
/// unsubscription of a conid not streaming (`reference/endpoints.md` §0.3, §4).
fn ibkr_server_error(answer: &Reply) -> bool {
    let unknown_order =
        answer.status == StatusCode::SERVICE_UNAVAILABLE && answer.error().ends_with("doesn't exist");
    unknown_order || answer.error() == "unknown"
}

fn leaks(text: &str, order: &str) -> bool {
    text.contains(OTHER_ACCOUNT) || text.contains(OTHER_ORDER_REF) || text.contains(order)
}

#[tokio::test]
async fn no_route_shows_or_touches_another_users_account() {
    let clock = ClockSpec { mode: ClockMode::Manual, start: Some("2026-03-03T16:00:00Z".parse().unwrap()) };
    let app =
        spawn_app_with(AppOptions { strict: true, clock, no_preflight: true, ..AppOptions::default() }).await;
    let demo2 = logged_in(&app, "demo2", "demo").await;
    let order = demo2_trades(&app, &demo2).await;
    let before = demo2_view(&app, &demo2).await;
    assert!(before.iter().any(|view| view.to_string().contains(OTHER_ORDER_REF)), "{before:?}");

    let demo = logged_in(&app, "demo", "demo").await;
    send(&demo, &app, Method::GET, "/v1/api/iserver/accounts", None).await;
    send(&demo, &app, Method::GET, "/v1/api/portfolio/accounts", None).await;
    let operations = operations(&app).await;
    assert!(operations.len() > 55, "the document lists every implemented operation: {}", operations.len());
    let mut walked = 0;
    for (method, template, query) in &operations {
        // Logging out and the websocket upgrade are the caller's own business; the socket's
        // topics are walked below.
        if template == "/logout" || template == "/ws" {
            continue;
        }
        let path = concrete(template, query, &order);
        let body = matches!(*method, Method::POST | Method::PUT | Method::DELETE).then(|| body(&order));
        let answer = send(&demo, &app, method.clone(), &path, body.as_ref()).await;
        walked += 1;
        assert!(
            !answer.status.is_server_error() || ibkr_server_error(&answer),
            "{method} {path}: {}",
            answer.text
        );
        if answer.status.is_success() {
            assert!(!leaks(&answer.text, &order), "{method} {path} shows demo2's account: {}", answer.text);
        }
    }
    assert_eq!(walked, operations.len() - 2, "all but logout and the websocket upgrade");
    assert_eq!(demo2_view(&app, &demo2).await, before, "demo's calls changed nothing of demo2's");

    // The websocket's account topics.
    let (mut socket, _) = tokio_tungstenite::connect_async(socket_request(&app, "demo").await).await.unwrap();
    for frame in [
        format!("ssd+{OTHER_ACCOUNT}+{{}}"),
        format!("sld+{OTHER_ACCOUNT}+{{}}"),
        format!("sbd+{OTHER_ACCOUNT}+{AAPL}"),
        format!("spl+{{\"acctIds\":[\"{OTHER_ACCOUNT}\"]}}"),
        "sor+{}".to_owned(),
        "str+{}".to_owned(),
        "tic".to_owned(),
    ] {
        socket.send(Message::text(frame)).await.unwrap();
    }
    // Order changes of demo2 while demo streams.
    let cancel = format!("/v1/api/iserver/account/{OTHER_ACCOUNT}/order/{order}");
    assert_eq!(send(&demo2, &app, Method::DELETE, &cancel, None).await.status, StatusCode::OK);
    send(&demo2, &app, Method::GET, "/v1/api/iserver/accounts", None).await;
    socket.send(Message::text("tic")).await.unwrap();
    let mut tics = 0;
    while tics < 2 {
        let frame = tokio::time::timeout(std::time::Duration::from_secs(5), socket.next()).await;
        let Message::Text(text) = frame.expect("a frame within 5 s").unwrap().unwrap() else { continue };
        let message: Value = serde_json::from_str(&text).unwrap();
        // A refusal repeats the topic the client sent, account and all.
        assert!(
            message.get("error").is_some() || !leaks(&text, &order),
            "the websocket shows demo2's account: {text}"
        );
        if message["topic"] == "tic" {
            tics += 1;
        }
    }
}
