//! Bounded slots of per-thread lane sets: how each traced thread gets its own lanes, and
//! how the drain finds every thread's lanes.
//!
//! A [`Registry`] is a value (no process global): two registries in one process are
//! fully independent. It holds a fixed number of slots, each with one thread's lane set,
//! an index lane and a detail lane (`ada-ring-pool`). A slot goes
//! `Free → Active → Retiring → Free`:
//!
//! - [`Registry::register`] claims a free slot (a bit in a bitmap of words, so any
//!   capacity works) and returns a [`ThreadHandle`]; a full registry is a typed error the
//!   thread can retry, a registry shutting down refuses with its own error.
//! - Dropping the handle (thread exit) closes both lanes (the partly filled rings are
//!   submitted) and marks the slot `Retiring`. The slot becomes free only when the drain
//!   has taken everything and calls [`ActiveSlot::release`], which resets the lanes, so a
//!   reused slot starts clean; every registration bumps the slot's generation.
//! - [`RegistryDrain::for_each_slot`] enumerates every non-free slot across the whole
//!   capacity, from a rotating start, without locks or allocation.
//! - [`Registry::with_local`] registers the calling thread on first use and keeps its
//!   handle in thread-local storage until the thread exits; it works with several
//!   registries at once.
//!
//! ```
//! use ada_thread_registry::{Registry, RegistryConfig};
//!
//! let registry = Registry::<u64, [u8; 64]>::new(RegistryConfig::default())?;
//! std::thread::scope(|s| {
//!     for t in 0..4_u64 {
//!         let registry = &registry;
//!         s.spawn(move || {
//!             let mut handle = registry.register().expect("64 slots, 4 threads");
//!             for event in 0..1000 {
//!                 handle.index(t * 1000 + event);
//!             }
//!         }); // the handle drops here: the slot retires, nothing is lost
//!     }
//! });
//! let mut drain = registry.drain().expect("the only drain");
//! let mut delivered = 0;
//! let mut released = 0;
//! drain.for_each_slot(|mut slot| {
//!     let mut lane = slot.index_drain();
//!     while let Some(ring) = lane.take() {
//!         delivered += ring.records().len();
//!         ring.deliver();
//!     }
//!     if let Ok(retired) = slot.release() {
//!         assert!(retired.index.is_conserved());
//!         released += 1;
//!     }
//! });
//! assert_eq!((delivered, released), (4000, 4));
//! # Ok::<(), ada_thread_registry::RegistryError>(())
//! ```
#![warn(missing_docs)]

mod sync;

use ada_ring_pool::{Lane, LaneConfig, LaneConfigError, LaneDrain, LaneProducer, LaneSnapshot};
use core::fmt;
use crossbeam_utils::CachePadded;
use std::sync::Arc;
use sync::{AtomicBool, AtomicU32, AtomicUsize, Mutex, Ordering, Thread, UnsafeCell};

/// Bits per bitmap word.
const BITS: usize = usize::BITS as usize;

/// Slot states, in the low two bits of the slot word; the generation is above them.
const FREE: u32 = 0;
const ACTIVE: u32 = 1;
const RETIRING: u32 = 2;
const STATE_MASK: u32 = 0b11;

/// A registry's shape: how many slots, and each slot's two lanes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegistryConfig {
    /// Slots (threads registered at once).
    pub capacity: usize,
    /// Each thread's index lane.
    pub index: LaneConfig,
    /// Each thread's detail lane.
    pub detail: LaneConfig,
}

/// The most slots a registry may have.
pub const MAX_CAPACITY: usize = 1 << 16;

impl Default for RegistryConfig {
    /// 64 slots (the seed's `MAX_THREADS`), default index and detail lanes.
    fn default() -> Self {
        Self {
            capacity: 64,
            index: LaneConfig::index_lane(),
            detail: LaneConfig::detail_lane(),
        }
    }
}

/// Why a registry could not be built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RegistryError {
    /// `capacity` was 0.
    ZeroCapacity,
    /// `capacity` above [`MAX_CAPACITY`].
    TooLarge {
        /// Slots asked for.
        capacity: usize,
        /// The limit.
        max: usize,
    },
    /// The index lane's configuration is invalid.
    IndexLane(LaneConfigError),
    /// The detail lane's configuration is invalid.
    DetailLane(LaneConfigError),
}

