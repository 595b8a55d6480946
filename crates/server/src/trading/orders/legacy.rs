//! The singular order paths of IBKR's earlier documentation: `POST iserver/account/{acct}/order`
//! places one ticket and `…/order/whatif` previews one, each sent as a bare ticket object.
//! IBKR marks both deprecated in favour of `orders` and `orders/whatif`, which answer the same;
//! clients generated from that documentation still call them. The preview has a path of its
//! own, so it is never taken for a modification of an order named `whatif`.

use axum::Json;
use axum::extract::State;

use super::entry::{OrderReply, WhatIfReply, place, preview};
use super::ticket::OrderTicket;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{AccountSegment, JsonBody, PathParams};
use crate::state::AppState;

/// Places one order, sent as a bare ticket (IBKR's deprecated singular form of `orders`).
#[utoipa::path(
    post,
    path = "/iserver/account/{accountId}/order",
    operation_id = "placeSingleOrder",
    tag = "Orders",
    params(("accountId" = String, Path, description = "The account")),
    request_body = OrderTicket,
    responses(
        (status = 200, description = "The placed order, a question, or a refusal", body = OrderReply),
        (status = 400, description = "A malformed ticket or an account the user may not use", body = ErrorBody),
        crate::docs::NotLoggedIn,
    )
)]
pub async fn place_order(
    State(app): State<AppState>,
    caller: Caller,
    PathParams(account): PathParams<AccountSegment>,
    JsonBody(ticket): JsonBody<OrderTicket>,
) -> Result<Json<OrderReply>, ApiError> {
    place(&app, caller, &account, vec![ticket]).await
}

/// Previews one order, sent as a bare ticket (IBKR's deprecated singular form of
/// `orders/whatif`); nothing is placed.
#[utoipa::path(
    post,
    path = "/iserver/account/{accountId}/order/whatif",
    operation_id = "previewSingleOrder",
    tag = "Orders",
    params(("accountId" = String, Path, description = "The account")),
    request_body = OrderTicket,
    responses(
        (status = 200, description = "The preview, or why the order would be refused", body = WhatIfReply),
        (status = 400, description = "A malformed ticket", body = ErrorBody),
    )
)]
pub async fn preview_order(
    State(app): State<AppState>,
    caller: Caller,
    PathParams(account): PathParams<AccountSegment>,
    JsonBody(ticket): JsonBody<OrderTicket>,
) -> Result<Json<WhatIfReply>, ApiError> {
    preview(&app, caller, &account, vec![ticket]).await
}
