//! Reports (`/gw/api/v1/statements…`, `/gw/api/v1/trade-confirmations…`): activity statements
//! and trade confirmations of an account the client manages, generated from the ledger for a
//! New York date range, as JSON or as an HTML page.
//!
//! Dates are `YYYYMMDD` (or `YYYY-MM-DD`); IBKR's precision rule applies, so `YYYYMM` names a
//! month and `YYYY` a year: a start date is the period's first day, an end date its last.

pub mod render;

use std::io::Write as _;

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use engine::statement::{Statement, Trade};
use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};
use market::calendar::new_york_date;
use model::AccountId;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use self::render::{StatementJson, TradeLine, statement_html, table};
use crate::gateway::problem::Problem;
use crate::gateway::{Authorized, ConfirmationsWrite, StatementsRead, StatementsWrite};
use crate::gateway::{BodyForm, GatewayClient, TextBody, from_payload};
use crate::html::escape;
use crate::state::AppState;

/// A report request (IBKR's `StmtRequest` and `TradeConfirmationRequest`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReportRequest {
    account_id: String,
    #[serde(default)]
    account_ids: Vec<String>,
    start_date: String,
    end_date: String,
    mime_type: Option<String>,
    #[serde(default)]
    gzip: bool,
}

/// A generated report (IBKR's `GetStatementsResponse` and `TradeConfirmationResponse`).
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportResponse {
    data: ReportData,
}

/// The report itself.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReportData {
    /// `ACTIVITY_STATEMENT` or `TRADE_CONFIRMATION`.
    data_type: String,
    /// `json` when `value` is the JSON text itself, `base64` otherwise.
    encoding: String,
    /// The report.
    value: String,
    /// `application/json` or `text/html`.
    mime_type: String,
    /// Whether `value` is gzip-compressed (then base64-encoded).
    gzip: bool,
}

/// How a report is rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Html,
}

impl Format {
    fn of(mime_type: Option<&str>) -> Result<Self, Problem> {
        match mime_type.map(str::trim) {
            None | Some("" | "application/json") => Ok(Self::Json),
            Some("text/html") => Ok(Self::Html),
            Some(other) => Err(Problem::field(
                "mimeType",
                format!("LocalBroker renders application/json and text/html, not {other}"),
            )),
        }
    }

    fn mime_type(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::Html => "text/html",
        }
    }
}

/// Where a date of the given precision starts (`first`) or ends.
fn day(text: &str, field: &str, first: bool) -> Result<Date, Problem> {
    let invalid = || Problem::field(field, format!("{text} is not a date of YYYYMMDD, YYYYMM or YYYY form"));
    let digits: String = text.chars().filter(|c| *c != '-').collect();
    if !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(invalid());
    }
    let number = |range: std::ops::Range<usize>| digits[range].parse::<i16>().map_err(|_| invalid());
    let (start, last) = match digits.len() {
        8 => {
            let date =
                Date::new(number(0..4)?, number(4..6)? as i8, number(6..8)? as i8).map_err(|_| invalid())?;
            (date, date)
        }
        6 => {
            let date = Date::new(number(0..4)?, number(4..6)? as i8, 1).map_err(|_| invalid())?;
            (date, date.last_of_month())
        }
        4 => {
            let date = Date::new(number(0..4)?, 1, 1).map_err(|_| invalid())?;
            (date, date.last_of_year())
        }
        _ => return Err(invalid()),
    };
    Ok(if first { start } else { last })
}

/// The New York midnight that starts `date`.
fn midnight(date: Date) -> Result<Timestamp, Problem> {
    market::calendar::new_york_midnight(date)
        .ok_or_else(|| Problem::field("startDate", format!("{date} is out of range")))
}

/// The request's account (one the client manages) and period `[from, to)`.
fn period(client: &GatewayClient, request: &ReportRequest) -> Result<(AccountId, Date, Date), Problem> {
    if request.account_ids.iter().any(|other| other != &request.account_id) {
        return Err(Problem::field(
            "accountIds",
            "LocalBroker reports one account at a time: name it as accountId",
        ));
    }
    let account = client.managed(&request.account_id)?;
    let start = day(&request.start_date, "startDate", true)?;
    let end = day(&request.end_date, "endDate", false)?;
    if end < start {
        return Err(Problem::field("endDate", "is before startDate"));
    }
    Ok((account, start, end))
}

