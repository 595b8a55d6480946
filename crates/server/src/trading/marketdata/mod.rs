//! Market data: `iserver/marketdata/snapshot`, `…/history`, `…/unsubscribe`, `…/unsubscribeall`,
//! `hmds/history`, `md/snapshot`, `md/regsnapshot` and `iserver/exchangerate` (IBKR's "Trading
//! Market Data" tag). Every value comes from the simulated market at the clock's present.

pub mod fields;
pub mod history;
pub mod streams;

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use jiff::Timestamp;
use market::catalogue::Profile;
use model::{Conid, Currency, Instrument};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use self::fields::Context;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, QueryParams};
use crate::market::MarketNow;
use crate::state::AppState;
use crate::wire::nearest_float;

/// The most conids one snapshot may ask for.
const MAX_SNAPSHOT_CONIDS: usize = 100;

/// Parses and looks up a conid, answering 400 for one the market does not list.
fn listed(app: &AppState, raw: &str) -> Result<(&'static Instrument, &'static Profile), ApiError> {
    let conid: Conid = raw
        .trim()
        .parse()
        .map_err(|_| ApiError::bad_request(format!("Bad Request: invalid conid {raw:?}")))?;
    let instrument = app
        .catalogue
        .get(conid)
        .ok_or_else(|| ApiError::bad_request(format!("Bad Request: conid {conid} not found")))?;
    let profile = app
        .catalogue
        .profile(conid)
        .ok_or_else(|| ApiError::bad_request(format!("Bad Request: conid {conid} not found")))?;
    Ok((instrument, profile))
}

/// A snapshot entry: the conid (an integer), `conidEx`, when it was updated, the server id and
/// availability codes, and every requested field as a string keyed by its code.
fn entry(
    instrument: &Instrument,
    updated: Timestamp,
    fields: Option<(&BTreeSet<String>, &Context<'_>)>,
) -> Value {
    let mut item = Map::new();
    item.insert("conid".into(), json!(instrument.conid.get()));
    item.insert("conidEx".into(), json!(instrument.conid.to_string()));
    let Some((codes, context)) = fields else {
        return Value::Object(item);
    };
    item.insert("_updated".into(), json!(updated.as_millisecond()));
    item.insert("server_id".into(), json!("q0"));
    item.insert("6119".into(), json!("q0"));
    item.insert("6509".into(), json!(fields::availability(&context.quote)));
    for code in codes {
        if let Some(value) = context.value(code) {
            item.insert(code.clone(), json!(value));
        }
    }
    Value::Object(item)
}

/// `snapshot`'s query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SnapshotQuery {
    /// Comma-separated conids.
    conids: Option<String>,
    /// Comma-separated field codes (see `docs/market-data.md`).
    fields: Option<String>,
}

/// Top-of-book snapshots. As at IBKR, the first request for a conid in a session opens its
/// stream and answers only `conid` and `conidEx`; later requests answer every field asked so far.
#[utoipa::path(
    get,
    path = "/iserver/marketdata/snapshot",
    operation_id = "getMdSnapshot",
    tag = "Market data",
    params(SnapshotQuery),
    responses(
        (status = 200, description = "One entry per conid", body = Vec<Object>),
        (status = 400, description = "Missing or unknown conids, or more than 100", body = ErrorBody),
        crate::docs::NotLoggedIn,
    )
)]
pub async fn snapshot(
    State(app): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<SnapshotQuery>,
) -> Result<Json<Vec<Value>>, ApiError> {
    let raw = query.conids.unwrap_or_default();
    let asked: Vec<&str> = raw.split(',').filter(|s| !s.trim().is_empty()).collect();
    snapshots(app, caller, asked, query.fields).await.map(Json)
}

