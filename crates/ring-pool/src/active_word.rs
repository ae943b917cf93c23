//! The lane's `active` word: which ring the producer writes, and the drain's pin on it.
//!
//! One `u32`: the ring's index in the low 8 bits (all ones once the producer has closed
//! the lane, `0xFE` while a blocking lane has no active ring), the pin bit above it, and the pin's epoch above that. The producer swaps
//! the whole word when it changes rings; the drain compare-and-swaps it to pin the
//! active ring and to unpin it. This module is the only place that knows the layout;
//! the orderings stay with the callers (`docs/protocol.md`).

use crate::sync::{AtomicU32, Ordering};

/// Bits of the word that hold the ring's index.
const INDEX_MASK: u32 = 0xFF;
/// The index bits of a closed lane (no ring is active).
const CLOSED_INDEX: u32 = INDEX_MASK;
/// The index bits of a vacant lane: a `Block` lane whose producer submitted its full
/// ring and waits for an empty one (no ring is active, none can be pinned).
const VACANT_INDEX: u32 = INDEX_MASK - 1;
/// Set while the drain reads the active ring in place.
const PINNED: u32 = 1 << 8;
/// The pin's epoch sits above the pin bit.
const EPOCH_SHIFT: u32 = 9;
const EPOCH_MASK: u32 = (1 << (32 - EPOCH_SHIFT)) - 1;

/// One value of the `active` word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ActiveWord(u32);

impl ActiveWord {
    /// The producer has closed the lane: no ring is active, none can be pinned.
    pub(crate) const CLOSED: Self = Self(CLOSED_INDEX);

    /// A `Block` lane's producer has submitted its full ring and has no empty one yet:
    /// no ring is active, none can be pinned.
    pub(crate) const VACANT: Self = Self(VACANT_INDEX);

    /// `ring` is active and not pinned.
    pub(crate) fn unpinned(ring: u32) -> Self {
        debug_assert!(ring < VACANT_INDEX, "ring {ring} does not fit the word");
        Self(ring)
    }

    /// The active ring, or `None` once the lane is closed or while it is vacant.
    pub(crate) fn ring(self) -> Option<u32> {
        let index = self.0 & INDEX_MASK;
        (index < VACANT_INDEX).then_some(index)
    }

    /// The drain's pin on the ring this word names, if it holds one.
    pub(crate) fn pin(self) -> Option<PinnedRing> {
        (self.0 & PINNED != 0).then_some(PinnedRing {
            ring: self.0 & INDEX_MASK,
            epoch: PinEpoch(self.0 >> EPOCH_SHIFT),
        })
    }

    /// This (unpinned) word with its ring pinned under `epoch`.
    pub(crate) fn pinned(self, epoch: PinEpoch) -> Self {
        debug_assert!(
            self.pin().is_none(),
            "only the drain pins, one pin at a time"
        );
        Self(self.0 | PINNED | epoch.0 << EPOCH_SHIFT)
    }
}

/// A ring the drain pinned, and the pin's epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PinnedRing {
    pub(crate) ring: u32,
    pub(crate) epoch: PinEpoch,
}

/// The number of a drain's pin, wrapping within the word's epoch bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PinEpoch(u32);

impl PinEpoch {
    /// What `pins_ended` holds before the first pin.
    pub(crate) const NONE_ENDED: Self = Self(0);

    /// The epoch after this one.
    pub(crate) fn next(self) -> Self {
        Self(self.0.wrapping_add(1) & EPOCH_MASK)
    }

    /// Whether this pin has ended, given the epoch of the last ended pin (a wrapping
    /// comparison: pins end in epoch order).
    pub(crate) fn has_ended(self, last_ended: Self) -> bool {
        last_ended.0.wrapping_sub(self.0) & EPOCH_MASK <= EPOCH_MASK / 2
    }
}

/// The `active` word as an atomic.
pub(crate) struct AtomicActiveWord(AtomicU32);

impl AtomicActiveWord {
    pub(crate) fn new(word: ActiveWord) -> Self {
        Self(AtomicU32::new(word.0))
    }

    #[inline]
    pub(crate) fn load(&self, order: Ordering) -> ActiveWord {
        ActiveWord(self.0.load(order))
    }

    #[inline]
    pub(crate) fn store(&self, word: ActiveWord, order: Ordering) {
        self.0.store(word.0, order);
    }

    #[inline]
    pub(crate) fn swap(&self, word: ActiveWord, order: Ordering) -> ActiveWord {
        ActiveWord(self.0.swap(word.0, order))
    }

    #[inline]
    pub(crate) fn compare_exchange(
        &self,
        current: ActiveWord,
        new: ActiveWord,
        success: Ordering,
        failure: Ordering,
    ) -> Result<ActiveWord, ActiveWord> {
        self.0
            .compare_exchange(current.0, new.0, success, failure)
            .map(ActiveWord)
            .map_err(ActiveWord)
    }
}

/// The epoch of the drain's last ended pin, as an atomic.
pub(crate) struct AtomicPinEpoch(AtomicU32);

impl AtomicPinEpoch {
    pub(crate) fn new(epoch: PinEpoch) -> Self {
        Self(AtomicU32::new(epoch.0))
    }

    #[inline]
    pub(crate) fn load(&self, order: Ordering) -> PinEpoch {
        PinEpoch(self.0.load(order))
    }

    #[inline]
    pub(crate) fn store(&self, epoch: PinEpoch, order: Ordering) {
        self.0.store(epoch.0, order);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    #![allow(non_snake_case)]
    use super::*;

    #[test]
    fn active_word__pinned__then_ring_and_epoch_read_back() {
        let epoch = PinEpoch::NONE_ENDED.next();
        let word = ActiveWord::unpinned(7).pinned(epoch);
        assert_eq!(word.ring(), Some(7));
        assert_eq!(word.pin(), Some(PinnedRing { ring: 7, epoch }));
        assert_eq!(ActiveWord::unpinned(7).pin(), None);
        assert_eq!(ActiveWord::CLOSED.ring(), None);
        assert_eq!(ActiveWord::VACANT.ring(), None);
        assert_ne!(ActiveWord::VACANT, ActiveWord::CLOSED);
    }

    #[test]
    fn pin_epoch__wraps__then_ended_compares_on_the_circle() {
        let last = PinEpoch(EPOCH_MASK);
        let wrapped = last.next();
        assert_eq!(wrapped, PinEpoch(0));
        assert!(last.has_ended(wrapped), "an older epoch has ended");
        assert!(!wrapped.has_ended(last), "a newer epoch has not");
        assert!(wrapped.has_ended(wrapped));
    }
}
