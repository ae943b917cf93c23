//! Unit tests of the SPSC queue: borrowed, owned and caller-memory forms, wraparound,
//! batches, queries and abandonment.

#![allow(non_snake_case)]

use super::*;
use rstest::rstest;
use std::vec::Vec;

const LARGE: usize = if cfg!(miri) { 5000 } else { 1 << 20 };

#[rstest]
#[case(1)]
#[case(2)]
#[case(3)]
#[case(7)]
#[case(1023)]
#[case(1024)]
#[case(LARGE)]
fn spsc__enqueue_single__then_dequeue_matches(#[case] capacity: usize) {
    let mut queue = Queue::with_capacity(capacity).unwrap();
    let (mut producer, mut consumer) = queue.split();
    producer.push(42_u64).unwrap();
    assert_eq!(consumer.peek(), Some(&42));
    assert_eq!(consumer.pop(), Some(42));
    assert_eq!(consumer.pop(), None);
}

#[rstest]
#[case(1)]
#[case(2)]
#[case(3)]
#[case(7)]
#[case(1023)]
#[case(1024)]
fn spsc__queue_full__then_enqueue_fails(#[case] capacity: usize) {
    let mut queue = Queue::with_capacity(capacity).unwrap();
    let (mut producer, mut consumer) = queue.split();
    for i in 0..capacity {
        producer.push(i).unwrap();
    }
    assert_eq!(producer.free_len(), 0);
    assert_eq!(producer.push(usize::MAX), Err(Full(usize::MAX)));
    assert_eq!(producer.push_slice(&[1, 2]), 0);
    assert_eq!(consumer.len(), capacity);
    assert_eq!(consumer.pop(), Some(0));
    producer.push(capacity).unwrap();
    assert_eq!(producer.push(0), Err(Full(0)));
}

#[rstest]
#[case(1)]
#[case(3)]
#[case(1024)]
fn spsc__queue_empty__then_dequeue_fails(#[case] capacity: usize) {
    let mut queue = Queue::<u8>::with_capacity(capacity).unwrap();
    let (_producer, mut consumer) = queue.split();
    assert_eq!(consumer.pop(), None);
    assert_eq!(consumer.peek(), None);
    assert_eq!(consumer.pop_slice(&mut [0; 4]), 0);
    assert!(consumer.is_empty());
}

#[rstest]
#[case(1)]
#[case(2)]
#[case(3)]
#[case(7)]
#[case(1023)]
#[case(1024)]
fn spsc__many_laps__then_fifo_across_wraparound(#[case] capacity: usize) {
    let mut queue = Queue::with_capacity(capacity).unwrap();
    let (mut producer, mut consumer) = queue.split();
    let mut next_in = 0_u64;
    let mut next_out = 0_u64;
    // Ten laps of the 0..2*capacity position circle, in uneven steps.
    let total = 20 * capacity as u64 + 13;
    let mut step = 1;
    while next_out < total {
        for _ in 0..step {
            if next_in < total && producer.push(next_in).is_ok() {
                next_in += 1;
            }
        }
        for _ in 0..(step + 1) / 2 {
            if let Some(v) = consumer.pop() {
                assert_eq!(v, next_out);
                next_out += 1;
            }
        }
        assert!(consumer.len() <= capacity);
        step = step % 5 + 1;
    }
}

#[rstest]
#[case(1, 3)]
#[case(3, 2)]
#[case(7, 10)]
#[case(1024, 1000)]
fn spsc__batches_larger_than_free_space__then_partial_and_ordered(
    #[case] capacity: usize,
    #[case] batch: usize,
) {
    let mut queue = Queue::with_capacity(capacity).unwrap();
    let (mut producer, mut consumer) = queue.split();
    let mut next_in = 0_u32;
    let mut next_out = 0_u32;
    let mut out = std::vec![0_u32; batch];
    for _ in 0..50 {
        let values: Vec<u32> = (next_in..next_in + batch as u32).collect();
        let pushed = producer.push_slice(&values);
        assert!(pushed <= batch.min(capacity));
        next_in += pushed as u32;
        assert_eq!(consumer.len(), (next_in - next_out) as usize);
        let popped = consumer.pop_slice(&mut out[..batch.div_ceil(2)]);
        for v in &out[..popped] {
            assert_eq!(*v, next_out);
            next_out += 1;
        }
    }
    assert!(next_out > 0);
}

