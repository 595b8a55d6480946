//! The broker: the engine on its own thread, fed by a group-committing journal writer.
//!
//! ```text
//! handlers ──execute──▶ writer task ──batch, durable──▶ engine thread ──reply──▶ handlers
//! handlers ──read──────────────────────────────────────▶ engine thread ──reply──▶ handlers
//! ```
//!
//! The writer takes every command waiting in its queue (up to `MAX_BATCH`, 1,024), stamps each with
//! its sequence number and admission time, appends the batch to the journal in one transaction
//! and only then hands it to the engine thread. The engine applies the batch in order and
//! answers each command's caller. So a caller hears "yes" only for a durable command, the
//! engine thread never waits on I/O, and while it applies one batch the writer is already
//! committing the next. Reads skip the journal and go straight to the engine thread, in the
//! order they arrive, interleaved with applied batches.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::thread::JoinHandle;

use engine::{Command, Engine, EngineError, Event, Executed, Timestamp};
use journal::{AnyStore, JournalError, Record, Snapshot, Store, recover};
use tokio::sync::{broadcast, mpsc, oneshot};

/// The most commands one journal transaction carries.
const MAX_BATCH: usize = 1024;

/// How many messages may queue for the writer or the engine before callers wait.
const QUEUE_DEPTH: usize = 8192;

/// How many applied commands a subscriber may fall behind before it misses some: one that falls
/// further behind has stopped reading.
const EVENTS_BEHIND: usize = 16_384;

/// A handle to the running broker; cheap to clone, one per handler.
#[derive(Debug, Clone)]
pub struct Broker {
    writer: mpsc::Sender<Inbound>,
    engine: mpsc::Sender<Work>,
    events: broadcast::Sender<Applied>,
}

/// The events of one applied command, shared by every subscriber.
pub type Applied = Arc<[Event]>;

/// Why the broker could not serve a request.
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    /// The engine refused the command; nothing changed.
    #[error(transparent)]
    Rejected(#[from] EngineError),
    /// The broker is stopping, or its journal or engine failed; the command was not applied.
    #[error("the broker is not accepting commands")]
    Unavailable,
}

/// Tuning for the broker's background work.
#[derive(Debug, Clone, Copy)]
pub struct BrokerOptions {
    /// Take a snapshot after this many applied commands, bounding the replay at restart; a
    /// larger state waits longer (as many commands as it holds orders, executions and ledger
    /// entries), so that snapshots cost each command the same however large the state grows.
    pub snapshot_every: u64,
}

impl Default for BrokerOptions {
    fn default() -> Self {
        Self { snapshot_every: 10_000 }
    }
}

/// How the broker's state came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The journal was empty: the genesis commands created a new world.
    Created,
    /// The state was recovered from the journal: `last_seq` records, of which `replayed` were
    /// applied on top of a snapshot (all of them without one).
    Recovered { last_seq: u64, replayed: u64 },
}

/// Why the broker could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The journal could not be read.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// The genesis commands were refused: the world file is inconsistent.
    #[error("the world cannot be created: {0}")]
    World(EngineError),
    /// The broker stopped before the world was created.
    #[error("the broker stopped while creating the world")]
    Stopped,
    /// The operating system refused a thread.
    #[error("cannot start the engine thread: {0}")]
    Thread(std::io::Error),
}

/// The broker's background work, to be stopped with [`Running::shutdown`].
#[derive(Debug)]
pub struct Running {
    writer: mpsc::Sender<Inbound>,
    writer_task: tokio::task::JoinHandle<()>,
    engine_thread: JoinHandle<()>,
}

type Outcome = Result<Executed, EngineError>;

/// What the writer receives.
enum Inbound {
    /// Commands to journal in one transaction and apply in order, with their outcomes' way back.
    Commands { commands: Vec<Command>, reply: oneshot::Sender<Vec<Outcome>> },
    /// Journal nothing more.
    Stop,
}

/// Where the outcomes of one [`Inbound::Commands`] go: its `count` records' results.
struct Pending {
    count: usize,
    reply: oneshot::Sender<Vec<Outcome>>,
}

type ReadFn = Box<dyn FnOnce(&Engine) + Send>;

/// What the engine thread receives.
enum Work {
    Apply {
        records: Vec<Record>,
        pending: Vec<Pending>,
    },
    Read(ReadFn),
    /// Apply nothing more; send the final snapshot back.
    Stop(oneshot::Sender<Option<Snapshot>>),
}

