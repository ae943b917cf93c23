//! A fixed-capacity buffer of fixed-size records with one writer and one concurrent
//! reader of committed records.
//!
//! ```
//! use ada_ring_buffer::RingBuffer;
//!
//! // An owned pair (feature `alloc`): each handle moves to its own thread.
//! let (mut writer, mut reader) = RingBuffer::<u64>::owned(100)?;
//! let worker = std::thread::spawn(move || {
//!     for value in 0..100 {
//!         writer.push(value).expect("the buffer holds 100 records");
//!     }
//!     assert_eq!(writer.push(100), Err(100), "a full buffer refuses the record");
//!     // Dropping the writer here abandons the buffer: nothing more will be committed.
//! });
//! let mut seen = Vec::new();
//! loop {
//!     let finished = reader.is_abandoned(); // checked before the last look
//!     let committed = reader.peek(); // borrowed in place, not copied
//!     seen.extend_from_slice(committed);
//!     let n = committed.len();
//!     reader.advance(n);
//!     if finished {
//!         break; // the writer was gone before this peek, so it saw everything
//!     }
//!     std::thread::yield_now();
//! }
//! worker.join().unwrap();
//! assert_eq!(seen, (0..100).collect::<Vec<_>>());
//! # Ok::<(), ada_ring_buffer::SlotsError>(())
//! ```
//!
//! This is the buffer a traced thread writes its events into. The writer appends records
//! and publishes each append with one release store; a reader on another thread sees only
//! committed records and borrows them as slices, without copying. Any capacity from 1 up
//! is usable in full (nothing is rounded to a power of two). A buffer fills once and is
//! then handed on whole; [`RingBuffer::reset`] makes it empty again for reuse.
//!
//! The storage is owned (feature `alloc`) or lives in caller-provided memory, so a pool of
//! buffers can be carved out of one pre-allocated region without further allocation.
//!
//! # Three ways to get the handles
//!
//! | how | handles | storage | when |
//! |---|---|---|---|
//! | [`RingBuffer::owned`], [`RingBuffer::into_split`] (feature `alloc`) | [`OwnedRingWriter`], [`OwnedRingReader`]: `Send + 'static` when `T: Send` | shared through an `Arc`; the last handle dropped frees it | threads of their own (`std::thread::spawn`); the other side's drop is visible ([`OwnedRingReader::is_abandoned`]) |
//! | [`RingBuffer::split`] | [`RingWriter`], [`RingReader`], borrowing the buffer | the buffer's: owned or caller memory, no allocation needed | scoped threads, `no_std`, buffers reused with [`RingBuffer::reset`] |
//! | [`RingBuffer::writer`], [`RingBuffer::reader`] (`unsafe`) | [`RingWriter`], [`RingReader`] | the buffer's | buffers whose ownership a protocol manages (a ring pool) |
//!
//! The append and read code is the same for every kind of handle: a borrowed and an
//! owned handle wrap the same per-side state, and the owned one adds no work.
//!
//! ```
//! use ada_ring_buffer::RingBuffer;
//!
//! let mut ring = RingBuffer::<u64>::with_capacity(3)?;
//! std::thread::scope(|s| {
//!     let (mut writer, mut reader) = ring.split();
//!     s.spawn(move || {
//!         for value in 1..=3 {
//!             writer.push(value).expect("three records fit");
//!         }
//!         assert_eq!(writer.push(4), Err(4), "a full buffer refuses the record");
//!     });
//!     let mut seen = Vec::new();
//!     while seen.len() < 3 {
//!         let committed = reader.peek();
//!         seen.extend_from_slice(committed);
//!         let n = committed.len();
//!         reader.advance(n);
//!     }
//!     assert_eq!(seen, [1, 2, 3]);
//! });
//! ring.reset();
//! assert!(ring.is_empty());
//! # Ok::<(), ada_ring_buffer::SlotsError>(())
//! ```
//!
//! # Memory orderings
//! | atomic | written by | store | read by | load | why |
//! |---|---|---|---|---|---|
//! | `committed` | writer | `Release` | reader | `Acquire` | record bytes happen-before the reader sees them counted |
//! | `committed` | writer | — | writer | `Relaxed` | the writer reads its own last store |
//! | `consumed` | reader | `Relaxed` | reader, owner | `Relaxed` | only ever read by its writer, or by an owner that received the buffer through a synchronising hand-over |
//! | `abandoned` (owned handles: `ada_slots::pair`) | the handle dropped first | `Release` | the other handle (`is_abandoned`) | `Acquire` | everything the dropped handle did happens-before: a reader that sees it then sees every record committed |
//!
//! The writer never waits for the reader: written slots are never rewritten before
//! [`RingBuffer::reset`], which needs exclusive access, so the reader's position does not
//! gate the writer.
#![no_std]
#![warn(missing_docs)]
#![doc(test(attr(deny(warnings))))]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(any(feature = "std", loom, test))]
extern crate std;

