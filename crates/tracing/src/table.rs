//! The open spans' names and fields, kept by the layer in a table of its own indexed by
//! a hash of the span id: what an enter writes, found with a few atomic loads instead
//! of the subscriber registry's lookup and its extensions (which cost an allocation and
//! a map insert at every span's creation, a lock at every enter, a free at its close: a
//! third of a span's cost through this layer, counted by callgrind).
//!
//! A span that does not fit (more argument records than [`TABLE_ARGS`], or its slot
//! held by another open span) is kept in the registry's extensions instead, as every
//! span was before; a lookup that misses the table falls back to them.
//!
//! # Protocol
//!
//! A slot holds one open span at a time. Its `span` word says who may write the slot:
//! nobody ([`EMPTY`]), the thread writing it ([`CLAIMED`]), or nobody while it holds
//! the span with that id. The entry itself (its owner's id, names and argument records)
//! is a sequence lock: atomic words written only by the claiming thread, with a
//! `version` that is odd while they change; a reader copies the words and keeps the
//! copy only if the version was even and unchanged around it, the owner is the span it
//! asked for, and the `span` word still holds that span. Nothing in a slot is a plain memory location, so no interleaving is a
//! data race: a reader that overlaps a write (which needs a span closed while another
//! thread still enters it: a caller of `Dispatch::try_close` closing one reference too
//! many can do that) misses, and takes the slower path.
//!
//! | step | who | access | ordering | why |
//! |---|---|---|---|---|
//! | claim | the span's creator (`on_new_span`) | CAS `span` `EMPTY` → `CLAIMED` | Acquire | pairs with the release below: the previous writer's `version` is seen, so versions only grow |
//! | write | the claimer | `version` odd; fence; the words; `version` even | Relaxed, Release fence, Relaxed, Release | a reader that sees any new word sees the odd version after it; one that sees the even version sees every word |
//! | publish | the claimer | store `span` = id | Release | pairs with `remove`'s load: the next claim sees this writer's `version` |
//! | read | any thread entering the span (`on_enter`, `on_record`) | load `version`, the words, fence, `version` again, then `moved` | Acquire, Relaxed, Acquire fence, Relaxed, Acquire | the sequence lock's read side; `moved` pairs with the move below |
//! | move | a thread recording new values (`on_record`) | store `moved` = true, after putting the merged fields in the extensions | Release | a reader that sees the flag finds the fields there (the extensions' lock orders them too) |
//! | release | the span's closer (`on_close`) | load `span` == id, store `span` = `EMPTY` | Acquire, Release | pairs with publish and with the next claim |
//!
//! In correct use a reader never misses: a thread reads a span's entry only while it
//! holds the span open (its creation, and so the write, happen-before), and the span
//! closes when its last reference drops (`tracing-subscriber`'s registry counts them as
//! `Arc` does), after every such read.
//!
//! The loom models (`loom__*` below) check the read side against writes on other
//! threads on a two-slot table, with the registry's reference count modelled as it is.

use crate::sync::{AtomicBool, AtomicU64, Ordering, fence};
use ada::{Event, EventKind};
use crossbeam_utils::CachePadded;

/// Argument records a table entry holds (more, and the span is kept in the registry's
/// extensions). Three: a slot is then one 128-byte pair of cache lines.
pub(crate) const TABLE_ARGS: usize = 3;

/// Slots of the layer's table (a power of two): 128 KiB.
pub(crate) const TABLE_SLOTS: usize = 1024;

/// A slot's `span` word when no span holds it.
const EMPTY: u64 = 0;
/// A slot's `span` word while its claimer writes the entry. Never a span id: the ids
/// that would collide with it are not kept in the table.
const CLAIMED: u64 = u64::MAX;

/// Whether `span` can be kept in the table (it is neither marker).
const fn is_id(span: u64) -> bool {
    span != EMPTY && span != CLAIMED
}

/// What the table keeps of an open span.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct SpanEntry {
    pub(crate) name: u32,
    pub(crate) category: u32,
    /// How many of `args` (and `fields`) are the span's.
    pub(crate) len: u8,
    /// The field index of each argument record (what `span.record` replaces by).
    pub(crate) fields: [u16; TABLE_ARGS],
    pub(crate) args: [Event; TABLE_ARGS],
}

