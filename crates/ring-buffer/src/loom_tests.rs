//! loom models: an append racing a reader of committed records.
//!
//! The slots are loom-tracked cells (see `ada-slots`), so if the writer's Release store
//! or the reader's Acquire load is weakened, loom reports the slot read as a data race.
//!
//! Every role runs on a spawned thread and each model checks that loom explored the
//! outcomes it must reach: loom 0.7 can stop after one iteration when a thread's first
//! operation is an atomic load (tokio-rs/loom#392), and a model that explores nothing
//! proves nothing.

#![allow(non_snake_case)]

use super::*;
use loom::sync::Arc;
use loom::thread;
use std::collections::BTreeSet;
use std::sync::Mutex;
use std::vec::Vec;

#[test]
fn loom__append_vs_concurrent_read__then_committed_records_complete() {
    let outcomes = std::sync::Arc::new(Mutex::new(BTreeSet::new()));
    let seen_outcomes = std::sync::Arc::clone(&outcomes);
    loom::model(move || {
        let ring = Arc::new(RingBuffer::<u64>::with_capacity(2).unwrap());
        let writer_ring = Arc::clone(&ring);
        let writer = thread::spawn(move || {
            // SAFETY: this thread is the only writer.
            let mut writer = unsafe { writer_ring.writer() };
            writer.push(1).unwrap();
            assert_eq!(writer.push_slice(&[2, 3]), 1);
        });
        let reader = thread::spawn(move || {
            // SAFETY: this thread is the only reader.
            let mut reader = unsafe { ring.reader() };
            let committed = reader.peek().to_vec();
            let n = committed.len();
            reader.advance(n);
            committed
        });
        writer.join().unwrap();
        let seen: Vec<u64> = reader.join().unwrap();
        assert_eq!(seen, [1, 2][..seen.len()], "a prefix, in order");
        seen_outcomes.lock().unwrap().insert(seen.len());
    });
    let outcomes = outcomes.lock().unwrap();
    assert_eq!(
        *outcomes,
        BTreeSet::from([0, 1, 2]),
        "loom explored every prefix"
    );
}

#[test]
fn loom__hand_over_then_reset__then_no_race_with_previous_reader() {
    loom::model(|| {
        let ring = Arc::new(RingBuffer::<u64>::with_capacity(1).unwrap());
        let done = Arc::new(AtomicUsize::new(0));
        let (reader_ring, reader_done) = (Arc::clone(&ring), Arc::clone(&done));
        // SAFETY: the main thread is the writer until it hands the ring over below.
        unsafe { ring.writer().push(5).unwrap() };
        let reader = thread::spawn(move || {
            // SAFETY: the only reader.
            let value = unsafe { reader_ring.reader().pop() };
            assert_eq!(value, Some(5));
            // Release: the read above happens-before the owner's reset and rewrite.
            reader_done.store(1, Ordering::Release);
        });
        let owner = thread::spawn(move || {
            while done.load(Ordering::Acquire) == 0 {
                thread::yield_now();
            }
            // SAFETY: the reader is finished (Acquire above), so this thread is exclusive.
            unsafe {
                ring.reset_unchecked();
                ring.writer().push(6).unwrap();
                assert_eq!(ring.reader().pop(), Some(6));
            }
        });
        reader.join().unwrap();
        owner.join().unwrap();
    });
}

/// The owned handles, each dropped on its own thread, in either order: the last one
/// frees the buffer (loom fails a model that leaks an `Arc`), and a reader that sees the
/// writer abandoned sees every record it committed.
#[test]
fn loom__owned_handles_dropped_on_two_threads__then_abandonment_visible_and_storage_freed() {
    let outcomes = std::sync::Arc::new(Mutex::new(BTreeSet::new()));
    let seen = std::sync::Arc::clone(&outcomes);
    loom::model(move || {
        let (mut writer, mut reader) = RingBuffer::<u64>::owned(2).unwrap();
        let w = thread::spawn(move || {
            writer.push(1).unwrap();
            assert_eq!(writer.push_slice(&[2, 3]), 1);
            // Dropped at the end of the closure: abandons the buffer, frees it if last.
            writer.is_abandoned()
        });
        let r = thread::spawn(move || {
            let first = reader.peek().to_vec();
            let n = first.len();
            reader.advance(n);
            let abandoned = reader.is_abandoned();
            if abandoned {
                assert_eq!(reader.unread(), 2 - n, "every record committed is visible");
                assert!(reader.is_full());
            }
            (abandoned, first)
        });
        let writer_saw_reader_gone = w.join().unwrap();
        let (reader_saw_writer_gone, first) = r.join().unwrap();
        assert_eq!(first, [1, 2][..first.len()], "a prefix, in order");
        assert!(
            !(writer_saw_reader_gone && reader_saw_writer_gone),
            "only one handle outlives the other"
        );
        seen.lock()
            .unwrap()
            .insert((writer_saw_reader_gone, reader_saw_writer_gone));
    });
    let outcomes = outcomes.lock().unwrap().clone();
    assert_eq!(
        outcomes,
        BTreeSet::from([(false, false), (false, true), (true, false)]),
        "loom explored both drop orders and drops after both checks"
    );
}
