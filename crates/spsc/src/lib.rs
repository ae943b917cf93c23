//! A bounded lock-free single-producer single-consumer queue of `Copy` values.
//!
//! In ada this queue carries ring indices between a traced thread and the drain thread:
//! full rings one way (the submit queue), empty rings back (the free queue). It is a
//! Lamport queue with the refinements that make such queues fast:
//!
//! - the producer-owned position and the consumer-owned position live on separate cache
//!   lines ([`CachePadded`]);
//! - each handle keeps its own position and a cached copy of the other side's position
//!   in its own memory, and re-reads the other side's position only when the cached copy
//!   says the queue is full (producer) or empty (consumer), so in steady state an
//!   operation reads no cache line the other thread writes;
//! - positions run over `0..2 * capacity`, so every one of `capacity` slots is usable and
//!   any capacity from 1 up works (no rounding to a power of two);
//! - [`Producer`] and [`Consumer`] are separate handles, so "one producer, one consumer"
//!   is enforced by the type system when the queue is [`split`](Queue::split); a queue
//!   embedded in a pre-allocated structure can hand out handles by contract instead
//!   ([`Queue::producer`], [`Queue::consumer`]).
//!
//! ```
//! use ada_spsc::Queue;
//!
//! let mut queue = Queue::<u32>::with_capacity(3)?;
//! std::thread::scope(|s| {
//!     let (mut producer, mut consumer) = queue.split();
//!     s.spawn(move || {
//!         for value in 0..1000 {
//!             while producer.push(value).is_err() {
//!                 std::hint::spin_loop();
//!             }
//!         }
//!     });
//!     let mut expected = 0;
//!     while expected < 1000 {
//!         if let Some(value) = consumer.pop() {
//!             assert_eq!(value, expected);
//!             expected += 1;
//!         }
//!     }
//! });
//! # Ok::<(), ada_spsc::SlotsError>(())
//! ```
//!
//! # Memory orderings
//! | atomic | written by | store | read by | load | why |
//! |---|---|---|---|---|---|
//! | `tail` | producer | `Release` | consumer | `Acquire` | a slot's value happens-before the consumer sees the slot counted |
//! | `head` | consumer | `Release` | producer | `Acquire` | the consumer's read of a slot happens-before the producer reuses it |
//! | `tail`, `head` | owner | — | owner | `Relaxed` | each side reads its own last store |
//!
//! The cached copies (`cached_head`, `cached_tail`) live in the handles. A stale cache
//! is always conservative: it can only make the queue look fuller (producer) or emptier
//! (consumer) than it is, which triggers a refresh. A handle made afresh
//! ([`Queue::producer`]) starts from one Acquire load of the other side's position.
//!
//! # Taking back the oldest entry
//! The ring pool's drop-oldest policy needs its producer to take back the oldest
//! submitted ring when the drain falls behind. This queue never lets a producer write the
//! consumer's position; the ring pool builds that policy on top of it with a claim that
//! both sides make by compare-and-swap on state of its own (see `docs/protocol.md`).
#![no_std]
#![warn(missing_docs)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(any(feature = "std", loom, test))]
extern crate std;

mod sync;

pub use ada_slots::{Slots, SlotsError};

use core::fmt;
use core::mem::{MaybeUninit, size_of};
use crossbeam_utils::CachePadded;
use sync::{AtomicUsize, Ordering};

/// A bounded SPSC queue of `T`.
///
/// `'buf` is the lifetime of caller-provided storage (`'static` when owned).
pub struct Queue<'buf, T> {
    producer: CachePadded<ProducerSide>,
    consumer: CachePadded<ConsumerSide>,
    slots: Slots<'buf, T>,
}

/// Written only by the producer, on its own cache line.
struct ProducerSide {
    /// Position of the next slot to fill, in `0..2 * capacity`.
    tail: AtomicUsize,
}

/// Written only by the consumer, on its own cache line.
struct ConsumerSide {
    /// Position of the next slot to take, in `0..2 * capacity`.
    head: AtomicUsize,
}

/// The largest capacity: positions run to `2 * capacity` and sums of a position and a
/// count must not overflow.
const MAX_CAPACITY: usize = usize::MAX / 4;

