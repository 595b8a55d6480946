//! `localbroker`: start the server, or report on it.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use engine::Timestamp;
use engine::clock::{ClockMode, ClockSpec};
use server::auth::AuthMode;
use server::broker::{BrokerOptions, Origin};
use server::connections::ConnectionLimits;
use server::pacing::PacingMode;
use server::serve::{Server, Settings};
use tracing_subscriber::EnvFilter;

mod coverage;

/// The seed of a new world when none is given.
const DEFAULT_SEED: u64 = 42;

/// LocalBroker: IBKR's Web API, self-hosted, with a simulated broker behind it.
#[derive(Debug, Parser)]
#[command(version, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Without a subcommand, LocalBroker serves.
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the API (the default).
    Serve(ServeArgs),
    /// Print the coverage of IBKR's operations as Markdown.
    Coverage {
        /// The whole coverage page (docs/coverage.md), every operation listed.
        #[arg(long)]
        document: bool,
    },
    /// Manage OAuth 2.0 clients in a journal no server is using (a running server takes the
    /// same changes through `/_localbroker/clients`).
    Clients {
        #[command(subcommand)]
        action: ClientsAction,
        /// The data dir whose embedded journal to change.
        #[arg(long, global = true, env = "LOCALBROKER_DATA_DIR", default_value = "./localbroker-data")]
        data_dir: PathBuf,
        /// The PostgreSQL journal to change instead.
        #[arg(long, global = true, env = "LOCALBROKER_DATABASE_URL")]
        database_url: Option<String>,
        /// The world to create when the journal holds none yet.
        #[command(flatten)]
        new_world: NewWorldArgs,
    },
    /// Issue Flex tokens and define Flex queries in a journal no server is using (a running
    /// server takes the same at `/_localbroker/flex/…`).
    Flex {
        #[command(subcommand)]
        action: FlexAction,
        /// The data dir whose embedded journal to change.
        #[arg(long, global = true, env = "LOCALBROKER_DATA_DIR", default_value = "./localbroker-data")]
        data_dir: PathBuf,
        /// The PostgreSQL journal to change instead.
        #[arg(long, global = true, env = "LOCALBROKER_DATABASE_URL")]
        database_url: Option<String>,
        /// The world to create when the journal holds none yet.
        #[command(flatten)]
        new_world: NewWorldArgs,
    },
}

#[derive(Debug, Subcommand)]
enum FlexAction {
    /// Issue a Flex token to a user; prints it.
    Token {
        #[arg(long)]
        user: String,
        /// The token; 24 random digits when absent.
        #[arg(long)]
        token: Option<String>,
        /// When it stops working (RFC 3339).
        #[arg(long)]
        expires: Option<Timestamp>,
    },
    /// Define a Flex query, as a world file's [[flex.queries]] does.
    Query {
        #[arg(long)]
        id: u64,
        #[arg(long)]
        name: String,
        #[arg(long)]
        user: String,
        /// activity or trade_confirmation.
        #[arg(long = "type", default_value = "activity")]
        kind: String,
        /// LastBusinessDay, LastWeek, MonthToDate, YearToDate or Last365CalendarDays.
        #[arg(long, default_value = "YearToDate")]
        period: String,
        /// xml or csv.
        #[arg(long, default_value = "xml")]
        format: String,
        /// A section to hold (repeatable); all of the type's when absent.
        #[arg(long = "section")]
        sections: Vec<String>,
        /// IBKR's date pattern.
        #[arg(long, default_value = "yyyyMMdd")]
        date_format: String,
        /// IBKR's time pattern.
        #[arg(long, default_value = "HHmmss")]
        time_format: String,
    },
}

