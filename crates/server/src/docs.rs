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
