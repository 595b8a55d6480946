//! Who is calling. In gateway mode (the default on loopback) the server acts like IBKR's
//! Client Portal Gateway: a request that carries no credentials acts for the user logged in at
//! the gateway, as the real gateway does for whoever logged in through its page.

pub mod password;

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use engine::state::{Session, State};
use jiff::Timestamp;
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::state::AppState;

/// The session a trading request acts for: the one its `Authorization: Bearer` token names
/// (opened through `/gw/api/v1/sso-sessions`), or else, in gateway mode, the session logged in
/// at the gateway. Handlers reach the session only through this extractor.
#[derive(Debug, Clone, Copy, Default)]
pub struct Caller {
    /// The SHA-256 of the bearer token the request carries, if any.
    bearer: Option<[u8; 32]>,
}

impl Caller {
    /// The gateway's caller: the session logged in at the gateway.
    pub fn gateway() -> Self {
        Self::default()
    }

    /// The caller a bearer token names.
    pub fn bearer(token: &str) -> Self {
        Self { bearer: Some(Sha256::digest(token.as_bytes()).into()) }
    }
}

/// The token of an `Authorization: Bearer` header.
pub fn bearer_token(headers: &axum::http::HeaderMap) -> Option<&str> {
    let value = headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|token| !token.is_empty())
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(bearer_token(&parts.headers).map_or_else(Self::gateway, Self::bearer))
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
        let bearer = self.bearer.map(hex::encode);
        app.broker
            .read(move |engine| {
                let state = engine.state();
                let session = match &bearer {
                    Some(hash) => state.oauth().sso_sessions.get(hash).and_then(|id| state.session(id)),
                    None => state.gateway_session(),
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
    #[error(transparent)]
    Broker(#[from] crate::broker::BrokerError),
}

/// Logs `username` in at the gateway if `password` is theirs, replacing whoever was logged in.
/// The password is checked here, off the engine thread, because hashing is deliberately slow.
///
/// # Errors
/// [`LoginError::InvalidCredentials`] for an unknown user or a wrong password (the two are not
/// told apart); [`LoginError::Broker`] when the login cannot be journaled.
pub async fn gateway_login(
    app: &AppState,
    username: &str,
    password: &str,
) -> Result<model::SessionId, LoginError> {
    let user: model::Username = username.trim().parse().map_err(|_| LoginError::InvalidCredentials)?;
    let lookup = user.clone();
    let hash = app
        .broker
        .read(move |engine| engine.state().user(&lookup).map(|u| u.password_hash.clone()))
        .await?
        .ok_or(LoginError::InvalidCredentials)?;
    let password = password.to_owned();
    let matches =
        tokio::task::spawn_blocking(move || password::verify(&password, &hash)).await.unwrap_or(false);
    if !matches {
        return Err(LoginError::InvalidCredentials);
    }
    let events = app.broker.execute(engine::Command::GatewayLogin { user }).await?;
    app.streams.forget_closed_sessions(&events);
    app.desk.forget_closed_sessions(&events);
    events
        .into_iter()
        .find_map(|event| match event {
            engine::Event::SessionOpened { session, .. } => Some(session),
            _ => None,
        })
        .ok_or(LoginError::Broker(crate::broker::BrokerError::Unavailable))
}

/// Middleware for the Trading API: every call needs a logged-in session, as at IBKR, where
/// `trsrv`, `iserver` and `portfolio` alike answer 401 after a logout.
pub async fn require_session(
    axum::extract::State(app): axum::extract::State<AppState>,
    caller: Caller,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    match caller.read(&app, |_, _| ()).await {
        Ok(()) => next.run(request).await,
        Err(error) => error.into_response(),
    }
}
