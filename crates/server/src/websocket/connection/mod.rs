//! One websocket connection: its session, its subscriptions, and the loop that answers its
//! frames and pushes what they subscribed to.
//!
//! Order and execution updates come from the broker's event stream, in the order the engine
//! applied them; a connection that falls so far behind that the stream skips some of them has
//! stopped reading and is closed, so that it never sees a gap. Market data, P&L, the summary
//! and the ledger are recomputed on timers from the present state, so a slow reader only ever
//! gets their latest values.

mod pushes;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, close_code};
use engine::portfolio::Portfolio;
use engine::state::Session;
use jiff::Timestamp;
use model::{AccountId, Conid, SessionId};
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;
use tokio::time::{Interval, MissedTickBehavior, interval};

use super::market_hub::MarketTick;
use super::protocol::{ClientRequest, parse};
use super::topics::{self, MarketStream};
use crate::state::AppState;

/// How often the `system` heartbeat goes out: IBKR's is about every ten seconds.
const HEARTBEAT: Duration = Duration::from_secs(10);

/// How often P&L and the account summary are looked at.
const ACCOUNT: Duration = Duration::from_secs(1);

/// How often the ledger is sent: IBKR's every ten seconds.
const LEDGER: Duration = Duration::from_secs(10);

/// What a connection subscribed to.
#[derive(Debug, Default)]
struct Subscriptions {
    market: BTreeMap<Conid, MarketStream>,
    /// Status filters of `sor`, when subscribed.
    orders: Option<Vec<String>>,
    trades: bool,
    pnl: Option<Value>,
    /// Accounts whose summary is streamed, with what was last sent.
    summaries: BTreeMap<AccountId, Option<Value>>,
    /// Ledgers streamed, with each currency's entry last sent.
    ledgers: BTreeMap<AccountId, BTreeMap<String, Value>>,
    /// The price ladder streamed, with what was last sent.
    depth: Option<(AccountId, Conid, Option<Value>)>,
}

fn interval_of(period: Duration) -> Interval {
    let mut timer = interval(period);
    timer.set_missed_tick_behavior(MissedTickBehavior::Delay);
    timer
}

/// How long a message may wait for the client to take it: a client that reads nothing for this
/// long has stopped reading, and is disconnected rather than buffered for.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// Sends `message`; false when the connection is gone or the client stopped reading.
async fn send(socket: &mut WebSocket, message: &Value) -> bool {
    send_text(socket, Utf8Bytes::from(message.to_string())).await
}

/// Sends an encoded message, as [`send`].
async fn send_text(socket: &mut WebSocket, text: Utf8Bytes) -> bool {
    match tokio::time::timeout(SEND_TIMEOUT, socket.send(Message::Text(text))).await {
        Ok(sent) => sent.is_ok(),
        Err(_) => {
            tracing::warn!("closing a websocket whose client stopped reading: a message waited 10 s");
            false
        }
    }
}

/// The close frame for a frame the connection could not read: 1009 for one over
/// [`MAX_CLIENT_MESSAGE`](super::MAX_CLIENT_MESSAGE), which is refused from its header, before
/// its payload is read; 1002 for one that breaks the protocol; none when the connection itself
/// failed, as nothing can be sent on it.
fn unreadable(error: axum::Error) -> Option<CloseFrame> {
    let error = error.into_inner().downcast::<tungstenite::Error>().ok()?;
    match *error {
        tungstenite::Error::Capacity(_) => {
            let reason = format!("a message may be at most {} bytes", super::MAX_CLIENT_MESSAGE);
            Some(CloseFrame { code: close_code::SIZE, reason: reason.into() })
        }
        tungstenite::Error::Protocol(_) | tungstenite::Error::Utf8(_) => {
            Some(CloseFrame { code: close_code::PROTOCOL, reason: "unreadable frame".into() })
        }
        _ => None,
    }
}

/// The open session named `id`, if there is one now, and the accounts it may see.
async fn session_named(app: &AppState, id: String) -> Option<(Session, BTreeSet<AccountId>)> {
    let wall = Timestamp::now();
    app.broker
        .read(move |engine| {
            let state = engine.state();
            let session = state.session(&SessionId::new(id))?.clone();
            let accounts = state.entitled_accounts(&session).map(|a| a.id.clone()).collect();
            session.is_active(wall).then_some((session, accounts))
        })
        .await
        .ok()
        .flatten()
}

