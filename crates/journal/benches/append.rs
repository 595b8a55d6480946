//! Group commit, measured: the cost of journaling 256 commands when each commit carries 1, 16
//! or 256 of them. Every commit is durable (one fsync), so the batch size is what the broker's
//! writer gains by taking every waiting command at once.
//!
//! `cargo bench -p journal` (PostgreSQL at `LOCALBROKER_TEST_DATABASE_URL`, default
//! `postgres://postgres@127.0.0.1:5432/test`).

// A benchmark stops at the first thing that is not as expected.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use divan::Bencher;
use engine::{Command, Timestamp};
use journal::{PgStore, Record, SqliteStore, Store};
use sqlx::Connection;

const COMMANDS: u64 = 256;

fn main() {
    divan::main();
}

fn records() -> Vec<Record> {
    (1..=COMMANDS)
        .map(|seq| Record {
            seq,
            at: Timestamp::from_second(1_772_000_000 + i64::try_from(seq).unwrap()).unwrap(),
            command: Command::GatewayLogin { user: "demo".parse().unwrap() },
        })
        .collect()
}

async fn append_in_batches(store: &mut impl Store, records: &[Record], batch: usize) {
    for chunk in records.chunks(batch) {
        store.append(chunk).await.unwrap();
    }
}

#[divan::bench(args = [1, 16, 256], sample_count = 10)]
fn sqlite(bencher: Bencher, batch: usize) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let records = records();
    bencher
        .with_inputs(|| {
            let dir = tempfile::tempdir().unwrap();
            let store = runtime.block_on(SqliteStore::open(&dir.path().join("journal.sqlite"))).unwrap();
            (dir, store)
        })
        .bench_local_values(|(dir, mut store)| {
            runtime.block_on(append_in_batches(&mut store, &records, batch));
            drop(dir);
        });
}

#[divan::bench(args = [1, 16, 256], sample_count = 10)]
fn postgres(bencher: Bencher, batch: usize) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let url = std::env::var("LOCALBROKER_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let records = records();
    let mut round = 0;
    bencher
        .with_inputs(|| {
            round += 1;
            let schema = format!("journal_bench_{}_{batch}_{round}", std::process::id());
            runtime.block_on(async {
                let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
                let create = format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}");
                sqlx::raw_sql(sqlx::AssertSqlSafe(create)).execute(&mut admin).await.unwrap();
                (PgStore::open(&url, Some(&schema)).await.unwrap(), admin, schema)
            })
        })
        .bench_local_values(|(mut store, mut admin, schema)| {
            runtime.block_on(async {
                append_in_batches(&mut store, &records, batch).await;
                store.close().await;
                let drop = format!("DROP SCHEMA {schema} CASCADE");
                sqlx::raw_sql(sqlx::AssertSqlSafe(drop)).execute(&mut admin).await.unwrap();
            });
        });
}