impl fmt::Display for RegistryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ZeroCapacity => f.write_str("a registry needs at least 1 slot"),
            Self::TooLarge { capacity, max } => {
                write!(f, "a registry holds at most {max} slots, not {capacity}")
            }
            Self::IndexLane(error) => write!(f, "index lane: {error}"),
            Self::DetailLane(error) => write!(f, "detail lane: {error}"),
        }
    }
}

impl std::error::Error for RegistryError {}

/// Why a thread could not be registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RegisterError {
    /// Every slot is taken; retry after a thread has exited and the drain has collected
    /// its slot.
    Full {
        /// The registry's capacity.
        capacity: usize,
    },
    /// The registry is shutting down and accepts no new threads.
    ShuttingDown,
    /// [`Registry::with_local`] was called from inside its own closure, or during the
    /// thread's exit after its thread-local handles were dropped.
    LocalUnavailable,
}

impl fmt::Display for RegisterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full { capacity } => write!(f, "all {capacity} slots are taken; retry later"),
            Self::ShuttingDown => f.write_str("the registry is shutting down"),
            Self::LocalUnavailable => f.write_str(
                "the thread-local handle is in use (re-entrant call) or already dropped (thread exit)",
            ),
        }
    }
}

impl std::error::Error for RegisterError {}

/// Who holds a slot: for sinks and metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotIdentity {
    /// The slot's index in the registry.
    pub slot: usize,
    /// Registrations of this slot so far, this one included.
    pub generation: u32,
    /// The registering thread's id.
    pub thread_id: std::thread::ThreadId,
    /// The registering thread's name, if it has one.
    pub thread_name: Option<String>,
    /// When the thread registered.
    pub registered_at: std::time::SystemTime,
}

/// One thread's slot: its state word, its lanes and who holds it.
struct Slot<I, D> {
    /// `generation << 2 | state`. Written by the registering thread (→ `Active`), the
    /// owning thread (→ `Retiring`) and the drain (→ `Free`).
    state: CachePadded<AtomicU32>,
    index: Lane<I>,
    detail: Lane<D>,
    /// Written by the registering thread before it publishes `Active`; read by the
    /// drain after it sees `Active` or `Retiring`; taken by the drain at release.
    identity: UnsafeCell<Option<SlotIdentity>>,
}

/// A fixed set of slots, each with one thread's index and detail lanes.
///
/// Shared as `Arc<Registry>`: thread handles keep it alive.
pub struct Registry<I, D> {
    config: RegistryConfig,
    slots: Box<[Slot<I, D>]>,
    /// Bit `i` set: slot `i` is not free (claimed, active or retiring).
    occupied: Box<[CachePadded<AtomicUsize>]>,
    shutting_down: AtomicBool,
    drain_taken: AtomicBool,
    /// Set by a drain about to park; read by producers that just submitted a ring.
    drain_parked: CachePadded<AtomicBool>,
    /// The parking drain's thread, to unpark.
    drain_thread: Mutex<Option<Thread>>,
}

// SAFETY: the identity cells are written only by the thread that claimed the slot's bit
// (before it publishes `Active` with Release) and read or taken only by the single drain
// after an Acquire load of that state; lanes are `Sync`.
unsafe impl<I: Send, D: Send> Sync for Registry<I, D> {}

