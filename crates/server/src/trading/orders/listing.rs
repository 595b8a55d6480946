//! Reading orders and executions: live orders, one order's status, and trades.

use std::collections::{BTreeMap, BTreeSet};

use axum::Json;
use axum::extract::State;
use jiff::{SignedDuration, Timestamp};
use model::{AccountId, Conid, Decimal};
use serde::Serialize;
use utoipa::ToSchema;

use super::account_session;
use super::views::{LiveOrder, OrderStatusView, Trade, filter_word, is_sessions};
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{AccountSegment, OrderIdSegment, PathParams, QueryParams, lenient_bool_text};
use crate::state::AppState;

/// `iserver/account/orders`' answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct LiveOrders {
    orders: Vec<LiveOrder>,
    /// False while the list is not primed yet: call again.
    snapshot: bool,
}

/// The values of every `key` in a query, comma-separated or repeated.
fn values<'a>(query: &'a [(String, String)], key: &'a str) -> impl Iterator<Item = String> + 'a {
    query
        .iter()
        .filter(move |(name, _)| name == key)
        .flat_map(|(_, value)| value.split(','))
        .map(|value| value.trim().to_ascii_lowercase())
        .filter(|value| !value.is_empty())
}

/// The account a request's `accountId` names, once the user may use it, or `None` for all of
/// the user's. Any other account is refused as one named in a path is.
async fn account_asked(
    app: &AppState,
    caller: Caller,
    query: &[(String, String)],
) -> Result<Option<AccountId>, ApiError> {
    let Some((_, raw)) = query.iter().find(|(name, _)| name == "accountId") else {
        return Ok(None);
    };
    let (_, account) = account_session(app, caller, &AccountSegment::of(raw)).await?;
    Ok(Some(account))
}

/// The session's orders: working ones, and those filled or cancelled since it began. The
/// first call of a session (and any with `force=true`) answers an empty list with
/// `snapshot: false`, as IBKR's does while it primes the list; clients call again.
#[utoipa::path(
    get,
    path = "/iserver/account/orders",
    operation_id = "getLiveOrders",
    tag = "Orders",
    params(
        ("filters" = Option<String>, Query, description = "Statuses, comma-separated: inactive, pre_submitted, submitted, filled, cancelled, ..."),
        ("force" = Option<bool>, Query, description = "Clear the list: answers an empty one"),
        ("accountId" = Option<String>, Query, description = "One of the user's accounts"),
    ),
    responses(
        (status = 200, description = "The orders", body = LiveOrders),
        (status = 400, description = "An account the user may not use", body = ErrorBody),
        crate::docs::NotLoggedIn,
    )
)]
pub async fn live_orders(
    State(app): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<Vec<(String, String)>>,
) -> Result<Json<LiveOrders>, ApiError> {
    let filters: BTreeSet<String> = values(&query, "filters").filter(|word| word != "sort_by_time").collect();
    let force = values(&query, "force").any(|value| lenient_bool_text(&value) == Some(true));
    let asked = account_asked(&app, caller, &query).await?;
    let session = caller.read(&app, |_, session| session.id.clone()).await?;
    let primed = app.desk.prime_live_orders(&session);
    if force || !primed {
        return Ok(Json(LiveOrders { orders: Vec::new(), snapshot: false }));
    }
    let orders = caller
        .read(&app, move |state, session| {
            let mut orders: Vec<_> = state
                .entitled_accounts(session)
                .filter(|account| asked.as_ref().is_none_or(|asked| &account.id == asked))
                .flat_map(|account| state.orders(&account.id))
                .filter(|order| is_sessions(order, session.market_opened_at))
                .filter(|order| filters.is_empty() || filters.contains(filter_word(order.status)))
                .collect();
            orders.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then(b.id.cmp(&a.id)));
            orders.into_iter().filter_map(LiveOrder::of).collect()
        })
        .await?;
    Ok(Json(LiveOrders { orders, snapshot: true }))
}

/// One order in full. An order the caller's accounts do not hold answers 503, as IBKR's does.
#[utoipa::path(
    get,
    path = "/iserver/account/order/status/{orderId}",
    operation_id = "getOrderStatus",
    tag = "Orders",
    params(("orderId" = u64, Path, description = "The order")),
    responses(
        (status = 200, description = "The order", body = OrderStatusView),
        (status = 400, description = "Not an order id", body = ErrorBody),
        (status = 503, description = "No such order", body = ErrorBody),
    )
)]
pub async fn order_status(
    State(app): State<AppState>,
    caller: Caller,
    PathParams(OrderIdSegment(id)): PathParams<OrderIdSegment>,
) -> Result<Json<OrderStatusView>, ApiError> {
    caller
        .read(&app, move |state, session| {
            state
                .order(id)
                .filter(|order| state.is_entitled(&session.user, &order.account))
                .and_then(OrderStatusView::of)
        })
        .await?
        .map(Json)
        .ok_or_else(|| {
            ApiError::new(axum::http::StatusCode::SERVICE_UNAVAILABLE, format!("OrderID {id} doesn't exist"))
        })
}

/// The most days of trades IBKR lists.
const MAX_DAYS: i64 = 7;

/// Executions of the last `days` days (one by default, at most seven), newest first.
#[utoipa::path(
    get,
    path = "/iserver/account/trades",
    operation_id = "getTrades",
    tag = "Orders",
    params(
        ("days" = Option<String>, Query, description = "Days back, 1 to 7"),
        ("accountId" = Option<String>, Query, description = "One of the user's accounts"),
    ),
    responses(
        (status = 200, description = "The executions", body = Vec<Trade>),
        (status = 400, description = "An invalid number of days, or an account the user may not use", body = ErrorBody),
    )
)]
pub async fn trades(
    State(app): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<Vec<(String, String)>>,
) -> Result<Json<Vec<Trade>>, ApiError> {
    let days = match values(&query, "days").next() {
        None => 1,
        Some(raw) => {
            raw.parse::<i64>().ok().filter(|days| (1..=MAX_DAYS).contains(days)).ok_or_else(|| {
                ApiError::bad_request(format!("Bad Request: days must be 1 to 7, not {raw:?}"))
            })?
        }
    };
    let asked = account_asked(&app, caller, &query).await?;
    let wall = Timestamp::now();
    let trades = caller
        .read(&app, move |state, session| {
            let since = state
                .market_time(wall)
                .saturating_sub(SignedDuration::from_hours(24 * days))
                .unwrap_or_default();
            let mut trades = Vec::new();
            for account in state
                .entitled_accounts(session)
                .filter(|account| asked.as_ref().is_none_or(|asked| &account.id == asked))
            {
                let mut held: BTreeMap<Conid, Decimal> = BTreeMap::new();
                for execution in state.executions(&account.id) {
                    let position = held.entry(execution.conid).or_default();
                    *position += execution.side.sign() * execution.quantity;
                    if execution.at >= since {
                        trades.extend(
                            Trade::of(state, execution, *position).map(|trade| (execution.at, trade)),
                        );
                    }
                }
            }
            trades.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
            trades.into_iter().map(|(_, trade)| trade).collect()
        })
        .await?;
    Ok(Json(trades))
}
