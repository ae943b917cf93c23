//! A bounded lock-free single-producer single-consumer queue of `Copy` values.
//!
//! ```
//! use ada_spsc::Queue;
//!
//! // An owned pair (feature `alloc`): each handle moves to its own thread.
//! let (mut producer, mut consumer) = Queue::<u32>::owned(8)?;
//! let worker = std::thread::spawn(move || {
//!     for value in 0..100 {
//!         while producer.push(value).is_err() {
//!             std::thread::yield_now(); // full: wait for the consumer
//!         }
//!     }
//!     // Dropping the producer here abandons the queue.
//! });
//! let mut received = Vec::new();
//! loop {
//!     if let Some(value) = consumer.pop() {
//!         received.push(value);
//!     } else if consumer.is_abandoned() {
//!         // The producer is gone and all it pushed is visible now: take the rest.
//!         received.extend(core::iter::from_fn(|| consumer.pop()));
//!         break;
//!     } else {
//!         std::thread::yield_now();
//!     }
//! }
//! worker.join().unwrap();
//! assert_eq!(received, (0..100).collect::<Vec<_>>());
//! # Ok::<(), ada_spsc::SlotsError>(())
//! ```
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
//!   any capacity from 1 up works (no rounding to a power of two).
//!
//! # Three ways to get the handles
//! "One producer, one consumer" is enforced by the type system in the first two:
//!
//! | how | handles | storage | when |
//! |---|---|---|---|
//! | [`Queue::owned`], [`Queue::into_split`] (feature `alloc`) | [`OwnedProducer`], [`OwnedConsumer`]: `Send + 'static` when `T: Send` | shared through an `Arc`; the last handle dropped frees it | threads of their own (`std::thread::spawn`); the other side's drop is visible ([`OwnedConsumer::is_abandoned`]) |
//! | [`Queue::split`] | [`Producer`], [`Consumer`], borrowing the queue | the queue's: owned or caller memory ([`Queue::from_uninit`], [`Queue::from_bytes`]), no allocation needed | scoped threads, `no_std` |
//! | [`Queue::producer`], [`Queue::consumer`] (`unsafe`) | [`Producer`], [`Consumer`] | the queue's | a queue embedded in a structure whose own protocol says who produces and who consumes |
//!
//! The push and pop code is the same for every kind of handle: a borrowed and an owned
//! handle wrap the same per-side state, and the owned one adds no work to an operation.
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
//! | `abandoned` (owned handles: `ada_slots::pair`) | the handle dropped first | `Release` | the other handle (`is_abandoned`) | `Acquire` | everything the dropped handle did happens-before: a consumer that sees it then pops every value pushed |
//!
//! The cached copies (`cached_head`, `cached_tail`) live in the handles. A stale cache
//! is always conservative: it can only make the queue look fuller (producer) or emptier
//! (consumer) than it is, which triggers a refresh. A handle made afresh
//! ([`Queue::producer`]) starts from one Acquire load of the other side's position. The
//! handles' `&self` queries (`len`, `free_len`, `is_empty`, `is_full`) load the other
//! side's position afresh (Acquire) and leave the cache alone. [`Queue::len`], callable
//! from any thread, loads `tail`, `head` and `tail` again (all Acquire), and retries
//! until the two loads of `tail` agree: then the pair is a state the queue was in.
//!
//! # Taking back the oldest entry
//! The ring pool's drop-oldest policy needs its producer to take back the oldest
//! submitted ring when the drain falls behind. This queue never lets a producer write the
//! consumer's position; the ring pool builds that policy on top of it with a claim that
//! both sides make by compare-and-swap on state of its own (see `docs/protocol.md`).
#![no_std]
#![warn(missing_docs)]
#![doc(test(attr(deny(warnings))))]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(any(feature = "std", loom, test))]
extern crate std;

#[cfg(feature = "alloc")]
mod owned;
mod sync;

pub use ada_slots::{Slots, SlotsError};
#[cfg(feature = "alloc")]
pub use owned::{OwnedConsumer, OwnedProducer};