impl<T: Copy> Queue<'static, T> {
    /// Allocates a queue of `capacity` entries.
    ///
    /// # Errors
    /// [`SlotsError::ZeroLength`] for `capacity == 0`, [`SlotsError::TooLarge`] when the
    /// byte size overflows (or `capacity > usize::MAX / 4`),
    /// [`SlotsError::AllocationFailed`] when the allocator fails.
    ///
    /// ```
    /// use ada_spsc::{Queue, SlotsError};
    /// assert_eq!(Queue::<u32>::with_capacity(0).unwrap_err(), SlotsError::ZeroLength);
    /// assert_eq!(Queue::<u32>::with_capacity(5)?.capacity(), 5);
    /// # Ok::<(), SlotsError>(())
    /// ```
    #[cfg(feature = "alloc")]
    pub fn with_capacity(capacity: usize) -> Result<Self, SlotsError> {
        Self::from_slots(Slots::new(capacity)?)
    }
}

impl<'buf, T: Copy> Queue<'buf, T> {
    /// A queue in caller-provided memory, one entry per element.
    ///
    /// ```
    /// use core::mem::MaybeUninit;
    /// let mut memory = [MaybeUninit::<u16>::uninit(); 4];
    /// let mut queue = ada_spsc::Queue::from_uninit(&mut memory)?;
    /// let (mut producer, mut consumer) = queue.split();
    /// assert_eq!(producer.push_slice(&[1, 2, 3, 4, 5]), 4);
    /// assert_eq!(consumer.pop(), Some(1));
    /// # Ok::<(), ada_spsc::SlotsError>(())
    /// ```
    ///
    /// # Errors
    /// [`SlotsError::ZeroLength`] for an empty slice, [`SlotsError::TooLarge`] past
    /// `usize::MAX / 4` entries.
    pub fn from_uninit(memory: &'buf mut [MaybeUninit<T>]) -> Result<Self, SlotsError> {
        Self::from_slots(Slots::from_uninit(memory)?)
    }

    /// A queue of `capacity` entries in a caller-provided byte region.
    ///
    /// # Errors
    /// As [`Slots::from_bytes`], and [`SlotsError::TooLarge`] past `usize::MAX / 4`.
    pub fn from_bytes(
        memory: &'buf mut [MaybeUninit<u8>],
        capacity: usize,
    ) -> Result<Self, SlotsError> {
        Self::from_slots(Slots::from_bytes(memory, capacity)?)
    }

    /// A queue over already-created slots; its capacity is `slots.len()`.
    ///
    /// # Errors
    /// [`SlotsError::TooLarge`] when `slots.len() > usize::MAX / 4`.
    pub fn from_slots(slots: Slots<'buf, T>) -> Result<Self, SlotsError> {
        if slots.len() > MAX_CAPACITY {
            return Err(SlotsError::TooLarge {
                len: slots.len(),
                slot_bytes: size_of::<T>(),
            });
        }
        Ok(Self {
            producer: CachePadded::new(ProducerSide {
                tail: AtomicUsize::new(0),
            }),
            consumer: CachePadded::new(ConsumerSide {
                head: AtomicUsize::new(0),
            }),
            slots,
        })
    }

    /// How many entries the queue holds when full.
    #[inline]
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// Entries in the queue at some instant during the call (exact when neither side
    /// runs concurrently).
    #[must_use]
    pub fn len(&self) -> usize {
        let head = self.consumer.head.load(Ordering::Acquire);
        let tail = self.producer.tail.load(Ordering::Acquire);
        self.distance(head, tail)
    }

    /// Whether the queue looked empty during the call.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Splits the queue into its producer and its consumer.
    pub fn split(&mut self) -> (Producer<'_, 'buf, T>, Consumer<'_, 'buf, T>) {
        // SAFETY: `&mut self` guarantees these are the only handles while they live.
        unsafe { (self.producer(), self.consumer()) }
    }

    /// A producer handle through a shared reference, for queues embedded in structures
    /// whose protocol decides which thread produces.
    ///
    /// # Safety
    /// No other [`Producer`] of this queue is used while this one exists, and everything
    /// an earlier producer did happens-before this call.
    #[inline]
    pub unsafe fn producer(&self) -> Producer<'_, 'buf, T> {
        Producer {
            queue: self,
            tail: self.producer.tail.load(Ordering::Relaxed),
            // Acquire: as in every refresh of the cache (see `free_slots`).
            cached_head: self.consumer.head.load(Ordering::Acquire),
        }
    }

    /// A consumer handle through a shared reference.
    ///
    /// # Safety
    /// No other [`Consumer`] of this queue is used while this one exists, and everything
    /// an earlier consumer did happens-before this call.
    #[inline]
    pub unsafe fn consumer(&self) -> Consumer<'_, 'buf, T> {
        Consumer {
            queue: self,
            head: self.consumer.head.load(Ordering::Relaxed),
            // Acquire: as in every refresh of the cache (see `available`).
            cached_tail: self.producer.tail.load(Ordering::Acquire),
        }
    }

