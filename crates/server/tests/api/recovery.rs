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

/// Journals the build before the engine's typed read API, refusals and order state machine
/// (commit `bfe60cc`) wrote in its API tests, each with the digest that build reported for it:
/// banking instructions settling, signed requests, question suppressions, a portfolio with a
/// split and a price override, an order cancelled by a split, a day order expiring, a brokerage
/// session taken over, clock moves and market overrides. Refused records replay as refusals.
#[test]
fn journals_written_before_the_typed_engine_replay_to_the_states_they_had() {
    let journals = [
        (
            "banking",
            include_str!("../fixtures/bfe60cc/banking.jsonl"),
            "a3738d146945cf3bdeedadccffd2c198dda4f5985895976aba70666e3d3ba127",
        ),
        (
            "signed",
            include_str!("../fixtures/bfe60cc/signed.jsonl"),
            "eacb60b3900c8deed623b5c5d6a2752e94e0fa1eac1d6bd0a20871d0c94291df",
        ),
        (
            "suppressions",
            include_str!("../fixtures/bfe60cc/suppressions.jsonl"),
            "43a6ed4c9902d300c5ee45ce8a34439ceb2fb32f6752b5d3e9295f5e21a39bbf",
        ),
        (
            "portfolio",
            include_str!("../fixtures/bfe60cc/portfolio.jsonl"),
            "a7d43e92e45f12283abc3cf872d8937239bfcf58b6c251aae75dd02392011524",
        ),
        (
            "split",
            include_str!("../fixtures/bfe60cc/split.jsonl"),
            "88eddd1c032c8dfe247cfbada0976fd7892204b066e7648e1797541d5daa8d38",
        ),
        (
            "expiry",
            include_str!("../fixtures/bfe60cc/expiry.jsonl"),
            "5b5dbfb0a4b4b4e979be91ba487d9ec5aebd4ed0a519f6e25f727d721e9c5a95",
        ),
        (
            "brokerage",
            include_str!("../fixtures/bfe60cc/brokerage.jsonl"),
            "baee2330f55c1fe4e824992c24e2c513cbc7a7339f0b4369cb6e7db7828653d4",
        ),
        (
            "clock",
            include_str!("../fixtures/bfe60cc/clock.jsonl"),
            "9f9f0599fcb70d299536281810d6388e1c696dc7f0f388768e8f2c86594143e5",
        ),
        (
            "overrides",
            include_str!("../fixtures/bfe60cc/overrides.jsonl"),
            "1282366c27be698151ac120a9c72ad65a69c916d2a3111e16a4ae0e0aac3abe6",
        ),
    ];
    for (name, text, digest) in journals {
        let mut engine = engine::Engine::new();
        for line in text.lines() {
            let line: JournalLine = serde_json::from_str(line).expect("a journal line of that build reads");
            let at = jiff::Timestamp::from_microsecond(line.at_us).unwrap();
            let _ = engine.apply(at, &line.command);
        }
        assert_eq!(engine.digest().to_string(), digest, "the {name} journal");
    }
}
