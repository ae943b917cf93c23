//! Owned handles (feature `alloc`): the queue shared by its producer and its consumer,
//! so each can move to a thread of its own, and told when its partner was dropped.
//!
//! Each handle is an [`ada_slots::pair::PairEnd`] over the queue (the `Arc`, the freeing
//! with the last handle and the abandonment flag, written once there) plus the same
//! per-side state as the borrowed [`Producer`](crate::Producer) and
//! [`Consumer`](crate::Consumer), whose operations it shares (`producer_api!`,
//! `consumer_api!`); the only extra step of an operation is reaching the queue through
//! the `Arc` instead of through a reference (one pointer either way).

use crate::{ConsumerState, ProducerState, Queue, consumer_api, producer_api};
use ada_slots::pair::PairEnd;
use core::fmt;

/// Moves `queue` into shared storage and makes its two owned handles.
pub(crate) fn split<T: Copy>(queue: Queue<'static, T>) -> (OwnedProducer<T>, OwnedConsumer<T>) {
    let (producer, consumer) = (ProducerState::new(&queue), ConsumerState::new(&queue));
    let (producer_end, consumer_end) = PairEnd::pair(queue);
    let producer = OwnedProducer {
        queue: producer_end,
        state: producer,
    };
    let consumer = OwnedConsumer {
        queue: consumer_end,
        state: consumer,
    };
    (producer, consumer)
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
    /// The queue, shared with the consumer; dereferences to it.
    queue: PairEnd<Queue<'static, T>>,
    state: ProducerState,
}

producer_api!(OwnedProducer<T>);

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
        self.queue.is_abandoned()
    }
}

impl<T> fmt::Debug for OwnedProducer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.queue.fmt_handle(f, "OwnedProducer", "queue")
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
    /// The queue, shared with the producer; dereferences to it.
    queue: PairEnd<Queue<'static, T>>,
    state: ConsumerState,
}

consumer_api!(OwnedConsumer<T>);

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
        self.queue.is_abandoned()
    }
}

impl<T> fmt::Debug for OwnedConsumer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.queue.fmt_handle(f, "OwnedConsumer", "queue")
    }
}
