//! Commands: the only way state changes. Each is journaled before it is applied.

use model::{AccountId, SessionId, Username};
use serde::{Deserialize, Serialize};

use crate::world::World;

/// A state change, as recorded in the journal. Commands carry no time: the journal stamps each
/// with the instant it was admitted, and the engine applies it at that instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Command {
    /// The first command of every journal: the seed and the world to start from.
    CreateWorld { seed: u64, world: World },
    /// A user logged in at the gateway (its login page or the control plane); the new session
    /// becomes the one that unauthenticated gateway requests act for. The password was checked
    /// at the edge, where hashing belongs.
    GatewayLogin { user: Username },
    /// The session ended (`/logout`).
    Logout { session: SessionId },
    /// The session switched the account that trading calls act on by default.
    SelectAccount { session: SessionId, account: AccountId },
}
