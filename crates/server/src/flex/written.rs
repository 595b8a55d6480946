//! Statements already written, so that a statement is written once however often it is
//! fetched. Each lives in a temporary file, which every fetch streams: memory holds none of
//! them, and the files of the oldest are deleted when more are written than are kept.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use engine::flex::{FlexRequest, Format};
use tempfile::NamedTempFile;
use tokio::sync::OnceCell;

/// How many statements are kept written.
const KEPT: usize = 16;

/// A statement written into its file.
#[derive(Debug)]
pub struct WrittenStatement {
    /// The file, deleted when the last holder of this statement lets go of it.
    pub file: NamedTempFile,
    /// XML or CSV.
    pub format: Format,
    /// Its length in bytes.
    pub length: u64,
}

/// The statement of a request, once written; its writers wait on one another.
pub type Slot = Arc<OnceCell<Arc<WrittenStatement>>>;

/// The statements written, by request, newest last.
#[derive(Debug, Default)]
pub struct WrittenStatements {
    slots: Mutex<VecDeque<(FlexRequest, Slot)>>,
}

impl WrittenStatements {
    /// Where `request`'s statement is, or is to be, written. A request is known by all it
    /// asks, not its reference alone: a world created afresh gives out the same references.
    pub fn slot(&self, request: &FlexRequest) -> Slot {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, slot)) = slots.iter().find(|(known, _)| known == request) {
            return Arc::clone(slot);
        }
        slots.retain(|(known, _)| known.reference != request.reference);
        if slots.len() >= KEPT {
            slots.pop_front();
        }
        let slot = Slot::default();
        slots.push_back((request.clone(), Arc::clone(&slot)));
        slot
    }

    /// Lets go of the statement of `reference`, which can no longer be fetched.
    pub fn forget(&self, reference: &str) {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        slots.retain(|(known, _)| known.reference != reference);
    }
}