use core::fmt;
use core::mem::{MaybeUninit, size_of};
use crossbeam_utils::CachePadded;
use sync::{AtomicUsize, Ordering, spin_loop};

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

    /// Allocates a queue of `capacity` entries and returns its owned producer and
    /// consumer (as `rtrb::RingBuffer::new` does): `Queue::with_capacity(capacity)?`
    /// followed by [`into_split`](Self::into_split).
    ///
    /// ```
    /// let (mut producer, mut consumer) = ada_spsc::Queue::owned(2)?;
    /// std::thread::spawn(move || producer.push('a').unwrap()).join().unwrap();
    /// assert_eq!(consumer.pop(), Some('a'));
    /// assert!(consumer.is_abandoned(), "the producer was dropped with its thread");
    /// # Ok::<(), ada_spsc::SlotsError>(())
    /// ```
    ///
    /// # Errors
    /// As [`with_capacity`](Self::with_capacity).
    #[cfg(feature = "alloc")]
    pub fn owned(capacity: usize) -> Result<(OwnedProducer<T>, OwnedConsumer<T>), SlotsError> {
        Ok(Self::with_capacity(capacity)?.into_split())
    }

    /// Moves the queue into shared storage (an `Arc`) and returns its owned producer and
    /// consumer: no lifetime ties them to the queue, so each can move to a thread of its
    /// own. The last one dropped frees the queue. Entries already queued stay queued.
    ///
    /// Works for every `Queue<'static, T>`: allocated, or in `'static` caller memory.
    ///
    /// ```
    /// let mut queue = ada_spsc::Queue::with_capacity(4)?;
    /// queue.split().0.push(1_u8).unwrap(); // borrowed handles first, then owned ones
    /// let (_producer, mut consumer) = queue.into_split();
    /// assert_eq!(consumer.pop(), Some(1));
    /// # Ok::<(), ada_spsc::SlotsError>(())
    /// ```
    #[cfg(feature = "alloc")]
    #[must_use]
    pub fn into_split(self) -> (OwnedProducer<T>, OwnedConsumer<T>) {
        owned::split(self)
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

    /// Entries in the queue at some instant during the call, from any thread, while
    /// the producer and the consumer work: always within `0..=capacity`, exact when
    /// neither side runs concurrently.
    ///
    /// The call reads the producer's position, then the consumer's, then the
    /// producer's again, and retries while the producer's moved (as crossbeam's
    /// `ArrayQueue::len` does), so it may loop while the producer keeps pushing; it is
    /// lock-free, not wait-free. Reading the two positions once each, in either order,
    /// could pair a position from before a push or pop with one from after several, and
    /// count more than the queue ever held (even more than `capacity`).
    ///
    /// Positions wrap at `2 * capacity`: should the producer push a multiple of
    /// `2 * capacity` entries between two of the call's loads (the caller's thread
    /// stalled meanwhile), the call cannot tell that from no push at all; the count it
    /// returns is then still within `0..=capacity`, but need not be one the queue held.
    /// The [handles'](Producer::len) own queries are exact at their load.
    #[must_use]
    pub fn len(&self) -> usize {
        let capacity = self.slots.len();
        // Acquire on all three loads (see docs/protocol.md, "SPSC queue"): the tail
        // load, paired with the producer's Release store, makes the head the producer
        // had seen when it pushed up to `tail` visible to the head load below, so
        // `head >= tail - capacity`; the head load, paired with the consumer's Release
        // store, makes the tail the consumer had seen when it popped up to `head` visible
        // to the second tail load, so `head <= tail` once that load finds `tail`
        // unchanged. Then `(head, tail)` is a state the queue was in.
        // mutant: spsc.len_tail_first
        let mut tail = self.producer.tail.load(Ordering::Acquire);
        loop {
            // mutant: spsc.len_head
            let head = self.consumer.head.load(Ordering::Acquire);
            // mutant: spsc.len_tail_again
            let again = self.producer.tail.load(Ordering::Acquire);
            let len = self.distance(head, tail);
            // `len > capacity` with `tail` unchanged only after a whole lap of pushes.
            if again == tail && len <= capacity {
                return len;
            }
            // The producer moved meanwhile (a yield under loom, so a model explores it).
            spin_loop();
            tail = again;
        }
    }

    /// Whether the queue was empty at some instant during the call (see
    /// [`len`](Self::len)).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Splits the queue into its producer and its consumer, which borrow it (for scoped
    /// threads, or queues in caller memory). [`into_split`](Self::into_split) makes
    /// handles that own it.
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
            state: ProducerState::new(self),
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
            state: ConsumerState::new(self),
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
}

/// Position arithmetic, shared by every kind of handle.
impl<T> Queue<'_, T> {
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

/// A producer's own state: its position and its view of the consumer's. [`Producer`]
/// and [`OwnedProducer`] both wrap one, so the push code exists once; the methods take
/// the queue the state belongs to.
#[derive(Debug)]
struct ProducerState {
    /// The producer's own copy of `tail`, so no operation loads it.
    tail: usize,
    /// The producer's last view of `head`.
    cached_head: usize,
}

