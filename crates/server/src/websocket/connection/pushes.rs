//! What a connection pushes: history, market data, order and trade updates, the account
//! summary and the ledger, as IBKR's topics carry them.

use std::collections::BTreeMap;

use axum::extract::ws::{Utf8Bytes, WebSocket};
use engine::portfolio::Portfolio;
use jiff::Timestamp;
use model::Conid;
use serde_json::{Value, json};

use super::{Connection, Valued, send, send_text};
use crate::market::MarketNow;
use crate::trading::marketdata::history::history;
use crate::trading::portfolio::customer_type;
use crate::websocket::event_hub::Update;
use crate::websocket::market_hub::{MarketTick, compute};
use crate::websocket::topics;

impl Connection {
    /// Bars once, as `history` answers them, under `smh+<conid>` with their `serverId`.
    pub(super) async fn push_history(
        &self,
        socket: &mut WebSocket,
        conid: Conid,
        params: &serde_json::Map<String, Value>,
    ) -> bool {
        let text = |key: &str| params.get(key).and_then(|v| v.as_str().map(str::to_owned));
        let outside_rth =
            ["outsideRth", "outside_rth"].iter().find_map(|key| params.get(*key)?.as_bool()).unwrap_or(false);
        let answer =
            history(&self.app, Some(conid.to_string()), text("period"), text("bar"), outside_rth, None).await;
        let message = match answer.map(|bars| serde_json::to_value(bars.history())) {
            Ok(Ok(Value::Object(mut bars))) => {
                bars.insert("topic".into(), json!(format!("smh+{conid}")));
                Value::Object(bars)
            }
            Ok(_) => json!({"topic": format!("smh+{conid}"), "error": "the bars could not be encoded"}),
            Err(error) => json!({"topic": format!("smh+{conid}"), "error": error.message()}),
        };
        send(socket, &message).await
    }

    /// The first message of a market-data stream, computed at once for its conid.
    pub(super) async fn push_market_now(&mut self, socket: &mut WebSocket, conid: Conid) -> bool {
        let Some(fields) = self.subscriptions.market.get(&conid).map(|stream| stream.fields.clone()) else {
            return true;
        };
        let Ok(market) = MarketNow::read(&self.app, vec![conid]).await else { return false };
        let wanted = BTreeMap::from([(conid, fields)]);
        let Ok(tick) = tokio::task::spawn_blocking(move || compute(&market, &wanted)).await else {
            return false;
        };
        self.push_tick(socket, &tick).await
    }

    /// What a hub tick changed of the streams, and the ladder.
    pub(super) async fn push_tick(&mut self, socket: &mut WebSocket, tick: &MarketTick) -> bool {
        let mut updates: Vec<Value> = Vec::new();
        for (conid, stream) in &mut self.subscriptions.market {
            let Some(values) = tick.values.get(conid) else { continue };
            updates.extend(topics::market_update(*conid, values, tick.updated, stream));
        }
        if let Some((account, conid, last)) = &mut self.subscriptions.depth
            && tick.values.contains_key(conid)
            && let Ok(market) = MarketNow::read(&self.app, vec![*conid]).await
            && let Some(ladder) = topics::ladder(&market, account, *conid)
            && last.as_ref() != Some(&ladder)
        {
            *last = Some(ladder.clone());
            updates.push(ladder);
        }
        for update in &updates {
            if !send(socket, update).await {
                return false;
            }
        }
        true
    }

    /// What an applied command changed: the session's end, or its accounts' orders and trades,
    /// each message shared by every connection that sends it unchanged.
    pub(super) async fn push_update(&mut self, socket: &mut WebSocket, update: &Update) -> bool {
        // A session that ends (logout, or a new login at the gateway) ends its streams, as
        // IBKR's do.
        if update.ended.contains(&self.session.id) {
            let ended = json!({"topic": "sts", "args": {"authenticated": false, "competing": false, "message": "", "fail": ""}});
            let _ = send(socket, &ended).await;
            return false;
        }
        // Another session of the user took the brokerage session, which ends every stream, or
        // this one took it back.
        if update.competing.contains(&self.session.id) {
            self.brokerage = false;
            self.unsubscribe_all();
            let username = self.session.user.to_string();
            if !send(socket, &topics::status(&username, false, true)).await {
                return false;
            }
        }
        if update.brokerage.contains(&self.session.id) {
            self.brokerage = true;
            let username = self.session.user.to_string();
            if !send(socket, &topics::status(&username, true, false)).await {
                return false;
            }
        }
        let streaming = self.subscriptions.orders.is_some() || self.subscriptions.trades;
        if update.gap && streaming {
            tracing::warn!(session = %self.session.id, "closing a websocket whose order stream has a gap");
            return false;
        }
        if let Some(filters) = &self.subscriptions.orders {
            for account in self.accounts.iter().filter(|account| update.orders.contains_key(*account)) {
                let message = if filters.is_empty() {
                    update.orders_message.get(account).cloned()
                } else {
                    filtered(&update.orders[account], filters)
                };
                if let Some(message) = message
                    && !send_text(socket, message).await
                {
                    return false;
                }
            }
        }
        if self.subscriptions.trades {
            for account in &self.accounts {
                if let Some(message) = update.trades_message.get(account)
                    && !send_text(socket, message.clone()).await
                {
                    return false;
                }
            }
        }
        true
    }

