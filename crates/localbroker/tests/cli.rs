//! The `localbroker` binary, run as users run it.

// A test stops at the first thing that is not as expected.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use serde_json::{Value, json};
use sqlx::Connection;
use testkit::postgres::PgSchema;
use testkit::process::Process;

const BINARY: &str = env!("CARGO_BIN_EXE_localbroker");

fn spawn(dir: &Path, extra: &[&str]) -> Process {
    let data_dir = dir.join("data");
    let data_dir = data_dir.to_str().unwrap();
    let mut args = vec!["serve", "--http", "--listen", "127.0.0.1:0", "--data-dir", data_dir];
    args.extend_from_slice(extra);
    Process::spawn(Path::new(BINARY), &args, dir)
}

async fn call(url: &str, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut request = reqwest::Client::new().request(method, format!("{url}{path}"));
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn digest(url: &str) -> String {
    call(url, reqwest::Method::GET, "/_localbroker/state/digest", None).await.1["digest"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn the_first_line_is_the_bound_address() {
    let dir = tempfile::tempdir().unwrap();
    let process = spawn(dir.path(), &[]);
    let port: u16 =
        process.first_line.strip_prefix("listening on http://127.0.0.1:").unwrap().parse().unwrap();
    assert_ne!(port, 0, "the real port, not the requested 0");
    let summary: Vec<String> = (0..4).filter_map(|_| process.rest.recv().ok()).collect();
    assert!(summary.iter().any(|line| line.contains("demo (DU1234567)")), "{summary:?}");
    let (status, tickle) = call(&process.url, reqwest::Method::POST, "/v1/api/tickle", None).await;
    assert_eq!(status, 200);
    assert_eq!(tickle["iserver"]["authStatus"]["authenticated"], true);
    process.kill();
}

/// Logs out and switches account (in a world where that is possible), kills the process with
/// SIGKILL, restarts it, and compares.
async fn survives_sigkill(dir: &Path, extra: &[&str]) {
    let world = dir.join("world.toml");
    std::fs::write(
        &world,
        "[[users]]\nusername = \"ann\"\npassword = \"pw\"\naccounts = [\"DU1\", \"DU2\"]\n\n\
         [[accounts]]\nid = \"DU1\"\ntitle = \"One\"\ntype = \"individual\"\nmargin = \"margin\"\nbase_currency = \"USD\"\n\n\
         [[accounts]]\nid = \"DU2\"\ntitle = \"Two\"\ntype = \"individual\"\nmargin = \"cash\"\nbase_currency = \"USD\"\n",
    )
    .unwrap();
    let mut args = vec!["--world", world.to_str().unwrap()];
    args.extend_from_slice(extra);
    let process = spawn(dir, &args);
    let url = process.url.clone();
    let (status, switched) =
        call(&url, reqwest::Method::POST, "/v1/api/iserver/account", Some(json!({"acctId": "DU2"}))).await;
    assert_eq!((status, switched), (200, json!({"set": true, "acctId": "DU2"})));
    assert_eq!(call(&url, reqwest::Method::POST, "/v1/api/logout", None).await.0, 200);
    let before = digest(&url).await;
    process.kill();

    let restarted = spawn(dir, &args);
    let world_line = restarted.rest.iter().find(|line| line.contains("world:")).unwrap();
    assert!(world_line.contains("recovered"), "{world_line}");
    let url = restarted.url.clone();
    assert_eq!(digest(&url).await, before);
    assert_eq!(call(&url, reqwest::Method::POST, "/v1/api/tickle", None).await.0, 401, "still logged out");
    let login = json!({"username": "ann", "password": "pw"});
    assert_eq!(call(&url, reqwest::Method::POST, "/_localbroker/session/login", Some(login)).await.0, 200);
    restarted.kill();
}

#[tokio::test]
async fn a_killed_server_restarts_in_the_same_state() {
    let dir = tempfile::tempdir().unwrap();
    survives_sigkill(dir.path(), &[]).await;
}

#[tokio::test]
async fn a_killed_server_on_postgresql_restarts_in_the_same_state() {
    let schema = PgSchema::create("cli_test").await;
    let dir = tempfile::tempdir().unwrap();
    survives_sigkill(dir.path(), &["--database-url", &schema.database_url()]).await;
    assert!(!dir.path().join("data/journal.sqlite").exists(), "nothing was journaled to SQLite");
    schema.drop_now().await;
}

#[cfg(unix)]
/// Places orders from many connections at once, kills the server with SIGKILL in the middle,
/// and restarts it: every order that got an id is there, as it was answered, and the ledger
/// balances.
#[tokio::test]
async fn acknowledged_orders_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["--clock", "manual", "--start", "2026-03-03T16:00:00Z"];
    let process = spawn(dir.path(), &args);
    let url = process.url.clone();
    let suppress = json!({"messageIds": ["o354", "o10151", "o163"]});
    call(&url, reqwest::Method::POST, "/v1/api/iserver/questions/suppress", Some(suppress)).await;
    let acknowledged = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut burst = tokio::task::JoinSet::new();
    for n in 0..400u32 {
        let (url, acknowledged) = (url.clone(), acknowledged.clone());
        burst.spawn(async move {
            let ticket = if n % 4 == 0 {
                json!({"conid": 265598, "side": "BUY", "quantity": 1, "orderType": "MKT", "tif": "DAY"})
            } else {
                json!({"conid": 265598, "side": "BUY", "quantity": 1, "orderType": "LMT", "price": 200 + n % 50, "tif": "GTC"})
            };
            let request = reqwest::Client::new()
                .post(format!("{url}/v1/api/iserver/account/DU1234567/orders"))
                .json(&json!({"orders": [ticket]}));
            if let Ok(response) = request.send().await
                && let Ok(body) = response.json::<Value>().await
                && let Some(id) = body[0]["order_id"].as_str()
            {
                let status = body[0]["order_status"].as_str().unwrap_or_default().to_owned();
                acknowledged.lock().unwrap().push((id.to_owned(), status));
            }
        });
    }
    while acknowledged.lock().unwrap().len() < 60 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    process.kill();
    burst.join_all().await;
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() >= 60, "{} acknowledged", acknowledged.len());

    let restarted = spawn(dir.path(), &args);
    let url = restarted.url.clone();
    for (id, status) in &acknowledged {
        let (code, order) =
            call(&url, reqwest::Method::GET, &format!("/v1/api/iserver/account/order/status/{id}"), None)
                .await;
        assert_eq!((code, order["order_status"].as_str()), (200, Some(status.as_str())), "order {id}");
    }
    let (_, state) = call(&url, reqwest::Method::GET, "/_localbroker/state/digest", None).await;
    assert_eq!(state["balanced"], true);
    restarted.kill();
}

#[tokio::test]
async fn sigterm_stops_cleanly_with_a_final_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let mut process = spawn(dir.path(), &[]);
    call(&process.url, reqwest::Method::POST, "/v1/api/logout", None).await;
    let status = Command::new("kill").args(["-TERM", &process.child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let exit = process.child.wait().unwrap();
    assert!(exit.success(), "{exit:?}");
    let journal = dir.path().join("data/journal.sqlite");
    let mut sqlite =
        sqlx::SqliteConnection::connect(&format!("sqlite://{}", journal.display())).await.unwrap();
    let (seq, records): (i64, i64) =
        sqlx::query_as("SELECT (SELECT max(seq) FROM snapshots), (SELECT count(*) FROM journal)")
            .fetch_one(&mut sqlite)
            .await
            .unwrap();
    assert_eq!(seq, records, "the final snapshot covers every record");
}

#[tokio::test]
async fn settings_can_come_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let process = Process::spawn_with_env(
        Path::new(BINARY),
        &[],
        dir.path(),
        &[
            ("LOCALBROKER_HTTP", "true"),
            ("LOCALBROKER_LISTEN", "127.0.0.1:0"),
            ("LOCALBROKER_DATA_DIR", "env-data"),
        ],
    );
    assert!(process.first_line.starts_with("listening on http://127.0.0.1:"), "{}", process.first_line);
    assert!(dir.path().join("env-data/journal.sqlite").exists());
    process.kill();
}

#[tokio::test]
async fn a_broken_world_file_is_reported_and_nothing_starts() {
    let dir = tempfile::tempdir().unwrap();
    let world = dir.path().join("world.toml");
    std::fs::write(&world, "[[users]]\nusername = \"x\"\npassword = \"y\"\naccounts = [\"DU404\"]\n")
        .unwrap();
    let output = Command::new(BINARY)
        .args([
            "serve",
            "--http",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            "data",
            "--world",
            world.to_str().unwrap(),
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("DU404"), "{stderr}");
    assert!(output.stdout.is_empty(), "no address is announced");
}

#[tokio::test]
async fn gateway_mode_is_refused_off_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(BINARY)
        .args(["serve", "--http", "--listen", "0.0.0.0:0", "--data-dir", "data", "--auth", "gateway"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("refusing to listen on 0.0.0.0:0 in gateway mode"), "{stderr}");
    assert!(!dir.path().join("data").exists(), "nothing was created");
}

#[tokio::test]
async fn an_empty_admin_token_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(BINARY)
        .args(["serve", "--http", "--listen", "127.0.0.1:0", "--data-dir", "data", "--auth", "strict"])
        .env("LOCALBROKER_ADMIN_TOKEN", " ")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("the admin token is empty"), "{stderr}");
}

