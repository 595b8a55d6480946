//! IBKR's `/gw/api/v1` door, shared by the SSO sessions and Account Management: an OAuth 2.0
//! access token whose scopes include one the operation allows (IBKR's
//! `x-ib-gateway-allowed-scopes`), and, where IBKR's security policy is `SIGNED_JWT`, a body
//! that is a JWT signed by one of the client's registered keys. Errors are RFC 9457 problem
//! details, as IBKR's are there.

pub mod echo;
pub mod problem;
pub mod query_object;
pub mod schema;

use std::collections::{BTreeMap, BTreeSet};
use std::marker::PhantomData;
use std::ops::Deref;

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use engine::Command;
use engine::oauth::{ClientKey, SignedRequest};
use jiff::Timestamp;
use jsonwebtoken::{Validation, decode, decode_header};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::gateway::problem::Problem;
use crate::oauth::{algorithm, decoding_key};
use crate::state::AppState;

/// How IBKR secures an operation (`x-ib-gateway-security-policy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SecurityPolicy {
    /// The access token over TLS is enough.
    Https,
    /// The body is a JWT signed by the client.
    SignedJwt,
}

/// The client an access token was issued to, allowed the operation it calls.
#[derive(Debug, Clone)]
pub struct GatewayClient {
    /// The client's id.
    pub client_id: String,
    /// Its keys, to verify signed bodies with.
    keys: BTreeMap<String, ClientKey>,
    /// The accounts it manages through Account Management.
    accounts: BTreeSet<model::AccountId>,
    /// The SHA-256 of the access token the request came with: a signed body without a `jti`
    /// is known by it and by the body.
    token_hash: String,
}

/// How far ahead a signed body may expire: ibauth's `sso-sessions` bodies expire a day after
/// they are signed (`reference/clients.md` §6), IBKR's own guidance "up to 86400 s".
const LONGEST_SIGNED: i64 = 86_400;

/// How far clocks may disagree about when a body was signed.
const SKEW: i64 = 60;

/// The longest `jti` a signed body may carry: it is remembered until the body expires.
pub const MAX_JTI: usize = 256;

/// A signed body's claims, and the request it is spent as (see [`sealed`] and [`spend`]).
#[derive(Debug, Clone)]
pub struct Signed<T> {
    /// The claims: what the client asks for.
    pub claims: T,
    /// What the broker remembers it by, so that it is not used twice.
    pub request: SignedRequest,
}

/// `command`, applied only if the signed request it came in (if it came in one) was not used
/// before; the request is then spent with it.
pub fn sealed(request: Option<SignedRequest>, command: Command) -> Command {
    match request {
        Some(request) => Command::Signed { request, command: Some(Box::new(command)) },
        None => command,
    }
}

/// Spends a signed request that changes nothing else (a report, an echo).
///
/// # Errors
/// 400 when it was used before; 503 when the broker is stopping.
pub async fn spend(app: &AppState, request: Option<SignedRequest>) -> Result<(), Problem> {
    if let Some(request) = request {
        app.broker.execute(Command::Signed { request, command: None }).await?;
    }
    Ok(())
}

/// The scopes an operation accepts: its access token must hold one of them.
pub trait Scopes {
    /// IBKR's scopes for the operation.
    const ALLOWED: &'static [&'static str];
}

macro_rules! scopes {
    ($($(#[$doc:meta])* $name:ident = [$($scope:literal),+];)*) => {$(
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name;

        impl Scopes for $name {
            const ALLOWED: &'static [&'static str] = &[$($scope),+];
        }
    )*};
}

