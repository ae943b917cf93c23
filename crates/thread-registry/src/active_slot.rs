//! A slot the drain is visiting: the thread's lane drains, its identity and counters,
//! and the release of a retired slot (with what its thread left).

use crate::error::ReleaseError;
use crate::registry::Registry;
use crate::slot::{NOT_REPORTED, SlotIdentity, SlotState, SlotWord};
use crate::sync::Ordering;
use ada_ring_pool::{LaneDrain, LaneSnapshot};
use core::fmt;

/// A slot the drain is visiting: an active or retiring thread's lanes.
///
/// When the visit ends (the `ActiveSlot` is dropped) after the drain recycled rings of a
/// lane whose policy is [`Block`](ada_ring_pool::ExhaustionPolicy::Block), the slot's
/// thread is woken if it waits for a ring: a fence and a load, and a system call only
/// when it waits, so a drain cannot forget it and pays nothing for lanes that never
/// block.
///
/// ```
/// use ada_ring_pool::{ExhaustionPolicy, LaneConfig};
/// use ada_thread_registry::{Registry, RegistryConfig};
///
/// let index = LaneConfig {
///     rings: 2,
///     ring_records: 4,
///     policy: ExhaustionPolicy::Block { timeout: None },
///     ..LaneConfig::index_lane()
/// };
/// let config = RegistryConfig { index, ..RegistryConfig::default() };
/// let registry = Registry::<u64, u64>::new(config)?;
/// let writer = std::thread::spawn({
///     let registry = registry.clone();
///     move || {
///         let mut handle = registry.register().unwrap();
///         for event in 0..100 {
///             handle.index(event); // waits whenever both rings are the drain's
///         }
///     }
/// });
/// let mut drain = registry.drain().expect("the only drain");
/// let (mut seen, mut released) = (Vec::new(), None);
/// while released.is_none() {
///     drain.for_each_slot(|mut slot| {
///         let mut lane = slot.index_drain();
///         while let Some(ring) = lane.take() {
///             seen.extend_from_slice(ring.records());
///             ring.deliver();
///         }
///         released = slot.release().ok();
///     }); // each visit that recycled rings woke the writer if it waited
///     std::thread::yield_now();
/// }
/// writer.join().unwrap();
/// assert_eq!(seen, (0..100).collect::<Vec<_>>());
/// let index = released.unwrap().index;
/// assert_eq!((index.events_written, index.dropped.total()), (100, 0));
/// # Ok::<(), ada_thread_registry::RegistryError>(())
/// ```
pub struct ActiveSlot<'d, 'r, I, D> {
    registry: &'r Registry<I, D>,
    slot: usize,
    /// The state word this visit loaded (Acquire).
    word: SlotWord,
    /// Each lane's `rings_recycled` when the visit began, for an active slot of a
    /// registry whose lanes may block; `None` otherwise (nobody to wake).
    recycled_before: Option<[u64; 2]>,
    /// Borrows the drain: one visited slot at a time, and only from the drain.
    _drain: core::marker::PhantomData<&'d mut ()>,
}

/// What a released slot's thread left: its identity and both lanes' final counters.
#[derive(Debug, Clone)]
pub struct RetiredSlot {
    /// Who held the slot.
    pub identity: Option<SlotIdentity>,
    /// The index lane's final counters.
    pub index: LaneSnapshot,
    /// The detail lane's final counters.
    pub detail: LaneSnapshot,
}