    /// Empties the queue, as when a structure that embeds it is reused.
    pub fn reset(&mut self) {
        // SAFETY: `&mut self` excludes every handle and every other access.
        unsafe { self.reset_unchecked() }
    }

    /// [`reset`](Self::reset) through a shared reference.
    ///
    /// # Safety
    /// No handle of this queue is in use on any thread, and every earlier access
    /// happens-before this call.
    pub unsafe fn reset_unchecked(&self) {
        // Relaxed: exclusivity (the caller's contract) orders these with every other
        // access; the next hand-over of the queue publishes them.
        self.producer.tail.store(0, Ordering::Relaxed);
        self.consumer.head.store(0, Ordering::Relaxed);
    }

    /// The slot a position refers to.
    #[inline(always)]
    fn slot(&self, position: usize) -> usize {
        let capacity = self.slots.len();
        if position >= capacity {
            position - capacity
        } else {
            position
        }
    }

    /// `position + count` on the `0..2 * capacity` circle (`count <= capacity`).
    #[inline(always)]
    fn advance(&self, position: usize, count: usize) -> usize {
        let laps = 2 * self.slots.len();
        let next = position + count;
        if next >= laps { next - laps } else { next }
    }

    /// Entries from `head` up to `tail` on the `0..2 * capacity` circle.
    #[inline(always)]
    fn distance(&self, head: usize, tail: usize) -> usize {
        if tail >= head {
            tail - head
        } else {
            tail + 2 * self.slots.len() - head
        }
    }
}

impl<T> fmt::Debug for Queue<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Queue")
            .field("capacity", &self.slots.len())
            .field("head", &self.consumer.head.load(Ordering::Relaxed))
            .field("tail", &self.producer.tail.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// The error of [`Producer::push`]: the queue was full; the value is given back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Full<T>(pub T);

impl<T> fmt::Display for Full<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the queue is full")
    }
}

impl<T: fmt::Debug> core::error::Error for Full<T> {}

/// The single producer of a [`Queue`].
pub struct Producer<'q, 'buf, T> {
    queue: &'q Queue<'buf, T>,
    /// The producer's own copy of `tail`, so no operation loads it.
    tail: usize,
    /// The producer's last view of `head`.
    cached_head: usize,
}

impl<T: Copy> Producer<'_, '_, T> {
    /// Appends `value`, or gives it back when the queue is full.
    ///
    /// ```
    /// let mut queue = ada_spsc::Queue::with_capacity(1)?;
    /// let (mut producer, _consumer) = queue.split();
    /// assert_eq!(producer.push('a'), Ok(()));
    /// assert_eq!(producer.push('b'), Err(ada_spsc::Full('b')));
    /// # Ok::<(), ada_spsc::SlotsError>(())
    /// ```
    ///
    /// # Errors
    /// [`Full`] with the value, when no slot is free.
    #[inline]
    pub fn push(&mut self, value: T) -> Result<(), Full<T>> {
        let queue = self.queue;
        let tail = self.tail;
        if self.free_slots(1) == 0 {
            return Err(Full(value));
        }
        // SAFETY: the slot at `tail` is free: the consumer's Release store of `head`
        // (observed through `free_slots`' Acquire load) ordered its last read of the slot
        // before this write, and this is the only producer.
        unsafe { queue.slots.write(queue.slot(tail), value) };
        self.tail = queue.advance(tail, 1);
        // Release: the slot write happens-before the consumer's Acquire load of `tail`.
        queue.producer.tail.store(self.tail, Ordering::Release);
        Ok(())
    }

    /// Appends as many of `values` as fit, publishing them with one store; returns how
    /// many were appended.
    #[inline]
    pub fn push_slice(&mut self, values: &[T]) -> usize {
        let queue = self.queue;
        let tail = self.tail;
        let count = values.len().min(self.free_slots(values.len()));
        if count == 0 {
            return 0;
        }
        let start = queue.slot(tail);
        let first = count.min(queue.slots.len() - start);
        // SAFETY: the `count` slots from `tail` are free (as in `push`), split where the
        // slot array wraps; this is the only producer.
        unsafe {
            queue.slots.write_slice(start, &values[..first]);
            queue.slots.write_slice(0, &values[first..count]);
        }
        self.tail = queue.advance(tail, count);
        // Release: publishes all `count` slot writes at once.
        queue.producer.tail.store(self.tail, Ordering::Release);
        count
    }

    /// Free slots, at least as many as at the moment of the call.
    #[must_use]
    pub fn free_len(&mut self) -> usize {
        self.free_slots(usize::MAX)
    }

