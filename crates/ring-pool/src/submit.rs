//! The submit queue: ring indices from a lane's producer to the drain, whose oldest
//! entry either side may claim.
//!
//! It is an SPSC queue with one difference: the head (the oldest entry's position) is
//! advanced by compare-and-swap, by the drain when it takes a ring and by the producer
//! when drop-oldest takes a ring back. Whoever wins the CAS owns the ring; the loser sees
//! the head moved and tries the next entry. Neither side ever stores the other side's
//! position, and a ring the drain has claimed can never be taken back.
//!
//! Positions are running counters (not reduced modulo anything), so a CAS cannot succeed
//! on a stale head after the queue wrapped (ABA would need `usize::MAX` claims while one
//! thread sits between its load and its CAS). Slots are atomics because a claimant reads
//! a slot before its CAS, and a losing claimant's read may overlap the producer's rewrite.

use crate::sync::{AtomicU32, AtomicUsize, Ordering};
use alloc::boxed::Box;
use crossbeam_utils::CachePadded;

pub(crate) struct SubmitQueue {
    /// Next position to fill. Written by the producer only.
    tail: CachePadded<AtomicUsize>,
    /// Oldest unclaimed position. Advanced by CAS from both sides.
    head: CachePadded<AtomicUsize>,
    slots: Box<[AtomicU32]>,
}

impl SubmitQueue {
    /// A queue for a lane of `rings` rings: at most `rings - 1` are ever queued (one is
    /// always the producer's active ring), so it can never overflow.
    pub(crate) fn new(rings: usize) -> Self {
        Self {
            tail: CachePadded::new(AtomicUsize::new(0)),
            head: CachePadded::new(AtomicUsize::new(0)),
            slots: (0..rings).map(|_| AtomicU32::new(0)).collect(),
        }
    }

    /// Appends a ring index. Producer only.
    pub(crate) fn push(&self, ring: u32) -> usize {
        // Relaxed: the producer reads its own last store.
        let tail = self.tail.load(Ordering::Relaxed);
        // Relaxed: only the high-water mark and the debug check use it. It is no staler
        // than the hand-over (free-queue Acquire, or our own claim) that gave us the ring
        // we are about to submit, which is what bounds the queue's length.
        let queued = tail.wrapping_sub(self.head.load(Ordering::Relaxed));
        debug_assert!(
            queued < self.slots.len(),
            "submit queue overflow: {queued} queued"
        );
        // Relaxed: published by the Release store of `tail` below.
        self.slots[tail % self.slots.len()].store(ring, Ordering::Relaxed);
        // Release: the ring's records and header, and the slot, happen-before a
        // claimant's Acquire load of `tail`.
        // mutant: ring_pool.submit_publish
        self.tail.store(tail.wrapping_add(1), Ordering::Release);
        queued + 1
    }

    /// Claims the oldest entry. The drain calls this to take a ring; the producer calls
    /// it (in `Lane::reclaim_oldest`, `swap.rs`) to take one back.
    pub(crate) fn claim(&self) -> Option<u32> {
        self.claim_if(|_| true)
    }

    /// Claims the oldest entry if `allowed` accepts its ring; stops at the first refused
    /// ring (the oldest entry is the only one that may be claimed).
    pub(crate) fn claim_if(&self, mut allowed: impl FnMut(u32) -> bool) -> Option<u32> {
        // Relaxed: the head only arbitrates who owns an entry; what the winner reads was
        // published through `tail`. It may be newer than the `tail` we load next (the
        // other claimant advanced it after pushes we have not seen yet), hence the signed
        // check below.
        let mut head = self.head.load(Ordering::Relaxed);
        loop {
            // Acquire: pairs with the producer's Release store, so the slot and the
            // ring it names are fully written.
            // mutant: ring_pool.claim_sees_submit
            let tail = self.tail.load(Ordering::Acquire);
            // Signed distance: a tail behind the head is stale, not "entries to claim"
            // (loom found the claim of an unpublished entry when this compared `==`).
            // mutant: ring_pool.claim_empty_test
            if (tail.wrapping_sub(head) as isize) <= 0 {
                return None;
            }
            // Relaxed: published by `tail`; if the producer rewrote the slot since, the
            // head has moved on and the CAS below fails.
            let ring = self.slots[head % self.slots.len()].load(Ordering::Relaxed);
            if !allowed(ring) {
                return None;
            }
            // Relaxed: the CAS only decides the owner. The ring's records and header were
            // published by `tail` (Acquire above); the producer rewrites this slot only
            // after the ring it names has left the queue, which it learns through the
            // free queue's release/acquire or through its own claim. Weakening this from
            // AcqRel changed no loom model's outcome.
            // mutant: ring_pool.claim_by_cas
            match self.head.compare_exchange_weak(
                head,
                head.wrapping_add(1),
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Some(ring),
                Err(current) => head = current,
            }
        }
    }

    /// Empties the queue, for a lane being reused. Exclusive access only: both sides'
    /// earlier accesses happen-before the call.
    pub(crate) fn reset(&self) {
        // Relaxed: exclusivity orders this; the lane's next hand-over publishes it.
        self.tail.store(0, Ordering::Relaxed);
        self.head.store(0, Ordering::Relaxed);
    }

    /// Entries queued at some instant during the call.
    pub(crate) fn len(&self) -> usize {
        let head = self.head.load(Ordering::Relaxed);
        let queued = self.tail.load(Ordering::Relaxed).wrapping_sub(head);
        // Two relaxed loads may see a head newer than the tail: report empty then.
        if queued > self.slots.len() { 0 } else { queued }
    }

    /// Whether every pushed entry has been claimed, as of everything that happens-before
    /// the call.
    pub(crate) fn is_drained(&self) -> bool {
        // Relaxed: a stale head can only say "not drained", the safe answer.
        let head = self.head.load(Ordering::Relaxed);
        // Acquire: every entry pushed before an operation this thread synchronised with
        // (the pin, or the producer's close) is counted.
        head == self.tail.load(Ordering::Acquire)
    }
}
