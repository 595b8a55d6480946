//! `iserver/currency/pairs`: the currency pairs a currency trades in.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use model::AssetClass;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ErrorBody};
use crate::extract::QueryParams;
use crate::state::AppState;

/// `iserver/currency/pairs`' query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PairsQuery {
    /// A currency code, such as `USD`.
    currency: Option<String>,
}

/// A currency pair that includes the requested currency.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CurrencyPair {
    symbol: String,
    conid: u32,
    /// The pair's other currency.
    ccy_pair: String,
}

/// The pairs in which a currency is bought or sold, keyed by that currency.
#[utoipa::path(
    get,
    path = "/iserver/currency/pairs",
    operation_id = "getCurrencyPairs",
    tag = "Contracts",
    params(PairsQuery),
    responses(
        (status = 200, description = "Pairs keyed by the requested currency", body = BTreeMap<String, Vec<CurrencyPair>>),
        (status = 400, description = "Missing or malformed currency", body = ErrorBody),
    )
)]
pub async fn currency_pairs(
    State(app): State<AppState>,
    QueryParams(query): QueryParams<PairsQuery>,
) -> Result<Json<BTreeMap<String, Vec<CurrencyPair>>>, ApiError> {
    let raw = query.currency.unwrap_or_default();
    let currency: model::Currency = raw
        .trim()
        .to_ascii_uppercase()
        .parse()
        .map_err(|_| ApiError::bad_request(format!("Bad Request: invalid currency {raw:?}")))?;
    let pairs = app
        .catalogue
        .iter()
        .filter(|i| i.asset_class == AssetClass::Forex)
        .filter_map(|pair| {
            let base: model::Currency = pair.symbol.parse().ok()?;
            let other = if base == currency {
                pair.currency
            } else if pair.currency == currency {
                base
            } else {
                return None;
            };
            Some(CurrencyPair {
                symbol: pair.local_symbol(),
                conid: pair.conid.get(),
                ccy_pair: other.to_string(),
            })
        })
        .collect();
    Ok(Json(BTreeMap::from([(currency.to_string(), pairs)])))
}