#[test]
fn spsc__caller_memory_and_bad_input__then_typed_errors() {
    let mut memory = [core::mem::MaybeUninit::<u64>::uninit(); 2];
    let mut queue = Queue::from_uninit(&mut memory).unwrap();
    let (mut producer, mut consumer) = queue.split();
    assert_eq!(producer.push_slice(&[1, 2, 3]), 2);
    assert_eq!(consumer.pop(), Some(1));
    assert_eq!(
        Queue::<u8>::with_capacity(0).unwrap_err(),
        SlotsError::ZeroLength
    );
    assert!(matches!(
        Queue::<[u8; 16]>::with_capacity(usize::MAX / 8),
        Err(SlotsError::TooLarge { .. })
    ));
    assert!(matches!(
        Queue::<()>::with_capacity(usize::MAX / 2),
        Err(SlotsError::TooLarge { .. })
    ));
    let mut bytes = [core::mem::MaybeUninit::<u8>::uninit(); 8];
    assert!(matches!(
        Queue::<u64>::from_bytes(&mut bytes, 2),
        Err(SlotsError::TooSmall { .. } | SlotsError::Misaligned { .. })
    ));
}

#[test]
fn constructors__empty_or_byte_region__then_typed_error_or_working_queue() {
    assert_eq!(
        Queue::<u8>::owned(0).map(|_| ()).unwrap_err(),
        SlotsError::ZeroLength,
        "the owned pair reports the allocation's error"
    );
    let mut nothing: [core::mem::MaybeUninit<u32>; 0] = [];
    assert_eq!(
        Queue::from_uninit(&mut nothing).map(|_| ()).unwrap_err(),
        SlotsError::ZeroLength
    );
    let mut region = [core::mem::MaybeUninit::<u64>::uninit(); 3];
    // SAFETY: 24 bytes of `MaybeUninit<u64>` viewed as `MaybeUninit<u8>`: no invalid
    // byte patterns, 8-aligned, borrowed exclusively for the queue's lifetime.
    let bytes: &mut [core::mem::MaybeUninit<u8>] =
        unsafe { core::slice::from_raw_parts_mut(region.as_mut_ptr().cast(), 24) };
    let mut queue = Queue::<u64>::from_bytes(bytes, 3).unwrap();
    assert_eq!(queue.capacity(), 3);
    let (mut producer, mut consumer) = queue.split();
    assert_eq!(producer.push_slice(&[7, 8, 9, 10]), 3);
    assert_eq!((consumer.pop(), consumer.pop()), (Some(7), Some(8)));
}

#[test]
fn spsc__reset__then_empty_and_caches_cleared() {
    let mut queue = Queue::with_capacity(3).unwrap();
    {
        let (mut producer, mut consumer) = queue.split();
        producer.push_slice(&[1, 2, 3]);
        consumer.pop();
    }
    queue.reset();
    assert!(queue.is_empty());
    let (mut producer, mut consumer) = queue.split();
    assert_eq!(producer.free_len(), 3);
    assert_eq!(consumer.pop(), None);
    producer.push(7).unwrap();
    assert_eq!(consumer.pop(), Some(7));
}

#[test]
fn spsc__sides__then_separate_cache_lines() {
    let queue = Queue::<u32>::with_capacity(4).unwrap();
    let producer = core::ptr::addr_of!(queue.producer) as usize;
    let consumer = core::ptr::addr_of!(queue.consumer) as usize;
    assert!(producer.abs_diff(consumer) >= core::mem::align_of::<CachePadded<u8>>());
    assert!(core::mem::align_of::<CachePadded<u8>>() >= 64);
}