#[tokio::test]
async fn off_loopback_the_server_is_strict_and_prints_its_admin_token() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let args = ["serve", "--http", "--listen", "0.0.0.0:0", "--data-dir", data_dir.to_str().unwrap()];
    let process = Process::spawn(Path::new(BINARY), &args, dir.path());
    let wait = std::time::Duration::from_secs(10);
    let summary: Vec<String> = (0..9).map_while(|_| process.rest.recv_timeout(wait).ok()).collect();
    assert!(summary.iter().any(|line| line.contains("auth: strict (pacing ibkr)")), "{summary:?}");
    let token = summary
        .iter()
        .find_map(|line| line.trim().strip_prefix("control plane admin token: "))
        .unwrap_or_else(|| panic!("the admin token is printed: {summary:?}"))
        .to_owned();
    let url = process.url.replace("0.0.0.0", "127.0.0.1");
    let (status, _) = call(&url, reqwest::Method::POST, "/v1/api/tickle", None).await;
    assert_eq!(status, 401, "nobody acts for an anonymous caller");
    let (status, _) = call(&url, reqwest::Method::GET, "/_localbroker/state/digest", None).await;
    assert_eq!(status, 401);
    let with_token = reqwest::Client::new()
        .get(format!("{url}/_localbroker/state/digest"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(with_token.status(), 200);
    process.kill();
}

#[tokio::test]
async fn https_is_served_with_a_certificate_valid_for_127_0_0_1() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let process = Process::spawn(
        Path::new(BINARY),
        &["--listen", "127.0.0.1:0", "--data-dir", data_dir.to_str().unwrap()],
        dir.path(),
    );
    let authority =
        process.first_line.strip_prefix("listening on https://").expect("HTTPS by default").to_owned();
    let cert = data_dir.join("tls/cert.pem");
    let handshake =
        tokio::task::spawn_blocking(move || tls_get(&authority, &cert, "/v1/api/tickle")).await.unwrap();
    assert!(handshake.starts_with("HTTP/1.1 200"), "{handshake}");
    process.kill();
}