mod header;
#[cfg(feature = "alloc")]
mod owned;
mod sync;

pub use ada_slots::{Slots, SlotsError};
pub use header::{RingFlags, RingHeader};
#[cfg(feature = "alloc")]
pub use owned::{OwnedRingReader, OwnedRingWriter};

use core::mem::MaybeUninit;
use crossbeam_utils::CachePadded;
use sync::{AtomicUsize, Ordering, UnsafeCell};

/// A fixed-capacity record buffer: one writer appends, one reader reads what is committed.
///
/// The writer-owned position (`committed`) and the reader-owned position (`consumed`) are
/// on separate cache lines, so the writer's stores never invalidate the line the reader
/// writes and vice versa.
pub struct RingBuffer<'buf, T> {
    /// Records published so far. Written only by the writer.
    committed: CachePadded<AtomicUsize>,
    /// Records the reader has consumed. Written only by the reader.
    consumed: CachePadded<AtomicUsize>,
    header: UnsafeCell<RingHeader>,
    slots: Slots<'buf, T>,
}

// SAFETY: the header cell is accessed only through `&mut self` or `unsafe` methods whose
// contracts forbid concurrent access; slots and positions are `Sync` already.
unsafe impl<T: Send> Sync for RingBuffer<'_, T> {}

impl<T: Copy> RingBuffer<'static, T> {
    /// Allocates a buffer of `capacity` records.
    ///
    /// # Errors
    /// [`SlotsError::ZeroLength`] for `capacity == 0`, [`SlotsError::TooLarge`] when the
    /// byte size overflows, [`SlotsError::AllocationFailed`] when the allocator fails.
    ///
    /// ```
    /// use ada_ring_buffer::{RingBuffer, SlotsError};
    /// assert_eq!(RingBuffer::<u8>::with_capacity(0).unwrap_err(), SlotsError::ZeroLength);
    /// assert_eq!(RingBuffer::<[u8; 32]>::with_capacity(1000)?.capacity(), 1000);
    /// # Ok::<(), SlotsError>(())
    /// ```
    #[cfg(feature = "alloc")]
    pub fn with_capacity(capacity: usize) -> Result<Self, SlotsError> {
        Slots::new(capacity).map(Self::from_slots)
    }

    /// Allocates a buffer of `capacity` records and returns its owned writer and reader:
    /// `RingBuffer::with_capacity(capacity)?` followed by
    /// [`into_split`](Self::into_split).
    ///
    /// ```
    /// let (mut writer, reader) = ada_ring_buffer::RingBuffer::owned(2)?;
    /// std::thread::spawn(move || writer.push_slice(&[1_u8, 2])).join().unwrap();
    /// assert!(reader.is_abandoned(), "the writer was dropped with its thread");
    /// assert_eq!(reader.peek(), &[1, 2]);
    /// # Ok::<(), ada_ring_buffer::SlotsError>(())
    /// ```
    ///
    /// # Errors
    /// As [`with_capacity`](Self::with_capacity).
    #[cfg(feature = "alloc")]
    pub fn owned(capacity: usize) -> Result<(OwnedRingWriter<T>, OwnedRingReader<T>), SlotsError> {
        Ok(Self::with_capacity(capacity)?.into_split())
    }

    /// Moves the buffer into shared storage (an `Arc`) and returns its owned writer and
    /// reader: no lifetime ties them to the buffer, so each can move to a thread of its
    /// own. The last one dropped frees the buffer. Records already committed, and the
    /// reader's progress, are kept.
    ///
    /// Works for every `RingBuffer<'static, T>`: allocated, or in `'static` caller
    /// memory. An owned buffer cannot be reset: it fills once.
    #[cfg(feature = "alloc")]
    #[must_use]
    pub fn into_split(self) -> (OwnedRingWriter<T>, OwnedRingReader<T>) {
        owned::split(self)
    }
}

