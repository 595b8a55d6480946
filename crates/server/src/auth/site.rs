//! Requests a browser sends on another site's behalf. A web page can make a browser send a
//! request to any address: a form or a `text/plain` POST goes without a CORS preflight, and a
//! page whose name resolves to 127.0.0.1 after it loaded (DNS rebinding) can read the answers
//! too. Programs other than browsers (every IBKR client) send neither `Origin` nor
//! `Sec-Fetch-Site`, and name the server as they reached it in `Host`.
//!
//! In gateway mode the server acts for its user without credentials, so [`GatewayGuard`]
//! refuses a `Host` that is not a loopback name, and a state-changing request or websocket
//! that a browser says another site sent. In strict mode credentials decide, and only the
//! login cookie, which a browser attaches by itself, needs [`cross_site`].

use std::sync::Arc;

use axum::http::{HeaderMap, HeaderName, StatusCode, header};
use axum::response::Response;

use super::AuthMode;

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

/// The host of an authority (`localhost:5000`, `[::1]:5000`, `127.0.0.1`), without its port
/// or an IPv6 address's brackets; `None` when it is not one.
fn host_of(authority: &str) -> Option<&str> {
    if let Some(bracketed) = authority.strip_prefix('[') {
        let (host, rest) = bracketed.split_once(']')?;
        return (rest.is_empty() || rest.strip_prefix(':').is_some_and(is_port)).then_some(host);
    }
    let host = match authority.rsplit_once(':') {
        Some((host, port)) if is_port(port) => host,
        Some(_) => return None,
        None => authority,
    };
    let valid = !host.is_empty() && host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
    valid.then_some(host)
}

fn is_port(text: &str) -> bool {
    !text.is_empty() && text.len() <= 5 && text.bytes().all(|b| b.is_ascii_digit())
}

/// Whether `authority` names this machine's loopback interface, or a host `allowed` lists.
pub fn is_local(authority: &str, allowed: &[String]) -> bool {
    let Some(host) = host_of(authority) else { return false };
    if allowed
        .iter()
        .any(|name| name.trim_start_matches('[').trim_end_matches(']').eq_ignore_ascii_case(host))
    {
        return true;
    }
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return ip.is_loopback();
    }
    // RFC 6761 reserves `localhost` and the names under it for loopback, and browsers keep
    // them there whatever DNS says.
    const LOCALHOST: &str = "localhost";
    host.eq_ignore_ascii_case(LOCALHOST)
        || host
            .len()
            .checked_sub(LOCALHOST.len() + 1)
            .and_then(|start| host.get(start..))
            .is_some_and(|tail| tail.eq_ignore_ascii_case(".localhost"))
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

/// What a gateway-mode server refuses before routing: a request whose `Host` is not local (DNS
/// rebinding), and a state-changing request or websocket that a browser says another site
/// sent, both with 403 in the surface's shape. Requests without `Origin` or `Sec-Fetch-Site`,
/// as every IBKR client sends them, pass, and a strict server, where credentials decide, lets
/// everything through. It sits in front of every request, so it wraps the whole router as one
/// tower layer rather than each route.
#[derive(Debug, Clone)]
pub struct GatewayGuard {
    /// In gateway mode, the host names besides loopback ones the server answers to.
    allowed_hosts: Option<Arc<[String]>>,
}

impl GatewayGuard {
    /// The guard of a server in `mode`, admitting loopback names and `allowed_hosts`.
    pub fn new(mode: AuthMode, allowed_hosts: Arc<[String]>) -> Self {
        Self { allowed_hosts: (mode == AuthMode::Gateway).then_some(allowed_hosts) }
    }

    /// The answer to a request the guard refuses, if it refuses it.
    fn refusal<B>(&self, request: &axum::http::Request<B>) -> Option<Response> {
        let allowed = self.allowed_hosts.as_deref()?;
        let headers = request.headers();
        let path = request.uri().path();
        let host = headers
            .get(header::HOST)
            .and_then(|value| value.to_str().ok())
            .or_else(|| request.uri().authority().map(axum::http::uri::Authority::as_str));
        if host.is_some_and(|host| !is_local(host, allowed)) {
            let message = "this server answers only to loopback host names (see --allowed-host)";
            return Some(crate::error::refusal(path, StatusCode::FORBIDDEN, message));
        }
        let changes = !request.method().is_safe() || super::api_path(path) == "/ws";
        (changes && foreign(headers, allowed))
            .then(|| crate::error::refusal(path, StatusCode::FORBIDDEN, "cross-site request refused"))
    }
}

impl<S> tower::Layer<S> for GatewayGuard {
    type Service = Guarded<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Guarded { guard: self.clone(), inner }
    }
}

/// A service behind the [`GatewayGuard`].
#[derive(Debug, Clone)]
pub struct Guarded<S> {
    guard: GatewayGuard,
    inner: S,
}

impl<S, B> tower::Service<axum::http::Request<B>> for Guarded<S>
where
    S: tower::Service<axum::http::Request<B>, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = futures_util::future::Either<std::future::Ready<Result<Response, S::Error>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: axum::http::Request<B>) -> Self::Future {
        match self.guard.refusal(&request) {
            Some(refused) => futures_util::future::Either::Left(std::future::ready(Ok(refused))),
            None => futures_util::future::Either::Right(self.inner.call(request)),
        }
    }
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
