//! Order and execution updates, built once per applied command for every connection.
//!
//! The hub follows the broker's event stream; for each command that touched orders or
//! executions it reads their views once and encodes, per account, the `sor` and `str` messages
//! every connection of that account sends as they are. Connections that filter orders by status
//! build their own from the shared views.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::ws::Utf8Bytes;
use engine::Event;
use model::{AccountId, SessionId};
use serde_json::{Value, json};
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;

use super::topics::{Touched, order_views, trade_views};
use crate::broker::Broker;

/// What one applied command changed for the websockets.
#[derive(Debug, Default)]
pub struct Update {
    /// Sessions it ended.
    pub ended: Vec<SessionId>,
    /// Sessions whose brokerage session another session of the same user took.
    pub competing: Vec<SessionId>,
    /// Sessions that took their user's brokerage session.
    pub brokerage: Vec<SessionId>,
    /// The views of the orders it touched, with their status, by account.
    pub orders: BTreeMap<AccountId, Vec<(String, Value)>>,
    /// Each account's `sor` message, encoded once.
    pub orders_message: BTreeMap<AccountId, Utf8Bytes>,
    /// Each account's `str` message, encoded once.
    pub trades_message: BTreeMap<AccountId, Utf8Bytes>,
    /// The hub fell behind the engine and lost updates: order and trade streams must end.
    pub gap: bool,
}

/// How many updates a connection may fall behind before it has stopped reading.
const BEHIND: usize = 16_384;

/// The hub; one per server.
#[derive(Debug)]
pub struct EventHub {
    updates: broadcast::Sender<Arc<Update>>,
}

impl Default for EventHub {
    fn default() -> Self {
        Self { updates: broadcast::channel(BEHIND).0 }
    }
}

fn encoded(topic: &str, args: &[Value]) -> Utf8Bytes {
    Utf8Bytes::from(json!({"topic": topic, "args": args}).to_string())
}

impl EventHub {
    /// The updates from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Update>> {
        self.updates.subscribe()
    }

    /// Follows the broker's events until it stops.
    pub async fn run(self: Arc<Self>, broker: Broker) {
        let mut events = broker.subscribe();
        loop {
            let update = match events.recv().await {
                Ok(applied) => match build(&broker, &applied).await {
                    Some(update) => update,
                    None => continue,
                },
                Err(RecvError::Lagged(missed)) => {
                    tracing::error!(
                        missed,
                        "the websocket hub fell behind the engine; order streams restart"
                    );
                    Update { gap: true, ..Update::default() }
                }
                Err(RecvError::Closed) => return,
            };
            // No connection listening is no error.
            let _ = self.updates.send(Arc::new(update));
        }
    }
}

/// The update of one applied command, if it changed anything a websocket shows.
async fn build(broker: &Broker, applied: &[Event]) -> Option<Update> {
    let ended: Vec<SessionId> = applied
        .iter()
        .filter_map(|event| match event {
            Event::SessionClosed { session } => Some(session.clone()),
            _ => None,
        })
        .collect();
    let taken: Vec<(&SessionId, &Option<SessionId>)> = applied
        .iter()
        .filter_map(|event| match event {
            Event::BrokerageTaken { session, from } => Some((session, from)),
            _ => None,
        })
        .collect();
    let brokerage: Vec<SessionId> = taken.iter().map(|(session, _)| (*session).clone()).collect();
    let competing: Vec<SessionId> = taken.iter().filter_map(|(_, from)| (*from).clone()).collect();
    let touched = Touched::of(applied);
    if ended.is_empty() && brokerage.is_empty() && touched.orders.is_empty() && touched.executions.is_empty()
    {
        return None;
    }
    let (orders, trades) = broker
        .read(move |engine| {
            let state = engine.state();
            (
                order_views(state, touched.orders.iter().copied()),
                trade_views(state, touched.executions.iter().copied()),
            )
        })
        .await
        .ok()?;
    let orders_message = orders.iter().map(|(account, views)| {
        let args: Vec<Value> = views.iter().map(|(_, view)| view.clone()).collect();
        (account.clone(), encoded("sor", &args))
    });
    let trades_message = trades.iter().map(|(account, views)| (account.clone(), encoded("str", views)));
    Some(Update {
        ended,
        competing,
        brokerage,
        orders_message: orders_message.collect(),
        trades_message: trades_message.collect(),
        orders,
        gap: false,
    })
}