/// The world `clients` creates when it is the first to use a journal: the same options as
/// `serve`, so that registering a client before the first start changes nothing of the world
/// the server then starts with.
#[derive(Debug, Clone, Args)]
struct NewWorldArgs {
    /// Seed of a new world's simulated market.
    #[arg(long, global = true, env = "LOCALBROKER_SEED", default_value_t = DEFAULT_SEED)]
    seed: u64,
    /// How a new world's market time moves: realtime, accelerated:N or manual.
    #[arg(long, global = true, env = "LOCALBROKER_CLOCK", default_value = "realtime")]
    clock: ClockMode,
    /// A new world's market time at start (RFC 3339); now by default.
    #[arg(long, global = true, env = "LOCALBROKER_START")]
    start: Option<Timestamp>,
    /// World file (TOML) for a new world; the built-in demo world otherwise.
    #[arg(long, global = true, env = "LOCALBROKER_WORLD")]
    world: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum ClientsAction {
    /// Register a client's public key (creating the client) and the scopes it asks for.
    Add {
        #[arg(long)]
        client_id: String,
        /// The key id its assertions name.
        #[arg(long)]
        kid: String,
        /// The PEM file of its public key.
        #[arg(long)]
        public_key: PathBuf,
        /// RS256 or ES256.
        #[arg(long, default_value = "RS256")]
        alg: String,
        /// Space-separated scopes.
        #[arg(long, default_value = "sso-sessions.write")]
        scopes: String,
    },
    /// Grant a client its Account Management scopes.
    Approve { client_id: String },
    /// Revoke a client.
    Revoke { client_id: String },
    /// Give a client the management of existing accounts through Account Management.
    Manage {
        client_id: String,
        /// The accounts.
        #[arg(required = true)]
        accounts: Vec<String>,
    },
    /// List the clients, one JSON object a line.
    List,
}

#[derive(Debug, Clone, Args)]
struct ServeArgs {
    /// Address and port to listen on; port 0 picks a free one.
    #[arg(long, env = "LOCALBROKER_LISTEN", default_value = "127.0.0.1:5000")]
    listen: SocketAddr,
    /// Serve plain HTTP instead of HTTPS with the self-signed certificate.
    #[arg(long, env = "LOCALBROKER_HTTP")]
    http: bool,
    /// Where the embedded journal and the certificate are kept.
    #[arg(long, env = "LOCALBROKER_DATA_DIR", default_value = "./localbroker-data")]
    data_dir: PathBuf,
    /// Journal to this PostgreSQL database (`postgres://…`) instead of the embedded SQLite file.
    #[arg(long, env = "LOCALBROKER_DATABASE_URL")]
    database_url: Option<String>,
    /// Seed of a new world's simulated market; 42 when absent.
    #[arg(long, env = "LOCALBROKER_SEED")]
    seed: Option<u64>,
    /// How a new world's market time moves: realtime (when absent), accelerated:N (N times the
    /// wall clock) or manual (only when advanced through the control plane).
    #[arg(long, env = "LOCALBROKER_CLOCK")]
    clock: Option<ClockMode>,
    /// A new world's market time at start (RFC 3339); now by default.
    #[arg(long, env = "LOCALBROKER_START")]
    start: Option<Timestamp>,
    /// Answer a session's first market-data snapshot of a conid with values and its first
    /// live-orders call with the orders, instead of the skeleton and the empty list IBKR
    /// answers while it primes them.
    #[arg(long, alias = "no-snapshot-preflight", env = "LOCALBROKER_NO_PREFLIGHT")]
    no_preflight: bool,
    /// World file (TOML) for a new world; the built-in demo world otherwise.
    #[arg(long, env = "LOCALBROKER_WORLD")]
    world: Option<PathBuf>,
    /// gateway: requests without credentials act for the user logged in at the gateway, and the
    /// control plane is open. strict: every /v1/api call needs a bearer or a login-page cookie,
    /// and the control plane the admin token. Gateway on a loopback address, strict elsewhere,
    /// by default; gateway is refused off loopback.
    #[arg(long, env = "LOCALBROKER_AUTH")]
    auth: Option<AuthMode>,
    /// ibkr: IBKR's pacing limits (429 beyond them). off: none. Default: ibkr in strict mode,
    /// off in gateway mode.
    #[arg(long, env = "LOCALBROKER_PACING")]
    pacing: Option<PacingMode>,
    /// The control plane's admin token, instead of a random one printed at start.
    #[arg(long, env = "LOCALBROKER_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// How long a client may take to send a request's head (and an HTTP/1 connection may wait
    /// for its next request): 30s by default.
    #[arg(long, env = "LOCALBROKER_HEADER_TIMEOUT", value_parser = timeout)]
    header_timeout: Option<std::time::Duration>,
    /// How long a request's body may take to arrive, whole: 60s by default.
    #[arg(long, env = "LOCALBROKER_BODY_TIMEOUT", value_parser = timeout)]
    body_timeout: Option<std::time::Duration>,
    /// How long a connection may pass with nothing read or written: 5m by default.
    #[arg(long, env = "LOCALBROKER_IDLE_TIMEOUT", value_parser = timeout)]
    idle_timeout: Option<std::time::Duration>,
    /// How many connections may be open at once; further clients wait to be accepted. By
    /// default as many as the process's descriptor limit leaves room for.
    #[arg(long, env = "LOCALBROKER_MAX_CONNECTIONS", value_parser = clap::value_parser!(u32).range(1..))]
    max_connections: Option<u32>,
    /// A host name besides the loopback ones (`localhost`, 127.0.0.1, ::1) that a gateway-mode
    /// server answers to, such as a container's name; repeat it, or separate names with commas.
    /// Other names are refused, so that no web page can reach the server by DNS rebinding.
    #[arg(long = "allowed-host", env = "LOCALBROKER_ALLOWED_HOSTS", value_delimiter = ',')]
    allowed_hosts: Vec<String>,
}

impl ServeArgs {
    /// The connection limits asked for, the defaults for the others.
    fn limits(&self) -> ConnectionLimits {
        let default = ConnectionLimits::default();
        ConnectionLimits {
            header_timeout: self.header_timeout.unwrap_or(default.header_timeout),
            body_timeout: self.body_timeout.unwrap_or(default.body_timeout),
            idle_timeout: self.idle_timeout.unwrap_or(default.idle_timeout),
            max_connections: self.max_connections.map_or(default.max_connections, |cap| cap as usize),
        }
    }
}

/// A timeout as people type one: `30s`, `5m`, `1h`.
fn timeout(text: &str) -> Result<std::time::Duration, String> {
    server::duration::parse(text)
        .and_then(|duration| std::time::Duration::try_from(duration).ok())
        .ok_or_else(|| format!("{text:?} is not a duration such as 30s, 5m or 1h"))
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Coverage { document }) => {
            print!("{}", if document { coverage::document() } else { coverage::summary() });
            Ok(())
        }
        Some(Command::Serve(args)) => serve(args),
        Some(Command::Clients { action, data_dir, database_url, new_world }) => {
            clients(action, data_dir, database_url, new_world)
        }
        Some(Command::Flex { action, data_dir, database_url, new_world }) => {
            flex(action, journal(data_dir, database_url, new_world))
        }
        None => serve(cli.serve),
    }
}