impl SpanEntry {
    /// The argument records.
    pub(crate) fn args(&self) -> &[Event] {
        &self.args[..usize::from(self.len)]
    }

    /// The field index of each argument record.
    pub(crate) fn fields(&self) -> &[u16] {
        &self.fields[..usize::from(self.len)]
    }
}

/// Words of a slot's entry: its owner's id, name and category, length and field
/// indices, then per argument record its key and type, and its value.
const WORDS: usize = 3 + 2 * TABLE_ARGS;

/// One slot; see the module's protocol.
#[derive(Debug)]
struct Slot {
    span: AtomicU64,
    /// Odd while the entry's words change.
    version: AtomicU64,
    /// Set when `span.record` moved the fields to the registry's extensions.
    moved: AtomicBool,
    words: [AtomicU64; WORDS],
}

/// Why [`SpanTable::read`] found no entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Missing {
    /// The span is in the table, but its fields are in the registry's extensions now.
    Moved,
    /// Not in the table: its fields, if any, are in the registry's extensions.
    Absent,
}

/// The layer's table of open spans.
#[derive(Debug)]
pub(crate) struct SpanTable {
    slots: Box<[CachePadded<Slot>]>,
}

impl SpanTable {
    /// A table of `slots` slots (a power of two).
    pub(crate) fn new(slots: usize) -> Self {
        debug_assert!(slots.is_power_of_two());
        Self {
            slots: (0..slots)
                .map(|_| {
                    CachePadded::new(Slot {
                        span: AtomicU64::new(EMPTY),
                        version: AtomicU64::new(0),
                        moved: AtomicBool::new(false),
                        words: core::array::from_fn(|_| AtomicU64::new(0)),
                    })
                })
                .collect(),
        }
    }

    fn slot(&self, span: u64) -> &Slot {
        // Fibonacci hashing: the multiply spreads the id's bits (slab indices and
        // generations) into the top ones, which pick the slot.
        let bits = self.slots.len().trailing_zeros();
        let hash = span.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        #[allow(clippy::cast_possible_truncation)] // at most `bits` (< 64) bits remain
        let index = if bits == 0 {
            0
        } else {
            (hash >> (64 - bits)) as usize
        };
        &self.slots[index]
    }

    /// Keeps the span `span`, just created on this thread, with its name and category
    /// ids and its argument records (`args`, of the fields numbered `fields`); whether
    /// it did (else its slot is another open span's, or it has more than
    /// [`TABLE_ARGS`] records: keep it elsewhere).
    pub(crate) fn insert(
        &self,
        span: u64,
        name: u32,
        category: u32,
        fields: &[u16],
        args: &[Event],
    ) -> bool {
        let len = args.len();
        // An entry keeps argument records as their key, type and value: any other
        // record is kept elsewhere.
        let plain = |record: &Event| {
            record.kind == EventKind::Arg as u32 && record.ticks == 0 && record.category == 0
        };
        if !is_id(span) || len > TABLE_ARGS || fields.len() != len || !args.iter().all(plain) {
            return false;
        }
        let slot = self.slot(span);
        let mut current = EMPTY;
        loop {
            // Acquire: pairs with the release store that emptied the slot (or published
            // the stale id), so this writer sees the last one's version and versions
            // only grow (readers compare them).
            match slot
                .span
                .compare_exchange(current, CLAIMED, Ordering::Acquire, Ordering::Relaxed)
            {
                Ok(_) => break,
                // The same id still there: its span closed without this layer seeing it
                // (a new span cannot have a live span's id). Take the slot over.
                Err(seen) if seen == span && current == EMPTY => current = span,
                Err(_) => return false,
            }
        }
        // The claim makes this thread the slot's only writer, and its Acquire saw the
        // last writer's version: Relaxed.
        let version = slot.version.load(Ordering::Relaxed);
        slot.version
            .store(version.wrapping_add(1), Ordering::Relaxed);
        // Release fence: a reader whose loads see any word written below sees the odd
        // version in its check after them.
        // mutant: tracing.table_write_fence
        fence(Ordering::Release);
        // Relaxed: ordered by the fence above and the release store below. Only the
        // words this entry uses: a reader reads no more.
        slot.words[0].store(span, Ordering::Relaxed);
        slot.words[1].store(
            u64::from(name) | u64::from(category) << 32,
            Ordering::Relaxed,
        );
        let mut shape = len as u64;
        for (index, (&field, record)) in fields.iter().zip(args).enumerate() {
            shape |= u64::from(field) << (16 * (index + 1));
            slot.words[3 + 2 * index].store(
                u64::from(record.name) | u64::from(record.depth) << 32,
                Ordering::Relaxed,
            );
            slot.words[4 + 2 * index].store(record.argument, Ordering::Relaxed);
        }
        slot.words[2].store(shape, Ordering::Relaxed);
        // Relaxed: published by the release store below.
        slot.moved.store(false, Ordering::Relaxed);
        // Release: a reader that sees this even version sees every word above.
        // mutant: tracing.table_version_release
        slot.version
            .store(version.wrapping_add(2), Ordering::Release);
        // Release: pairs with `remove`'s Acquire load, so that the next claim sees this
        // version.
        slot.span.store(span, Ordering::Release);
        true
    }