/// Sends one GET over TLS, trusting only `cert` and checking it names 127.0.0.1.
fn tls_get(authority: &str, cert: &Path, path: &str) -> String {
    use std::io::{Read, Write};

    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, ServerName};

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from_pem_file(cert).unwrap()).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = ServerName::try_from("127.0.0.1").unwrap();
    let connection = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let socket = std::net::TcpStream::connect(authority).unwrap();
    let mut stream = rustls::StreamOwned::new(connection, socket);
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response
}

#[test]
fn clients_are_managed_in_a_journal_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let key = concat!(env!("CARGO_MANIFEST_DIR"), "/../server/tests/fixtures/client-rsa.pub");
    let run = |args: &[&str]| {
        let output =
            Command::new(BINARY).arg("clients").args(args).arg("--data-dir").arg(&data).output().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).unwrap()
    };
    run(&[
        "add",
        "--client-id",
        "CLI1",
        "--kid",
        "main",
        "--public-key",
        key,
        "--scopes",
        "sso-sessions.write accounts.read",
    ]);
    let listed: Value = serde_json::from_str(run(&["list"]).trim()).unwrap();
    assert_eq!(listed["clientId"], "CLI1");
    assert_eq!(
        listed["granted"],
        serde_json::json!(["sso-sessions.write"]),
        "Account Management waits for approval"
    );
    run(&["approve", "CLI1"]);
    let approved: Value = serde_json::from_str(run(&["list"]).trim()).unwrap();
    assert_eq!(approved["granted"], serde_json::json!(["accounts.read", "sso-sessions.write"]));
    let refused = Command::new(BINARY)
        .args(["clients", "add", "--client-id", "CLI2", "--kid", "k", "--public-key", BINARY])
        .arg("--data-dir")
        .arg(&data)
        .output()
        .unwrap();
    assert!(!refused.status.success(), "a file that is not a PEM key is refused");
}

