//! OAuth 2.0's token endpoint, `POST /oauth2/api/v1/token`: a registered client proves who it
//! is with a JWT signed by one of its keys (`private_key_jwt`, RFC 7521/7523) and gets an
//! access token for the scopes it was granted.
//!
//! The assertion is checked here, off the engine: its header names a key (`kid`) of the client
//! its `iss` names, with that key's algorithm (RS256 or ES256, never `none` or an HMAC); its
//! signature verifies; `iss` and `sub` are the client; `aud` is the token endpoint as IBKR's
//! clients name it; it expires within the hour and was not issued in the future. The engine
//! then refuses a `jti` used before and scopes not granted, and records the token's hash.

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use engine::oauth::{ClientKey, KeyAlgorithm, TokenGrant};
use engine::{Command, EngineError};
use jiff::{SignedDuration, Timestamp};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::broker::BrokerError;
use crate::gateway::problem::{InvalidArgument, Problem};
use crate::gateway::{Authorized, Signed, SsoSessionsWrite, TextBody, sealed};
use crate::state::AppState;

/// The assertion type RFC 7523 defines for `private_key_jwt`.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How long an access token works: IBKR's example says 86,399 seconds.
pub const TOKEN_LIFETIME: SignedDuration = SignedDuration::from_secs(86_399);

/// How far in the future an assertion may expire.
const LONGEST_ASSERTION: i64 = 3_600;

/// How far clocks may disagree.
const SKEW: i64 = 60;

/// How far ahead an assertion without a `jti` may expire. RFC 7523 makes `jti` optional and
/// ibauth 0.1.6, the only released OAuth 2.0 client of IBKR's, sends none (`iat - 10 s`,
/// `exp + 20 s`; `reference/clients.md` §6): such an assertion cannot be told from its replay,
/// so it is taken only while it is about to expire anyway. One with a `jti` is used once.
const LONGEST_WITHOUT_JTI: i64 = 60;

/// The token request, form-encoded.
#[derive(Debug, Deserialize, ToSchema)]
pub struct TokenRequest {
    /// `client_credentials`.
    grant_type: Option<String>,
    /// `urn:ietf:params:oauth:client-assertion-type:jwt-bearer`.
    client_assertion_type: Option<String>,
    /// The signed JWT.
    client_assertion: Option<String>,
    /// Space-separated scopes; all the client was granted when absent.
    scope: Option<String>,
}

/// The token.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    access_token: String,
    /// `Bearer`.
    token_type: String,
    /// Seconds.
    expires_in: i64,
    /// Space-separated.
    scope: String,
}

/// An RFC 6749 error: `invalid_request`, `invalid_client`, `invalid_grant`, `invalid_scope` or
/// `unsupported_grant_type`.
#[derive(Debug, Serialize, ToSchema)]
pub struct OAuthError {
    error: String,
    error_description: String,
}

/// A refused token request.
#[derive(Debug)]
pub struct Refusal {
    status: StatusCode,
    body: OAuthError,
}

impl Refusal {
    /// A refusal with this status, RFC 6749 error code and description.
    pub fn new(status: StatusCode, error: &str, description: impl Into<String>) -> Self {
        Self { status, body: OAuthError { error: error.into(), error_description: description.into() } }
    }

    fn client(description: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "invalid_client", description)
    }

    fn request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }
}

impl From<crate::extract::BodyError> for Refusal {
    fn from(error: crate::extract::BodyError) -> Self {
        Self::new(error.status, "invalid_request", error.message)
    }
}

/// The token request's form. RFC 6749 (§4.4, §5.2) has it form-encoded and every refusal an
/// `{"error", "error_description"}` object, so a body of another type, or one that cannot be
/// read, is an `invalid_request`.
#[derive(Debug)]
pub struct TokenForm(pub TokenRequest);

impl axum::extract::FromRequest<AppState> for TokenForm {
    type Rejection = Refusal;

