//! What the journal stores.

use engine::{Command, Timestamp};

use crate::JournalError;

/// One journaled command: its place in the log and the instant it was admitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Position in the log, from 1, without gaps.
    pub seq: u64,
    /// When the command was admitted; the engine applies it at this instant.
    pub at: Timestamp,
    /// The command.
    pub command: Command,
}

/// The engine's state after applying every record up to `seq`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// The last record the state includes.
    pub seq: u64,
    /// The engine's serialised state.
    pub state: Vec<u8>,
}

/// A record as the databases hold it: integers and JSON text.
pub(crate) struct Row {
    pub(crate) seq: i64,
    pub(crate) at_us: i64,
    pub(crate) command: String,
}

/// The journal keeps time to the microsecond; finer instants would not replay identically.
const RESOLUTION_NANOS: i128 = 1_000;

/// How many snapshots a store keeps: the newest, and the one before in case the newest cannot
/// be read.
pub(crate) const SNAPSHOTS_KEPT: i64 = 2;

impl Record {
    pub(crate) fn to_row(&self) -> Result<Row, JournalError> {
        let corrupt = |reason: String| JournalError::Corrupt { seq: self.seq, reason };
        if self.at.as_nanosecond() % RESOLUTION_NANOS != 0 {
            return Err(corrupt(format!("{} is finer than the journal's microsecond resolution", self.at)));
        }
        let command = serde_json::to_string(&self.command).map_err(|e| corrupt(e.to_string()))?;
        Ok(Row { seq: to_i64(self.seq), at_us: self.at.as_microsecond(), command })
    }
}

impl TryFrom<Row> for Record {
    type Error = JournalError;

    fn try_from(row: Row) -> Result<Self, Self::Error> {
        let seq = to_u64(row.seq);
        let corrupt = |reason: String| JournalError::Corrupt { seq, reason };
        let at = Timestamp::from_microsecond(row.at_us).map_err(|e| corrupt(e.to_string()))?;
        let command = serde_json::from_str(&row.command).map_err(|e| corrupt(e.to_string()))?;
        Ok(Self { seq, at, command })
    }
}

/// Sequence numbers are stored as SQL `BIGINT`; a journal would need 2^63 commands to overflow.
pub(crate) fn to_i64(seq: u64) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}

pub(crate) fn to_u64(seq: i64) -> u64 {
    u64::try_from(seq).unwrap_or(0)
}

/// Checks that `records` continue the log after `last`, without gaps.
pub(crate) fn check_continues(last: u64, records: &[Record]) -> Result<(), JournalError> {
    for (expected, record) in (last + 1..).zip(records) {
        if record.seq != expected {
            return Err(JournalError::Gap { expected, found: record.seq });
        }
    }
    Ok(())
}
