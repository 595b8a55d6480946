//! LocalBroker's journal: the durable, append-only log of every command, plus snapshots.
//!
//! # Layout
//! - [`Store`]: what a back-end must do: append a batch durably, read back in order, keep
//!   snapshots. [`SqliteStore`] (the embedded default) and [`PgStore`] implement it and pass the
//!   same test suite; [`AnyStore`] picks one at run time.
//! - [`recover`]: rebuilds the engine from the latest snapshot plus the records after it.
//!
//! # Guarantees
//! - `append` returns only once its whole batch is durable (one transaction, one fsync: this is
//!   the group commit), and a batch is all-or-nothing.
//! - Sequence numbers start at 1 and have no gaps; a store refuses a batch that would make one.
//! - Times are kept to the microsecond, and a record with a finer time is refused rather than
//!   rounded: a rounded time would replay differently from how it was first applied.
//! - One process writes a journal at a time: SQLite holds an exclusive lock on its file,
//!   PostgreSQL an advisory lock on the schema.

mod error;
mod postgres;
mod record;
mod recovery;
mod sqlite;
mod store;

pub use error::JournalError;
pub use postgres::PgStore;
pub use record::{Record, Snapshot};
pub use recovery::{Recovered, recover};
pub use sqlite::SqliteStore;
pub use store::{AnyStore, Store};