impl Broker {
    /// Recovers the state from `store` and starts the writer and the engine thread. On an empty
    /// journal, the `genesis` commands (a [`Command::CreateWorld`] first) become its first
    /// records, journaled together: a crash leaves the world either whole or not begun.
    ///
    /// # Errors
    /// When the journal cannot be read or the genesis world is invalid.
    pub async fn start(
        mut store: AnyStore,
        genesis: Vec<Command>,
        options: BrokerOptions,
    ) -> Result<(Self, Running, Origin), StartError> {
        let recovered = recover(&mut store).await?;
        let origin = if recovered.last_seq == 0 {
            // Check the world before it is journaled: a refused genesis would leave a journal
            // whose first record creates nothing.
            let mut scratch = Engine::new();
            for command in &genesis {
                scratch.apply(Timestamp::now(), command).map_err(StartError::World)?;
            }
            Origin::Created
        } else {
            Origin::Recovered { last_seq: recovered.last_seq, replayed: recovered.replayed }
        };
        let (writer_tx, writer_rx) = mpsc::channel(QUEUE_DEPTH);
        let (engine_tx, engine_rx) = mpsc::channel(QUEUE_DEPTH);
        let (snapshot_tx, snapshot_rx) = mpsc::unbounded_channel();
        let (events, _) = broadcast::channel(EVENTS_BEHIND);
        let engine_thread = std::thread::Builder::new()
            .name("engine".into())
            .spawn({
                let engine = recovered.engine;
                let last_seq = recovered.last_seq;
                let events = events.clone();
                move || run_engine(engine, last_seq, engine_rx, snapshot_tx, events, options)
            })
            .map_err(StartError::Thread)?;
        let writer = Writer {
            store,
            next_seq: recovered.last_seq + 1,
            last_at: recovered.last_at,
            engine: engine_tx.clone(),
            failed: false,
        };
        let writer_task = tokio::spawn(writer.run(writer_rx, snapshot_rx));
        let broker = Self { writer: writer_tx.clone(), engine: engine_tx, events };
        let running = Running { writer: writer_tx, writer_task, engine_thread };
        if origin == Origin::Created {
            let outcomes = broker.execute_all(genesis).await.map_err(|_| StartError::Stopped)?;
            outcomes.into_iter().collect::<Result<Vec<_>, _>>().map_err(StartError::World)?;
        }
        Ok((broker, running, origin))
    }

    /// Journals `command`, applies it, and returns what it changed and what it answers.
    ///
    /// # Errors
    /// [`BrokerError::Rejected`] when the engine refused it (nothing changed);
    /// [`BrokerError::Unavailable`] when it could not be journaled.
    pub async fn execute(&self, command: Command) -> Result<Executed, BrokerError> {
        let outcome = self.execute_all(vec![command]).await?.pop().ok_or(BrokerError::Unavailable)?;
        Ok(outcome?)
    }

    /// Journals `commands` in one transaction, then applies them in order; each may still be
    /// refused on its own.
    ///
    /// # Errors
    /// [`BrokerError::Unavailable`] when they could not be journaled; none was applied then.
    pub async fn execute_all(&self, commands: Vec<Command>) -> Result<Vec<Outcome>, BrokerError> {
        let (reply, answer) = oneshot::channel();
        self.writer
            .send(Inbound::Commands { commands, reply })
            .await
            .map_err(|_| BrokerError::Unavailable)?;
        answer.await.map_err(|_| BrokerError::Unavailable)
    }

    /// The events of every command applied from now on, in order. A subscriber that falls
    /// more than a few thousand commands behind misses some and is told so.
    pub fn subscribe(&self) -> broadcast::Receiver<Applied> {
        self.events.subscribe()
    }

    /// Runs `query` on the engine thread and returns its result. Queries see every command
    /// acknowledged before they were sent.
    ///
    /// # Errors
    /// [`BrokerError::Unavailable`] once the broker has stopped, or if `query` panicked.
    pub async fn read<R, F>(&self, query: F) -> Result<R, BrokerError>
    where
        R: Send + 'static,
        F: FnOnce(&Engine) -> R + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let work: ReadFn = Box::new(move |engine| {
            let _ = reply.send(query(engine));
        });
        self.engine.send(Work::Read(work)).await.map_err(|_| BrokerError::Unavailable)?;
        answer.await.map_err(|_| BrokerError::Unavailable)
    }
}

impl Running {
    /// Stops accepting commands, applies and journals everything already accepted, saves a
    /// final snapshot and closes the journal.
    pub async fn shutdown(self) {
        // If the writer already stopped, there is nothing left to flush.
        let _ = self.writer.send(Inbound::Stop).await;
        if let Err(error) = self.writer_task.await {
            tracing::error!(%error, "journal writer failed");
        }
        let thread = self.engine_thread;
        if tokio::task::spawn_blocking(move || thread.join()).await.is_err() {
            tracing::error!("engine thread panicked");
        }
    }
}

