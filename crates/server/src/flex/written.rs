//! Statements already written, so that a statement is written once however often it is
//! fetched. Each lives in a file of the data directory's `flex-statements`, which every fetch
//! streams: memory holds none of them. The oldest are deleted when more are kept than
//! [`KEPT`] statements or [`KEPT_BYTES`] bytes, and when the engine forgets their request.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use engine::flex::{FlexRequest, Format};
use tempfile::TempPath;
use tokio::sync::OnceCell;

/// How many statements are kept written, at most.
pub const KEPT: usize = 16;

/// How many bytes of statements are kept written, at most: the newest is kept whatever its
/// size.
pub const KEPT_BYTES: u64 = 4 << 30;

/// A statement written into its file.
#[derive(Debug)]
pub struct WrittenStatement {
    /// The file, deleted when the statement is let go of. A response streaming it holds the
    /// file open, so deleting it does not cut the response short.
    pub path: TempPath,
    /// XML or CSV.
    pub format: Format,
    /// Its length in bytes.
    pub length: u64,
}

/// The statement of a request, once written; its writers wait on one another.
pub type Slot = Arc<OnceCell<Arc<WrittenStatement>>>;

/// The statements written, by request, oldest first.
#[derive(Debug)]
pub struct WrittenStatements {
    directory: PathBuf,
    slots: Mutex<VecDeque<(FlexRequest, Slot)>>,
}

impl WrittenStatements {
    /// Statements kept in `directory`, emptied of any a previous run left behind.
    ///
    /// # Errors
    /// When the directory cannot be emptied or created.
    pub fn in_dir(directory: PathBuf) -> std::io::Result<Self> {
        if directory.exists() {
            std::fs::remove_dir_all(&directory)?;
        }
        std::fs::create_dir_all(&directory)?;
        Ok(Self { directory, slots: Mutex::default() })
    }

    /// Where statements are written.
    pub fn directory(&self) -> &Path {
        &self.directory
    }

    /// Where `request`'s statement is, or is to be, written. A request is known by all it
    /// asks, not its reference alone: a world created afresh gives out the same references.
    pub fn slot(&self, request: &FlexRequest) -> Slot {
        let evicted;
        let slot = {
            let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some((_, slot)) = slots.iter().find(|(known, _)| known == request) {
                return Arc::clone(slot);
            }
            let slot = Slot::default();
            slots.push_back((request.clone(), Arc::clone(&slot)));
            evicted = evict(&mut slots);
            slot
        };
        // Files are deleted outside the lock: a large one takes a while.
        drop(evicted);
        slot
    }

    /// Lets go of the oldest statements while more are kept than allowed: called when a
    /// statement is written and its size known.
    pub fn evict_excess(&self) {
        let evicted = evict(&mut self.slots.lock().unwrap_or_else(PoisonError::into_inner));
        drop(evicted);
    }

    /// Lets go of the statement of `reference`: the engine no longer knows it, or its file is
    /// gone.
    pub fn forget(&self, reference: &str) {
        let forgotten: VecDeque<_> = {
            let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
            let (gone, kept) =
                std::mem::take(&mut *slots).into_iter().partition(|(known, _)| known.reference == reference);
            *slots = kept;
            gone
        };
        // Files are deleted outside the lock.
        drop(forgotten);
    }
}

/// Takes out the oldest statements while more are kept than allowed, the newest excepted.
fn evict(slots: &mut VecDeque<(FlexRequest, Slot)>) -> Vec<(FlexRequest, Slot)> {
    let bytes = |slots: &VecDeque<(FlexRequest, Slot)>| -> u64 {
        slots.iter().filter_map(|(_, slot)| slot.get()).map(|written| written.length).sum()
    };
    let mut evicted = Vec::new();
    while slots.len() > 1 && (slots.len() > KEPT || bytes(slots) > KEPT_BYTES) {
        evicted.extend(slots.pop_front());
    }
    evicted
}
