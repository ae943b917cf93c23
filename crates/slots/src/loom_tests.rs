//! loom model of [`pair::PairEnd`]: the two ends dropped on two threads.
//!
//! The value is a loom-tracked cell that one end's owner writes before dropping its end
//! and the other end's owner reads only once it sees that end gone: if the drop's
//! Release store or `is_abandoned`'s Acquire load is weakened, loom reports the read as
//! a data race. loom also fails the model if the `Arc` leaks. The model checks that loom
//! explored both drop orders (tokio-rs/loom#392: a model that explores nothing proves
//! nothing).

#![allow(non_snake_case)]

use super::*;
use loom::sync::atomic::{AtomicBool, Ordering};
use loom::thread;
use std::collections::BTreeSet;
use std::sync::Mutex;

/// A value written by one party and read by the other once the writer's end is gone.
struct Mailbox {
    value: cell::UnsafeCell<u32>,
    /// Set by the writer after its write, read by the reader first. `Relaxed` on both
    /// sides, so it orders nothing (the read of `value` still depends on the pair's flag
    /// alone); it is there so that both threads begin with conflicting accesses, without
    /// which loom 0.7 never runs the reader's drop before the writer's check (#392).
    written: AtomicBool,
}

// SAFETY: the model's protocol: only the writer's owner writes `value`, and only before
// dropping its end; the other owner reads it only after `is_abandoned` returned `true`,
// which happens-after that drop.
unsafe impl Sync for Mailbox {}

#[test]
fn loom__pair_ends_dropped_on_two_threads__then_abandonment_visible_and_value_freed() {
    let outcomes = std::sync::Arc::new(Mutex::new(BTreeSet::new()));
    let seen = std::sync::Arc::clone(&outcomes);
    loom::model(move || {
        let (writer, reader) = pair::PairEnd::pair(Mailbox {
            value: cell::UnsafeCell::new(0),
            written: AtomicBool::new(false),
        });
        let w = thread::spawn(move || {
            // SAFETY: this thread is the mailbox's only writer, and the reader reads it
            // only after this end is dropped (at the end of the closure).
            writer.value.with_mut(|value| unsafe { *value = 42 });
            writer.written.store(true, Ordering::Relaxed);
            writer.is_abandoned()
        });
        let r = thread::spawn(move || {
            let _ = reader.written.load(Ordering::Relaxed);
            let abandoned = reader.is_abandoned();
            if abandoned {
                // SAFETY: the writer's end is gone, and its write happens-before this
                // read (Release in its drop, Acquire in `is_abandoned`).
                let value = reader.value.with(|value| unsafe { *value });
                assert_eq!(value, 42, "the dropped end's write is visible");
            }
            abandoned
        });
        let writer_saw_reader_gone = w.join().unwrap();
        let reader_saw_writer_gone = r.join().unwrap();
        assert!(
            !(writer_saw_reader_gone && reader_saw_writer_gone),
            "only one end outlives the other"
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