scopes! {
    /// Reading accounts, their requests and their details.
    AccountsRead = ["accounts.read"];
    /// Checking whether a user name is free.
    ValidationsRead = ["accounts.read", "validations.read"];
    /// Polling and querying banking instructions.
    InstructionsRead = ["instructions.read"];
    /// Listing the statements and confirmations available.
    StatementsRead = ["statements.read", "reports.read"];
    /// IBKR's HTTPS echo.
    EchoRead = ["echo.read"];
    /// IBKR's signed-JWT echo.
    EchoWrite = ["echo.write"];
    /// Opening an SSO session for a user.
    SsoSessionsWrite = ["sso-sessions.write"];
    /// Applying for and changing accounts.
    AccountsWrite = ["accounts.write"];
    /// Generating a statement.
    StatementsWrite = ["statements.read", "statements.write", "reports.write"];
    /// Generating trade confirmations.
    ConfirmationsWrite = ["statements.write", "reports.write"];
    /// Deposits, withdrawals and transfers of cash and positions.
    TransfersWrite = ["transfers.write"];
    /// What can be withdrawn.
    TransfersRead = ["transfers.read"];
    /// Saving and removing bank instructions.
    BankInstructionsWrite = ["bank-instructions.write"];
    /// Listing saved bank instructions.
    BankInstructionsRead = ["bank-instructions.read"];
    /// Cancelling instructions.
    InstructionsWrite = ["instructions.write"];
    /// Cash balances.
    BalancesRead = ["balances.read"];
}

/// The client an operation acts for, authorized with the operation's [`Scopes`]: the
/// preamble of every `/gw/api/v1` operation. Taken after the path and query, so a malformed
/// path is refused the same way with or without a token, and before the body, so a caller
/// without a valid token is refused before its body is read. (The enumeration authorizes in
/// its body, after its own 501.)
#[derive(Debug)]
pub struct Authorized<S> {
    client: GatewayClient,
    scopes: PhantomData<S>,
}

impl<S> Authorized<S> {
    /// The client, for calls that take it whole.
    pub fn into_client(self) -> GatewayClient {
        self.client
    }
}

impl<S> Deref for Authorized<S> {
    type Target = GatewayClient;

    fn deref(&self) -> &GatewayClient {
        &self.client
    }
}

impl<S: Scopes + Send> FromRequestParts<AppState> for Authorized<S> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Problem> {
        let client = GatewayClient::authorize(app, &parts.headers, S::ALLOWED).await?;
        Ok(Self { client, scopes: PhantomData })
    }
}