impl<'buf, T: Copy> RingBuffer<'buf, T> {
    /// A buffer in caller-provided memory, one record per element.
    ///
    /// ```
    /// use core::mem::MaybeUninit;
    /// let mut memory = [MaybeUninit::<u32>::uninit(); 16];
    /// let ring = ada_ring_buffer::RingBuffer::from_uninit(&mut memory)?;
    /// assert_eq!(ring.capacity(), 16);
    /// # Ok::<(), ada_ring_buffer::SlotsError>(())
    /// ```
    ///
    /// # Errors
    /// [`SlotsError::ZeroLength`] for an empty slice.
    pub fn from_uninit(memory: &'buf mut [MaybeUninit<T>]) -> Result<Self, SlotsError> {
        Slots::from_uninit(memory).map(Self::from_slots)
    }

    /// A buffer of `capacity` records in a caller-provided byte region.
    ///
    /// # Errors
    /// As [`Slots::from_bytes`]: zero capacity, overflow, misaligned or too small region.
    pub fn from_bytes(
        memory: &'buf mut [MaybeUninit<u8>],
        capacity: usize,
    ) -> Result<Self, SlotsError> {
        Slots::from_bytes(memory, capacity).map(Self::from_slots)
    }

    /// A buffer over already-created slots.
    #[must_use]
    pub fn from_slots(slots: Slots<'buf, T>) -> Self {
        Self {
            committed: CachePadded::new(AtomicUsize::new(0)),
            consumed: CachePadded::new(AtomicUsize::new(0)),
            header: UnsafeCell::new(RingHeader::default()),
            slots,
        }
    }

    /// Splits the buffer into its writer and its reader, which borrow it (for scoped
    /// threads, or buffers in caller memory). [`into_split`](Self::into_split) makes
    /// handles that own it.
    pub fn split(&mut self) -> (RingWriter<'_, 'buf, T>, RingReader<'_, 'buf, T>) {
        // SAFETY: `&mut self` guarantees no other handle exists; the two returned handles
        // are the only writer and the only reader for as long as they borrow `self`.
        unsafe { (self.writer(), self.reader()) }
    }

    /// A writer handle without a `&mut` borrow, for buffers whose ownership is managed by
    /// a protocol (as in a ring pool, where a ring index moves between threads).
    ///
    /// # Safety
    /// No other [`RingWriter`] of this buffer is used while this one exists, and any
    /// earlier writer's appends happen-before this call (e.g. it ran on this thread, or
    /// the buffer was handed over through a release/acquire pair).
    #[inline]
    pub unsafe fn writer(&self) -> RingWriter<'_, 'buf, T> {
        RingWriter {
            ring: self,
            state: WriterState::new(self),
        }
    }

    /// A reader handle without a `&mut` borrow.
    ///
    /// # Safety
    /// No other [`RingReader`] of this buffer is used while this one exists, and any
    /// earlier reader's progress happens-before this call.
    #[inline]
    pub unsafe fn reader(&self) -> RingReader<'_, 'buf, T> {
        RingReader {
            ring: self,
            state: ReaderState::new(self),
        }
    }

    /// Empties the buffer for reuse. Records are forgotten (they are `Copy`).
    pub fn reset(&mut self) {
        // SAFETY: `&mut self` excludes every handle and every other access.
        unsafe { self.reset_unchecked() }
    }