// One test runs the capacities in turn: parallel spinning pairs starve each other on a
// two-core machine.
#[test]
fn spsc__concurrent_operations__then_fifo_order() {
    for capacity in [1, 3, 1024] {
        concurrent_fifo(capacity);
    }
}

fn concurrent_fifo(capacity: usize) {
    const ITEMS: u64 = if cfg!(miri) { 300 } else { 100_000 };
    let mut queue = Queue::with_capacity(capacity).unwrap();
    std::thread::scope(|s| {
        let (mut producer, mut consumer) = queue.split();
        s.spawn(move || {
            let mut next = 0;
            while next < ITEMS {
                if next % 3 == 0 {
                    let batch: Vec<u64> = (next..(next + 5).min(ITEMS)).collect();
                    next += producer.push_slice(&batch) as u64;
                } else if producer.push(next).is_ok() {
                    next += 1;
                } else {
                    std::thread::yield_now();
                }
            }
        });
        let mut expected = 0;
        let mut out = [0_u64; 4];
        while expected < ITEMS {
            let n = if expected % 2 == 0 {
                consumer.pop_slice(&mut out)
            } else {
                consumer.pop().map(|v| out[0] = v).map_or(0, |()| 1)
            };
            for v in &out[..n] {
                assert_eq!(*v, expected, "every value once, in order");
                expected += 1;
            }
            if n == 0 {
                std::thread::yield_now();
            }
        }
        assert_eq!(consumer.pop(), None);
    });
}

/// `Queue::len` from a third thread while both sides work: never more than the
/// capacity (the loom model `loom__len_on_third_thread_…` checks every interleaving;
/// this one runs the real thing, and under Miri its weak memory).
#[test]
fn queue_len__third_thread_while_both_sides_work__then_within_capacity() {
    const ITEMS: u32 = if cfg!(miri) { 200 } else { 20_000 };
    let queue = Queue::<u32>::with_capacity(2).unwrap();
    let done = &core::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        // SAFETY: this thread is the queue's only producer.
        let mut producer = unsafe { queue.producer() };
        // SAFETY: this thread is the queue's only consumer.
        let mut consumer = unsafe { queue.consumer() };
        s.spawn(move || {
            for value in 0..ITEMS {
                while producer.push(value).is_err() {
                    std::thread::yield_now();
                }
            }
        });
        s.spawn(move || {
            for expected in 0..ITEMS {
                loop {
                    match consumer.pop() {
                        Some(value) => break assert_eq!(value, expected),
                        None => std::thread::yield_now(),
                    }
                }
            }
            // Release: the consumer's last pop happens-before the main thread's final
            // `len` below (which must then see the queue empty).
            done.store(true, core::sync::atomic::Ordering::Release);
        });
        while !done.load(core::sync::atomic::Ordering::Acquire) {
            let len = queue.len();
            assert!(len <= 2, "len {len} in a queue of capacity 2");
            std::thread::yield_now(); // spinning threads starve each other on two cores
        }
        assert_eq!(queue.len(), 0);
    });
}

#[test]
fn spsc__debug_display_and_capacity__then_describe_the_queue() {
    use std::string::ToString;
    let mut queue = Queue::<u64>::with_capacity(3).unwrap();
    assert_eq!(queue.capacity(), 3);
    let (mut producer, consumer) = queue.split();
    assert_eq!((producer.capacity(), consumer.capacity()), (3, 3));
    producer.push(1).unwrap();
    let debug = std::format!("{producer:?} {consumer:?}");
    assert!(
        debug.contains("capacity: 3") && debug.contains("tail: 1"),
        "{debug}"
    );
    assert_eq!(Full(5_u8).to_string(), "the queue is full");
}