impl ProducerState {
    /// The state of a new producer of `queue`.
    #[inline]
    fn new<T>(queue: &Queue<'_, T>) -> Self {
        Self {
            tail: queue.producer.tail.load(Ordering::Relaxed),
            // Acquire: as in every refresh of the cache (see `free_slots`).
            cached_head: queue.consumer.head.load(Ordering::Acquire),
        }
    }

    /// Appends `value`, or gives it back when the queue is full.
    ///
    /// # Safety
    /// `self` is `queue`'s only producer state in use, made by [`new`](Self::new) for
    /// `queue` after everything earlier producers did (so `tail` is current).
    #[inline(always)]
    unsafe fn push<T: Copy>(&mut self, queue: &Queue<'_, T>, value: T) -> Result<(), Full<T>> {
        let tail = self.tail;
        if self.free_slots(queue, 1) == 0 {
            return Err(Full(value));
        }
        // SAFETY: the slot at `tail` is free: the consumer's Release store of `head`
        // (observed through `free_slots`' Acquire load) ordered its last read of the slot
        // before this write, and this is the only producer (the caller's contract).
        unsafe { queue.slots.write(queue.slot(tail), value) };
        self.tail = queue.advance(tail, 1);
        // Release: the slot write happens-before the consumer's Acquire load of `tail`.
        // mutant: spsc.push_publish
        queue.producer.tail.store(self.tail, Ordering::Release);
        Ok(())
    }