/// An account's statement of a period and its trades, listed whole: the reports a client asks
/// for here are of periods it chooses and answered in one JSON value.
struct Activity {
    statement: Statement,
    trades: Vec<Trade>,
    /// The world's seed, which names executions.
    seed: u64,
}

/// Reads the account's statement for the request.
async fn statement(app: &AppState, account: AccountId, start: Date, end: Date) -> Result<Activity, Problem> {
    let from = midnight(start)?;
    let to = midnight(end.checked_add(1.day()).map_err(|_| Problem::field("endDate", "is out of range"))?)?;
    let missing = account.clone();
    app.broker
        .read(move |engine| {
            let state = engine.state();
            let now = state.market_time(Timestamp::now());
            let statement = state.statement(&account, from, to, now)?;
            let trades = state.trades(&account, from, to).collect();
            Some(Activity { statement, trades, seed: state.seed() })
        })
        .await
        .map_err(|_| Problem::unavailable())?
        .ok_or_else(|| Problem::not_found(format!("account {missing} is not open yet: it has no statement")))
}

fn encode(data_type: &str, format: Format, body: String, gzip: bool) -> Result<ReportResponse, Problem> {
    let (encoding, value) = if gzip {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(body.as_bytes()).map_err(|_| Problem::unavailable())?;
        let bytes = encoder.finish().map_err(|_| Problem::unavailable())?;
        ("base64", STANDARD.encode(bytes))
    } else if format == Format::Json {
        ("json", body)
    } else {
        ("base64", STANDARD.encode(body))
    };
    Ok(ReportResponse {
        data: ReportData {
            data_type: data_type.into(),
            encoding: encoding.into(),
            value,
            mime_type: format.mime_type().into(),
            gzip,
        },
    })
}

/// A report request, read and checked, and the statement it draws on.
struct Report {
    request: ReportRequest,
    format: Format,
    activity: Activity,
    start: Date,
    end: Date,
}

/// Reads the report request of `operation` and the statement of its account and period.
async fn report(
    app: &AppState,
    client: &GatewayClient,
    headers: &HeaderMap,
    body: &str,
    operation: &str,
) -> Result<Report, Problem> {
    let (payload, signed) = client.payload(operation, headers, body, BodyForm::SignedOrJson)?;
    let request: ReportRequest = from_payload(payload)?;
    let format = Format::of(request.mime_type.as_deref())?;
    let (account, start, end) = period(client, &request)?;
    let activity = statement(app, account, start, end).await?;
    crate::gateway::spend(app, signed).await?;
    Ok(Report { request, format, activity, start, end })
}

const STATEMENTS: &str = "POST /gw/api/v1/statements";
const CONFIRMATIONS: &str = "POST /gw/api/v1/trade-confirmations";

