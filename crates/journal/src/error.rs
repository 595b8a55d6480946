//! Journal failures.

/// Why the journal could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// The database failed or is unreachable.
    #[error("journal database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Another process writes this journal.
    #[error("another LocalBroker process is using this journal ({0})")]
    Locked(String),
    /// A record cannot be written or read back exactly.
    #[error("journal record {seq} is unreadable: {reason}")]
    Corrupt { seq: u64, reason: String },
    /// Records would not follow each other without a gap.
    #[error("journal sequence gap: expected record {expected}, got {found}")]
    Gap { expected: u64, found: u64 },
}
