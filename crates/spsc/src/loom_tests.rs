//! loom models: push and pop across threads, through wraparound, single and batched;
//! `Queue::len` from a third thread while both sides work.
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

/// `Queue::len` on a third thread while the producer and the consumer work, in lock
/// step: the producer pushes three values, each only once the queue is empty again, so
/// the queue only ever holds 0 or 1 entries. Whatever the interleaving, `len` returns
/// one of those (a state the queue was in), never 2 or 3: a head read before a pop and a
/// tail read after the next pushes would count entries the queue never held (3 exceeds
/// the capacity of 2). One preemption is enough for the old code (head, then tail) and
/// for each of `len`'s three loads weakened to `Relaxed` to count 2, and keeps the model
/// at seconds (two take minutes).
#[test]
fn loom__len_on_third_thread_while_both_sides_work__then_a_state_the_queue_was_in() {
    let outcomes = std::sync::Arc::new(Mutex::new(BTreeSet::new()));
    let seen = std::sync::Arc::clone(&outcomes);
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(1);
    builder.check(move || {
        let queue = Arc::new(Queue::<u32>::with_capacity(2).unwrap());
        let (producer_queue, consumer_queue) = (Arc::clone(&queue), Arc::clone(&queue));
        let p = thread::spawn(move || {
            // SAFETY: this thread is the only producer.
            let mut producer = unsafe { producer_queue.producer() };
            for value in 0..3 {
                while !producer.is_empty() {
                    thread::yield_now();
                }
                producer.push(value).unwrap();
            }
        });
        let c = thread::spawn(move || {
            // SAFETY: this thread is the only consumer.
            let mut consumer = unsafe { consumer_queue.consumer() };
            let mut got = Vec::new();
            while got.len() < 3 {
                match consumer.pop() {
                    Some(value) => got.push(value),
                    None => thread::yield_now(),
                }
            }
            got
        });
        let reader = thread::spawn(move || queue.len());
        p.join().unwrap();
        assert_eq!(c.join().unwrap(), [0, 1, 2]);
        let len = reader.join().unwrap();
        assert!(len <= 2, "len {len} exceeds the capacity");
        assert!(
            len <= 1,
            "len {len}: the queue never held more than 1 entry"
        );
        seen.lock().unwrap().insert(len);
    });
    assert_eq!(
        outcomes.lock().unwrap().clone(),
        BTreeSet::from([0, 1]),
        "loom explored len seeing the queue empty and holding an entry"
    );
}
