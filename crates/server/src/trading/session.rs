//! Session endpoints: `tickle`, `iserver/auth/*`, `iserver/reauthenticate`, `logout`,
//! `sso/validate` (IBKR's "Trading Session" and "Authorization" tags).

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use engine::state::Session;
use engine::state::State as EngineState;
use engine::{Command, EngineError};
use jiff::Timestamp;
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Caller;
use crate::broker::BrokerError;
use crate::error::{ApiError, ErrorBody};
use crate::extract::JsonBody;
use crate::state::{AppState, ServerIdentity};
use crate::trading::{ServerInfo, is_paper};

/// The brokerage session's status (IBKR's `brokerageSessionStatus`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuthStatus {
    authenticated: bool,
    competing: bool,
    connected: bool,
    established: bool,
    message: String,
    /// A well-formed MAC address: ibauth validates it as one.
    #[serde(rename = "MAC")]
    mac: String,
    #[serde(rename = "serverInfo")]
    server_info: ServerInfo,
    hardware_info: String,
    fail: String,
}

/// `tickle`'s answer (IBKR's `successfulTickleResponse`).
#[derive(Debug, Serialize, ToSchema)]
pub struct TickleResponse {
    /// The session id; websocket clients present it in their `api` cookie.
    session: String,
    /// Milliseconds until the session ends.
    #[serde(rename = "ssoExpires")]
    sso_expires: i64,
    /// IBKR's spelling.
    collission: bool,
    #[serde(rename = "userId")]
    user_id: u64,
    hmds: HmdsStatus,
    iserver: IserverStatus,
}

/// IBKR reports its historical-data bridge this way even when history works.
#[derive(Debug, Serialize, ToSchema)]
pub struct HmdsStatus {
    error: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IserverStatus {
    #[serde(rename = "authStatus")]
    auth_status: AuthStatus,
}

/// The gateway machine's identity: a MAC and hardware id derived from the seed, so that
/// replays and restarts report the same ones.
struct Hardware {
    mac: String,
    hardware_info: String,
}

impl Hardware {
    fn of(seed: u64) -> Self {
        let hash = Sha256::new_with_prefix(b"localbroker/gateway-hardware")
            .chain_update(seed.to_be_bytes())
            .finalize();
        // A locally administered unicast address.
        let first = (hash[0] | 0x02) & !0x01;
        let octets = std::iter::once(first).chain(hash[1..6].iter().copied());
        let mac = octets.map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":");
        let hardware_info = format!("{}|{mac}", hex::encode(&hash[6..10]));
        Self { mac, hardware_info }
    }
}

/// The brokerage status of `session`: authenticated while it holds its user's brokerage
/// session, competing while another session of the user does.
fn auth_status(
    state: &EngineState,
    identity: &ServerIdentity,
    session: &Session,
    now: Timestamp,
) -> AuthStatus {
    let hardware = Hardware::of(state.seed());
    let (holds, competing) = state.brokerage_status(session, now);
    AuthStatus {
        authenticated: holds,
        competing,
        connected: true,
        established: holds,
        message: String::new(),
        mac: hardware.mac,
        server_info: ServerInfo::of(identity),
        hardware_info: hardware.hardware_info,
        fail: String::new(),
    }
}

fn millis_until(deadline: Timestamp, now: Timestamp) -> i64 {
    deadline.duration_since(now).as_millis().max(0).try_into().unwrap_or(i64::MAX)
}

/// Reports the session. At IBKR it also keeps an idle session from timing out; LocalBroker's
/// sessions have no idle timeout, only their daily lifetime.
#[utoipa::path(
    post,
    path = "/tickle",
    operation_id = "getSessionToken",
    tag = "Session",
    responses(
        (status = 200, description = "The session and its brokerage status", body = TickleResponse),
        crate::docs::NotLoggedIn,
    )
)]
pub async fn tickle(State(app): State<AppState>, caller: Caller) -> Result<Json<TickleResponse>, ApiError> {
    let identity = app.identity.clone();
    let now = Timestamp::now();
    let response = caller
        .read(&app, move |state, session| TickleResponse {
            session: session.id.to_string(),
            sso_expires: millis_until(session.expires_at(), now),
            collission: false,
            user_id: state.user(&session.user).map_or(0, |user| user.user_id),
            hmds: HmdsStatus { error: "no bridge".into() },
            iserver: IserverStatus { auth_status: auth_status(state, &identity, session, now) },
        })
        .await?;
    Ok(Json(response))
}

/// `tickle` by GET: IBKR documents POST, but ibauth sends GET, and the gateway answers both.
#[utoipa::path(
    get,
    path = "/tickle",
    operation_id = "getSessionTokenWithGet",
    tag = "Session",
    responses(
        (status = 200, description = "The session and its brokerage status", body = TickleResponse),
        crate::docs::NotLoggedIn,
    )
)]
pub async fn tickle_get(state: State<AppState>, caller: Caller) -> Result<Json<TickleResponse>, ApiError> {
    tickle(state, caller).await
}