/// The engine thread's loop: apply batches, answer reads, take snapshots.
fn run_engine(
    mut engine: Engine,
    mut last_seq: u64,
    mut inbox: mpsc::Receiver<Work>,
    snapshots: mpsc::UnboundedSender<Snapshot>,
    events: broadcast::Sender<Applied>,
    options: BrokerOptions,
) {
    let mut since_snapshot = 0;
    while let Some(work) = inbox.blocking_recv() {
        match work {
            Work::Apply { records, pending } => {
                let mut records = records.into_iter();
                for Pending { count, reply } in pending {
                    let outcomes = records
                        .by_ref()
                        .take(count)
                        .map(|record| {
                            last_seq = record.seq;
                            let outcome = engine.execute(record.at, &record.command);
                            if let Ok(executed) = &outcome
                                && !executed.events.is_empty()
                            {
                                // No subscriber is no error: the events are for whoever listens.
                                let _ = events.send(Arc::from(executed.events.as_slice()));
                            }
                            outcome
                        })
                        .collect();
                    let _ = reply.send(outcomes);
                    since_snapshot += count as u64;
                }
                if since_snapshot >= options.snapshot_every.max(engine.state().size()) {
                    if let Some(snapshot) = snapshot_of(&engine, last_seq) {
                        let _ = snapshots.send(snapshot);
                    }
                    since_snapshot = 0;
                }
            }
            // A query only borrows the engine, so a panicking one cannot leave the state half
            // changed: its caller gets no answer (503) and the engine carries on.
            Work::Read(query) => {
                if std::panic::catch_unwind(AssertUnwindSafe(|| query(&engine))).is_err() {
                    tracing::error!("a read query panicked");
                }
            }
            Work::Stop(done) => {
                let _ = done.send(snapshot_of(&engine, last_seq));
                return;
            }
        }
    }
}

fn snapshot_of(engine: &Engine, seq: u64) -> Option<Snapshot> {
    match engine.snapshot() {
        Ok(state) => Some(Snapshot { seq, state }),
        Err(error) => {
            tracing::error!(%error, seq, "cannot snapshot the state; recovery will replay more");
            None
        }
    }
}

/// The journal writer: batches, stamps and appends commands, then forwards them.
struct Writer {
    store: AnyStore,
    next_seq: u64,
    last_at: Option<Timestamp>,
    engine: mpsc::Sender<Work>,
    /// Set after an append failed or the engine stopped: the journal may then hold commands the
    /// engine never applied, so nothing more is accepted until a restart recovers from what is
    /// durable.
    failed: bool,
}

impl Writer {
    async fn run(
        mut self,
        mut inbox: mpsc::Receiver<Inbound>,
        mut snapshots: mpsc::UnboundedReceiver<Snapshot>,
    ) {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        loop {
            tokio::select! {
                biased;
                Some(snapshot) = snapshots.recv() => self.save_snapshot(&snapshot).await,
                received = inbox.recv_many(&mut batch, MAX_BATCH) => {
                    if received == 0 || self.commit(&mut batch).await {
                        break;
                    }
                }
            }
        }
        inbox.close();
        self.finish(snapshots).await;
    }

    /// Journals and forwards the commands of `batch` up to a stop marker; true when one was
    /// found.
    async fn commit(&mut self, batch: &mut Vec<Inbound>) -> bool {
        let mut records = Vec::with_capacity(batch.len());
        let mut pending = Vec::with_capacity(batch.len());
        let mut stop = false;
        for inbound in batch.drain(..) {
            match inbound {
                // Commands after the stop marker, or after a failure, are dropped unanswered:
                // their callers see the broker as unavailable.
                Inbound::Commands { .. } if stop || self.failed => {}
                Inbound::Commands { commands, reply } => {
                    pending.push(Pending { count: commands.len(), reply });
                    for command in commands {
                        let seq = self.next_seq + records.len() as u64;
                        records.push(Record { seq, at: self.admission_time(), command });
                    }
                }
                Inbound::Stop => stop = true,
            }
        }
        if records.is_empty() {
            return stop;
        }
        if self.engine.is_closed() {
            tracing::error!("the engine thread has stopped; refusing further commands");
            self.failed = true;
            return stop;
        }
        if let Err(error) = self.store.append(&records).await {
            tracing::error!(%error, "journal append failed; refusing further commands");
            self.failed = true;
            return stop;
        }
        self.next_seq += records.len() as u64;
        if self.engine.send(Work::Apply { records, pending }).await.is_err() {
            tracing::error!("the engine thread has stopped; refusing further commands");
            self.failed = true;
        }
        stop
    }

    /// The admission time of the next command: the clock's now at the journal's resolution,
    /// never earlier than the last.
    fn admission_time(&mut self) -> Timestamp {
        let wall = Timestamp::now();
        let now = Timestamp::from_microsecond(wall.as_microsecond()).unwrap_or(wall);
        let at = self.last_at.map_or(now, |last| last.max(now));
        self.last_at = Some(at);
        at
    }

    async fn save_snapshot(&mut self, snapshot: &Snapshot) {
        if let Err(error) = self.store.save_snapshot(snapshot).await {
            tracing::warn!(%error, seq = snapshot.seq, "saving a snapshot failed; recovery will replay more");
        }
    }

    /// Stops the engine after everything forwarded, saves its final snapshot, closes the store.
    async fn finish(mut self, mut snapshots: mpsc::UnboundedReceiver<Snapshot>) {
        let (done, final_snapshot) = oneshot::channel();
        if self.engine.send(Work::Stop(done)).await.is_ok() {
            while let Ok(snapshot) = snapshots.try_recv() {
                self.save_snapshot(&snapshot).await;
            }
            if let Ok(Some(snapshot)) = final_snapshot.await
                && !self.failed
                && snapshot.seq > 0
            {
                self.save_snapshot(&snapshot).await;
            }
        }
        self.store.close().await;
    }
}