#[test]
fn peek__entry_present__then_reference_to_oldest_in_place_and_nothing_taken() {
    let mut queue = Queue::with_capacity(2).unwrap();
    let (mut producer, mut consumer) = queue.split();
    producer.push_slice(&[[1_u8; 32], [2; 32]]);
    let peeked: *const [u8; 32] = consumer.peek().unwrap();
    // SAFETY: one thread; slot 0 holds the oldest entry and nothing rewrote it.
    let slot0: *const [u8; 32] = unsafe { queue_slot_ptr(&consumer, 0) };
    assert_eq!(peeked, slot0, "a reference into the slot, not a copy");
    assert_eq!(consumer.len(), 2, "peeking takes nothing");
    assert_eq!(consumer.pop(), Some([1; 32]));
    assert_eq!(consumer.peek(), Some(&[2; 32]));
    assert_eq!(consumer.pop(), Some([2; 32]));
    assert_eq!(consumer.peek(), None);
}

/// The address of slot `index` of the queue a consumer reads.
///
/// # Safety
/// Slot `index` has been written and is not written concurrently.
unsafe fn queue_slot_ptr<T: Copy>(consumer: &Consumer<'_, '_, T>, index: usize) -> *const T {
    // SAFETY: the caller's contract.
    unsafe { consumer.queue.slots.slice(index, index + 1).as_ptr() }
}

#[test]
fn peek__producer_published_after_consumer_cache__then_sees_entry() {
    let mut queue = Queue::with_capacity(3).unwrap();
    let (mut producer, mut consumer) = queue.split();
    assert_eq!(consumer.pop(), None, "the consumer caches an empty view");
    producer.push(5_u32).unwrap();
    assert_eq!(consumer.peek(), Some(&5), "peek looks past a stale cache");
}

#[rstest]
#[case(1)]
#[case(3)]
#[case(7)]
fn queries__shared_reference__then_both_sides_agree_on_len_and_free(#[case] capacity: usize) {
    let mut queue = Queue::with_capacity(capacity).unwrap();
    let (mut producer, mut consumer) = queue.split();
    let (p, c) = (&producer, &consumer);
    assert!(p.is_empty() && c.is_empty() && !p.is_full() && !c.is_full());
    assert_eq!((p.free_len(), c.free_len()), (capacity, capacity));
    for pushed in 1..=capacity {
        producer.push(pushed).unwrap();
        let (p, c) = (&producer, &consumer);
        assert_eq!((p.len(), c.len()), (pushed, pushed));
        assert_eq!(
            (p.free_len(), c.free_len()),
            (capacity - pushed, capacity - pushed)
        );
        assert!(!p.is_empty() && !c.is_empty());
    }
    assert!(producer.is_full() && consumer.is_full());
    consumer.pop().unwrap();
    assert!(!producer.is_full(), "a fresh load sees the pop");
    assert_eq!(producer.free_len(), 1);
}

#[test]
fn owned_producer__moved_into_spawned_thread__then_consumer_gets_every_value_in_order() {
    const ITEMS: u64 = if cfg!(miri) { 200 } else { 100_000 };
    let (mut producer, mut consumer) = Queue::owned(3).unwrap();
    let worker = std::thread::spawn(move || {
        let mut next = 0;
        while next < ITEMS {
            if next % 4 == 0 {
                let batch: Vec<u64> = (next..(next + 3).min(ITEMS)).collect();
                next += producer.push_slice(&batch) as u64;
            } else if producer.push(next).is_ok() {
                next += 1;
            } else {
                std::thread::yield_now();
            }
        }
    });
    let mut expected = 0;
    let mut out = [0_u64; 2];
    loop {
        let n = if expected % 3 == 0 {
            consumer.pop_slice(&mut out)
        } else {
            consumer.pop().map(|v| out[0] = v).map_or(0, |()| 1)
        };
        for v in &out[..n] {
            assert_eq!(*v, expected, "every value once, in order");
            expected += 1;
        }
        if n == 0 {
            if consumer.is_abandoned() && consumer.is_empty() {
                break;
            }
            std::thread::yield_now();
        }
    }
    worker.join().unwrap();
    assert_eq!(expected, ITEMS);
}

