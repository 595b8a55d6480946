//! `trsrv/secdef`: security definitions by conid.

use axum::Json;
use axum::extract::State;
use model::{Conid, Instrument, ShareKind};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{IncrementRule, increment_rules, parse_conid, sec_type};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, QueryParams};
use crate::state::AppState;

/// IBKR's limit on conids per `trsrv/secdef` request.
const MAX_SECDEF_CONIDS: usize = 200;

/// `trsrv/secdef`'s query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SecdefQuery {
    /// Comma-separated conids, at most 200.
    conids: Option<String>,
}

/// How prices are displayed.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DisplayRule {
    magnification: u32,
    display_rule_step: Vec<DisplayRuleStep>,
}

impl DisplayRule {
    /// One band for every price: the instrument's decimals, as IBKR shows shares and coins.
    pub(crate) fn of(instrument: &model::Instrument) -> Self {
        Self {
            magnification: 0,
            display_rule_step: vec![DisplayRuleStep {
                decimal_digits: instrument.price_decimals(),
                lower_edge: model::Decimal::ZERO,
                whole_digits: 4,
            }],
        }
    }
}

/// One band of the display rule.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DisplayRuleStep {
    decimal_digits: u32,
    #[serde(with = "rust_decimal::serde::float")]
    #[schema(value_type = f64)]
    lower_edge: model::Decimal,
    whole_digits: u32,
}

/// A security definition (an item of IBKR's `trsrvSecDefResponse`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecurityDefinition {
    conid: u32,
    currency: String,
    name: String,
    ticker: String,
    asset_class: String,
    listing_exchange: String,
    all_exchanges: String,
    country_code: String,
    expiry: Option<String>,
    last_trading_day: Option<String>,
    put_or_call: Option<String>,
    /// A string on IBKR's wire.
    strike: String,
    multiplier: f64,
    und_conid: u32,
    #[serde(rename = "type")]
    kind: Option<String>,
    group: Option<String>,
    sector: Option<String>,
    sector_group: Option<String>,
    has_options: bool,
    full_name: String,
    #[serde(rename = "isUS")]
    is_us: bool,
    is_event_contract: bool,
    increment_rules: Vec<IncrementRule>,
    display_rule: DisplayRule,
    time: u32,
    chinese_name: Option<String>,
}

impl SecurityDefinition {
    fn of(instrument: &Instrument) -> Self {
        let kind = instrument.share_kind.map(|kind| match kind {
            ShareKind::Common => "COMMON".to_owned(),
            ShareKind::Etf => "ETF".to_owned(),
        });
        Self {
            conid: instrument.conid.get(),
            currency: instrument.currency.to_string(),
            name: instrument.name.clone(),
            ticker: instrument.local_symbol(),
            asset_class: sec_type(instrument).into(),
            listing_exchange: instrument.listing_exchange.clone(),
            all_exchanges: instrument
                .exchanges
                .iter()
                .filter(|e| *e != "SMART")
                .cloned()
                .collect::<Vec<_>>()
                .join(","),
            country_code: super::country_code(instrument).into(),
            expiry: None,
            last_trading_day: None,
            put_or_call: None,
            strike: "0".into(),
            multiplier: 0.0,
            und_conid: 0,
            kind,
            group: instrument.category.clone(),
            sector: instrument.industry.clone(),
            sector_group: instrument.category.clone(),
            has_options: false,
            full_name: instrument.local_symbol(),
            is_us: super::country_code(instrument) == "US",
            is_event_contract: false,
            increment_rules: increment_rules(instrument),
            display_rule: DisplayRule::of(instrument),
            time: 0,
            chinese_name: None,
        }
    }
}

/// `trsrv/secdef`'s answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct SecdefResponse {
    secdef: Vec<SecurityDefinition>,
}

/// Security definitions by conid; conids the market does not list are left out.
#[utoipa::path(
    get,
    path = "/trsrv/secdef",
    operation_id = "getInstrumentDefinition",
    tag = "Contracts",
    params(SecdefQuery),
    responses(
        (status = 200, description = "The definitions", body = SecdefResponse),
        (status = 400, description = "Missing, malformed or too many conids", body = ErrorBody),
    )
)]
pub async fn security_definitions(
    State(app): State<AppState>,
    QueryParams(query): QueryParams<SecdefQuery>,
) -> Result<Json<SecdefResponse>, ApiError> {
    let raw = query.conids.unwrap_or_default();
    let conids = raw
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(parse_conid)
        .collect::<Result<Vec<_>, _>>()?;
    definitions(&app, conids)
}

/// `POST trsrv/secdef`'s body, as IBKR's earlier documentation specified it.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SecdefBody {
    /// Up to 200 conids, as numbers or as text.
    #[serde(default)]
    #[schema(value_type = Vec<u32>)]
    conids: Vec<ConidText>,
}

/// A conid written as a JSON number or as text.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum ConidText {
    Number(u64),
    Text(String),
}

impl ConidText {
    fn conid(&self) -> Result<Conid, ApiError> {
        match self {
            Self::Number(number) => parse_conid(&number.to_string()),
            Self::Text(text) => parse_conid(text.trim()),
        }
    }
}

/// Security definitions by conid, the conids posted in a body: the form IBKR's earlier
/// documentation gave this operation, which clients written against it still send.
#[utoipa::path(
    post,
    path = "/trsrv/secdef",
    operation_id = "postInstrumentDefinition",
    tag = "Contracts",
    request_body = SecdefBody,
    responses(
        (status = 200, description = "The definitions", body = SecdefResponse),
        (status = 400, description = "Missing, malformed or too many conids", body = ErrorBody),
    )
)]
pub async fn posted_security_definitions(
    State(app): State<AppState>,
    JsonBody(body): JsonBody<SecdefBody>,
) -> Result<Json<SecdefResponse>, ApiError> {
    let conids = body.conids.iter().map(ConidText::conid).collect::<Result<Vec<_>, _>>()?;
    definitions(&app, conids)
}

/// The definitions of `conids` the market lists, in order.
fn definitions(app: &AppState, conids: Vec<Conid>) -> Result<Json<SecdefResponse>, ApiError> {
    if conids.is_empty() {
        return Err(ApiError::bad_request("Bad Request: conids is required"));
    }
    if conids.len() > MAX_SECDEF_CONIDS {
        return Err(ApiError::bad_request(format!(
            "Bad Request: at most {MAX_SECDEF_CONIDS} conids per request, got {}",
            conids.len()
        )));
    }
    let secdef =
        conids.into_iter().filter_map(|conid| app.catalogue.get(conid)).map(SecurityDefinition::of).collect();
    Ok(Json(SecdefResponse { secdef }))
}
