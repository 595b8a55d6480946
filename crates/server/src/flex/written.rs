//! Statements already written, so that a statement is written once however often it is
//! fetched while it is kept. Each lives in a file of the data directory's `flex-statements`,
//! which every fetch streams: memory holds none of them. Written statements are let go of,
//! oldest first, while more are kept than [`KEPT`] statements or [`KEPT_BYTES`] bytes, and
//! when the engine forgets their request; one still being written is never let go of.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use engine::flex::{FlexRequest, Format};
use tempfile::TempPath;
use tokio::sync::OnceCell;

/// How many statements are kept, at most, unless more are being written.
pub const KEPT: usize = 16;

/// How many bytes of written statements are kept, at most: the one written last is kept
/// whatever its size.
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

type Slots = VecDeque<(FlexRequest, Slot)>;

/// The statements written or being written, by request, oldest first.
#[derive(Debug)]
pub struct WrittenStatements {
    directory: PathBuf,
    slots: Mutex<Slots>,
}

impl WrittenStatements {
    /// Statements kept in `directory`, emptied of any a previous run left behind. Call it
    /// once the journal is open: its lock tells this server the directory is its own.
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
        let mut slots = self.lock();
        if let Some((_, slot)) = slots.iter().find(|(known, _)| known == request) {
            return Arc::clone(slot);
        }
        let slot = Slot::default();
        slots.push_back((request.clone(), Arc::clone(&slot)));
        let evicted = evict(&mut slots, &slot);
        drop(slots);
        discard(evicted);
        slot
    }

    /// Lets go of written statements beyond the bounds, now that `written` is written and its
    /// size known; `written` itself is kept.
    pub fn evict_excess(&self, written: &Slot) {
        let evicted = evict(&mut self.lock(), written);
        discard(evicted);
    }

    /// Lets go of the statements of `reference`, which the engine no longer serves.
    pub fn forget(&self, reference: &str) {
        self.forget_where(|request, _| request.reference == reference);
    }

    /// Lets go of `slot`, whose file is gone: the next fetch writes it again.
    pub fn forget_slot(&self, slot: &Slot) {
        self.forget_where(|_, kept| Arc::ptr_eq(kept, slot));
    }

    fn forget_where(&self, forgotten: impl Fn(&FlexRequest, &Slot) -> bool) {
        let mut gone = Vec::new();
        self.lock().retain(|(request, slot)| {
            let forget = forgotten(request, slot);
            if forget {
                gone.push(Arc::clone(slot));
            }
            !forget
        });
        discard(gone);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Slots> {
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Takes out the oldest written statements, `keep` excepted, while the bounds are exceeded.
fn evict(slots: &mut Slots, keep: &Slot) -> Vec<Slot> {
    let mut evicted = Vec::new();
    loop {
        let bytes: u64 = slots.iter().filter_map(|(_, slot)| slot.get()).map(|written| written.length).sum();
        if slots.len() <= KEPT && bytes <= KEPT_BYTES {
            return evicted;
        }
        let oldest = slots.iter().position(|(_, slot)| slot.initialized() && !Arc::ptr_eq(slot, keep));
        match oldest.and_then(|index| slots.remove(index)) {
            Some((_, slot)) => evicted.push(slot),
            None => return evicted,
        }
    }
}

/// Deletes the files of `evicted` away from the async threads: a large file takes a while.
fn discard(evicted: Vec<Slot>) {
    if evicted.is_empty() {
        return;
    }
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => drop(runtime.spawn_blocking(move || drop(evicted))),
        Err(_) => drop(evicted),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(reference: usize) -> FlexRequest {
        FlexRequest {
            reference: reference.to_string(),
            token_hash: String::new(),
            query: 1,
            accounts: Vec::new(),
            from: jiff::civil::date(2026, 1, 1),
            to: jiff::civil::date(2026, 1, 2),
            ready_at: jiff::Timestamp::UNIX_EPOCH,
        }
    }

    fn write(statements: &WrittenStatements, slot: &Slot, length: u64) {
        let path = tempfile::NamedTempFile::new_in(statements.directory()).unwrap().into_temp_path();
        slot.set(Arc::new(WrittenStatement { path, format: Format::Xml, length })).unwrap();
        statements.evict_excess(slot);
    }

    fn kept(statements: &WrittenStatements) -> Vec<String> {
        statements.lock().iter().map(|(request, _)| request.reference.clone()).collect()
    }

    #[test]
    fn the_oldest_written_statements_go_first_and_none_being_written() {
        let directory = tempfile::tempdir().unwrap();
        let statements = WrittenStatements::in_dir(directory.path().join("flex-statements")).unwrap();
        let writing = statements.slot(&request(0));
        for reference in 1..=KEPT {
            write(&statements, &statements.slot(&request(reference)), 10);
        }
        let left = kept(&statements);
        assert_eq!(left.len(), KEPT, "{left:?}");
        assert!(left.contains(&"0".to_owned()), "the statement being written stays: {left:?}");
        assert!(!left.contains(&"1".to_owned()), "the oldest written goes: {left:?}");
        assert_eq!(std::fs::read_dir(statements.directory()).unwrap().count(), KEPT - 1, "its file with it");
        assert!(Arc::ptr_eq(&statements.slot(&request(0)), &writing), "fetches find it being written");
    }

    #[test]
    fn the_statement_written_last_stays_whatever_its_size() {
        let directory = tempfile::tempdir().unwrap();
        let statements = WrittenStatements::in_dir(directory.path().join("flex-statements")).unwrap();
        let large = statements.slot(&request(1));
        let small = statements.slot(&request(2));
        write(&statements, &small, 10);
        write(&statements, &large, KEPT_BYTES + 1);
        assert_eq!(kept(&statements), ["1"], "the earlier, smaller one makes room");
        drop((small, large));
        statements.forget("1");
        assert!(kept(&statements).is_empty());
        assert_eq!(std::fs::read_dir(statements.directory()).unwrap().count(), 0, "its file is deleted");
    }
}
