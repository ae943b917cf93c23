//! A fixed-capacity buffer of fixed-size records with one writer and one concurrent
//! reader of committed records.
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
//!
//! The writer never waits for the reader: written slots are never rewritten before
//! [`RingBuffer::reset`], which needs exclusive access, so the reader's position does not
//! gate the writer.
#![no_std]
#![warn(missing_docs)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(any(feature = "std", loom, test))]
extern crate std;

mod header;
mod sync;

pub use ada_slots::{Slots, SlotsError};
pub use header::{RingFlags, RingHeader};

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

    /// Whether no record is committed.
    #[inline]
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the buffer is full.
    #[inline]
    #[must_use]
    pub fn is_full(&self) -> bool {
        self.len() == self.capacity()
    }

    /// Committed records the reader has not consumed yet.
    #[inline]
    #[must_use]
    pub fn unread(&self) -> usize {
        self.len() - self.consumed.load(Ordering::Relaxed)
    }

    /// Splits the buffer into its writer and its reader, for use on two threads.
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
            len: self.committed.load(Ordering::Relaxed),
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
            consumed: self.consumed.load(Ordering::Relaxed),
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

/// The single writer of a [`RingBuffer`]: appends and publishes records.
#[derive(Debug)]
pub struct RingWriter<'r, 'buf, T> {
    ring: &'r RingBuffer<'buf, T>,
    /// The writer's own copy of `committed`, so an append needs no load.
    len: usize,
}

impl<T: Copy> RingWriter<'_, '_, T> {
    /// Appends one record and publishes it, or gives it back when the buffer is full.
    ///
    /// ```
    /// let mut ring = ada_ring_buffer::RingBuffer::with_capacity(1)?;
    /// let (mut writer, _) = ring.split();
    /// assert_eq!(writer.push(7_u8), Ok(()));
    /// assert_eq!(writer.push(8), Err(8));
    /// # Ok::<(), ada_ring_buffer::SlotsError>(())
    /// ```
    ///
    /// # Errors
    /// The record itself, when the buffer is full.
    #[inline]
    pub fn push(&mut self, record: T) -> Result<(), T> {
        let len = self.len;
        if len == self.ring.slots.len() {
            return Err(record);
        }
        // SAFETY: `len < capacity`; slot `len` is past `committed`, so no reader looks at
        // it, and this is the only writer (the handle's contract).
        unsafe { self.ring.slots.write(len, record) };
        self.len = len + 1;
        // Release: the slot write above happens-before a reader's Acquire load that sees
        // the new count.
        self.ring.committed.store(len + 1, Ordering::Release);
        Ok(())
    }

    /// Appends as many records of `records` as fit, publishes them with one store, and
    /// returns how many were appended.
    ///
    /// ```
    /// let mut ring = ada_ring_buffer::RingBuffer::with_capacity(4)?;
    /// let (mut writer, _) = ring.split();
    /// assert_eq!(writer.push_slice(&[1_u16, 2, 3]), 3);
    /// assert_eq!(writer.push_slice(&[4, 5, 6]), 1);
    /// assert_eq!(writer.remaining(), 0);
    /// # Ok::<(), ada_ring_buffer::SlotsError>(())
    /// ```
    #[inline]
    pub fn push_slice(&mut self, records: &[T]) -> usize {
        let len = self.len;
        let count = records.len().min(self.ring.slots.len() - len);
        if count == 0 {
            return 0;
        }
        // SAFETY: `len + count <= capacity`; the slots are past `committed` (no reader
        // looks at them) and this is the only writer.
        unsafe { self.ring.slots.write_slice(len, &records[..count]) };
        self.len = len + count;
        // Release: as in `push`, publishes all `count` slot writes at once.
        self.ring.committed.store(len + count, Ordering::Release);
        count
    }

    /// Records committed so far.
    #[inline]
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is committed.
    #[inline]
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Free records left.
    #[inline]
    #[must_use]
    pub fn remaining(&self) -> usize {
        self.ring.slots.len() - self.len
    }

    /// Whether the next [`push`](Self::push) would fail.
    #[inline]
    #[must_use]
    pub fn is_full(&self) -> bool {
        self.len == self.ring.slots.len()
    }
}

/// The single reader of a [`RingBuffer`]: sees committed records, in order, without copying.
#[derive(Debug)]
pub struct RingReader<'r, 'buf, T> {
    ring: &'r RingBuffer<'buf, T>,
    /// The reader's own copy of `consumed`.
    consumed: usize,
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
        // Acquire: pairs with the writer's Release store, so the slots counted here are
        // fully written.
        let committed = self.ring.committed.load(Ordering::Acquire);
        // SAFETY: `consumed <= committed <= capacity`; slots below `committed` are written
        // and never rewritten while `self` (and so the buffer) is borrowed.
        unsafe { self.ring.slots.slice(self.consumed, committed) }
    }

    /// Marks up to `count` peeked records as consumed; returns how many were.
    #[inline]
    pub fn advance(&mut self, count: usize) -> usize {
        let committed = self.ring.committed.load(Ordering::Acquire);
        let count = count.min(committed - self.consumed);
        self.consumed += count;
        // Relaxed: only a later reader of this buffer reads it, after a hand-over that
        // synchronises by itself.
        self.ring.consumed.store(self.consumed, Ordering::Relaxed);
        count
    }

    /// Takes the next committed record, if any.
    #[inline]
    pub fn pop(&mut self) -> Option<T> {
        let record = *self.peek().first()?;
        self.advance(1);
        Some(record)
    }

    /// Copies committed records into `out` and consumes them; returns how many.
    #[inline]
    pub fn read_into(&mut self, out: &mut [T]) -> usize {
        let committed = self.peek();
        let count = committed.len().min(out.len());
        out[..count].copy_from_slice(&committed[..count]);
        self.advance(count)
    }

    /// Committed records not consumed yet.
    #[inline]
    #[must_use]
    pub fn unread(&self) -> usize {
        self.ring.committed.load(Ordering::Acquire) - self.consumed
    }

    /// Records consumed so far.
    #[inline]
    #[must_use]
    pub fn consumed(&self) -> usize {
        self.consumed
    }
}

#[cfg(all(test, not(loom)))]
mod tests;

#[cfg(all(test, loom))]
mod loom_tests;

/// The README's example, compiled and run as a doc test.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
