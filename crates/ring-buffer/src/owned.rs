//! Owned handles (feature `alloc`): the buffer in an `Arc` shared by its writer and its
//! reader, so each can move to a thread of its own, plus the flag that tells a handle
//! its partner was dropped.
//!
//! The handles wrap the same per-side state as the borrowed
//! [`RingWriter`](crate::RingWriter) and [`RingReader`](crate::RingReader); the only
//! extra step of an operation is reaching the buffer through the `Arc` instead of through
//! a reference (one pointer either way).

use crate::sync::{Arc, AtomicBool, Ordering};
use crate::{ReaderState, RingBuffer, WriterState};
use core::cell::Cell;
use core::fmt;
use core::marker::PhantomData;

/// What the two owned handles share.
pub(crate) struct Shared<T> {
    ring: RingBuffer<'static, T>,
    /// Set by the first handle dropped; only the other one reads it.
    abandoned: AtomicBool,
}

/// Makes `Send` handles `!Sync`: a handle is one side's private state, used by one
/// thread at a time (and may cache through `&self` in a later version).
type NotSync = PhantomData<Cell<()>>;

/// Moves `ring` into shared storage and makes its two owned handles.
pub(crate) fn split<T: Copy>(
    ring: RingBuffer<'static, T>,
) -> (OwnedRingWriter<T>, OwnedRingReader<T>) {
    let writer = WriterState::new(&ring);
    let reader = ReaderState::new(&ring);
    let shared = Arc::new(Shared {
        ring,
        abandoned: AtomicBool::new(false),
    });
    (
        OwnedRingWriter {
            shared: Arc::clone(&shared),
            state: writer,
            _not_sync: PhantomData,
        },
        OwnedRingReader {
            shared,
            state: reader,
            _not_sync: PhantomData,
        },
    )
}

impl<T> Shared<T> {
    /// Whether the other handle was dropped (called by a live handle, so the flag can
    /// only have been set by its partner).
    #[inline]
    fn is_abandoned(&self) -> bool {
        // Acquire: pairs with the Release store in the partner's drop, so everything
        // the partner did happens-before what this handle does next.
        self.abandoned.load(Ordering::Acquire)
    }

    /// Called from a handle's drop, before its `Arc` is released.
    #[inline]
    fn abandon(&self) {
        // Release: this handle's operations (a writer's appends) happen-before the
        // partner's Acquire load that sees the flag.
        self.abandoned.store(true, Ordering::Release);
    }
}

/// The single writer of a buffer it co-owns with its [`OwnedRingReader`]: made by
/// [`RingBuffer::owned`] or [`RingBuffer::into_split`], `Send + 'static` when `T` is, so
/// it can move into `std::thread::spawn`. The last of the two handles dropped frees the
/// buffer.
///
/// Operations are those of the borrowed [`RingWriter`](crate::RingWriter), and so is
/// their code; [`is_abandoned`](Self::is_abandoned) says whether the reader was dropped.
///
/// It moves to another thread, but is neither shared between threads nor cloned:
///
/// ```
/// fn spawnable<H: Send + 'static>(_: &H) {}
/// let (writer, reader) = ada_ring_buffer::RingBuffer::<u32>::owned(1)?;
/// spawnable(&writer);
/// spawnable(&reader);
/// # Ok::<(), ada_ring_buffer::SlotsError>(())
/// ```
///
/// ```compile_fail,E0277
/// fn shared<H: Sync>(_: &H) {}
/// let (writer, _reader) = ada_ring_buffer::RingBuffer::<u32>::owned(1).unwrap();
/// shared(&writer); // `OwnedRingWriter` is not `Sync`
/// ```
///
/// ```compile_fail,E0599
/// let (writer, _reader) = ada_ring_buffer::RingBuffer::<u32>::owned(1).unwrap();
/// let second = writer.clone(); // one writer per buffer
/// ```
///
/// ```compile_fail,E0277
/// fn sendable<H: Send>(_: H) {}
/// let (writer, _reader) = ada_ring_buffer::RingBuffer::<*const u8>::owned(1).unwrap();
/// sendable(writer); // `*const u8` is not `Send`, so neither is its writer
/// ```
pub struct OwnedRingWriter<T> {
    /// Crate-visible for the tests that watch the storage being freed.
    pub(crate) shared: Arc<Shared<T>>,
    state: WriterState,
    _not_sync: NotSync,
}

