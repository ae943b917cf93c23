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
