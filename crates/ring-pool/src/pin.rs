//! The drain's pin on the producer's active ring: a guard that ends the pin and
//! accounts for the records it covered, even when the consumer panics.

use crate::active_word::{ActiveWord, PinEpoch};
use crate::drain::Settlement;
use crate::lane::Lane;
use crate::ledger::{At, Gap};
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
    /// Hands the committed, not yet collected records, and the gap before them, to `f`,
    /// then ends the pin. `None`, without calling `f`, when there are none.
    pub(crate) fn hand_over<R, E>(
        mut self,
        f: impl FnOnce(&[T], Gap) -> Result<R, E>,
    ) -> Option<Result<R, E>> {
        let records = self.reader.peek();
        if records.is_empty() {
            return None;
        }
        self.records = records.len();
        // SAFETY: the pin (Acquire) saw the swap that made the ring active, which the
        // producer's stamp of the ring happens-before; the producer stamps it again only
        // after the pin has ended.
        let start = unsafe { self.lane.start(self.index) };
        // SAFETY: the pin is the lane's only drain's.
        let gap = unsafe {
            self.lane.ledger(|ledger| {
                let at = At {
                    event: start.first_event + self.reader.consumed() as u64,
                    dropped_newest_before: start.dropped_newest_before,
                    dropped_timeout_before: start.dropped_timeout_before,
                    // Nothing is discarded between the last handed-on ring and a ring
                    // read in place: a `SubmitAll` lane discards nothing, and a flight
                    // recorder's is read only when kept (`window.rs`), i.e. right after
                    // the context or kept ring that carried the count (submitted ahead
                    // of it, and taken first).
                    discarded_before: ledger.discarded(),
                };
                ledger.open(at, records.len() as u64)
            })
        };
        let result = f(records, gap);
        if result.is_ok() {
            self.settlement = Settlement::Delivered;
        }
        Some(result)
    }
}

impl<T: Copy> Drop for Pin<'_, '_, T> {
    fn drop(&mut self) {
        let drain = &self.lane.drain;
        self.reader.advance(self.records);
        match self.settlement {
            Settlement::Delivered => drain.counters.events_delivered.add(self.records as u64),
            Settlement::Failed => {
                drain.counters.dropped_sink.add(self.records as u64);
                // SAFETY: the pin is the lane's only drain's.
                unsafe {
                    self.lane
                        .ledger(|ledger| ledger.failed(self.records as u64))
                };
            }
        }
        end_pin(self.lane, self.pinned, self.index, self.epoch);
    }
}

/// Ends the drain's pin `pinned` on ring `index` under `epoch`: unpins the `active` word
/// if it still holds the pin, and publishes the epoch as ended.
pub(crate) fn end_pin<T>(lane: &Lane<T>, pinned: ActiveWord, index: u32, epoch: PinEpoch) {
    // Release: our reads of the ring happen-before the producer's next swap.
    // If the producer swapped meanwhile, the word is no longer ours to change.
    let _ = lane.active.compare_exchange(
        pinned,
        ActiveWord::unpinned(index),
        Ordering::Release,
        Ordering::Relaxed,
    );
    // Release: our reads happen-before a producer that sees this epoch ended and
    // reuses the ring.
    // mutant: ring_pool.pin_end_publish
    lane.drain.pins_ended.store(epoch, Ordering::Release);
}