    pub(super) async fn push_recent_trades(
        &mut self,
        socket: &mut WebSocket,
        realtime_only: bool,
        days: u32,
    ) -> bool {
        let session = self.session.clone();
        let accounts = self.accounts.clone();
        let wall = Timestamp::now();
        let built = self
            .app
            .broker
            .read(move |engine| {
                let state = engine.state();
                let now = state.market_time(wall);
                let recent = if realtime_only {
                    Vec::new()
                } else {
                    topics::recent_executions(state, &session, days, now)
                };
                let views = topics::trade_views(state, recent);
                views
                    .into_iter()
                    .filter(|(account, _)| accounts.contains(account))
                    .flat_map(|(_, views)| views)
                    .collect::<Vec<_>>()
            })
            .await;
        // An empty `str` message still tells the client its subscription took.
        match built {
            Ok(args) => send(socket, &json!({"topic": "str", "args": args})).await,
            Err(_) => false,
        }
    }

    /// The portfolios of the session's accounts now, with what their summaries also need.
    pub(super) async fn portfolios(&self) -> Option<Vec<Valued>> {
        let session = self.session.clone();
        let wall = Timestamp::now();
        let read = self.app.broker.read(move |engine| {
            let state = engine.state();
            let at = state.market_time(wall);
            state
                .entitled_accounts(&session)
                .filter_map(|account| {
                    let portfolio = state.portfolio(&account.id, at)?;
                    let day_trades_left = state.day_trades_left(&portfolio);
                    Some(Valued { portfolio, kind: customer_type(account.kind), day_trades_left })
                })
                .collect()
        });
        read.await.ok()
    }

    /// P&L and summaries, sent when they changed.
    pub(super) async fn push_account(&mut self, socket: &mut WebSocket) -> bool {
        let Some(valued) = self.portfolios().await else { return false };
        let portfolios: Vec<Portfolio> = valued.iter().map(|valued| valued.portfolio.clone()).collect();
        if let Some(last) = &self.subscriptions.pnl {
            let message = topics::pnl(&portfolios);
            if &message != last {
                if !send(socket, &message).await {
                    return false;
                }
                self.subscriptions.pnl = Some(message);
            }
        }
        for (account, last) in &mut self.subscriptions.summaries {
            let Some(valued) = valued.iter().find(|v| &v.portfolio.account == account) else { continue };
            let message = topics::summary(&valued.portfolio, valued.day_trades_left, valued.kind);
            let unchanged = last.as_ref().is_some_and(|last| values_equal(last, &message));
            if !unchanged {
                if !send(socket, &message).await {
                    return false;
                }
                *last = Some(message);
            }
        }
        true
    }

    /// Each ledger, a currency that did not change since it was last sent blank (`key` and
    /// `timestamp` only), as IBKR sends it.
    pub(super) async fn push_ledgers(&mut self, socket: &mut WebSocket) -> bool {
        let Some(valued) = self.portfolios().await else { return false };
        for valued in &valued {
            let Some(sent) = self.subscriptions.ledgers.get_mut(&valued.portfolio.account) else { continue };
            let mut message = topics::ledger_update(&valued.portfolio);
            for entry in message["result"].as_array_mut().into_iter().flatten() {
                let Some(map) = entry.as_object_mut() else { continue };
                let key = map.get("key").and_then(Value::as_str).unwrap_or_default().to_owned();
                let timestamp = map.remove("timestamp").unwrap_or_default();
                let values = Value::Object(map.clone());
                if sent.get(&key) == Some(&values) {
                    *entry = json!({"key": key, "timestamp": timestamp});
                } else {
                    sent.insert(key, values);
                    if let Some(map) = entry.as_object_mut() {
                        map.insert("timestamp".into(), timestamp);
                    }
                }
            }
            if !send(socket, &message).await {
                return false;
            }
        }
        true
    }
}

/// Whether two summary messages carry the same values, whatever their timestamps.
fn values_equal(a: &Value, b: &Value) -> bool {
    let strip = |value: &Value| {
        let mut value = value.clone();
        if let Some(entries) = value.get_mut("result").and_then(Value::as_array_mut) {
            for entry in entries {
                if let Some(map) = entry.as_object_mut() {
                    map.remove("timestamp");
                }
            }
        }
        value
    };
    strip(a) == strip(b)
}

/// The `sor` message of the orders in `views` whose status is one of `filters` (any case), if
/// there are any.
fn filtered(views: &[(String, Value)], filters: &[String]) -> Option<Utf8Bytes> {
    let args: Vec<&Value> = views
        .iter()
        .filter(|(status, _)| filters.iter().any(|wanted| wanted.eq_ignore_ascii_case(status)))
        .map(|(_, view)| view)
        .collect();
    (!args.is_empty()).then(|| Utf8Bytes::from(json!({"topic": "sor", "args": args}).to_string()))
}
