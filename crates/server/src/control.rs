//! The control plane, `/_localbroker/*`: what a test harness needs that IBKR's API has no
//! words for. Open on loopback.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{LoginError, gateway_login};
use crate::error::{ApiError, ErrorBody};
use crate::extract::JsonBody;
use crate::state::AppState;

/// The engine's state digest.
#[derive(Debug, Serialize, ToSchema)]
pub struct StateDigest {
    /// SHA-256 of the canonical state, hex-encoded. Equal digests mean equal states: compare
    /// one taken before a restart with one taken after it.
    digest: String,
}

/// A hash of the engine's whole canonical state.
#[utoipa::path(
    get,
    path = "/_localbroker/state/digest",
    operation_id = "getStateDigest",
    tag = "Control plane",
    responses((status = 200, description = "The digest", body = StateDigest))
)]
pub async fn state_digest(State(app): State<AppState>) -> Result<Json<StateDigest>, ApiError> {
    let digest = app.broker.read(|engine| engine.digest().to_string()).await?;
    Ok(Json(StateDigest { digest }))
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
}

/// Logs a user in at the gateway, as the login page does, replacing whoever was logged in.
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
    )
)]
pub async fn login(
    State(app): State<AppState>,
    JsonBody(request): JsonBody<LoginRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    let (Some(username), Some(password)) = (request.username, request.password) else {
        return Err(ApiError::bad_request("username and password are required"));
    };
    match gateway_login(&app, &username, &password).await {
        Ok(session) => {
            Ok(Json(LoginResponse { authenticated: true, username, session: session.to_string() }))
        }
        Err(LoginError::InvalidCredentials) => {
            Err(ApiError::new(StatusCode::UNAUTHORIZED, LoginError::InvalidCredentials.to_string()))
        }
        Err(LoginError::Broker(error)) => Err(error.into()),
    }
}

/// The control plane's routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(state_digest)).routes(routes!(login))
}
