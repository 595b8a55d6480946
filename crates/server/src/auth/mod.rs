//! Who is calling. In gateway mode (the default on loopback) the server acts like IBKR's
//! Client Portal Gateway: a request that carries no credentials acts for the user logged in at
//! the gateway, as the real gateway does for whoever logged in through its page. In strict
//! mode every trading request must name its session: a bearer from
//! `/gw/api/v1/sso-sessions`, or the cookie the login page sets.

pub mod admin;
pub mod password;
pub mod site;

use std::convert::Infallible;
use std::fmt;
use std::str::FromStr;

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use engine::state::{Session, State};
use jiff::Timestamp;
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::state::AppState;

/// The cookie the login page of a strict server sets: a random token naming the session.
pub const SESSION_COOKIE: &str = "localbroker_session";

/// Whether requests without credentials are served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    /// A request without credentials acts for the user logged in at the gateway, and the
    /// control plane is open: a developer's machine, as with IBKR's CP Gateway.
    Gateway,
    /// Every trading request needs a bearer or a login cookie, and the control plane the
    /// admin token: a server others can reach.
    Strict,
}

impl FromStr for AuthMode {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "gateway" => Ok(Self::Gateway),
            "strict" => Ok(Self::Strict),
            other => Err(format!("unknown auth mode {other:?}: use gateway or strict")),
        }
    }
}

impl fmt::Display for AuthMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Gateway => "gateway",
            Self::Strict => "strict",
        })
    }
}

/// The session a trading request acts for: the one its `Authorization: Bearer` token or its
/// login cookie names, or else, in gateway mode, the session logged in at the gateway.
/// Handlers reach the session only through this extractor.
#[derive(Debug, Clone, Copy)]
pub struct Caller {
    /// The SHA-256 of the bearer token or login cookie the request carries, if any.
    token: Option<[u8; 32]>,
    /// Whether a request without a token acts for the gateway's session.
    gateway: bool,
    /// Whether the token is the login page's cookie, which a browser sends by itself.
    via_cookie: bool,
}

impl Caller {
    /// The caller of a request with these headers, on a server in `mode`.
    pub fn of(headers: &HeaderMap, mode: AuthMode) -> Self {
        let gateway = mode == AuthMode::Gateway;
        match (bearer_token(headers), cookie(headers, SESSION_COOKIE)) {
            (Some(bearer), _) => Self { gateway, ..Self::with_token(bearer) },
            (None, Some(cookie)) => Self { gateway, via_cookie: true, ..Self::with_token(cookie) },
            (None, None) => Self { token: None, gateway, via_cookie: false },
        }
    }

    /// The caller that `token` (a bearer or a login cookie's value) names, and nothing else.
    pub fn with_token(token: &str) -> Self {
        Self { token: Some(Sha256::digest(token.as_bytes()).into()), gateway: false, via_cookie: false }
    }

    /// Whether the request named a session of its own rather than relying on the gateway's.
    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }
}

/// A random token of 256 bits, as lowercase hex: bearers, login cookies, the admin token.
pub fn random_token() -> String {
    format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

/// The token of an `Authorization: Bearer` header.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|token| !token.is_empty())
}

/// The value of cookie `name`, from any `Cookie` header of the request.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find_map(|(key, value)| (key == name).then_some(value))
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Self::Rejection> {
        Ok(Self::of(&parts.headers, app.auth))
    }
}

impl Caller {
    /// Runs `query` on the engine with the caller's session.
    ///
    /// # Errors
    /// 401 when the caller has no open session, or its lifetime is over; 503 when the broker
    /// is stopping.
    pub async fn read<R, F>(self, app: &AppState, query: F) -> Result<R, ApiError>
    where
        R: Send + 'static,
        F: FnOnce(&State, &Session) -> R + Send + 'static,
    {
        let now = Timestamp::now();
        let Self { token, gateway, .. } = self;
        let token = token.map(hex::encode);
        app.broker
            .read(move |engine| {
                let state = engine.state();
                let session = match &token {
                    Some(hash) => state.oauth().sso_sessions.get(hash).and_then(|id| state.session(id)),
                    None if gateway => state.gateway_session(),
                    None => None,
                };
                session.filter(|session| session.is_active(now)).map(|session| query(state, session))
            })
            .await?
            .ok_or_else(ApiError::not_authenticated)
    }
}

