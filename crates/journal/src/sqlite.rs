//! The embedded journal: one SQLite file in WAL mode, fsynced on every commit.

use std::path::Path;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteLockingMode, SqliteSynchronous};
use sqlx::{Connection, QueryBuilder, Row as _, Sqlite, SqliteConnection};

use crate::record::{Row, SNAPSHOTS_KEPT, check_continues, to_i64, to_u64};
use crate::{JournalError, Record, Snapshot, Store};

/// Rows per `INSERT` statement, well below SQLite's bound-parameter limit.
const ROWS_PER_STATEMENT: usize = 300;

/// A journal in a SQLite database file.
#[derive(Debug)]
pub struct SqliteStore {
    connection: SqliteConnection,
    last_seq: u64,
}

impl SqliteStore {
    /// Opens (creating if needed) the journal at `path` and takes the exclusive lock on it.
    ///
    /// # Errors
    /// [`JournalError::Locked`] when another process holds the file; a database error otherwise.
    pub async fn open(path: &Path) -> Result<Self, JournalError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL makes every commit durable in WAL mode (NORMAL may lose the last ones on
            // power loss), and an acknowledged command must never be lost.
            .synchronous(SqliteSynchronous::Full)
            .locking_mode(SqliteLockingMode::Exclusive)
            .busy_timeout(Duration::from_millis(200));
        let mut connection = SqliteConnection::connect_with(&options).await.map_err(locked_or_database)?;
        // In exclusive locking mode the first write transaction takes the lock for good.
        sqlx::raw_sql(
            "BEGIN EXCLUSIVE;
             CREATE TABLE IF NOT EXISTS journal (
                 seq INTEGER PRIMARY KEY, at_us INTEGER NOT NULL, command TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS snapshots (
                 seq INTEGER PRIMARY KEY, state BLOB NOT NULL);
             COMMIT;",
        )
        .execute(&mut connection)
        .await
        .map_err(locked_or_database)?;
        let last: Option<i64> =
            sqlx::query_scalar("SELECT max(seq) FROM journal").fetch_one(&mut connection).await?;
        Ok(Self { connection, last_seq: last.map_or(0, to_u64) })
    }
}

fn locked_or_database(error: sqlx::Error) -> JournalError {
    match &error {
        sqlx::Error::Database(db) if db.message().contains("locked") => {
            JournalError::Locked(db.message().to_owned())
        }
        _ => JournalError::Database(error),
    }
}

impl Store for SqliteStore {
    async fn append(&mut self, records: &[Record]) -> Result<(), JournalError> {
        check_continues(self.last_seq, records)?;
        let rows = records.iter().map(Record::to_row).collect::<Result<Vec<_>, _>>()?;
        let mut transaction = self.connection.begin().await?;
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            let mut insert = QueryBuilder::<Sqlite>::new("INSERT INTO journal (seq, at_us, command) ");
            insert.push_values(chunk, |mut values, row| {
                values.push_bind(row.seq).push_bind(row.at_us).push_bind(row.command.as_str());
            });
            insert.build().execute(&mut *transaction).await?;
        }
        transaction.commit().await?;
        if let Some(last) = records.last() {
            self.last_seq = last.seq;
        }
        Ok(())
    }

    async fn read_after(&mut self, after: u64, limit: u32) -> Result<Vec<Record>, JournalError> {
        let rows = sqlx::query("SELECT seq, at_us, command FROM journal WHERE seq > ? ORDER BY seq LIMIT ?")
            .bind(to_i64(after))
            .bind(i64::from(limit))
            .fetch_all(&mut self.connection)
            .await?;
        rows.into_iter()
            .map(|row| Record::try_from(Row { seq: row.get(0), at_us: row.get(1), command: row.get(2) }))
            .collect()
    }

    async fn save_snapshot(&mut self, snapshot: &Snapshot) -> Result<(), JournalError> {
        let mut transaction = self.connection.begin().await?;
        sqlx::query("INSERT OR REPLACE INTO snapshots (seq, state) VALUES (?, ?)")
            .bind(to_i64(snapshot.seq))
            .bind(snapshot.state.as_slice())
            .execute(&mut *transaction)
            .await?;
        sqlx::query(
            "DELETE FROM snapshots WHERE seq NOT IN (SELECT seq FROM snapshots ORDER BY seq DESC LIMIT ?)",
        )
        .bind(SNAPSHOTS_KEPT)
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        Ok(())
    }

    async fn snapshots(&mut self) -> Result<Vec<Snapshot>, JournalError> {
        let rows = sqlx::query("SELECT seq, state FROM snapshots ORDER BY seq DESC")
            .fetch_all(&mut self.connection)
            .await?;
        Ok(rows.into_iter().map(|row| Snapshot { seq: to_u64(row.get(0)), state: row.get(1) }).collect())
    }

    async fn close(self) {
        if let Err(error) = self.connection.close().await {
            tracing::warn!(%error, "closing the SQLite journal");
        }
    }
}
