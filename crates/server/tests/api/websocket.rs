//! The websocket at `/v1/api/ws`, driven by a Rust client on a manual clock.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use testkit::TestApp;

use crate::quiet_market;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Opens the websocket with the `api` cookie ibind sends, naming the session `tickle` reports.
async fn connect(app: &TestApp) -> Socket {
    let session = app.post("/v1/api/tickle").await.body["session"].as_str().unwrap().to_owned();
    let mut request =
        format!("{}/v1/api/ws", app.url.replace("http://", "ws://")).into_client_request().unwrap();
    let cookie = format!(r#"api={{"session": "{session}"}}"#);
    request.headers_mut().insert("cookie", cookie.parse().unwrap());
    connect_async(request).await.expect("the websocket opens").0
}

/// The next JSON message, within `seconds`.
async fn next(socket: &mut Socket, seconds: u64) -> Option<Value> {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(seconds), socket.next()).await.ok()??.ok()?;
        if let Message::Text(text) = frame {
            return serde_json::from_str(&text).ok();
        }
    }
}

/// The next message whose topic starts with `topic`, skipping heartbeats and others.
async fn next_on(socket: &mut Socket, topic: &str) -> Value {
    next_on_within(socket, topic, 5).await
}

/// The same, each message awaited up to `seconds`.
async fn next_on_within(socket: &mut Socket, topic: &str, seconds: u64) -> Value {
    for _ in 0..50 {
        let message = next(socket, seconds).await.unwrap_or_else(|| panic!("no {topic} message"));
        if message["topic"].as_str().is_some_and(|t| t.starts_with(topic)) {
            return message;
        }
    }
    panic!("no {topic} message among the next 50");
}

async fn say(socket: &mut Socket, text: &str) {
    socket.send(Message::Text(text.into())).await.unwrap();
}

#[tokio::test]
async fn a_connection_is_greeted_as_ibkr_greets_it() {
    let app = quiet_market().await;
    let mut socket = connect(&app).await;
    let status = next(&mut socket, 5).await.unwrap();
    assert_eq!(
        (status["topic"].as_str(), status["args"]["authenticated"].as_bool()),
        (Some("sts"), Some(true))
    );
    let system = next(&mut socket, 5).await.unwrap();
    assert_eq!(system["success"], "demo", "{system}");
    let accounts = next(&mut socket, 5).await.unwrap();
    assert_eq!(accounts["topic"], "act");
    assert_eq!(accounts["args"]["selectedAccount"], "DU1234567");
    let heartbeat = next(&mut socket, 5).await.unwrap();
    assert!(heartbeat["hb"].as_i64().is_some_and(|ms| ms > 0), "{heartbeat}");
    say(&mut socket, "tic").await;
    let tic = next_on(&mut socket, "tic").await;
    assert!(tic["lastAccessed"].as_i64().is_some(), "{tic}");
}

#[tokio::test]
async fn without_a_cookie_the_server_waits_for_the_session() {
    let app = quiet_market().await;
    let session = app.post("/v1/api/tickle").await.body["session"].as_str().unwrap().to_owned();
    let url = format!("{}/v1/api/ws", app.url.replace("http://", "ws://"));
    let (mut socket, _) = connect_async(url).await.unwrap();
    assert_eq!(next(&mut socket, 5).await.unwrap(), json!({"message": "waiting for session"}));
    say(&mut socket, &json!({"session": "nonsense"}).to_string()).await;
    assert_eq!(
        next(&mut socket, 5).await.unwrap(),
        json!({"message": "waiting for session"}),
        "an unknown session"
    );
    say(&mut socket, &json!({ "session": session }).to_string()).await;
    assert_eq!(next(&mut socket, 5).await.unwrap()["topic"], "sts");
}