#[test]
fn owned_handles__queries_on_both_sides__then_agree_as_the_queue_fills_and_empties() {
    let (mut producer, mut consumer) = Queue::<u32>::owned(3).unwrap();
    assert_eq!((producer.capacity(), consumer.capacity()), (3, 3));
    assert!(producer.is_empty() && consumer.is_empty());
    assert_eq!((producer.free_len(), consumer.free_len()), (3, 3));
    assert_eq!(producer.push_slice(&[1, 2, 3, 4]), 3, "as many as fit");
    assert!(producer.is_full() && consumer.is_full());
    assert_eq!((producer.len(), consumer.len()), (3, 3));
    assert_eq!((producer.free_len(), consumer.free_len()), (0, 0));
    assert_eq!(consumer.peek(), Some(&1));
    assert_eq!(consumer.pop(), Some(1));
    assert!(
        !producer.is_full() && !consumer.is_full(),
        "both see the pop"
    );
    assert_eq!((producer.free_len(), consumer.free_len()), (1, 1));
    let mut out = [0; 4];
    assert_eq!(consumer.pop_slice(&mut out), 2);
    assert_eq!(out[..2], [2, 3]);
    assert!(producer.is_empty() && consumer.is_empty());
    assert_eq!(consumer.peek(), None);
}

#[test]
fn owned_consumer__producer_dropped__then_abandoned_and_every_value_still_poppable() {
    let (mut producer, mut consumer) = Queue::owned(4).unwrap();
    assert!(!consumer.is_abandoned() && !producer.is_abandoned());
    producer.push_slice(&[1_u16, 2, 3]);
    drop(producer);
    assert!(consumer.is_abandoned());
    assert_eq!((consumer.len(), consumer.peek()), (3, Some(&1)));
    let mut out = [0; 4];
    assert_eq!(consumer.pop_slice(&mut out), 3);
    assert_eq!(out[..3], [1, 2, 3]);
    assert_eq!(consumer.pop(), None);
    assert!(consumer.is_abandoned(), "abandonment is permanent");
}

#[test]
fn owned_producer__consumer_dropped__then_abandoned_and_push_accepted_until_full() {
    let (mut producer, consumer) = Queue::owned(2).unwrap();
    producer.push('a').unwrap();
    drop(consumer);
    assert!(producer.is_abandoned());
    assert_eq!(producer.push('b'), Ok(()));
    assert_eq!(producer.push('c'), Err(Full('c')));
    assert!(producer.is_full());
}

#[test]
fn into_split__entries_already_queued__then_kept_in_order() {
    let mut queue = Queue::with_capacity(3).unwrap();
    {
        let (mut producer, mut consumer) = queue.split();
        producer.push_slice(&[1_u8, 2, 3]);
        assert_eq!(consumer.pop(), Some(1));
    }
    let (mut producer, mut consumer) = queue.into_split();
    assert_eq!((producer.len(), producer.free_len()), (2, 1));
    producer.push(4).unwrap();
    assert!(producer.is_full());
    let mut out = [0; 3];
    assert_eq!(consumer.pop_slice(&mut out), 3);
    assert_eq!(out, [2, 3, 4], "FIFO across the wraparound");
    assert!(consumer.is_empty());
}

#[test]
fn owned_handles__debug__then_name_queue_and_abandonment() {
    let (producer, consumer) = Queue::<u8>::owned(2).unwrap();
    let debug = std::format!("{producer:?}");
    assert!(
        debug.contains("OwnedProducer") && debug.contains("capacity: 2"),
        "{debug}"
    );
    drop(producer);
    let debug = std::format!("{consumer:?}");
    assert!(debug.contains("abandoned: true"), "{debug}");
}
