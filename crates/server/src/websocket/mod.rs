//! The websocket, `GET /v1/api/ws`: IBKR's streaming protocol. A client subscribes with text
//! frames (`smd+265598+{"fields":["31"]}`, `sor+{}`, `spl`, …) and receives JSON messages
//! carrying a `topic`; the server also pushes `sts`, `act` and a `system` heartbeat every ten
//! seconds of wall time.
//!
//! A connection authenticates with a bearer from `/gw/api/v1/sso-sessions` (`?bearer_token=`
//! or an `Authorization: Bearer` header), or with the `api` cookie IBKR's gateway sets
//! (`api={"session": "<id>"}` as ibind sends it, or `api=<id>`); without either the server
//! answers `{"message": "waiting for session"}` and waits for `{"session": "<id>"}`. The session
//! must be open. Session ids are no secret, so a strict server takes neither the `api` cookie
//! nor `{"session": …}`: only a bearer or the login page's cookie, and answers 401 without.

pub mod connection;
pub mod event_hub;
pub mod market_hub;
pub mod protocol;
mod topics;

use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{AuthMode, Caller};
use crate::error::ApiError;
use crate::extract::QueryParams;
use crate::state::AppState;

/// The largest frame, and message, a client may send. IBKR's requests are a topic, a target
/// and a small JSON body (the longest, `smd` with every field, is under a kilobyte); the
/// library's own limits (16 MB frames, 64 MB messages) would let one client make the server
/// buffer gigabytes.
pub const MAX_CLIENT_MESSAGE: usize = 8 * 1024;

/// The session id an `api` cookie names: `api={"session": "<id>"}` or `api=<id>`.
pub fn session_from_cookie(headers: &HeaderMap) -> Option<String> {
    crate::auth::cookie(headers, "api").map(str::trim).and_then(|value| {
        if value.starts_with('{') {
            let parsed: serde_json::Value = serde_json::from_str(value).ok()?;
            parsed.get("session")?.as_str().map(str::to_owned)
        } else {
            (!value.is_empty()).then(|| value.to_owned())
        }
    })
}

/// Upgrades to IBKR's streaming protocol.
#[utoipa::path(
    get,
    path = "/ws",
    operation_id = "openWebsocket",
    tag = "Websocket",
    params(("bearer_token" = Option<String>, Query, description = "A bearer from /gw/api/v1/sso-sessions")),
    responses(
        (status = 101, description = "Switching to the websocket protocol"),
        (status = 400, description = "Not a websocket upgrade request"),
    )
)]
pub async fn websocket(
    State(app): State<AppState>,
    headers: HeaderMap,
    QueryParams(query): QueryParams<Vec<(String, String)>>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let upgrade = match upgrade {
        Ok(upgrade) => upgrade,
        Err(rejection) => return ApiError::new(rejection.status(), rejection.body_text()).into_response(),
    };
    let in_query = query.into_iter().find(|(key, _)| key == "bearer_token").map(|(_, token)| token);
    // Only a token here: a gateway client without one names its session by the `api` cookie.
    let caller = match in_query {
        Some(token) => Caller::with_token(&token),
        None => Caller::of(&headers, AuthMode::Strict),
    };
    let gateway = app.auth == AuthMode::Gateway;
    let session = if caller.has_token() {
        caller.read(&app, |_, session| session.id.as_str().to_owned()).await.ok()
    } else if gateway {
        session_from_cookie(&headers)
    } else {
        None
    };
    // A strict server answers 401 before upgrading, for a missing, unknown or ended session.
    if !gateway && session.is_none() {
        return ApiError::not_authenticated().into_response();
    }
    upgrade
        .max_frame_size(MAX_CLIENT_MESSAGE)
        .max_message_size(MAX_CLIENT_MESSAGE)
        .on_upgrade(move |socket| connection::serve(app, socket, session))
}

/// The websocket's route, `/ws` under the Trading API.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(websocket))
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn the_session_comes_from_either_form_of_the_api_cookie() {
        let mut headers = HeaderMap::new();
        headers.insert("cookie", HeaderValue::from_static(r#"x=1; api={"session": "abc123"}"#));
        assert_eq!(session_from_cookie(&headers).as_deref(), Some("abc123"));
        headers.insert("cookie", HeaderValue::from_static("api=def456"));
        assert_eq!(session_from_cookie(&headers).as_deref(), Some("def456"));
        headers.insert("cookie", HeaderValue::from_static("other=1"));
        assert_eq!(session_from_cookie(&headers), None);
    }
}
