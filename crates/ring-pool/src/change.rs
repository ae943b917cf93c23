//! The producer's change sequence: odd while the producer replaces its active ring or
//! closes the lane, so that a snapshot reads the counters and the active ring as of one
//! moment.
//!
//! A snapshot counts the records of rings that are no longer active (`events_written`)
//! plus those of the active ring. Replacing the ring moves its records from the second
//! term to the first in steps (the count, a submit, the `active` swap): a snapshot that
//! read between them counted the ring twice, or not at all (a thread's final report once
//! showed 42 events written for 21). The producer makes the sequence odd around those
//! steps; a reader retries until the sequence was even before its reads and unchanged
//! after them (a sequence lock with one writer). The write fast path does not touch it:
//! only a ring change, about once per ring of records.
//!
//! Orderings (the read-modify-write variant of Boehm, "Can seqlocks get along with
//! programming language memory models?", 2012): the producer starts a change with an
//! Acquire increment and ends it with a Release one; the reader reads the sequence
//! (Acquire), reads the lane, then validates with a Release read. The reader's reads of
//! the sequence are read-modify-writes that add nothing.
//! A read-modify-write reads the latest value of the sequence: if the reader's validation
//! comes first, the producer's start reads it and synchronises with it, so the reader's
//! reads happen-before every change of that start and see none of them; if the start
//! comes first, the validation reads an odd or later value and the reader retries. If the
//! reader's first load read a change's end (Release), its reads see that whole change.
//! Both read-modify-writes are off the write fast path: one per ring change, one per
//! snapshot try.

use crate::sync::{AtomicU32, Ordering, spin_hint, yield_hint};

/// How many times a reader retries while spinning: a ring change takes well under a
/// microsecond unless its producer is descheduled in the middle of it.
const SPINS: u32 = 64;

/// How many times a reader retries in all. After [`SPINS`] it yields its CPU between
/// tries (with `std`; it spins without): a producer descheduled in the middle of a
/// change, on a busy machine, needs it to finish. Only a producer stopped for longer
/// (tens of milliseconds: a debugger, `SIGSTOP`) makes the reader settle for a read the
/// change may have torn.
const TRIES: u32 = SPINS + (1 << 16);

/// The producer's change sequence (see the module docs).
pub(crate) struct ChangeSequence(AtomicU32);

impl ChangeSequence {
    pub(crate) fn new() -> Self {
        Self(AtomicU32::new(0))
    }

    /// Starts a change: the sequence is odd until the returned guard drops. Producer
    /// only; changes do not nest.
    #[inline]
    pub(crate) fn begin(&self) -> Changing<'_> {
        // Acquire: a reader's validation that this reads (it adds nothing, so this reads
        // its value) happens-before every change that follows. Loom does not model the
        // reordering this excludes (a load that reads a later store), so no mutant checks
        // it.
        let even = self.0.fetch_add(1, Ordering::Acquire);
        debug_assert!(even.is_multiple_of(2), "ring changes do not nest");
        Changing(self)
    }

    /// Runs `read` until it ran while no change was under way, at most [`TRIES`] times;
    /// then runs it once more and returns that.
    pub(crate) fn read<R>(&self, mut read: impl FnMut() -> R) -> R {
        for attempt in 0..TRIES {
            // Acquire: pairs with the Release store that ended the last change, whose
            // changes `read` then sees. A read-modify-write that adds nothing, so it
            // reads the latest value: a load may keep reading an older one (the memory
            // model promises no moment when a store becomes visible), and loom explores
            // a reader that spins on a change long ended.
            // mutant: ring_pool.change_read_acquire
            let before = self.0.fetch_add(0, Ordering::Acquire);
            if before.is_multiple_of(2) {
                let value = read();
                // Release: `read` happens-before a change whose start reads this.
                // mutant: ring_pool.change_validate
                if self.0.fetch_add(0, Ordering::Release) == before {
                    return value;
                }
            }
            if attempt < SPINS {
                spin_hint();
            } else {
                yield_hint();
            }
        }
        read()
    }

    /// The sequence back to even, for a lane being reused. Exclusive access only.
    pub(crate) fn reset(&self) {
        self.0.store(0, Ordering::Relaxed);
    }
}

/// A change under way; dropping it ends the change (the sequence is even again).
pub(crate) struct Changing<'a>(&'a ChangeSequence);

impl Drop for Changing<'_> {
    #[inline]
    fn drop(&mut self) {
        // Release: every change made since `begin` happens-before a reader whose Acquire
        // read reads this value. A read-modify-write, as the reader's: with a plain
        // store, loom let a reader's read-modify-write keep reading the odd value after
        // the change ended.
        // mutant: ring_pool.change_end_release
        self.0.0.fetch_add(1, Ordering::Release);
    }
}
