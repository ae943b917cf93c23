//! Owned handles (feature `alloc`): the queue in an `Arc` shared by its producer and its
//! consumer, so each can move to a thread of its own, plus the flag that tells a handle
//! its partner was dropped.
//!
//! The handles wrap the same per-side state as the borrowed [`Producer`](crate::Producer)
//! and [`Consumer`](crate::Consumer); the only extra step of an operation is reaching the
//! queue through the `Arc` instead of through a reference (one pointer either way).

use crate::sync::{Arc, AtomicBool, Ordering};
use crate::{ConsumerState, Full, ProducerState, Queue};
use core::cell::Cell;
use core::fmt;
use core::marker::PhantomData;

/// What the two owned handles share.
pub(crate) struct Shared<T> {
    queue: Queue<'static, T>,
    /// Set by the first handle dropped; only the other one reads it.
    abandoned: AtomicBool,
}

/// Makes `Send` handles `!Sync`: a handle is one side's private state, used by one
/// thread at a time (and may cache through `&self` in a later version).
type NotSync = PhantomData<Cell<()>>;

/// Moves `queue` into shared storage and makes its two owned handles.
pub(crate) fn split<T: Copy>(queue: Queue<'static, T>) -> (OwnedProducer<T>, OwnedConsumer<T>) {
    let producer = ProducerState::new(&queue);
    let consumer = ConsumerState::new(&queue);
    let shared = Arc::new(Shared {
        queue,
        abandoned: AtomicBool::new(false),
    });
    (
        OwnedProducer {
            shared: Arc::clone(&shared),
            state: producer,
            _not_sync: PhantomData,
        },
        OwnedConsumer {
            shared,
            state: consumer,
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
        // Release: this handle's operations (the slot writes of its pushes, the slot
        // reads of its pops) happen-before the partner's Acquire load that sees the flag.
        self.abandoned.store(true, Ordering::Release);
    }
}

/// The single producer of a queue it co-owns with its [`OwnedConsumer`]: made by
/// [`Queue::owned`] or [`Queue::into_split`], `Send + 'static` when `T` is, so it can
/// move into `std::thread::spawn`. The last of the two handles dropped frees the queue.
///
/// Operations are those of the borrowed [`Producer`](crate::Producer), and so is their
/// code; [`is_abandoned`](Self::is_abandoned) says whether the consumer was dropped.
///
/// It moves to another thread, but is neither shared between threads nor cloned:
///
/// ```
/// fn spawnable<H: Send + 'static>(_: &H) {}
/// let (producer, consumer) = ada_spsc::Queue::<u32>::owned(1)?;
/// spawnable(&producer);
/// spawnable(&consumer);
/// # Ok::<(), ada_spsc::SlotsError>(())
/// ```
///
/// ```compile_fail,E0277
/// fn shared<H: Sync>(_: &H) {}
/// let (producer, _consumer) = ada_spsc::Queue::<u32>::owned(1).unwrap();
/// shared(&producer); // `OwnedProducer` is not `Sync`
/// ```
///
/// ```compile_fail,E0599
/// let (producer, _consumer) = ada_spsc::Queue::<u32>::owned(1).unwrap();
/// let second = producer.clone(); // one producer per queue
/// ```
///
/// ```compile_fail,E0277
/// fn sendable<H: Send>(_: H) {}
/// let (producer, _consumer) = ada_spsc::Queue::<*const u8>::owned(1).unwrap();
/// sendable(producer); // `*const u8` is not `Send`, so neither is its producer
/// ```
pub struct OwnedProducer<T> {
    /// Crate-visible for the tests that watch the storage being freed.
    pub(crate) shared: Arc<Shared<T>>,
    state: ProducerState,
    _not_sync: NotSync,
}

impl<T: Copy> OwnedProducer<T> {
    /// Appends `value`, or gives it back when the queue is full, as
    /// [`Producer::push`](crate::Producer::push). Succeeds even when the consumer is gone
    /// (checking would put a load on every push; see [`is_abandoned`](Self::is_abandoned)).
    ///
    /// # Errors
    /// [`Full`] with the value, when no slot is free.
    #[inline]
    pub fn push(&mut self, value: T) -> Result<(), Full<T>> {
        // SAFETY: this handle's state is the queue's only producer state (`split` made
        // one, and the handle can be neither cloned nor shared), made for this queue.
        unsafe { self.state.push(&self.shared.queue, value) }
    }

    /// Appends as many of `values` as fit, with one store; returns how many.
    #[inline]
    pub fn push_slice(&mut self, values: &[T]) -> usize {
        // SAFETY: as in `push`.
        unsafe { self.state.push_slice(&self.shared.queue, values) }
    }

    /// Free slots: exact at the call's load, at least as many afterwards.
    #[inline]
    #[must_use]
    pub fn free_len(&self) -> usize {
        self.capacity() - self.len()
    }

    /// Entries queued: exact at the call's load, at most as many afterwards.
    #[inline]
    #[must_use]
    pub fn len(&self) -> usize {
        self.state.len(&self.shared.queue)
    }

    /// Whether nothing is queued (stays true until this producer pushes).
    #[inline]
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether no slot was free at the call's load.
    #[inline]
    #[must_use]
    pub fn is_full(&self) -> bool {
        self.free_len() == 0
    }

    /// The queue's capacity.
    #[inline]
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.shared.queue.capacity()
    }
}

