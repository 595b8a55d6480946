//! Order entry: placing (with IBKR's question-and-reply flow), modifying, cancelling, and the
//! what-if preview.

use axum::Json;
use axum::extract::State;
use engine::orders::Ticket;
use engine::orders::preview::Preview;
use engine::{Command, EngineError, Executed, Reply};
use jiff::Timestamp;
use market::Catalogue;
use model::{AccountId, AssetClass, Decimal, OrderId, OrderStatus, SessionId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::desk::{Answer, OrderRequest, Question};
use super::questions::{missing_market_data, question};
use super::ticket::{OrderTicket, TicketError};
use super::views::status_word;
use super::{account_session, parse_order_id};
use crate::auth::Caller;
use crate::broker::BrokerError;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{AccountSegment, JsonBody, PathParams};
use crate::state::AppState;
use crate::wire::grouped;

/// A place-order body: IBKR's `{"orders": [...]}`, or the bare list older documents show.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum OrdersBody {
    /// `{"orders": [ticket, ...]}`.
    Wrapped { orders: Vec<OrderTicket> },
    /// `[ticket, ...]`.
    Bare(Vec<OrderTicket>),
}

impl OrdersBody {
    fn into_tickets(self) -> Vec<OrderTicket> {
        match self {
            Self::Wrapped { orders } | Self::Bare(orders) => orders,
        }
    }
}

/// An accepted order.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderAccepted {
    /// The order id, as a string of digits.
    order_id: String,
    order_status: String,
    encrypt_message: String,
    /// The client's `cOID`, when it gave one.
    #[serde(skip_serializing_if = "Option::is_none")]
    local_order_id: Option<String>,
}

/// A question to confirm before the order is placed.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderQuestion {
    /// The reply id to answer with.
    id: String,
    message: Vec<String>,
    is_suppressed: bool,
    message_ids: Vec<String>,
    message_options: Vec<String>,
}

/// A refusal, inside an HTTP 200 as IBKR answers it.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderRefusal {
    error: String,
}

/// What placing, confirming or modifying an order answers.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum OrderReply {
    /// One entry per order placed.
    Accepted(Vec<OrderAccepted>),
    /// A question: answer it at `iserver/reply/{id}`.
    Question(Vec<OrderQuestion>),
    /// Refused; nothing was placed.
    Refused(OrderRefusal),
}

impl OrderReply {
    fn refused(error: impl Into<String>) -> Self {
        Self::Refused(OrderRefusal { error: error.into() })
    }

    fn question(id: String, question: Question) -> Self {
        Self::Question(vec![OrderQuestion {
            id,
            message: vec![question.text],
            is_suppressed: false,
            message_ids: vec![question.id.to_owned()],
            message_options: vec!["Yes".into(), "No".into()],
        }])
    }

    /// Orders placed or modified, each with the status the command left it in and the
    /// client's id for it, if it gave one.
    fn accepted(orders: &[(OrderId, OrderStatus)], client_ids: &[Option<String>]) -> Self {
        Self::Accepted(
            orders
                .iter()
                .zip(client_ids.iter().chain(std::iter::repeat(&None)))
                .map(|((id, status), client_id)| OrderAccepted {
                    order_id: id.to_string(),
                    order_status: status_word(*status).into(),
                    encrypt_message: "1".into(),
                    local_order_id: client_id.clone(),
                })
                .collect(),
        )
    }
}

/// Reads IBKR's tickets; a refusal (answered inside an HTTP 200) comes back as its text.
fn read_tickets(
    tickets: &[OrderTicket],
    account: &AccountId,
) -> Result<Result<Vec<Ticket>, String>, ApiError> {
    if tickets.is_empty() {
        return Err(ApiError::bad_request("Bad Request: orders is required"));
    }
    let mut read = Vec::with_capacity(tickets.len());
    for ticket in tickets {
        if ticket.account().is_some_and(|named| named != account.as_str()) {
            return Err(ApiError::bad_request(format!(
                "Bad Request: acctId {} is not the account of the request, {account}",
                ticket.account().unwrap_or_default()
            )));
        }
        match ticket.read() {
            Ok(ticket) => read.push(ticket),
            Err(TicketError::Malformed(message)) => return Err(ApiError::bad_request(message)),
            Err(TicketError::Rejected(message)) => return Ok(Err(message)),
        }
    }
    Ok(Ok(read))
}