/// An activity statement of an account the client manages for a date range: cash by currency
/// (starting, deposits, withdrawals, transfers, trades, commissions, dividends, interest,
/// ending), the trades, the transfers and the open positions.
#[utoipa::path(
    post,
    path = "/gw/api/v1/statements",
    operation_id = "generateStatement",
    tag = "Account Management Reports",
    request_body(content = Object, description = "IBKR's StmtRequest, as JSON or as the claims of a JWT signed by the client (application/jwt)"),
    responses(
        (status = 200, description = "The statement", body = ReportResponse),
        (status = 400, description = "The body does not follow IBKR's schema, or names dates or a format LocalBroker does not take", body = Problem, content_type = "application/problem+json"),
        crate::docs::NoAccessToken,
        (status = 403, description = "The token lacks statements.read, statements.write or reports.write, or the client does not manage the account", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The account is not open yet", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn statements(
    State(app): State<AppState>,
    client: Authorized<StatementsWrite>,
    headers: HeaderMap,
    TextBody(body): TextBody,
) -> Result<Json<ReportResponse>, Problem> {
    let Report { request, format, activity, start, end } =
        report(&app, &client, &headers, &body, STATEMENTS).await?;
    let body = match format {
        Format::Json => json_text(&StatementJson::of(&activity, start, end))?,
        Format::Html => statement_html(&activity, start, end),
    };
    Ok(Json(encode("ACTIVITY_STATEMENT", format, body, request.gzip)?))
}

/// The trade confirmations of an account the client manages for a date range: one per
/// execution.
#[utoipa::path(
    post,
    path = "/gw/api/v1/trade-confirmations",
    operation_id = "generateTradeConfirmations",
    tag = "Account Management Reports",
    request_body(content = Object, description = "IBKR's TradeConfirmationRequest, as JSON or as the claims of a JWT signed by the client (application/jwt)"),
    responses(
        (status = 200, description = "The confirmations", body = ReportResponse),
        (status = 400, description = "The body does not follow IBKR's schema, or names dates or a format LocalBroker does not take", body = Problem, content_type = "application/problem+json"),
        crate::docs::NoAccessToken,
        (status = 403, description = "The token lacks statements.write or reports.write, or the client does not manage the account", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The account is not open yet", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn trade_confirmations(
    State(app): State<AppState>,
    client: Authorized<ConfirmationsWrite>,
    headers: HeaderMap,
    TextBody(body): TextBody,
) -> Result<Json<ReportResponse>, Problem> {
    let Report { request, format, activity, start, end } =
        report(&app, &client, &headers, &body, CONFIRMATIONS).await?;
    let Activity { statement, trades, seed } = &activity;
    let body = match format {
        Format::Json => json_text(&TradeConfirmations {
            account_id: statement.account.clone(),
            start_date: start,
            end_date: end,
            trade_confirmations: trades.iter().map(|trade| TradeLine::of(*seed, trade)).collect(),
        })?,
        Format::Html => {
            let rows = trades
                .iter()
                .map(|trade| {
                    let line = TradeLine::of(*seed, trade);
                    vec![
                        line.date_time,
                        line.execution_id,
                        line.symbol,
                        line.side.to_owned(),
                        number(line.quantity),
                        number(line.trade_price),
                        number(line.proceeds),
                        number(line.commission),
                        line.currency.to_string(),
                    ]
                })
                .collect();
            format!(
                "<!doctype html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>Trade Confirmations</title></head>\n<body>\n<h1>Trade Confirmations</h1>\n<p>Account {} — {start} to {end}</p>\n{}</body>\n</html>\n",
                escape(&statement.account.to_string()),
                table(
                    "Executions",
                    &[
                        "Date/time",
                        "Execution",
                        "Symbol",
                        "Side",
                        "Quantity",
                        "Price",
                        "Proceeds",
                        "Commission",
                        "Currency"
                    ],
                    rows
                ),
            )
        }
    };
    Ok(Json(encode("TRADE_CONFIRMATION", format, body, request.gzip)?))
}

/// The account whose available reports are asked for.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct AvailableQuery {
    /// An account the client manages.
    account_id: String,
}

/// The dates reports are available for (IBKR's `AvailableStatementDatesData` and its trade
/// confirmation twin).
#[derive(Debug, Serialize, ToSchema)]
pub struct AvailableResponse {
    #[schema(value_type = Object)]
    data: AvailableDates,
}

/// Which reports the dates are of, and the dates.
#[derive(Debug, Serialize)]
#[serde(tag = "dataType", content = "value", rename_all = "SCREAMING_SNAKE_CASE")]
enum AvailableDates {
    /// Daily statements over a range, monthly ones by `YYYYMM`, annual ones by year.
    ActivityStatementDates { daily: DateRange, monthly: Vec<String>, annual: Vec<String> },
    /// The days with executions, `YYYYMMDD`.
    TradeConfirmationDates(Vec<String>),
}

/// A range of days, `YYYYMMDD`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct DateRange {
    start_date: String,
    end_date: String,
}

/// A trade confirmations report's JSON.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct TradeConfirmations {
    account_id: AccountId,
    start_date: Date,
    end_date: Date,
    trade_confirmations: Vec<TradeLine>,
}

/// A report's JSON text. Writing it cannot fail (every field is text or a number, and a
/// number that is not finite is written as null), so the error is only declared.
fn json_text(report: &impl Serialize) -> Result<String, Problem> {
    serde_json::to_string(report).map_err(|error| {
        Problem::with_status(axum::http::StatusCode::INTERNAL_SERVER_ERROR, format!("the report: {error}"))
    })
}

