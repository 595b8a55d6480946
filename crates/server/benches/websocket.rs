//! Websocket fan-out: a release server on an accelerated clock streams 50 instruments to each
//! of many connections. Reports deliveries per second, the 99th-percentile delay from a tick's
//! market instant to its arrival, the server's memory per connection, and what a client that
//! never reads costs the others.
//!
//!   cargo bench -p server --bench websocket -- [connections] [seconds]   (default 1000, 20)
//!
//! The server binary is `target/release/localbroker`, built first (`cargo build --release`).

// A benchmark stops at the first thing that is not as expected.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::Mutex;
use tokio_tungstenite::connect_async;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// Market time runs this many times faster than the wall clock.
const SPEED: f64 = 60.0;
const CONIDS: usize = 50;

fn wall_ms() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

/// The server's resident memory, in kilobytes.
fn resident_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start(dir: &std::path::Path) -> Server {
    let binary = concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/release/localbroker");
    let mut child = Command::new(binary)
        .args(["serve", "--http", "--listen", "127.0.0.1:0", "--clock", "accelerated:60", "--start"])
        .arg("2026-03-03T15:00:00Z")
        .arg("--data-dir")
        .arg(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("target/release/localbroker runs: build it with cargo build --release");
    let stdout = tokio::process::ChildStdout::from_std(child.stdout.take().unwrap()).unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next_line().await.unwrap().unwrap();
    let url = first.trim_start_matches("listening on ").to_owned();
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Server { child, url }
}

async fn json(url: &str, method: &str, path: &str, body: &str) -> Value {
    let output = tokio::process::Command::new("curl")
        .args([
            "-s",
            "-X",
            method,
            "-H",
            "Content-Type: application/json",
            "-d",
            body,
            &format!("{url}{path}"),
        ])
        .output()
        .await
        .unwrap();
    serde_json::from_slice(&output.stdout).unwrap_or(Value::Null)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().filter(|a| !a.starts_with("--")).collect();
    let connections: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(1000);
    let seconds: u64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(20);
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let pid = server.child.id();
    let stocks = json(&server.url, "GET", "/v1/api/trsrv/stocks?symbols=AAPL,MSFT,IBM,AMZN,GOOGL,GOOG,TSLA,NVDA,META,NFLX,AMD,INTC,JPM,BAC,WFC,GS,MS,C,V,MA,AXP,KO,PEP,WMT,COST,HD,NKE,F,DIS,JNJ,PG,PFE,MRK,ABBV,LLY,UNH,XOM,CVX,BA,CAT,CSCO,T,VZ,ORCL,ADBE,CRM,INTU,NOW,QCOM,TXN", "").await;
    let conids: Vec<u64> = stocks
        .as_object()
        .unwrap()
        .values()
        .filter_map(|v| v[0]["contracts"][0]["conid"].as_u64())
        .take(CONIDS)
        .collect();
    let session =
        json(&server.url, "POST", "/v1/api/tickle", "").await["session"].as_str().unwrap().to_owned();
    let clock = json(&server.url, "GET", "/_localbroker/clock", "").await;
    let anchor_wall = wall_ms();
    let anchor_market =
        clock["now"].as_str().unwrap().parse::<jiff::Timestamp>().unwrap().as_millisecond() as f64;
    let before_kb = resident_kb(pid);

    let ws_url = format!("{}/v1/api/ws", server.url.replace("http://", "ws://"));
    let open = |ws_url: String, session: String| async move {
        let mut request = ws_url.into_client_request().unwrap();
        request.headers_mut().insert("cookie", format!(r#"api={{"session": "{session}"}}"#).parse().unwrap());
        connect_async(request).await.unwrap().0
    };
    let delivered = Arc::new(AtomicU64::new(0));
    let delays = Arc::new(Mutex::new(Vec::<f64>::new()));
    let measuring = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut readers = Vec::new();
    for _ in 0..connections {
        let mut socket = open(ws_url.clone(), session.clone()).await;
        for conid in &conids {
            let frame = format!(r#"smd+{conid}+{{"fields":["31","84","86"]}}"#);
            socket.send(Message::Text(frame.into())).await.unwrap();
        }
        let (delivered, delays, measuring) = (delivered.clone(), delays.clone(), measuring.clone());
        readers.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            while let Some(Ok(frame)) = socket.next().await {
                let Message::Text(text) = frame else { continue };
                if !measuring.load(Ordering::Relaxed) || !text.contains("\"topic\":\"smd+") {
                    continue;
                }
                delivered.fetch_add(1, Ordering::Relaxed);
                if let Ok(message) = serde_json::from_str::<Value>(&text)
                    && let Some(updated) = message["_updated"].as_f64()
                {
                    let tick_wall = anchor_wall + (updated - anchor_market) / SPEED;
                    mine.push(wall_ms() - tick_wall);
                }
                if mine.len() >= 256 {
                    delays.lock().await.append(&mut mine);
                }
            }
            delays.lock().await.append(&mut mine);
        }));
    }
    // One client that subscribes to everything and never reads.
    let mut idle = open(ws_url.clone(), session.clone()).await;
    for conid in &conids {
        idle.send(Message::Text(
            format!(r#"smd+{conid}+{{"fields":["31","84","86","85","88","7059"]}}"#).into(),
        ))
        .await
        .unwrap();
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let connected_kb = resident_kb(pid);
    measuring.store(true, Ordering::Relaxed);
    let started = Instant::now();
    let mut peak_kb = connected_kb;
    while started.elapsed() < Duration::from_secs(seconds) {
        tokio::time::sleep(Duration::from_millis(500)).await;
        peak_kb = peak_kb.max(resident_kb(pid));
    }
    measuring.store(false, Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64();
    let count = delivered.load(Ordering::Relaxed);
    let mut delays = delays.lock().await.clone();
    delays.sort_by(f64::total_cmp);
    let p99 =
        delays.get(delays.len().saturating_sub(1).min(delays.len() * 99 / 100)).copied().unwrap_or(f64::NAN);
    let p50 = delays.get(delays.len() / 2).copied().unwrap_or(f64::NAN);
    println!(
        "| connections | conids each | deliveries/s | p50 tick-to-socket | p99 tick-to-socket | memory per connection | peak server memory |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {connections} | {CONIDS} | {:.0} | {:.0} ms | {:.0} ms | {:.0} KB | {:.0} MB |",
        count as f64 / elapsed,
        p50,
        p99,
        connected_kb.saturating_sub(before_kb) as f64 / connections as f64,
        peak_kb as f64 / 1024.0,
    );
    drop(idle);
    for reader in readers {
        reader.abort();
    }
}
