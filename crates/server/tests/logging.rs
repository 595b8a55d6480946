//! What reaches the log: no secret, and no error for an answer given by design. Alone in its
//! test binary, because it installs the process's subscriber and must see every span and
//! event of the server.

// A test stops at the first thing that is not as expected.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use futures_util::StreamExt;
use testkit::{ADMIN_TOKEN, AppOptions, spawn_app_with};

/// Collects what the server logs, at every level.
#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl Write for LogBuffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The process's log, installed by the first test to ask.
fn log() -> &'static LogBuffer {
    static LOG: OnceLock<LogBuffer> = OnceLock::new();
    LOG.get_or_init(|| {
        let buffer = LogBuffer::default();
        let writer = buffer.clone();
        // Everything but the test's own clients, which log the requests they send.
        let filter = "trace,tungstenite::handshake::client=off,reqwest=off,hyper_util::client=off";
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .init();
        buffer
    })
}

impl LogBuffer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[tokio::test]
async fn no_secret_reaches_the_log() {
    let buffer = log();
    let app = spawn_app_with(AppOptions { strict: true, ..AppOptions::default() }).await;
    let login = reqwest::Client::new()
        .post(format!("{}/", app.url))
        .form(&[("username", "demo"), ("password", "demo")])
        .send()
        .await
        .unwrap();
    let cookie = login.headers()["set-cookie"].to_str().unwrap().to_owned();
    let token = cookie.split(';').next().unwrap().split_once('=').unwrap().1.to_owned();
    let ws = format!("{}/v1/api/ws?bearer_token={token}", app.url.replace("http://", "ws://"));
    let (mut socket, _) = tokio_tungstenite::connect_async(ws).await.unwrap();
    socket.next().await.unwrap().unwrap();
    let accounts = reqwest::Client::new()
        .get(format!("{}/v1/api/portfolio/accounts", app.url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(accounts.status(), 200);
    app.digest().await;
    let log = buffer.text();
    assert!(log.contains("/v1/api/ws"), "the requests were logged: {log}");
    for secret in [token.as_str(), ADMIN_TOKEN] {
        assert!(!log.contains(secret), "{secret} is in the log");
    }
}

#[tokio::test]
async fn answers_given_by_design_are_no_errors_in_the_log() {
    let buffer = log();
    let app = spawn_app_with(AppOptions::default()).await;
    for path in ["/v1/api/fyi/unreadnumber", "/v1/api/iserver/scanner/params"] {
        assert_eq!(app.get(path).await.status, 501, "{path} is not built");
    }
    let path = "/v1/api/iserver/scanner/params";
    let lines: Vec<String> =
        buffer.text().lines().filter(|line| line.contains(path)).map(str::to_owned).collect();
    assert!(!lines.is_empty(), "the request was logged");
    assert!(!lines.iter().any(|line| line.contains("ERROR")), "a 501 logged as an error: {lines:#?}");
}
