//! Starting and stopping a LocalBroker: journal, broker, listener, TLS.

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::ServiceExt;
use axum_server::Handle;
use axum_server::tls_rustls::RustlsAcceptor;
use engine::Command;
use engine::clock::ClockSpec;
use journal::{AnyStore, JournalError, PgStore, SqliteStore};
use tokio::sync::Semaphore;

use crate::auth::AuthMode;
use crate::auth::admin::AdminToken;
use crate::broker::{Broker, BrokerOptions, Origin, Running, StartError};
use crate::connections::{CappedListener, ConnectionLimits, Peer};
use crate::flex::written::WrittenStatements;
use crate::pacing::{Pacing, PacingMode};
use crate::state::{AppState, ServerIdentity};
use crate::tls::{self, CertificateFiles};
use crate::trading::marketdata::streams::Streams;
use crate::trading::orders::desk::Desk;
use crate::websocket::event_hub::EventHub;
use crate::websocket::market_hub::MarketHub;
use crate::world::{WorldFile, WorldFileError};

/// How long in-flight requests may take to finish at shutdown.
const GRACE: Duration = Duration::from_secs(5);

/// How often a running clock checks whether working orders have something due.
const TICK: Duration = Duration::from_millis(200);

/// What to start.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where to listen; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Serve plain HTTP instead of HTTPS.
    pub http: bool,
    /// Where the embedded journal and the certificate live.
    pub data_dir: PathBuf,
    /// A PostgreSQL journal instead of the embedded SQLite one.
    pub database_url: Option<String>,
    /// The seed of a new world.
    pub seed: u64,
    /// The clock of a new world.
    pub clock: ClockSpec,
    /// A world file for a new world; the demo world otherwise.
    pub world: Option<PathBuf>,
    /// Snapshot cadence.
    pub broker: BrokerOptions,
    /// Answer a session's first market-data snapshot of a conid with a skeleton and its first
    /// live-orders call with an empty list, as IBKR does.
    pub preflight: bool,
    /// Who may call without credentials; gateway on a loopback address, strict elsewhere.
    pub auth: Option<AuthMode>,
    /// IBKR's pacing limits; enforced by default in strict mode only.
    pub pacing: Option<PacingMode>,
    /// The control plane's token; one is made up at start when strict mode needs one.
    pub admin_token: Option<String>,
    /// How long and how much a connection may take.
    pub limits: ConnectionLimits,
    /// Host names besides loopback ones that a gateway-mode server answers to: a container's
    /// name, say. Anything else is refused, against DNS rebinding.
    pub allowed_hosts: Vec<String>,
}

impl Settings {
    /// The authentication mode: as asked, or gateway on loopback and strict elsewhere.
    pub fn auth_mode(&self) -> AuthMode {
        self.auth.unwrap_or(if self.listen.ip().is_loopback() { AuthMode::Gateway } else { AuthMode::Strict })
    }

