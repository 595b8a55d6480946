//! Account Management's enumerations (`/gw/api/v1/enumerations/{enumerationType}`): the lists
//! an application's fields draw from. LocalBroker answers those its own market defines: the
//! trading permissions an application may ask for (`exchange-bundles` and
//! `product-country-bundles`, from the instruments LocalBroker lists). IBKR's other lists
//! (occupations, income ranges, brokers, questionnaires, …) are IBKR's data, which LocalBroker
//! does not model: they answer 501 saying so.

use std::collections::{BTreeMap, BTreeSet};

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use market::Catalogue;
use model::{AssetClass, Instrument};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::extract::PathParams;
use crate::gateway::GatewayClient;
use crate::gateway::problem::Problem;
use crate::state::AppState;

/// IBKR's enumeration types.
const TYPES: [&str; 15] = [
    "exchange-bundles",
    "business-and-occupation",
    "employee-track",
    "fin-info-ranges",
    "acats",
    "aton",
    "market-data",
    "edd-avt",
    "prohibited-country",
    "employee-plans",
    "questionnaires",
    "security-questions",
    "quiz-questions",
    "wire-instructions",
    "product-country-bundles",
];

/// An enumeration (IBKR's `EnumerationResponse`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EnumerationResponse {
    /// The type asked for.
    enumerations_type: String,
    /// The list.
    #[schema(value_type = Vec<Object>)]
    json_data: Vec<Bundle>,
}

/// One entry of an exchange or product-country bundle list.
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum Bundle {
    /// `exchange-bundles`: one exchange of a trading permission.
    #[serde(rename_all = "camelCase")]
    Exchange { exchange_group: String, product: &'static str, country: &'static str },
    /// `product-country-bundles`: a trading permission and its exchanges.
    ProductCountry { product: &'static str, country: &'static str, exchanges: BTreeSet<String> },
}

/// The trading permission `instrument` needs, as IBKR's `TradingPermission` names it: its
/// product and country.
fn permission(instrument: &Instrument) -> (&'static str, &'static str) {
    match (instrument.asset_class, instrument.listing_exchange.as_str()) {
        (AssetClass::Forex, _) => ("FOREX", "ALL"),
        (AssetClass::Crypto, _) => ("CRYPTOCURRENCY", "UNITED STATES"),
        (AssetClass::Stock, market::calendar::XETRA_EXCHANGE) => ("STOCKS", "GERMANY"),
        (AssetClass::Stock, _) => ("STOCKS", "UNITED STATES"),
    }
}

/// Each permission LocalBroker's market has, with the exchanges it opens.
fn bundles() -> BTreeMap<(&'static str, &'static str), BTreeSet<String>> {
    let mut bundles: BTreeMap<(&str, &str), BTreeSet<String>> = BTreeMap::new();
    for instrument in Catalogue::standard().iter() {
        bundles.entry(permission(instrument)).or_default().extend(instrument.exchanges.iter().cloned());
    }
    bundles
}

/// Every exchange group LocalBroker's market trades on, as `exchange-bundles` names them.
pub(crate) fn exchange_groups() -> BTreeSet<String> {
    bundles().into_values().flatten().collect()
}

/// One of IBKR's enumerations.
#[utoipa::path(
    get,
    path = "/gw/api/v1/enumerations/{enumerationType}",
    operation_id = "getEnumeration",
    tag = "Account Management Utilities",
    params(("enumerationType" = String, Path, description = "exchange-bundles or product-country-bundles; IBKR's other types answer 501")),
    responses(
        (status = 200, description = "The list", body = EnumerationResponse),
        (status = 400, description = "Not one of IBKR's enumeration types", body = Problem, content_type = "application/problem+json"),
        crate::docs::NoAccessToken,
        (status = 403, description = "The token lacks accounts.read or enumerations.read", body = Problem, content_type = "application/problem+json"),
        (status = 501, description = "A list of IBKR's data LocalBroker does not model", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn enumeration(
    State(app): State<AppState>,
    headers: HeaderMap,
    PathParams(kind): PathParams<String>,
) -> Result<Json<EnumerationResponse>, Problem> {
    if kind == "complex-asset-transfer" {
        // IBKR's operation of its own, which this route would otherwise take for a type: it
        // answers as every operation LocalBroker has not built does.
        return Err(Problem::not_implemented("not implemented in LocalBroker yet"));
    }
    GatewayClient::authorize(&app, &headers, &["accounts.read", "enumerations.read"]).await?;
    let json_data = match kind.as_str() {
        "exchange-bundles" => bundles()
            .into_iter()
            .flat_map(|((product, country), exchanges)| {
                exchanges.into_iter().map(move |exchange_group| Bundle::Exchange {
                    exchange_group,
                    product,
                    country,
                })
            })
            .collect(),
        "product-country-bundles" => bundles()
            .into_iter()
            .map(|((product, country), exchanges)| Bundle::ProductCountry { product, country, exchanges })
            .collect(),
        other if TYPES.contains(&other) => {
            return Err(Problem::not_implemented(format!(
                "{other} is IBKR's own data, which LocalBroker does not model; it answers exchange-bundles and product-country-bundles"
            )));
        }
        other => {
            return Err(Problem::field(
                "enumerationType",
                format!("{other} is not one of IBKR's enumeration types: {}", TYPES.join(", ")),
            ));
        }
    };
    Ok(Json(EnumerationResponse { enumerations_type: kind.to_ascii_uppercase(), json_data }))
}

/// The routes of Account Management's utilities.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(enumeration))
}