impl<T: Copy> OwnedRingWriter<T> {
    /// Appends one record and publishes it, or gives it back when the buffer is full, as
    /// [`RingWriter::push`](crate::RingWriter::push). Succeeds even when the reader is
    /// gone (checking would put a load on every append).
    ///
    /// # Errors
    /// The record itself, when the buffer is full.
    #[inline]
    pub fn push(&mut self, record: T) -> Result<(), T> {
        // SAFETY: this handle's state is the buffer's only writer state (`split` made
        // one, and the handle can be neither cloned nor shared), made for this buffer.
        unsafe { self.state.push(&self.shared.ring, record) }
    }

    /// Appends as many of `records` as fit, with one store; returns how many.
    #[inline]
    pub fn push_slice(&mut self, records: &[T]) -> usize {
        // SAFETY: as in `push`.
        unsafe { self.state.push_slice(&self.shared.ring, records) }
    }
}

impl<T> OwnedRingWriter<T> {
    /// Records committed so far (exact: only this writer commits).
    #[inline]
    #[must_use]
    pub fn len(&self) -> usize {
        self.state.len
    }

    /// Whether nothing is committed.
    #[inline]
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.state.len == 0
    }

    /// Free records left.
    #[inline]
    #[must_use]
    pub fn remaining(&self) -> usize {
        self.capacity() - self.state.len
    }

    /// Whether the next [`push`](Self::push) would fail.
    #[inline]
    #[must_use]
    pub fn is_full(&self) -> bool {
        self.remaining() == 0
    }

    /// How many records the buffer holds when full.
    #[inline]
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.shared.ring.capacity()
    }

    /// Whether the reader was dropped: nothing appended from now on will be read.
    ///
    /// `false` can turn `true` at any moment (the reader may be dropped concurrently);
    /// `true` stays `true`.
    ///
    /// ```
    /// let (mut writer, reader) = ada_ring_buffer::RingBuffer::owned(2)?;
    /// assert!(!writer.is_abandoned());
    /// drop(reader);
    /// assert!(writer.is_abandoned());
    /// assert_eq!(writer.push(1_u8), Ok(()), "futile, but still accepted");
    /// # Ok::<(), ada_ring_buffer::SlotsError>(())
    /// ```
    #[inline]
    #[must_use]
    pub fn is_abandoned(&self) -> bool {
        self.shared.is_abandoned()
    }
}

impl<T> Drop for OwnedRingWriter<T> {
    fn drop(&mut self) {
        self.shared.abandon();
    }
}

impl<T> fmt::Debug for OwnedRingWriter<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedRingWriter")
            .field("ring", &self.shared.ring)
            .field("abandoned", &self.is_abandoned())
            .finish()
    }
}

/// The single reader of a buffer it co-owns with its [`OwnedRingWriter`]: made by
/// [`RingBuffer::owned`] or [`RingBuffer::into_split`], `Send + 'static` when `T` is.
/// The last of the two handles dropped frees the buffer.
///
/// Operations are those of the borrowed [`RingReader`](crate::RingReader), and so is
/// their code, except that a peeked slice borrows the reader (the buffer lives as long
/// as the handle does); [`is_abandoned`](Self::is_abandoned) says whether the writer was
/// dropped, after which nothing more is committed.
///
/// ```compile_fail,E0277
/// fn shared<H: Sync>(_: &H) {}
/// let (_writer, reader) = ada_ring_buffer::RingBuffer::<u32>::owned(1).unwrap();
/// shared(&reader); // `OwnedRingReader` is not `Sync`
/// ```
///
/// ```compile_fail,E0599
/// let (_writer, reader) = ada_ring_buffer::RingBuffer::<u32>::owned(1).unwrap();
/// let second = reader.clone(); // one reader per buffer
/// ```
///
/// ```compile_fail,E0597
/// let (mut writer, reader) = ada_ring_buffer::RingBuffer::<u32>::owned(1).unwrap();
/// writer.push(1).unwrap();
/// let records = {
///     let reader = reader;
///     reader.peek()
/// }; // the slice cannot outlive the reader that keeps the buffer alive
/// # let _ = records;
/// ```
pub struct OwnedRingReader<T> {
    shared: Arc<Shared<T>>,
    state: ReaderState,
    _not_sync: NotSync,
}

