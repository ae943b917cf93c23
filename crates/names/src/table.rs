//! [`NameTable`]: the append-only interner behind the process-wide functions.
//!
//! Protocol (docs/protocol.md, "Name table"): writers serialise on the index lock; a
//! writer fills slot `len` (allocating its chunk first when the slot opens a chunk) and
//! then stores `len + 1` with Release. Readers load `len` with Acquire and read only slots
//! below it, which are never written again. So lookups take no lock and never see a
//! half-written name.

use crate::sync::{AtomicUsize, Ordering, RwLock, UnsafeCell};
use crate::{NameError, NameId};
use std::boxed::Box;
use std::collections::HashMap;
use std::sync::PoisonError;
use std::vec::Vec;

/// The most names one table holds ([`NameTable::with_capacity`] clamps to it): ids stay
/// far below `u32::MAX`, and the chunk directory stays small.
pub const CAPACITY_LIMIT: usize = 1 << 24;

/// Names per chunk: slots are allocated a chunk at a time, so an unused table costs its
/// chunk directory only.
const CHUNK: usize = 1024;

/// One name: written once (before `len` publishes it), then only read.
type Slot = UnsafeCell<Option<Box<str>>>;

/// One chunk's cell in the directory: empty until a writer takes the chunk's first slot.
type Chunk = UnsafeCell<Option<Box<[Slot]>>>;

/// An append-only string interner: one [`NameId`] per distinct string, ids `1..=len()`
/// in order of first interning, lookups without locks.
///
/// The process-wide table behind [`crate::intern`] and [`crate::lookup`] is one of these
/// (with [`crate::CAPACITY`]); a value of its own is for tests and for tools that want a
/// private id space.
///
/// ```
/// use ada_names::{NameError, NameTable};
///
/// let table = NameTable::with_capacity(2);
/// let a = table.intern("a")?;
/// assert_eq!(table.intern("a")?, a);
/// let b = table.intern("b")?;
/// assert_eq!((a.get(), b.get()), (1, 2));
/// assert_eq!(table.lookup(b), Some("b"));
/// assert_eq!(table.intern("c"), Err(NameError::TableFull { capacity: 2 }));
/// assert_eq!(table.names_from(2), vec![(b, "b")]);
/// # Ok::<(), NameError>(())
/// ```
pub struct NameTable {
    capacity: usize,
    chunk_size: usize,
    /// Ids `1..=len` are published: their slots are written and never written again.
    len: AtomicUsize,
    /// Chunk `k` holds the slots of ids `k * chunk_size + 1 ..`; allocated by the writer
    /// that takes its first slot, before `len` publishes any of it.
    chunks: Box<[Chunk]>,
    /// String → id, for interning; also the writers' lock.
    index: RwLock<HashMap<Box<str>, u32>>,
}

// SAFETY: the cells are written only by a writer holding `index`'s write lock, and only
// at slots (and chunks) that no reader reads yet: readers read below `len`, which the
// writer raises with Release after writing, and they load it with Acquire. A published
// cell is never written again while the table lives.
unsafe impl Sync for NameTable {}

impl NameTable {
    /// An empty table for at most `capacity` names (clamped to [`CAPACITY_LIMIT`]).
    /// Allocates only a small chunk directory; slots come a chunk at a time.
    #[must_use]
    pub fn with_capacity(capacity: usize) -> Self {
        let capacity = capacity.min(CAPACITY_LIMIT);
        let chunk_size = capacity.clamp(1, CHUNK);
        let chunks = (0..capacity.div_ceil(chunk_size))
            .map(|_| UnsafeCell::new(None))
            .collect();
        Self {
            capacity,
            chunk_size,
            len: AtomicUsize::new(0),
            chunks,
            index: RwLock::new(HashMap::new()),
        }
    }

    /// The most names this table holds.
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// How many names the table holds: ids `1..=len()` exist. Acquire: whoever sees a
    /// length sees every name up to it ([`NameTable::lookup`] of such an id is `Some`).
    #[must_use]
    pub fn len(&self) -> usize {
        // Acquire: pairs with `intern`'s Release store; the names up to it are visible.
        self.len.load(Ordering::Acquire)
    }

