//! loom models: push and pop across threads, through wraparound, single and batched.
//!
//! Slots are loom-tracked cells (see `ada-slots`): weakening the Release store of `tail`
//! or `head`, or the Acquire load that pairs with it, makes loom report a slot race.
//! Each role runs on a spawned thread and each model checks that loom explored several
//! outcomes, because loom 0.7 can stop after one iteration when a thread begins with an
//! atomic load (tokio-rs/loom#392).

#![allow(non_snake_case)]

use super::*;
use loom::sync::Arc;
use loom::thread;
use std::collections::BTreeSet;
use std::sync::Mutex;
use std::vec::Vec;

/// Runs `producer` and `consumer` on two loom threads over a queue of `capacity`,
/// checks the consumer saw a FIFO prefix of `0..`, and returns the set of prefix
/// lengths seen across all explored executions.
fn model(
    capacity: usize,
    producer: fn(&mut Producer<'_, '_, u32>),
    consumer: fn(&mut Consumer<'_, '_, u32>) -> Vec<u32>,
) -> BTreeSet<usize> {
    let outcomes = std::sync::Arc::new(Mutex::new(BTreeSet::new()));
    let seen = std::sync::Arc::clone(&outcomes);
    loom::model(move || {
        let queue = Arc::new(Queue::<u32>::with_capacity(capacity).unwrap());
        let producer_queue = Arc::clone(&queue);
        let p = thread::spawn(move || {
            // SAFETY: this thread is the only producer.
            producer(&mut unsafe { producer_queue.producer() });
        });
        let c = thread::spawn(move || {
            // SAFETY: this thread is the only consumer.
            consumer(&mut unsafe { queue.consumer() })
        });
        p.join().unwrap();
        let got = c.join().unwrap();
        let expected: Vec<u32> = (0..got.len() as u32).collect();
        assert_eq!(got, expected, "FIFO prefix");
        seen.lock().unwrap().insert(got.len());
    });
    outcomes.lock().unwrap().clone()
}

#[test]
fn loom__push_pop_with_wraparound__then_fifo() {
    // Capacity 1: the producer refills the slot the consumer just freed, twice.
    let outcomes = model(
        1,
        |producer| {
            for value in 0..3 {
                while producer.push(value).is_err() {
                    thread::yield_now();
                }
            }
        },
        |consumer| {
            let mut got = Vec::new();
            while got.len() < 3 {
                match consumer.pop() {
                    Some(v) => got.push(v),
                    None => thread::yield_now(),
                }
            }
            got
        },
    );
    assert_eq!(outcomes, BTreeSet::from([3]));
}

#[test]
fn loom__pop_races_push__then_sees_prefix() {
    let outcomes = model(
        2,
        |producer| {
            producer.push(0).unwrap();
            producer.push(1).unwrap();
        },
        |consumer| {
            let mut got = Vec::new();
            got.extend(consumer.pop());
            got.extend(consumer.pop());
            got
        },
    );
    assert_eq!(
        outcomes,
        BTreeSet::from([0, 1, 2]),
        "loom explored each interleaving"
    );
}

#[test]
fn loom__batches_across_wraparound__then_fifo() {
    let outcomes = model(
        2,
        |producer| {
            let mut next = 0;
            while next < 4 {
                let batch: Vec<u32> = (next..4).collect();
                let n = producer.push_slice(&batch) as u32;
                if n == 0 {
                    thread::yield_now();
                }
                next += n;
            }
        },
        |consumer| {
            let mut got = Vec::new();
            let mut out = [0; 3];
            while got.len() < 4 {
                let n = consumer.pop_slice(&mut out);
                got.extend_from_slice(&out[..n]);
                if n == 0 {
                    thread::yield_now();
                }
            }
            got
        },
    );
    assert_eq!(outcomes, BTreeSet::from([4]));
}

/// The owned handles, each dropped on its own thread, in either order: the last one
/// frees the queue (loom fails a model that leaks an `Arc`), and a handle that sees its
/// partner abandoned sees everything the partner did: a consumer then pops every value
/// pushed, a producer then counts exactly the entries the consumer left.
#[test]
fn loom__owned_handles_dropped_on_two_threads__then_abandonment_visible_and_storage_freed() {
    let outcomes = std::sync::Arc::new(Mutex::new(BTreeSet::new()));
    let seen = std::sync::Arc::clone(&outcomes);
    loom::model(move || {
        let (mut producer, mut consumer) = Queue::<u32>::owned(2).unwrap();
        let p = thread::spawn(move || {
            producer.push(0).unwrap();
            producer.push(1).unwrap();
            // Dropped at the end of the closure: abandons the queue, frees it if last.
            producer.is_abandoned().then(|| producer.len())
        });
        let c = thread::spawn(move || {
            let mut got: Vec<u32> = consumer.pop().into_iter().collect();
            let abandoned = consumer.is_abandoned();
            if abandoned {
                got.extend(core::iter::from_fn(|| consumer.pop()));
                assert_eq!(got, [0, 1], "every value pushed, in order");
            }
            (abandoned, got)
        });
        let left_when_consumer_gone = p.join().unwrap();
        let (consumer_saw_producer_gone, got) = c.join().unwrap();
        assert_eq!(got, [0, 1][..got.len()], "a FIFO prefix");
        if let Some(left) = left_when_consumer_gone {
            assert!(
                !consumer_saw_producer_gone,
                "only one handle outlives the other"
            );
            assert_eq!(left, 2 - got.len(), "the producer sees every pop");
        }
        seen.lock().unwrap().insert((
            left_when_consumer_gone.is_some(),
            consumer_saw_producer_gone,
        ));
    });
    let outcomes = outcomes.lock().unwrap().clone();
    assert_eq!(
        outcomes,
        BTreeSet::from([(false, false), (false, true), (true, false)]),
        "loom explored both drop orders and drops after both checks"
    );
}
