//! OAuth 2.0 clients and the access tokens issued to them.
//!
//! A client registers public keys (by `kid`) and asks for scopes. Trading scopes are granted
//! on registration; Account Management scopes (those IBKR's spec allows on `/gw/api/v1/*`)
//! only once the client is approved, as IBKR reviews such clients. Signatures are checked at
//! the edge, where the cryptography lives; the engine records clients, approvals and tokens,
//! and refuses an assertion id (`jti`) that was already used while it is still valid.

use std::collections::{BTreeMap, BTreeSet};

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::{Engine, EngineError, Event};

/// Scopes a registered client gets without review.
pub const TRADING_SCOPES: &[&str] =
    &["sso-sessions.write", "sso-browser-sessions.write", "echo.read", "echo.write"];

/// Scopes that need the client approved: IBKR's Account Management scopes.
pub const ACCOUNT_MANAGEMENT_SCOPES: &[&str] = &[
    "accounts.read",
    "accounts.write",
    "balances.read",
    "bank-instructions.read",
    "bank-instructions.write",
    "enumerations.read",
    "forms.read",
    "instructions.read",
    "instructions.write",
    "reports.read",
    "reports.write",
    "restrictions.write",
    "statements.read",
    "statements.write",
    "transfers.read",
    "transfers.write",
    "validations.read",
];

/// The signature algorithm of a client key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyAlgorithm {
    /// RSA with SHA-256.
    #[serde(rename = "RS256")]
    Rs256,
    /// ECDSA on P-256 with SHA-256.
    #[serde(rename = "ES256")]
    Es256,
}

/// A client's public key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientKey {
    /// The key id assertions name in their header.
    pub kid: String,
    /// How it signs.
    pub algorithm: KeyAlgorithm,
    /// The public key, PEM-encoded.
    pub public_key_pem: String,
}

/// An OAuth 2.0 client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthClient {
    /// Its id: the `iss` and `sub` of its assertions.
    pub client_id: String,
    /// Its keys, by `kid`.
    pub keys: BTreeMap<String, ClientKey>,
    /// The scopes it asked for.
    pub scopes: BTreeSet<String>,
    /// Whether its Account Management scopes were approved.
    pub approved: bool,
    /// Whether it was revoked: it gets no more tokens, and its tokens stop working.
    pub revoked: bool,
    /// The accounts it manages through Account Management, as an introducing broker's
    /// clients are under its master account.
    #[serde(default)]
    pub accounts: BTreeSet<model::AccountId>,
    /// Users its world-file entry lets it open sessions for.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub users: BTreeSet<model::Username>,
}

impl OAuthClient {
    /// Whether the client may open sessions for `user`: a user it onboarded, one its
    /// world-file entry lists, or one whose every account it manages. A user another client
    /// onboarded is that client's alone.
    pub(crate) fn acts_for(&self, user: &crate::state::User) -> bool {
        match user.onboarded_by.as_deref() {
            Some(owner) => owner == self.client_id,
            None => {
                self.users.contains(&user.username)
                    || (!user.accounts.is_empty()
                        && user.accounts.iter().all(|account| self.accounts.contains(account)))
            }
        }
    }

    /// The scopes it may have in a token now.
    pub fn granted_scopes(&self) -> BTreeSet<String> {
        if self.revoked {
            return BTreeSet::new();
        }
        self.scopes
            .iter()
            .filter(|scope| {
                TRADING_SCOPES.contains(&scope.as_str())
                    || (self.approved && ACCOUNT_MANAGEMENT_SCOPES.contains(&scope.as_str()))
            })
            .cloned()
            .collect()
    }
}

/// How far a session a client opens for a user is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Trust {
    /// The client must act for the user ([`OAuthClient::acts_for`]).
    Checked,
    /// As journals written before that check recorded it: a user another client onboarded is
    /// refused, any other is open to every client.
    AsJournaled,
}

/// An access token, known by the SHA-256 of its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessToken {
    /// The client it was issued to.
    pub client_id: String,
    /// What it allows.
    pub scopes: BTreeSet<String>,
    /// When it stops working, in wall time.
    pub expires_at: Timestamp,
}

