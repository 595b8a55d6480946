//! OAuth 2.0 clients: registered, approved, revoked, given accounts to manage, listed.

use axum::Json;
use axum::extract::State;
use engine::Command;
use engine::oauth::{ClientKey, KeyAlgorithm, OAuthClient};
use model::AccountId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, PathParams};
use crate::state::AppState;

/// An OAuth 2.0 client's key to register.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClientRegistration {
    client_id: String,
    /// The key id its assertions name.
    kid: String,
    /// The public key, PEM-encoded.
    public_key: String,
    /// `RS256` (the default) or `ES256`.
    #[schema(value_type = Option<String>)]
    alg: Option<KeyAlgorithm>,
    /// Space-separated scopes; Account Management ones are granted once the client is approved.
    scopes: Option<String>,
}

/// A client as the registry holds it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClientState {
    client_id: String,
    kids: Vec<String>,
    /// What it asked for.
    scopes: Vec<String>,
    /// What a token may carry now.
    granted: Vec<String>,
    approved: bool,
    revoked: bool,
    /// The accounts it manages through Account Management.
    accounts: Vec<String>,
}

impl ClientState {
    fn of(client: &OAuthClient) -> Self {
        Self {
            client_id: client.client_id.clone(),
            kids: client.keys.keys().cloned().collect(),
            scopes: client.scopes.iter().cloned().collect(),
            granted: client.granted_scopes().into_iter().collect(),
            approved: client.approved,
            revoked: client.revoked,
            accounts: client.accounts.iter().map(ToString::to_string).collect(),
        }
    }
}

async fn client_state(app: &AppState, client_id: String) -> Result<Json<ClientState>, ApiError> {
    let found = app
        .broker
        .read(move |engine| engine.state().oauth().clients.get(&client_id).map(ClientState::of))
        .await?;
    found.map(Json).ok_or_else(|| ApiError::not_found("no such client"))
}

/// Registers an OAuth 2.0 client's public key (creating the client) and the scopes it asks for;
/// journaled.
#[utoipa::path(
    post,
    path = "/_localbroker/clients",
    operation_id = "registerClient",
    tag = "Control plane",
    request_body = ClientRegistration,
    responses(
        (status = 200, description = "The client", body = ClientState),
        (status = 400, description = "A key that is not a PEM public key of its algorithm, or an unknown scope", body = ErrorBody),
    )
)]
pub async fn register_client(
    State(app): State<AppState>,
    JsonBody(request): JsonBody<ClientRegistration>,
) -> Result<Json<ClientState>, ApiError> {
    let key = ClientKey {
        kid: request.kid,
        algorithm: request.alg.unwrap_or(KeyAlgorithm::Rs256),
        public_key_pem: request.public_key,
    };
    if crate::oauth::decoding_key(&key).is_none() {
        return Err(ApiError::bad_request(format!(
            "publicKey is not a PEM public key for {:?}",
            key.algorithm
        )));
    }
    let scopes = request.scopes.unwrap_or_default().split_whitespace().map(str::to_owned).collect();
    let client_id = request.client_id;
    app.broker.execute(Command::RegisterClient { client_id: client_id.clone(), key, scopes }).await?;
    client_state(&app, client_id).await
}

/// Approves a client's Account Management scopes, as IBKR's review would; journaled.
#[utoipa::path(
    post,
    path = "/_localbroker/clients/{clientId}/approve",
    operation_id = "approveClient",
    tag = "Control plane",
    params(("clientId" = String, Path, description = "The client")),
    responses(
        (status = 200, description = "The client", body = ClientState),
        (status = 400, description = "No such client", body = ErrorBody),
    )
)]
pub async fn approve_client(
    State(app): State<AppState>,
    PathParams(client_id): PathParams<String>,
) -> Result<Json<ClientState>, ApiError> {
    app.broker.execute(Command::ApproveClient { client_id: client_id.clone() }).await?;
    client_state(&app, client_id).await
}

/// Revokes a client: it gets no more tokens, its tokens stop working and the sessions it
/// opened end; journaled.
#[utoipa::path(
    post,
    path = "/_localbroker/clients/{clientId}/revoke",
    operation_id = "revokeClient",
    tag = "Control plane",
    params(("clientId" = String, Path, description = "The client")),
    responses(
        (status = 200, description = "The client", body = ClientState),
        (status = 400, description = "No such client", body = ErrorBody),
    )
)]
pub async fn revoke_client(
    State(app): State<AppState>,
    PathParams(client_id): PathParams<String>,
) -> Result<Json<ClientState>, ApiError> {
    let executed = app.broker.execute(Command::RevokeClient { client_id: client_id.clone() }).await?;
    app.forget_closed_sessions(&executed.events);
    client_state(&app, client_id).await
}

/// Accounts a client is to manage.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountAssignment {
    /// Existing account ids.
    #[schema(value_type = Vec<String>)]
    accounts: Vec<AccountId>,
}

/// Gives a client the management of existing accounts through Account Management, as IBKR
/// links an introducing broker's existing customers to it; journaled. Accounts its
/// applications open are its own already.
#[utoipa::path(
    post,
    path = "/_localbroker/clients/{clientId}/accounts",
    operation_id = "assignClientAccounts",
    tag = "Control plane",
    params(("clientId" = String, Path, description = "The client")),
    request_body = AccountAssignment,
    responses(
        (status = 200, description = "The client", body = ClientState),
        (status = 400, description = "No such client, or an account that does not exist", body = ErrorBody),
    )
)]
pub async fn assign_client_accounts(
    State(app): State<AppState>,
    PathParams(client_id): PathParams<String>,
    JsonBody(request): JsonBody<AccountAssignment>,
) -> Result<Json<ClientState>, ApiError> {
    let command = Command::AssignAccounts { client_id: client_id.clone(), accounts: request.accounts };
    app.broker.execute(command).await?;
    client_state(&app, client_id).await
}

/// Every registered client.
#[utoipa::path(
    get,
    path = "/_localbroker/clients",
    operation_id = "listClients",
    tag = "Control plane",
    responses((status = 200, description = "The clients", body = Vec<ClientState>))
)]
pub async fn list_clients(State(app): State<AppState>) -> Result<Json<Vec<ClientState>>, ApiError> {
    let clients = app
        .broker
        .read(|engine| engine.state().oauth().clients.values().map(ClientState::of).collect())
        .await?;
    Ok(Json(clients))
}