/// A figure as its JSON text, for a page showing what the JSON report holds.
fn number(figure: f64) -> String {
    serde_json::Number::from_f64(figure).map_or_else(|| "null".to_owned(), |number| number.to_string())
}

/// The account's opening day, today, and the days it traded on (New York days).
async fn history(
    app: &AppState,
    client: &GatewayClient,
    raw: &str,
) -> Result<(Date, Date, Vec<Date>), Problem> {
    let (opened, today, mut traded) = client
        .read_managed(app, raw, |state, id| {
            let account = state.account(id)?;
            let opened = new_york_date(account.opened_at);
            let today = new_york_date(state.market_time(Timestamp::now()));
            let traded: Vec<Date> = state.executions(id).map(|fill| new_york_date(fill.at)).collect();
            Some((opened, today, traded))
        })
        .await?;
    traded.dedup();
    Ok((opened, today, traded))
}

/// The statement dates of an account the client manages: every day from its opening to today,
/// and the months and years that have ended since.
#[utoipa::path(
    get,
    path = "/gw/api/v1/statements/available",
    operation_id = "getAvailableStatements",
    tag = "Account Management Reports",
    params(AvailableQuery),
    responses(
        (status = 200, description = "The dates statements can be asked for", body = AvailableResponse),
        crate::docs::NoAccessToken,
        (status = 403, description = "The token lacks statements.read or reports.read, or the client does not manage the account", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn available_statements(
    State(app): State<AppState>,
    RawQuery(query): RawQuery,
    client: Authorized<StatementsRead>,
) -> Result<Json<AvailableResponse>, Problem> {
    let query: AvailableQuery = crate::gateway::query(query.as_deref())?;
    let (opened, today, _) = history(&app, &client, &query.account_id).await?;
    let compact = |date: Date| date.strftime("%Y%m%d").to_string();
    let mut monthly = Vec::new();
    let mut month = opened.first_of_month();
    while month.last_of_month() < today {
        monthly.push(month.strftime("%Y%m").to_string());
        month = month.checked_add(1.month()).unwrap_or(today);
    }
    let annual: Vec<String> = (opened.year()..today.year()).map(|year| year.to_string()).collect();
    Ok(Json(AvailableResponse {
        data: AvailableDates::ActivityStatementDates {
            daily: DateRange { start_date: compact(opened), end_date: compact(today) },
            monthly,
            annual,
        },
    }))
}

/// The days an account the client manages has trade confirmations for: those it traded on.
#[utoipa::path(
    get,
    path = "/gw/api/v1/trade-confirmations/available",
    operation_id = "getAvailableTradeConfirmations",
    tag = "Account Management Reports",
    params(AvailableQuery),
    responses(
        (status = 200, description = "The days with executions", body = AvailableResponse),
        crate::docs::NoAccessToken,
        (status = 403, description = "The token lacks statements.read or reports.read, or the client does not manage the account", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn available_trade_confirmations(
    State(app): State<AppState>,
    RawQuery(query): RawQuery,
    client: Authorized<StatementsRead>,
) -> Result<Json<AvailableResponse>, Problem> {
    let query: AvailableQuery = crate::gateway::query(query.as_deref())?;
    let (_, _, traded) = history(&app, &client, &query.account_id).await?;
    let days: Vec<String> = traded.iter().map(|date| date.strftime("%Y%m%d").to_string()).collect();
    Ok(Json(AvailableResponse { data: AvailableDates::TradeConfirmationDates(days) }))
}

/// The routes of Account Management's reports: statements and trade confirmations.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(statements))
        .routes(routes!(available_statements))
        .routes(routes!(trade_confirmations))
        .routes(routes!(available_trade_confirmations))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_precision_of_a_date_picks_its_period() {
        let date = |text: &str, first| day(text, "startDate", first).unwrap().to_string();
        assert_eq!(date("20260302", true), "2026-03-02");
        assert_eq!(date("2026-03-02", false), "2026-03-02");
        assert_eq!((date("202602", true), date("202602", false)), ("2026-02-01".into(), "2026-02-28".into()));
        assert_eq!((date("2025", true), date("2025", false)), ("2025-01-01".into(), "2025-12-31".into()));
        for bad in ["", "2026030", "20261340", "abcd", "2026-3-2"] {
            assert!(day(bad, "startDate", true).is_err(), "{bad}");
        }
    }
}