impl GatewayClient {
    /// The client whose access token `headers` carry, if the token is valid now and holds one
    /// of the `allowed` scopes.
    ///
    /// # Errors
    /// 401 without a valid token; 403 when it holds none of `allowed`.
    pub async fn authorize(
        app: &AppState,
        headers: &HeaderMap,
        allowed: &'static [&'static str],
    ) -> Result<Self, Problem> {
        let hash = crate::auth::bearer_token(headers)
            .map(|token| hex::encode(Sha256::digest(token.as_bytes())))
            .ok_or_else(|| Problem::unauthorized("an access token is required, as Authorization: Bearer"))?;
        let token_hash = hash.clone();
        let now = Timestamp::now();
        let found = app
            .broker
            .read(move |engine| {
                let registry = engine.state().oauth();
                let token = registry.token(&hash, now)?;
                let client = registry.clients.get(&token.client_id)?;
                let permitted = allowed.iter().any(|scope| token.scopes.contains(*scope));
                Some((token.client_id.clone(), client.keys.clone(), client.accounts.clone(), permitted))
            })
            .await
            .map_err(|_| Problem::unavailable())?;
        let (client_id, keys, accounts, permitted) =
            found.ok_or_else(|| Problem::unauthorized("the access token is not valid"))?;
        if !permitted {
            return Err(Problem::insufficient_scope(allowed));
        }
        Ok(Self { client_id, keys, accounts, token_hash })
    }

    /// The accounts the client manages.
    pub fn accounts(&self) -> &BTreeSet<model::AccountId> {
        &self.accounts
    }

    /// The account `raw` names, if the client manages it.
    ///
    /// # Errors
    /// 403 for any other account, existing or not, so that nothing tells them apart.
    pub fn managed(&self, raw: &str) -> Result<model::AccountId, Problem> {
        raw.parse::<model::AccountId>()
            .ok()
            .filter(|id| self.accounts.contains(id))
            .ok_or_else(|| Problem::forbidden(format!("account {raw} is not one the client manages")))
    }

    /// What `query` reads on the engine of the account `raw` names, if the client manages it.
    ///
    /// # Errors
    /// 403 for any other account, existing or not, so that nothing tells them apart; 503 when
    /// the broker is stopping.
    pub async fn read_managed<R, F>(&self, app: &AppState, raw: &str, query: F) -> Result<R, Problem>
    where
        R: Send + 'static,
        F: FnOnce(&engine::state::State, &model::AccountId) -> Option<R> + Send + 'static,
    {
        let not_managed = || Problem::forbidden(format!("account {raw} is not one the client manages"));
        let id = self.managed(raw)?;
        app.broker
            .read(move |engine| query(engine.state(), &id))
            .await
            .map_err(|_| Problem::unavailable())?
            .ok_or_else(not_managed)
    }

    /// The claims of `body`, a JWT signed by one of the client's keys (named by its `kid`,
    /// with that key's algorithm) whose `iss` is the client, issued (`iat`) no later than now
    /// (with a minute for clocks that disagree) and expiring (`exp`) in the future, at most a
    /// day ahead; with the request it is spent
    /// as: its `jti` if it has one, else the body itself with the access token it came with.
    ///
    /// # Errors
    /// 400 naming what is wrong with the body.
    pub fn signed<T: DeserializeOwned>(&self, body: &str) -> Result<Signed<T>, Problem> {
        let invalid = |why: String| {
            let argument = problem::InvalidArgument { field: "body".into(), message: why.clone() };
            Problem::invalid(format!("the signed request is not valid: {why}"), vec![argument])
        };
        let body = body.trim();
        let header = decode_header(body).map_err(|_| invalid("not a signed JWT".into()))?;
        let key = header
            .kid
            .as_ref()
            .and_then(|kid| self.keys.get(kid))
            .ok_or_else(|| invalid("its kid names no key of the client".into()))?;
        if algorithm(key) != header.alg {
            return Err(invalid("its algorithm is not its key's".into()));
        }
        let decoding = decoding_key(key).ok_or_else(|| invalid("its key cannot be read".into()))?;
        let mut validation = Validation::new(header.alg);
        validation.validate_aud = false;
        validation.leeway = 0;
        validation.set_issuer(&[self.client_id.as_str()]);
        validation.set_required_spec_claims(&["iss", "exp"]);
        let claims = decode::<serde_json::Map<String, serde_json::Value>>(body, &decoding, &validation)
            .map(|data| data.claims)
            .map_err(|error| invalid(error.to_string()))?;
        let now = Timestamp::now().as_second();
        let second = |name: &str| claims.get(name).and_then(serde_json::Value::as_i64);
        let issued = second("iat")
            .ok_or_else(|| invalid("its iat, the second it was issued at, is missing or not whole".into()))?;
        let expires = second("exp").ok_or_else(|| invalid("its exp is not a number of seconds".into()))?;
        if issued > now + SKEW {
            return Err(invalid("it was issued in the future".into()));
        }
        if expires > now + LONGEST_SIGNED + SKEW {
            return Err(invalid("it expires more than a day ahead".into()));
        }
        let id = match claims.get("jti") {
            None => format!("body {}", hex::encode(Sha256::digest(format!("{}\n{body}", self.token_hash)))),
            Some(serde_json::Value::String(jti)) if !jti.is_empty() && jti.len() <= MAX_JTI => {
                format!("jti {jti}")
            }
            Some(_) => return Err(invalid(format!("its jti is a string of 1 to {MAX_JTI} characters"))),
        };
        let request = SignedRequest {
            client_id: self.client_id.clone(),
            id,
            expires: Timestamp::from_second(expires).unwrap_or(Timestamp::MAX),
        };
        let claims = serde_json::from_value(serde_json::Value::Object(claims))
            .map_err(|error| invalid(error.to_string()))?;
        Ok(Signed { claims, request })
    }
}

