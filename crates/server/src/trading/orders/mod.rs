//! Orders (IBKR's "Trading Orders" tag): placing them through IBKR's question-and-reply flow,
//! modifying, cancelling and previewing them, and reading live orders, an order's status and
//! trades. The rules live in the engine; here are IBKR's wire shapes and the gateway's memory
//! of each session ([`desk`]). The singular paths of IBKR's earlier documentation are in [`legacy`].

pub mod desk;
pub mod entry;
pub mod legacy;
pub mod listing;
pub mod questions;
pub mod ticket;
pub mod views;

use model::{AccountId, OrderId, SessionId};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{AccountSegment, OrderIdSegment};
use crate::state::AppState;
use crate::trading::invalid_account;

/// The caller's session and the account a path names, once the user may use it.
async fn account_session(
    app: &AppState,
    caller: Caller,
    account: &AccountSegment,
) -> Result<(SessionId, AccountId), ApiError> {
    let raw = account.raw.as_str();
    let account = account.id.clone().ok_or_else(|| invalid_account(raw))?;
    let named = account.clone();
    let (session, entitled) = caller
        .read(app, move |state, session| (session.id.clone(), state.is_entitled(&session.user, &named)))
        .await?;
    if !entitled {
        return Err(invalid_account(raw));
    }
    Ok((session, account))
}

/// An order id from a path, read after the account is checked (as [`OrderIdSegment`] reads
/// one, with its answer).
fn parse_order_id(raw: &str) -> Result<OrderId, ApiError> {
    raw.parse::<OrderIdSegment>()
        .map(|OrderIdSegment(id)| id)
        .map_err(|problem| ApiError::bad_request(format!("Bad Request: {problem}")))
}

/// The routes of IBKR's "Trading Orders" tag.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(entry::place_orders))
        .routes(routes!(entry::reply))
        .routes(routes!(entry::suppress))
        .routes(routes!(entry::suppress_reset))
        .routes(routes!(entry::modify_order, entry::cancel_order))
        .routes(routes!(entry::what_if))
        .routes(routes!(legacy::place_order))
        .routes(routes!(legacy::preview_order))
        .routes(routes!(listing::live_orders))
        .routes(routes!(listing::order_status))
        .routes(routes!(listing::trades))
}
