//! What one client can make a running server hold, measured on the process itself: its
//! descriptors and its memory.

// A test stops at the first thing that is not as expected.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use testkit::process::Process;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const BINARY: &str = env!("CARGO_BIN_EXE_localbroker");

/// Longer than anything the server is allowed to take below.
const PATIENCE: Duration = Duration::from_secs(30);

/// A server on plain HTTP in `dir`, started through the shell so that `ulimit` can first set
/// its descriptor limit.
fn spawn(dir: &Path, ulimit: &str, extra: &[&str]) -> Process {
    let data_dir = dir.join("data");
    let mut args = vec![
        "-c",
        r#"ulimit -n "$0" && exec "$@""#,
        ulimit,
        BINARY,
        "serve",
        "--http",
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        data_dir.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    Process::spawn(Path::new("sh"), &args, dir)
}

#[tokio::test]
async fn idle_connections_beyond_the_descriptor_limit_do_not_stop_a_new_client() {
    let dir = tempfile::tempdir().unwrap();
    let server = spawn(dir.path(), "512", &["--header-timeout", "2s"]);
    let address = server.url.trim_start_matches("http://").to_owned();
    // 600 clients that connect and send nothing; those the listen queue has no room for keep
    // retrying their handshake.
    let attempts = (0..600).map(|_| {
        let address = address.clone();
        tokio::spawn(async move { tokio::time::timeout(PATIENCE, TcpStream::connect(address)).await })
    });
    let mut idle = Vec::new();
    for attempt in attempts {
        if let Ok(Ok(Ok(stream))) = attempt.await {
            idle.push(stream);
        }
    }
    assert!(idle.len() > 512, "more connections than descriptors: {}", idle.len());
    // The header timeout passes: the server closes the first of them.
    let mut first = idle.swap_remove(0);
    let mut nothing = Vec::new();
    let closed = tokio::time::timeout(PATIENCE, first.read_to_end(&mut nothing)).await;
    assert!(closed.is_ok(), "the server keeps a connection that never sent a request");
    let answered = tokio::time::timeout(
        Duration::from_secs(1),
        reqwest::Client::new().post(format!("{}/v1/api/tickle", server.url)).send(),
    )
    .await;
    let response = answered.expect("a new client is answered within a second").unwrap();
    assert_eq!(response.status(), 200);
    drop(idle);
    server.kill();
}

/// The server's resident memory, in kilobytes.
fn resident_kb(process: &Process) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", process.child.id())).unwrap();
    let line = status.lines().find(|line| line.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[tokio::test]
async fn a_sixteen_megabyte_frame_costs_the_server_next_to_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = spawn(dir.path(), "1024", &[]);
    let session: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/v1/api/tickle", server.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let session = session["session"].as_str().unwrap().to_owned();
    let mut request =
        format!("{}/v1/api/ws", server.url.replace("http://", "ws://")).into_client_request().unwrap();
    request.headers_mut().insert("cookie", format!("api={session}").parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    socket.next().await.unwrap().unwrap();
    let before = resident_kb(&server);
    // Refused from its header: the rest may not even be taken off the wire.
    let _ = socket.send(Message::Text("\u{1}".repeat(16 << 20).into())).await;
    let ended =
        tokio::time::timeout(PATIENCE, async { while let Some(Ok(_)) = socket.next().await {} }).await;
    assert!(ended.is_ok(), "the connection is closed");
    let grown = resident_kb(&server).saturating_sub(before);
    assert!(grown < 4 * 1024, "the server grew by {grown} kB");
    server.kill();
}
