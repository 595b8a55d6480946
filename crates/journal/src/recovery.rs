//! Rebuilding the engine after a restart.

use engine::{Engine, Timestamp};

use crate::{JournalError, Store};

/// Records read per round trip while replaying.
const REPLAY_PAGE: u32 = 10_000;

/// The engine as the journal left it.
#[derive(Debug)]
pub struct Recovered {
    /// The engine with every journaled command applied.
    pub engine: Engine,
    /// The last record applied; 0 for an empty journal.
    pub last_seq: u64,
    /// When the last record was admitted.
    pub last_at: Option<Timestamp>,
    /// The snapshot recovery started from, if any.
    pub snapshot_seq: Option<u64>,
    /// How many records were replayed on top of it.
    pub replayed: u64,
}

/// Loads the newest snapshot that can be read and replays every record after it. A snapshot
/// that cannot be read (torn, or of an older state format) is skipped: the journal itself is the
/// truth, and without any usable snapshot it is replayed from its start. Commands the engine
/// refused when they were first applied are refused again, identically, so they change nothing.
///
/// # Errors
/// A database error, an unreadable record, or a gap in the sequence.
pub async fn recover<S: Store>(store: &mut S) -> Result<Recovered, JournalError> {
    let mut start = None;
    for snapshot in store.snapshots().await? {
        match Engine::from_snapshot(&snapshot.state) {
            Ok(engine) => {
                start = Some((engine, snapshot.seq));
                break;
            }
            Err(error) => tracing::warn!(seq = snapshot.seq, %error, "skipping an unusable snapshot"),
        }
    }
    let snapshot_seq = start.as_ref().map(|(_, seq)| *seq);
    let mut engine = start.map_or_else(Engine::new, |(engine, _)| engine);
    let mut last_seq = snapshot_seq.unwrap_or(0);
    let mut last_at = engine.state().wall();
    let mut replayed = 0;
    loop {
        let page = store.read_after(last_seq, REPLAY_PAGE).await?;
        if page.is_empty() {
            break;
        }
        for record in page {
            if record.seq != last_seq + 1 {
                return Err(JournalError::Gap { expected: last_seq + 1, found: record.seq });
            }
            // A refusal is part of the history: it was refused the first time too.
            let _ = engine.apply(record.at, &record.command);
            last_seq = record.seq;
            last_at = Some(record.at);
            replayed += 1;
        }
    }
    Ok(Recovered { engine, last_seq, last_at, snapshot_seq, replayed })
}
