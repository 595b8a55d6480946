//! The control plane, `/_localbroker/*`: what a test harness needs that IBKR's API has no
//! words for: the state digest, scripted logins, the simulated clock, market overrides and
//! money paid into or out of accounts, dividends and splits.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use engine::clock::ClockModeError;
use engine::corporate_actions::CorporateAction;
use engine::market::MarketChange;
use engine::oauth::{ClientKey, KeyAlgorithm, OAuthClient};
use engine::{Command, Event};
use jiff::{SignedDuration, Timestamp};
use model::{AccountId, Conid, Currency, Decimal, Username};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::LoginError;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, PathParams};
use crate::market::MarketNow;
use crate::state::AppState;
use crate::world::FlexQueryEntry;

/// The engine's state digest.
#[derive(Debug, Serialize, ToSchema)]
pub struct StateDigest {
    /// SHA-256 of the canonical state, hex-encoded. Equal digests mean equal states: compare
    /// one taken before a restart with one taken after it.
    digest: String,
    /// Whether every account's ledger balances in every currency, as it always must.
    balanced: bool,
}

/// A hash of the engine's whole canonical state, and whether its ledger balances.
#[utoipa::path(
    get,
    path = "/_localbroker/state/digest",
    operation_id = "getStateDigest",
    tag = "Control plane",
    responses((status = 200, description = "The digest", body = StateDigest))
)]
pub async fn state_digest(State(app): State<AppState>) -> Result<Json<StateDigest>, ApiError> {
    let (digest, balanced) = app
        .broker
        .read(|engine| (engine.digest().to_string(), engine.state().ledger().is_balanced()))
        .await?;
    Ok(Json(StateDigest { digest, balanced }))
}

/// Credentials for a scripted gateway login.
#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    username: Option<String>,
    password: Option<String>,
}

/// A successful login.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    authenticated: bool,
    username: String,
    /// The new session's id, as `tickle` will report it.
    session: String,
    /// On a strict server, the bearer that reaches the new session (the login page's cookie
    /// value), since nothing acts for the gateway's user there.
    #[serde(skip_serializing_if = "Option::is_none")]
    bearer: Option<String>,
}

/// Logs a user in: at the gateway, as the login page does, replacing whoever was logged in;
/// on a strict server, with a session of its own whose bearer the answer carries.
#[utoipa::path(
    post,
    path = "/_localbroker/session/login",
    operation_id = "loginAtGateway",
    tag = "Control plane",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in", body = LoginResponse),
        (status = 400, description = "Username or password missing", body = ErrorBody),
        (status = 401, description = "Wrong username or password", body = ErrorBody),
        (status = 429, description = "Ten failed logins in the last minute from the address, or for the username", body = ErrorBody),
    )
)]
pub async fn login(
    State(app): State<AppState>,
    crate::trading::session::ClientAddr(client): crate::trading::session::ClientAddr,
    JsonBody(request): JsonBody<LoginRequest>,
) -> Result<Json<LoginResponse>, axum::response::Response> {
    let (Some(username), Some(password)) = (request.username, request.password) else {
        return Err(ApiError::bad_request("username and password are required").into_response());
    };
    match crate::auth::login(&app, client, &username, &password).await {
        Ok((session, bearer)) => {
            Ok(Json(LoginResponse { authenticated: true, username, session: session.to_string(), bearer }))
        }
        Err(LoginError::InvalidCredentials) => {
            Err(ApiError::new(StatusCode::UNAUTHORIZED, LoginError::InvalidCredentials.to_string())
                .into_response())
        }
        Err(LoginError::Paced(paced)) => Err(paced.into_response()),
        Err(LoginError::Broker(error)) => Err(ApiError::from(error).into_response()),
    }
}

/// The simulated clock.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClockState {
    /// Market time now, RFC 3339.
    now: String,
    /// `realtime`, `accelerated:N` or `manual`.
    mode: String,
}