fn clients(
    action: ClientsAction,
    data_dir: PathBuf,
    database_url: Option<String>,
    new_world: NewWorldArgs,
) -> anyhow::Result<()> {
    use engine::oauth::{ClientKey, KeyAlgorithm};
    let commands = match action {
        ClientsAction::Add { client_id, kid, public_key, alg, scopes } => {
            let algorithm = match alg.to_ascii_uppercase().as_str() {
                "RS256" => KeyAlgorithm::Rs256,
                "ES256" => KeyAlgorithm::Es256,
                other => anyhow::bail!("--alg must be RS256 or ES256, not {other}"),
            };
            let public_key_pem = std::fs::read_to_string(&public_key)
                .with_context(|| format!("cannot read {}", public_key.display()))?;
            let key = ClientKey { kid, algorithm, public_key_pem };
            anyhow::ensure!(
                server::oauth::decoding_key(&key).is_some(),
                "{} is not a PEM public key for {alg}",
                public_key.display()
            );
            let scopes = scopes.split_whitespace().map(str::to_owned).collect();
            vec![engine::Command::RegisterClient { client_id, key, scopes }]
        }
        ClientsAction::Approve { client_id } => vec![engine::Command::ApproveClient { client_id }],
        ClientsAction::Revoke { client_id } => vec![engine::Command::RevokeClient { client_id }],
        ClientsAction::Manage { client_id, accounts } => {
            let accounts = accounts
                .iter()
                .map(|account| account.parse().map_err(|_| anyhow::anyhow!("{account} is not an account id")))
                .collect::<anyhow::Result<_>>()?;
            vec![engine::Command::AssignAccounts { client_id, accounts }]
        }
        ClientsAction::List => Vec::new(),
    };
    let settings = journal(data_dir, database_url, new_world);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let lines = runtime.block_on(server::serve::administer(&settings, commands, |engine| {
        engine
            .state()
            .oauth()
            .clients
            .values()
            .map(|client| {
                serde_json::json!({
                    "clientId": client.client_id,
                    "kids": client.keys.keys().collect::<Vec<_>>(),
                    "granted": client.granted_scopes(),
                    "approved": client.approved,
                    "accounts": client.accounts,
                    "revoked": client.revoked,
                })
                .to_string()
            })
            .collect::<Vec<_>>()
    }))?;
    for line in lines {
        println!("{line}");
    }
    Ok(())
}