/// The questions a request asks, in the order IBKR asks them, but those the session
/// suppressed.
async fn questions_for(
    app: &AppState,
    session: &SessionId,
    request: &OrderRequest,
) -> Result<Vec<Question>, ApiError> {
    let tickets: Vec<Ticket> = match request {
        OrderRequest::Place { tickets, .. } => tickets.clone(),
        OrderRequest::Modify { ticket, .. } => vec![ticket.clone()],
    };
    let wall = Timestamp::now();
    let (precautions, suppressed) = {
        let (tickets, session) = (tickets.clone(), session.clone());
        app.broker
            .read(move |engine| {
                let suppressed = engine.state().session(&session).map(|s| s.suppressed_questions.clone());
                (engine.precautions(wall, &tickets), suppressed.unwrap_or_default())
            })
            .await?
    };
    let mut questions: Vec<Question> = Vec::new();
    for (ticket, found) in tickets.iter().zip(precautions) {
        let Some(instrument) = Catalogue::standard().get(ticket.conid) else { continue };
        if !app.streams.is_open(session, ticket.conid) {
            questions.push(missing_market_data());
        }
        questions.extend(found.into_iter().map(|precaution| question(instrument, ticket, precaution)));
    }
    let mut seen = std::collections::BTreeSet::new();
    questions.retain(|question| seen.insert(question.id) && !suppressed.contains(question.id));
    Ok(questions)
}

/// Asks the request's first question, or, when none is left, carries it out.
async fn proceed(
    app: &AppState,
    session: &SessionId,
    request: OrderRequest,
    questions: Vec<Question>,
) -> Result<OrderReply, ApiError> {
    match app.desk.ask(session, request.clone(), questions) {
        Some((id, question)) => Ok(OrderReply::question(id, question)),
        None => submit(app, session, request).await,
    }
}

/// Carries out a request whose questions are all answered.
async fn submit(app: &AppState, session: &SessionId, request: OrderRequest) -> Result<OrderReply, ApiError> {
    let (command, client_ids) = match request {
        OrderRequest::Place { account, tickets, one_cancels_all } => {
            let client_ids: Vec<Option<String>> = tickets.iter().map(|t| t.client_order_id.clone()).collect();
            (Command::PlaceOrders { session: session.clone(), account, tickets, one_cancels_all }, client_ids)
        }
        OrderRequest::Modify { account, order, ticket } => {
            (Command::ModifyOrder { session: session.clone(), account, order, ticket }, Vec::new())
        }
    };
    match app.broker.execute(command).await {
        Ok(Executed { reply: Reply::Orders(orders), .. }) => Ok(OrderReply::accepted(&orders, &client_ids)),
        Ok(_) => Err(ApiError::unavailable()),
        Err(BrokerError::Rejected(
            refusal @ (EngineError::OrderRejected(_)
            | EngineError::UnknownOrder(_)
            | EngineError::FinishedOrder { .. }),
        )) => Ok(OrderReply::refused(refusal.to_string())),
        Err(error) => Err(error.into()),
    }
}

/// Places orders: one, a bracket (children name their parent's `cOID` in `parentId`), or a
/// one-cancels-all group (`isSingleGroup`). A precaution comes back as a question to confirm
/// at `iserver/reply/{id}` before anything is placed.
#[utoipa::path(
    post,
    path = "/iserver/account/{accountId}/orders",
    operation_id = "placeOrder",
    tag = "Orders",
    params(("accountId" = String, Path, description = "The account")),
    request_body = OrdersBody,
    responses(
        (status = 200, description = "Placed orders, a question, or a refusal", body = OrderReply),
        (status = 400, description = "A malformed ticket or an account the user may not use", body = ErrorBody),
        crate::docs::NotLoggedIn,
    )
)]
pub async fn place_orders(
    State(app): State<AppState>,
    caller: Caller,
    PathParams(account): PathParams<AccountSegment>,
    JsonBody(body): JsonBody<OrdersBody>,
) -> Result<Json<OrderReply>, ApiError> {
    place(&app, caller, &account, body.into_tickets()).await
}

