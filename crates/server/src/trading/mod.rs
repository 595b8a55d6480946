//! The Trading API (`/v1/api`, also served as `/v1/portal`), one module per IBKR reference tag.

pub mod accounts;
pub mod analyst;
pub mod contracts;
pub mod marketdata;
pub mod orders;
pub mod portfolio;
pub mod session;

use model::AccountId;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;

use crate::state::{AppState, ServerIdentity};

/// `serverInfo`, as IBKR's gateway reports itself.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServerInfo {
    server_name: String,
    server_version: String,
}

impl ServerInfo {
    fn of(identity: &ServerIdentity) -> Self {
        Self { server_name: identity.name.clone(), server_version: identity.version.clone() }
    }
}

/// IBKR's answer for an account the caller may not use, or that is not an account id.
pub(crate) fn invalid_account(raw: &str) -> crate::error::ApiError {
    crate::error::ApiError::bad_request(format!("Bad Request: accountId is not valid: {raw}"))
}

/// Whether an account is a paper account: IBKR's paper account ids start with `D`
/// (`DU…` individual, `DF…` advisor).
pub(crate) fn is_paper(account: &AccountId) -> bool {
    account.as_str().starts_with('D')
}

/// Every implemented trading route, documented: each tag's module owns its routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(session::router())
        .merge(accounts::router())
        .merge(portfolio::router())
        .merge(analyst::router())
        .merge(contracts::router())
        .merge(orders::router())
        .merge(marketdata::router())
        .merge(crate::websocket::router())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paper_accounts_are_recognised_by_their_prefix() {
        assert!(is_paper(&"DU1234567".parse().unwrap()));
        assert!(!is_paper(&"U1234567".parse().unwrap()));
    }
}