    /// [`reset`](Self::reset) through a shared reference, for protocol-owned buffers.
    ///
    /// # Safety
    /// The caller owns the buffer exclusively: no writer or reader handle is in use on any
    /// thread, and every earlier access happens-before this call.
    #[inline]
    pub unsafe fn reset_unchecked(&self) {
        // Relaxed: exclusivity (the caller's contract) already orders these stores with
        // every other access; the next hand-over publishes them.
        self.committed.store(0, Ordering::Relaxed);
        self.consumed.store(0, Ordering::Relaxed);
    }

    /// The header, with exclusive access.
    pub fn header(&mut self) -> RingHeader {
        // SAFETY: `&mut self` excludes concurrent access.
        unsafe { self.header_unchecked() }
    }

    /// Replaces the header, with exclusive access.
    pub fn set_header(&mut self, header: RingHeader) {
        // SAFETY: `&mut self` excludes concurrent access.
        unsafe { self.set_header_unchecked(header) }
    }

    /// Reads the header through a shared reference.
    ///
    /// # Safety
    /// No thread writes the header concurrently: the last
    /// [`set_header_unchecked`](Self::set_header_unchecked) happens-before this call.
    #[inline]
    pub unsafe fn header_unchecked(&self) -> RingHeader {
        // SAFETY: no concurrent writer (the caller's contract).
        self.header.with(|header| unsafe { *header })
    }

    /// Writes the header through a shared reference.
    ///
    /// # Safety
    /// No other thread reads or writes the header concurrently; the buffer's owner writes
    /// it before handing the buffer on.
    #[inline]
    pub unsafe fn set_header_unchecked(&self, header: RingHeader) {
        // SAFETY: no concurrent access (the caller's contract).
        self.header.with_mut(|slot| unsafe { *slot = header });
    }
}