/// The clients, their tokens and the assertion ids they used.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registry {
    /// Clients by id.
    pub clients: BTreeMap<String, OAuthClient>,
    /// Tokens by the hex SHA-256 of their value.
    pub tokens: BTreeMap<String, AccessToken>,
    /// Assertion ids used, as `<client>:<jti>`, and signed requests, as
    /// `signed <client>:<id>`, with when each expires.
    pub used_assertions: BTreeMap<String, Timestamp>,
    /// Sessions reached with a secret token, by the token's hex SHA-256: the bearers of
    /// `sso-sessions` and the cookies of a strict server's login page.
    #[serde(default)]
    pub sso_sessions: BTreeMap<String, model::SessionId>,
    /// The client that opened each `sso-sessions` session: revoking it ends them.
    pub session_clients: BTreeMap<model::SessionId, String>,
}

/// A token to issue for a verified client assertion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenGrant {
    /// The client.
    pub client_id: String,
    /// The hex SHA-256 of the token's value; the value itself is never journaled.
    pub token_hash: String,
    /// What it allows.
    pub scopes: BTreeSet<String>,
    /// The assertion's id, if it had one.
    pub jti: Option<String>,
    /// When the assertion expires: its id may not be used again before.
    pub assertion_expires: Timestamp,
    /// How long the token works.
    pub lifetime: SignedDuration,
}

/// A client's signed request, known by what makes it unique: its `jti`, or the SHA-256 of the
/// body and of the access token it came with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedRequest {
    /// The client that signed it.
    pub client_id: String,
    /// What it is known by.
    pub id: String,
    /// When it expires: it may not be used again before.
    pub expires: Timestamp,
}

/// The longest a client id or key id may be.
const MAX_ID: usize = 128;

/// An OAuth client change, session or token the registry cannot take. The texts reach clients
/// as the description of an OAuth or problem-details error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OAuthRefusal {
    /// Only a registered client gets tokens, sessions or accounts.
    #[error("no client {client_id:?}")]
    UnknownClient { client_id: String },
    /// A revoked client keeps its record but gets nothing more.
    #[error("client {client_id:?} was revoked")]
    Revoked { client_id: String },
    /// Ids travel in headers, JWT claims and logs, so they are short and printable.
    #[error("client ids and key ids are 1 to {MAX_ID} printable characters")]
    InvalidId,
    /// A client is granted only scopes LocalBroker knows.
    #[error("unknown scope {scope:?}")]
    UnknownScope { scope: String },
    /// A client can only be given accounts that exist.
    #[error("account {account} does not exist")]
    UnknownAccount { account: model::AccountId },
    /// A signed request authorizes the one command it carries, so it cannot carry another
    /// signed request.
    #[error("a signed request carries one command")]
    NestedSignedRequest,
}

fn unknown_client(client_id: &str) -> OAuthRefusal {
    OAuthRefusal::UnknownClient { client_id: client_id.to_owned() }
}

fn revoked(client_id: &str) -> OAuthRefusal {
    OAuthRefusal::Revoked { client_id: client_id.to_owned() }
}

fn known_scope(scope: &str) -> bool {
    TRADING_SCOPES.contains(&scope) || ACCOUNT_MANAGEMENT_SCOPES.contains(&scope)
}

impl Registry {
    /// The key a signed request is remembered under, beside the assertions' `<client>:<jti>`.
    fn signed_key(request: &SignedRequest) -> String {
        format!("signed {}:{}", request.client_id, request.id)
    }

    /// Forgets the assertions and signed requests that expired by wall time `wall`: they can
    /// no longer be replayed anyway.
    fn forget_spent(&mut self, wall: Timestamp) {
        self.used_assertions.retain(|_, until| *until > wall);
    }

    /// The token whose value hashes to `hash`, if it is still valid at wall time `now`.
    pub fn token(&self, hash: &str, now: Timestamp) -> Option<&AccessToken> {
        let token = self.tokens.get(hash)?;
        let client = self.clients.get(&token.client_id)?;
        (now < token.expires_at && !client.revoked).then_some(token)
    }
}

