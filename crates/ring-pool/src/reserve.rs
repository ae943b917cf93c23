//! The shared reserve: spare rings that every lane of a kind may borrow when its own
//! rings are all out, before its exhaustion policy applies. The drain gives a borrowed
//! ring back to the reserve once it has delivered it (not to the lane that borrowed it),
//! so the memory goes where the load is.
//!
//! The reserve's free rings form a lock-free stack of ring numbers (Treiber's stack):
//! any producer pops (borrows), the drain and closing producers push (give back). The
//! stack's head is one `u32`: the top ring's number plus one (0: empty) in the low 8
//! bits, and a tag above it that every change increments, so that a producer that
//! loaded the head, slept while others popped and pushed the same ring back, and then
//! compare-and-swaps, fails instead of installing a stale next (the ABA problem). The
//! tag has 24 bits: only a thread stalled between its load and its compare-and-swap
//! while exactly 2^24 other changes happen could be fooled.
//!
//! A lane addresses a borrowed ring as `own rings + its number in the reserve`, so a
//! lane with its reserve names at most [`MAX_ADDRESSES`] rings in the 8-bit index of its
//! `active` word; the write fast path, which holds a writer to its active ring, does not
//! look at where the ring lives.

use crate::config::{LaneConfigError, MAX_RINGS};
use crate::sync::{AtomicU32, Ordering};
use ada_ring_buffer::RingBuffer;
use alloc::boxed::Box;
use core::sync::atomic::AtomicU32 as StatisticWord;

/// The most rings a lane can name: its own plus its reserve's (the `active` word's index
/// byte, less its two reserved values).
pub const MAX_ADDRESSES: usize = 0xFE;

/// Bits of the stack's head that hold the top ring's number plus one.
const TOP_BITS: u32 = 8;
const TOP_MASK: u32 = (1 << TOP_BITS) - 1;

/// Spare rings shared by the lanes of one kind (see the module docs).
///
/// ```
/// use ada_ring_pool::{Lane, LaneConfig, Reserve};
/// use std::sync::Arc;
///
/// let config = LaneConfig { rings: 2, ring_records: 4, ..LaneConfig::index_lane() };
/// let reserve = Arc::new(Reserve::<u64>::new(config.ring_records, 2)?);
/// let lane = Lane::with_reserve(config, Arc::clone(&reserve))?;
/// // SAFETY: the only producer.
/// let mut producer = unsafe { lane.producer() }.unwrap();
/// for event in 0..16 {
///     producer.write(event); // 4 rings of 4: two own, two borrowed
/// }
/// assert_eq!(reserve.lent(), 2);
/// assert_eq!(lane.snapshot().rings_borrowed, 2);
/// assert_eq!(lane.snapshot().dropped.total(), 0);
/// # Ok::<(), ada_ring_pool::LaneConfigError>(())
/// ```
pub struct Reserve<T> {
    rings: Box<[RingBuffer<'static, T>]>,
    /// Per ring, the number plus one of the ring below it on the stack (0: none).
    next: Box<[AtomicU32]>,
    /// The stack's head (see the module docs).
    head: AtomicU32,
    /// Rings lent now; the most ever lent at once. Statistics, written by whoever
    /// borrows or gives back (read-modify-writes: several threads write them; `core`
    /// atomics even under loom, like the lanes' counters).
    lent: StatisticWord,
    high_water: StatisticWord,
    /// How many of the reserve's rings one lane may keep as its own (see
    /// [`adopting`](Self::adopting)).
    adopt_limit: usize,
}

impl<T: Copy> Reserve<T> {
    /// A reserve of `rings` rings of `ring_records` records each, allocated now.
    ///
    /// # Errors
    /// [`LaneConfigError::EmptyRings`] for rings of no records,
    /// [`LaneConfigError::ReserveTooLarge`] for more rings than a lane can name beside
    /// its own, [`LaneConfigError::Storage`] when the memory cannot be allocated.
    pub fn new(ring_records: usize, rings: usize) -> Result<Self, LaneConfigError> {
        if ring_records == 0 {
            return Err(LaneConfigError::EmptyRings);
        }
        if rings > MAX_ADDRESSES - 2 {
            return Err(LaneConfigError::ReserveTooLarge {
                rings,
                max: MAX_ADDRESSES - 2,
            });
        }
        let buffers = (0..rings)
            .map(|_| RingBuffer::with_capacity(ring_records))
            .collect::<Result<Box<[_]>, _>>()
            .map_err(LaneConfigError::Storage)?;
        // Every ring on the stack, 0 on top: ring i's next is ring i + 1.
        #[allow(clippy::cast_possible_truncation)] // at most MAX_ADDRESSES
        let next = (0..rings)
            .map(|ring| AtomicU32::new(if ring + 1 < rings { ring as u32 + 2 } else { 0 }))
            .collect();
        Ok(Self {
            rings: buffers,
            next,
            head: AtomicU32::new(u32::from(rings > 0)),
            lent: StatisticWord::new(0),
            high_water: StatisticWord::new(0),
            adopt_limit: 0,
        })
    }