    /// Calls `read` with what the table holds of `span`, an open span the calling
    /// thread holds (it is entering it or recording into it), and returns its result.
    ///
    /// # Errors
    /// [`Missing::Moved`]: the span's fields are in the registry's extensions now;
    /// [`Missing::Absent`]: the table does not hold the span.
    #[inline]
    pub(crate) fn read<R>(
        &self,
        span: u64,
        read: impl FnOnce(&SpanEntry) -> R,
    ) -> Result<R, Missing> {
        if !is_id(span) {
            return Err(Missing::Absent);
        }
        let slot = self.slot(span);
        // Acquire: pairs with the writer's release store of the even version.
        // mutant: tracing.table_read_acquire
        let version = slot.version.load(Ordering::Acquire);
        // Relaxed: validated by the fence and the second version load below. A torn
        // read can give any length: it is bounded, and then discarded.
        let owner = slot.words[0].load(Ordering::Relaxed);
        let entry = entry_of(|index| slot.words[index].load(Ordering::Relaxed));
        // Acquire fence: if any word above was written by a later writer, the version
        // below shows that writer's odd (or later) version.
        // mutant: tracing.table_read_fence
        fence(Ordering::Acquire);
        // Relaxed: ordered by the fence.
        let again = slot.version.load(Ordering::Relaxed);
        // Relaxed: a closed span's words stay until the slot is claimed again; the
        // claim word says whether it still holds the span (in correct use it does).
        if version % 2 == 1
            || version != again
            || owner != span
            || slot.span.load(Ordering::Relaxed) != span
        {
            return Err(Missing::Absent);
        }
        // Acquire: pairs with `mark_moved`.
        if slot.moved.load(Ordering::Acquire) {
            return Err(Missing::Moved);
        }
        Ok(read(&entry))
    }

    /// A copy of what the table holds of `span`, as [`Self::read`] (for the tests).
    ///
    /// # Errors
    /// As [`Self::read`].
    #[cfg(test)]
    pub(crate) fn get(&self, span: u64) -> Result<SpanEntry, Missing> {
        self.read(span, |entry| *entry)
    }

    /// [`Self::insert`] of an entry (for the tests).
    #[cfg(test)]
    fn insert_entry(&self, span: u64, entry: &SpanEntry) -> bool {
        self.insert(
            span,
            entry.name,
            entry.category,
            entry.fields(),
            entry.args(),
        )
    }

    /// Records that `span`'s fields are in the registry's extensions now (after the
    /// caller put them there): later lookups go there.
    pub(crate) fn mark_moved(&self, span: u64) {
        let slot = self.slot(span);
        // Relaxed: only routes; the flag's store below carries the ordering.
        if is_id(span) && slot.span.load(Ordering::Relaxed) == span {
            // Release: pairs with `read`'s Acquire load of the flag.
            slot.moved.store(true, Ordering::Release);
        }
    }