/// Market time now and how it moves.
#[utoipa::path(
    get,
    path = "/_localbroker/clock",
    operation_id = "getClock",
    tag = "Control plane",
    responses((status = 200, description = "The clock", body = ClockState))
)]
pub async fn clock(State(app): State<AppState>) -> Result<Json<ClockState>, ApiError> {
    let wall = Timestamp::now();
    let clock = app
        .broker
        .read(move |engine| {
            let state = engine.state();
            ClockState { now: state.market_time(wall).to_string(), mode: state.clock().mode().to_string() }
        })
        .await?;
    Ok(Json(clock))
}

/// A change of the clock: exactly one of the three.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClockChange {
    /// Switch to `realtime`, `accelerated:N` or `manual`, from the current market time.
    mode: Option<String>,
    /// Jump forward by a duration: a number and a unit, `s`, `m`, `h`, `d` or `w` (`90s`, `5m`,
    /// `7h`, `3d`).
    advance: Option<String>,
    /// Jump forward to an RFC 3339 instant; never backwards.
    set: Option<String>,
}

/// Changes the clock. The change is journaled, so it survives a restart.
#[utoipa::path(
    post,
    path = "/_localbroker/clock",
    operation_id = "changeClock",
    tag = "Control plane",
    request_body = ClockChange,
    responses(
        (status = 200, description = "The clock after the change", body = ClockState),
        (status = 400, description = "Not exactly one valid change, or one that would go backwards", body = ErrorBody),
    )
)]
pub async fn change_clock(
    State(app): State<AppState>,
    JsonBody(change): JsonBody<ClockChange>,
) -> Result<Json<ClockState>, ApiError> {
    let command = match (change.mode, change.advance, change.set) {
        (Some(mode), None, None) => Command::SetClockMode {
            mode: mode.parse().map_err(|e: ClockModeError| ApiError::bad_request(e.to_string()))?,
        },
        (None, Some(by), None) => Command::AdvanceClock { by: parse_duration(&by)? },
        (None, None, Some(to)) => Command::SetClock {
            to: to
                .parse()
                .map_err(|e| ApiError::bad_request(format!("set must be an RFC 3339 instant: {e}")))?,
        },
        _ => return Err(ApiError::bad_request("give exactly one of mode, advance and set")),
    };
    let events = app.broker.execute(command).await?;
    events
        .into_iter()
        .find_map(|event| match event {
            Event::ClockChanged { mode, now } => {
                Some(Json(ClockState { now: now.to_string(), mode: mode.to_string() }))
            }
            _ => None,
        })
        .ok_or_else(ApiError::unavailable)
}

/// An advance of the clock ([`crate::duration::parse`]).
fn parse_duration(text: &str) -> Result<SignedDuration, ApiError> {
    crate::duration::parse(text).ok_or_else(|| {
        ApiError::bad_request(format!("advance must be a number and s, m, h, d or w, like 5m; got {text:?}"))
    })
}

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

/// Money paid into or out of an account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CashTransfer {
    /// ISO currency code, such as `USD`.
    #[schema(value_type = String, example = "USD")]
    currency: Currency,
    /// A positive amount, in cents at most.
    #[schema(value_type = f64, example = 10000)]
    amount: Decimal,
}

/// An account's cash in one currency after a transfer.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CashBalance {
    account_id: String,
    currency: String,
    #[schema(value_type = String)]
    cash: Decimal,
}

async fn transfer(
    app: &AppState,
    raw: &str,
    request: CashTransfer,
    command: impl FnOnce(AccountId, Currency, Decimal) -> Command,
) -> Result<Json<CashBalance>, ApiError> {
    let account: AccountId =
        raw.parse().map_err(|_| ApiError::bad_request(format!("invalid account id {raw:?}")))?;
    let CashTransfer { currency, amount } = request;
    if amount.normalize().scale() > 2 {
        return Err(ApiError::bad_request(format!("amount is in cents at most, not {amount}")));
    }
    app.broker.execute(command(account.clone(), currency, amount)).await?;
    let held = account.clone();
    let cash = app.broker.read(move |engine| engine.state().ledger().cash_balance(&held, currency)).await?;
    Ok(Json(CashBalance { account_id: account.to_string(), currency: currency.to_string(), cash }))
}