impl<I: Copy + Send + 'static, D: Copy + Send + 'static> Registry<I, D> {
    /// Builds a registry with every slot's lanes allocated up front.
    ///
    /// # Errors
    /// [`RegistryError`] naming the wrong setting.
    ///
    /// ```
    /// use ada_thread_registry::{Registry, RegistryConfig, RegistryError};
    /// let config = RegistryConfig { capacity: 0, ..RegistryConfig::default() };
    /// assert_eq!(Registry::<u64, u64>::new(config).err(), Some(RegistryError::ZeroCapacity));
    /// ```
    pub fn new(config: RegistryConfig) -> Result<Arc<Self>, RegistryError> {
        if config.capacity == 0 {
            return Err(RegistryError::ZeroCapacity);
        }
        if config.capacity > MAX_CAPACITY {
            return Err(RegistryError::TooLarge {
                capacity: config.capacity,
                max: MAX_CAPACITY,
            });
        }
        let slots = (0..config.capacity)
            .map(|_| {
                Ok(Slot {
                    state: CachePadded::new(AtomicU32::new(FREE)),
                    index: Lane::new(config.index).map_err(RegistryError::IndexLane)?,
                    detail: Lane::new(config.detail).map_err(RegistryError::DetailLane)?,
                    identity: UnsafeCell::new(None),
                })
            })
            .collect::<Result<Box<[_]>, RegistryError>>()?;
        let words = config.capacity.div_ceil(BITS);
        Ok(Arc::new(Self {
            config,
            slots,
            occupied: (0..words)
                .map(|_| CachePadded::new(AtomicUsize::new(0)))
                .collect(),
            shutting_down: AtomicBool::new(false),
            drain_taken: AtomicBool::new(false),
            drain_parked: CachePadded::new(AtomicBool::new(false)),
            drain_thread: Mutex::new(None),
        }))
    }

    /// The registry's configuration.
    #[must_use]
    pub fn config(&self) -> &RegistryConfig {
        &self.config
    }

    /// Registers the calling thread: claims a free slot and returns the handle through
    /// which the thread writes. Dropping the handle retires the slot.
    ///
    /// # Errors
    /// [`RegisterError::Full`] when every slot is taken (retry later: slots free up as
    /// the drain collects exited threads), [`RegisterError::ShuttingDown`] after
    /// [`shutdown`](Self::shutdown).
    pub fn register(self: &Arc<Self>) -> Result<ThreadHandle<I, D>, RegisterError> {
        // Acquire: pairs with `shutdown`'s Release (no ordering of data depends on it,
        // but a refusal should reflect a shutdown that happened-before).
        if self.shutting_down.load(Ordering::Acquire) {
            return Err(RegisterError::ShuttingDown);
        }
        let slot = self.claim_bit().ok_or(RegisterError::Full {
            capacity: self.config.capacity,
        })?;
        let entry = &self.slots[slot];
        // Relaxed: the bit claim (Acquire) already ordered us after the drain's release
        // of this slot, which wrote the state we read here.
        let previous = entry.state.load(Ordering::Relaxed);
        let generation = (previous >> 2).wrapping_add(1);
        let current = std::thread::current();
        // SAFETY: we own the claimed bit and the slot is `Free`, so the drain does not read
        // the identity until the `Active` store below publishes it.
        entry.identity.with_mut(|identity| unsafe {
            *identity = Some(SlotIdentity {
                slot,
                generation,
                thread_id: current.id(),
                thread_name: current.name().map(str::to_owned),
                registered_at: std::time::SystemTime::now(),
            });
        });
        // SAFETY: the slot is ours: its lanes were reset by the drain before it freed the
        // bit we claimed (Acquire), and no other producer exists.
        let (index, detail) = unsafe {
            (
                extend(
                    entry
                        .index
                        .producer()
                        .expect("a free slot's lanes are reset and open"),
                ),
                extend(
                    entry
                        .detail
                        .producer()
                        .expect("a free slot's lanes are reset and open"),
                ),
            )
        };
        // Release: the identity and our claim of the lanes happen-before a drain that
        // sees `Active`.
        entry
            .state
            .store(generation << 2 | ACTIVE, Ordering::Release);
        Ok(ThreadHandle {
            index: Some(index),
            detail: Some(detail),
            slot,
            generation,
            registry: Arc::clone(self),
        })
    }