impl<'r, I: Copy + Send + 'static, D: Copy + Send + 'static> ActiveSlot<'_, 'r, I, D> {
    /// A visit of `slot`, whose state word the drain loaded as `word`.
    pub(crate) fn new(registry: &'r Registry<I, D>, slot: usize, word: SlotWord) -> Self {
        let entry = &registry.slots[slot];
        let recycled_before = (registry.blocks() && word.state() == SlotState::Active)
            .then(|| [entry.index.rings_recycled(), entry.detail.rings_recycled()]);
        Self {
            registry,
            slot,
            word,
            recycled_before,
            _drain: core::marker::PhantomData,
        }
    }

    /// The slot's index.
    #[must_use]
    pub fn slot(&self) -> usize {
        self.slot
    }

    /// The generation seen when the slot was visited.
    #[must_use]
    pub fn generation(&self) -> u32 {
        self.word.generation()
    }

    /// Whether the thread has exited (its lanes are closed).
    #[must_use]
    pub fn is_retiring(&self) -> bool {
        self.word.state() == SlotState::Retiring
    }

    /// Who holds the slot.
    #[must_use]
    pub fn identity(&self) -> Option<&SlotIdentity> {
        // SAFETY: written before the `Active` store this visit observed (Acquire);
        // rewritten only after the drain (us) frees the slot.
        self.registry.slots[self.slot]
            .identity
            .with(|identity| unsafe { (*identity).as_ref() })
    }

    /// The drain side of the thread's index lane.
    pub fn index_drain(&mut self) -> LaneDrain<'_, I> {
        // SAFETY: the registry has one drain, and `&mut self` makes this the only lane
        // drain handle of this slot.
        unsafe { self.registry.slots[self.slot].index.drain() }
    }

    /// The drain side of the thread's detail lane.
    pub fn detail_drain(&mut self) -> LaneDrain<'_, D> {
        // SAFETY: as in `index_drain`.
        unsafe { self.registry.slots[self.slot].detail.drain() }
    }

    /// The thread's index and detail lane counters now.
    #[must_use]
    pub fn snapshots(&self) -> (LaneSnapshot, LaneSnapshot) {
        let entry = &self.registry.slots[self.slot];
        (entry.index.snapshot(), entry.detail.snapshot())
    }

    /// The thread's index and detail lane counters as a stopping drain's final report
    /// counts them ([`LaneDrain::final_snapshot`]: a live flight recorder's unkept
    /// windows count as discarded). Remembers the events written they count, so that
    /// the thread's handle can tell what it writes after this report
    /// ([`ThreadHandle::unreported_events`](crate::ThreadHandle::unreported_events)).
    pub fn final_snapshots(&mut self) -> (LaneSnapshot, LaneSnapshot) {
        let index = self.index_drain().final_snapshot();
        let detail = self.detail_drain().final_snapshot();
        let entry = &self.registry.slots[self.slot];
        entry.reported[0].set(index.events_written);
        entry.reported[1].set(detail.events_written);
        (index, detail)
    }

    /// Frees a retired slot whose lanes are drained: returns the thread's final counters
    /// and identity, resets the lanes, and makes the slot available to a new thread.
    ///
    /// # Errors
    /// [`ReleaseError::StillActive`] for a registered thread, [`ReleaseError::NotDrained`]
    /// while submitted rings remain.
    pub fn release(self) -> Result<RetiredSlot, ReleaseError> {
        if !self.is_retiring() {
            return Err(ReleaseError::StillActive);
        }
        let registry = self.registry;
        let entry = &registry.slots[self.slot];
        if !entry.index.is_drained() || !entry.detail.is_drained() {
            return Err(ReleaseError::NotDrained);
        }
        let (index, detail) = self.snapshots();
        // SAFETY: the thread retired (its handle dropped, closing both lanes, before the
        // `Retiring` store we loaded with Acquire); `self` is consumed, so no lane drain
        // handle or taken ring of this slot is alive; the lanes are drained.
        let identity = unsafe {
            entry.index.reset_unchecked();
            entry.detail.reset_unchecked();
            entry.identity.with_mut(|identity| (*identity).take())
        };
        registry.waiters[self.slot].forget_thread();
        for reported in &entry.reported {
            reported.set(NOT_REPORTED);
        }
        // Release: the resets happen-before the next registration, which claims the bit
        // (Acquire) cleared below after this store.
        entry.state.store(
            SlotWord::new(self.generation(), SlotState::Free),
            Ordering::Release,
        );
        registry.occupied.release(self.slot);
        Ok(RetiredSlot {
            identity,
            index,
            detail,
        })
    }
}

impl<I, D> Drop for ActiveSlot<'_, '_, I, D> {
    fn drop(&mut self) {
        let Some([index, detail]) = self.recycled_before else {
            return;
        };
        let entry = &self.registry.slots[self.slot];
        if entry.index.rings_recycled() != index || entry.detail.rings_recycled() != detail {
            // After the free queue pushes (their tail stores, Release): with the fence
            // pair in `block.rs`, a waiting producer sees the rings, or this sees it
            // waiting and unparks it.
            self.registry.waiters[self.slot].wake();
        }
    }
}

impl<I, D> fmt::Debug for ActiveSlot<'_, '_, I, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ActiveSlot")
            .field("slot", &self.slot)
            .field("generation", &self.word.generation())
            .field("retiring", &(self.word.state() == SlotState::Retiring))
            .finish()
    }
}