#[test]
fn flex_tokens_and_queries_are_added_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let run = |args: &[&str]| {
        Command::new(BINARY).arg("flex").args(args).arg("--data-dir").arg(&data).output().unwrap()
    };
    let issued = run(&["token", "--user", "demo"]);
    assert!(issued.status.success(), "{}", String::from_utf8_lossy(&issued.stderr));
    let token = String::from_utf8(issued.stdout).unwrap();
    assert!(token.trim().len() == 24 && token.trim().chars().all(|c| c.is_ascii_digit()), "{token}");
    let defined =
        run(&["query", "--id", "7", "--name", "Trades only", "--user", "demo", "--section", "Trades"]);
    assert!(defined.status.success(), "{}", String::from_utf8_lossy(&defined.stderr));
    let twice = run(&["query", "--id", "7", "--name", "again", "--user", "demo"]);
    assert!(!twice.status.success(), "a query id is used once");
    let unknown = run(&["token", "--user", "nobody"]);
    assert!(!unknown.status.success(), "tokens belong to users");
}

#[tokio::test]
async fn options_of_a_new_world_are_said_to_be_ignored_on_a_journal_that_has_one() {
    let dir = tempfile::tempdir().unwrap();
    let summary = |process: &Process| -> Vec<String> {
        (0..12).filter_map(|_| process.rest.recv_timeout(std::time::Duration::from_secs(1)).ok()).collect()
    };
    let first = spawn(dir.path(), &["--clock", "manual"]);
    let created = summary(&first);
    assert!(!created.iter().any(|line| line.contains("ignored")), "{created:?}");
    first.kill();
    let plain = spawn(dir.path(), &[]);
    let recovered = summary(&plain);
    assert!(
        !recovered.iter().any(|line| line.contains("ignored")),
        "nothing asked, nothing said: {recovered:?}"
    );
    plain.kill();
    let again = spawn(dir.path(), &["--start", "2026-03-03T15:00:00Z"]);
    let said = summary(&again);
    assert!(said.iter().any(|line| line.contains("--start") && line.contains("ignored")), "{said:?}");
    again.kill();
}