    /// Claims the lowest free bit of the bitmap.
    fn claim_bit(&self) -> Option<usize> {
        for (word_index, word) in self.occupied.iter().enumerate() {
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

    /// The bits of word `word_index` that name real slots.
    fn valid_bits(&self, word_index: usize) -> usize {
        let first = word_index * BITS;
        let count = (self.config.capacity - first).min(BITS);
        if count == BITS {
            usize::MAX
        } else {
            (1 << count) - 1
        }
    }

    /// Refuses further registrations. Threads already registered keep writing until
    /// they exit; the drain collects them.
    pub fn shutdown(&self) {
        // Release: see `register`.
        self.shutting_down.store(true, Ordering::Release);
    }

    /// Whether [`shutdown`](Self::shutdown) was called.
    #[must_use]
    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::Acquire)
    }

    /// Slots not free now (active or retiring).
    #[must_use]
    pub fn occupied(&self) -> usize {
        self.occupied
            .iter()
            .map(|word| word.load(Ordering::Relaxed).count_ones() as usize)
            .sum()
    }

    /// Unparks the drain if it is parked. Producers call it after they submitted a ring.
    #[cold]
    #[inline(never)]
    fn wake_drain(&self) {
        // SeqCst fence: with the drain's fence in `RegistryDrain::park`, either this load
        // sees the drain parked, or the drain's re-check sees our submitted ring (the
        // classic store-fence-load pairing; a Release/Acquire pair cannot give this).
        sync::fence(Ordering::SeqCst);
        if self.drain_parked.load(Ordering::Relaxed) {
            let thread = self
                .drain_thread
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(thread) = thread.as_ref() {
                thread.unpark();
            }
        }
    }

    /// The drain's handle, or `None` while another one is alive: a registry has one
    /// drain at a time.
    pub fn drain(&self) -> Option<RegistryDrain<'_, I, D>> {
        // Acquire: everything an earlier drain did happens-before this one.
        if self.drain_taken.swap(true, Ordering::Acquire) {
            return None;
        }
        Some(RegistryDrain {
            registry: self,
            cursor: 0,
        })
    }

    /// Runs `f` with the calling thread's handle for this registry, registering the
    /// thread on its first call. The handle lives in thread-local storage and retires
    /// when the thread exits. Works with any number of registries at once.
    ///
    /// ```
    /// use ada_thread_registry::{Registry, RegistryConfig};
    /// let first = Registry::<u64, u64>::new(RegistryConfig::default())?;
    /// let second = Registry::<u64, u64>::new(RegistryConfig::default())?;
    /// std::thread::spawn({
    ///     let (first, second) = (first.clone(), second.clone());
    ///     move || {
    ///         first.with_local(|handle| handle.index(1)).unwrap();
    ///         second.with_local(|handle| handle.index(2)).unwrap();
    ///         first.with_local(|handle| handle.index(3)).unwrap();
    ///     }
    /// })
    /// .join()
    /// .unwrap();
    /// assert_eq!((first.occupied(), second.occupied()), (1, 1)); // retiring until drained
    /// # Ok::<(), ada_thread_registry::RegistryError>(())
    /// ```
    ///
    /// # Errors
    /// As [`register`](Self::register) on the first call; and
    /// [`RegisterError::LocalUnavailable`] from inside `f` or during thread exit.
    #[inline]
    pub fn with_local<R>(
        self: &Arc<Self>,
        f: impl FnOnce(&mut ThreadHandle<I, D>) -> R,
    ) -> Result<R, RegisterError> {
        local::with(self, f)
    }
}