    async fn from_request(request: axum::extract::Request, app: &AppState) -> Result<Self, Self::Rejection> {
        let content_type = request
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .map(|value| value.to_str().unwrap_or_default().to_ascii_lowercase());
        if content_type.is_some_and(|value| !value.starts_with("application/x-www-form-urlencoded")) {
            return Err(Refusal::request(
                "the token request is form-encoded (Content-Type: application/x-www-form-urlencoded)",
            ));
        }
        let body = crate::extract::body_bytes(request, app).await?;
        serde_urlencoded::from_bytes(&body)
            .map(TokenForm)
            .map_err(|error| Refusal::request(format!("the token request cannot be read: {error}")))
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}

/// The claims of a client assertion.
#[derive(Debug, Deserialize)]
struct Claims {
    iss: String,
    aud: serde_json::Value,
    iat: i64,
    exp: i64,
    jti: Option<String>,
}

/// Whether `aud` names the token endpoint as IBKR's clients do: `/token`, or a URL whose path
/// is `/oauth2/api/v1/token`.
fn is_token_audience(aud: &serde_json::Value) -> bool {
    let names =
        |value: &str| value == "/token" || value.trim_end_matches('/').ends_with("/oauth2/api/v1/token");
    match aud {
        serde_json::Value::String(value) => names(value),
        serde_json::Value::Array(values) => values.iter().filter_map(serde_json::Value::as_str).any(names),
        _ => false,
    }
}

/// The algorithm a key signs with.
pub fn algorithm(key: &ClientKey) -> Algorithm {
    match key.algorithm {
        KeyAlgorithm::Rs256 => Algorithm::RS256,
        KeyAlgorithm::Es256 => Algorithm::ES256,
    }
}

/// A decoding key for `key`, if its PEM is one of its algorithm.
pub fn decoding_key(key: &ClientKey) -> Option<DecodingKey> {
    match key.algorithm {
        KeyAlgorithm::Rs256 => DecodingKey::from_rsa_pem(key.public_key_pem.as_bytes()).ok(),
        KeyAlgorithm::Es256 => DecodingKey::from_ec_pem(key.public_key_pem.as_bytes()).ok(),
    }
}

/// The assertion's client and claims, once its signature and claims check out at `now`.
async fn verified(app: &AppState, assertion: &str, now: Timestamp) -> Result<(String, Claims), Refusal> {
    let header =
        decode_header(assertion).map_err(|_| Refusal::client("the client assertion is not a signed JWT"))?;
    if !matches!(header.alg, Algorithm::RS256 | Algorithm::ES256) {
        return Err(Refusal::client(format!(
            "assertions are signed with RS256 or ES256, not {:?}",
            header.alg
        )));
    }
    let kid = header.kid.ok_or_else(|| Refusal::client("the assertion's header names no kid"))?;
    // The client is named by the assertion itself: read it before verifying, trust it after.
    let mut peek = Validation::new(header.alg);
    peek.insecure_disable_signature_validation();
    peek.validate_exp = false;
    peek.validate_aud = false;
    peek.required_spec_claims.clear();
    let unverified = decode::<Claims>(assertion, &DecodingKey::from_secret(&[]), &peek)
        .map_err(|_| Refusal::client("the assertion's claims cannot be read"))?;
    let client_id = unverified.claims.iss;
    let (id, wanted_kid) = (client_id.clone(), kid.clone());
    let key = app
        .broker
        .read(move |engine| {
            let client = engine.state().oauth().clients.get(&id)?;
            (!client.revoked).then(|| client.keys.get(&wanted_kid).cloned()).flatten()
        })
        .await
        .map_err(|_| {
            Refusal::new(StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable", "the broker is stopping")
        })?
        .ok_or_else(|| Refusal::client(format!("no key {kid:?} is registered for client {client_id:?}")))?;
    if algorithm(&key) != header.alg {
        return Err(Refusal::client(format!("key {kid:?} signs with {:?}", algorithm(&key))));
    }
    let decoding =
        decoding_key(&key).ok_or_else(|| Refusal::client(format!("key {kid:?} cannot be read")))?;
    let mut validation = Validation::new(header.alg);
    validation.validate_aud = false;
    validation.leeway = 0;
    validation.set_issuer(&[client_id.as_str()]);
    validation.sub = Some(client_id.clone());
    validation.set_required_spec_claims(&["exp", "iat", "iss", "sub", "aud"]);
    let checked = decode::<Claims>(assertion, &decoding, &validation).map_err(|error| {
        use jsonwebtoken::errors::ErrorKind;
        match error.kind() {
            ErrorKind::ExpiredSignature => {
                Refusal::new(StatusCode::BAD_REQUEST, "invalid_grant", "the assertion has expired")
            }
            ErrorKind::InvalidSignature => Refusal::client("the assertion's signature does not verify"),
            _ => Refusal::client(format!("the assertion is not valid: {error}")),
        }
    })?;
    let claims = checked.claims;
    let seconds = now.as_second();
    if !is_token_audience(&claims.aud) {
        return Err(Refusal::client("the assertion's aud is not the token endpoint"));
    }
    if claims.iat > seconds + SKEW {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "the assertion was issued in the future",
        ));
    }
    if claims.exp > seconds + LONGEST_ASSERTION {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "the assertion expires more than an hour ahead",
        ));
    }
    match &claims.jti {
        Some(jti) if jti.is_empty() || jti.len() > crate::gateway::MAX_JTI => {
            return Err(Refusal::new(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                format!("the assertion's jti is 1 to {} characters", crate::gateway::MAX_JTI),
            ));
        }
        None if claims.exp > seconds + LONGEST_WITHOUT_JTI => {
            return Err(Refusal::new(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                "an assertion without a jti may expire at most a minute ahead: give it a jti to use it longer",
            ));
        }
        Some(_) | None => {}
    }
    Ok((client_id, claims))
}

