//! What one client can make the server hold: connections that never finish a request are
//! closed, and the cap on open connections makes later clients wait, never fail.

use std::time::Duration;

use server::connections::ConnectionLimits;
use testkit::{AppOptions, TestApp, spawn_app_with};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Much longer than any limit below: a wait that reaches it means the server held on.
const PATIENCE: Duration = Duration::from_secs(20);

async fn limited(max_connections: usize) -> TestApp {
    let limits = ConnectionLimits {
        header_timeout: Duration::from_secs(1),
        body_timeout: Duration::from_secs(1),
        idle_timeout: Duration::from_secs(5),
        max_connections,
    };
    spawn_app_with(AppOptions { limits: Some(limits), ..AppOptions::default() }).await
}

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.url.trim_start_matches("http://")).await.unwrap()
}

/// Everything the server sends until it closes the connection.
async fn until_closed(stream: &mut TcpStream) -> String {
    let mut answer = Vec::new();
    tokio::time::timeout(PATIENCE, stream.read_to_end(&mut answer))
        .await
        .expect("the server closes the connection")
        .ok();
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn a_connection_that_never_finishes_its_head_is_closed() {
    let app = limited(64).await;
    let mut silent = connect(&app).await;
    let mut half = connect(&app).await;
    half.write_all(b"GET /v1/api/tic").await.unwrap();
    let mut headers = connect(&app).await;
    headers.write_all(b"GET /v1/api/tickle HTTP/1.1\r\nHost: 127.0.0.1\r\n").await.unwrap();
    for stream in [&mut silent, &mut half, &mut headers] {
        assert_eq!(until_closed(stream).await, "", "closed without an answer");
    }
}

#[tokio::test]
async fn a_body_that_does_not_arrive_in_time_is_answered_408() {
    let app = limited(64).await;
    let mut stream = connect(&app).await;
    let head = "POST /v1/api/iserver/account/DU1234567/orders HTTP/1.1\r\nHost: 127.0.0.1\r\n\
                Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"orders\":";
    stream.write_all(head.as_bytes()).await.unwrap();
    let answer = until_closed(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains(r#""statusCode":408"#), "IBKR's error shape: {answer}");
}

#[tokio::test]
async fn a_kept_alive_connection_waits_for_its_next_request_only_so_long() {
    let app = limited(64).await;
    let mut stream = connect(&app).await;
    stream
        .write_all(b"POST /v1/api/tickle HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n")
        .await
        .unwrap();
    let answer = until_closed(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "answered, then closed: {answer}");
}

#[tokio::test]
async fn idle_connections_at_the_cap_delay_a_new_client_but_do_not_stop_it() {
    let app = limited(4).await;
    let mut idle = Vec::new();
    for _ in 0..4 {
        idle.push(connect(&app).await);
    }
    let reply =
        tokio::time::timeout(PATIENCE, app.post("/v1/api/tickle")).await.expect("answered once they close");
    assert_eq!(reply.status, 200);
    for stream in &mut idle {
        assert_eq!(until_closed(stream).await, "");
    }
}