/// Pays money into an account, as a wire from the owner's bank would. It counts as capital
/// paid in, not as profit.
#[utoipa::path(
    post,
    path = "/_localbroker/accounts/{accountId}/deposits",
    operation_id = "deposit",
    tag = "Control plane",
    params(("accountId" = String, Path, description = "The account")),
    request_body = CashTransfer,
    responses(
        (status = 200, description = "The account's cash in that currency afterwards", body = CashBalance),
        (status = 400, description = "An unknown account or currency, or an amount that is not positive", body = ErrorBody),
    )
)]
pub async fn deposit(
    State(app): State<AppState>,
    PathParams(raw): PathParams<String>,
    JsonBody(request): JsonBody<CashTransfer>,
) -> Result<Json<CashBalance>, ApiError> {
    transfer(&app, &raw, request, |account, currency, amount| Command::Deposit { account, currency, amount })
        .await
}

/// Pays money out of an account's settled cash, if the rest still covers its initial margin.
#[utoipa::path(
    post,
    path = "/_localbroker/accounts/{accountId}/withdrawals",
    operation_id = "withdraw",
    tag = "Control plane",
    params(("accountId" = String, Path, description = "The account")),
    request_body = CashTransfer,
    responses(
        (status = 200, description = "The account's cash in that currency afterwards", body = CashBalance),
        (status = 400, description = "An unknown account, more than is withdrawable, or an amount that is not positive", body = ErrorBody),
    )
)]
pub async fn withdraw(
    State(app): State<AppState>,
    PathParams(raw): PathParams<String>,
    JsonBody(request): JsonBody<CashTransfer>,
) -> Result<Json<CashBalance>, ApiError> {
    transfer(&app, &raw, request, |account, currency, amount| Command::Withdraw { account, currency, amount })
        .await
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

/// How many websockets were closed.
#[derive(Debug, Serialize, ToSchema)]
pub struct DroppedWebsockets {
    dropped: usize,
}

/// Closes every open websocket, as a network failure would: clients must reconnect and
/// subscribe again.
#[utoipa::path(
    post,
    path = "/_localbroker/websockets/drop",
    operation_id = "dropWebsockets",
    tag = "Control plane",
    responses((status = 200, description = "The websockets closed", body = DroppedWebsockets))
)]
pub async fn drop_websockets(State(app): State<AppState>) -> Json<DroppedWebsockets> {
    let dropped = app.drop_websockets.send(()).unwrap_or(0);
    Json(DroppedWebsockets { dropped })
}

/// An OAuth 2.0 client's key to register.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClientRegistration {
    client_id: String,
    /// The key id its assertions name.
    kid: String,
    /// The public key, PEM-encoded.
    public_key: String,
    /// `RS256` (the default) or `ES256`.
    #[schema(value_type = Option<String>)]
    alg: Option<KeyAlgorithm>,
    /// Space-separated scopes; Account Management ones are granted once the client is approved.
    scopes: Option<String>,
}

/// A client as the registry holds it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClientState {
    client_id: String,
    kids: Vec<String>,
    /// What it asked for.
    scopes: Vec<String>,
    /// What a token may carry now.
    granted: Vec<String>,
    approved: bool,
    revoked: bool,
    /// The accounts it manages through Account Management.
    accounts: Vec<String>,
}

impl ClientState {
    fn of(client: &OAuthClient) -> Self {
        Self {
            client_id: client.client_id.clone(),
            kids: client.keys.keys().cloned().collect(),
            scopes: client.scopes.iter().cloned().collect(),
            granted: client.granted_scopes().into_iter().collect(),
            approved: client.approved,
            revoked: client.revoked,
            accounts: client.accounts.iter().map(ToString::to_string).collect(),
        }
    }
}

async fn client_state(app: &AppState, client_id: String) -> Result<Json<ClientState>, ApiError> {
    let found = app
        .broker
        .read(move |engine| engine.state().oauth().clients.get(&client_id).map(ClientState::of))
        .await?;
    found.map(Json).ok_or_else(|| ApiError::not_found("no such client"))
}

