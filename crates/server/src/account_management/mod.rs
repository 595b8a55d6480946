//! Account Management (`/gw/api/v1/accounts…` and the rest of IBKR's ex-Digital Account
//! Management): what an introducing broker's back office does for the accounts it manages,
//! behind the `/gw/api/v1` door of [`crate::gateway`].

pub mod accounts;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

/// The Account Management routes built so far.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(accounts::status)).routes(routes!(accounts::details))
}
