//! The whole HTTP surface, assembled.

use std::sync::LazyLock;
use std::time::Duration;

use axum::extract::OriginalUri;
use axum::http::{Method, Request, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::{Router, middleware};
use tower::Layer;
use tower::util::{MapRequest, MapRequestLayer};
use tower_http::classify::ServerErrorsFailureClass;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::admin::require_admin;
use crate::auth::require_session;
use crate::auth::site::{GatewayGuard, Guarded};
use crate::docs::ApiDoc;
use crate::error::ApiError;
use crate::spec::{SpecMatch, SpecRoutes};
use crate::state::AppState;
use crate::{account_management, control, flex, gateway, login_page, oauth, trading};

static SPEC_ROUTES: LazyLock<SpecRoutes> =
    LazyLock::new(|| SpecRoutes::new(&crate::spec::implemented(&openapi())));

/// Our OpenAPI document: the Trading API under `/v1/api`, and the control plane.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, trading) = trading::router().split_for_parts();
    let (_, control) = control::router().split_for_parts();
    let (_, oauth) = oauth::router().split_for_parts();
    let (_, gateway) = gateway::router().merge(account_management::router()).split_for_parts();
    ApiDoc::openapi().nest("/v1/api", trading).merge_from(control).merge_from(oauth).merge_from(gateway)
}

/// The routes behind the gateway-mode guard and the request rewrite that tidies API paths
/// (repeated and trailing slashes).
pub type App<B> = MapRequest<Guarded<Router>, fn(Request<B>) -> Request<B>>;

/// The application: every route, with API paths tidied of repeated and trailing slashes, then what a
/// gateway-mode server refuses refused, before routing.
pub fn app<B>(state: AppState) -> App<B> {
    let guard = GatewayGuard::new(state.auth, state.allowed_hosts.clone());
    MapRequestLayer::new(tidy_path as fn(Request<B>) -> Request<B>).layer(guard.layer(router(state)))
}

/// IBKR's gateway reads an API path with its repeated slashes collapsed and its trailing slash
/// dropped: it answers `iserver/account/trades/` like `iserver/account/trades`, and
/// `/v1/portal//iserver/accounts` like `/v1/portal/iserver/accounts`; clients send both forms
/// (`reference/clients.md` §2.2). Only API paths are tidied: Swagger UI lives at `/docs/`.
fn tidy_path<B>(mut request: Request<B>) -> Request<B> {
    let uri = request.uri();
    let path = uri.path();
    let untidy = path.contains("//") || (path.len() > 1 && path.ends_with('/'));
    if !untidy {
        return request;
    }
    let mut tidy = String::with_capacity(path.len());
    for segment in path.split('/').filter(|segment| !segment.is_empty()) {
        tidy.push('/');
        tidy.push_str(segment);
    }
    let api = ["/v1/", "/gw/", "/oauth2/", "/_localbroker/"].iter().any(|prefix| tidy.starts_with(prefix));
    if !api {
        return request;
    }
    if let Some(query) = uri.query() {
        tidy = format!("{tidy}?{query}");
    }
    if let Ok(new_uri) = tidy.parse::<Uri>() {
        *request.uri_mut() = new_uri;
    }
    request
}

fn router(state: AppState) -> Router {
    let (trading, _) = trading::router().split_for_parts();
    let trading = trading
        .route_layer(middleware::from_fn_with_state(state.clone(), require_session))
        .method_not_allowed_fallback(wrong_method);
    let (control, _) = control::router().split_for_parts();
    let control = control.route_layer(middleware::from_fn_with_state(state.clone(), require_admin));
    let (oauth, _) = oauth::router().split_for_parts();
    let (gateway, _) = gateway::router().merge(account_management::router()).split_for_parts();
    Router::new()
        .nest("/v1/api", trading.clone())
        // IBKR's gateway serves the same tree under /v1/portal; ibeam uses it.
        .nest("/v1/portal", trading)
        .merge(control)
        .merge(oauth)
        .merge(gateway)
        .merge(login_page::router())
        .merge(flex::router())
        .merge(docs())
        .fallback(unrouted)
        .method_not_allowed_fallback(wrong_method)
        // A span per request (method, path, status, latency) for LOCALBROKER_LOG=debug. The
        // path only: a websocket's query carries its bearer, and secrets stay out of logs.
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span as fn(&Request<axum::body::Body>) -> tracing::Span)
                .on_failure(server_failure as fn(ServerErrorsFailureClass, Duration, &tracing::Span)),
        )
        .with_state(state)
}