/// Registers an OAuth 2.0 client's public key (creating the client) and the scopes it asks for;
/// journaled.
#[utoipa::path(
    post,
    path = "/_localbroker/clients",
    operation_id = "registerClient",
    tag = "Control plane",
    request_body = ClientRegistration,
    responses(
        (status = 200, description = "The client", body = ClientState),
        (status = 400, description = "A key that is not a PEM public key of its algorithm, or an unknown scope", body = ErrorBody),
    )
)]
pub async fn register_client(
    State(app): State<AppState>,
    JsonBody(request): JsonBody<ClientRegistration>,
) -> Result<Json<ClientState>, ApiError> {
    let key = ClientKey {
        kid: request.kid,
        algorithm: request.alg.unwrap_or(KeyAlgorithm::Rs256),
        public_key_pem: request.public_key,
    };
    if crate::oauth::decoding_key(&key).is_none() {
        return Err(ApiError::bad_request(format!(
            "publicKey is not a PEM public key for {:?}",
            key.algorithm
        )));
    }
    let scopes = request.scopes.unwrap_or_default().split_whitespace().map(str::to_owned).collect();
    let client_id = request.client_id;
    app.broker.execute(Command::RegisterClient { client_id: client_id.clone(), key, scopes }).await?;
    client_state(&app, client_id).await
}

/// Approves a client's Account Management scopes, as IBKR's review would; journaled.
#[utoipa::path(
    post,
    path = "/_localbroker/clients/{clientId}/approve",
    operation_id = "approveClient",
    tag = "Control plane",
    params(("clientId" = String, Path, description = "The client")),
    responses(
        (status = 200, description = "The client", body = ClientState),
        (status = 400, description = "No such client", body = ErrorBody),
    )
)]
pub async fn approve_client(
    State(app): State<AppState>,
    PathParams(client_id): PathParams<String>,
) -> Result<Json<ClientState>, ApiError> {
    app.broker.execute(Command::ApproveClient { client_id: client_id.clone() }).await?;
    client_state(&app, client_id).await
}

/// Revokes a client: it gets no more tokens, its tokens stop working and the sessions it
/// opened end; journaled.
#[utoipa::path(
    post,
    path = "/_localbroker/clients/{clientId}/revoke",
    operation_id = "revokeClient",
    tag = "Control plane",
    params(("clientId" = String, Path, description = "The client")),
    responses(
        (status = 200, description = "The client", body = ClientState),
        (status = 400, description = "No such client", body = ErrorBody),
    )
)]
pub async fn revoke_client(
    State(app): State<AppState>,
    PathParams(client_id): PathParams<String>,
) -> Result<Json<ClientState>, ApiError> {
    let events = app.broker.execute(Command::RevokeClient { client_id: client_id.clone() }).await?;
    app.forget_closed_sessions(&events);
    client_state(&app, client_id).await
}

/// Accounts a client is to manage.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountAssignment {
    /// Existing account ids.
    #[schema(value_type = Vec<String>)]
    accounts: Vec<AccountId>,
}

/// Gives a client the management of existing accounts through Account Management, as IBKR
/// links an introducing broker's existing customers to it; journaled. Accounts its
/// applications open are its own already.
#[utoipa::path(
    post,
    path = "/_localbroker/clients/{clientId}/accounts",
    operation_id = "assignClientAccounts",
    tag = "Control plane",
    params(("clientId" = String, Path, description = "The client")),
    request_body = AccountAssignment,
    responses(
        (status = 200, description = "The client", body = ClientState),
        (status = 400, description = "No such client, or an account that does not exist", body = ErrorBody),
    )
)]
pub async fn assign_client_accounts(
    State(app): State<AppState>,
    PathParams(client_id): PathParams<String>,
    JsonBody(request): JsonBody<AccountAssignment>,
) -> Result<Json<ClientState>, ApiError> {
    let command = Command::AssignAccounts { client_id: client_id.clone(), accounts: request.accounts };
    app.broker.execute(command).await?;
    client_state(&app, client_id).await
}

