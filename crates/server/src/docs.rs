//! Our own OpenAPI document, generated from the handlers, and Swagger UI over it. Swagger UI's
//! assets are vendored by the `utoipa-swagger-ui` crate, so `/docs` works without a network.

use utoipa::OpenApi;

/// The document's header.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "LocalBroker",
        description = "IBKR's Web API, self-hosted, with a simulated broker behind it. The Trading API is \
                       served under `/v1/api` (and `/v1/portal`); every IBKR operation not listed here \
                       answers 501.",
    ),
    tags(
        (name = "Session", description = "Login sessions and the brokerage connection"),
        (name = "Accounts", description = "Brokerage accounts"),
        (name = "Portfolio", description = "Portfolio accounts"),
        (name = "Contracts", description = "Instruments, their rules and schedules"),
        (name = "Market data", description = "Snapshots and history of the simulated market"),
        (name = "Control plane", description = "LocalBroker's own controls for test harnesses"),
    )
)]
pub struct ApiDoc;

/// 401 of a Trading API operation whose caller has no session.
#[derive(Debug, utoipa::IntoResponses)]
#[response(status = 401, description = "Nobody is logged in")]
pub struct NotLoggedIn(pub crate::error::ErrorBody);

/// 401 of a Trading API operation on an account: no session, or an account the caller may not
/// use.
#[derive(Debug, utoipa::IntoResponses)]
#[response(status = 401, description = "Not logged in, or not an account of the caller")]
pub struct NotCallersAccount(pub crate::error::ErrorBody);

/// 401 of an Account Management operation without a valid access token.
#[derive(Debug, utoipa::IntoResponses)]
#[response(status = 401, description = "No valid access token", content_type = "application/problem+json")]
pub struct NoAccessToken(pub crate::gateway::problem::Problem);
