//! The only place this crate takes atomics from.
//!
//! The span table's (`crate::table`) are `std`'s normally and loom's under
//! `--cfg loom`: that table is the crate's one cross-thread protocol, and its models
//! check it. The rest here is statistics and a source of unique numbers: nothing is
//! published through them (the records travel through the tracer's lanes, which have
//! their own protocol and models), so they are `std` atomics even under loom, every
//! access `Relaxed`.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicU64, Ordering, fence};
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicU64, Ordering, fence};

use std::sync::atomic::{AtomicU64 as StatWord, Ordering as StatOrdering};

/// A count any thread bumps and any thread reads (the layer's statistics).
#[derive(Debug, Default)]
pub(crate) struct Counter(StatWord);

impl Counter {
    /// Adds one. Only on rare paths (a truncation, a refusal), so threads do not
    /// contend on it while tracing normally.
    pub(crate) fn bump(&self) {
        // Relaxed: a statistic; no data is published through it.
        self.0.fetch_add(1, StatOrdering::Relaxed);
    }

    pub(crate) fn get(&self) -> u64 {
        // Relaxed: a statistic, exact once the writing threads have synchronised with
        // the reader (joined, or the tracer shut down).
        self.0.load(StatOrdering::Relaxed)
    }
}

/// The next layer's number: layers share the threads' span stacks and tell their
/// entries apart by it.
static NEXT_LAYER: StatWord = StatWord::new(1);

/// A number no other layer of this process has.
pub(crate) fn next_layer_id() -> u64 {
    // Relaxed: only uniqueness matters, which the read-modify-write gives in any order.
    NEXT_LAYER.fetch_add(1, StatOrdering::Relaxed)
}

#[cfg(all(test, not(loom)))]
#[allow(non_snake_case)]
mod tests {
    use super::*;

    #[test]
    fn counter__bumped_from_several_threads__then_exact_once_joined() {
        let counter = Counter::default();
        std::thread::scope(|s| {
            for _ in 0..3 {
                s.spawn(|| (0..50).for_each(|_| counter.bump()));
            }
        });
        assert_eq!(counter.get(), 150);
    }

    #[test]
    fn next_layer_id__many_calls__then_all_distinct() {
        let ids: std::collections::BTreeSet<_> = (0..100).map(|_| next_layer_id()).collect();
        assert_eq!(ids.len(), 100);
    }
}