/// Why a gateway login failed.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("invalid username or password")]
    InvalidCredentials,
    #[error("too many failed logins: try again later")]
    Paced(crate::pacing::Paced),
    #[error(transparent)]
    Broker(#[from] crate::broker::BrokerError),
}

/// The user `username` names, if `password` is theirs. The password is checked here, off the
/// engine thread, because hashing is deliberately slow; a username that names nobody costs the
/// same check, so that the time taken does not tell it apart.
async fn verified_user(
    app: &AppState,
    username: &str,
    password: &str,
) -> Result<model::Username, LoginError> {
    let user: Option<model::Username> = username.trim().parse().ok();
    let lookup = user.clone();
    let hash = app
        .broker
        .read(move |engine| {
            lookup.and_then(|user| engine.state().user(&user).map(|u| u.password_hash.clone()))
        })
        .await?;
    let matches = app.password_checks.verify(password.to_owned(), hash).await;
    user.filter(|_| matches).ok_or(LoginError::InvalidCredentials)
}

/// Logs `username` in if `password` is theirs, as the server's mode has it: at the gateway,
/// or, in strict mode, with a session of its own. Answers the session, and in strict mode the
/// token (cookie or bearer) that reaches it. `address` is the client's: ten failures a
/// minute from it, or for the username, and further tries are refused unchecked.
///
/// # Errors
/// [`LoginError::InvalidCredentials`] for an unknown user or a wrong password (the two are not
/// told apart); [`LoginError::Paced`] after too many failures; [`LoginError::Broker`] when
/// the login cannot be journaled.
pub async fn login(
    app: &AppState,
    address: Option<std::net::SocketAddr>,
    username: &str,
    password: &str,
) -> Result<(model::SessionId, Option<String>), LoginError> {
    let address = address.map_or_else(String::new, |address| address.ip().to_string());
    let attempt = app.pacing.admit_login(&address, username).map_err(LoginError::Paced)?;
    let logged_in = match app.auth {
        AuthMode::Gateway => gateway_login(app, username, password).await.map(|session| (session, None)),
        AuthMode::Strict => {
            browser_login(app, username, password).await.map(|(session, token)| (session, Some(token)))
        }
    };
    if !matches!(logged_in, Err(LoginError::InvalidCredentials)) {
        attempt.succeeded();
    }
    logged_in
}

/// The `Set-Cookie` value that hands a strict login's session to a browser: script cannot read
/// it, other sites' requests do not carry it, and over HTTPS it never travels in clear.
pub fn session_cookie(token: &str, https: bool) -> String {
    let secure = if https { "; Secure" } else { "" };
    format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict{secure}")
}

/// The `Set-Cookie` value that ends it, at logout.
pub fn expired_session_cookie() -> String {
    format!("{SESSION_COOKIE}=; Path=/; Max-Age=0")
}

/// Logs `username` in at the gateway if `password` is theirs, replacing whoever was logged in.
///
/// # Errors
/// [`LoginError::InvalidCredentials`] for an unknown user or a wrong password (the two are not
/// told apart); [`LoginError::Broker`] when the login cannot be journaled.
async fn gateway_login(
    app: &AppState,
    username: &str,
    password: &str,
) -> Result<model::SessionId, LoginError> {
    let user = verified_user(app, username, password).await?;
    let executed = app.broker.execute(engine::Command::GatewayLogin { user }).await?;
    app.forget_closed_sessions(&executed.events);
    opened_session(executed.reply)
}

/// Logs `username` in through a strict server's login page if `password` is theirs, with a
/// session of its own; answers the session and the token (cookie or bearer) that reaches it.
///
async fn browser_login(
    app: &AppState,
    username: &str,
    password: &str,
) -> Result<(model::SessionId, String), LoginError> {
    let user = verified_user(app, username, password).await?;
    let token = random_token();
    let token_hash = hex::encode(Sha256::digest(token.as_bytes()));
    let executed = app.broker.execute(engine::Command::BrowserLogin { user, token_hash }).await?;
    opened_session(executed.reply).map(|session| (session, token))
}

