//! The registry's single drain: enumerating the occupied slots, telling whether any has
//! work, and parking until a producer brings some.

use crate::active_slot::ActiveSlot;
use crate::registry::Registry;
use crate::slot::SlotState;
use crate::sync::Ordering;
use core::fmt;

/// The registry's single drain: enumerates slots, drains their lanes, frees retired ones.
pub struct RegistryDrain<'r, I, D> {
    registry: &'r Registry<I, D>,
    /// Where the next enumeration starts; advances by one slot per enumeration.
    cursor: usize,
}

impl<'r, I: Copy + Send + 'static, D: Copy + Send + 'static> RegistryDrain<'r, I, D> {
    /// The drain of `registry`, whose `drain_taken` flag the caller has just set.
    pub(crate) fn new(registry: &'r Registry<I, D>) -> Self {
        Self {
            registry,
            cursor: 0,
        }
    }

    /// Calls `f` for every slot that is active or retiring, across the whole capacity,
    /// starting one slot further than the previous call (round-robin fairness), without
    /// locks or allocation. Returns how many slots were visited.
    pub fn for_each_slot(&mut self, mut f: impl FnMut(ActiveSlot<'_, 'r, I, D>)) -> usize {
        let registry = self.registry;
        let capacity = registry.config.capacity;
        let start = self.cursor;
        self.cursor = (self.cursor + 1) % capacity;
        let mut visited = 0;
        // Two passes over the bitmap: slots start.., then ..start.
        for (from, to) in [(start, capacity), (0, start)] {
            let mut next = from;
            while let Some(slot) = registry.occupied.next_taken(next, to) {
                // Acquire: pairs with the Release of `register` (identity, lanes) and of
                // the handle's drop (final submits).
                let word = registry.slots[slot].state.load(Ordering::Acquire);
                if word.state() != SlotState::Free {
                    visited += 1;
                    f(ActiveSlot::new(registry, slot, word));
                }
                next = slot + 1;
            }
        }
        visited
    }

    /// Calls `f` for every slot that is active or retiring, as
    /// [`for_each_slot`](Self::for_each_slot) does, but fullest first: by submitted rings
    /// over the lane's rings (the fuller of the slot's two lanes, in thousandths), ties in
    /// the round-robin order `for_each_slot` would visit them in. `order` is scratch
    /// space (reused, so that a pass allocates nothing once it has grown). Returns how
    /// many slots were visited.
    pub fn for_each_slot_fullest_first(
        &mut self,
        order: &mut Vec<(u32, usize)>,
        mut f: impl FnMut(ActiveSlot<'_, 'r, I, D>),
    ) -> usize {
        let registry = self.registry;
        order.clear();
        let fill = |submitted: usize, rings: usize| {
            u32::try_from(submitted * 1000 / rings.max(1)).unwrap_or(u32::MAX)
        };
        self.for_each_slot(|slot| {
            let entry = &registry.slots[slot.slot()];
            let index = fill(entry.index.submitted_len(), registry.config.index.rings);
            let detail = fill(entry.detail.submitted_len(), registry.config.detail.rings);
            order.push((index.max(detail), slot.slot()));
        });
        // Stable: equal fills keep the round-robin order.
        order.sort_by_key(|&(fill, _)| core::cmp::Reverse(fill));
        let mut visited = 0;
        for &(_, slot) in order.iter() {
            // Acquire: as in `for_each_slot` (the state may have moved since the count).
            let word = registry.slots[slot].state.load(Ordering::Acquire);
            if word.state() != SlotState::Free {
                visited += 1;
                f(ActiveSlot::new(registry, slot, word));
            }
        }
        visited
    }

    /// Whether any occupied slot has work waiting: a submitted ring, or a retired thread
    /// whose slot can be released.
    #[must_use]
    pub fn has_work(&self) -> bool {
        let registry = self.registry;
        registry.occupied.any_taken(|slot| {
            let entry = &registry.slots[slot];
            // Acquire: pairs with the Release of a handle's drop.
            let retiring = entry.state.load(Ordering::Acquire).state() == SlotState::Retiring;
            retiring || entry.index.submitted_len() > 0 || entry.detail.submitted_len() > 0
        })
    }

    /// Parks the calling (drain) thread for at most `timeout`, unless work is already
    /// waiting. A producer that submits a ring or retires while the drain is parked, or
    /// about to park, unparks it (`ThreadHandle` does it for every operation that can
    /// submit): no wake-up is lost, and producers pay for the check only when they
    /// submit a ring.
    pub fn park(&mut self, timeout: std::time::Duration) {
        self.registry.parking.park(timeout, || self.has_work());
    }

    /// How many times producers have unparked this registry's drain so far: at most one
    /// per [`park`](Self::park) (the first producer to find the drain parked pays the
    /// system call; none pays while the drain polls). A statistic: a recent value, no
    /// ordering.
    #[must_use]
    pub fn producer_wakes(&self) -> u64 {
        self.registry.parking.unparks()
    }
}

impl<I, D> Drop for RegistryDrain<'_, I, D> {
    fn drop(&mut self) {
        // The next drain may run on another thread.
        self.registry.parking.forget_thread();
        // Release: this drain's work happens-before the next drain's.
        self.registry.drain_taken.store(false, Ordering::Release);
    }
}

impl<I, D> fmt::Debug for RegistryDrain<'_, I, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegistryDrain")
            .field("cursor", &self.cursor)
            .finish_non_exhaustive()
    }
}
