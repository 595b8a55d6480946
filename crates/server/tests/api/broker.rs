//! The broker runtime itself: group commit under concurrency, failures, stopping.

use engine::Command;
use engine::fixtures;
use engine::world::World;
use journal::{AnyStore, PgStore, SqliteStore, Store, recover};
use model::{Decimal, MarginKind};
use server::broker::{Broker, BrokerError, BrokerOptions};
use testkit::postgres::PgSchema;

fn world() -> World {
    let account = |id| fixtures::account(id, MarginKind::Margin, Decimal::ONE_THOUSAND);
    fixtures::world(vec![fixtures::user("ann", &["DU1", "DU2"])], vec![account("DU1"), account("DU2")])
}

fn genesis() -> Vec<Command> {
    vec![
        Command::CreateWorld { seed: 3, world: world(), clock: Default::default() },
        Command::GatewayLogin { user: "ann".parse().unwrap() },
    ]
}

async fn gateway_session(broker: &Broker) -> model::SessionId {
    broker.read(|engine| engine.state().gateway_session().unwrap().id.clone()).await.unwrap()
}

#[tokio::test]
async fn concurrent_commands_are_all_acknowledged_journaled_and_replayed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.sqlite");
    let store = AnyStore::Sqlite(SqliteStore::open(&path).await.unwrap());
    let (broker, running, _) = Broker::start(store, genesis(), BrokerOptions::default()).await.unwrap();
    let session = gateway_session(&broker).await;
    let tasks: Vec<_> = (0..300)
        .map(|n| {
            let broker = broker.clone();
            let account = if n % 2 == 0 { "DU1" } else { "DU2" };
            let command =
                Command::SelectAccount { session: session.clone(), account: account.parse().unwrap() };
            tokio::spawn(async move { broker.execute(command).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().expect("every command is acknowledged");
    }
    let digest = broker.read(|engine| engine.digest()).await.unwrap();
    running.shutdown().await;

    let mut store = SqliteStore::open(&path).await.unwrap();
    assert_eq!(store.read_after(0, 1000).await.unwrap().len(), 302, "the genesis and every command");
    store.save_snapshot(&journal::Snapshot { seq: 1, state: b"unusable".to_vec() }).await.unwrap();
    let replayed = recover(&mut store).await.unwrap();
    assert_eq!(replayed.engine.digest(), digest);
}

#[tokio::test]
async fn a_stopped_broker_refuses_commands_and_reads() {
    let dir = tempfile::tempdir().unwrap();
    let store = AnyStore::Sqlite(SqliteStore::open(&dir.path().join("journal.sqlite")).await.unwrap());
    let (broker, running, _) = Broker::start(store, genesis(), BrokerOptions::default()).await.unwrap();
    let session = gateway_session(&broker).await;
    running.shutdown().await;
    let refused = broker.execute(Command::Logout { session }).await;
    assert!(matches!(refused, Err(BrokerError::Unavailable)));
    assert!(matches!(broker.read(|_| ()).await, Err(BrokerError::Unavailable)));
}

#[tokio::test]
async fn a_panicking_read_fails_alone() {
    let dir = tempfile::tempdir().unwrap();
    let store = AnyStore::Sqlite(SqliteStore::open(&dir.path().join("journal.sqlite")).await.unwrap());
    let (broker, running, _) = Broker::start(store, genesis(), BrokerOptions::default()).await.unwrap();
    let failed =
        broker.read(|engine| -> u64 { panic!("a bug in a query at seed {}", engine.state().seed()) }).await;
    assert!(matches!(failed, Err(BrokerError::Unavailable)));
    let session = gateway_session(&broker).await;
    broker.execute(Command::SelectAccount { session, account: "DU2".parse().unwrap() }).await.unwrap();
    running.shutdown().await;
}

#[tokio::test]
async fn after_a_journal_failure_nothing_more_is_acknowledged() {
    let mut schema = PgSchema::create("broker_test").await;
    let store = AnyStore::Postgres(PgStore::open(&schema.url, Some(&schema.name)).await.unwrap());
    let (broker, running, _) = Broker::start(store, genesis(), BrokerOptions::default()).await.unwrap();
    let session = gateway_session(&broker).await;
    let before = broker.read(|engine| engine.digest()).await.unwrap();

    // The journal's connection is the one holding this schema's advisory lock.
    let terminate = format!(
        "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' \
         AND objid = hashtext('localbroker:{}')::oid",
        schema.name
    );
    schema.execute(&terminate).await;
    let select = |account: &str| Command::SelectAccount {
        session: session.clone(),
        account: account.parse().unwrap(),
    };
    assert!(matches!(broker.execute(select("DU2")).await, Err(BrokerError::Unavailable)));
    assert!(matches!(broker.execute(select("DU1")).await, Err(BrokerError::Unavailable)), "and after");
    assert_eq!(broker.read(|engine| engine.digest()).await.unwrap(), before, "nothing was applied");
    running.shutdown().await;
    schema.drop_now().await;
}

#[tokio::test]
async fn periodic_snapshots_plus_the_journal_after_them_give_the_same_state() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.sqlite");
    let store = AnyStore::Sqlite(SqliteStore::open(&path).await.unwrap());
    let options = BrokerOptions { snapshot_every: 10 };
    let (broker, running, _) = Broker::start(store, genesis(), options).await.unwrap();
    let session = gateway_session(&broker).await;
    for n in 0..45 {
        let account = if n % 2 == 0 { "DU2" } else { "DU1" };
        broker
            .execute(Command::SelectAccount { session: session.clone(), account: account.parse().unwrap() })
            .await
            .unwrap();
    }
    let digest = broker.read(|engine| engine.digest()).await.unwrap();
    running.shutdown().await;

    let mut store = SqliteStore::open(&path).await.unwrap();
    let snapshots = store.snapshots().await.unwrap();
    assert_eq!(snapshots.len(), 2, "the final snapshot and the last periodic one");
    let periodic = &snapshots[1];
    assert!(periodic.seq < 47 && periodic.seq >= 37, "taken after every ten commands: {}", periodic.seq);
    let mut engine = engine::Engine::from_snapshot(&periodic.state).unwrap();
    for record in store.read_after(periodic.seq, 1000).await.unwrap() {
        let _ = engine.apply(record.at, &record.command);
    }
    assert_eq!(engine.digest(), digest);
}
