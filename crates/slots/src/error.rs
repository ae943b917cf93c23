//! The typed errors of slot storage made from caller memory.

use core::fmt;

/// Why slot storage could not be created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SlotsError {
    /// Zero slots were asked for; every structure built on slots needs at least one.
    ZeroLength,
    /// `len * slot_bytes` does not fit in `isize::MAX` bytes.
    TooLarge {
        /// Slots asked for.
        len: usize,
        /// Bytes per slot.
        slot_bytes: usize,
    },
    /// The caller's region does not start at a multiple of the slot type's alignment.
    Misaligned {
        /// Address of the region's first byte.
        address: usize,
        /// Alignment the slot type requires.
        required: usize,
    },
    /// The caller's region holds fewer bytes than the slots need.
    TooSmall {
        /// Bytes the slots need.
        needed: usize,
        /// Bytes the region has.
        available: usize,
    },
    /// The global allocator returned null.
    AllocationFailed {
        /// Bytes asked for.
        bytes: usize,
    },
}

impl fmt::Display for SlotsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::ZeroLength => f.write_str("capacity must be at least 1"),
            Self::TooLarge { len, slot_bytes } => write!(
                f,
                "{len} slots of {slot_bytes} bytes exceed the largest possible allocation"
            ),
            Self::Misaligned { address, required } => write!(
                f,
                "memory at {address:#x} is not aligned to the {required} bytes the slot type needs"
            ),
            Self::TooSmall { needed, available } => {
                write!(f, "memory holds {available} bytes but {needed} are needed")
            }
            Self::AllocationFailed { bytes } => {
                write!(f, "the allocator could not provide {bytes} bytes")
            }
        }
    }
}

impl core::error::Error for SlotsError {}
