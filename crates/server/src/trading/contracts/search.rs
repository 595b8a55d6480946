//! `iserver/secdef/search`, by GET (query) or POST (body).

use axum::Json;
use axum::extract::State;
use model::{AssetClass, Instrument};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::sec_type;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, QueryParams, lenient_bool};
use crate::state::AppState;

/// What to search for.
#[derive(Debug, Deserialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct SearchQuery {
    /// A symbol (or, with `name`, part of a company name). Required.
    symbol: Option<String>,
    /// `STK`, `CASH` or `CRYPTO` narrow the search; `IND` and `BOND` find nothing in
    /// LocalBroker's market.
    sec_type: Option<String>,
    /// Search company names instead of symbols.
    #[serde(default, deserialize_with = "lenient_bool")]
    name: Option<bool>,
}

/// A section of a search result: a security type the symbol trades as.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SearchSection {
    sec_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    exchange: Option<String>,
}

/// One search result (an item of IBKR's `secdefSearchResponse`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SearchResult {
    /// A string here, unlike everywhere else: IBKR's quirk.
    conid: String,
    company_header: String,
    company_name: Option<String>,
    symbol: String,
    description: String,
    restricted: Option<bool>,
    fop: Option<String>,
    opt: Option<String>,
    war: Option<String>,
    sections: Vec<SearchSection>,
}

impl SearchResult {
    fn of(instrument: &Instrument) -> Self {
        // A coin's section names its venue with a trailing `;`, and its symbol is the coin's.
        let (exchange, symbol) = match instrument.asset_class {
            AssetClass::Stock => (None, instrument.local_symbol()),
            AssetClass::Forex => (Some(instrument.listing_exchange.clone()), instrument.local_symbol()),
            AssetClass::Crypto => {
                (Some(format!("{};", instrument.listing_exchange)), instrument.symbol.clone())
            }
        };
        Self {
            conid: instrument.conid.to_string(),
            company_header: format!("{} - {}", instrument.name, instrument.listing_exchange),
            company_name: Some(instrument.name.clone()),
            symbol,
            description: instrument.listing_exchange.clone(),
            restricted: None,
            fop: None,
            opt: None,
            war: None,
            sections: vec![SearchSection { sec_type: sec_type(instrument).into(), exchange }],
        }
    }
}

fn search(app: &AppState, query: SearchQuery) -> Result<Vec<SearchResult>, ApiError> {
    let symbol = query
        .symbol
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| ApiError::bad_request("Bad Request: symbol is required"))?;
    let wanted = match query.sec_type.as_deref().map(str::to_ascii_uppercase).as_deref() {
        None | Some("") => None,
        Some("STK") => Some(Some(AssetClass::Stock)),
        Some("CASH") => Some(Some(AssetClass::Forex)),
        Some("CRYPTO") => Some(Some(AssetClass::Crypto)),
        Some("IND" | "BOND") => Some(None),
        Some(other) => return Err(ApiError::bad_request(format!("Bad Request: invalid secType {other:?}"))),
    };
    let by_name = query.name.unwrap_or(false);
    let needle = symbol.trim().to_ascii_uppercase();
    let candidates: Vec<&Instrument> = app
        .catalogue
        .search(&needle, by_name)
        .into_iter()
        .filter(|i| wanted.is_none_or(|class| class == Some(i.asset_class)))
        .collect();
    let exact = |i: &&Instrument| i.symbol == needle || i.local_symbol() == needle;
    let results = if !by_name && candidates.iter().any(exact) {
        candidates.into_iter().filter(exact).collect::<Vec<_>>()
    } else {
        candidates
    };
    Ok(results.into_iter().map(SearchResult::of).collect())
}

/// Finds contracts by symbol or company name. Exact symbol matches win over prefixes.
#[utoipa::path(
    get,
    path = "/iserver/secdef/search",
    operation_id = "getContractSymbols",
    tag = "Contracts",
    params(SearchQuery),
    responses(
        (status = 200, description = "Matching contracts", body = Vec<SearchResult>),
        (status = 400, description = "No symbol, or an unknown security type", body = ErrorBody),
    )
)]
pub async fn search_get(
    State(app): State<AppState>,
    QueryParams(query): QueryParams<SearchQuery>,
) -> Result<Json<Vec<SearchResult>>, ApiError> {
    Ok(Json(search(&app, query)?))
}

/// The same search, with the parameters in a JSON body.
#[utoipa::path(
    post,
    path = "/iserver/secdef/search",
    operation_id = "getContractSymbolsFromBody",
    tag = "Contracts",
    request_body = SearchQuery,
    responses(
        (status = 200, description = "Matching contracts", body = Vec<SearchResult>),
        (status = 400, description = "No symbol, or an unknown security type", body = ErrorBody),
    )
)]
pub async fn search_post(
    State(app): State<AppState>,
    JsonBody(query): JsonBody<SearchQuery>,
) -> Result<Json<Vec<SearchResult>>, ApiError> {
    Ok(Json(search(&app, query)?))
}
