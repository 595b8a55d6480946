//! Why the engine refuses a command.

use model::{AccountId, SessionId, Username};

/// A command the engine refused. Refusals are deterministic: replaying a refused command
/// refuses it again and leaves the state as it was.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    #[error("the world was already created")]
    WorldExists,
    #[error("no world has been created yet")]
    NoWorld,
    #[error("invalid world: {0}")]
    InvalidWorld(String),
    #[error("unknown user {0}")]
    UnknownUser(Username),
    #[error("session {0} is not open")]
    UnknownSession(SessionId),
    #[error("account {account} is not available to user {user}")]
    NotEntitled { user: Username, account: AccountId },
}