impl<T> OwnedProducer<T> {
    /// Whether the consumer was dropped: nothing pushed from now on will be read.
    ///
    /// `false` can turn `true` at any moment (the consumer may be dropped concurrently);
    /// `true` stays `true`, and then every pop the consumer made happens-before this
    /// producer's next operation (Acquire, paired with the consumer's drop).
    ///
    /// ```
    /// let (mut producer, consumer) = ada_spsc::Queue::owned(1)?;
    /// assert!(!producer.is_abandoned());
    /// drop(consumer);
    /// assert!(producer.is_abandoned());
    /// assert_eq!(producer.push(1_u8), Ok(()), "futile, but still accepted");
    /// # Ok::<(), ada_spsc::SlotsError>(())
    /// ```
    #[inline]
    #[must_use]
    pub fn is_abandoned(&self) -> bool {
        self.shared.is_abandoned()
    }
}

impl<T> Drop for OwnedProducer<T> {
    fn drop(&mut self) {
        self.shared.abandon();
    }
}

impl<T> fmt::Debug for OwnedProducer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedProducer")
            .field("queue", &self.shared.queue)
            .field("abandoned", &self.is_abandoned())
            .finish()
    }
}

/// The single consumer of a queue it co-owns with its [`OwnedProducer`]: made by
/// [`Queue::owned`] or [`Queue::into_split`], `Send + 'static` when `T` is. The last of
/// the two handles dropped frees the queue.
///
/// Operations are those of the borrowed [`Consumer`](crate::Consumer), and so is their
/// code; [`is_abandoned`](Self::is_abandoned) says whether the producer was dropped.
///
/// ```compile_fail,E0277
/// fn shared<H: Sync>(_: &H) {}
/// let (_producer, consumer) = ada_spsc::Queue::<u32>::owned(1).unwrap();
/// shared(&consumer); // `OwnedConsumer` is not `Sync`
/// ```
///
/// ```compile_fail,E0599
/// let (_producer, consumer) = ada_spsc::Queue::<u32>::owned(1).unwrap();
/// let second = consumer.clone(); // one consumer per queue
/// ```
pub struct OwnedConsumer<T> {
    /// Crate-visible for the tests that watch the storage being freed.
    pub(crate) shared: Arc<Shared<T>>,
    state: ConsumerState,
    _not_sync: NotSync,
}

impl<T: Copy> OwnedConsumer<T> {
    /// Takes the oldest entry, if any, as [`Consumer::pop`](crate::Consumer::pop).
    #[inline]
    pub fn pop(&mut self) -> Option<T> {
        // SAFETY: this handle's state is the queue's only consumer state (`split` made
        // one, and the handle can be neither cloned nor shared), made for this queue.
        unsafe { self.state.pop(&self.shared.queue) }
    }

    /// The oldest entry, in place, without taking it; the reference borrows the
    /// consumer, so the entry cannot be popped while it lives.
    #[inline]
    #[must_use]
    pub fn peek(&self) -> Option<&T> {
        // SAFETY: as in `pop`; the reference borrows `self`, so `head` stays put.
        unsafe { self.state.peek(&self.shared.queue) }
    }

    /// Takes up to `out.len()` entries into `out`, with one store; returns how many.
    #[inline]
    pub fn pop_slice(&mut self, out: &mut [T]) -> usize {
        // SAFETY: as in `pop`.
        unsafe { self.state.pop_slice(&self.shared.queue, out) }
    }

    /// Entries ready to take: exact at the call's load, at least as many afterwards.
    #[inline]
    #[must_use]
    pub fn len(&self) -> usize {
        self.state.len(&self.shared.queue)
    }

    /// Free slots: exact at the call's load, at most as many afterwards.
    #[inline]
    #[must_use]
    pub fn free_len(&self) -> usize {
        self.capacity() - self.len()
    }

    /// Whether no entry was ready at the call's load.
    #[inline]
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the queue is full (stays true until this consumer pops).
    #[inline]
    #[must_use]
    pub fn is_full(&self) -> bool {
        self.free_len() == 0
    }

    /// The queue's capacity.
    #[inline]
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.shared.queue.capacity()
    }
}

impl<T> OwnedConsumer<T> {
    /// Whether the producer was dropped: nothing more will be pushed.
    ///
    /// `false` can turn `true` at any moment; `true` stays `true`, and then every push
    /// the producer made happens-before this consumer's next operation (Acquire, paired
    /// with the producer's drop): popping until `None` takes everything that is left.
    /// (`rtrb`'s `is_abandoned` needs an Acquire fence from its caller for that.)
    ///
    /// ```
    /// let (mut producer, mut consumer) = ada_spsc::Queue::owned(4)?;
    /// std::thread::spawn(move || {
    ///     producer.push_slice(&[1, 2, 3]);
    /// });
    /// while !consumer.is_abandoned() {
    ///     std::thread::yield_now();
    /// }
    /// let mut rest = [0; 4];
    /// assert_eq!(consumer.pop_slice(&mut rest), 3, "every value pushed is visible");
    /// # Ok::<(), ada_spsc::SlotsError>(())
    /// ```
    #[inline]
    #[must_use]
    pub fn is_abandoned(&self) -> bool {
        self.shared.is_abandoned()
    }
}

impl<T> Drop for OwnedConsumer<T> {
    fn drop(&mut self) {
        self.shared.abandon();
    }
}

impl<T> fmt::Debug for OwnedConsumer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedConsumer")
            .field("queue", &self.shared.queue)
            .field("abandoned", &self.is_abandoned())
            .finish()
    }
}