/// Top-of-book snapshots through IBKR's older endpoint, as its last published description has
/// it (Client Portal Web API 1.0): the same conids and fields as `iserver/marketdata/snapshot`,
/// the same streams, so the first request for a conid opens its stream. A conid may carry an
/// exchange and an instrument type (`265598@SMART:CS`); LocalBroker's conids each trade in
/// one place, so those are read past.
#[utoipa::path(
    get,
    path = "/md/snapshot",
    operation_id = "getLegacyMdSnapshot",
    tag = "Market data",
    params(SnapshotQuery),
    responses(
        (status = 200, description = "One entry per conid", body = Vec<Object>),
        (status = 400, description = "Missing or unknown conids, or more than 100", body = ErrorBody),
        crate::docs::NotLoggedIn,
    )
)]
pub async fn legacy_snapshot(
    State(app): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<SnapshotQuery>,
) -> Result<Json<Vec<Value>>, ApiError> {
    let raw = query.conids.unwrap_or_default();
    let asked: Vec<&str> = raw
        .split(',')
        .map(|conid| conid.split_once('@').map_or(conid, |(conid, _)| conid))
        .filter(|s| !s.trim().is_empty())
        .collect();
    snapshots(app, caller, asked, query.fields).await.map(Json)
}

/// The snapshots of the conids `asked` with the field codes `fields`.
async fn snapshots(
    app: AppState,
    caller: Caller,
    asked: Vec<&str>,
    fields: Option<String>,
) -> Result<Vec<Value>, ApiError> {
    if asked.is_empty() {
        return Err(ApiError::bad_request("Bad Request: conids is required"));
    }
    if asked.len() > MAX_SNAPSHOT_CONIDS {
        return Err(ApiError::bad_request(format!(
            "Bad Request: at most {MAX_SNAPSHOT_CONIDS} conids per snapshot, {} asked",
            asked.len()
        )));
    }
    let mut seen = BTreeSet::new();
    let instruments: Vec<_> = asked
        .into_iter()
        .map(|conid| listed(&app, conid))
        .filter(|found| found.as_ref().map_or(true, |(i, _)| seen.insert(i.conid)))
        .collect::<Result<_, _>>()?;
    // Only codes LocalBroker serves are remembered for the stream.
    let codes: Vec<String> = fields
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|f| fields::SUPPORTED.contains(f))
        .map(str::to_owned)
        .collect();
    let session = caller.read(&app, |_, session| session.id.clone()).await?;
    let market = MarketNow::read(&app, instruments.iter().map(|(i, _)| i.conid).collect()).await?;
    // Streams open only once the market could be read: a failed request uses up no pre-flight.
    let asked: Vec<_> = instruments
        .into_iter()
        .map(|(instrument, profile)| {
            (instrument, profile, app.streams.request(&session, instrument.conid, &codes))
        })
        .collect();
    // Each quote recomputes its day from the minutes: off the async workers.
    tokio::task::spawn_blocking(move || {
        asked
            .into_iter()
            .map(|(instrument, profile, codes)| match codes {
                None => entry(instrument, market.now, None),
                Some(codes) => {
                    entry(instrument, market.now, Some((&codes, &Context::now(&market, instrument, profile))))
                }
            })
            .collect()
    })
    .await
    .map_err(|_| ApiError::unavailable())
}

/// `unsubscribe`'s body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UnsubscribeRequest {
    /// The conid whose stream to close.
    #[schema(value_type = u32)]
    conid: Option<Value>,
}

/// `unsubscribe`'s answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Unsubscribed {
    success: bool,
}

/// Closes one market-data stream. A conid with no open stream answers 404 `unknown`.
#[utoipa::path(
    post,
    path = "/iserver/marketdata/unsubscribe",
    operation_id = "unsubscribeMarketData",
    tag = "Market data",
    request_body = UnsubscribeRequest,
    responses(
        (status = 200, description = "The stream is closed", body = Unsubscribed),
        (status = 404, description = "No stream was open for the conid", body = ErrorBody),
    )
)]
pub async fn unsubscribe(
    State(app): State<AppState>,
    caller: Caller,
    JsonBody(request): JsonBody<UnsubscribeRequest>,
) -> Result<Json<Unsubscribed>, ApiError> {
    let conid: Conid = match request.conid {
        Some(Value::Number(n)) => n.to_string().parse().ok(),
        Some(Value::String(s)) => s.parse().ok(),
        _ => None,
    }
    .ok_or_else(|| ApiError::bad_request("Bad Request: conid must be a positive integer"))?;
    let session = caller.read(&app, |_, session| session.id.clone()).await?;
    if app.streams.close(&session, conid) {
        Ok(Json(Unsubscribed { success: true }))
    } else {
        // IBKR's text; reported as 500 in IBKR's notes (`reference/endpoints.md` §0.3), but
        // clients expect 404 here and ibind ignores it (`reference/clients.md` §2.3), and a
        // client's mistake is no server error.
        Err(ApiError::new(StatusCode::NOT_FOUND, "unknown"))
    }
}

