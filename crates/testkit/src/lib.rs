//! Test helpers: start a LocalBroker and talk to it.
//!
//! - [`spawn_app`] starts the server in-process on a free port, plain HTTP, in a temporary data
//!   dir, with a fixed seed and the demo world; [`TestApp`] is a typed client for it.
//! - [`process::Process`] runs the `localbroker` binary itself, for what only a real process can
//!   show: the first line it prints, signals, being killed.
//! - [`postgres::PgSchema`] gives a test its own PostgreSQL schema (module [`postgres`]; the
//!   binary's runner is module [`process`]).

// Test support: a test stops at the first thing that is not as expected.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod postgres;
pub mod process;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use engine::Engine;
use engine::clock::ClockSpec;
use journal::{PgStore, Record, SqliteStore, Store};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use server::auth::AuthMode;
use server::broker::BrokerOptions;
use server::connections::ConnectionLimits;
use server::pacing::PacingMode;
use server::serve::{Server, Settings, journal_path};

/// The seed every test world uses.
pub const SEED: u64 = 7;

/// The control plane's admin token of a strict test server.
pub const ADMIN_TOKEN: &str = "test-admin-token";

/// What to start.
#[derive(Debug, Clone, Default)]
pub struct AppOptions {
    /// A world file instead of the demo world.
    pub world: Option<PathBuf>,
    /// A PostgreSQL journal instead of SQLite.
    pub database_url: Option<String>,
    /// Snapshot cadence; the broker's default when `None`.
    pub snapshot_every: Option<u64>,
    /// The clock of the new world; realtime from now by default.
    pub clock: ClockSpec,
    /// Skip the first-snapshot skeleton and the empty first live-orders list that IBKR answers.
    pub no_preflight: bool,
    /// Another seed than [`SEED`].
    pub seed: Option<u64>,
    /// Strict authentication instead of the gateway's.
    pub strict: bool,
    /// IBKR's pacing limits, whatever the authentication.
    pub pacing: bool,
    /// Connection timeouts and cap; the server's defaults when `None`.
    pub limits: Option<ConnectionLimits>,
}

/// A server running in this process.
#[derive(Debug)]
pub struct TestApp {
    /// Base URL, `http://127.0.0.1:<port>`.
    pub url: String,
    /// The data dir, kept for restarts.
    pub dir: tempfile::TempDir,
    options: AppOptions,
    client: reqwest::Client,
    server: Server,
}

/// An answer: status and JSON body (`Value::Null` when the body is not JSON).
#[derive(Debug, Clone)]
pub struct Reply {
    /// HTTP status.
    pub status: StatusCode,
    /// The body, parsed.
    pub body: Value,
    /// The body as sent.
    pub text: String,
}

impl Reply {
    /// The body's `error` text, for asserting on error answers.
    pub fn error(&self) -> &str {
        self.body["error"].as_str().unwrap_or("")
    }
}

/// Starts a server with the demo world.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(AppOptions::default()).await
}

/// Starts a server with `options`.
pub async fn spawn_app_with(options: AppOptions) -> TestApp {
    let dir = tempfile::tempdir().expect("a temporary data dir");
    start(dir, options).await
}

async fn start(dir: tempfile::TempDir, options: AppOptions) -> TestApp {
    let settings = settings(dir.path(), &options);
    let server = Server::start(settings).await.expect("the server starts");
    let url = server.url();
    let client = reqwest::Client::builder().cookie_store(true).build().expect("an HTTP client");
    TestApp { url, dir, options, client, server }
}

fn settings(data_dir: &Path, options: &AppOptions) -> Settings {
    let mut broker = BrokerOptions::default();
    if let Some(every) = options.snapshot_every {
        broker.snapshot_every = every;
    }
    Settings {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        http: true,
        data_dir: data_dir.to_owned(),
        database_url: options.database_url.clone(),
        seed: options.seed.unwrap_or(SEED),
        clock: options.clock,
        world: options.world.clone(),
        broker,
        preflight: !options.no_preflight,
        auth: options.strict.then_some(AuthMode::Strict),
        pacing: Some(if options.pacing { PacingMode::Ibkr } else { PacingMode::Off }),
        admin_token: options.strict.then(|| ADMIN_TOKEN.to_owned()),
        limits: options.limits.unwrap_or_default(),
        allowed_hosts: Vec::new(),
    }
}

impl TestApp {
    /// Sends a request; `body` is sent as JSON when given, and nothing is sent otherwise, as
    /// ibind does.
    pub async fn request(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        let mut request = self.client.request(method, format!("{}{path}", self.url));
        if self.options.strict && path.starts_with("/_localbroker/") {
            request = request.bearer_auth(ADMIN_TOKEN);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the request is answered");
        let status = response.status();
        let text = response.text().await.expect("a body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply { status, body, text }
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Reply {
        self.request(Method::GET, path, None).await
    }

    /// `POST path` without a body.
    pub async fn post(&self, path: &str) -> Reply {
        self.request(Method::POST, path, None).await
    }

    /// `POST path` with a JSON body.
    pub async fn post_json(&self, path: &str, body: Value) -> Reply {
        self.request(Method::POST, path, Some(body)).await
    }

    /// The engine's state digest.
    pub async fn digest(&self) -> String {
        let reply = self.get("/_localbroker/state/digest").await;
        reply.body["digest"].as_str().expect("a digest").to_owned()
    }

    /// Logs `username` in at the gateway through the control plane.
    pub async fn login(&self, username: &str, password: &str) -> Reply {
        self.post_json(
            "/_localbroker/session/login",
            serde_json::json!({"username": username, "password": password}),
        )
        .await
    }

    /// Stops the server cleanly and starts it again on the same data dir.
    pub async fn restart(self) -> TestApp {
        let Self { dir, options, server, .. } = self;
        server.shutdown().await;
        start(dir, options).await
    }

    /// Stops the server cleanly.
    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }

    /// Stops the server, replays its whole journal into a new engine, snapshots ignored, and
    /// checks that the replay reaches the state the server had: the determinism every restart
    /// relies on.
    ///
    /// # Panics
    /// When the replayed state differs, or the journal cannot be read.
    pub async fn assert_journal_replays(self) {
        let live = self.digest().await;
        let Self { dir, options, server, .. } = self;
        server.shutdown().await;
        let records = match &options.database_url {
            Some(url) => read_all(PgStore::open(url, None).await.expect("the journal opens")).await,
            None => {
                read_all(SqliteStore::open(&journal_path(dir.path())).await.expect("the journal opens")).await
            }
        };
        let mut engine = Engine::new();
        for record in &records {
            // Refusals replay as refusals and change nothing.
            let _ = engine.apply(record.at, &record.command);
        }
        assert_eq!(engine.digest().to_string(), live, "replaying {} journaled commands", records.len());
    }
}

async fn read_all(mut store: impl Store) -> Vec<Record> {
    let records = store.read_after(0, u32::MAX).await.expect("the journal reads");
    store.close().await;
    records
}
