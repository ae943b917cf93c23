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
    assert_eq!(consumer.peek(), Some(42));
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
