//! A fresh PostgreSQL schema per test, in the database `LOCALBROKER_TEST_DATABASE_URL` names
//! (default `postgres://postgres@127.0.0.1:5432/test`, which `scripts/postgres` provides).

use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::{Connection, PgConnection};

/// A schema created for one test and dropped by [`PgSchema::drop_now`].
#[derive(Debug)]
pub struct PgSchema {
    /// The database's URL.
    pub url: String,
    /// The schema's name.
    pub name: String,
    admin: PgConnection,
}

impl PgSchema {
    /// Creates a schema whose name starts with `prefix` and is unique to this process and call.
    ///
    /// # Panics
    /// When PostgreSQL does not answer: the tests that use it need it.
    pub async fn create(prefix: &str) -> Self {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let url = std::env::var("LOCALBROKER_TEST_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let name = format!("{prefix}_{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed));
        let mut admin = PgConnection::connect(&url)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {url} is needed by this test: {e}"));
        let create = format!("DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name}");
        sqlx::raw_sql(sqlx::AssertSqlSafe(create)).execute(&mut admin).await.expect("the schema is created");
        Self { url, name, admin }
    }

    /// The URL of the database with this schema as the search path: what `--database-url`
    /// takes.
    pub fn database_url(&self) -> String {
        format!("{}?options=-c%20search_path%3D{}", self.url, self.name)
    }

    /// Runs a query as the test's administrator and returns its single integer.
    ///
    /// # Panics
    /// When the query fails.
    pub async fn count(&mut self, query: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(query.to_owned()))
            .fetch_one(&mut self.admin)
            .await
            .expect("the query runs")
    }

    /// Runs a statement as the test's administrator.
    ///
    /// # Panics
    /// When the statement fails.
    pub async fn execute(&mut self, statement: &str) {
        sqlx::raw_sql(sqlx::AssertSqlSafe(statement.to_owned()))
            .execute(&mut self.admin)
            .await
            .expect("the statement runs");
    }

    /// Drops the schema and everything in it.
    pub async fn drop_now(mut self) {
        let drop = format!("DROP SCHEMA {} CASCADE", self.name);
        self.execute(&drop).await;
    }
}