/// Swagger UI at `/docs`, whose own answer to a file it does not have is an empty 404: JSON
/// here, as everywhere else.
fn docs() -> Router<AppState> {
    let swagger: Router<AppState> = SwaggerUi::new("/docs").url("/openapi.json", openapi()).into();
    swagger.layer(middleware::map_response(|response: Response| async move {
        let empty = axum::body::HttpBody::size_hint(response.body()).exact() == Some(0);
        if response.status() == StatusCode::NOT_FOUND && empty {
            return ApiError::not_found("no such file in the API documentation").into_response();
        }
        response
    }))
}

/// Logs an answer that failed on the server's side. The 501s of what LocalBroker does not
/// implement and the 503s of a stopping broker are answers given by design, not failures: at
/// error level, a client walking the API would flood the log with them.
fn server_failure(class: ServerErrorsFailureClass, latency: Duration, _: &tracing::Span) {
    match class {
        ServerErrorsFailureClass::StatusCode(status)
            if matches!(status, StatusCode::NOT_IMPLEMENTED | StatusCode::SERVICE_UNAVAILABLE) =>
        {
            tracing::debug!(%status, ?latency, "refused by design");
        }
        class => tracing::error!(%class, ?latency, "the request failed"),
    }
}

/// The span of a request: its method and path, never its query or headers.
fn request_span(request: &Request<axum::body::Body>) -> tracing::Span {
    tracing::debug_span!("request", method = %request.method(), path = %request.uri().path())
}

/// A request no route took: an IBKR operation not built yet (501), an IBKR path with another
/// method (405), or nothing IBKR knows (404). Always JSON, as clients parse every body, in the
/// shape of the surface the path belongs to.
async fn unrouted(method: Method, OriginalUri(uri): OriginalUri) -> Response {
    match SPEC_ROUTES.classify(&method, uri.path()) {
        SpecMatch::Operation(reason) => not_implemented(&uri, reason),
        SpecMatch::OtherMethod => method_not_allowed(&method, &uri),
        SpecMatch::Unknown => {
            let message = format!("no such endpoint: {method} {}", uri.path());
            crate::error::refusal(uri.path(), StatusCode::NOT_FOUND, &message)
        }
    }
}

/// A path we route, with a method we do not: still 501 when IBKR defines that method.
async fn wrong_method(method: Method, OriginalUri(uri): OriginalUri) -> Response {
    match SPEC_ROUTES.classify(&method, uri.path()) {
        SpecMatch::Operation(reason) => not_implemented(&uri, reason),
        SpecMatch::OtherMethod | SpecMatch::Unknown => method_not_allowed(&method, &uri),
    }
}

/// 501, in the error shape of the API the path belongs to: problem details under `/gw/api`.
fn not_implemented(uri: &Uri, reason: Option<&'static str>) -> Response {
    let message = match reason {
        Some(reason) => format!("not implemented in LocalBroker: {reason}"),
        None => "not implemented in LocalBroker yet".to_owned(),
    };
    crate::error::refusal(uri.path(), StatusCode::NOT_IMPLEMENTED, &message)
}

/// 405, in the error shape of the API the path belongs to.
fn method_not_allowed(method: &Method, uri: &Uri) -> Response {
    let message = format!("method {method} is not allowed on {}", uri.path());
    crate::error::refusal(uri.path(), StatusCode::METHOD_NOT_ALLOWED, &message)
}