/// The settings of a command that changes a journal no server is using.
fn journal(data_dir: PathBuf, database_url: Option<String>, new_world: NewWorldArgs) -> Settings {
    Settings {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        http: true,
        data_dir,
        database_url,
        seed: new_world.seed,
        clock: ClockSpec { mode: new_world.clock, start: new_world.start },
        world: new_world.world,
        broker: BrokerOptions::default(),
        preflight: true,
        auth: None,
        pacing: None,
        admin_token: None,
        limits: ConnectionLimits::default(),
        allowed_hosts: Vec::new(),
    }
}

fn flex(action: FlexAction, settings: Settings) -> anyhow::Result<()> {
    let user = |name: &str| name.parse().map_err(|_| anyhow::anyhow!("{name} is not a user name"));
    let (command, printed) = match action {
        FlexAction::Token { user: name, token, expires } => {
            let token = token.unwrap_or_else(server::flex::new_token);
            anyhow::ensure!(!token.trim().is_empty(), "a Flex token is not empty");
            let token_hash = engine::flex::token_hash(token.trim());
            (
                engine::Command::IssueFlexToken { user: user(&name)?, token_hash, expires_at: expires },
                Some(token),
            )
        }
        FlexAction::Query {
            id,
            name,
            user: owner,
            kind,
            period,
            format,
            sections,
            date_format,
            time_format,
        } => {
            let mut entry = serde_json::json!({
                "id": id, "name": name, "user": owner, "type": kind, "period": period, "format": format,
                "date_format": date_format, "time_format": time_format,
            });
            if !sections.is_empty() {
                entry["sections"] = serde_json::json!(sections);
            }
            let entry: server::world::FlexQueryEntry = serde_json::from_value(entry)?;
            (engine::Command::DefineFlexQuery { query: entry.query()? }, None)
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(server::serve::administer(&settings, vec![command], |_| ()))?;
    if let Some(token) = printed {
        println!("{token}");
    }
    Ok(())
}

fn serve(args: ServeArgs) -> anyhow::Result<()> {
    // Logs go to stderr: stdout's first line is the address, for scripts to read.
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("LOCALBROKER_LOG").unwrap_or_else(|_| EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let settings = Settings {
            listen: args.listen,
            http: args.http,
            data_dir: args.data_dir.clone(),
            database_url: args.database_url.clone(),
            seed: args.seed.unwrap_or(DEFAULT_SEED),
            clock: ClockSpec { mode: args.clock.unwrap_or_default(), start: args.start },
            world: args.world.clone(),
            broker: BrokerOptions::default(),
            preflight: !args.no_preflight,
            auth: args.auth,
            pacing: args.pacing,
            admin_token: args.admin_token.clone(),
            limits: args.limits(),
            allowed_hosts: args.allowed_hosts.clone(),
        };
        let server = Server::start(settings).await.context("LocalBroker could not start")?;
        announce(&server, &args).await?;
        shutdown_signal().await?;
        server.shutdown().await;
        Ok(())
    })
}

/// Prints the bound address first, exactly `listening on <url>`, then a summary for people.
async fn announce(server: &Server, args: &ServeArgs) -> anyhow::Result<()> {
    let url = server.url();
    let wall = engine::Timestamp::now();
    let (users, logged_in, now, mode) = server
        .broker
        .read(move |engine| {
            let state = engine.state();
            let users: Vec<String> = state
                .users()
                .map(|user| {
                    format!(
                        "{} ({})",
                        user.username,
                        user.accounts.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
                    )
                })
                .collect();
            let clock = (state.market_time(wall), state.clock().mode());
            (users, state.gateway_session().map(|session| session.user.to_string()), clock.0, clock.1)
        })
        .await?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "listening on {url}")?;
    writeln!(out, "LocalBroker {} — IBKR Web API at {url}/v1/api", env!("CARGO_PKG_VERSION"))?;
    match server.origin {
        Origin::Created => writeln!(out, "  world: new, seed {}", args.seed.unwrap_or(DEFAULT_SEED))?,
        Origin::Recovered { last_seq, replayed } => {
            writeln!(out, "  world: recovered from the journal ({last_seq} commands, {replayed} replayed)")?;
            let new_world_options = args.seed.is_some() || args.clock.is_some() || args.start.is_some();
            if new_world_options || args.world.is_some() {
                writeln!(
                    out,
                    "  note: --seed, --clock, --start and --world make a new world; this journal has one, so they are ignored"
                )?;
            }
        }
    }
    writeln!(out, "  market time: {now} ({mode} clock)")?;
    writeln!(out, "  users: {}", users.join(", "))?;
    if server.auth == AuthMode::Gateway {
        writeln!(
            out,
            "  logged in at the gateway: {}",
            logged_in.as_deref().unwrap_or("nobody (log in at the login page)")
        )?;
    }
    writeln!(out, "  login page: {url}/    docs: {url}/docs    spec: {url}/openapi.json")?;
    writeln!(out, "  auth: {} (pacing {})", server.auth, server.pacing)?;
    // The admin token is printed once, here, for whoever started the server; it is never logged.
    match (&server.admin_token, &args.admin_token) {
        (Some(token), None) => writeln!(out, "  control plane admin token: {token}")?,
        (Some(_), Some(_)) => writeln!(out, "  control plane: needs the admin token given at start")?,
        (None, _) => writeln!(out, "  control plane: open (gateway mode on loopback)")?,
    }
    match &args.database_url {
        Some(_) => writeln!(out, "  journal: PostgreSQL")?,
        None => writeln!(out, "  journal: {}", server::serve::journal_path(&args.data_dir).display())?,
    }
    if let Some(files) = &server.certificate {
        writeln!(out, "  certificate: {}", files.cert.display())?;
    }
    out.flush()?;
    Ok(())
}

async fn shutdown_signal() -> anyhow::Result<()> {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        result = tokio::signal::ctrl_c() => result?,
        _ = terminate.recv() => {}
    }
    Ok(())
}