    /// The queue's capacity.
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.queue.capacity()
    }

    /// Free slots, re-reading `head` only when the cached view shows fewer than `wanted`.
    #[inline(always)]
    fn free_slots(&mut self, wanted: usize) -> usize {
        let queue = self.queue;
        let capacity = queue.slots.len();
        let free = capacity - queue.distance(self.cached_head, self.tail);
        if free >= wanted {
            return free;
        }
        // Acquire: pairs with the consumer's Release store of `head`, so its reads of
        // the slots it freed happen-before our writes to them.
        self.cached_head = queue.consumer.head.load(Ordering::Acquire);
        capacity - queue.distance(self.cached_head, self.tail)
    }
}

impl<T> fmt::Debug for Producer<'_, '_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Producer")
            .field("queue", self.queue)
            .finish()
    }
}

/// The single consumer of a [`Queue`].
pub struct Consumer<'q, 'buf, T> {
    queue: &'q Queue<'buf, T>,
    /// The consumer's own copy of `head`, so no operation loads it.
    head: usize,
    /// The consumer's last view of `tail`.
    cached_tail: usize,
}

impl<T: Copy> Consumer<'_, '_, T> {
    /// Takes the oldest entry, if any.
    ///
    /// ```
    /// let mut queue = ada_spsc::Queue::with_capacity(2)?;
    /// let (mut producer, mut consumer) = queue.split();
    /// assert_eq!(consumer.pop(), None::<u8>);
    /// producer.push(9).unwrap();
    /// assert_eq!(consumer.pop(), Some(9));
    /// # Ok::<(), ada_spsc::SlotsError>(())
    /// ```
    #[inline]
    pub fn pop(&mut self) -> Option<T> {
        let queue = self.queue;
        let head = self.head;
        if self.available(1) == 0 {
            return None;
        }
        // SAFETY: the slot at `head` was written before the producer's Release store of
        // `tail` that `available` observed with Acquire; the producer does not rewrite it
        // until our Release store of `head` below.
        let value = unsafe { queue.slots.read(queue.slot(head)) };
        self.head = queue.advance(head, 1);
        // Release: our read of the slot happens-before the producer reuses it.
        queue.consumer.head.store(self.head, Ordering::Release);
        Some(value)
    }

    /// The oldest entry, without taking it.
    #[inline]
    pub fn peek(&mut self) -> Option<T> {
        let queue = self.queue;
        let head = self.head;
        if self.available(1) == 0 {
            return None;
        }
        // SAFETY: as in `pop`; the slot stays ours because `head` does not move.
        Some(unsafe { queue.slots.read(queue.slot(head)) })
    }

    /// Takes up to `out.len()` entries into `out`, with one store; returns how many.
    #[inline]
    pub fn pop_slice(&mut self, out: &mut [T]) -> usize {
        let queue = self.queue;
        let head = self.head;
        let count = out.len().min(self.available(out.len()));
        if count == 0 {
            return 0;
        }
        let start = queue.slot(head);
        let first = count.min(queue.slots.len() - start);
        // SAFETY: the `count` slots from `head` are published (as in `pop`), split where
        // the slot array wraps.
        unsafe {
            out[..first].copy_from_slice(queue.slots.slice(start, start + first));
            out[first..count].copy_from_slice(queue.slots.slice(0, count - first));
        }
        self.head = queue.advance(head, count);
        // Release: our reads happen-before the producer reuses the slots.
        queue.consumer.head.store(self.head, Ordering::Release);
        count
    }

    /// Entries ready to take, at least as many as at the moment of the call.
    #[must_use]
    pub fn len(&mut self) -> usize {
        self.available(usize::MAX)
    }

    /// Whether no entry is ready.
    #[must_use]
    pub fn is_empty(&mut self) -> bool {
        self.len() == 0
    }

    /// The queue's capacity.
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.queue.capacity()
    }

    /// Entries ready, re-reading `tail` only when the cached view shows fewer than
    /// `wanted`.
    #[inline(always)]
    fn available(&mut self, wanted: usize) -> usize {
        let queue = self.queue;
        let ready = queue.distance(self.head, self.cached_tail);
        if ready >= wanted {
            return ready;
        }
        // Acquire: pairs with the producer's Release store of `tail`, so the slots it
        // counts are fully written.
        self.cached_tail = queue.producer.tail.load(Ordering::Acquire);
        queue.distance(self.head, self.cached_tail)
    }
}

impl<T> fmt::Debug for Consumer<'_, '_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Consumer")
            .field("queue", self.queue)
            .finish()
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
