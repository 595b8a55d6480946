//! IBKR's echo utilities: cheap probes that a client's access token, scopes and signing work.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{RawQuery, State};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::gateway::problem::Problem;
use crate::gateway::{Authorized, EchoRead, EchoWrite};
use crate::gateway::{SecurityPolicy, TextBody};
use crate::state::AppState;

/// What the server understood of the request (IBKR's `EchoResponse`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EchoResponse {
    /// `GET` or `POST`.
    request_method: String,
    /// `HTTPS` or `SIGNED_JWT`.
    security_policy: SecurityPolicy,
    /// The query parameters, as sent.
    query_parameters: BTreeMap<String, String>,
}

/// Echoes a request made with an access token holding `echo.read`.
#[utoipa::path(
    get,
    path = "/gw/api/v1/echo/https",
    operation_id = "getEchoHttps",
    tag = "Utilities Echo",
    responses(
        (status = 200, description = "The request, as understood", body = EchoResponse),
        crate::docs::NoAccessToken,
        (status = 403, description = "The token lacks echo.read", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn https(
    RawQuery(query): RawQuery,
    _client: Authorized<EchoRead>,
) -> Result<Json<EchoResponse>, Problem> {
    let query: BTreeMap<String, String> = crate::gateway::query(query.as_deref())?;
    Ok(Json(EchoResponse {
        request_method: "GET".into(),
        security_policy: SecurityPolicy::Https,
        query_parameters: query,
    }))
}

/// The claims of a signed echo request: IBKR's example names only the issuer.
#[derive(Debug, Deserialize)]
struct EchoClaims {}

/// Echoes a request made with an access token holding `echo.write` and a body signed with the
/// client's key (`Content-Type: application/jwt`).
#[utoipa::path(
    post,
    path = "/gw/api/v1/echo/signed-jwt",
    operation_id = "postEchoSignedJwt",
    tag = "Utilities Echo",
    request_body(content = String, content_type = "application/jwt", description = "A JWT signed by the client, with its id as iss"),
    responses(
        (status = 200, description = "The request, as understood", body = EchoResponse),
        (status = 400, description = "The body is not a JWT signed by the client", body = Problem, content_type = "application/problem+json"),
        crate::docs::NoAccessToken,
        (status = 403, description = "The token lacks echo.write", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn signed_jwt(
    State(app): State<AppState>,
    client: Authorized<EchoWrite>,
    RawQuery(query): RawQuery,
    TextBody(body): TextBody,
) -> Result<Json<EchoResponse>, Problem> {
    let query: BTreeMap<String, String> = crate::gateway::query(query.as_deref())?;
    let signed = client.signed::<EchoClaims>(&body)?;
    crate::gateway::spend(&app, Some(signed.request)).await?;
    Ok(Json(EchoResponse {
        request_method: "POST".into(),
        security_policy: SecurityPolicy::SignedJwt,
        query_parameters: query,
    }))
}
