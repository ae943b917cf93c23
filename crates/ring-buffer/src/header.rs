//! The ring header: sequence number, flags and the loss count that travel with a ring.

bitflags::bitflags! {
    /// What a ring's owner says about its contents when it hands the ring on.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct RingFlags: u32 {
        /// The ring holds a marked window (detail lane): keep it.
        const MARKED = 1 << 0;
        /// The ring was handed on before it was full (a flush, thread exit or shutdown).
        const PARTIAL = 1 << 1;
        /// Events were lost between the previous handed-on ring and this one.
        const LOSS_BEFORE = 1 << 2;
        /// The ring is context handed on together with a marked window.
        const CONTEXT = 1 << 3;
    }
}

/// Per-ring metadata that travels with the ring: written by the ring's owner before it
/// hands the ring on, read by the next owner after it has received it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct RingHeader {
    /// The ring's position in its lane's sequence of handed-on rings.
    pub sequence: u64,
    /// What the owner says about the contents.
    pub flags: RingFlags,
    /// Events lost between the previous handed-on ring and this one (set with
    /// [`RingFlags::LOSS_BEFORE`]).
    pub lost_events: u64,
}
