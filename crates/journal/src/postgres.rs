//! The shared journal: tables in a PostgreSQL schema, written by one leader at a time.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection, Row as _};

use crate::record::{Row, SNAPSHOTS_KEPT, check_continues, to_i64, to_u64};
use crate::{JournalError, Record, Snapshot, Store};

/// A journal in a PostgreSQL database.
#[derive(Debug)]
pub struct PgStore {
    connection: PgConnection,
    last_seq: u64,
}

impl PgStore {
    /// Connects to `url`, creates the tables in the connection's schema if needed, and takes
    /// the leader's advisory lock. With `schema`, the tables live in that schema, which must
    /// exist.
    ///
    /// # Errors
    /// [`JournalError::Locked`] when another process leads this journal; a database error
    /// otherwise.
    pub async fn open(url: &str, schema: Option<&str>) -> Result<Self, JournalError> {
        let mut options = PgConnectOptions::from_str(url)?;
        if let Some(schema) = schema {
            options = options.options([("search_path", schema)]);
        }
        // Whatever the server's default, a commit must be on disk before it returns: an
        // acknowledged command may never be lost.
        let options = options.options([("synchronous_commit", "on")]);
        let mut connection = PgConnection::connect_with(&options).await?;
        take_leadership(&mut connection).await?;
        sqlx::raw_sql(
            "CREATE TABLE IF NOT EXISTS journal (
                 seq BIGINT PRIMARY KEY, at_us BIGINT NOT NULL, command TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS snapshots (
                 seq BIGINT PRIMARY KEY, state BYTEA NOT NULL);",
        )
        .execute(&mut connection)
        .await?;
        let last: Option<i64> =
            sqlx::query_scalar("SELECT max(seq) FROM journal").fetch_one(&mut connection).await?;
        Ok(Self { connection, last_seq: last.map_or(0, to_u64) })
    }
}

/// The lock is per schema, so several journals can share one database; it is held for the
/// life of the connection. A predecessor that just stopped (or was killed) may hold it for a
/// moment longer, while its server process notices the closed connection, so the lock is tried
/// a few times before giving up.
async fn take_leadership(connection: &mut PgConnection) -> Result<(), JournalError> {
    for attempt in 0..LOCK_ATTEMPTS {
        let leader: bool = sqlx::query_scalar(LOCK).fetch_one(&mut *connection).await?;
        if leader {
            return Ok(());
        }
        if attempt + 1 < LOCK_ATTEMPTS {
            tokio::time::sleep(LOCK_RETRY).await;
        }
    }
    Err(JournalError::Locked("its PostgreSQL advisory lock is held".into()))
}

const LOCK: &str = "SELECT pg_try_advisory_lock(hashtext('localbroker:' || current_schema()))";
const UNLOCK: &str = "SELECT pg_advisory_unlock(hashtext('localbroker:' || current_schema()))";
const LOCK_ATTEMPTS: u32 = 10;
const LOCK_RETRY: Duration = Duration::from_millis(100);

impl Store for PgStore {
    async fn append(&mut self, records: &[Record]) -> Result<(), JournalError> {
        check_continues(self.last_seq, records)?;
        let rows = records.iter().map(Record::to_row).collect::<Result<Vec<_>, _>>()?;
        let seqs: Vec<i64> = rows.iter().map(|row| row.seq).collect();
        let ats: Vec<i64> = rows.iter().map(|row| row.at_us).collect();
        let commands: Vec<String> = rows.into_iter().map(|row| row.command).collect();
        // One statement for the whole batch; a single statement is its own transaction.
        sqlx::query(
            "INSERT INTO journal (seq, at_us, command)
             SELECT * FROM UNNEST($1::BIGINT[], $2::BIGINT[], $3::TEXT[])",
        )
        .bind(seqs)
        .bind(ats)
        .bind(commands)
        .execute(&mut self.connection)
        .await?;
        if let Some(last) = records.last() {
            self.last_seq = last.seq;
        }
        Ok(())
    }

    async fn read_after(&mut self, after: u64, limit: u32) -> Result<Vec<Record>, JournalError> {
        let rows =
            sqlx::query("SELECT seq, at_us, command FROM journal WHERE seq > $1 ORDER BY seq LIMIT $2")
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
        sqlx::query(
            "INSERT INTO snapshots (seq, state) VALUES ($1, $2)
             ON CONFLICT (seq) DO UPDATE SET state = EXCLUDED.state",
        )
        .bind(to_i64(snapshot.seq))
        .bind(snapshot.state.as_slice())
        .execute(&mut *transaction)
        .await?;
        sqlx::query(
            "DELETE FROM snapshots WHERE seq NOT IN (SELECT seq FROM snapshots ORDER BY seq DESC LIMIT $1)",
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

    async fn close(mut self) {
        // Released explicitly so that a successor can take over at once.
        if let Err(error) = sqlx::query_scalar::<_, bool>(UNLOCK).fetch_one(&mut self.connection).await {
            tracing::warn!(%error, "releasing the PostgreSQL journal lock");
        }
        if let Err(error) = self.connection.close().await {
            tracing::warn!(%error, "closing the PostgreSQL journal");
        }
    }
}