impl Engine {
    /// Opens a brokerage session for `username` on behalf of client `client_id`, reached with
    /// the bearer whose SHA-256 is `bearer_hash`.
    pub(crate) fn open_sso_session(
        &mut self,
        wall: Timestamp,
        client_id: &str,
        username: &model::Username,
        bearer_hash: &str,
        trust: Trust,
    ) -> Result<Vec<Event>, EngineError> {
        let client = self.state.oauth.clients.get(client_id).ok_or_else(|| unknown_client(client_id))?;
        if client.revoked {
            return Err(revoked(client_id).into());
        }
        let user = self.state.users.get(username);
        match trust {
            // Unknown users are refused alike, so that a client cannot tell which exist.
            Trust::Checked if !user.is_some_and(|user| client.acts_for(user)) => {
                return Err(EngineError::ClientMayNotActFor {
                    client_id: client_id.to_owned(),
                    username: username.clone(),
                });
            }
            Trust::AsJournaled
                if user
                    .and_then(|user| user.onboarded_by.as_deref())
                    .is_some_and(|owner| owner != client_id) =>
            {
                return Err(EngineError::UnknownUser(username.clone()));
            }
            Trust::Checked | Trust::AsJournaled => {}
        }
        let (session, events) = self.open_token_session(wall, username, bearer_hash)?;
        self.state.oauth.session_clients.insert(session, client_id.to_owned());
        Ok(events)
    }

    /// Registers `key` for client `client_id` (creating the client) and the scopes it asks for.
    pub(crate) fn register_client(
        &mut self,
        client_id: &str,
        key: &ClientKey,
        scopes: &BTreeSet<String>,
    ) -> Result<Vec<Event>, EngineError> {
        let valid_id =
            |id: &str| !id.is_empty() && id.len() <= MAX_ID && id.chars().all(|c| c.is_ascii_graphic());
        if !valid_id(client_id) || !valid_id(&key.kid) {
            return Err(OAuthRefusal::InvalidId.into());
        }
        if let Some(unknown) = scopes.iter().find(|scope| !known_scope(scope)) {
            return Err(OAuthRefusal::UnknownScope { scope: unknown.clone() }.into());
        }
        let client = self.state.oauth.clients.entry(client_id.to_owned()).or_insert_with(|| OAuthClient {
            client_id: client_id.to_owned(),
            keys: BTreeMap::new(),
            scopes: BTreeSet::new(),
            approved: false,
            revoked: false,
            accounts: BTreeSet::new(),
            users: BTreeSet::new(),
        });
        client.keys.insert(key.kid.clone(), key.clone());
        client.scopes.extend(scopes.iter().cloned());
        Ok(vec![Event::ClientRegistered { client_id: client_id.to_owned() }])
    }

    /// Gives client `client_id` the management of `accounts` through Account Management, as
    /// IBKR links an introducing broker's existing customers to it.
    pub(crate) fn assign_accounts(
        &mut self,
        client_id: &str,
        accounts: &[model::AccountId],
    ) -> Result<Vec<Event>, EngineError> {
        if !self.state.oauth.clients.contains_key(client_id) {
            return Err(unknown_client(client_id).into());
        }
        if let Some(unknown) = accounts.iter().find(|account| !self.state.accounts.contains_key(*account)) {
            return Err(OAuthRefusal::UnknownAccount { account: unknown.clone() }.into());
        }
        for account in accounts {
            self.manage(client_id, account);
        }
        Ok(vec![Event::AccountsAssigned { client_id: client_id.to_owned() }])
    }

    /// Approves (or with `revoked`, revokes) client `client_id`.
    pub(crate) fn review_client(
        &mut self,
        client_id: &str,
        revoked: bool,
    ) -> Result<Vec<Event>, EngineError> {
        let client = self.state.oauth.clients.get_mut(client_id).ok_or_else(|| unknown_client(client_id))?;
        if !revoked {
            client.approved = true;
            return Ok(vec![Event::ClientReviewed { client_id: client_id.to_owned(), revoked }]);
        }
        // The sessions the client opened end with it, as its tokens do. Only open sessions are
        // logged out, which cannot fail, so nothing is left half-applied.
        let opened: Vec<model::SessionId> = self
            .state
            .oauth
            .session_clients
            .iter()
            .filter(|(session, client)| *client == client_id && self.state.sessions.contains_key(*session))
            .map(|(session, _)| session.clone())
            .collect();
        let mut events = Vec::new();
        for session in &opened {
            events.extend(self.logout(session)?);
        }
        if let Some(client) = self.state.oauth.clients.get_mut(client_id) {
            client.revoked = true;
        }
        events.push(Event::ClientReviewed { client_id: client_id.to_owned(), revoked });
        Ok(events)
    }