impl<T> core::fmt::Debug for RingBuffer<'_, T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RingBuffer")
            .field("capacity", &self.slots.len())
            .field("committed", &self.committed.load(Ordering::Relaxed))
            .field("consumed", &self.consumed.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// The queries the buffer and every handle derive from their `len` and `capacity` (for
/// a writer, its own count; for the buffer and a reader, a load of `committed`), written
/// once with each one's account of them.
macro_rules! fill_queries {
    ($(#[$is_empty:meta])* is_empty; $(#[$is_full:meta])* is_full;) => {
        $(#[$is_empty])*
        #[inline]
        #[must_use]
        pub fn is_empty(&self) -> bool {
            self.len() == 0
        }

        $(#[$is_full])*
        #[inline]
        #[must_use]
        pub fn is_full(&self) -> bool {
            self.len() == self.capacity()
        }
    };
}
pub(crate) use fill_queries;

/// Queries, for every kind of handle.
impl<T> RingBuffer<'_, T> {
    /// How many records the buffer holds when full.
    #[inline]
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// Records committed so far (read and unread).
    #[inline]
    #[must_use]
    pub fn len(&self) -> usize {
        self.committed.load(Ordering::Acquire)
    }

    fill_queries! {
        /// Whether no record is committed.
        is_empty;
        /// Whether the buffer is full.
        is_full;
    }

    /// Committed records the reader has not consumed yet.
    #[inline]
    #[must_use]
    pub fn unread(&self) -> usize {
        self.len() - self.consumed.load(Ordering::Relaxed)
    }
}

/// A writer's own state: its copy of `committed`. [`RingWriter`] and [`OwnedRingWriter`]
/// both wrap one, so the append code exists once; the methods take the buffer the state
/// belongs to.
#[derive(Debug)]
struct WriterState {
    /// The writer's own copy of `committed`, so an append needs no load.
    len: usize,
}

impl WriterState {
    /// The state of a new writer of `ring`.
    #[inline]
    fn new<T>(ring: &RingBuffer<'_, T>) -> Self {
        Self {
            // Relaxed: the handle's contract orders earlier appends before this load.
            len: ring.committed.load(Ordering::Relaxed),
        }
    }

    /// Appends one record and publishes it, or gives it back when the buffer is full.
    ///
    /// # Safety
    /// `self` is `ring`'s only writer state in use, made by [`new`](Self::new) for `ring`
    /// after every earlier append (so `len` is current).
    #[inline(always)]
    unsafe fn push<T: Copy>(&mut self, ring: &RingBuffer<'_, T>, record: T) -> Result<(), T> {
        let len = self.len;
        if len == ring.slots.len() {
            return Err(record);
        }
        // SAFETY: `len < capacity`; slot `len` is past `committed`, so no reader looks at
        // it, and this is the only writer (the caller's contract).
        unsafe { ring.slots.write(len, record) };
        self.len = len + 1;
        // Release: the slot write above happens-before a reader's Acquire load that sees
        // the new count.
        // mutant: ring_buffer.append_publish
        ring.committed.store(len + 1, Ordering::Release);
        Ok(())
    }

    /// Appends as many of `records` as fit, publishes them with one store.
    ///
    /// # Safety
    /// As [`push`](Self::push).
    #[inline(always)]
    unsafe fn push_slice<T: Copy>(&mut self, ring: &RingBuffer<'_, T>, records: &[T]) -> usize {
        let len = self.len;
        let count = records.len().min(ring.slots.len() - len);
        if count == 0 {
            return 0;
        }
        // SAFETY: `len + count <= capacity`; the slots are past `committed` (no reader
        // looks at them) and this is the only writer.
        unsafe { ring.slots.write_slice(len, &records[..count]) };
        self.len = len + count;
        // Release: as in `push`, publishes all `count` slot writes at once.
        ring.committed.store(len + count, Ordering::Release);
        count
    }
}

/// The writer's operations and queries, written once for [`RingWriter`] and
/// [`OwnedRingWriter`]: each holds `ring` (a reference to its buffer, or the pair end
/// that owns it; both dereference to the buffer) and `state`, its [`WriterState`].
macro_rules! writer_api {
    ($handle:ty) => {
        impl<T: Copy> $handle {
            /// Appends one record and publishes it, or gives it back when the buffer is
            /// full. An owned writer's push succeeds even when its reader is gone
            /// (checking would put a load on every append).
            ///
            /// # Errors
            /// The record itself, when the buffer is full.
            #[inline]
            pub fn push(&mut self, record: T) -> Result<(), T> {
                // SAFETY: this handle's state is the buffer's only writer state in use,
                // made for this buffer: a borrowed handle's by the contract of `split`
                // or `writer`, an owned handle's because `into_split` made one and the
                // handle can be neither cloned nor shared.
                unsafe { self.state.push(&*self.ring, record) }
            }

            /// Appends as many records of `records` as fit, publishes them with one
            /// store, and returns how many were appended.
            #[inline]
            pub fn push_slice(&mut self, records: &[T]) -> usize {
                // SAFETY: as in `push`.
                unsafe { self.state.push_slice(&*self.ring, records) }
            }
        }

        impl<T> $handle {
            /// Records committed so far (exact: only this writer commits).
            #[inline]
            #[must_use]
            pub fn len(&self) -> usize {
                self.state.len
            }

            /// Free records left.
            #[inline]
            #[must_use]
            pub fn remaining(&self) -> usize {
                self.capacity() - self.state.len
            }

            /// How many records the buffer holds when full.
            #[inline]
            #[must_use]
            pub fn capacity(&self) -> usize {
                self.ring.capacity()
            }

            $crate::fill_queries! {
                /// Whether nothing is committed.
                is_empty;
                /// Whether the next [`push`](Self::push) would fail.
                is_full;
            }
        }
    };
}
// For the owned handles (`owned.rs`).
#[cfg(feature = "alloc")]
pub(crate) use writer_api;

/// The single writer of a [`RingBuffer`], borrowing it (from [`RingBuffer::split`] or
/// [`RingBuffer::writer`]): appends and publishes records. [`OwnedRingWriter`] is the
/// form that owns its buffer.
///
/// ```
/// let mut ring = ada_ring_buffer::RingBuffer::with_capacity(5)?;
/// let (mut writer, _) = ring.split();
/// assert_eq!(writer.push(7_u16), Ok(()));
/// assert_eq!(writer.push_slice(&[1, 2, 3]), 3);
/// assert_eq!(writer.push_slice(&[4, 5, 6]), 1, "as many as fit");
/// assert_eq!(writer.push(8), Err(8), "a full buffer gives the record back");
/// assert_eq!(writer.remaining(), 0);
/// # Ok::<(), ada_ring_buffer::SlotsError>(())
/// ```
#[derive(Debug)]
pub struct RingWriter<'r, 'buf, T> {
    ring: &'r RingBuffer<'buf, T>,
    state: WriterState,
}

writer_api!(RingWriter<'_, '_, T>);

/// A reader's own state: its copy of `consumed`. [`RingReader`] and [`OwnedRingReader`]
/// both wrap one, so the read code exists once.
#[derive(Debug)]
struct ReaderState {
    /// The reader's own copy of `consumed`.
    consumed: usize,
}

impl ReaderState {
    /// The state of a new reader of `ring`.
    #[inline]
    fn new<T>(ring: &RingBuffer<'_, T>) -> Self {
        Self {
            // Relaxed: the handle's contract orders earlier readers' progress before it.
            consumed: ring.consumed.load(Ordering::Relaxed),
        }
    }

    /// The committed records not yet consumed, in place.
    ///
    /// # Safety
    /// `self` is `ring`'s only reader state in use, made by [`new`](Self::new) for
    /// `ring`; and `ring` is not reset while the returned slice lives (the caller ties
    /// `'r` to a borrow that excludes a reset).
    #[inline(always)]
    unsafe fn peek<'r, T: Copy>(&self, ring: &'r RingBuffer<'_, T>) -> &'r [T] {
        // Acquire: pairs with the writer's Release store, so the slots counted here are
        // fully written.
        // mutant: ring_buffer.read_acquire
        let committed = ring.committed.load(Ordering::Acquire);
        // SAFETY: `consumed <= committed <= capacity`; slots below `committed` are written
        // and never rewritten before a reset, which the caller excludes for `'r`.
        unsafe { ring.slots.slice(self.consumed, committed) }
    }

    /// Marks up to `count` peeked records as consumed; returns how many were.
    #[inline(always)]
    fn advance<T>(&mut self, ring: &RingBuffer<'_, T>, count: usize) -> usize {
        // Acquire: as in `peek` (the count bounds what may be consumed).
        let committed = ring.committed.load(Ordering::Acquire);
        let count = count.min(committed - self.consumed);
        self.consumed += count;
        // Relaxed: only a later reader of this buffer reads it, after a hand-over that
        // synchronises by itself.
        ring.consumed.store(self.consumed, Ordering::Relaxed);
        count
    }

    /// Takes the next committed record, if any.
    ///
    /// # Safety
    /// As [`peek`](Self::peek), for the duration of the call.
    #[inline(always)]
    unsafe fn pop<T: Copy>(&mut self, ring: &RingBuffer<'_, T>) -> Option<T> {
        // SAFETY: the caller's contract.
        let record = *unsafe { self.peek(ring) }.first()?;
        self.advance(ring, 1);
        Some(record)
    }

    /// Copies committed records into `out` and consumes them; returns how many.
    ///
    /// # Safety
    /// As [`peek`](Self::peek), for the duration of the call.
    #[inline(always)]
    unsafe fn read_into<T: Copy>(&mut self, ring: &RingBuffer<'_, T>, out: &mut [T]) -> usize {
        // SAFETY: the caller's contract.
        let committed = unsafe { self.peek(ring) };
        let count = committed.len().min(out.len());
        out[..count].copy_from_slice(&committed[..count]);
        self.advance(ring, count)
    }

    /// Committed records not consumed yet.
    #[inline]
    fn unread<T>(&self, ring: &RingBuffer<'_, T>) -> usize {
        // Acquire: as in `peek` (uniform with every load of `committed` by a reader).
        ring.committed.load(Ordering::Acquire) - self.consumed
    }
}

/// The reader's operations and queries but [`peek`](RingReader::peek) (whose slice
/// outlives a borrowed reader and borrows an owned one), written once for [`RingReader`]
/// and [`OwnedRingReader`]: each holds `ring` (a reference to its buffer, or the pair end
/// that owns it; both dereference to the buffer) and `state`, its [`ReaderState`].
macro_rules! reader_api {
    ($handle:ty) => {
        impl<T: Copy> $handle {
            /// Marks up to `count` peeked records as consumed; returns how many were.
            #[inline]
            pub fn advance(&mut self, count: usize) -> usize {
                self.state.advance(&*self.ring, count)
            }

            /// Takes the next committed record, if any.
            #[inline]
            pub fn pop(&mut self) -> Option<T> {
                // SAFETY: this handle's state is the buffer's only reader state in use,
                // made for this buffer (a borrowed handle's by the contract of `split`
                // or `reader`; an owned handle's because `into_split` made one and the
                // handle can be neither cloned nor shared), and no reset runs during the
                // call: a borrowed handle's borrow excludes `reset` (`&mut`), the
                // contract of `reset_unchecked` excludes live handles, and an owned
                // buffer is never reset.
                unsafe { self.state.pop(&*self.ring) }
            }

            /// Copies committed records into `out` and consumes them; returns how many.
            #[inline]
            pub fn read_into(&mut self, out: &mut [T]) -> usize {
                // SAFETY: as in `pop`.
                unsafe { self.state.read_into(&*self.ring, out) }
            }
        }

        impl<T> $handle {
            /// Committed records not consumed yet: exact at the call's load, at least as
            /// many afterwards (exact for good once the writer is gone).
            #[inline]
            #[must_use]
            pub fn unread(&self) -> usize {
                self.state.unread(&*self.ring)
            }

            /// Records consumed so far.
            #[inline]
            #[must_use]
            pub fn consumed(&self) -> usize {
                self.state.consumed
            }

            /// Records committed so far (read and unread), as
            /// [`RingBuffer::len`](crate::RingBuffer::len).
            #[inline]
            #[must_use]
            pub fn len(&self) -> usize {
                self.ring.len()
            }

            /// How many records the buffer holds when full.
            #[inline]
            #[must_use]
            pub fn capacity(&self) -> usize {
                self.ring.capacity()
            }

            $crate::fill_queries! {
                /// Whether no record was committed at the call's load.
                is_empty;
                /// Whether the buffer was full at the call's load: no more records will
                /// be committed (before a reset, for a borrowed buffer; an owned one is
                /// never reset).
                is_full;
            }
        }
    };
}
// For the owned handles (`owned.rs`).
#[cfg(feature = "alloc")]
pub(crate) use reader_api;

/// The single reader of a [`RingBuffer`], borrowing it (from [`RingBuffer::split`] or
/// [`RingBuffer::reader`]): sees committed records, in order, without copying.
/// [`OwnedRingReader`] is the form that owns its buffer.
///
/// The `&self` queries load `committed` afresh; it only grows until a reset.
#[derive(Debug)]
pub struct RingReader<'r, 'buf, T> {
    ring: &'r RingBuffer<'buf, T>,
    state: ReaderState,
}

impl<'r, T: Copy> RingReader<'r, '_, T> {
    /// The committed records not yet consumed, as a slice into the buffer.
    ///
    /// The slice may outlive the reader handle: committed slots are never rewritten
    /// before the buffer is reset, and a reset needs the buffer exclusively (`&mut`, or
    /// the `unsafe` contract of [`RingBuffer::reset_unchecked`]).
    #[inline]
    #[must_use]
    pub fn peek(&self) -> &'r [T] {
        // SAFETY: this handle's state is the buffer's only reader state in use (the
        // contract of `split`/`reader`); a reset needs `&mut` of the buffer, which `'r`
        // excludes, or the contract of `reset_unchecked`, which excludes live handles
        // and slices.
        unsafe { self.state.peek(self.ring) }
    }
}

reader_api!(RingReader<'_, '_, T>);

#[cfg(all(test, not(loom)))]
mod tests;

#[cfg(all(test, loom))]
mod loom_tests;

/// The README's example, compiled and run as a doc test.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
