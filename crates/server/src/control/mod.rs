//! The control plane, `/_localbroker/*`: what a test harness needs that IBKR's API has no
//! words for: the state digest, scripted logins, the simulated clock, market overrides and
//! money paid into or out of accounts, dividends and splits.

pub mod accounts;
pub mod clients;
pub mod clock;
pub mod flex;
pub mod market;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::LoginError;
use crate::error::{ApiError, ErrorBody};
use crate::extract::JsonBody;
use crate::state::AppState;

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

/// The control plane's routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(state_digest))
        .routes(routes!(login))
        .routes(routes!(clock::clock, clock::change_clock))
        .routes(routes!(market::change_market))
        .routes(routes!(accounts::deposit))
        .routes(routes!(accounts::withdraw))
        .routes(routes!(market::announce_corporate_action))
        .routes(routes!(drop_websockets))
        .routes(routes!(clients::register_client, clients::list_clients))
        .routes(routes!(clients::approve_client))
        .routes(routes!(clients::revoke_client))
        .routes(routes!(clients::assign_client_accounts))
        .routes(routes!(flex::issue_flex_token))
        .routes(routes!(flex::define_flex_query))
}
