//! Account Management (`/gw/api/v1/accounts…` and the rest of IBKR's ex-Digital Account
//! Management): what an introducing broker's back office does for the accounts it manages,
//! behind the `/gw/api/v1` door of [`crate::gateway`].

pub mod accounts;
pub mod applications;
pub mod banking;
pub mod reports;
pub mod utilities;

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

/// The Account Management routes built so far: each area's module owns its routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(accounts::router())
        .merge(applications::router())
        .merge(banking::router())
        .merge(utilities::router())
        .merge(reports::router())
}