    /// Whether no name was interned yet.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The id of `name`, interning it on first sight: one id per distinct string, from any
    /// number of threads. Takes a shared lock to find a known name and the exclusive lock
    /// to add one: cache the id (as [`crate::Callsite`] does) rather than interning on a
    /// hot path.
    ///
    /// # Errors
    ///
    /// [`NameError::TooLong`] for a name over [`crate::MAX_LEN`] bytes;
    /// [`NameError::TableFull`] for a new name when the table holds
    /// [`NameTable::capacity`] names already.
    pub fn intern(&self, name: &str) -> Result<NameId, NameError> {
        if name.len() > crate::MAX_LEN {
            return Err(NameError::TooLong {
                len: name.len(),
                max: crate::MAX_LEN,
            });
        }
        // A poisoned lock is still consistent: nothing between a slot write and the map
        // insert can panic except allocation, which aborts.
        if let Some(&id) = self
            .index
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(name)
        {
            return Ok(NameId::from_raw(id));
        }
        let mut index = self.index.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(&id) = index.get(name) {
            return Ok(NameId::from_raw(id));
        }
        // Relaxed: only writers store `len`, and they hold the write lock, which orders
        // them.
        let n = self.len.load(Ordering::Relaxed);
        if n >= self.capacity {
            return Err(NameError::TableFull {
                capacity: self.capacity,
            });
        }
        let (chunk, slot) = (n / self.chunk_size, n % self.chunk_size);
        if slot == 0 {
            let size = self.chunk_size.min(self.capacity - n);
            let slots = (0..size).map(|_| UnsafeCell::new(None)).collect();
            // SAFETY: chunk `chunk` begins at slot `n`, unpublished (`len == n`): no reader
            // touches it, and we are the only writer (the write lock).
            self.chunks[chunk].with_mut(|cell| unsafe { *cell = Some(slots) });
        }
        // SAFETY: the chunk was written above or by an earlier writer, under the same
        // lock; readers only read chunk cells too.
        let slots = self.chunks[chunk].with(|cell| unsafe { (*cell).as_deref() });
        if let Some(cell) = slots.and_then(|slots| slots.get(slot)) {
            // SAFETY: slot `n` is unpublished (`len == n`): no reader reads it, and we are
            // the only writer (the write lock).
            cell.with_mut(|cell| unsafe { *cell = Some(name.into()) });
        }
        // Release: publishes the slot (and its chunk) to readers that load `len` with
        // Acquire.
        // mutant: names.len_release
        self.len.store(n + 1, Ordering::Release);
        let id = u32::try_from(n + 1).unwrap_or(u32::MAX); // n < CAPACITY_LIMIT
        index.insert(name.into(), id);
        Ok(NameId::from_raw(id))
    }

    /// The string of `id`, or `None` for [`NameId::NONE`] and ids not (yet) interned.
    /// Lock-free: one Acquire load and two reads.
    #[must_use]
    pub fn lookup(&self, id: NameId) -> Option<&str> {
        let index = (id.get() as usize).checked_sub(1)?;
        // Acquire: pairs with `intern`'s Release store; slots below `len` are written.
        // mutant: names.len_acquire
        let len = self.len.load(Ordering::Acquire);
        if index >= len {
            return None;
        }
        self.read(index)
    }

    /// Every name with an id `>= first` (from id 1 when `first` is 0), in id order: what
    /// a sink writes when it finds the table grown since it last looked.
    #[must_use]
    pub fn names_from(&self, first: u32) -> Vec<(NameId, &str)> {
        let len = self.len();
        let start = (first.max(1) as usize) - 1;
        (start..len)
            .filter_map(|index| {
                let id = NameId::from_raw(u32::try_from(index + 1).ok()?);
                Some((id, self.read(index)?))
            })
            .collect()
    }

    /// Slot `index`, which the caller saw published (`index < len` after an Acquire
    /// load of `len`).
    fn read(&self, index: usize) -> Option<&str> {
        let chunk = self.chunks.get(index / self.chunk_size)?;
        // SAFETY: the chunk holds a published slot, so it was written before `len` was
        // published past it (the caller's Acquire), and it is never written again.
        let slots = chunk.with(|cell| unsafe { (*cell).as_deref() })?;
        // SAFETY: as above, for the slot itself.
        slots
            .get(index % self.chunk_size)?
            .with(|cell| unsafe { (*cell).as_deref() })
    }
}

impl core::fmt::Debug for NameTable {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("NameTable")
            .field("len", &self.len())
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}
