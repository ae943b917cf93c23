//! Owned handles (feature `alloc`): the buffer shared by its writer and its reader, so
//! each can move to a thread of its own, and told when its partner was dropped.
//!
//! Each handle is an [`ada_slots::pair::PairEnd`] over the buffer (the `Arc`, the
//! freeing with the last handle and the abandonment flag, written once there) plus the
//! same per-side state as the borrowed [`RingWriter`](crate::RingWriter) and
//! [`RingReader`](crate::RingReader), whose operations it shares (`writer_api!`,
//! `reader_api!`); the only extra step of an operation is reaching the buffer through
//! the `Arc` instead of through a reference (one pointer either way).

use crate::{ReaderState, RingBuffer, WriterState, reader_api, writer_api};
use ada_slots::pair::PairEnd;
use core::fmt;

/// Moves `ring` into shared storage and makes its two owned handles.
pub(crate) fn split<T: Copy>(
    ring: RingBuffer<'static, T>,
) -> (OwnedRingWriter<T>, OwnedRingReader<T>) {
    let (writer, reader) = (WriterState::new(&ring), ReaderState::new(&ring));
    let (writer_end, reader_end) = PairEnd::pair(ring);
    let writer = OwnedRingWriter {
        ring: writer_end,
        state: writer,
    };
    let reader = OwnedRingReader {
        ring: reader_end,
        state: reader,
    };
    (writer, reader)
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
    /// The buffer, shared with the reader; dereferences to it.
    ring: PairEnd<RingBuffer<'static, T>>,
    state: WriterState,
}

writer_api!(OwnedRingWriter<T>);

impl<T> OwnedRingWriter<T> {
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
        self.ring.is_abandoned()
    }
}

impl<T> fmt::Debug for OwnedRingWriter<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.ring.fmt_handle(f, "OwnedRingWriter", "ring")
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
    /// The buffer, shared with the writer; dereferences to it.
    ring: PairEnd<RingBuffer<'static, T>>,
    state: ReaderState,
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
        // committed slots are never rewritten while the end this handle holds lives.
        unsafe { self.state.peek(&*self.ring) }
    }
}

reader_api!(OwnedRingReader<T>);

impl<T> OwnedRingReader<T> {
    /// Whether the writer was dropped: nothing more will be committed.
    ///
    /// `false` can turn `true` at any moment; `true` stays `true`, and then every append
    /// happens-before this reader's next operation (Acquire, paired with the writer's
    /// drop): one more [`peek`](OwnedRingReader::peek) sees every record there will be.
    ///
    /// ```
    /// let (mut writer, reader) = ada_ring_buffer::RingBuffer::owned(8)?;
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
        self.ring.is_abandoned()
    }
}

impl<T> fmt::Debug for OwnedRingReader<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.ring.fmt_handle(f, "OwnedRingReader", "ring")
    }
}