/// The brokerage session's status.
#[utoipa::path(
    post,
    path = "/iserver/auth/status",
    operation_id = "getBrokerageStatus",
    tag = "Session",
    responses(
        (status = 200, description = "Brokerage session status", body = AuthStatus),
        crate::docs::NotLoggedIn,
    )
)]
pub async fn auth_status_handler(
    State(app): State<AppState>,
    caller: Caller,
) -> Result<Json<AuthStatus>, ApiError> {
    let identity = app.identity.clone();
    let now = Timestamp::now();
    Ok(Json(caller.read(&app, move |state, session| auth_status(state, &identity, session, now)).await?))
}

/// The brokerage session's status by GET, which the gateway answers like POST.
#[utoipa::path(
    get,
    path = "/iserver/auth/status",
    operation_id = "getBrokerageStatusWithGet",
    tag = "Session",
    responses(
        (status = 200, description = "Brokerage session status", body = AuthStatus),
        crate::docs::NotLoggedIn,
    )
)]
pub async fn auth_status_get(state: State<AppState>, caller: Caller) -> Result<Json<AuthStatus>, ApiError> {
    auth_status_handler(state, caller).await
}

/// Opens the brokerage session. IBKR allows one per username: a login takes it when no other
/// session of the user holds it; otherwise `compete: true` (the default) takes it over, and the
/// session that held it reports `competing` and loses `/iserver`, while `compete: false` leaves
/// it where it is and answers `authenticated: false, competing: true`.
#[utoipa::path(
    post,
    path = "/iserver/auth/ssodh/init",
    operation_id = "initializeSession",
    tag = "Session",
    request_body(
        content = serde_json::Value,
        description = "IBKR's `{\"publish\": true, \"compete\": true}`; optional"
    ),
    responses(
        (status = 200, description = "The brokerage session's status", body = AuthStatus),
        (status = 400, description = "The body is not JSON", body = ErrorBody),
        crate::docs::NotLoggedIn,
    )
)]
pub async fn init_brokerage(
    State(app): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<serde_json::Value>,
) -> Result<Json<AuthStatus>, ApiError> {
    let compete = body.get("compete").and_then(serde_json::Value::as_bool).unwrap_or(true);
    take_brokerage(&app, caller, compete).await?;
    auth_status_handler(State(app), caller).await
}

/// Asks for the caller's brokerage session, unless it holds it already (nothing to journal).
/// Refused for want of `compete`, the session stays as it is: its status tells.
async fn take_brokerage(app: &AppState, caller: Caller, compete: bool) -> Result<(), ApiError> {
    let now = Timestamp::now();
    let (session, (holds, held_elsewhere)) = caller
        .read(app, move |state, session| (session.id.clone(), state.brokerage_status(session, now)))
        .await?;
    // Nothing to journal: the session holds it, or keeps away from another's.
    if holds || (held_elsewhere && !compete) {
        return Ok(());
    }
    match app.broker.execute(Command::InitBrokerage { session, compete }).await {
        Ok(_) | Err(BrokerError::Rejected(EngineError::BrokerageHeld(_))) => Ok(()),
        Err(error) => Err(error.into()),
    }
}

/// IBKR's legacy reauthentication answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReauthenticateResponse {
    message: String,
}

/// The older form of `ssodh/init`, still used by ibeam: it takes the brokerage session as
/// `compete: true` does, and answers IBKR's acknowledgement.
#[utoipa::path(
    post,
    path = "/iserver/reauthenticate",
    operation_id = "reauthenticate",
    tag = "Session",
    responses(
        (status = 200, description = "Re-authentication was triggered", body = ReauthenticateResponse),
        crate::docs::NotLoggedIn,
    )
)]
pub async fn reauthenticate(
    State(app): State<AppState>,
    caller: Caller,
) -> Result<Json<ReauthenticateResponse>, ApiError> {
    take_brokerage(&app, caller, true).await?;
    Ok(Json(ReauthenticateResponse { message: "triggered".into() }))
}

/// `logout`'s answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct LogoutResponse {
    status: bool,
}

/// Ends the session. Afterwards every trading call answers 401 until someone logs in again.
#[utoipa::path(
    post,
    path = "/logout",
    operation_id = "logout",
    tag = "Session",
    responses(
        (status = 200, description = "The session ended", body = LogoutResponse),
        crate::docs::NotLoggedIn,
    )
)]
pub async fn logout(
    State(app): State<AppState>,
    caller: Caller,
    headers: axum::http::HeaderMap,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let session = caller.read(&app, |_, session| session.id.clone()).await?;
    let executed = app.broker.execute(Command::Logout { session }).await?;
    app.forget_closed_sessions(&executed.events);
    let body = Json(LogoutResponse { status: true });
    // A login page's session ends with its cookie.
    Ok(if crate::auth::cookie(&headers, crate::auth::SESSION_COOKIE).is_some() {
        ([(axum::http::header::SET_COOKIE, crate::auth::expired_session_cookie())], body).into_response()
    } else {
        body.into_response()
    })
}

