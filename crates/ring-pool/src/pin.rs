//! The drain's pin on the producer's active ring: a guard that ends the pin and
//! accounts for the records it covered, even when the consumer panics.

use crate::active_word::{ActiveWord, PinEpoch};
use crate::drain::Settlement;
use crate::lane::Lane;
use crate::sync::Ordering;
use ada_ring_buffer::RingReader;

/// An open pin on ring `index` (the `active` word holds `pinned`).
pub(crate) struct Pin<'a, 'l, T: Copy> {
    pub(crate) lane: &'l Lane<T>,
    /// The `active` word while pinned, to unpin by compare-and-swap.
    pub(crate) pinned: ActiveWord,
    pub(crate) index: u32,
    pub(crate) epoch: PinEpoch,
    /// Records the pin covers: advanced past and counted when the pin ends.
    pub(crate) records: usize,
    /// How the covered records count; `Failed` until the consumer returned `Ok`.
    pub(crate) settlement: Settlement,
    pub(crate) reader: &'a mut RingReader<'l, 'static, T>,
}

impl<T: Copy> Pin<'_, '_, T> {
    /// Hands the committed, not yet collected records to `f`, then ends the pin.
    pub(crate) fn hand_over<R, E>(mut self, f: impl FnOnce(&[T]) -> Result<R, E>) -> Result<R, E> {
        let records = self.reader.peek();
        self.records = records.len();
        let result = f(records);
        if result.is_ok() {
            self.settlement = Settlement::Delivered;
        }
        result
    }
}

impl<T: Copy> Drop for Pin<'_, '_, T> {
    fn drop(&mut self) {
        let drain = &self.lane.drain;
        self.reader.advance(self.records);
        match self.settlement {
            Settlement::Delivered => drain.counters.events_delivered.add(self.records as u64),
            Settlement::Failed => drain.counters.dropped_sink.add(self.records as u64),
        }
        // Release: our reads of the ring happen-before the producer's next swap.
        // If the producer swapped meanwhile, the word is no longer ours to change.
        let _ = self.lane.active.compare_exchange(
            self.pinned,
            ActiveWord::unpinned(self.index),
            Ordering::Release,
            Ordering::Relaxed,
        );
        // Release: our reads happen-before a producer that sees this epoch ended and
        // reuses the ring.
        // mutant: ring_pool.pin_end_publish
        drain.pins_ended.store(self.epoch, Ordering::Release);
    }
}