    /// Lets a lane that keeps borrowing keep up to `per_lane` of the reserve's rings as
    /// its own for as long as it keeps needing them (runtime resizing): when the drain
    /// recycles a borrowed ring of a lane that borrowed again since the drain's previous
    /// such decision, it puts the ring in that lane's free queue (the lane grows) instead
    /// of the reserve; when it recycles a ring the lane kept and the lane has not
    /// borrowed since, it gives the ring back (the lane shrinks). A ring moves only when
    /// the drain holds it, delivered: never one in use. 0 (the default): every borrowed
    /// ring goes back to the reserve at once.
    ///
    /// ```
    /// use ada_ring_pool::Reserve;
    /// let reserve = Reserve::<u64>::new(64, 8)?.adopting(2);
    /// assert_eq!(reserve.adopt_limit(), 2);
    /// # Ok::<(), ada_ring_pool::LaneConfigError>(())
    /// ```
    #[must_use]
    pub fn adopting(mut self, per_lane: usize) -> Self {
        self.adopt_limit = per_lane.min(self.rings.len());
        self
    }
}

impl<T> Reserve<T> {
    /// The reserve's rings.
    #[must_use]
    pub fn len(&self) -> usize {
        self.rings.len()
    }

    /// Whether the reserve has no rings at all.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.rings.is_empty()
    }

    /// Records per ring.
    #[must_use]
    pub fn ring_records(&self) -> usize {
        self.rings.first().map_or(0, RingBuffer::capacity)
    }

    /// Rings lent to lanes now (a statistic: a recent value).
    #[must_use]
    pub fn lent(&self) -> usize {
        self.lent.load(core::sync::atomic::Ordering::Relaxed) as usize
    }

    /// The most rings lent at once so far (a statistic).
    #[must_use]
    pub fn high_water(&self) -> usize {
        self.high_water.load(core::sync::atomic::Ordering::Relaxed) as usize
    }

    /// How many of the reserve's rings one lane may keep ([`adopting`](Self::adopting)).
    #[must_use]
    pub fn adopt_limit(&self) -> usize {
        self.adopt_limit
    }

    /// Bytes of ring records the reserve holds.
    #[must_use]
    pub fn bytes(&self) -> usize {
        self.len() * self.ring_records() * size_of::<T>()
    }

    /// Whether a ring is free now (a hint: a borrower may take it first).
    pub(crate) fn has_free(&self) -> bool {
        // Relaxed: a hint; `borrow` synchronises.
        self.head.load(Ordering::Relaxed) & TOP_MASK != 0
    }