/// Issues an access token to a client that proves itself with a signed assertion.
#[utoipa::path(
    post,
    path = "/oauth2/api/v1/token",
    operation_id = "generateToken",
    tag = "Authorization Token",
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "The token", body = TokenResponse),
        (status = 400, description = "A malformed request, an expired or replayed assertion, or a scope not granted", body = OAuthError),
        (status = 401, description = "The client or its assertion is not valid", body = OAuthError),
    )
)]
pub async fn token(
    State(app): State<AppState>,
    TokenForm(request): TokenForm,
) -> Result<Json<TokenResponse>, Refusal> {
    if request.grant_type.as_deref() != Some("client_credentials") {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant_type must be client_credentials",
        ));
    }
    if request.client_assertion_type.as_deref() != Some(JWT_BEARER) {
        return Err(Refusal::client(format!("client_assertion_type must be {JWT_BEARER}")));
    }
    let assertion =
        request.client_assertion.ok_or_else(|| Refusal::request("client_assertion is required"))?;
    let now = Timestamp::now();
    let (client_id, claims) = verified(&app, &assertion, now).await?;
    let asked: BTreeSet<String> =
        request.scope.unwrap_or_default().split_whitespace().map(str::to_owned).collect();
    let id = client_id.clone();
    let granted = app
        .broker
        .read(move |engine| {
            engine.state().oauth().clients.get(&id).map(engine::oauth::OAuthClient::granted_scopes)
        })
        .await
        .ok()
        .flatten()
        .unwrap_or_default();
    let scopes = if asked.is_empty() { granted } else { asked };
    let token = crate::auth::random_token();
    let token_hash = hex::encode(Sha256::digest(token.as_bytes()));
    let assertion_expires = Timestamp::from_second(claims.exp).unwrap_or(now);
    let grant = TokenGrant {
        client_id,
        token_hash,
        scopes: scopes.clone(),
        jti: claims.jti,
        assertion_expires,
        lifetime: TOKEN_LIFETIME,
    };
    match app.broker.execute(Command::IssueToken { grant }).await {
        Ok(_) => Ok(Json(TokenResponse {
            access_token: token,
            token_type: "Bearer".into(),
            expires_in: TOKEN_LIFETIME.as_secs(),
            scope: scopes.into_iter().collect::<Vec<_>>().join(" "),
        })),
        Err(BrokerError::Rejected(EngineError::ScopeNotGranted(scope))) => Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            format!("scope {scope:?} is not granted to the client"),
        )),
        Err(BrokerError::Rejected(EngineError::AssertionReplayed(jti))) => Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            format!("the assertion {jti:?} was already used"),
        )),
        Err(BrokerError::Rejected(refusal)) => Err(Refusal::client(refusal.to_string())),
        Err(BrokerError::Unavailable) => Err(Refusal::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "the broker is stopping",
        )),
    }
}