    /// Refuses a signed request seen before, while it is still valid. A refused request is
    /// not spent, as a refused assertion is not: it may be sent again once the broker would
    /// take it.
    pub(crate) fn check_signed(&self, wall: Timestamp, request: &SignedRequest) -> Result<(), EngineError> {
        let seen = self.state.oauth.used_assertions.get(&Registry::signed_key(request));
        if seen.is_some_and(|until| *until > wall) {
            return Err(EngineError::SignedRequestReplayed);
        }
        Ok(())
    }

    /// Remembers a signed request until it expires; forgets those that have.
    pub(crate) fn spend_signed(&mut self, wall: Timestamp, request: &SignedRequest) {
        self.state.oauth.forget_spent(wall);
        self.state.oauth.used_assertions.insert(Registry::signed_key(request), request.expires);
    }

    /// Issues `grant`'s token at wall time `wall`.
    pub(crate) fn issue_token(
        &mut self,
        wall: Timestamp,
        grant: &TokenGrant,
    ) -> Result<Vec<Event>, EngineError> {
        let TokenGrant { client_id, token_hash, scopes, jti, assertion_expires, lifetime } = grant;
        let registry = &self.state.oauth;
        let client = registry.clients.get(client_id).ok_or_else(|| unknown_client(client_id))?;
        if client.revoked {
            return Err(revoked(client_id).into());
        }
        let granted = client.granted_scopes();
        if let Some(missing) = scopes.iter().find(|scope| !granted.contains(*scope)) {
            return Err(EngineError::ScopeNotGranted(missing.clone()));
        }
        let used = jti.as_ref().map(|jti| format!("{client_id}:{jti}"));
        let replayed = used
            .as_ref()
            .and_then(|key| registry.used_assertions.get(key))
            .is_some_and(|until| *until > wall);
        if let (true, Some(jti)) = (replayed, jti) {
            return Err(EngineError::AssertionReplayed(jti.clone()));
        }
        // Accepted: what has expired is forgotten, and the assertion is spent.
        let registry = &mut self.state.oauth;
        registry.forget_spent(wall);
        registry.tokens.retain(|_, token| token.expires_at > wall);
        if let Some(key) = used {
            registry.used_assertions.insert(key, *assertion_expires);
        }
        let expires_at = wall.saturating_add(*lifetime).unwrap_or(wall);
        let token = AccessToken { client_id: client_id.clone(), scopes: scopes.clone(), expires_at };
        registry.tokens.insert(token_hash.clone(), token);
        Ok(vec![Event::TokenIssued { client_id: client_id.clone() }])
    }
}

#[cfg(test)]
mod tests {
    use super::OAuthRefusal;

    /// The texts a refused registration, session or token answers with, written out in full.
    #[test]
    fn refusals_keep_their_words() {
        let cases = [
            (OAuthRefusal::UnknownClient { client_id: "IB".into() }, r#"no client "IB""#),
            (OAuthRefusal::Revoked { client_id: "IB".into() }, r#"client "IB" was revoked"#),
            (OAuthRefusal::InvalidId, "client ids and key ids are 1 to 128 printable characters"),
            (OAuthRefusal::UnknownScope { scope: "everything".into() }, r#"unknown scope "everything""#),
            (
                OAuthRefusal::UnknownAccount { account: "DU9999999".parse().unwrap() },
                "account DU9999999 does not exist",
            ),
            (OAuthRefusal::NestedSignedRequest, "a signed request carries one command"),
        ];
        for (refusal, text) in cases {
            assert_eq!(refusal.to_string(), text);
        }
    }
}
