//! IBKR's Flex Web Service: `SendRequest` files a statement request for a Flex token and query,
//! `GetStatement` fetches it by its reference code. Both answer XML: IBKR's
//! `FlexStatementResponse` envelope (exactly `Status`, `ReferenceCode`, `Url` on success;
//! `Status`, `ErrorCode`, `ErrorMessage` on failure, with IBKR's error codes), or the
//! statement itself. Both the current paths (`/AccountManagement/FlexWebService/…`) and the
//! legacy ones (`/Universal/servlet/FlexStatementService.…`) are served.
//!
//! A statement is written on its first fetch, a part at a time, into a file that this and
//! every later fetch stream: however many trades it holds, the memory it takes does not grow
//! with them, and the engine serves others between its parts.

mod output;
pub mod statement;
pub mod written;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use engine::flex::{FlexError, FlexQuery, FlexRequest, Format, token_hash};
use engine::{Command, EngineError, Executed, Reply};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::Deserialize;
use tempfile::NamedTempFile;
use tokio::io::AsyncWriteExt;
use tokio_util::io::ReaderStream;

use crate::broker::BrokerError;
use crate::flex::statement::Generation;
use crate::flex::written::WrittenStatement;
use crate::html::escape;
use crate::state::AppState;

/// The query string of both operations.
#[derive(Debug, Deserialize)]
pub struct FlexParams {
    /// The Flex token.
    t: Option<String>,
    /// The query id (`SendRequest`) or the reference code (`GetStatement`).
    q: Option<String>,
    /// The first day, `yyyyMMdd`, overriding the query's period.
    fd: Option<String>,
    /// The last day, `yyyyMMdd`.
    td: Option<String>,
}