/// Places the orders `wire` lists for the account a path names.
pub(super) async fn place(
    app: &AppState,
    caller: Caller,
    account: &AccountSegment,
    wire: Vec<OrderTicket>,
) -> Result<Json<OrderReply>, ApiError> {
    let (session, account) = account_session(app, caller, account).await?;
    let tickets = match read_tickets(&wire, &account)? {
        Ok(tickets) => tickets,
        Err(refusal) => return Ok(Json(OrderReply::refused(refusal))),
    };
    let one_cancels_all = wire.iter().any(OrderTicket::is_single_group);
    let request = OrderRequest::Place { account, tickets, one_cancels_all };
    let questions = questions_for(app, &session, &request).await?;
    Ok(Json(proceed(app, &session, request, questions).await?))
}

/// `iserver/reply`'s body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ReplyRequest {
    /// `true` to go on, `false` to drop the order.
    confirmed: Option<bool>,
}

/// Answers a question: `true` asks the next one or places the order; `false` drops it, and it
/// never exists. A reply id is good once, and a new order request voids the earlier ones.
#[utoipa::path(
    post,
    path = "/iserver/reply/{replyId}",
    operation_id = "replyToQuestion",
    tag = "Orders",
    params(("replyId" = String, Path, description = "The question's id")),
    request_body = ReplyRequest,
    responses(
        (status = 200, description = "Placed orders, the next question, or a refusal", body = OrderReply),
        (status = 400, description = "No such reply id", body = ErrorBody),
        (status = 503, description = "A later order request voided the question", body = ErrorBody),
    )
)]
pub async fn reply(
    State(app): State<AppState>,
    caller: Caller,
    PathParams(reply_id): PathParams<String>,
    JsonBody(body): JsonBody<ReplyRequest>,
) -> Result<Json<OrderReply>, ApiError> {
    let (session, suppressed) =
        caller.read(&app, |_, session| (session.id.clone(), session.suppressed_questions.clone())).await?;
    match app.desk.answer(&session, &reply_id) {
        Answer::Unknown => Err(ApiError::bad_request(format!("reply id not found: '{reply_id}'"))),
        Answer::Invalidated => Err(ApiError::unavailable()),
        Answer::Pending(_) if !body.confirmed.unwrap_or(false) => {
            Ok(Json(OrderReply::refused("Order not confirmed")))
        }
        Answer::Pending(pending) => {
            // Those suppressed since the first was asked are not asked either.
            let rest = pending.questions.into_iter().skip(1).filter(|q| !suppressed.contains(q.id)).collect();
            Ok(Json(proceed(&app, &session, pending.request, rest).await?))
        }
    }
}

/// `questions/suppress`'s body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SuppressRequest {
    /// Message ids such as `o163`.
    message_ids: Option<Vec<String>>,
}

/// `questions/suppress`' answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Submitted {
    status: String,
}

/// Stops asking the listed questions for the rest of the session.
#[utoipa::path(
    post,
    path = "/iserver/questions/suppress",
    operation_id = "suppressQuestions",
    tag = "Orders",
    request_body = SuppressRequest,
    responses(
        (status = 200, description = "Suppressed", body = Submitted),
        (status = 400, description = "No message ids", body = ErrorBody),
    )
)]
pub async fn suppress(
    State(app): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<SuppressRequest>,
) -> Result<Json<Submitted>, ApiError> {
    let ids = body
        .message_ids
        .filter(|ids| !ids.is_empty())
        .ok_or_else(|| ApiError::bad_request("Bad Request: messageIds is required"))?;
    let session = caller.read(&app, |_, session| session.id.clone()).await?;
    app.broker.execute(Command::SuppressQuestions { session, ids: ids.into_iter().collect() }).await?;
    Ok(Json(Submitted { status: "submitted".into() }))
}

/// Asks every question again.
#[utoipa::path(
    post,
    path = "/iserver/questions/suppress/reset",
    operation_id = "resetSuppressedQuestions",
    tag = "Orders",
    responses((status = 200, description = "Reset", body = Submitted))
)]
pub async fn suppress_reset(
    State(app): State<AppState>,
    caller: Caller,
) -> Result<Json<Submitted>, ApiError> {
    let session = caller.read(&app, |_, session| session.id.clone()).await?;
    app.broker.execute(Command::ResetSuppressedQuestions { session }).await?;
    Ok(Json(Submitted { status: "submitted".into() }))
}