    /// Frees `span`'s slot, if it holds it: the span closed (its last reference
    /// dropped, on the calling thread).
    pub(crate) fn remove(&self, span: u64) {
        let slot = self.slot(span);
        // Acquire: pairs with the publishing store, so that the next claim, which pairs
        // with the release store below, sees the last writer's version.
        if is_id(span) && slot.span.load(Ordering::Acquire) == span {
            slot.span.store(EMPTY, Ordering::Release);
        }
    }
}

/// The entry that a slot's words hold, as `insert` writes them: `word(index)` loads
/// word `index` (only those the entry's length says it uses).
#[inline]
fn entry_of(word: impl Fn(usize) -> u64) -> SpanEntry {
    let low = |word: u64| (word & 0xffff_ffff) as u32;
    let high = |word: u64| (word >> 32) as u32;
    let names = word(1);
    let shape = word(2);
    let mut entry = SpanEntry {
        name: low(names),
        category: high(names),
        ..SpanEntry::default()
    };
    #[allow(clippy::cast_possible_truncation)] // the mask keeps what fits
    let len = ((shape & 0xffff) as usize).min(TABLE_ARGS);
    #[allow(clippy::cast_possible_truncation)] // at most TABLE_ARGS
    {
        entry.len = len as u8;
    }
    for index in 0..len {
        #[allow(clippy::cast_possible_truncation)] // 16 bits a field index
        {
            entry.fields[index] = (shape >> (16 * (index + 1))) as u16;
        }
        let key_and_type = word(3 + 2 * index);
        entry.args[index] = Event {
            ticks: 0,
            name: low(key_and_type),
            category: 0,
            argument: word(4 + 2 * index),
            kind: EventKind::Arg as u32,
            depth: high(key_and_type),
        };
    }
    entry
}

#[cfg(all(test, not(loom)))]
#[allow(non_snake_case)]
mod tests {
    use super::*;
    use ada::{ArgType, EventKind};

    fn entry(name: u32, value: u64) -> SpanEntry {
        let mut entry = SpanEntry {
            name,
            category: 2,
            ..SpanEntry::default()
        };
        entry.len = 1;
        entry.args[0] = Event::arg(3, ArgType::U64, value);
        entry
    }

    #[test]
    fn insert__free_slot__then_found_until_removed() {
        let table = SpanTable::new(8);
        assert!(table.insert_entry(5, &entry(1, 10)));
        assert_eq!(table.get(5), Ok(entry(1, 10)));
        assert_eq!(table.get(6), Err(Missing::Absent), "another id");
        table.remove(5);
        assert_eq!(table.get(5), Err(Missing::Absent));
    }

    #[test]
    fn insert__slot_of_another_open_span__then_refused_and_the_other_kept() {
        let table = SpanTable::new(1);
        assert!(table.insert_entry(5, &entry(1, 10)));
        assert!(!table.insert_entry(6, &entry(1, 11)));
        assert_eq!(table.get(6), Err(Missing::Absent));
        assert_eq!(table.get(5), Ok(entry(1, 10)));
        table.remove(6); // not its slot: nothing changes
        assert_eq!(table.get(5), Ok(entry(1, 10)));
        table.remove(5);
        assert!(table.insert_entry(6, &entry(1, 11)), "free again");
    }

    #[test]
    fn insert__same_id_still_in_its_slot__then_taken_over() {
        let table = SpanTable::new(1);
        assert!(table.insert_entry(5, &entry(1, 10)));
        table.mark_moved(5);
        // Span 5 closed unseen; a new span got id 5.
        assert!(table.insert_entry(5, &entry(4, 12)));
        assert_eq!(table.get(5), Ok(entry(4, 12)), "fresh, not moved");
    }