/// Serves one connection until the client leaves or stops reading.
pub async fn serve(app: AppState, mut socket: WebSocket, cookie: Option<String>) {
    let mut found = match cookie {
        Some(id) => session_named(&app, id).await,
        None => None,
    };
    // Session ids are no secret: only the gateway lets a client name one.
    while found.is_none() && app.auth == crate::auth::AuthMode::Gateway {
        if !send(&mut socket, &json!({"message": "waiting for session"})).await {
            return;
        }
        let Some(Ok(frame)) = socket.recv().await else { return };
        if let Message::Text(text) = frame
            && let Ok(ClientRequest::Session(id)) = parse(&text)
        {
            found = session_named(&app, id).await;
        }
    }
    let Some((session, accounts)) = found else { return };
    let paper = accounts.iter().all(crate::trading::is_paper);
    let mut connection =
        Connection { app, session, accounts, subscriptions: Subscriptions::default(), brokerage: true };
    if connection.greet(&mut socket, paper).await {
        connection.run(&mut socket).await;
    }
}

/// An account's portfolio, with what its summary also needs.
struct Valued {
    portfolio: Portfolio,
    kind: &'static str,
    day_trades_left: Option<[usize; 5]>,
}

struct Connection {
    app: AppState,
    session: Session,
    /// The accounts the session may see.
    accounts: BTreeSet<AccountId>,
    subscriptions: Subscriptions,
    /// Whether the session holds its user's brokerage session, without which nothing streams.
    brokerage: bool,
}

impl Drop for Connection {
    /// A closed connection streams nothing more: its registrations with the hub go.
    fn drop(&mut self) {
        self.unsubscribe_all();
    }
}

impl Connection {
    /// `sts`, the `system` greeting, `act` and a first heartbeat, as IBKR sends them on connect.
    async fn greet(&mut self, socket: &mut WebSocket, paper: bool) -> bool {
        let username = self.session.user.to_string();
        let identity = self.app.identity.clone();
        let session = self.session.clone();
        let now = Timestamp::now();
        let Ok((accounts, holds, competing)) = self
            .app
            .broker
            .read(move |engine| {
                let state = engine.state();
                let (holds, competing) = state.brokerage_status(&session, now);
                (topics::accounts(state, &session, &identity), holds, competing)
            })
            .await
        else {
            return false;
        };
        self.brokerage = holds;
        for message in [
            topics::status(&username, holds, competing),
            topics::greeting(&username, paper),
            accounts,
            topics::heartbeat(Timestamp::now()),
        ] {
            if !send(socket, &message).await {
                return false;
            }
        }
        true
    }

    async fn run(&mut self, socket: &mut WebSocket) {
        let mut updates = self.app.event_hub.subscribe();
        let mut heartbeat = interval_of(HEARTBEAT);
        let mut ticks = self.app.market_hub.subscribe();
        let mut dropped = self.app.drop_websockets.subscribe();
        let mut account = interval_of(ACCOUNT);
        let mut ledger = interval_of(LEDGER);
        heartbeat.tick().await;
        loop {
            let open = tokio::select! {
                frame = socket.recv() => match frame {
                    Some(Ok(Message::Text(text))) => self.answer(socket, &text).await,
                    Some(Err(error)) => {
                        if let Some(close) = unreadable(error) {
                            let _ = socket.send(Message::Close(Some(close))).await;
                        }
                        return;
                    }
                    Some(Ok(Message::Close(_))) | None => false,
                    Some(Ok(_)) => true,
                },
                _ = heartbeat.tick() => send(socket, &topics::heartbeat(Timestamp::now())).await,
                tick = ticks.recv(), if self.wants_market() => match tick {
                    Ok(tick) => self.push_tick(socket, &tick).await,
                    // Market data is coalesced: a connection behind takes the next tick.
                    Err(RecvError::Lagged(_)) => true,
                    Err(RecvError::Closed) => false,
                },
                _ = account.tick(), if self.wants_account() => self.push_account(socket).await,
                _ = ledger.tick(), if !self.subscriptions.ledgers.is_empty() => self.push_ledgers(socket).await,
                _ = dropped.recv() => false,
                update = updates.recv() => match update {
                    Ok(update) => self.push_update(socket, &update).await,
                    Err(RecvError::Lagged(missed)) => {
                        tracing::warn!(session = %self.session.id, missed, "closing a websocket that stopped reading");
                        false
                    }
                    Err(RecvError::Closed) => false,
                },
            };
            if !open {
                let _ = socket.send(Message::Close(None)).await;
                return;
            }
        }
    }

    fn wants_market(&self) -> bool {
        !self.subscriptions.market.is_empty() || self.subscriptions.depth.is_some()
    }

    fn wants_account(&self) -> bool {
        self.subscriptions.pnl.is_some() || !self.subscriptions.summaries.is_empty()
    }

    /// Ends every subscription, and its registrations with the market hub.
    fn unsubscribe_all(&mut self) {
        let subscriptions = std::mem::take(&mut self.subscriptions);
        let depth = subscriptions.depth.map(|(_, conid, _)| conid);
        for conid in subscriptions.market.into_keys().chain(depth) {
            self.app.market_hub.release(conid);
        }
    }