/// Modifies a working order. The body is the whole ticket, not a list, repeating what stays.
#[utoipa::path(
    post,
    path = "/iserver/account/{accountId}/order/{orderId}",
    operation_id = "modifyOrder",
    tag = "Orders",
    params(
        ("accountId" = String, Path, description = "The account"),
        ("orderId" = u64, Path, description = "The order"),
    ),
    request_body = OrderTicket,
    responses(
        (status = 200, description = "The modified order, a question, or a refusal", body = OrderReply),
        (status = 400, description = "A malformed ticket or order id", body = ErrorBody),
    )
)]
pub async fn modify_order(
    State(app): State<AppState>,
    caller: Caller,
    PathParams((account, raw_order)): PathParams<(AccountSegment, String)>,
    JsonBody(ticket): JsonBody<OrderTicket>,
) -> Result<Json<OrderReply>, ApiError> {
    let (session, account) = account_session(&app, caller, &account).await?;
    let order = parse_order_id(&raw_order)?;
    let ticket = match read_tickets(std::slice::from_ref(&ticket), &account)? {
        Ok(mut tickets) => tickets.remove(0),
        Err(refusal) => return Ok(Json(OrderReply::refused(refusal))),
    };
    let request = OrderRequest::Modify { account, order, ticket };
    let questions = questions_for(&app, &session, &request).await?;
    Ok(Json(proceed(&app, &session, request, questions).await?))
}

/// `cancel`'s answer: the request is taken; live orders show when the order is cancelled.
#[derive(Debug, Serialize, ToSchema)]
pub struct CancelReply {
    msg: String,
    order_id: i64,
    conid: i64,
    account: Option<String>,
}

/// Cancels a working order, or, with order id `-1`, every working order of the account.
#[utoipa::path(
    delete,
    path = "/iserver/account/{accountId}/order/{orderId}",
    operation_id = "cancelOrder",
    tag = "Orders",
    params(
        ("accountId" = String, Path, description = "The account"),
        ("orderId" = String, Path, description = "The order, or -1 for all"),
    ),
    responses(
        (status = 200, description = "The cancellation is submitted", body = CancelReply),
        (status = 400, description = "No such working order", body = ErrorBody),
    )
)]
pub async fn cancel_order(
    State(app): State<AppState>,
    caller: Caller,
    PathParams((account, raw_order)): PathParams<(AccountSegment, String)>,
) -> Result<Json<CancelReply>, ApiError> {
    let (session, account) = account_session(&app, caller, &account).await?;
    let submitted = |order_id: i64, conid: i64, account: Option<String>| CancelReply {
        msg: "Request was submitted".into(),
        order_id,
        conid,
        account,
    };
    if raw_order.trim() == "-1" {
        app.broker.execute(Command::CancelAllOrders { session, account }).await?;
        return Ok(Json(submitted(-1, -1, None)));
    }
    let order = parse_order_id(&raw_order)?;
    let conid = {
        let account = account.clone();
        app.broker
            .read(move |engine| {
                engine
                    .state()
                    .order(order)
                    .filter(|found| found.account == account)
                    .map(|found| found.ticket.conid)
            })
            .await?
            .ok_or_else(|| ApiError::bad_request(EngineError::UnknownOrder(order).to_string()))?
    };
    app.broker.execute(Command::CancelOrder { session, account: account.clone(), order }).await?;
    let id = i64::try_from(order.get()).unwrap_or(i64::MAX);
    Ok(Json(submitted(id, i64::from(conid.get()), Some(account.to_string()))))
}

/// An amount before and after.
#[derive(Debug, Serialize, ToSchema)]
pub struct Change {
    current: String,
    change: String,
    after: String,
}

/// The order's amounts.
#[derive(Debug, Serialize, ToSchema)]
pub struct WhatIfAmount {
    amount: String,
    commission: String,
    total: String,
}

/// What an order would do, IBKR's way: every value a formatted string.
#[derive(Debug, Serialize, ToSchema)]
pub struct WhatIf {
    amount: WhatIfAmount,
    equity: Change,
    initial: Change,
    maintenance: Change,
    position: Change,
    /// A warning (`code/text`), or empty: IBKR types it a string.
    warn: String,
    error: Option<String>,
}

