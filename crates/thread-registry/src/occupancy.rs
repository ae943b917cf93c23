//! Which slots are taken: a bitmap of words in which registration claims a bit and the
//! drain finds the slots to visit, so any capacity up to `MAX_CAPACITY` works and a
//! freed low slot never hides a live high one.

use crate::sync::{AtomicUsize, Ordering};
use crossbeam_utils::CachePadded;

/// Bits per bitmap word.
const BITS: usize = usize::BITS as usize;

/// Bit `i` set: slot `i` is not free (claimed, active or retiring).
pub(crate) struct Occupancy {
    words: Box<[CachePadded<AtomicUsize>]>,
    capacity: usize,
}

impl Occupancy {
    /// Every one of `capacity` slots free.
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            words: (0..capacity.div_ceil(BITS))
                .map(|_| CachePadded::new(AtomicUsize::new(0)))
                .collect(),
            capacity,
        }
    }

    /// Claims the lowest free slot's bit.
    pub(crate) fn claim(&self) -> Option<usize> {
        for (word_index, word) in self.words.iter().enumerate() {
            let valid = self.valid_bits(word_index);
            // Relaxed: the CAS below validates the value.
            let mut bits = word.load(Ordering::Relaxed);
            loop {
                let free = !bits & valid;
                if free == 0 {
                    break;
                }
                let bit = free.trailing_zeros() as usize;
                // Acquire on success: pairs with the drain's Release when it freed the
                // slot, so the slot's reset lanes are visible to us.
                // mutant: thread_registry.bit_claim
                match word.compare_exchange_weak(
                    bits,
                    bits | 1 << bit,
                    Ordering::Acquire,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => return Some(word_index * BITS + bit),
                    Err(current) => bits = current,
                }
            }
        }
        None
    }

    /// Clears `slot`'s bit: the slot is free for the next registration. The caller's
    /// writes (the slot's reset) happen-before that registration's claim.
    pub(crate) fn release(&self, slot: usize) {
        let bit = 1 << (slot % BITS);
        // Release: the slot's reset happens-before the next claim of the bit (Acquire).
        // mutant: thread_registry.bit_release
        self.words[slot / BITS].fetch_and(!bit, Ordering::Release);
    }

    /// Slots taken now.
    pub(crate) fn count(&self) -> usize {
        self.words
            .iter()
            .map(|word| word.load(Ordering::Relaxed).count_ones() as usize)
            .sum()
    }

    /// The first taken slot in `from..to`.
    pub(crate) fn next_taken(&self, from: usize, to: usize) -> Option<usize> {
        let mut slot = from;
        while slot < to {
            let word_index = slot / BITS;
            // Acquire: a claimed bit is followed by the claimant's `Active` store, which
            // the caller loads (Acquire); this load only finds candidates.
            let word = self.words[word_index].load(Ordering::Acquire);
            let remaining = word >> (slot % BITS);
            if remaining == 0 {
                slot = (word_index + 1) * BITS;
                continue;
            }
            slot += remaining.trailing_zeros() as usize;
            return (slot < to).then_some(slot);
        }
        None
    }

    /// Whether `f` accepts any taken slot (stops at the first).
    pub(crate) fn any_taken(&self, mut f: impl FnMut(usize) -> bool) -> bool {
        self.words.iter().enumerate().any(|(word_index, word)| {
            // Acquire: as in `next_taken`.
            let mut bits = word.load(Ordering::Acquire);
            while bits != 0 {
                let slot = word_index * BITS + bits.trailing_zeros() as usize;
                bits &= bits - 1;
                if f(slot) {
                    return true;
                }
            }
            false
        })
    }

    /// The bits of word `word_index` that name real slots.
    fn valid_bits(&self, word_index: usize) -> usize {
        let first = word_index * BITS;
        let count = (self.capacity - first).min(BITS);
        if count == BITS {
            usize::MAX
        } else {
            (1 << count) - 1
        }
    }
}