/// The client's address, when the server knows it (tests that call the router directly have
/// none).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub Option<SocketAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| *addr)))
    }
}

/// `sso/validate`'s answer. Field names and JSON types are exactly what ibauth's strict model
/// and IBKR's gateway use (`reference/clients.md` §6).
#[derive(Debug, Serialize, ToSchema)]
#[allow(non_snake_case)]
pub struct SsoValidation {
    USER_ID: u64,
    USER_NAME: String,
    RESULT: bool,
    AUTH_TIME: i64,
    SF_ENABLED: bool,
    IS_FREE_TRIAL: bool,
    CREDENTIAL: String,
    IP: String,
    /// Milliseconds until the session ends.
    EXPIRES: i64,
    QUALIFIED_FOR_MOBILE_AUTH: Option<bool>,
    LANDING_APP: String,
    IS_MASTER: bool,
    lastAccessed: i64,
    /// 1 for a live login, 2 for a paper one.
    LOGIN_TYPE: u8,
    PAPER_USER_NAME: String,
    IS_PENDING_APPLICANT: bool,
    SF_CONFIG: String,
    CREDENTIAL_TYPE: u8,
    TOKEN: String,
    took: u64,
    HARDWARE_INFO: String,
    UNIQUE_LOGIN_ID: String,
    COUNTERPARTY: String,
    features: Features,
    region: String,
}

/// The feature flags `sso/validate` reports.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Features {
    env: String,
    wlms: bool,
    realtime: bool,
    bond: bool,
    option_chains: bool,
    calendar: bool,
    new_mf: bool,
}

/// Validates the SSO session and describes the user behind it.
#[utoipa::path(
    get,
    path = "/sso/validate",
    operation_id = "getSessionValidation",
    tag = "Session",
    responses(
        (status = 200, description = "The session is valid", body = SsoValidation),
        crate::docs::NotLoggedIn,
    )
)]
pub async fn validate(
    State(app): State<AppState>,
    caller: Caller,
    ClientAddr(client): ClientAddr,
) -> Result<Json<SsoValidation>, ApiError> {
    let now = Timestamp::now();
    let ip = client.map_or_else(|| "127.0.0.1".to_owned(), |addr| addr.ip().to_string());
    let validation = caller
        .read(&app, move |state, session| {
            let user = state.user(&session.user);
            let paper = state.entitled_accounts(session).all(|account| is_paper(&account.id));
            SsoValidation {
                USER_ID: user.map_or(0, |user| user.user_id),
                USER_NAME: session.user.to_string(),
                RESULT: true,
                AUTH_TIME: session.opened_at.as_millisecond(),
                SF_ENABLED: false,
                IS_FREE_TRIAL: false,
                CREDENTIAL: session.user.to_string(),
                IP: ip,
                EXPIRES: millis_until(session.expires_at(), now),
                QUALIFIED_FOR_MOBILE_AUTH: None,
                LANDING_APP: "UNIVERSAL".into(),
                IS_MASTER: false,
                lastAccessed: now.as_millisecond(),
                LOGIN_TYPE: if paper { 2 } else { 1 },
                PAPER_USER_NAME: session.user.to_string(),
                IS_PENDING_APPLICANT: false,
                SF_CONFIG: String::new(),
                CREDENTIAL_TYPE: 0,
                TOKEN: String::new(),
                took: 0,
                HARDWARE_INFO: Hardware::of(state.seed()).hardware_info,
                UNIQUE_LOGIN_ID: session.id.to_string(),
                COUNTERPARTY: String::new(),
                features: Features {
                    env: "PROD".into(),
                    wlms: true,
                    realtime: true,
                    bond: true,
                    option_chains: true,
                    calendar: true,
                    new_mf: true,
                },
                region: "NJ".into(),
            }
        })
        .await?;
    Ok(Json(validation))
}

/// The routes of IBKR's "Trading Session" and "Authorization" tags.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(tickle, tickle_get))
        .routes(routes!(auth_status_handler, auth_status_get))
        .routes(routes!(init_brokerage))
        .routes(routes!(reauthenticate))
        .routes(routes!(logout))
        .routes(routes!(validate))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gateway_mac_is_well_formed_and_stable() {
        let hardware = Hardware::of(42);
        let octets: Vec<&str> = hardware.mac.split(':').collect();
        assert_eq!(octets.len(), 6);
        assert!(octets.iter().all(|o| o.len() == 2 && u8::from_str_radix(o, 16).is_ok()));
        assert_eq!(Hardware::of(42).mac, hardware.mac);
        assert_ne!(Hardware::of(43).mac, hardware.mac);
        assert!(hardware.hardware_info.ends_with(&format!("|{}", hardware.mac)));
    }
}
