//! Requests a browser sends on another site's behalf. A web page can make a browser send a
//! request to any address: a form or a `text/plain` POST goes without a CORS preflight, and a
//! page whose name resolves to 127.0.0.1 after it loaded (DNS rebinding) can read the answers
//! too. Programs other than browsers (every IBKR client) send neither `Origin` nor
//! `Sec-Fetch-Site`, and name the server as they reached it in `Host`.
//!
//! In gateway mode the server acts for its user without credentials, so [`gateway_guard`]
//! refuses a `Host` that is not a loopback name, and a state-changing request or websocket
//! that a browser says another site sent. In strict mode credentials decide, and only the
//! login cookie, which a browser attaches by itself, needs [`cross_site`].

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use super::AuthMode;
use crate::state::AppState;

/// Whether a browser sent the request on another site's behalf: `Sec-Fetch-Site` says so, or
/// `Origin` names another host than the request's.
pub fn cross_site(headers: &HeaderMap) -> bool {
    let header = |name: HeaderName| headers.get(name).and_then(|value| value.to_str().ok());
    if let Some(site) = header(HeaderName::from_static("sec-fetch-site")) {
        return !matches!(site, "same-origin" | "none");
    }
    match header(header::ORIGIN) {
        None => false,
        Some(origin) => {
            let authority = origin.split_once("://").map(|(_, rest)| rest);
            authority.is_none() || authority != header(header::HOST)
        }
    }
}

/// Whether `authority` names this machine's loopback interface, or a host `allowed` lists.
pub fn is_local(authority: &str, allowed: &[String]) -> bool {
    let Ok(authority) = authority.parse::<axum::http::uri::Authority>() else { return false };
    let host = authority.host().trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
    if allowed
        .iter()
        .any(|name| name.trim_start_matches('[').trim_end_matches(']').eq_ignore_ascii_case(&host))
    {
        return true;
    }
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return ip.is_loopback();
    }
    // RFC 6761 reserves `localhost` and the names under it for loopback, and browsers keep
    // them there whatever DNS says.
    host == "localhost" || host.ends_with(".localhost")
}

/// Whether a browser says a page of another site, or of an origin that is not local, sent the
/// request.
fn foreign(headers: &HeaderMap, allowed: &[String]) -> bool {
    let origin = headers.get(header::ORIGIN).and_then(|value| value.to_str().ok());
    let remote = origin.is_some_and(|origin| {
        origin.split_once("://").is_none_or(|(_, authority)| !is_local(authority, allowed))
    });
    remote || cross_site(headers)
}

/// Middleware of a gateway-mode server: refuses, with 403 in the surface's shape, a request
/// whose `Host` is not local (DNS rebinding), and a state-changing request or websocket that a
/// browser says another site sent. Requests without `Origin` or `Sec-Fetch-Site`, as every
/// IBKR client sends them, pass.
pub async fn gateway_guard(State(app): State<AppState>, request: Request, next: Next) -> Response {
    if app.auth != AuthMode::Gateway {
        return next.run(request).await;
    }
    let headers = request.headers();
    let path = request.uri().path();
    let host = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .or_else(|| request.uri().authority().map(axum::http::uri::Authority::as_str));
    if host.is_some_and(|host| !is_local(host, &app.allowed_hosts)) {
        let message = "this server answers only to loopback host names (see --allowed-host)";
        return crate::error::refusal(path, StatusCode::FORBIDDEN, message);
    }
    let changes = !request.method().is_safe() || super::api_path(path) == "/ws";
    if changes && foreign(headers, &app.allowed_hosts) {
        return crate::error::refusal(path, StatusCode::FORBIDDEN, "cross-site request refused");
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn browsers_say_when_another_site_sends_a_request() {
        assert!(!cross_site(&headers(&[])), "curl and Python clients send neither header");
        assert!(!cross_site(&headers(&[("sec-fetch-site", "same-origin")])));
        assert!(cross_site(&headers(&[("sec-fetch-site", "same-site")])));
        assert!(cross_site(&headers(&[("sec-fetch-site", "cross-site")])));
        assert!(!cross_site(&headers(&[("origin", "https://127.0.0.1:5000"), ("host", "127.0.0.1:5000")])));
        assert!(cross_site(&headers(&[("origin", "http://127.0.0.1:8080"), ("host", "127.0.0.1:5000")])));
        assert!(cross_site(&headers(&[("origin", "null"), ("host", "127.0.0.1:5000")])));
    }

    #[test]
    fn loopback_names_and_addresses_are_local() {
        let none: &[String] = &[];
        for local in [
            "127.0.0.1:5000",
            "127.0.0.1",
            "127.1.2.3:80",
            "[::1]:5000",
            "localhost:5000",
            "LocalHost",
            "api.localhost:5000",
        ] {
            assert!(is_local(local, none), "{local}");
        }
        for remote in
            ["evil.example:5000", "10.0.0.1:5000", "[2001:db8::1]:5000", "localhost.evil.example", "", "a b"]
        {
            assert!(!is_local(remote, none), "{remote}");
        }
        assert!(is_local("broker:5000", &["broker".to_owned()]), "a host the operator allowed");
        assert!(is_local("172.17.0.2:5000", &["172.17.0.2".to_owned()]), "an address the operator allowed");
        assert!(is_local("[fd00::2]:5000", &["fd00::2".to_owned()]));
    }

    #[test]
    fn an_origin_must_be_local_and_the_browser_must_not_say_another_site() {
        let none: &[String] = &[];
        assert!(!foreign(&headers(&[]), none));
        assert!(!foreign(&headers(&[("origin", "http://localhost:5000"), ("host", "localhost:5000")]), none));
        assert!(foreign(&headers(&[("origin", "https://evil.example")]), none));
        assert!(foreign(&headers(&[("origin", "null")]), none));
        assert!(foreign(
            &headers(&[("sec-fetch-site", "cross-site"), ("origin", "http://localhost:5000")]),
            none
        ));
        assert!(!foreign(&headers(&[("sec-fetch-site", "none")]), none), "typed in the address bar");
    }
}