/// Extends a lane producer's borrow to `'static`.
///
/// # Safety
/// The returned producer must be dropped before the registry that owns the lane; a
/// [`ThreadHandle`] guarantees it by holding an `Arc` of the registry in a field that
/// drops after its producers.
unsafe fn extend<T>(producer: LaneProducer<'_, T>) -> LaneProducer<'static, T> {
    // SAFETY: only the lifetime changes; the caller keeps the lane alive.
    unsafe { core::mem::transmute::<LaneProducer<'_, T>, LaneProducer<'static, T>>(producer) }
}

impl<I, D> fmt::Debug for Registry<I, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// A registered thread's access to its lanes. Dropping it retires the slot.
pub struct ThreadHandle<I: Copy + Send + 'static, D: Copy + Send + 'static> {
    // Field order matters: the producers borrow lanes owned by `registry` and must drop
    // first.
    index: Option<LaneProducer<'static, I>>,
    detail: Option<LaneProducer<'static, D>>,
    slot: usize,
    generation: u32,
    registry: Arc<Registry<I, D>>,
}

impl<I: Copy + Send + 'static, D: Copy + Send + 'static> ThreadHandle<I, D> {
    /// Writes an index-lane record. When the write submitted a ring (it is the first
    /// record of a fresh ring) and the drain is parked, the drain is woken.
    #[inline]
    pub fn index(&mut self, record: I) {
        if let Some(lane) = &mut self.index {
            lane.write(record);
            if lane.active_len() == 1 {
                self.registry.wake_drain();
            }
        }
    }

    /// Writes a detail-lane record (waking a parked drain as [`index`](Self::index)).
    #[inline]
    pub fn detail(&mut self, record: D) {
        if let Some(lane) = &mut self.detail {
            lane.write(record);
            if lane.active_len() == 1 {
                self.registry.wake_drain();
            }
        }
    }

    /// Wakes the drain if it is parked: call after submitting through
    /// [`index_lane`](Self::index_lane) or [`detail_lane`](Self::detail_lane) directly
    /// (`flush`, `write_slice`, `mark_pop`).
    pub fn wake_drain(&self) {
        self.registry.wake_drain();
    }

    /// The index lane's producer, for batches, flushes and marks.
    pub fn index_lane(&mut self) -> &mut LaneProducer<'static, I> {
        self.index.as_mut().expect("present until drop")
    }

    /// The detail lane's producer, for marks and flushes.
    pub fn detail_lane(&mut self) -> &mut LaneProducer<'static, D> {
        self.detail.as_mut().expect("present until drop")
    }

    /// The slot's index.
    #[must_use]
    pub fn slot(&self) -> usize {
        self.slot
    }

    /// The slot's generation for this registration.
    #[must_use]
    pub fn generation(&self) -> u32 {
        self.generation
    }
}

impl<I: Copy + Send + 'static, D: Copy + Send + 'static> Drop for ThreadHandle<I, D> {
    fn drop(&mut self) {
        if let Some(index) = self.index.take() {
            index.close();
        }
        if let Some(detail) = self.detail.take() {
            detail.close();
        }
        // Release: both lanes' final submits and closes happen-before a drain that sees
        // `Retiring`.
        self.registry.slots[self.slot]
            .state
            .store(self.generation << 2 | RETIRING, Ordering::Release);
        // The final rings and the retirement are work for a parked drain.
        self.registry.wake_drain();
    }
}

impl<I: Copy + Send + 'static, D: Copy + Send + 'static> fmt::Debug for ThreadHandle<I, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadHandle")
            .field("slot", &self.slot)
            .field("generation", &self.generation)
            .finish_non_exhaustive()
    }
}

/// The registry's single drain: enumerates slots, drains their lanes, frees retired ones.
pub struct RegistryDrain<'r, I, D> {
    registry: &'r Registry<I, D>,
    /// Where the next enumeration starts; advances by one slot per enumeration.
    cursor: usize,
}

impl<'r, I: Copy + Send + 'static, D: Copy + Send + 'static> RegistryDrain<'r, I, D> {
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
            let mut slot = from;
            while slot < to {
                let word_index = slot / BITS;
                // Acquire: a claimed bit is followed by the claimant's `Active` store,
                // which we load (Acquire) below; this load only finds candidates.
                let word = registry.occupied[word_index].load(Ordering::Acquire);
                let offset = slot % BITS;
                let remaining = word >> offset;
                if remaining == 0 {
                    slot = (word_index + 1) * BITS;
                    continue;
                }
                slot += remaining.trailing_zeros() as usize;
                if slot >= to {
                    break;
                }
                // Acquire: pairs with the Release of `register` (identity, lanes) and of
                // the handle's drop (final submits).
                let state = registry.slots[slot].state.load(Ordering::Acquire);
                if state & STATE_MASK != FREE {
                    visited += 1;
                    f(ActiveSlot {
                        registry,
                        slot,
                        state,
                        _drain: core::marker::PhantomData,
                    });
                }
                slot += 1;
            }
        }
        visited
    }
}