    #[test]
    fn mark_moved__then_moved_until_the_slot_is_reused() {
        let table = SpanTable::new(2);
        assert!(table.insert_entry(5, &entry(1, 10)));
        table.mark_moved(7); // not in the table: nothing
        assert_eq!(table.get(5), Ok(entry(1, 10)));
        table.mark_moved(5);
        assert_eq!(table.get(5), Err(Missing::Moved));
        table.remove(5);
        assert!(table.insert_entry(5, &entry(1, 13)));
        assert_eq!(table.get(5), Ok(entry(1, 13)));
    }

    #[test]
    fn insert__ids_that_are_markers__then_refused() {
        let table = SpanTable::new(4);
        assert!(!table.insert_entry(EMPTY, &entry(1, 1)));
        assert!(!table.insert_entry(CLAIMED, &entry(1, 1)));
        assert_eq!(table.get(CLAIMED), Err(Missing::Absent));
        assert_eq!(table.get(EMPTY), Err(Missing::Absent));
    }

    #[test]
    fn slots__many_ids__then_spread_over_the_table() {
        let table = SpanTable::new(TABLE_SLOTS);
        // Registry ids of one thread: consecutive slab indices, + 1.
        let kept = (1..=256_u64)
            .filter(|&id| table.insert_entry(id, &entry(1, id)))
            .count();
        assert!(
            kept > 200,
            "{kept} of 256 consecutive ids found a free slot"
        );
        let _ = EventKind::Enter;
    }
}

#[cfg(all(test, loom))]
#[allow(non_snake_case)]
mod loom_tests {
    //! The table against the registry's reference count, on a two-slot table (ids 1
    //! and 3 share a slot, 2 has the other). A read that overlaps a write must miss,
    //! never return a mix of two entries (each model's entries differ in every word).

    use super::*;
    use ada::ArgType;
    use loom::sync::Arc;
    use loom::sync::atomic::AtomicUsize;
    use loom::thread;

    /// A span's references, counted as `tracing-subscriber`'s registry counts them
    /// (`Registry::try_close`): a Release decrement, and an Acquire fence before the
    /// close of the last.
    struct References(AtomicUsize);

    impl References {
        /// Drops one reference; whether it was the last (the span closes).
        fn drop_one(&self) -> bool {
            if self.0.fetch_sub(1, Ordering::Release) > 1 {
                return false;
            }
            fence(Ordering::Acquire);
            true
        }
    }

    /// An entry whose every word depends on `value`.
    fn entry(value: u64) -> SpanEntry {
        #[allow(clippy::cast_possible_truncation)] // small values
        let small = value as u32;
        let mut entry = SpanEntry {
            name: small + 1,
            category: small + 2,
            ..SpanEntry::default()
        };
        entry.len = 1;
        entry.args[0] = Event::arg(small + 3, ArgType::U64, value);
        entry
    }

