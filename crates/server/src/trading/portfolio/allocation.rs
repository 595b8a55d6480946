//! Allocation: `portfolio/{accountId}/allocation` and the consolidated `portfolio/allocation`
//! (several accounts): the account's value by asset class, sector and group, longs and shorts
//! apart, in the base currency.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use engine::portfolio::allocation::Class;
use jiff::Timestamp;
use model::{AccountId, Decimal};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::valued;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{AccountSegment, JsonBody, PathParams, QueryParams};
use crate::state::AppState;
use crate::trading::contracts::asset_class_type;
use crate::wire::float;

/// Values by category, longs and shorts apart; a short's value is negative.
#[derive(Debug, Serialize, ToSchema)]
pub struct Sides {
    long: BTreeMap<String, f64>,
    short: BTreeMap<String, f64>,
}

/// An account's (or several accounts') value by asset class, sector and group, in the base
/// currency. Cash counts under the asset class `CASH` only; what has no sector or group (funds,
/// coins) counts under `Others` (recorded responses).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Allocation {
    asset_class: Sides,
    sector: Sides,
    group: Sides,
}

impl Sides {
    fn of<K>(sides: engine::portfolio::allocation::Sides<K>, name: impl Fn(K) -> String) -> Self {
        let side = |values: BTreeMap<K, Decimal>| {
            values.into_iter().map(|(key, value)| (name(key), float(value))).collect()
        };
        Self { long: side(sides.long), short: side(sides.short) }
    }
}

impl Allocation {
    fn of(allocation: engine::portfolio::allocation::Allocation) -> Self {
        let others = |name: Option<String>| name.unwrap_or_else(|| "Others".into());
        Self {
            asset_class: Sides::of(allocation.class, |class| class_name(class).into()),
            sector: Sides::of(allocation.sector, others),
            group: Sides::of(allocation.group, others),
        }
    }
}

/// IBKR's name for a part of an allocation: the security type, and `CASH` for cash.
fn class_name(class: Class) -> &'static str {
    match class {
        Class::Assets(asset_class) => asset_class_type(asset_class),
        Class::Cash => "CASH",
    }
}

/// The account's value by asset class, sector and group.
#[utoipa::path(
    get,
    path = "/portfolio/{accountId}/allocation",
    operation_id = "getPortfolioAllocation",
    tag = "Portfolio",
    params(
        ("accountId" = String, Path, description = "Account id"),
        ("model" = Option<String>, Query, description = "Model portfolio; there are none, so it changes nothing"),
    ),
    responses(
        (status = 200, description = "The allocation", body = Allocation),
        crate::docs::NotCallersAccount,
    )
)]
pub async fn account_allocation(
    State(app): State<AppState>,
    caller: Caller,
    PathParams(account): PathParams<AccountSegment>,
) -> Result<Json<Allocation>, ApiError> {
    let portfolio = valued(&app, caller, &account).await?;
    Ok(Json(Allocation::of(portfolio.allocation())))
}

/// The accounts of a consolidated allocation, as `POST`'s body names them.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountList {
    acct_ids: Vec<String>,
}

/// The value of several accounts together, in the first account's base currency.
async fn consolidated(app: &AppState, caller: Caller, raw: Vec<String>) -> Result<Allocation, ApiError> {
    if raw.is_empty() {
        return Err(ApiError::bad_request("Bad Request: acctIds must name at least one account"));
    }
    let not_viewable = |raw: &str| {
        ApiError::new(
            axum::http::StatusCode::UNAUTHORIZED,
            format!("account {raw} is not available to this session"),
        )
    };
    let ids: Vec<AccountId> =
        raw.iter().map(|id| id.trim().parse().map_err(|_| not_viewable(id))).collect::<Result<_, _>>()?;
    let wall = Timestamp::now();
    let found = caller
        .read(app, move |state, session| {
            let at = state.market_time(wall);
            let mut portfolios = Vec::with_capacity(ids.len());
            for id in &ids {
                let portfolio =
                    state.is_entitled(&session.user, id).then(|| state.portfolio(id, at)).flatten();
                let Some(portfolio) = portfolio else { return Err(id.to_string()) };
                portfolios.push(portfolio);
            }
            Ok(state.consolidated_allocation(&portfolios))
        })
        .await?;
    found.map(Allocation::of).map_err(|id| not_viewable(&id))
}

/// Several accounts' value together by asset class, sector and group; the accounts are
/// repeated `acctIds` query parameters, as ibind sends them.
#[utoipa::path(
    get,
    path = "/portfolio/allocation",
    operation_id = "getConsolidatedAllocationGet",
    tag = "Portfolio",
    params(("acctIds" = Vec<String>, Query, description = "Account ids, the key repeated")),
    responses(
        (status = 200, description = "The allocation", body = Allocation),
        (status = 400, description = "No account named", body = ErrorBody),
        (status = 401, description = "Not logged in, or an account not the caller's", body = ErrorBody),
    )
)]
pub async fn consolidated_allocation_get(
    State(app): State<AppState>,
    caller: Caller,
    QueryParams(pairs): QueryParams<Vec<(String, String)>>,
) -> Result<Json<Allocation>, ApiError> {
    let ids = pairs.into_iter().filter(|(key, _)| key == "acctIds").map(|(_, id)| id);
    Ok(Json(consolidated(&app, caller, ids.flat_map(|ids| split(&ids)).collect()).await?))
}

/// Several accounts' value together, the accounts named in the body, as IBKR's documentation
/// sends them.
#[utoipa::path(
    post,
    path = "/portfolio/allocation",
    operation_id = "getConsolidatedAllocation",
    tag = "Portfolio",
    request_body = AccountList,
    responses(
        (status = 200, description = "The allocation", body = Allocation),
        (status = 400, description = "No account named", body = ErrorBody),
        (status = 401, description = "Not logged in, or an account not the caller's", body = ErrorBody),
    )
)]
pub async fn consolidated_allocation_post(
    State(app): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<AccountList>,
) -> Result<Json<Allocation>, ApiError> {
    Ok(Json(consolidated(&app, caller, body.acct_ids).await?))
}

/// Account ids from one `acctIds` value, which may also list several separated by commas.
fn split(ids: &str) -> Vec<String> {
    ids.split(',').map(str::trim).filter(|id| !id.is_empty()).map(str::to_owned).collect()
}
