//! The simulated market: overrides of an instrument's price, volatility and trading, and
//! corporate actions (dividends and splits).

use axum::Json;
use axum::extract::State;
use engine::Command;
use engine::corporate_actions::CorporateAction;
use engine::market::MarketChange;
use model::{Conid, Decimal};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, PathParams};
use crate::market::MarketNow;
use crate::state::AppState;

/// Changes to one instrument's simulated market; any of the three, applied in this order.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarketChangeRequest {
    /// Jump the price here, then move on from it.
    #[schema(value_type = Option<f64>)]
    price: Option<Decimal>,
    /// Annual volatility from now on, as a fraction (0.3 for 30%).
    #[schema(value_type = Option<f64>)]
    volatility: Option<Decimal>,
    /// Halt (`true`) or resume (`false`) trading.
    halt: Option<bool>,
}

/// An instrument's market after a change.
#[derive(Debug, Serialize, ToSchema)]
pub struct MarketState {
    conid: u32,
    #[schema(value_type = String)]
    last: Decimal,
    #[schema(value_type = String)]
    bid: Decimal,
    #[schema(value_type = String)]
    ask: Decimal,
    halted: bool,
}

/// Changes an instrument's simulated market at the current market time. The changes are
/// journaled together, so they survive a restart.
#[utoipa::path(
    post,
    path = "/_localbroker/market/{conid}",
    operation_id = "changeMarket",
    tag = "Control plane",
    params(("conid" = u32, Path, description = "The instrument")),
    request_body = MarketChangeRequest,
    responses(
        (status = 200, description = "The market after the change", body = MarketState),
        (status = 400, description = "An unknown conid, no change, or an invalid one", body = ErrorBody),
    )
)]
pub async fn change_market(
    State(app): State<AppState>,
    PathParams(raw): PathParams<String>,
    JsonBody(request): JsonBody<MarketChangeRequest>,
) -> Result<Json<MarketState>, ApiError> {
    let conid: Conid = raw.parse().map_err(|_| ApiError::bad_request(format!("invalid conid {raw:?}")))?;
    let (instrument, profile) = app
        .catalogue
        .get(conid)
        .zip(app.catalogue.profile(conid))
        .ok_or_else(|| ApiError::bad_request(format!("conid {conid} is not listed")))?;
    let changes = [
        request.price.map(MarketChange::Price),
        request.volatility.map(MarketChange::Volatility),
        request.halt.map(MarketChange::Halt),
    ];
    let changes: Vec<MarketChange> = changes.into_iter().flatten().collect();
    if changes.is_empty() {
        return Err(ApiError::bad_request("give at least one of price, volatility and halt"));
    }
    app.broker.execute(Command::ChangeMarket { conid, changes }).await?;
    let quote = MarketNow::read(&app, vec![conid]).await?.quote(instrument, profile);
    Ok(Json(MarketState {
        conid: conid.get(),
        last: quote.last,
        bid: quote.bid,
        ask: quote.ask,
        halted: quote.halted,
    }))
}

/// A dividend or a split of US shares.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "camelCase", deny_unknown_fields)]
pub enum CorporateActionRequest {
    /// A cash dividend: holders when the ex-date begins (midnight, New York) are owed `amount`
    /// per share, paid into cash when the pay date begins.
    #[serde(rename_all = "camelCase")]
    Dividend {
        conid: u32,
        #[schema(value_type = f64, example = 0.26)]
        amount: Decimal,
        #[schema(value_type = String, example = "2026-03-09")]
        ex_date: jiff::civil::Date,
        #[schema(value_type = String, example = "2026-03-12")]
        pay_date: jiff::civil::Date,
    },
    /// A split: `from` old shares become `to` new ones (`to` 2, `from` 1 for 2-for-1), at once
    /// or, with `on`, when that New York day begins.
    Split {
        conid: u32,
        to: u32,
        from: u32,
        #[schema(value_type = Option<String>, example = "2026-06-01")]
        on: Option<jiff::civil::Date>,
    },
}

/// What an announcement did.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Announced {
    /// `dividend` or `split`.
    kind: String,
    conid: u32,
}

/// Announces a dividend or a split. A dividend's ex-date (a split's day) must not have begun; a
/// split without a day happens at once; it cancels working orders on the shares and divides the
/// price.
#[utoipa::path(
    post,
    path = "/_localbroker/corporate-actions",
    operation_id = "announceCorporateAction",
    tag = "Control plane",
    request_body = CorporateActionRequest,
    responses(
        (status = 200, description = "Announced", body = Announced),
        (status = 400, description = "Not a listed share, a date passed, or an amount or ratio out of bounds", body = ErrorBody),
    )
)]
pub async fn announce_corporate_action(
    State(app): State<AppState>,
    JsonBody(request): JsonBody<CorporateActionRequest>,
) -> Result<Json<Announced>, ApiError> {
    let (kind, action) = match request {
        CorporateActionRequest::Dividend { conid, amount, ex_date, pay_date } => {
            ("dividend", CorporateAction::Dividend { conid: Conid::new(conid), amount, ex_date, pay_date })
        }
        CorporateActionRequest::Split { conid, to, from, on } => {
            ("split", CorporateAction::Split { conid: Conid::new(conid), to, from, on })
        }
    };
    let conid = match &action {
        CorporateAction::Dividend { conid, .. } | CorporateAction::Split { conid, .. } => conid.get(),
    };
    app.broker.execute(Command::AnnounceCorporateAction { action }).await?;
    Ok(Json(Announced { kind: kind.into(), conid }))
}