impl<I: Copy + Send + 'static, D: Copy + Send + 'static> RegistryDrain<'_, I, D> {
    /// Whether any occupied slot has work waiting: a submitted ring, or a retired thread
    /// whose slot can be released.
    #[must_use]
    pub fn has_work(&self) -> bool {
        let registry = self.registry;
        registry
            .occupied
            .iter()
            .enumerate()
            .any(|(word_index, word)| {
                let mut bits = word.load(Ordering::Acquire);
                while bits != 0 {
                    let slot = word_index * BITS + bits.trailing_zeros() as usize;
                    bits &= bits - 1;
                    let entry = &registry.slots[slot];
                    // Acquire: pairs with the Release of a handle's drop.
                    let retiring = entry.state.load(Ordering::Acquire) & STATE_MASK == RETIRING;
                    if retiring
                        || entry.index.submitted_len() > 0
                        || entry.detail.submitted_len() > 0
                    {
                        return true;
                    }
                }
                false
            })
    }

    /// Parks the calling (drain) thread for at most `timeout`, unless a ring is already
    /// waiting. A producer that submits a ring while the drain is parked, or about to
    /// park, unparks it: no wake-up is lost, and producers pay for the check only when
    /// they submit a ring.
    pub fn park(&mut self, timeout: std::time::Duration) {
        let registry = self.registry;
        {
            let mut thread = registry
                .drain_thread
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if thread.is_none() {
                *thread = Some(sync::current());
            }
        }
        registry.drain_parked.store(true, Ordering::Relaxed);
        // SeqCst fence: pairs with the producers' fence in `wake_drain`.
        sync::fence(Ordering::SeqCst);
        if !self.has_work() {
            sync::park_timeout(timeout);
        }
        registry.drain_parked.store(false, Ordering::Relaxed);
    }
}

impl<I, D> Drop for RegistryDrain<'_, I, D> {
    fn drop(&mut self) {
        // The next drain may run on another thread.
        *self
            .registry
            .drain_thread
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
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

/// A slot the drain is visiting: an active or retiring thread's lanes.
pub struct ActiveSlot<'d, 'r, I, D> {
    registry: &'r Registry<I, D>,
    slot: usize,
    state: u32,
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

/// Why [`ActiveSlot::release`] refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReleaseError {
    /// The thread is still registered.
    StillActive,
    /// The thread retired but submitted rings are still waiting: take them first.
    NotDrained,
}

impl fmt::Display for ReleaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::StillActive => f.write_str("the slot's thread is still registered"),
            Self::NotDrained => f.write_str("the retired slot still holds submitted rings"),
        }
    }
}

impl std::error::Error for ReleaseError {}

impl<I: Copy + Send + 'static, D: Copy + Send + 'static> ActiveSlot<'_, '_, I, D> {
    /// The slot's index.
    #[must_use]
    pub fn slot(&self) -> usize {
        self.slot
    }

    /// The generation seen when the slot was visited.
    #[must_use]
    pub fn generation(&self) -> u32 {
        self.state >> 2
    }

    /// Whether the thread has exited (its lanes are closed).
    #[must_use]
    pub fn is_retiring(&self) -> bool {
        self.state & STATE_MASK == RETIRING
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
        // Release: the resets happen-before the next registration, which claims the bit
        // (Acquire) cleared below after this store.
        entry
            .state
            .store(self.generation() << 2 | FREE, Ordering::Release);
        let bit = 1 << (self.slot % BITS);
        registry.occupied[self.slot / BITS].fetch_and(!bit, Ordering::Release);
        Ok(RetiredSlot {
            identity,
            index,
            detail,
        })
    }
}

impl<I, D> fmt::Debug for ActiveSlot<'_, '_, I, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ActiveSlot")
            .field("slot", &self.slot)
            .field("generation", &(self.state >> 2))
            .field("retiring", &(self.state & STATE_MASK == RETIRING))
            .finish()
    }
}

mod local;

#[cfg(all(test, not(loom)))]
mod tests;

#[cfg(all(test, loom))]
mod loom_tests;

/// The README's example, compiled and run as a doc test.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