    pub(crate) fn ring(&self, ring: u32) -> &RingBuffer<'static, T> {
        &self.rings[ring as usize]
    }

    /// Takes a free ring (empty, reset), or `None` when all are lent.
    pub(crate) fn borrow(&self) -> Option<u32> {
        // Acquire: the ring's reset (and its `next`) by whoever pushed it happen-before
        // we read them and hand the ring to a producer.
        // mutant: ring_pool.reserve_pop_acquire
        let mut head = self.head.load(Ordering::Acquire);
        loop {
            let top = head & TOP_MASK;
            let ring = top.checked_sub(1)?;
            // Relaxed: published by the push that made `ring` the top, which our load
            // (or failed compare-and-swap) of that head acquired. A stale value (the ring
            // was popped and pushed again meanwhile) fails the compare-and-swap below,
            // whose tag has moved on.
            let below = self.next[ring as usize].load(Ordering::Relaxed);
            let new = tagged(head, below);
            // Success Relaxed: it found the head we loaded (the tag rules out a lookalike),
            // whose push our load already acquired. Failure Acquire: the head it returns
            // is the one we read next, as the load above.
            match self
                .head
                .compare_exchange_weak(head, new, Ordering::Relaxed, Ordering::Acquire)
            {
                Ok(_) => {
                    let lent = self
                        .lent
                        .fetch_add(1, core::sync::atomic::Ordering::Relaxed)
                        + 1;
                    self.high_water
                        .fetch_max(lent, core::sync::atomic::Ordering::Relaxed);
                    return Some(ring);
                }
                Err(current) => head = current,
            }
        }
    }

    /// Gives `ring` back: the caller owns it and has reset it.
    pub(crate) fn give_back(&self, ring: u32) {
        self.lent
            .fetch_sub(1, core::sync::atomic::Ordering::Relaxed);
        let mut head = self.head.load(Ordering::Relaxed);
        loop {
            self.next[ring as usize].store(head & TOP_MASK, Ordering::Relaxed);
            let new = tagged(head, ring + 1);
            // Release: the ring's reset and its `next` happen-before a borrower that
            // pops it. Relaxed on failure: nothing was published.
            // mutant: ring_pool.reserve_push_release
            match self
                .head
                .compare_exchange_weak(head, new, Ordering::Release, Ordering::Relaxed)
            {
                Ok(_) => return,
                Err(current) => head = current,
            }
        }
    }
}

/// `head` with `top` (a ring's number plus one, or 0) on top and its tag incremented.
fn tagged(head: u32, top: u32) -> u32 {
    ((head >> TOP_BITS).wrapping_add(1) << TOP_BITS) | top
}

/// The most rings a lane can borrow beside `own` rings of its own.
pub(crate) fn max_reserve_for(own: usize) -> usize {
    MAX_ADDRESSES.saturating_sub(own.min(MAX_RINGS))
}

impl<T> core::fmt::Debug for Reserve<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Reserve")
            .field("rings", &self.rings.len())
            .field("lent", &self.lent())
            .finish_non_exhaustive()
    }
}

/// Which of a reserve's rings a lane holds: one bit per ring. Statistics-grade atomics
/// (`core`, Relaxed): the set is read in full only by the lane's owner, after everything
/// else done with the lane happened-before.
#[derive(Default)]
pub(crate) struct BorrowedRings([StatisticWord; BORROWED_WORDS]);

/// Words of the borrowed set: a bit for every ring a lane can name.
const BORROWED_WORDS: usize = MAX_ADDRESSES.div_ceil(32);

impl BorrowedRings {
    pub(crate) fn insert(&self, lent: u32) {
        self.0[lent as usize / 32]
            .fetch_or(1 << (lent % 32), core::sync::atomic::Ordering::Relaxed);
    }

    pub(crate) fn contains(&self, lent: u32) -> bool {
        self.0[lent as usize / 32].load(core::sync::atomic::Ordering::Relaxed) & (1 << (lent % 32))
            != 0
    }

    pub(crate) fn remove(&self, lent: u32) {
        self.0[lent as usize / 32]
            .fetch_and(!(1 << (lent % 32)), core::sync::atomic::Ordering::Relaxed);
    }

    /// Empties the set, calling `f` with each ring it held.
    pub(crate) fn take_all(&self, mut f: impl FnMut(u32)) {
        for (word, bits) in (0_u32..).zip(&self.0) {
            let mut bits = bits.swap(0, core::sync::atomic::Ordering::Relaxed);
            while bits != 0 {
                let bit = bits.trailing_zeros();
                bits &= bits - 1;
                f(word * 32 + bit);
            }
        }
    }
}
