//! The gateway's login page at `/`: an HTML form, as IBKR's Client Portal Gateway serves, that
//! logs a user in after a logout (or switches user). In strict mode each login opens a session
//! of its own, reached with the cookie the page sets, and the gateway's session is left alone.

use axum::extract::{FromRequest, Request, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use crate::auth::{Caller, LoginError, login, session_cookie};
use crate::html::escape;
use crate::state::AppState;
use crate::trading::session::ClientAddr;

/// The login form's fields.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
}

/// A form that cannot be read is answered with the page, saying so: this surface is HTML.
impl FromRequest<AppState> for LoginForm {
    type Rejection = Response;

    async fn from_request(request: Request, app: &AppState) -> Result<Self, Self::Rejection> {
        let refused = |status, notice: &str| {
            (status, page("The login form could not be read.", Some(notice))).into_response()
        };
        let body = crate::extract::body_bytes(request, app)
            .await
            .map_err(|error| refused(error.status, &error.message))?;
        serde_urlencoded::from_bytes(&body)
            .map_err(|_| refused(StatusCode::BAD_REQUEST, "The form needs a username and a password."))
    }
}

fn page(status: &str, notice: Option<&str>) -> Html<String> {
    let notice = notice.map(|text| format!("<p class=\"notice\">{}</p>", escape(text))).unwrap_or_default();
    Html(format!(
        r#"<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>LocalBroker gateway login</title>
<style>body{{font-family:sans-serif;max-width:28em;margin:4em auto}}label,input,button{{display:block;margin:.4em 0}}.notice{{font-weight:bold}}</style>
</head>
<body>
<h1>LocalBroker</h1>
<p>{status}</p>
{notice}
<form method="post" action="/">
<label>Username <input name="username" autocomplete="username" required></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Log in</button>
</form>
<p><a href="/docs">API documentation</a></p>
</body>
</html>
"#,
        status = escape(status)
    ))
}

async fn current_status(app: &AppState, caller: Caller) -> String {
    match caller.read(app, |_, session| session.user.to_string()).await {
        Ok(user) => format!("Logged in as {user}."),
        Err(_) => "Nobody is logged in.".to_owned(),
    }
}

async fn show(State(app): State<AppState>, caller: Caller) -> Html<String> {
    page(&current_status(&app, caller).await, None)
}

async fn submit(
    State(app): State<AppState>,
    caller: Caller,
    ClientAddr(client): ClientAddr,
    form: LoginForm,
) -> Response {
    match login(&app, client, &form.username, &form.password).await {
        // The real gateway's page confirms with this sentence.
        Ok((_, None)) => {
            page(&current_status(&app, caller).await, Some("Client login succeeds")).into_response()
        }
        Ok((_, Some(token))) => {
            let status = format!("Logged in as {}.", form.username.trim());
            let cookie = [(axum::http::header::SET_COOKIE, session_cookie(&token, app.https))];
            (cookie, page(&status, Some("Client login succeeds"))).into_response()
        }
        Err(LoginError::InvalidCredentials) => (
            StatusCode::UNAUTHORIZED,
            page(&current_status(&app, caller).await, Some("Invalid username or password.")),
        )
            .into_response(),
        Err(LoginError::Paced(paced)) => {
            let notice = "Too many failed logins: try again in a minute.";
            let retry_after = [(axum::http::header::RETRY_AFTER, paced.retry_after_seconds().to_string())];
            (
                StatusCode::TOO_MANY_REQUESTS,
                retry_after,
                page(&current_status(&app, caller).await, Some(notice)),
            )
                .into_response()
        }
        Err(LoginError::Broker(_)) => {
            (StatusCode::SERVICE_UNAVAILABLE, page("The broker is not accepting logins.", None))
                .into_response()
        }
    }
}

/// The page's routes.
pub fn router() -> axum::Router<AppState> {
    axum::Router::new().route("/", get(show).post(submit))
}