/// A request's body as text, refused as problem details: a signed JWT, or JSON for the
/// operations that take it.
#[derive(Debug, Clone)]
pub struct TextBody(pub String);

impl axum::extract::FromRequest<AppState> for TextBody {
    type Rejection = Problem;

    async fn from_request(request: axum::extract::Request, app: &AppState) -> Result<Self, Self::Rejection> {
        Ok(Self(crate::extract::body_text(request, app).await?))
    }
}

/// The query string `raw` as `T`. Read after the caller is authorized, so that a request
/// without a valid token learns nothing about the operation's parameters.
///
/// # Errors
/// 400 naming what the query string lacks or repeats.
pub fn query<T: DeserializeOwned>(raw: Option<&str>) -> Result<T, Problem> {
    serde_urlencoded::from_str(raw.unwrap_or_default())
        .map_err(|error| Problem::field("query", format!("the query string cannot be read: {error}")))
}

/// How an operation takes its body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyForm {
    /// Only as a signed JWT: IBKR's spec declares `application/jwt` (account applications
    /// and changes).
    Signed,
    /// As a signed JWT or as plain JSON: IBKR's spec declares `application/json` for a
    /// `SIGNED_JWT` operation (banking and reports), and IBKR takes both.
    SignedOrJson,
}

/// The JWT claims that carry no part of the request.
const REGISTERED_CLAIMS: [&str; 7] = ["iss", "sub", "aud", "exp", "nbf", "iat", "jti"];

impl GatewayClient {
    /// The request's JSON: the claims of a body signed by the client (`application/jwt`, or
    /// any body that is not JSON), or the body itself where `form` allows plain JSON; checked
    /// against IBKR's schema of `operation`. A signed body comes with the request it is spent
    /// as ([`sealed`], [`spend`]).
    ///
    /// # Errors
    /// 415 for plain JSON where only a signed body is taken; 400 for a body that is neither
    /// a valid JWT of the client nor JSON, or that breaks the schema.
    pub fn payload(
        &self,
        operation: &str,
        headers: &HeaderMap,
        body: &str,
        form: BodyForm,
    ) -> Result<(serde_json::Value, Option<SignedRequest>), Problem> {
        let declared_jwt = headers
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.trim_start().starts_with("application/jwt"));
        let trimmed = body.trim_start();
        let json = !declared_jwt && (trimmed.starts_with('{') || trimmed.starts_with('['));
        let (payload, request) = if json {
            if form == BodyForm::Signed {
                return Err(Problem::unsupported_media_type(format!(
                    "{operation} takes its body as a JWT signed by the client (Content-Type: application/jwt)"
                )));
            }
            let payload = serde_json::from_str(body)
                .map_err(|error| Problem::field("body", format!("the body is not JSON: {error}")))?;
            (payload, None)
        } else {
            let Signed { mut claims, request } =
                self.signed::<serde_json::Map<String, serde_json::Value>>(body)?;
            for claim in REGISTERED_CLAIMS {
                claims.remove(claim);
            }
            (serde_json::Value::Object(claims), Some(request))
        };
        schema::check(operation, &payload)?;
        Ok((payload, request))
    }
}

/// The request type a checked payload holds.
///
/// # Errors
/// 400 naming what does not fit.
pub fn from_payload<T: DeserializeOwned>(payload: serde_json::Value) -> Result<T, Problem> {
    serde_json::from_value(payload).map_err(|error| Problem::field("body", error.to_string()))
}

/// The `/gw/api/v1` routes beside the SSO sessions.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(echo::https)).routes(routes!(echo::signed_jwt))
}
