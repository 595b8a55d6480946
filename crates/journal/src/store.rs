//! The back-end interface.

use std::future::Future;

use crate::{JournalError, PgStore, Record, Snapshot, SqliteStore};

/// A durable journal back-end. One owner (the broker's writer) uses it at a time.
pub trait Store: Send {
    /// Appends `records`, which must continue the log without a gap, as one durable unit.
    ///
    /// # Errors
    /// [`JournalError::Gap`] for a discontinuous batch; a database error otherwise. On error
    /// nothing of the batch is stored.
    fn append(&mut self, records: &[Record]) -> impl Future<Output = Result<(), JournalError>> + Send;

    /// Up to `limit` records with a sequence number above `after`, in order.
    ///
    /// # Errors
    /// A database error, or [`JournalError::Corrupt`] for a record that does not decode.
    fn read_after(
        &mut self,
        after: u64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Record>, JournalError>> + Send;

    /// Stores a snapshot, keeping only the newest ones.
    ///
    /// # Errors
    /// A database error.
    fn save_snapshot(&mut self, snapshot: &Snapshot)
    -> impl Future<Output = Result<(), JournalError>> + Send;

    /// The kept snapshots, newest first.
    ///
    /// # Errors
    /// A database error.
    fn snapshots(&mut self) -> impl Future<Output = Result<Vec<Snapshot>, JournalError>> + Send;

    /// Closes the connection after everything written is durable.
    fn close(self) -> impl Future<Output = ()> + Send;
}

/// The back-end chosen at start-up: SQLite in the data dir, or PostgreSQL by URL.
#[derive(Debug)]
pub enum AnyStore {
    /// The embedded default.
    Sqlite(SqliteStore),
    /// A shared server.
    Postgres(PgStore),
}

impl Store for AnyStore {
    async fn append(&mut self, records: &[Record]) -> Result<(), JournalError> {
        match self {
            Self::Sqlite(store) => store.append(records).await,
            Self::Postgres(store) => store.append(records).await,
        }
    }

    async fn read_after(&mut self, after: u64, limit: u32) -> Result<Vec<Record>, JournalError> {
        match self {
            Self::Sqlite(store) => store.read_after(after, limit).await,
            Self::Postgres(store) => store.read_after(after, limit).await,
        }
    }

    async fn save_snapshot(&mut self, snapshot: &Snapshot) -> Result<(), JournalError> {
        match self {
            Self::Sqlite(store) => store.save_snapshot(snapshot).await,
            Self::Postgres(store) => store.save_snapshot(snapshot).await,
        }
    }

    async fn snapshots(&mut self) -> Result<Vec<Snapshot>, JournalError> {
        match self {
            Self::Sqlite(store) => store.snapshots().await,
            Self::Postgres(store) => store.snapshots().await,
        }
    }

    async fn close(self) {
        match self {
            Self::Sqlite(store) => store.close().await,
            Self::Postgres(store) => store.close().await,
        }
    }
}
