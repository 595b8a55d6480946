//! What every handler shares.

use std::sync::Arc;

use market::Catalogue;

use tokio::sync::Semaphore;

use crate::auth::AuthMode;
use crate::auth::admin::AdminToken;
use crate::broker::Broker;
use crate::pacing::Pacing;
use crate::trading::marketdata::streams::Streams;
use crate::trading::orders::desk::Desk;
use crate::websocket::event_hub::EventHub;
use crate::websocket::market_hub::MarketHub;

/// The handlers' view of the running server.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The engine, through its journal.
    pub broker: Broker,
    /// The instruments the market lists.
    pub catalogue: &'static Catalogue,
    /// Facts about this server that responses repeat.
    pub identity: Arc<ServerIdentity>,
    /// Each session's open market-data streams.
    pub streams: Arc<Streams>,
    /// Permits for concurrent history requests.
    pub history_slots: Arc<Semaphore>,
    /// Each session's questions waiting for answers and live-order priming.
    pub desk: Arc<Desk>,
    /// Market data computed once for every websocket streaming it.
    pub market_hub: Arc<MarketHub>,
    /// Order and trade updates built once for every websocket.
    pub event_hub: Arc<EventHub>,
    /// Closes every open websocket when sent to: the control plane's way to test reconnects.
    pub drop_websockets: tokio::sync::broadcast::Sender<()>,
    /// Whether requests without credentials act for the gateway's user.
    pub auth: AuthMode,
    /// The token the control plane needs, if it needs one.
    pub admin_token: Option<AdminToken>,
    /// IBKR's request-rate limits, and the login page's.
    pub pacing: Arc<Pacing>,
    /// The password checks of logins, a few at a time.
    pub password_checks: Arc<crate::auth::password::Verifications>,
    /// Whether the server speaks HTTPS, so that its cookies may say `Secure`.
    pub https: bool,
    /// Host names besides loopback ones that a gateway-mode server answers to.
    pub allowed_hosts: Arc<[String]>,
    /// How long a request's body may take to arrive, whole.
    pub body_timeout: std::time::Duration,
    /// Flex statements written, kept for their next fetch.
    pub flex_statements: Arc<crate::flex::written::WrittenStatements>,
}

impl AppState {
    /// Drops what the handlers keep per session (market-data streams, questions, priming)
    /// for the sessions `events` closed.
    pub fn forget_closed_sessions(&self, events: &[engine::Event]) {
        self.streams.forget_closed_sessions(events);
        self.desk.forget_closed_sessions(events);
    }
}

/// How this server names itself where IBKR's responses name the gateway.
#[derive(Debug, Clone)]
pub struct ServerIdentity {
    /// `serverInfo.serverName`.
    pub name: String,
    /// `serverInfo.serverVersion`.
    pub version: String,
}

impl Default for ServerIdentity {
    fn default() -> Self {
        Self { name: "LocalBroker".into(), version: format!("LocalBroker {}", env!("CARGO_PKG_VERSION")) }
    }
}
