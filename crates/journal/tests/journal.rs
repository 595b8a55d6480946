//! The journal suite, run against both back-ends: SQLite in a temp dir and PostgreSQL in a
//! fresh schema of the database named by `LOCALBROKER_TEST_DATABASE_URL`
//! (default `postgres://postgres@127.0.0.1:5432/test`).

// A test stops at the first thing that is not as expected.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicU32, Ordering};

use engine::fixtures;
use engine::world::World;
use engine::{Command, Engine, Timestamp};
use journal::{JournalError, PgStore, Record, Snapshot, SqliteStore, Store, recover};
use model::MarginKind;
use sqlx::Connection;

fn world() -> World {
    let usd = "1000000.00".parse().unwrap();
    let account = |id| fixtures::account(id, MarginKind::Margin, usd);
    fixtures::world(
        vec![fixtures::user("demo", &["DU1234567", "DU1111111"])],
        vec![account("DU1234567"), account("DU1111111")],
    )
}

fn at(seq: u64) -> Timestamp {
    Timestamp::from_microsecond(1_772_000_000_000_000 + i64::try_from(seq).unwrap() * 1_500).unwrap()
}

/// A plausible history: the world, then logins and account switches (some refused).
fn history(count: u64) -> Vec<Record> {
    let mut engine = Engine::new();
    let mut records = Vec::new();
    for seq in 1..=count {
        let command = match seq {
            1 => Command::CreateWorld { seed: 42, world: world(), clock: Default::default() },
            _ if seq % 3 == 2 => Command::GatewayLogin { user: "demo".parse().unwrap() },
            _ => {
                let session = engine
                    .state()
                    .gateway_session()
                    .map(|s| s.id.clone())
                    .unwrap_or_else(|| model::SessionId::new("gone".into()));
                let account = if seq % 2 == 0 { "DU1111111" } else { "DU9999999" };
                Command::SelectAccount { session, account: account.parse().unwrap() }
            }
        };
        let _ = engine.apply(at(seq), &command);
        records.push(Record { seq, at: at(seq), command });
    }
    records
}

fn engine_after(records: &[Record]) -> Engine {
    let mut engine = Engine::new();
    for record in records {
        let _ = engine.apply(record.at, &record.command);
    }
    engine
}

/// Opens and reopens one journal of a back-end.
trait Backend {
    type Store: Store;
    async fn open(&self) -> Result<Self::Store, JournalError>;
}

struct SqliteBackend(tempfile::TempDir);

impl Backend for SqliteBackend {
    type Store = SqliteStore;
    async fn open(&self) -> Result<SqliteStore, JournalError> {
        SqliteStore::open(&self.0.path().join("journal.db")).await
    }
}

struct PgBackend {
    url: String,
    schema: String,
}

impl Backend for PgBackend {
    type Store = PgStore;
    async fn open(&self) -> Result<PgStore, JournalError> {
        PgStore::open(&self.url, Some(&self.schema)).await
    }
}

impl PgBackend {
    async fn drop_schema(&self) {
        let mut admin = sqlx::PgConnection::connect(&self.url).await.unwrap();
        let drop = format!("DROP SCHEMA {} CASCADE", self.schema);
        sqlx::raw_sql(sqlx::AssertSqlSafe(drop)).execute(&mut admin).await.unwrap();
    }
}

fn sqlite() -> SqliteBackend {
    SqliteBackend(tempfile::tempdir().unwrap())
}

async fn postgres() -> PgBackend {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let url = std::env::var("LOCALBROKER_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let schema = format!(
        "journal_test_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        Timestamp::now().as_millisecond()
    );
    let mut admin = sqlx::PgConnection::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {url} is needed by the journal suite: {e}"));
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}"))).execute(&mut admin).await.unwrap();
    PgBackend { url, schema }
}

async fn appends_are_read_back_in_order(backend: &impl Backend) {
    let records = history(25);
    let mut store = backend.open().await.unwrap();
    assert_eq!(store.read_after(0, 100).await.unwrap(), []);
    store.append(&records[..10]).await.unwrap();
    store.append(&records[10..]).await.unwrap();
    assert_eq!(store.read_after(0, 100).await.unwrap(), records);
    assert_eq!(store.read_after(20, 3).await.unwrap(), records[20..23]);
}

async fn a_batch_that_leaves_a_gap_is_refused_whole(backend: &impl Backend) {
    let records = history(6);
    let mut store = backend.open().await.unwrap();
    store.append(&records[..2]).await.unwrap();
    let skipping = [records[2].clone(), records[4].clone()];
    assert!(matches!(store.append(&skipping).await, Err(JournalError::Gap { expected: 4, found: 5 })));
    let replaying = [records[1].clone()];
    assert!(matches!(store.append(&replaying).await, Err(JournalError::Gap { expected: 3, found: 2 })));
    assert_eq!(store.read_after(0, 100).await.unwrap(), records[..2]);
}

