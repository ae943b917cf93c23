//! The ring header: sequence number, flags and the ring's position in its producer's
//! stream of events, which travel with a ring.

bitflags::bitflags! {
    /// What a ring's owner says about its contents when it hands the ring on.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct RingFlags: u32 {
        /// The ring holds a marked window (detail lane): keep it.
        const MARKED = 1 << 0;
        /// The ring was handed on before it was full (a flush, thread exit or shutdown).
        const PARTIAL = 1 << 1;
        /// Events were lost between the previous delivery and this one (set by the
        /// receiver that works the loss out, e.g. a ring pool's drain).
        const LOSS_BEFORE = 1 << 2;
        /// The ring is context handed on together with a marked window.
        const CONTEXT = 1 << 3;
    }
}

/// Per-ring metadata that travels with the ring: written by the ring's owner before it
/// hands the ring on, read by the next owner after it has received it.
///
/// Plain data (no atomics: targets such as thumbv7em have no 64-bit ones); the hand-over
/// orders it. The three counts are cumulative positions in the stream of events the
/// ring's producer emitted, from which a receiver works out exactly what was lost between
/// two rings it received, and why (`docs/protocol.md`, "Loss accounting").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct RingHeader {
    /// The ring's position in its lane's sequence of handed-on rings.
    pub sequence: u64,
    /// What the owner says about the contents.
    pub flags: RingFlags,
    /// Events the producer emitted before this ring's first record: accepted into rings
    /// or dropped on arrival. The ring's records are events `first_event..first_event +
    /// len`.
    pub first_event: u64,
    /// Of the `first_event` events before this ring, how many were dropped on arrival
    /// (no ring to write them in).
    pub dropped_newest_before: u64,
    /// Of the `first_event` events before this ring, how many were in windows discarded
    /// unsubmitted (an unmarked flight recorder's windows: by design, not a loss).
    pub discarded_before: u64,
    /// When the ring was handed on, in `ada_clock` ticks (0: not stamped, or no clock).
    /// The receiver's clock minus this is how long the ring waited to be taken.
    pub submitted_ticks: u64,
}
