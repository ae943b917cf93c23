//! A registry's shape: how many slots, and each slot's two lanes.

use ada_ring_pool::LaneConfig;

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

/// The budgets of a registry's shared reserves: spare rings that every thread's lane of
/// a kind may borrow when its own rings are all out, before its exhaustion policy
/// applies (see [`ada_ring_pool::Reserve`]). Each budget is rounded down to whole rings
/// of its lanes' shape; 0 (the default): no reserve. A flight-recorder lane recycles its
/// own windows and cannot have one.
///
/// ```
/// use ada_thread_registry::{Registry, RegistryConfig, ReserveConfig};
///
/// // 64 KiB of spare index rings (4 rings of 1024 16-byte records) for all threads.
/// let reserve = ReserveConfig { index_bytes: 64 * 1024, ..ReserveConfig::default() };
/// let registry = Registry::<[u64; 2], u64>::with_reserve(RegistryConfig::default(), reserve)?;
/// assert_eq!(registry.reserve_usage().index.rings, 4);
/// # Ok::<(), ada_thread_registry::RegistryError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReserveConfig {
    /// Bytes of records in the index lanes' reserve.
    pub index_bytes: usize,
    /// Bytes of records in the detail lanes' reserve.
    pub detail_bytes: usize,
    /// How many of a reserve's rings one lane may keep as its own while it keeps
    /// borrowing (runtime resizing, [`ada_ring_pool::Reserve::adopting`]); 0: none.
    pub adopt_per_lane: usize,
}
