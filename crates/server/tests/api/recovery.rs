use reqwest::StatusCode;
use serde_json::json;
use testkit::postgres::PgSchema;
use testkit::{AppOptions, TestApp, spawn_app, spawn_app_with};

use crate::two_account_world;

/// Switches account and logs out: the state changes the restart check names.
async fn change_state(app: &TestApp) {
    let switched = app.post_json("/v1/api/iserver/account", json!({"acctId": "DU1000002"})).await;
    assert_eq!(switched.status, StatusCode::OK);
    app.login("bob", "nope").await;
    app.login("alice", "wonderland").await;
    app.post_json("/v1/api/iserver/account", json!({"acctId": "DU1000002"})).await;
    assert_eq!(app.post("/v1/api/logout").await.status, StatusCode::OK);
}

async fn alice(options: AppOptions) -> (TestApp, tempfile::TempDir) {
    let world_dir = tempfile::tempdir().unwrap();
    let world = two_account_world(world_dir.path());
    (spawn_app_with(AppOptions { world: Some(world), ..options }).await, world_dir)
}

#[tokio::test]
async fn a_clean_restart_reaches_the_same_state() {
    let (app, _world) = alice(AppOptions::default()).await;
    change_state(&app).await;
    let before = app.digest().await;
    let app = app.restart().await;
    assert_eq!(app.digest().await, before);
    assert_eq!(app.post("/v1/api/tickle").await.status, StatusCode::UNAUTHORIZED, "still logged out");
    app.login("alice", "wonderland").await;
    assert_eq!(app.get("/v1/api/iserver/accounts").await.body["selectedAccount"], "DU1000001");
}

#[tokio::test]
async fn the_whole_journal_replays_to_the_live_state() {
    let (app, _world) = alice(AppOptions::default()).await;
    change_state(&app).await;
    app.login("alice", "wonderland").await;
    app.assert_journal_replays().await;
}

#[tokio::test]
async fn a_new_world_is_not_created_over_a_journal() {
    let app = spawn_app().await;
    app.post("/v1/api/logout").await;
    let before = app.digest().await;
    let app = app.restart().await;
    assert_eq!(app.digest().await, before, "the genesis login is not repeated");
    assert_eq!(app.post("/v1/api/tickle").await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_postgresql_journal_recovers_the_same_state() {
    let mut schema = PgSchema::create("server_test").await;
    let options = AppOptions { database_url: Some(schema.database_url()), ..AppOptions::default() };
    let (app, _world) = alice(options).await;
    change_state(&app).await;
    let before = app.digest().await;
    let app = app.restart().await;
    assert_eq!(app.digest().await, before);
    let journaled = schema.count(&format!("SELECT count(*) FROM {}.journal", schema.name)).await;
    // The world and its first login, then four changes; the failed login is never journaled.
    assert_eq!(journaled, 6);
    app.assert_journal_replays().await;
    schema.drop_now().await;
}

/// A journal line as `tests/fixtures/journal-*.jsonl` holds it: the journal's own columns.
#[derive(serde::Deserialize)]
struct JournalLine {
    seq: u64,
    at_us: i64,
    command: engine::Command,
}

/// The journal an earlier build wrote (2026-12-07, before the hardening of sessions and signed
/// requests) while serving a gateway user's orders, a modify and a cancel, clock moves, a price
/// override, deposits and a withdrawal, a dividend, an OAuth client that managed no account
/// opening a session for `demo2` and trading in it, Account Management onboarding and funding,
/// Flex, a logout and a new login. Every command it accepted must still be accepted, and the
/// state must come out byte for byte as that build left it.
#[test]
fn a_journal_written_by_an_earlier_build_replays_to_the_state_it_had() {
    let text = include_str!("../fixtures/journal-2026-12-07.jsonl");
    let mut engine = engine::Engine::new();
    for line in text.lines() {
        let line: JournalLine = serde_json::from_str(line).expect("a journal line of that build reads");
        let at = jiff::Timestamp::from_microsecond(line.at_us).unwrap();
        if let Err(refusal) = engine.apply(at, &line.command) {
            panic!("record {} was accepted when journaled and is refused now: {refusal}", line.seq);
        }
    }
    assert_eq!(
        engine.digest().to_string(),
        "637c804b95d8765ef7795d28d6aaf7a60bf2e30ed898838276fe8692c018124b",
        "the digest that build reported for the same journal"
    );
}
