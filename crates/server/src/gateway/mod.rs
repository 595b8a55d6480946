//! IBKR's `/gw/api/v1` door, shared by the SSO sessions and Account Management: an OAuth 2.0
//! access token whose scopes include one the operation allows (IBKR's
//! `x-ib-gateway-allowed-scopes`), and, where IBKR's security policy is `SIGNED_JWT`, a body
//! that is a JWT signed by one of the client's registered keys. Errors are RFC 9457 problem
//! details, as IBKR's are there.

pub mod echo;
pub mod problem;

use std::collections::{BTreeMap, BTreeSet};

use axum::http::HeaderMap;
use engine::oauth::ClientKey;
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
        Ok(Self { client_id, keys, accounts })
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
        let id = raw
            .parse::<model::AccountId>()
            .ok()
            .filter(|id| self.accounts.contains(id))
            .ok_or_else(not_managed)?;
        app.broker
            .read(move |engine| query(engine.state(), &id))
            .await
            .map_err(|_| Problem::unavailable())?
            .ok_or_else(not_managed)
    }

    /// The claims of `body`, a JWT signed by one of the client's keys (named by its `kid`,
    /// with that key's algorithm) whose `iss` is the client; `required` lists the registered
    /// claims it must carry besides. An `exp`, when present, must be in the future.
    ///
    /// # Errors
    /// 400 naming what is wrong with the body.
    pub fn signed<T: DeserializeOwned>(&self, body: &str, required: &[&str]) -> Result<T, Problem> {
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
        validation.set_issuer(&[self.client_id.as_str()]);
        let mut claims = vec!["iss"];
        claims.extend_from_slice(required);
        validation.set_required_spec_claims(&claims);
        decode::<T>(body, &decoding, &validation)
            .map(|data| data.claims)
            .map_err(|error| invalid(error.to_string()))
    }
}

/// The `/gw/api/v1` routes beside the SSO sessions.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(echo::https)).routes(routes!(echo::signed_jwt))
}