/// `whatif`'s answer.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum WhatIfReply {
    /// The preview.
    Preview(Box<WhatIf>),
    /// Why the order would be refused.
    Refused(OrderRefusal),
}

/// Margin figures: whole dollars.
fn grouped_whole(value: Decimal) -> String {
    grouped(value, 0)
}

/// Amounts: cents.
fn grouped_cents(value: Decimal) -> String {
    grouped(value, 2)
}

/// IBKR's warning, in a preview, of an instrument the session has no market data for: the
/// text of IBKR's own example answer of `orders/whatif`, its code included.
fn blind_trading_warning() -> String {
    "21/You are trying to submit an order without having market data for this instrument. \n\
     IB strongly recommends against this kind of blind trading which may result in \n\
     erroreous or unexpected trades."
        .to_owned()
}

impl WhatIf {
    /// The preview, with `warn` the warning IBKR would give (or empty).
    fn of(preview: &Preview, warn: String) -> Self {
        let unit = match Catalogue::standard().get(preview.conid).map(|i| i.asset_class) {
            Some(AssetClass::Stock) | None => "Shares",
            Some(AssetClass::Forex) => "Units",
            Some(AssetClass::Crypto) => "Coins",
        };
        let change = |current: Decimal, after: Decimal| Change {
            current: grouped_whole(current),
            change: grouped_whole(after - current),
            after: grouped_whole(after),
        };
        Self {
            amount: WhatIfAmount {
                amount: format!(
                    "{} {} ({} {unit})",
                    grouped_cents(preview.value),
                    preview.currency,
                    preview.quantity.normalize()
                ),
                commission: format!("{} {}", grouped_cents(preview.commission), preview.commission_currency),
                total: format!("{} {}", grouped_cents(preview.value + preview.commission), preview.currency),
            },
            equity: change(preview.before.equity, preview.after.equity),
            initial: change(preview.before.initial, preview.after.initial),
            maintenance: change(preview.before.maintenance, preview.after.maintenance),
            position: Change {
                current: preview.position.normalize().to_string(),
                change: (preview.position_after - preview.position).normalize().to_string(),
                after: preview.position_after.normalize().to_string(),
            },
            warn,
            error: None,
        }
    }
}

/// What an order would cost and do to the account's equity, margin and position; nothing is
/// placed.
#[utoipa::path(
    post,
    path = "/iserver/account/{accountId}/orders/whatif",
    operation_id = "previewOrder",
    tag = "Orders",
    params(("accountId" = String, Path, description = "The account")),
    request_body = OrdersBody,
    responses(
        (status = 200, description = "The preview, or why the order would be refused", body = WhatIfReply),
        (status = 400, description = "A malformed ticket", body = ErrorBody),
    )
)]
pub async fn what_if(
    State(app): State<AppState>,
    caller: Caller,
    PathParams(account): PathParams<AccountSegment>,
    JsonBody(body): JsonBody<OrdersBody>,
) -> Result<Json<WhatIfReply>, ApiError> {
    preview(&app, caller, &account, body.into_tickets()).await
}

/// What the first order `wire` lists would do to the account a path names.
pub(super) async fn preview(
    app: &AppState,
    caller: Caller,
    account: &AccountSegment,
    wire: Vec<OrderTicket>,
) -> Result<Json<WhatIfReply>, ApiError> {
    let (session, account) = account_session(app, caller, account).await?;
    let ticket = match read_tickets(&wire, &account)? {
        Ok(mut tickets) => tickets.remove(0),
        Err(refusal) => return Ok(Json(WhatIfReply::Refused(OrderRefusal { error: refusal }))),
    };
    let warn =
        if app.streams.is_open(&session, ticket.conid) { String::new() } else { blind_trading_warning() };
    let wall = Timestamp::now();
    let preview = app.broker.read(move |engine| engine.preview(wall, &session, &account, &ticket)).await?;
    match preview {
        Ok(preview) => Ok(Json(WhatIfReply::Preview(Box::new(WhatIf::of(&preview, warn))))),
        Err(EngineError::OrderRejected(rejection)) => {
            Ok(Json(WhatIfReply::Refused(OrderRefusal { error: rejection.to_string() })))
        }
        Err(error) => Err(BrokerError::Rejected(error).into()),
    }
}
