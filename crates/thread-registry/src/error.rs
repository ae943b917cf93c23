//! The registry's typed errors: building it, registering a thread, releasing a slot.

use crate::config::MAX_CAPACITY;
use ada_ring_pool::LaneConfigError;
use core::fmt;

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
    /// The index lane's configuration is invalid (or its reserve's).
    IndexLane(LaneConfigError),
    /// The detail lane's configuration is invalid (or its reserve's).
    DetailLane(LaneConfigError),
    /// A reserve budget above 0 that does not hold one ring of its lanes.
    ReserveBelowOneRing {
        /// The budget, bytes.
        bytes: usize,
        /// One ring of the lanes, bytes.
        ring_bytes: usize,
    },
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
            Self::ReserveBelowOneRing { bytes, ring_bytes } => write!(
                f,
                "a reserve of {bytes} bytes holds no ring of {ring_bytes} bytes"
            ),
        }
    }
}

impl std::error::Error for RegistryError {}

impl RegistryError {
    /// The error for a capacity outside `1..=MAX_CAPACITY`, if it is.
    pub(crate) fn check_capacity(capacity: usize) -> Result<(), Self> {
        if capacity == 0 {
            return Err(Self::ZeroCapacity);
        }
        if capacity > MAX_CAPACITY {
            return Err(Self::TooLarge {
                capacity,
                max: MAX_CAPACITY,
            });
        }
        Ok(())
    }
}

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
    /// [`Registry::with_local`](crate::Registry::with_local) was called from inside its
    /// own closure, or during the thread's exit after its thread-local handles were
    /// dropped.
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

/// Why [`ActiveSlot::release`](crate::ActiveSlot::release) refused.
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