impl<T: Copy> OwnedRingReader<T> {
    /// The committed records not yet consumed, as a slice into the buffer, borrowed
    /// from the reader.
    #[inline]
    #[must_use]
    pub fn peek(&self) -> &[T] {
        // SAFETY: this handle's state is the buffer's only reader state (`split` made
        // one, and the handle can be neither cloned nor shared); an owned buffer is
        // never reset (nothing can reach `&mut` of it or call `reset_unchecked`), so its
        // committed slots are never rewritten while the `Arc` this handle holds lives.
        unsafe { self.state.peek(&self.shared.ring) }
    }

    /// Marks up to `count` peeked records as consumed; returns how many were.
    #[inline]
    pub fn advance(&mut self, count: usize) -> usize {
        self.state.advance(&self.shared.ring, count)
    }

    /// Takes the next committed record, if any.
    #[inline]
    pub fn pop(&mut self) -> Option<T> {
        // SAFETY: as in `peek`.
        unsafe { self.state.pop(&self.shared.ring) }
    }

    /// Copies committed records into `out` and consumes them; returns how many.
    #[inline]
    pub fn read_into(&mut self, out: &mut [T]) -> usize {
        // SAFETY: as in `peek`.
        unsafe { self.state.read_into(&self.shared.ring, out) }
    }
}

impl<T> OwnedRingReader<T> {
    /// Committed records not consumed yet: exact at the call's load, at least as many
    /// afterwards (exact for good once [`is_abandoned`](Self::is_abandoned)).
    #[inline]
    #[must_use]
    pub fn unread(&self) -> usize {
        self.state.unread(&self.shared.ring)
    }

    /// Records consumed so far.
    #[inline]
    #[must_use]
    pub fn consumed(&self) -> usize {
        self.state.consumed
    }

    /// Records committed so far (read and unread).
    #[inline]
    #[must_use]
    pub fn len(&self) -> usize {
        self.shared.ring.len()
    }

    /// Whether no record was committed at the call's load.
    #[inline]
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the buffer is full: no more records will be committed.
    #[inline]
    #[must_use]
    pub fn is_full(&self) -> bool {
        self.shared.ring.is_full()
    }

    /// How many records the buffer holds when full.
    #[inline]
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.shared.ring.capacity()
    }

    /// Whether the writer was dropped: nothing more will be committed.
    ///
    /// `false` can turn `true` at any moment; `true` stays `true`, and then every append
    /// happens-before this reader's next operation (Acquire, paired with the writer's
    /// drop): one more [`peek`](OwnedRingReader::peek) sees every record there will be.
    ///
    /// ```
    /// let (mut writer, mut reader) = ada_ring_buffer::RingBuffer::owned(8)?;
    /// std::thread::spawn(move || writer.push_slice(&[1_u8, 2, 3]));
    /// while !reader.is_abandoned() {
    ///     std::thread::yield_now();
    /// }
    /// assert_eq!(reader.peek(), &[1, 2, 3], "every record committed is visible");
    /// # Ok::<(), ada_ring_buffer::SlotsError>(())
    /// ```
    #[inline]
    #[must_use]
    pub fn is_abandoned(&self) -> bool {
        self.shared.is_abandoned()
    }
}

impl<T> Drop for OwnedRingReader<T> {
    fn drop(&mut self) {
        self.shared.abandon();
    }
}

impl<T> fmt::Debug for OwnedRingReader<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedRingReader")
            .field("ring", &self.shared.ring)
            .field("abandoned", &self.is_abandoned())
            .finish()
    }
}