    /// Appends as many of `values` as fit, publishing them with one store.
    ///
    /// # Safety
    /// As [`push`](Self::push).
    #[inline(always)]
    unsafe fn push_slice<T: Copy>(&mut self, queue: &Queue<'_, T>, values: &[T]) -> usize {
        let tail = self.tail;
        let count = values.len().min(self.free_slots(queue, values.len()));
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

    /// Free slots, re-reading `head` only when the cached view shows fewer than `wanted`.
    #[inline(always)]
    fn free_slots<T>(&mut self, queue: &Queue<'_, T>, wanted: usize) -> usize {
        let capacity = queue.slots.len();
        let free = capacity - queue.distance(self.cached_head, self.tail);
        if free >= wanted {
            return free;
        }
        // Acquire: pairs with the consumer's Release store of `head`, so its reads of
        // the slots it freed happen-before our writes to them.
        // mutant: spsc.producer_sees_head
        self.cached_head = queue.consumer.head.load(Ordering::Acquire);
        capacity - queue.distance(self.cached_head, self.tail)
    }

    /// Entries queued, from a fresh view of `head` (the cache is left alone): exact at
    /// the load; only the consumer changes it afterwards, and only downwards.
    #[inline]
    fn len<T>(&self, queue: &Queue<'_, T>) -> usize {
        // Acquire: as in a refresh; the count reads no slot, so this is for uniformity
        // with every other load of the opposite position.
        let head = queue.consumer.head.load(Ordering::Acquire);
        queue.distance(head, self.tail)
    }
}

/// The `&self` queries of every handle, on its side's `state.len` (a fresh load of the
/// other side's position; see [`ProducerState::len`], [`ConsumerState::len`]); written
/// once, with each side's account of how the counts can move after the load.
macro_rules! handle_queries {
    (
        $(#[$len:meta])* len;
        $(#[$free_len:meta])* free_len;
        $(#[$is_empty:meta])* is_empty;
        $(#[$is_full:meta])* is_full;
    ) => {
        $(#[$len])*
        #[inline]
        #[must_use]
        pub fn len(&self) -> usize {
            self.state.len(&*self.queue)
        }

        $(#[$free_len])*
        #[inline]
        #[must_use]
        pub fn free_len(&self) -> usize {
            self.capacity() - self.len()
        }

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
            self.free_len() == 0
        }

        /// The queue's capacity.
        #[inline]
        #[must_use]
        pub fn capacity(&self) -> usize {
            self.queue.capacity()
        }
    };
}
pub(crate) use handle_queries;

/// The producer's operations and queries, written once for [`Producer`] and
/// [`OwnedProducer`]: each holds `queue` (a reference to its queue, or the pair end that
/// owns it; both dereference to the queue) and `state`, its [`ProducerState`].
macro_rules! producer_api {
    ($handle:ty) => {
        impl<T: Copy> $handle {
            /// Appends `value`, or gives it back when the queue is full. An owned
            /// producer's push succeeds even when its consumer is gone (checking would
            /// put a load on every push).
            ///
            /// # Errors
            /// [`Full`](crate::Full) with the value, when no slot is free.
            #[inline]
            pub fn push(&mut self, value: T) -> Result<(), $crate::Full<T>> {
                // SAFETY: this handle's state is the queue's only producer state in use,
                // made for this queue: a borrowed handle's by the contract of `split` or
                // `producer`, an owned handle's because `into_split` made one and the
                // handle can be neither cloned nor shared.
                unsafe { self.state.push(&*self.queue, value) }
            }

            /// Appends as many of `values` as fit, publishing them with one store;
            /// returns how many were appended.
            #[inline]
            pub fn push_slice(&mut self, values: &[T]) -> usize {
                // SAFETY: as in `push`.
                unsafe { self.state.push_slice(&*self.queue, values) }
            }

            $crate::handle_queries! {
                /// Entries queued: exact at the call's load of the consumer's position,
                /// and at most as many afterwards (only the consumer takes entries).
                len;
                /// Free slots: exact at the call's load, at least as many afterwards.
                free_len;
                /// Whether nothing is queued (stays true until this producer pushes).
                is_empty;
                /// Whether no slot was free at the call's load (a [`push`](Self::push)
                /// now may still succeed if the consumer has popped since).
                is_full;
            }
        }
    };
}
// For the owned handles (`owned.rs`).
#[cfg(feature = "alloc")]
pub(crate) use producer_api;

/// The single producer of a [`Queue`], borrowing it (from [`Queue::split`] or
/// [`Queue::producer`]). [`OwnedProducer`] is the form that owns its queue.
///
/// The `&self` queries load the consumer's position afresh; from the producer's side
/// the queue can only become emptier than they say.
///
/// ```
/// let mut queue = ada_spsc::Queue::with_capacity(1)?;
/// let (mut producer, _consumer) = queue.split();
/// assert_eq!(producer.push('a'), Ok(()));
/// assert_eq!(producer.push('b'), Err(ada_spsc::Full('b')));
/// assert!(producer.is_full());
/// # Ok::<(), ada_spsc::SlotsError>(())
/// ```
pub struct Producer<'q, 'buf, T> {
    queue: &'q Queue<'buf, T>,
    state: ProducerState,
}

producer_api!(Producer<'_, '_, T>);

impl<T> fmt::Debug for Producer<'_, '_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Producer")
            .field("queue", self.queue)
            .finish()
    }
}

/// A consumer's own state: its position and its view of the producer's. [`Consumer`]
/// and [`OwnedConsumer`] both wrap one, so the pop code exists once.
#[derive(Debug)]
struct ConsumerState {
    /// The consumer's own copy of `head`, so no operation loads it.
    head: usize,
    /// The consumer's last view of `tail`.
    cached_tail: usize,
}

impl ConsumerState {
    /// The state of a new consumer of `queue`.
    #[inline]
    fn new<T>(queue: &Queue<'_, T>) -> Self {
        Self {
            head: queue.consumer.head.load(Ordering::Relaxed),
            // Acquire: as in every refresh of the cache (see `available`).
            cached_tail: queue.producer.tail.load(Ordering::Acquire),
        }
    }

    /// Takes the oldest entry, if any.
    ///
    /// # Safety
    /// `self` is `queue`'s only consumer state in use, made by [`new`](Self::new) for
    /// `queue` after everything earlier consumers did (so `head` is current).
    #[inline(always)]
    unsafe fn pop<T: Copy>(&mut self, queue: &Queue<'_, T>) -> Option<T> {
        let head = self.head;
        if self.available(queue, 1) == 0 {
            return None;
        }
        // SAFETY: the slot at `head` was written before the producer's Release store of
        // `tail` that `available` observed with Acquire; the producer does not rewrite it
        // until our Release store of `head` below; this is the only consumer.
        let value = unsafe { queue.slots.read(queue.slot(head)) };
        self.head = queue.advance(head, 1);
        // Release: our read of the slot happens-before the producer reuses it.
        // mutant: spsc.pop_publish
        queue.consumer.head.store(self.head, Ordering::Release);
        Some(value)
    }

    /// The oldest entry, in place.
    ///
    /// # Safety
    /// As [`pop`](Self::pop); and the caller ties the reference to a borrow of the
    /// handle that owns `self`, so `head` cannot move (which takes `&mut`) while the
    /// reference lives.
    #[inline(always)]
    unsafe fn peek<'q, T: Copy>(&self, queue: &'q Queue<'_, T>) -> Option<&'q T> {
        // Acquire: as in `available`; the cache is not updated (`&self`).
        if self.cached_tail == self.head && queue.producer.tail.load(Ordering::Acquire) == self.head
        {
            return None;
        }
        let slot = queue.slot(self.head);
        // SAFETY: the slot at `head` is published (as in `pop`), and the producer does
        // not rewrite it until `head` moves past it, which the caller's borrow prevents
        // for the reference's lifetime.
        Some(unsafe { &queue.slots.slice(slot, slot + 1)[0] })
    }

    /// Takes up to `out.len()` entries into `out`, with one store.
    ///
    /// # Safety
    /// As [`pop`](Self::pop).
    #[inline(always)]
    unsafe fn pop_slice<T: Copy>(&mut self, queue: &Queue<'_, T>, out: &mut [T]) -> usize {
        let head = self.head;
        let count = out.len().min(self.available(queue, out.len()));
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

    /// Entries ready, re-reading `tail` only when the cached view shows fewer than
    /// `wanted`.
    #[inline(always)]
    fn available<T>(&mut self, queue: &Queue<'_, T>, wanted: usize) -> usize {
        let ready = queue.distance(self.head, self.cached_tail);
        if ready >= wanted {
            return ready;
        }
        // Acquire: pairs with the producer's Release store of `tail`, so the slots it
        // counts are fully written.
        // mutant: spsc.consumer_sees_tail
        self.cached_tail = queue.producer.tail.load(Ordering::Acquire);
        queue.distance(self.head, self.cached_tail)
    }

    /// Entries ready, from a fresh view of `tail` (the cache is left alone): exact at
    /// the load; only the producer changes it afterwards, and only upwards.
    #[inline]
    fn len<T>(&self, queue: &Queue<'_, T>) -> usize {
        // Acquire: as in a refresh (uniform with every load of the opposite position).
        let tail = queue.producer.tail.load(Ordering::Acquire);
        queue.distance(self.head, tail)
    }
}

/// The consumer's operations and queries, written once for [`Consumer`] and
/// [`OwnedConsumer`]: each holds `queue` (a reference to its queue, or the pair end that
/// owns it; both dereference to the queue) and `state`, its [`ConsumerState`].
macro_rules! consumer_api {
    ($handle:ty) => {
        impl<T: Copy> $handle {
            /// Takes the oldest entry, if any.
            #[inline]
            pub fn pop(&mut self) -> Option<T> {
                // SAFETY: this handle's state is the queue's only consumer state in use,
                // made for this queue: a borrowed handle's by the contract of `split` or
                // `consumer`, an owned handle's because `into_split` made one and the
                // handle can be neither cloned nor shared.
                unsafe { self.state.pop(&*self.queue) }
            }

            /// The oldest entry, in place, without taking it. The reference borrows the
            /// consumer, so the entry cannot be popped (and its slot reused) while it
            /// lives.
            #[inline]
            #[must_use]
            pub fn peek(&self) -> Option<&T> {
                // SAFETY: as in `pop`; the reference borrows `self`, so `head` stays put.
                unsafe { self.state.peek(&*self.queue) }
            }

            /// Takes up to `out.len()` entries into `out`, with one store; returns how
            /// many.
            #[inline]
            pub fn pop_slice(&mut self, out: &mut [T]) -> usize {
                // SAFETY: as in `pop`.
                unsafe { self.state.pop_slice(&*self.queue, out) }
            }

            $crate::handle_queries! {
                /// Entries ready to take: exact at the call's load of the producer's
                /// position, and at least as many afterwards (only the producer adds
                /// entries).
                len;
                /// Free slots: exact at the call's load, at most as many afterwards.
                free_len;
                /// Whether no entry was ready at the call's load (one may have arrived
                /// since).
                is_empty;
                /// Whether the queue is full (stays true until this consumer pops).
                is_full;
            }
        }
    };
}
// For the owned handles (`owned.rs`).
#[cfg(feature = "alloc")]
pub(crate) use consumer_api;

/// The single consumer of a [`Queue`], borrowing it (from [`Queue::split`] or
/// [`Queue::consumer`]). [`OwnedConsumer`] is the form that owns its queue.
///
/// The `&self` queries load the producer's position afresh; from the consumer's side
/// the queue can only become fuller than they say.
///
/// ```
/// let mut queue = ada_spsc::Queue::with_capacity(2)?;
/// let (mut producer, mut consumer) = queue.split();
/// assert_eq!(consumer.pop(), None::<[u8; 64]>);
/// producer.push([7; 64]).unwrap();
/// assert_eq!(consumer.peek().map(|value| value[0]), Some(7));
/// assert_eq!(consumer.len(), 1, "peeking takes nothing");
/// assert_eq!(consumer.pop().map(|value| value[63]), Some(7));
/// # Ok::<(), ada_spsc::SlotsError>(())
/// ```
pub struct Consumer<'q, 'buf, T> {
    queue: &'q Queue<'buf, T>,
    state: ConsumerState,
}

consumer_api!(Consumer<'_, '_, T>);

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