/// The session a login opened.
fn opened_session(reply: engine::Reply) -> Result<model::SessionId, LoginError> {
    match reply {
        engine::Reply::SessionOpened(session) => Ok(session),
        _ => Err(LoginError::Broker(crate::broker::BrokerError::Unavailable)),
    }
}

/// A trading path relative to `/v1/api` (or `/v1/portal`), whether or not the router already
/// took the prefix off.
pub(crate) fn api_path(path: &str) -> &str {
    ["/v1/api", "/v1/portal"].iter().find_map(|prefix| path.strip_prefix(prefix)).unwrap_or(path)
}

/// Whether a trading path needs its user's brokerage session: all of `/iserver` except the
/// calls that report or open it, as IBKR's read-only session still serves `/portfolio`,
/// `/trsrv`, `/pa` and `/fyi`.
fn needs_brokerage(path: &str) -> bool {
    let path = api_path(path);
    path.starts_with("/iserver/") && !path.starts_with("/iserver/auth/") && path != "/iserver/reauthenticate"
}

/// Middleware for the Trading API: every call needs a logged-in session, as at IBKR, where
/// `trsrv`, `iserver` and `portfolio` alike answer 401 after a logout; `/iserver` also needs
/// the brokerage session, which another session of the same user may have taken.
pub async fn require_session(
    axum::extract::State(app): axum::extract::State<AppState>,
    caller: Caller,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let path = request.uri().path();
    // A browser sends the login cookie with whatever another site makes it request; only the
    // page's own origin may change anything with it, or open a socket.
    if caller.via_cookie
        && (!request.method().is_safe() || api_path(path) == "/ws")
        && site::cross_site(request.headers())
    {
        return ApiError::new(axum::http::StatusCode::FORBIDDEN, "cross-site request refused")
            .into_response();
    }
    // The websocket authenticates itself: it also takes `?bearer_token=`, and a gateway
    // client's `api` cookie or first message.
    if api_path(path) == "/ws" {
        return next.run(request).await;
    }
    let brokerage = needs_brokerage(path);
    let now = Timestamp::now();
    let found = caller
        .read(&app, move |state, session| {
            (session.user.clone(), !brokerage || state.holds_brokerage(session, now))
        })
        .await;
    let (user, allowed) = match found {
        Ok(found) => found,
        Err(error) => return error.into_response(),
    };
    if !allowed {
        return ApiError::not_authenticated().into_response();
    }
    if let Err(paced) = app.pacing.admit(user.as_str(), api_path(path), !caller.has_token()) {
        return paced.into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn a_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.append("cookie", HeaderValue::from_static("a=1; localbroker_session=abc"));
        headers.append("cookie", HeaderValue::from_static("b=2"));
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&headers, "b"), Some("2"));
        assert_eq!(cookie(&headers, "c"), None);
    }

    #[test]
    fn only_iserver_trading_calls_need_the_brokerage_session() {
        for path in
            ["/iserver/accounts", "/v1/api/iserver/account/orders", "/v1/portal/iserver/marketdata/snapshot"]
        {
            assert!(needs_brokerage(path), "{path}");
        }
        for path in [
            "/iserver/auth/status",
            "/iserver/auth/ssodh/init",
            "/iserver/reauthenticate",
            "/portfolio/accounts",
            "/tickle",
            "/v1/api/sso/validate",
        ] {
            assert!(!needs_brokerage(path), "{path}");
        }
    }

    #[test]
    fn strict_callers_without_a_token_have_no_gateway_to_fall_back_on() {
        let empty = HeaderMap::new();
        assert!(Caller::of(&empty, AuthMode::Gateway).gateway);
        assert!(!Caller::of(&empty, AuthMode::Strict).gateway);
        let mut bearer = HeaderMap::new();
        bearer.insert("authorization", HeaderValue::from_static("Bearer xyz"));
        assert!(Caller::of(&bearer, AuthMode::Strict).has_token());
    }
}