/// A Flex token to issue.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FlexTokenRequest {
    /// Whose it is.
    #[schema(value_type = String)]
    user: Username,
    /// The token; 24 random digits are made up when absent.
    token: Option<String>,
    /// When it stops working (RFC 3339); never when absent.
    #[schema(value_type = Option<String>)]
    expires: Option<Timestamp>,
}

/// An issued Flex token: the only time its value is shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct FlexTokenIssued {
    token: String,
    user: String,
}

/// Issues a Flex token to a user; journaled (its SHA-256 only).
#[utoipa::path(
    post,
    path = "/_localbroker/flex/tokens",
    operation_id = "issueFlexToken",
    tag = "Control plane",
    request_body = FlexTokenRequest,
    responses(
        (status = 200, description = "The token", body = FlexTokenIssued),
        (status = 400, description = "An unknown user, an empty token or one issued already", body = ErrorBody),
    )
)]
pub async fn issue_flex_token(
    State(app): State<AppState>,
    JsonBody(request): JsonBody<FlexTokenRequest>,
) -> Result<Json<FlexTokenIssued>, ApiError> {
    let token = request.token.map(|token| token.trim().to_owned()).unwrap_or_else(crate::flex::new_token);
    if token.is_empty() {
        return Err(ApiError::bad_request("a Flex token is not empty"));
    }
    let token_hash = engine::flex::token_hash(&token);
    let command =
        Command::IssueFlexToken { user: request.user.clone(), token_hash, expires_at: request.expires };
    app.broker.execute(command).await?;
    Ok(Json(FlexTokenIssued { token, user: request.user.to_string() }))
}

/// Defines a Flex query, with the fields of a world file's `[[flex.queries]]`; journaled.
#[utoipa::path(
    post,
    path = "/_localbroker/flex/queries",
    operation_id = "defineFlexQuery",
    tag = "Control plane",
    request_body = FlexQueryEntry,
    responses(
        (status = 200, description = "The query was defined"),
        (status = 400, description = "An unknown user, section or pattern, or an id in use", body = ErrorBody),
    )
)]
pub async fn define_flex_query(
    State(app): State<AppState>,
    JsonBody(entry): JsonBody<FlexQueryEntry>,
) -> Result<StatusCode, ApiError> {
    let query = entry.query().map_err(|error| ApiError::bad_request(error.to_string()))?;
    app.broker.execute(Command::DefineFlexQuery { query }).await?;
    Ok(StatusCode::OK)
}

/// Every registered client.
#[utoipa::path(
    get,
    path = "/_localbroker/clients",
    operation_id = "listClients",
    tag = "Control plane",
    responses((status = 200, description = "The clients", body = Vec<ClientState>))
)]
pub async fn list_clients(State(app): State<AppState>) -> Result<Json<Vec<ClientState>>, ApiError> {
    let clients = app
        .broker
        .read(|engine| engine.state().oauth().clients.values().map(ClientState::of).collect())
        .await?;
    Ok(Json(clients))
}

/// The control plane's routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(state_digest))
        .routes(routes!(login))
        .routes(routes!(clock, change_clock))
        .routes(routes!(change_market))
        .routes(routes!(deposit))
        .routes(routes!(withdraw))
        .routes(routes!(announce_corporate_action))
        .routes(routes!(drop_websockets))
        .routes(routes!(register_client, list_clients))
        .routes(routes!(approve_client))
        .routes(routes!(revoke_client))
        .routes(routes!(assign_client_accounts))
        .routes(routes!(issue_flex_token))
        .routes(routes!(define_flex_query))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_a_number_and_a_unit() {
        assert_eq!(parse_duration("90s").unwrap(), SignedDuration::from_secs(90));
        assert_eq!(parse_duration("5m").unwrap(), SignedDuration::from_mins(5));
        assert_eq!(parse_duration("7h").unwrap(), SignedDuration::from_hours(7));
        assert_eq!(parse_duration("3d").unwrap(), SignedDuration::from_hours(72));
        for bad in ["", "5", "m", "0s", "-1d", "5 m", "1y", "99999999999999999w"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
