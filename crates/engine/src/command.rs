//! Commands: the only way state changes. Each is journaled before it is applied.

use jiff::{SignedDuration, Timestamp};
use model::{AccountId, Conid, SessionId, Username};
use serde::{Deserialize, Serialize};

use crate::clock::{ClockMode, ClockSpec};
use crate::market::MarketChange;
use crate::world::World;

/// A state change, as recorded in the journal. Commands carry no time: the journal stamps each
/// with the wall time it was admitted at, and the engine applies it at that instant.
///
/// The journal stores commands as JSON tagged by `type`: a new variant or a new field with a
/// default keeps old journals replayable; renaming or reshaping an existing one does not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Command {
    /// The first command of every journal: the seed, the world and the clock to start from.
    CreateWorld {
        seed: u64,
        world: World,
        #[serde(default)]
        clock: ClockSpec,
    },
    /// A user logged in at the gateway (its login page or the control plane); the new session
    /// becomes the one that unauthenticated gateway requests act for. The password was checked
    /// at the edge, where hashing belongs.
    GatewayLogin { user: Username },
    /// The session ended (`/logout`).
    Logout { session: SessionId },
    /// The session switched the account that trading calls act on by default.
    SelectAccount { session: SessionId, account: AccountId },
    /// Market time moves on in another mode, from where it is.
    SetClockMode { mode: ClockMode },
    /// Market time jumps forward by `by`.
    AdvanceClock { by: SignedDuration },
    /// Market time jumps forward to `to`.
    SetClock { to: Timestamp },
    /// The control plane changes an instrument's market from now on: all of `changes`, in
    /// order, at the same instant, or none of them.
    ChangeMarket { conid: Conid, changes: Vec<MarketChange> },
}