/// The claims of an `sso-sessions` request body.
#[derive(Debug, Deserialize)]
struct SsoClaims {
    /// The IBKR username to act for. IBKR also requires the caller's public `ip`, which
    /// LocalBroker does not check.
    credential: String,
}

/// `sso-sessions`' answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct SsoSession {
    active: bool,
    /// The bearer for `/v1/api`.
    access_token: String,
    /// `Bearer`.
    token_type: String,
}

/// Opens a brokerage session for a user on behalf of a client: the request carries the
/// client's access token (scope `sso-sessions.write`) and a body signed with the client's key
/// (`Content-Type: application/jwt`) naming the user as `credential`. The answer's bearer
/// authorizes `/v1/api` as that user.
#[utoipa::path(
    post,
    path = "/gw/api/v1/sso-sessions",
    operation_id = "createSsoSessions",
    tag = "Authorization Token",
    request_body(content = String, content_type = "application/jwt"),
    responses(
        (status = 200, description = "The session's bearer", body = SsoSession),
        (status = 400, description = "A body that is not a valid signed request, or an unknown user", body = Problem, content_type = "application/problem+json"),
        crate::docs::NoAccessToken,
        (status = 403, description = "The token lacks sso-sessions.write, or the client may not act for the user: it neither onboarded them, nor manages their accounts, nor lists them in its world-file entry", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn sso_sessions(
    State(app): State<AppState>,
    client: Authorized<SsoSessionsWrite>,
    TextBody(body): TextBody,
) -> Result<Json<SsoSession>, Problem> {
    let Signed { claims, request } = client.signed::<SsoClaims>(&body)?;
    let username: model::Username = claims.credential.parse().map_err(|_| {
        let argument = InvalidArgument { field: "credential".into(), message: "not a username".into() };
        Problem::invalid("credential is not a username", vec![argument])
    })?;
    let session_token = crate::auth::random_token();
    let bearer_hash = hex::encode(Sha256::digest(session_token.as_bytes()));
    let command =
        Command::OpenClientSession { client_id: client.into_client().client_id, username, bearer_hash };
    match app.broker.execute(sealed(Some(request), command)).await {
        Ok(_) => {
            Ok(Json(SsoSession { active: true, access_token: session_token, token_type: "Bearer".into() }))
        }
        Err(BrokerError::Rejected(refusal @ EngineError::ClientMayNotActFor { .. })) => {
            Err(Problem::forbidden(refusal.to_string()))
        }
        Err(error @ BrokerError::Rejected(EngineError::SignedRequestReplayed)) => Err(error.into()),
        Err(BrokerError::Rejected(refusal)) => Err(Problem::invalid(refusal.to_string(), Vec::new())),
        Err(BrokerError::Unavailable) => Err(Problem::unavailable()),
    }
}

/// The OAuth 2.0 routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(token)).routes(routes!(sso_sessions))
}
