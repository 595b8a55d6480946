//! The control plane's door. `/_localbroker/*` can move the clock, pay money in and register
//! OAuth clients, so on a server others can reach it needs the admin token printed at start.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::auth::bearer_token;
use crate::error::ApiError;
use crate::state::AppState;

/// The SHA-256 of the admin token, kept instead of the token so that no comparison leaks it
/// by timing.
#[derive(Clone)]
pub struct AdminToken([u8; 32]);

impl AdminToken {
    /// Guards the control plane with `token`.
    pub fn new(token: &str) -> Self {
        Self(Sha256::digest(token.as_bytes()).into())
    }

    fn admits(&self, token: &str) -> bool {
        let offered: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        offered == self.0
    }
}

impl std::fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminToken(..)")
    }
}

/// Middleware for the control plane: with an admin token set, a request must carry it as
/// `Authorization: Bearer`.
pub async fn require_admin(State(app): State<AppState>, request: Request, next: Next) -> Response {
    let Some(admin) = &app.admin_token else { return next.run(request).await };
    match bearer_token(request.headers()) {
        Some(token) if admin.admits(token) => next.run(request).await,
        Some(_) => {
            ApiError::new(axum::http::StatusCode::FORBIDDEN, "the admin token is wrong").into_response()
        }
        None => {
            let mut response = ApiError::new(
                axum::http::StatusCode::UNAUTHORIZED,
                "the control plane needs the admin token printed at start, as Authorization: Bearer",
            )
            .into_response();
            let challenge =
                axum::http::HeaderValue::from_static("Bearer realm=\"localbroker control plane\"");
            response.headers_mut().insert(axum::http::header::WWW_AUTHENTICATE, challenge);
            response
        }
    }
}