    /// Acts on one client frame; false when the connection should close.
    async fn answer(&mut self, socket: &mut WebSocket, text: &str) -> bool {
        let request = match parse(text) {
            Ok(request) => request,
            Err(error) => return send(socket, &json!({"topic": "error", "error": error.0})).await,
        };
        if !self.brokerage && request.subscribes() {
            let refusal = json!({"topic": "error", "error": "not authenticated: another session holds the brokerage session"});
            return send(socket, &refusal).await;
        }
        let subscriptions = &mut self.subscriptions;
        match request {
            ClientRequest::Tic => {
                send(socket, &topics::tic(self.session.id.as_str(), Timestamp::now())).await
            }
            ClientRequest::Echo => {
                send(socket, &json!({"topic": "ech", "hb": Timestamp::now().as_millisecond()})).await
            }
            ClientRequest::Session(_) => true,
            ClientRequest::MarketData { conid, fields } => {
                if market::Catalogue::standard().get(conid).is_none() {
                    return send(socket, &json!({"topic": format!("smd+{conid}"), "error": format!("conid {conid} is not listed")})).await;
                }
                // A resubscription registers anew, and sends every field again.
                if subscriptions.market.contains_key(&conid) {
                    self.app.market_hub.release(conid);
                }
                let stream = subscriptions.market.entry(conid).or_default();
                stream.ask(&fields);
                stream.sent.clear();
                self.app.market_hub.register(conid, &stream.fields);
                self.push_market_now(socket, conid).await
            }
            ClientRequest::StopMarketData { conid } => {
                if subscriptions.market.remove(&conid).is_some() {
                    self.app.market_hub.release(conid);
                }
                true
            }
            ClientRequest::Orders { filters } => {
                subscriptions.orders = Some(filters);
                true
            }
            ClientRequest::StopOrders => {
                subscriptions.orders = None;
                true
            }
            ClientRequest::Trades { realtime_only, days } => {
                subscriptions.trades = true;
                self.push_recent_trades(socket, realtime_only, days).await
            }
            ClientRequest::StopTrades => {
                subscriptions.trades = false;
                true
            }
            ClientRequest::Pnl => {
                subscriptions.pnl = Some(Value::Null);
                self.push_account(socket).await
            }
            ClientRequest::StopPnl => {
                subscriptions.pnl = None;
                true
            }
            ClientRequest::Summary { account } => match self.own(&account) {
                Some(id) => {
                    self.subscriptions.summaries.insert(id, None);
                    self.push_account(socket).await
                }
                None => {
                    send(
                        socket,
                        &json!({"topic": format!("ssd+{account}"), "error": "account not available"}),
                    )
                    .await
                }
            },
            ClientRequest::StopSummary { account } => {
                if let Ok(id) = account.parse::<AccountId>() {
                    subscriptions.summaries.remove(&id);
                }
                send(socket, &json!({"result": "unsubscribed from summary"})).await
            }
            ClientRequest::Ledger { account } => match self.own(&account) {
                Some(id) => {
                    self.subscriptions.ledgers.insert(id, BTreeMap::new());
                    self.push_ledgers(socket).await
                }
                None => {
                    send(
                        socket,
                        &json!({"topic": format!("sld+{account}"), "error": "account not available"}),
                    )
                    .await
                }
            },
            ClientRequest::StopLedger { account } => {
                if let Ok(id) = account.parse::<AccountId>() {
                    subscriptions.ledgers.remove(&id);
                }
                send(socket, &json!({"result": "unsubscribed from ledger"})).await
            }
            ClientRequest::History { conid, params } => self.push_history(socket, conid, &params).await,
            // History answers once and holds nothing afterwards: there is nothing to release.
            ClientRequest::StopHistory { server_id } => {
                send(socket, &json!({"message": format!("Unsubscribed {server_id}")})).await
            }
            ClientRequest::Depth { account, conid } => match self.own(&account) {
                Some(id) if market::Catalogue::standard().get(conid).is_some() => {
                    if let Some((_, before, _)) = self.subscriptions.depth.replace((id, conid, None)) {
                        self.app.market_hub.release(before);
                    }
                    // The ladder follows the hub's ticks of its conid.
                    self.app.market_hub.register(conid, &BTreeSet::new());
                    let tick = MarketTick { updated: 0, values: BTreeMap::from([(conid, BTreeMap::new())]) };
                    self.push_tick(socket, &tick).await
                }
                _ => {
                    let topic = format!("sbd+{account}+{conid}");
                    send(socket, &json!({"topic": topic, "error": "account or conid not available"})).await
                }
            },
            ClientRequest::StopDepth => {
                if let Some((_, conid, _)) = subscriptions.depth.take() {
                    self.app.market_hub.release(conid);
                }
                true
            }
        }
    }

    /// The account `raw` names, if the session may see it.
    fn own(&self, raw: &str) -> Option<AccountId> {
        raw.parse().ok().filter(|id| self.accounts.contains(id))
    }
}