#[tokio::test]
async fn market_data_streams_only_what_changed() {
    let app = quiet_market().await;
    let mut socket = connect(&app).await;
    say(&mut socket, r#"smd+265598+{"fields":["31","84","86","55"]}"#).await;
    let first = next_on(&mut socket, "smd+265598").await;
    assert_eq!(first["conid"], 265598, "ibind needs the conid: {first}");
    for field in ["31", "84", "86", "55", "6509"] {
        assert!(first[field].is_string(), "{field} in {first}");
    }
    // On a manual clock nothing moves: no update until the clock does.
    assert!(
        tokio::time::timeout(Duration::from_millis(1200), next_on(&mut socket, "smd")).await.is_err(),
        "an unchanged market sends nothing"
    );
    app.post_json("/_localbroker/clock", json!({"advance": "1m"})).await;
    let update = next_on(&mut socket, "smd+265598").await;
    assert!(update.get("55").is_none(), "the symbol did not change: {update}");
    assert!(update.get("31").is_some() || update.get("84").is_some(), "prices moved: {update}");
    say(&mut socket, "umd+265598+{}").await;
    app.post_json("/_localbroker/clock", json!({"advance": "1m"})).await;
    assert!(
        tokio::time::timeout(Duration::from_millis(1200), next_on(&mut socket, "smd")).await.is_err(),
        "unsubscribed"
    );
}

#[tokio::test]
async fn an_order_streams_its_updates_and_its_execution() {
    let app = quiet_market().await;
    let mut socket = connect(&app).await;
    say(&mut socket, "sor+{}").await;
    say(&mut socket, "str+{}").await;
    let empty = next_on(&mut socket, "str").await;
    assert_eq!(empty["args"], json!([]), "no trades yet");
    let limit =
        json!({"conid": 265598, "side": "BUY", "quantity": 5, "orderType": "LMT", "price": 1, "tif": "GTC"});
    let placed = app.post_json("/v1/api/iserver/account/DU1234567/orders", json!({"orders": [limit]})).await;
    let id = placed.body[0]["order_id"].as_str().unwrap().parse::<u64>().unwrap();
    let update = next_on(&mut socket, "sor").await;
    assert_eq!(
        (update["args"][0]["orderId"].as_u64(), update["args"][0]["status"].as_str()),
        (Some(id), Some("Submitted"))
    );
    let market = json!({"conid": 265598, "side": "BUY", "quantity": 5, "orderType": "MKT", "tif": "DAY"});
    app.post_json("/v1/api/iserver/account/DU1234567/orders", json!({"orders": [market]})).await;
    let filled = next_on(&mut socket, "sor").await;
    assert_eq!(filled["args"][0]["status"], "Filled", "{filled}");
    let trade = next_on(&mut socket, "str").await;
    assert_eq!(
        (trade["args"][0]["side"].as_str(), trade["args"][0]["size"].as_f64()),
        (Some("B"), Some(5.0)),
        "{trade}"
    );
}

#[tokio::test]
async fn pnl_summary_and_ledger_stream_the_portfolio() {
    let app = quiet_market().await;
    let mut socket = connect(&app).await;
    say(&mut socket, "spl").await;
    let pnl = next_on(&mut socket, "spl").await;
    let core = &pnl["args"]["DU1234567.Core"];
    assert_eq!(core["rowType"], 1, "{pnl}");
    assert_eq!(core["uel"], core["el"], "the stream carries excess liquidity twice");
    let net = app.get("/v1/api/portfolio/DU1234567/summary").await.body["netliquidation"]["amount"]
        .as_f64()
        .unwrap();
    assert!((core["nl"].as_f64().unwrap() - net).abs() < 0.01);
    say(&mut socket, "ssd+DU1234567+{}").await;
    let summary = next_on(&mut socket, "ssd+DU1234567").await;
    let entries = summary["result"].as_array().unwrap();
    assert!(entries.iter().all(|e| e["key"].is_string() && e["timestamp"].is_i64()), "{summary}");
    assert!(entries.iter().any(|e| e["key"] == "AccountCode" && e["value"] == "DU1234567"));
    let net_entry = entries.iter().find(|e| e["key"] == "NetLiquidation").expect("NetLiquidation");
    assert!((net_entry["monetaryValue"].as_f64().unwrap() - net).abs() < 0.01, "{net_entry}");
    assert!(entries.iter().any(|e| e["key"] == "AvailableFunds-S"), "segments keep their suffix");
    say(&mut socket, "sld+DU1234567+{}").await;
    let ledger = next_on(&mut socket, "sld+DU1234567").await;
    let entries = ledger["result"].as_array().unwrap();
    assert!(entries.iter().all(|e| e["acctCode"] == "DU1234567"), "{ledger}");
    assert!(entries.iter().any(|e| e["key"] == "LedgerListBASE"));
    // Ten seconds on, nothing changed on a manual clock: every currency is sent blank.
    let again = next_on_within(&mut socket, "sld+DU1234567", 15).await;
    let blank = again["result"].as_array().unwrap();
    assert!(
        blank.iter().all(|e| e.as_object().is_some_and(|m| m.len() == 2) && e["timestamp"].is_i64()),
        "{again}"
    );
    say(&mut socket, "usd+DU1234567").await;
    assert_eq!(next_on_result(&mut socket).await, "unsubscribed from summary");
    say(&mut socket, "ssd+DU7654321+{}").await;
    assert!(next_on(&mut socket, "ssd+DU7654321").await["error"].is_string(), "not demo's account");
}

async fn next_on_result(socket: &mut Socket) -> String {
    for _ in 0..50 {
        let message = next(socket, 5).await.expect("a message");
        if let Some(result) = message["result"].as_str() {
            return result.to_owned();
        }
    }
    panic!("no result message");
}

#[tokio::test]
async fn history_answers_once_and_the_ladder_streams_the_book() {
    let app = quiet_market().await;
    let mut socket = connect(&app).await;
    say(&mut socket, r#"smh+265598+{"period":"1d","bar":"5min","outsideRth":false}"#).await;
    let bars = next_on(&mut socket, "smh+265598").await;
    let server_id = bars["serverId"].as_str().expect("a serverId").to_owned();
    assert!(bars["data"].as_array().is_some_and(|data| !data.is_empty()), "{bars}");
    say(&mut socket, &format!("umh+{server_id}")).await;
    let released = loop {
        let message = next(&mut socket, 5).await.expect("a message");
        if message.get("message").is_some() {
            break message;
        }
    };
    assert_eq!(released, json!({"message": format!("Unsubscribed {server_id}")}));
    say(&mut socket, "sbd+DU1234567+265598").await;
    let ladder = next_on(&mut socket, "sbd+DU1234567+265598").await;
    let rows = ladder["data"].as_array().unwrap();
    assert_eq!(rows.len(), 10, "five asks over five bids: {ladder}");
    assert_eq!(rows.iter().filter(|row| row["focus"] == 1).count(), 2, "the touch, both sides");
    assert!(rows[0].get("ask").is_some() && rows[9].get("bid").is_some());
}

#[tokio::test]
async fn every_connection_streaming_an_instrument_gets_its_updates() {
    let app = quiet_market().await;
    let mut first = connect(&app).await;
    let mut second = connect(&app).await;
    for socket in [&mut first, &mut second] {
        say(socket, r#"smd+265598+{"fields":["31"]}"#).await;
        next_on(socket, "smd+265598").await;
    }
    app.post_json("/_localbroker/clock", json!({"advance": "1m"})).await;
    let (a, b) = (next_on(&mut first, "smd+265598").await, next_on(&mut second, "smd+265598").await);
    assert_eq!((&a["31"], a["_updated"].as_i64()), (&b["31"], b["_updated"].as_i64()), "one tick, shared");
}

/// Whether the server closes the socket within five seconds.
async fn closes(socket: &mut Socket) -> bool {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while let Ok(Some(frame)) = tokio::time::timeout_at(deadline, socket.next()).await {
        if matches!(frame, Ok(Message::Close(_)) | Err(_)) {
            return true;
        }
    }
    tokio::time::Instant::now() < deadline
}

#[tokio::test]
async fn the_control_plane_drops_every_socket() {
    let app = quiet_market().await;
    let mut socket = connect(&app).await;
    next_on(&mut socket, "act").await;
    let dropped = app.post("/_localbroker/websockets/drop").await;
    assert_eq!(dropped.body, json!({"dropped": 1}), "{}", dropped.text);
    assert!(closes(&mut socket).await, "the socket closes");
}

#[tokio::test]
async fn a_logout_ends_the_sessions_streams() {
    let app = quiet_market().await;
    let mut socket = connect(&app).await;
    next_on(&mut socket, "act").await;
    app.post("/v1/api/logout").await;
    let status = next_on(&mut socket, "sts").await;
    assert_eq!(status["args"]["authenticated"], false, "{status}");
    assert!(closes(&mut socket).await, "the socket closes");
}

#[tokio::test]
async fn an_order_filter_passes_only_its_statuses() {
    let app = quiet_market().await;
    let mut socket = connect(&app).await;
    say(&mut socket, r#"sor+{"filters":["Filled"]}"#).await;
    let resting =
        json!({"conid": 265598, "side": "BUY", "quantity": 5, "orderType": "LMT", "price": 1, "tif": "GTC"});
    app.post_json("/v1/api/iserver/account/DU1234567/orders", json!({"orders": [resting]})).await;
    let market = json!({"conid": 265598, "side": "BUY", "quantity": 5, "orderType": "MKT", "tif": "DAY"});
    app.post_json("/v1/api/iserver/account/DU1234567/orders", json!({"orders": [market]})).await;
    let update = next_on(&mut socket, "sor").await;
    let statuses: Vec<&str> =
        update["args"].as_array().unwrap().iter().filter_map(|o| o["status"].as_str()).collect();
    assert_eq!(statuses, ["Filled"], "the resting order is not Filled: {update}");
}

/// A socket whose client takes nothing: a tiny receive buffer it never reads from.
async fn never_reading(app: &TestApp) -> Socket {
    let session = app.post("/v1/api/tickle").await.body["session"].as_str().unwrap().to_owned();
    let address: std::net::SocketAddr = app.url.trim_start_matches("http://").parse().unwrap();
    let tcp = tokio::net::TcpSocket::new_v4().unwrap();
    tcp.set_recv_buffer_size(1024).unwrap();
    let stream = tcp.connect(address).await.unwrap();
    let mut request = format!("ws://{address}/v1/api/ws").into_client_request().unwrap();
    request.headers_mut().insert("cookie", format!(r#"api={{"session": "{session}"}}"#).parse().unwrap());
    let (socket, _) = tokio_tungstenite::client_async(request, MaybeTlsStream::Plain(stream)).await.unwrap();
    socket
}

#[tokio::test]
async fn a_client_that_never_reads_does_not_hold_up_the_others() {
    let app = quiet_market().await;
    let mut stalled = never_reading(&app).await;
    let all: Vec<String> = ["31", "84", "85", "86", "88", "7059", "55", "7051", "6004"]
        .iter()
        .map(|f| format!("\"{f}\""))
        .collect();
    let conids = [265598, 272093, 8314, 3691937, 76792991, 4815747, 15124833, 208813719, 107113386, 5049];
    for conid in conids {
        say(&mut stalled, &format!(r#"smd+{conid}+{{"fields":[{}]}}"#, all.join(","))).await;
    }
    let mut reader = connect(&app).await;
    say(&mut reader, r#"smd+265598+{"fields":["31","84","86"]}"#).await;
    next_on(&mut reader, "smd+265598").await;
    say(&mut reader, "sor+{}").await;
    for minute in 0..20 {
        app.post_json("/_localbroker/clock", json!({"advance": "1m"})).await;
        let update = next_on(&mut reader, "smd+265598").await;
        assert!(update["_updated"].is_i64(), "minute {minute}: {update}");
    }
    let order = json!({"conid": 265598, "side": "BUY", "quantity": 1, "orderType": "MKT", "tif": "DAY"});
    app.post_json("/v1/api/iserver/account/DU1234567/orders", json!({"orders": [order]})).await;
    assert_eq!(next_on(&mut reader, "sor").await["args"][0]["status"], "Filled");
}

#[tokio::test]
async fn a_frame_beyond_what_ibkrs_protocol_needs_is_refused_from_its_header() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = quiet_market().await;
    let socket = connect(&app).await;
    let MaybeTlsStream::Plain(mut tcp) = socket.into_inner() else { panic!("plain HTTP") };
    // The header of a masked text frame of sixteen megabytes: the server must refuse it before
    // its payload, which is never sent.
    let mut header = vec![0x81, 0x80 | 127];
    header.extend_from_slice(&(16u64 << 20).to_be_bytes());
    header.extend_from_slice(&[1, 2, 3, 4]);
    tcp.write_all(&header).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), tcp.read_to_end(&mut answer))
        .await
        .expect("the server closes at once")
        .unwrap();
    // Unmasked server frames: the greeting's messages, then the close frame.
    let close =
        answer.windows(2).rposition(|pair| pair == [0x88, pair[1]] && pair[1] < 126).expect("a close frame");
    let length = usize::from(answer[close + 1]);
    let code = u16::from_be_bytes([answer[close + 2], answer[close + 3]]);
    let reason = String::from_utf8_lossy(&answer[close + 4..close + 2 + length]);
    assert_eq!(code, 1009, "message too big: {reason}");
    assert_eq!(reason, "a message may be at most 8192 bytes");
}

#[tokio::test]
async fn a_message_of_small_frames_is_capped_as_a_whole() {
    use tokio_tungstenite::tungstenite::protocol::frame::Frame;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
    let app = quiet_market().await;
    let mut socket = connect(&app).await;
    next_on(&mut socket, "sts").await;
    let part = |code, last| Message::Frame(Frame::message("x".repeat(4 * 1024), OpCode::Data(code), last));
    socket.send(part(Data::Text, false)).await.unwrap();
    socket.send(part(Data::Continue, false)).await.unwrap();
    socket.send(part(Data::Continue, true)).await.unwrap();
    let frame = loop {
        match tokio::time::timeout(Duration::from_secs(10), socket.next()).await.expect("an answer in time") {
            Some(Ok(Message::Close(Some(frame)))) => break frame,
            Some(Ok(Message::Close(None))) | None => panic!("closed without saying why"),
            Some(Ok(_)) => {}
            Some(Err(error)) => panic!("no close frame: {error}"),
        }
    };
    assert_eq!(u16::from(frame.code), 1009, "{frame:?}");
}

#[tokio::test]
async fn an_unreadable_frame_is_named_by_its_start_only() {
    let app = quiet_market().await;
    let mut socket = connect(&app).await;
    next_on(&mut socket, "sts").await;
    say(&mut socket, &format!("xyz{}", "\u{1b}".repeat(8000))).await;
    let error = next_on(&mut socket, "error").await;
    let text = error["error"].as_str().unwrap();
    assert!(text.starts_with("unknown topic \"xyz\\u{1b}"), "{text}");
    assert!(text.len() < 300, "{} bytes", text.len());
}