    /// The pacing: as asked, or IBKR's limits in strict mode and none in gateway mode.
    pub fn pacing_mode(&self) -> PacingMode {
        self.pacing.unwrap_or(match self.auth_mode() {
            AuthMode::Strict => PacingMode::Ibkr,
            AuthMode::Gateway => PacingMode::Off,
        })
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot use data dir {path}: {source}")]
    DataDir { path: PathBuf, source: io::Error },
    #[error("cannot read world file {path}: {source}")]
    WorldRead { path: PathBuf, source: io::Error },
    #[error(transparent)]
    World(#[from] WorldFileError),
    #[error("cannot open the journal: {0}")]
    Journal(#[from] JournalError),
    #[error(transparent)]
    Broker(#[from] StartError),
    #[error(
        "refusing to listen on {0} in gateway mode, where anyone who reaches the server acts as the \
         gateway's user: use --auth strict, or a loopback address"
    )]
    NotLoopback(SocketAddr),
    #[error("the admin token is empty: give one, or none to have one made up")]
    EmptyAdminToken,
    #[error("cannot listen on {addr}: {source}")]
    Listen { addr: SocketAddr, source: io::Error },
    #[error("cannot set up HTTPS: {0}")]
    Tls(io::Error),
    #[error("refused: {0}")]
    Refused(String),
}

/// Applies `commands` to the journal `settings` name (creating its world first, as `serve`
/// would, if it has none) and returns what `query` reads afterwards; for the command line,
/// while no server uses the same journal.
///
/// # Errors
/// [`ServeError`] when the journal cannot be opened, or [`ServeError::Refused`] naming the
/// first command the broker refused.
pub async fn administer<R, F>(settings: &Settings, commands: Vec<Command>, query: F) -> Result<R, ServeError>
where
    R: Send + 'static,
    F: FnOnce(&engine::Engine) -> R + Send + 'static,
{
    if settings.database_url.is_none() {
        std::fs::create_dir_all(&settings.data_dir)
            .map_err(|source| ServeError::DataDir { path: settings.data_dir.clone(), source })?;
    }
    let store = open_store(settings).await?;
    let (broker, running, _) = Broker::start(store, genesis(settings)?, settings.broker).await?;
    let mut outcome = Ok(());
    for command in commands {
        if let Err(error) = broker.execute(command).await {
            outcome = Err(ServeError::Refused(error.to_string()));
            break;
        }
    }
    let read = broker.read(query).await;
    running.shutdown().await;
    outcome?;
    read.map_err(|error| ServeError::Refused(error.to_string()))
}

/// A running server.
#[derive(Debug)]
pub struct Server {
    /// The address actually bound.
    pub addr: SocketAddr,
    /// `http` or `https`.
    pub scheme: &'static str,
    /// Whether the world was created now or recovered from the journal.
    pub origin: Origin,
    /// The certificate, when serving HTTPS.
    pub certificate: Option<CertificateFiles>,
    /// The broker, for reading state (start-up summary, tests).
    pub broker: Broker,
    /// Whether requests without credentials act for the gateway's user.
    pub auth: AuthMode,
    /// IBKR's pacing limits, or none.
    pub pacing: PacingMode,
    /// The token the control plane needs, to print at start; `None` when it is open.
    pub admin_token: Option<String>,
    handle: Handle<Peer>,
    serving: tokio::task::JoinHandle<io::Result<()>>,
    ticker: tokio::task::JoinHandle<()>,
    market_hub: tokio::task::JoinHandle<()>,
    event_hub: tokio::task::JoinHandle<()>,
    running: Running,
}

impl Server {
    /// Opens the journal, recovers or creates the world, binds the listener and starts serving.
    ///
    /// # Errors
    /// A [`ServeError`] naming what could not be set up.
    pub async fn start(settings: Settings) -> Result<Self, ServeError> {
        // Off loopback anyone could act as the gateway's user.
        let auth = settings.auth_mode();
        let pacing = settings.pacing_mode();
        if auth == AuthMode::Gateway && !settings.listen.ip().is_loopback() {
            return Err(ServeError::NotLoopback(settings.listen));
        }
        if settings.admin_token.as_ref().is_some_and(|token| token.trim().is_empty()) {
            return Err(ServeError::EmptyAdminToken);
        }
        let admin_token = match (&settings.admin_token, auth) {
            (Some(token), _) => Some(token.clone()),
            (None, AuthMode::Strict) => Some(crate::auth::random_token()),
            (None, AuthMode::Gateway) => None,
        };
        // Bind first: if the port is taken, nothing is journaled, and a corrected retry can
        // still choose the world and the seed.
        let listener = std::net::TcpListener::bind(settings.listen)
            .and_then(|listener| listener.set_nonblocking(true).map(|()| listener))
            .map_err(|source| ServeError::Listen { addr: settings.listen, source })?;
        let addr =
            listener.local_addr().map_err(|source| ServeError::Listen { addr: settings.listen, source })?;
        std::fs::create_dir_all(&settings.data_dir)
            .map_err(|source| ServeError::DataDir { path: settings.data_dir.clone(), source })?;
        // Everything that can fail is set up before the broker starts, so that a failure leaves
        // no broker running behind it.
        let tls = if settings.http {
            None
        } else {
            let files = CertificateFiles::in_dir(&settings.data_dir);
            let config = tls::load_or_create(&files).await.map_err(ServeError::Tls)?;
            Some((files, config))
        };
        let limits = settings.limits;
        let listener =
            CappedListener::new(listener, &limits).map_err(|source| ServeError::Listen { addr, source })?;
        let mut server = axum_server::Server::<Peer>::from_listener(listener)
            // Until the first request arrives hyper is still telling HTTP/1 from HTTP/2, which
            // no header timeout covers.
            .first_request_timeout(limits.header_timeout);
        server.http_builder().http1().header_read_timeout(limits.header_timeout);
        let genesis = genesis(&settings)?;
        let store = open_store(&settings).await?;
        // Once the journal is open, and so locked, the statements' directory is this server's
        // to empty (servers journaling to different PostgreSQL schemas need data directories
        // of their own).
        let flex_statements = settings.data_dir.join("flex-statements");
        let statements = WrittenStatements::in_dir(flex_statements.clone())
            .map_err(|source| ServeError::DataDir { path: flex_statements, source })?;
        let (broker, running, origin) = Broker::start(store, genesis, settings.broker).await?;
        if auth == AuthMode::Strict
            && let Err(error) = end_gateway_session(&broker).await
        {
            running.shutdown().await;
            return Err(error);
        }
        let ticker = tokio::spawn(tick(broker.clone()));
        let state = AppState {
            broker: broker.clone(),
            catalogue: market::Catalogue::standard(),
            identity: Arc::new(ServerIdentity::default()),
            streams: Arc::new(Streams::new(settings.preflight)),
            desk: Arc::new(Desk::new(settings.preflight)),
            history_slots: Arc::new(Semaphore::new(crate::trading::marketdata::history::CONCURRENT_REQUESTS)),
            market_hub: Arc::new(MarketHub::default()),
            event_hub: Arc::new(EventHub::default()),
            drop_websockets: tokio::sync::broadcast::channel(1).0,
            auth,
            admin_token: admin_token.as_deref().map(AdminToken::new),
            pacing: Arc::new(Pacing::new(pacing)),
            password_checks: Arc::new(crate::auth::password::Verifications::per_core()),
            https: !settings.http,
            body_timeout: limits.body_timeout,
            allowed_hosts: settings.allowed_hosts.clone().into(),
            flex_statements: Arc::new(statements),
        };
        let market_hub = tokio::spawn(state.market_hub.clone().run(state.clone()));
        let event_hub = tokio::spawn(state.event_hub.clone().run(broker.clone()));
        let app = crate::app::app::<hyper::body::Incoming>(state);
        let service =
            ServiceExt::<axum::http::Request<hyper::body::Incoming>>::into_make_service_with_connect_info::<
                SocketAddr,
            >(app);
        let handle = Handle::new();
        let (scheme, certificate, serving) = match tls {
            None => ("http", None, tokio::spawn(server.handle(handle.clone()).serve(service))),
            Some((files, config)) => {
                let acceptor = RustlsAcceptor::new(config).handshake_timeout(limits.header_timeout);
                let server = server.acceptor(acceptor);
                ("https", Some(files), tokio::spawn(server.handle(handle.clone()).serve(service)))
            }
        };
        Ok(Self {
            addr,
            scheme,
            origin,
            certificate,
            broker,
            auth,
            pacing,
            admin_token,
            handle,
            serving,
            ticker,
            market_hub,
            event_hub,
            running,
        })
    }

    /// The base URL, such as `https://127.0.0.1:5000`.
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    /// Stops accepting connections, lets in-flight requests finish, then flushes the journal.
    pub async fn shutdown(self) {
        self.handle.graceful_shutdown(Some(GRACE));
        match self.serving.await {
            Ok(Err(error)) => tracing::error!(%error, "the HTTP server failed"),
            Err(error) => tracing::error!(%error, "the HTTP server panicked"),
            Ok(Ok(())) => {}
        }
        self.ticker.abort();
        self.market_hub.abort();
        self.event_hub.abort();
        self.running.shutdown().await;
    }
}

/// Logs out the gateway's session, which nobody may act through in strict mode; otherwise it
/// would keep its user's brokerage session from the sessions that may.
async fn end_gateway_session(broker: &Broker) -> Result<(), ServeError> {
    let gateway =
        broker.read(|engine| engine.state().gateway_session().map(|session| session.id.clone())).await;
    if let Ok(Some(session)) = gateway {
        broker
            .execute(Command::Logout { session })
            .await
            .map_err(|error| ServeError::Refused(error.to_string()))?;
    }
    Ok(())
}

/// Lets market time pass over working orders while the clock runs: whenever something is due
/// (a fill, a trigger, an expiry), a journaled tick makes it happen. A manual clock never has
/// anything due between commands.
async fn tick(broker: Broker) {
    let mut interval = tokio::time::interval(TICK);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        let wall = engine::Timestamp::now();
        match broker.read(move |engine| engine.is_due(wall)).await {
            Ok(true) => {
                if let Err(error) = broker.execute(Command::Tick).await {
                    tracing::warn!(%error, "a tick was not applied");
                }
            }
            Ok(false) => {}
            Err(_) => return,
        }
    }
}

async fn open_store(settings: &Settings) -> Result<AnyStore, JournalError> {
    Ok(match &settings.database_url {
        Some(url) => AnyStore::Postgres(PgStore::open(url, None).await?),
        None => AnyStore::Sqlite(SqliteStore::open(&journal_path(&settings.data_dir)).await?),
    })
}

/// The embedded journal's file.
pub fn journal_path(data_dir: &Path) -> PathBuf {
    data_dir.join("journal.sqlite")
}

/// The commands that start a new journal: create the world, then log its first user in at the
/// gateway, so that a fresh server acts like a gateway someone has logged into.
fn genesis(settings: &Settings) -> Result<Vec<Command>, ServeError> {
    let file = match &settings.world {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|source| ServeError::WorldRead { path: path.clone(), source })?;
            WorldFile::parse(&text)?
        }
        None => WorldFile::demo(),
    };
    let world = file.into_world()?;
    let first_user = world.users.first().map(|user| user.username.clone());
    let mut commands = vec![Command::CreateWorld { seed: settings.seed, world, clock: settings.clock }];
    commands.extend(first_user.map(|user| Command::GatewayLogin { user }));
    Ok(commands)
}
