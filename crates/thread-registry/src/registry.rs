//! The registry: its slots, registration of a thread, shutdown, and the single drain.

use crate::block::ProducerWaiter;
use crate::config::{RegistryConfig, ReserveConfig};
use crate::drain::RegistryDrain;
use crate::error::{RegisterError, RegistryError};
use crate::handle::ThreadHandle;
use crate::local;
use crate::occupancy::Occupancy;
use crate::slot::{AtomicSlotWord, NOT_REPORTED, Slot, SlotIdentity, SlotState, SlotWord};
use crate::sync::{AtomicBool, Ordering, Statistic, UnsafeCell};
use crate::wake::DrainParking;
use ada_ring_pool::{Lane, LaneConfig, LaneConfigError, LaneMode, Reserve};
use core::fmt;
use crossbeam_utils::CachePadded;
use std::sync::Arc;

/// A fixed set of slots, each with one thread's index and detail lanes.
///
/// Shared as `Arc<Registry>`: thread handles keep it alive.
pub struct Registry<I, D> {
    pub(crate) config: RegistryConfig,
    pub(crate) slots: Box<[Slot<I, D>]>,
    /// Per slot, its producer waiting for a ring of a `Block` lane (`block.rs`):
    /// written by the producer on its slow path, each on a line of its own.
    pub(crate) waiters: Box<[CachePadded<ProducerWaiter>]>,
    /// Which slots are not free.
    pub(crate) occupied: Occupancy,
    /// Set by `shutdown`; read by `register` and by producers waiting for a ring.
    pub(crate) shutting_down: AtomicBool,
    pub(crate) drain_taken: AtomicBool,
    /// Where the drain parks and producers wake it.
    pub(crate) parking: DrainParking,
    /// The shared reserves the lanes borrow from, if their budgets hold a ring.
    index_reserve: Option<Arc<Reserve<I>>>,
    detail_reserve: Option<Arc<Reserve<D>>>,
}

/// How much of a registry's shared reserves is in use ([`Registry::reserve_usage`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct ReserveUsage {
    /// The index lanes' reserve.
    pub index: ReserveCounts,
    /// The detail lanes' reserve.
    pub detail: ReserveCounts,
}

/// One reserve's size and use (all zero without a reserve).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct ReserveCounts {
    /// Rings in the reserve.
    pub rings: usize,
    /// Bytes of records those rings hold.
    pub bytes: usize,
    /// Rings lent to lanes now.
    pub lent: usize,
    /// The most rings lent at once so far.
    pub high_water: usize,
}

impl ReserveCounts {
    fn of<T>(reserve: Option<&Arc<Reserve<T>>>) -> Self {
        reserve.map_or_else(Self::default, |reserve| Self {
            rings: reserve.len(),
            bytes: reserve.bytes(),
            lent: reserve.lent(),
            high_water: reserve.high_water(),
        })
    }
}

/// A reserve of `bytes` of rings shaped as `lane`'s, or `None` for 0 bytes.
fn reserve_for<T: Copy>(
    lane: &LaneConfig,
    bytes: usize,
    adopt_per_lane: usize,
    lane_error: fn(LaneConfigError) -> RegistryError,
) -> Result<Option<Arc<Reserve<T>>>, RegistryError> {
    if bytes == 0 {
        return Ok(None);
    }
    if matches!(lane.mode, LaneMode::FlightRecorder { .. }) {
        return Err(lane_error(LaneConfigError::ReserveOnFlightRecorder));
    }
    let ring_bytes = lane.ring_records.max(1) * size_of::<T>().max(1);
    let rings = bytes / ring_bytes;
    if rings == 0 {
        return Err(RegistryError::ReserveBelowOneRing { bytes, ring_bytes });
    }
    Reserve::new(lane.ring_records, rings)
        .map(|reserve| Some(Arc::new(reserve.adopting(adopt_per_lane))))
        .map_err(lane_error)
}

