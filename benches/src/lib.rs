//! Shared harness pieces for ada's criterion benches.
//!
//! The benches compare ada's crates with peer crates in the same run, on the same item
//! type and capacity; `cargo xtask bench` turns their medians into `docs/benchmarks.md`.

use std::time::{Duration, Instant};

pub mod pipelines;

/// Moves `items` values `0..items` from a producer thread to a consumer thread and
/// returns the time from the start until the consumer has taken the last one.
///
/// Both sides spin on a full or empty queue, as a tracing drain and producer would; the
/// consumer checks that values arrive in order, so a broken queue cannot look fast.
pub fn two_thread_transfer<P: Send, C: Send>(
    items: u64,
    mut producer: P,
    mut consumer: C,
    push: fn(&mut P, u64) -> bool,
    pop: fn(&mut C) -> Option<u64>,
) -> Duration {
    std::thread::scope(|s| {
        let start = Instant::now();
        s.spawn(move || {
            for value in 0..items {
                while !push(&mut producer, value) {
                    std::hint::spin_loop();
                }
            }
        });
        let mut expected = 0;
        while expected < items {
            if let Some(value) = pop(&mut consumer) {
                assert_eq!(value, expected, "values arrive once, in order");
                expected += 1;
            } else {
                std::hint::spin_loop();
            }
        }
        start.elapsed()
    })
}

/// A 32-byte record, the size of an index-lane event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(C)]
pub struct Event {
    /// Timestamp.
    pub timestamp: u64,
    /// Function address.
    pub address: u64,
    /// Thread-local sequence.
    pub sequence: u64,
    /// Event kind and depth.
    pub kind: u64,
}

/// The `i`-th test event.
#[must_use]
pub fn event(i: u64) -> Event {
    Event {
        timestamp: i,
        address: 0x4000 + i,
        sequence: i,
        kind: i & 1,
    }
}

/// The floor every write path is compared with: a raw `ada-ring-buffer` push of 32-byte
/// records into a ring of `records`, reset when full.
pub fn ring_push_floor(b: &mut criterion::Bencher<'_>, records: usize) {
    let mut ring = ada_ring_buffer::RingBuffer::<Event>::with_capacity(records).unwrap();
    let mut i = 0_u64;
    b.iter(|| {
        let (mut writer, _) = ring.split();
        if writer.push(event(std::hint::black_box(i))).is_err() {
            ring.reset();
        }
        i += 1;
    });
}