/// An answer of the Flex Web Service: an envelope or a statement.
fn answer(body: impl Into<Body>, format: Format) -> Response {
    let content_type = match format {
        Format::Xml => "text/xml; charset=utf-8",
        Format::Csv => "text/csv; charset=utf-8",
    };
    let mut response = (StatusCode::OK, body.into()).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// 503: the broker cannot serve the request.
fn unavailable() -> Response {
    (StatusCode::SERVICE_UNAVAILABLE, "the broker is stopping").into_response()
}

/// IBKR's envelope timestamp: `28 August, 2012 10:37 AM EDT`, New York time, as ibflex insists.
fn timestamp(at: Timestamp) -> String {
    let zoned = at.to_zoned_datetime(market::calendar::new_york());
    let zone = if zoned.offset().seconds() == -4 * 3600 { "EDT" } else { "EST" };
    format!("{} {zone}", zoned.strftime("%d %B, %Y %I:%M %p"))
}

/// The failure envelope of `error`. Envelopes have no XML declaration: ibkr-flex-client tells
/// one from a statement by its first tag.
fn failure(error: FlexError, at: Timestamp) -> Response {
    answer(
        format!(
            "<FlexStatementResponse timestamp=\"{}\">\n<Status>Fail</Status>\n<ErrorCode>{}</ErrorCode>\n<ErrorMessage>{}</ErrorMessage>\n</FlexStatementResponse>\n",
            timestamp(at),
            error.code(),
            escape(error.message()),
        ),
        Format::Xml,
    )
}

/// Where this server answers `GetStatement`, as the request reached it.
fn statement_url(app: &AppState, headers: &HeaderMap) -> String {
    let host = headers.get(header::HOST).and_then(|host| host.to_str().ok()).unwrap_or("127.0.0.1");
    let scheme = if app.https { "https" } else { "http" };
    format!("{scheme}://{host}/AccountManagement/FlexWebService/GetStatement")
}

fn flex_date(text: &str) -> Option<Date> {
    Date::strptime("%Y%m%d", text).ok()
}

/// Market time now.
async fn market_now(app: &AppState) -> Option<Timestamp> {
    let wall = Timestamp::now();
    app.broker.read(move |engine| engine.state().market_time(wall)).await.ok()
}

/// The failure envelope of a request that cannot be read, as of market time now.
async fn unreadable(app: &AppState, error: FlexError) -> Response {
    failure(error, market_now(app).await.unwrap_or_else(Timestamp::now))
}

/// `SendRequest`: files the statement request and answers its reference code and where to
/// fetch it.
pub async fn send_request(
    State(app): State<AppState>,
    headers: HeaderMap,
    params: Result<Query<FlexParams>, QueryRejection>,
) -> Response {
    let Ok(Query(params)) = params else { return unreadable(&app, FlexError::InvalidRequest).await };
    let (Some(token), Some(query)) = (params.t.as_deref(), params.q.as_deref()) else {
        return unreadable(&app, FlexError::InvalidRequest).await;
    };
    let Ok(query) = query.trim().parse::<u64>() else {
        return unreadable(&app, FlexError::QueryInvalid).await;
    };
    let dates = match (params.fd.as_deref(), params.td.as_deref()) {
        (None, None) => None,
        (Some(from), Some(to)) => match flex_date(from).zip(flex_date(to)) {
            Some(dates) => Some(dates),
            None => return unreadable(&app, FlexError::InvalidRequest).await,
        },
        (Some(day), None) | (None, Some(day)) => match flex_date(day) {
            Some(date) => Some((date, date)),
            None => return unreadable(&app, FlexError::InvalidRequest).await,
        },
    };
    let (from, to) = (dates.map(|(from, _)| from), dates.map(|(_, to)| to));
    let hash = token_hash(token.trim());
    // Refusals are read, not journaled: only a request that will be filed reaches the journal.
    let wall = Timestamp::now();
    let checked = hash.clone();
    let known = app
        .broker
        .read(move |engine| {
            let state = engine.state();
            (state.market_time(wall), state.flex().query_of(&checked, query, wall).map(drop))
        })
        .await;
    let now = match known {
        Ok((now, Ok(()))) => now,
        Ok((now, Err(error))) => return failure(error, now),
        Err(_) => return unavailable(),
    };
    if app.pacing.admit_flex(&hash).is_err() {
        return failure(FlexError::TooManyRequests, now);
    }
    let command = Command::RequestFlexStatement { token_hash: hash, query, from, to };
    let reference = match app.broker.execute(command).await {
        Ok(Executed { reply: Reply::FlexRequested(reference), .. }) => Some(reference),
        Ok(_) => None,
        Err(BrokerError::Rejected(EngineError::Flex(error))) => return failure(error, now),
        Err(_) => None,
    };
    let Some(reference) = reference else { return unavailable() };
    answer(
        format!(
            "<FlexStatementResponse timestamp=\"{}\">\n<Status>Success</Status>\n<ReferenceCode>{reference}</ReferenceCode>\n<Url>{}</Url>\n</FlexStatementResponse>\n",
            timestamp(now),
            escape(&statement_url(&app, &headers)),
        ),
        Format::Xml,
    )
}

/// `GetStatement`: the statement, once generated.
pub async fn get_statement(
    State(app): State<AppState>,
    params: Result<Query<FlexParams>, QueryRejection>,
) -> Response {
    let Ok(Query(params)) = params else { return unreadable(&app, FlexError::InvalidRequest).await };
    let (Some(token), Some(reference)) = (params.t, params.q) else {
        return unreadable(&app, FlexError::InvalidRequest).await;
    };
    let hash = token_hash(token.trim());
    let reference = reference.trim().to_owned();
    let wall = Timestamp::now();
    let asked = reference.clone();
    let ready = app
        .broker
        .read(move |engine| {
            let state = engine.state();
            let flex = state.flex();
            let ready = flex.ready(&hash, &asked, wall).and_then(|request| {
                let query = flex.queries.get(&request.query).ok_or(FlexError::QueryInvalid)?;
                Ok((query.clone(), request.clone()))
            });
            // Unknown, or expired for its own token: no fetch will be served again.
            let gone = flex.requests.get(&asked).is_none_or(|request| request.token_hash == hash);
            (state.market_time(wall), ready, gone)
        })
        .await;
    let (now, query, request) = match ready {
        Ok((now, Ok((query, request)), _)) => (now, query, request),
        Ok((now, Err(error), gone)) => {
            if error == FlexError::ReferenceInvalid && gone {
                app.flex_statements.forget(&reference);
            }
            return failure(error, now);
        }
        Err(_) => return unavailable(),
    };
    // The statement is written by a task of its own, so that a client leaving does not waste
    // the work: the next fetch finds it written, or waits for it.
    let slot = app.flex_statements.slot(&request);
    let writer = tokio::spawn({
        let (app, slot) = (app.clone(), Arc::clone(&slot));
        async move {
            let written = slot.get_or_try_init(|| write_statement(&app, query, request, wall)).await.cloned();
            app.flex_statements.evict_excess(&slot);
            written
        }
    });
    match writer.await {
        Ok(Ok(statement)) => match stream(&statement).await {
            Ok(response) => response,
            Err(error) => {
                if error.kind() == std::io::ErrorKind::NotFound {
                    app.flex_statements.forget_slot(&slot);
                }
                failure(FlexError::NotRetrievable, now)
            }
        },
        Ok(Err(Some(error))) => failure(error, now),
        Ok(Err(None)) | Err(_) => unavailable(),
    }
}

/// Writes the statement `request` asks of `query` into a file: read from the engine as it
/// stands at wall time `wall`, then written a part per engine read, each part's bytes written
/// to the file here, off the engine's thread. `Err(None)` when the broker stops meanwhile.
async fn write_statement(
    app: &AppState,
    query: FlexQuery,
    request: FlexRequest,
    wall: Timestamp,
) -> Result<Arc<WrittenStatement>, Option<FlexError>> {
    let unwritable = |_| Some(FlexError::NotRetrievable);
    let format = query.format;
    let directory = app.flex_statements.directory().to_owned();
    let created = tokio::task::spawn_blocking(move || {
        std::fs::create_dir_all(&directory)?;
        NamedTempFile::new_in(directory)
    })
    .await;
    let (file, path) = created.map_err(|_| None)?.map_err(unwritable)?.into_parts();
    let mut file = tokio::fs::File::from_std(file);
    let mut generation = app
        .broker
        .read(move |engine| {
            let state = engine.state();
            Generation::start(state, query, &request, state.market_time(wall))
        })
        .await
        .map_err(|_| None)?;
    loop {
        let (returned, advanced) = app
            .broker
            .read(move |engine| {
                let advanced = match generation.advance(engine.state()) {
                    Ok(whole) => generation.take().map(|bytes| (bytes, whole)),
                    Err(error) => Err(error),
                };
                (generation, advanced)
            })
            .await
            .map_err(|_| None)?;
        generation = returned;
        let (bytes, whole) = advanced.map_err(unwritable)?;
        file.write_all(&bytes).await.map_err(unwritable)?;
        if whole {
            break;
        }
    }
    file.flush().await.map_err(unwritable)?;
    let length = file.metadata().await.map_err(unwritable)?.len();
    let written = Arc::new(WrittenStatement { path, format, length });
    Ok(written)
}

/// A response streaming a written statement from its file.
async fn stream(statement: &WrittenStatement) -> std::io::Result<Response> {
    let file = tokio::fs::File::open(&statement.path).await?;
    let mut response = answer(Body::from_stream(ReaderStream::new(file)), statement.format);
    response.headers_mut().insert(header::CONTENT_LENGTH, HeaderValue::from(statement.length));
    Ok(response)
}

/// A new Flex token: 24 random digits, as IBKR's are.
pub fn new_token() -> String {
    let digits = uuid::Uuid::new_v4().as_u128() % 10u128.pow(24);
    format!("{digits:024}")
}

/// The Flex Web Service's routes, current and legacy.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/AccountManagement/FlexWebService/SendRequest", get(send_request))
        .route("/AccountManagement/FlexWebService/GetStatement", get(get_statement))
        .route("/Universal/servlet/FlexStatementService.SendRequest", get(send_request))
        .route("/Universal/servlet/FlexStatementService.GetStatement", get(get_statement))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_new_york_time_as_ibflex_parses_them() {
        let summer: Timestamp = "2012-08-28T14:37:00Z".parse().unwrap();
        assert_eq!(timestamp(summer), "28 August, 2012 10:37 AM EDT");
        let winter: Timestamp = "2026-01-05T20:05:00Z".parse().unwrap();
        assert_eq!(timestamp(winter), "05 January, 2026 03:05 PM EST");
    }
}