    /// Runs `model` under loom and returns the set of outcomes its executions returned:
    /// a model checks it saw more than one, since loom 0.7 can stop after one execution
    /// when a thread begins with an atomic load (tokio-rs/loom#392).
    fn outcomes<T: Ord + Send + 'static>(
        model: impl Fn() -> T + Send + Sync + 'static,
    ) -> std::collections::BTreeSet<T> {
        let seen = std::sync::Arc::new(std::sync::Mutex::new(std::collections::BTreeSet::new()));
        let record = std::sync::Arc::clone(&seen);
        // Two preemptions: enough for a reader to straddle a whole write (the sequence
        // lock's words make the unbounded space too large to explore).
        let mut builder = loom::model::Builder::new();
        builder.preemption_bound = Some(2);
        builder.check(move || {
            let outcome = model();
            record.lock().unwrap().insert(outcome);
        });
        std::mem::take(&mut *seen.lock().unwrap())
    }

    fn same_slot(table: &SpanTable, a: u64, b: u64) -> bool {
        std::ptr::eq(table.slot(a), table.slot(b))
    }

    #[test]
    fn loom__entered_elsewhere_then_closed_while_another_span_claims_the_slot() {
        let seen = outcomes(|| {
            let table = Arc::new(SpanTable::new(2));
            let (first, second) = (1, 3);
            assert!(same_slot(&table, first, second), "the model needs one slot");
            // The span is created, then handed to another thread (with one reference
            // each) which enters it: the hand-off is a spawn, as a channel would be.
            assert!(table.insert_entry(first, &entry(10)));
            let references = Arc::new(References(AtomicUsize::new(2)));
            let enterer = {
                let (table, references) = (Arc::clone(&table), Arc::clone(&references));
                thread::spawn(move || {
                    assert_eq!(table.get(first), Ok(entry(10)));
                    if references.drop_one() {
                        table.remove(first);
                    }
                })
            };
            // A third thread creates a span whose id shares the slot.
            let creator = {
                let table = Arc::clone(&table);
                thread::spawn(move || {
                    let kept = table.insert_entry(second, &entry(20));
                    if kept {
                        assert_eq!(table.get(second), Ok(entry(20)));
                    }
                    kept
                })
            };
            if references.drop_one() {
                table.remove(first);
            }
            enterer.join().unwrap();
            let kept = creator.join().unwrap();
            if !kept {
                // Refused while the first span was open: the slot is free now.
                assert!(table.insert_entry(second, &entry(20)));
            }
            assert_eq!(table.get(second), Ok(entry(20)));
            kept
        });
        assert_eq!(seen.len(), 2, "claimed both before and after the close");
    }

    #[test]
    fn loom__entered_before_the_creator_returns__then_the_whole_entry() {
        outcomes(|| {
            let table = Arc::new(SpanTable::new(2));
            // The enterer learns the id before any synchronisation with the creator
            // (it polls the table): only the sequence lock orders the entry.
            let enterer = {
                let table = Arc::clone(&table);
                thread::spawn(move || {
                    loop {
                        match table.get(2) {
                            Ok(found) => break assert_eq!(found, entry(30)),
                            Err(Missing::Moved) => unreachable!("never moved"),
                            Err(Missing::Absent) => thread::yield_now(),
                        }
                    }
                })
            };
            assert!(table.insert_entry(2, &entry(30)));
            enterer.join().unwrap();
        });
    }

    #[test]
    fn loom__moved_while_entered_elsewhere__then_the_old_entry_or_the_moved_fields() {
        let seen = outcomes(|| {
            let table = Arc::new(SpanTable::new(2));
            // The registry's extensions, behind their lock.
            let extensions = Arc::new(loom::sync::Mutex::new(None::<u64>));
            assert!(table.insert_entry(2, &entry(30)));
            let recorder = {
                let (table, extensions) = (Arc::clone(&table), Arc::clone(&extensions));
                thread::spawn(move || {
                    *extensions.lock().unwrap() = Some(31);
                    table.mark_moved(2);
                })
            };
            let value = match table.get(2) {
                Ok(found) => found.args[0].argument,
                Err(Missing::Moved) => extensions.lock().unwrap().expect("moved, so there"),
                Err(Missing::Absent) => unreachable!("open"),
            };
            assert!(value == 30 || value == 31, "{value}");
            recorder.join().unwrap();
            assert_eq!(table.get(2), Err(Missing::Moved));
            value
        });
        assert_eq!(seen.len(), 2, "both the entry and the moved fields read");
    }

    #[test]
    fn loom__closed_too_early_while_entered_elsewhere__then_its_entry_or_a_miss_never_a_mix() {
        // A caller of `try_close` closes one reference too many: the span's slot is
        // freed and claimed by another span while a thread that still holds the first
        // is entering it. That thread must read the first span's whole entry or miss.
        let seen = outcomes(|| {
            let table = Arc::new(SpanTable::new(2));
            let (first, second) = (1, 3);
            assert!(table.insert_entry(first, &entry(10)));
            let enterer = {
                let table = Arc::clone(&table);
                thread::spawn(move || match table.get(first) {
                    Ok(found) => {
                        assert_eq!(found, entry(10), "a mix of two entries");
                        true
                    }
                    Err(missing) => {
                        assert_eq!(missing, Missing::Absent);
                        false
                    }
                })
            };
            table.remove(first);
            let claimed = table.insert_entry(second, &entry(20));
            assert!(claimed, "the slot was freed");
            enterer.join().unwrap()
        });
        assert_eq!(seen.len(), 2, "both the entry and a miss");
    }
}