/// A lane of `config`, borrowing from `reserve` if there is one.
fn lane<T: Copy>(
    config: LaneConfig,
    reserve: Option<&Arc<Reserve<T>>>,
) -> Result<Lane<T>, LaneConfigError> {
    match reserve {
        Some(reserve) => Lane::with_reserve(config, Arc::clone(reserve)),
        None => Lane::new(config),
    }
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
        Self::with_reserve(config, ReserveConfig::default())
    }

    /// Builds a registry whose lanes borrow from shared reserves of the given budgets
    /// when their own rings are all out (see [`ReserveConfig`]).
    ///
    /// # Errors
    /// As [`new`](Self::new); [`RegistryError::ReserveBelowOneRing`] for a budget above 0
    /// that holds no ring; a lane error ([`LaneConfigError::ReserveTooLarge`],
    /// [`LaneConfigError::ReserveOnFlightRecorder`]) for a reserve its lanes cannot use.
    pub fn with_reserve(
        config: RegistryConfig,
        reserve: ReserveConfig,
    ) -> Result<Arc<Self>, RegistryError> {
        RegistryError::check_capacity(config.capacity)?;
        let index_reserve = reserve_for(
            &config.index,
            reserve.index_bytes,
            reserve.adopt_per_lane,
            RegistryError::IndexLane,
        )?;
        let detail_reserve = reserve_for(
            &config.detail,
            reserve.detail_bytes,
            reserve.adopt_per_lane,
            RegistryError::DetailLane,
        )?;
        // A plain loop: a slot is kilobytes (two lanes), and collecting them through
        // iterator adapters kept several copies of one on the stack (loom models build
        // registries on 32 KiB stacks).
        let mut slots = Vec::with_capacity(config.capacity);
        for _ in 0..config.capacity {
            slots.push(Slot {
                state: CachePadded::new(AtomicSlotWord::new(SlotWord::NEVER_USED)),
                index: lane(config.index, index_reserve.as_ref())
                    .map_err(RegistryError::IndexLane)?,
                detail: lane(config.detail, detail_reserve.as_ref())
                    .map_err(RegistryError::DetailLane)?,
                identity: UnsafeCell::new(None),
                reported: [const { Statistic::new(NOT_REPORTED) }; 2],
            });
        }
        let slots = slots.into_boxed_slice();
        // Beside the slots rather than in them: a slot's construction stays as small on
        // the stack as it was (loom models build registries on 32 KiB stacks).
        let waiters = (0..config.capacity)
            .map(|_| CachePadded::new(ProducerWaiter::new()))
            .collect();
        Ok(Arc::new(Self {
            config,
            slots,
            waiters,
            occupied: Occupancy::new(config.capacity),
            shutting_down: AtomicBool::new(false),
            drain_taken: AtomicBool::new(false),
            parking: DrainParking::new(),
            index_reserve,
            detail_reserve,
        }))
    }

    /// The shared reserves' sizes and use now (all zero without reserves).
    #[must_use]
    pub fn reserve_usage(&self) -> ReserveUsage {
        ReserveUsage {
            index: ReserveCounts::of(self.index_reserve.as_ref()),
            detail: ReserveCounts::of(self.detail_reserve.as_ref()),
        }
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
        let slot = self.occupied.claim().ok_or(RegisterError::Full {
            capacity: self.config.capacity,
        })?;
        let entry = &self.slots[slot];
        // Relaxed: the bit claim (Acquire) already ordered us after the drain's release
        // of this slot, which wrote the state we read here.
        let previous = entry.state.load(Ordering::Relaxed);
        let generation = previous.generation().wrapping_add(1);
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
        let handle = unsafe { ThreadHandle::new(Arc::clone(self), slot, generation) };
        // Release: the identity and our claim of the lanes happen-before a drain that
        // sees `Active`.
        // mutant: thread_registry.active_publish
        entry.state.store(
            SlotWord::new(generation, SlotState::Active),
            Ordering::Release,
        );
        Ok(handle)
    }

    /// Refuses further registrations. Threads already registered keep writing until
    /// they exit; the drain collects them.
    ///
    /// Producers waiting for a ring of an [`ExhaustionPolicy::Block`] lane are released:
    /// each drops the event it was writing (counted, cause `timeout`), and from then on
    /// a producer that finds no ring drops without waiting, so a stopping drain never
    /// waits for them and every event is accounted for.
    ///
    /// [`ExhaustionPolicy::Block`]: ada_ring_pool::ExhaustionPolicy::Block
    pub fn shutdown(&self) {
        // Release: see `register`.
        self.shutting_down.store(true, Ordering::Release);
        if self.blocks() {
            // Each waiting producer re-checks the flag after its fence (`block.rs`).
            for waiter in &self.waiters[..] {
                waiter.wake();
            }
        }
    }

    /// Whether either lane's policy is `Block` (producers may wait for rings).
    pub(crate) fn blocks(&self) -> bool {
        self.config.index.policy.is_block() || self.config.detail.policy.is_block()
    }

    /// Producers waiting for a ring of an [`ExhaustionPolicy::Block`] lane right now (a
    /// statistic: each slot's flag read without ordering).
    ///
    /// [`ExhaustionPolicy::Block`]: ada_ring_pool::ExhaustionPolicy::Block
    #[must_use]
    pub fn waiting_producers(&self) -> usize {
        self.waiters
            .iter()
            .filter(|waiter| waiter.is_waiting())
            .count()
    }

    /// Whether [`shutdown`](Self::shutdown) was called.
    #[must_use]
    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::Acquire)
    }

    /// Slots not free now (active or retiring).
    #[must_use]
    pub fn occupied(&self) -> usize {
        self.occupied.count()
    }

    /// The drain's handle, or `None` while another one is alive: a registry has one
    /// drain at a time.
    pub fn drain(&self) -> Option<RegistryDrain<'_, I, D>> {
        // Acquire: everything an earlier drain did happens-before this one.
        if self.drain_taken.swap(true, Ordering::Acquire) {
            return None;
        }
        Some(RegistryDrain::new(self))
    }

    /// Runs `f` with the calling thread's handle for this registry, registering the
    /// thread on its first call. The handle lives in thread-local storage and retires
    /// when the thread exits. Works with any number of registries at once. A handle
    /// keeps its registry alive, so a registration first retires the thread's handles
    /// of registries that are shutting down: a long-lived thread keeps at most one
    /// shut-down registry (the last it wrote to) in memory.
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

impl<I, D> fmt::Debug for Registry<I, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}