/// `unsubscribeall`'s answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnsubscribedAll {
    unsubscribed: bool,
}

/// Closes every market-data stream of the session.
#[utoipa::path(
    get,
    path = "/iserver/marketdata/unsubscribeall",
    operation_id = "unsubscribeAllMarketData",
    tag = "Market data",
    responses((status = 200, description = "Every stream is closed", body = UnsubscribedAll))
)]
pub async fn unsubscribe_all(
    State(app): State<AppState>,
    caller: Caller,
) -> Result<Json<UnsubscribedAll>, ApiError> {
    let session = caller.read(&app, |_, session| session.id.clone()).await?;
    app.streams.close_all(&session);
    Ok(Json(UnsubscribedAll { unsubscribed: true }))
}

/// `regsnapshot`'s query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RegulatorySnapshotQuery {
    /// The conid.
    conid: Option<String>,
}

/// A regulatory snapshot: one conid's quote and last trade, at once (no pre-flight).
#[utoipa::path(
    get,
    path = "/md/regsnapshot",
    operation_id = "getRegulatorySnapshot",
    tag = "Market data",
    params(RegulatorySnapshotQuery),
    responses(
        (status = 200, description = "The snapshot", body = Object),
        (status = 400, description = "Missing or unknown conid", body = ErrorBody),
    )
)]
pub async fn regulatory_snapshot(
    State(app): State<AppState>,
    QueryParams(query): QueryParams<RegulatorySnapshotQuery>,
) -> Result<Json<Value>, ApiError> {
    let (instrument, profile) = listed(&app, &query.conid.unwrap_or_default())?;
    let market = MarketNow::read(&app, vec![instrument.conid]).await?;
    let context = Context::now(&market, instrument, profile);
    let codes: BTreeSet<String> =
        ["31", "84", "85", "86", "88", "7059", "6509"].into_iter().map(String::from).collect();
    Ok(Json(entry(instrument, market.now, Some((&codes, &context)))))
}

/// `exchangerate`'s query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExchangeRateQuery {
    /// The currency converted from.
    source: Option<String>,
    /// The currency converted to.
    target: Option<String>,
}

/// `exchangerate`'s answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExchangeRate {
    /// Units of `target` per unit of `source`.
    rate: f64,
}

fn currency(raw: Option<String>, name: &str) -> Result<Currency, ApiError> {
    let raw = raw.unwrap_or_default();
    raw.trim()
        .to_ascii_uppercase()
        .parse()
        .map_err(|_| ApiError::bad_request(format!("Bad Request: invalid {name} currency {raw:?}")))
}

/// The exchange rate between two currencies at the market's mid: from the pair that joins them,
/// or across the dollar.
#[utoipa::path(
    get,
    path = "/iserver/exchangerate",
    operation_id = "getExchangeRates",
    tag = "Market data",
    params(ExchangeRateQuery),
    responses(
        (status = 200, description = "The rate", body = ExchangeRate),
        (status = 400, description = "Unknown currencies, or no pair joins them", body = ErrorBody),
    )
)]
pub async fn exchange_rate(
    State(app): State<AppState>,
    QueryParams(query): QueryParams<ExchangeRateQuery>,
) -> Result<Json<ExchangeRate>, ApiError> {
    let source = currency(query.source, "source")?;
    let target = currency(query.target, "target")?;
    let wall = Timestamp::now();
    let found = app
        .broker
        .read(move |engine| {
            let state = engine.state();
            state.exchange_rate(source, target, state.market_time(wall))
        })
        .await?;
    let rate = found
        .ok_or_else(|| ApiError::bad_request(format!("Bad Request: no rate from {source} to {target}")))?;
    Ok(Json(ExchangeRate { rate: nearest_float(rate) }))
}

/// The routes of IBKR's "Trading Market Data" tag.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(snapshot))
        .routes(routes!(legacy_snapshot))
        .routes(routes!(history::market_history))
        .routes(routes!(history::hmds_history))
        .routes(routes!(unsubscribe))
        .routes(routes!(unsubscribe_all))
        .routes(routes!(regulatory_snapshot))
        .routes(routes!(exchange_rate))
}