async fn times_finer_than_a_microsecond_are_refused(backend: &impl Backend) {
    let mut records = history(2);
    records[1].at = Timestamp::from_nanosecond(records[1].at.as_nanosecond() + 1).unwrap();
    let mut store = backend.open().await.unwrap();
    assert!(matches!(store.append(&records).await, Err(JournalError::Corrupt { seq: 2, .. })));
    assert_eq!(store.read_after(0, 100).await.unwrap(), [], "nothing of the batch was stored");
    store.append(&records[..1]).await.unwrap();
}

async fn a_large_batch_is_one_append(backend: &impl Backend) {
    let records = history(2_500);
    let mut store = backend.open().await.unwrap();
    store.append(&records).await.unwrap();
    assert_eq!(store.read_after(0, 10_000).await.unwrap(), records);
}

async fn what_was_appended_survives_reopening(backend: &impl Backend) {
    let records = history(12);
    let mut store = backend.open().await.unwrap();
    store.append(&records).await.unwrap();
    store.close().await;
    let mut reopened = backend.open().await.unwrap();
    assert!(matches!(
        reopened.append(&records[11..]).await,
        Err(JournalError::Gap { expected: 13, found: 12 })
    ));
    assert_eq!(reopened.read_after(0, 100).await.unwrap(), records);
}

async fn one_process_writes_a_journal_at_a_time(backend: &impl Backend) {
    let first = backend.open().await.unwrap();
    assert!(matches!(backend.open().await, Err(JournalError::Locked(_))));
    first.close().await;
    backend.open().await.unwrap();
}

async fn only_the_newest_snapshots_are_kept(backend: &impl Backend) {
    let mut store = backend.open().await.unwrap();
    assert_eq!(store.snapshots().await.unwrap(), []);
    for seq in [5, 10, 15] {
        store.save_snapshot(&Snapshot { seq, state: vec![u8::try_from(seq).unwrap(); 3] }).await.unwrap();
    }
    let kept = store.snapshots().await.unwrap();
    assert_eq!(kept, [Snapshot { seq: 15, state: vec![15; 3] }, Snapshot { seq: 10, state: vec![10; 3] }]);
}

async fn recovery_reaches_the_same_state_with_and_without_a_snapshot(backend: &impl Backend) {
    let records = history(40);
    let expected = engine_after(&records);
    let mut store = backend.open().await.unwrap();
    store.append(&records).await.unwrap();

    let full = recover(&mut store).await.unwrap();
    assert_eq!(full.last_seq, 40);
    assert_eq!(full.replayed, 40);
    assert_eq!(full.last_at, Some(at(40)));
    assert_eq!(full.engine.digest(), expected.digest());

    let snapshot = Snapshot { seq: 17, state: engine_after(&records[..17]).snapshot().unwrap() };
    store.save_snapshot(&snapshot).await.unwrap();
    let from_snapshot = recover(&mut store).await.unwrap();
    assert_eq!(from_snapshot.snapshot_seq, Some(17));
    assert_eq!(from_snapshot.replayed, 23);
    assert_eq!(from_snapshot.engine.digest(), expected.digest());
}

async fn unusable_snapshots_are_skipped(backend: &impl Backend) {
    let records = history(30);
    let expected = engine_after(&records);
    let mut store = backend.open().await.unwrap();
    store.append(&records).await.unwrap();
    let older = Snapshot { seq: 10, state: engine_after(&records[..10]).snapshot().unwrap() };
    store.save_snapshot(&older).await.unwrap();
    store.save_snapshot(&Snapshot { seq: 20, state: b"torn".to_vec() }).await.unwrap();
    let recovered = recover(&mut store).await.unwrap();
    assert_eq!((recovered.snapshot_seq, recovered.replayed), (Some(10), 20), "the older snapshot is used");
    assert_eq!(recovered.engine.digest(), expected.digest());

    let from_an_older_version = String::from_utf8(older.state.clone()).unwrap().replacen(
        &format!("\"format\":{}", engine::SNAPSHOT_FORMAT),
        "\"format\":0",
        1,
    );
    store.save_snapshot(&Snapshot { seq: 25, state: from_an_older_version.into_bytes() }).await.unwrap();
    let replayed = recover(&mut store).await.unwrap();
    assert_eq!(
        (replayed.snapshot_seq, replayed.replayed),
        (None, 30),
        "no usable snapshot: the whole journal"
    );
    assert_eq!(replayed.engine.digest(), expected.digest());
}

macro_rules! suite {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test] async fn $case() { super::$case(&super::sqlite()).await; })*
        }
        mod postgres {
            $(#[tokio::test] async fn $case() {
                let backend = super::postgres().await;
                super::$case(&backend).await;
                backend.drop_schema().await;
            })*
        }
    };
}

suite!(
    appends_are_read_back_in_order,
    a_batch_that_leaves_a_gap_is_refused_whole,
    a_large_batch_is_one_append,
    times_finer_than_a_microsecond_are_refused,
    what_was_appended_survives_reopening,
    one_process_writes_a_journal_at_a_time,
    only_the_newest_snapshots_are_kept,
    recovery_reaches_the_same_state_with_and_without_a_snapshot,
    unusable_snapshots_are_skipped,
);
