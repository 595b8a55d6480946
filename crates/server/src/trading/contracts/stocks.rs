//! `trsrv/stocks`: stocks by symbol.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::sec_type;
use crate::error::{ApiError, ErrorBody};
use crate::extract::QueryParams;
use crate::state::AppState;

/// `trsrv/stocks`' query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StocksQuery {
    /// Comma-separated symbols, such as `AAPL,MSFT`.
    symbols: Option<String>,
}

/// One stock and its listings.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StockEntry {
    name: String,
    /// The name in Chinese, HTML-escaped as IBKR sends it; the catalogue has none, and IBKR
    /// types it a string.
    chinese_name: String,
    asset_class: String,
    contracts: Vec<StockContract>,
}

/// One listing of a stock.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StockContract {
    conid: u32,
    exchange: String,
    #[serde(rename = "isUS")]
    is_us: bool,
}

/// Stocks by symbol. Each listed US stock has exactly one instrument with one US contract, which
/// is what ibind's `stock_conid_by_symbol` requires; symbols not listed are left out, as IBKR
/// does.
#[utoipa::path(
    get,
    path = "/trsrv/stocks",
    operation_id = "getStockBySymbol",
    tag = "Contracts",
    params(StocksQuery),
    responses(
        (status = 200, description = "Stocks keyed by the requested symbol", body = BTreeMap<String, Vec<StockEntry>>),
        (status = 400, description = "No symbols given", body = ErrorBody),
    )
)]
pub async fn stocks(
    State(app): State<AppState>,
    QueryParams(query): QueryParams<StocksQuery>,
) -> Result<Json<BTreeMap<String, Vec<StockEntry>>>, ApiError> {
    let symbols = query.symbols.unwrap_or_default();
    let requested: Vec<&str> = symbols.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
    if requested.is_empty() {
        return Err(ApiError::bad_request("Bad Request: symbols is required"));
    }
    let found = requested
        .into_iter()
        .filter_map(|symbol| {
            let stock = app.catalogue.stock(symbol)?;
            let entry = StockEntry {
                name: stock.name.clone(),
                chinese_name: String::new(),
                asset_class: sec_type(stock).into(),
                contracts: vec![StockContract {
                    conid: stock.conid.get(),
                    exchange: stock.listing_exchange.clone(),
                    is_us: super::country_code(stock) == "US",
                }],
            };
            Some((symbol.to_ascii_uppercase(), vec![entry]))
        })
        .collect();
    Ok(Json(found))
}
