//! Journal failures.

/// Why the journal could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("journal database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("another LocalBroker process is using this journal ({0})")]
    Locked(String),
    #[error("journal record {seq} is unreadable: {reason}")]
    Corrupt { seq: u64, reason: String },
    #[error("journal sequence gap: expected record {expected}, got {found}")]
    Gap { expected: u64, found: u64 },
}
