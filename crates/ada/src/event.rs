//! ada's standard record types: what the CLI writes, captures and exports, and a
//! ready-made choice for users who have no record type of their own.

use bytemuck::{Pod, Zeroable};
use serde::Serialize;
use std::sync::OnceLock;
use std::time::Instant;

/// What an [`Event`] marks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[repr(u32)]
pub enum EventKind {
    /// A point in time.
    Instant = 0,
    /// A function (or span) was entered.
    Enter = 1,
    /// A function (or span) was left.
    Leave = 2,
}

/// A 32-byte index-lane record: when, what, and a free argument.
///
/// ```
/// use ada::{Event, EventKind};
///
/// let event = Event::now(EventKind::Enter, 0x4000, 7);
/// assert_eq!(event.kind(), Some(EventKind::Enter));
/// assert_eq!(size_of::<Event>(), 32);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Pod, Zeroable, Serialize)]
#[repr(C)]
pub struct Event {
    /// Nanoseconds since the process's trace epoch ([`timestamp_ns`]).
    pub timestamp_ns: u64,
    /// The function or span (an address or any id).
    pub function: u64,
    /// A free argument (a sequence number, a size, an id).
    pub argument: u64,
    /// [`EventKind`] as a number (kept raw so any bytes are a valid record).
    pub kind: u32,
    /// Nesting depth, when the writer tracks it.
    pub depth: u32,
}

impl Event {
    /// An event stamped now.
    #[must_use]
    pub fn now(kind: EventKind, function: u64, argument: u64) -> Self {
        Self {
            timestamp_ns: timestamp_ns(),
            function,
            argument,
            kind: kind as u32,
            depth: 0,
        }
    }

    /// The kind, or `None` for a number no [`EventKind`] has.
    #[must_use]
    pub fn kind(&self) -> Option<EventKind> {
        match self.kind {
            0 => Some(EventKind::Instant),
            1 => Some(EventKind::Enter),
            2 => Some(EventKind::Leave),
            _ => None,
        }
    }
}

impl ada_capture::Record for Event {
    const LAYOUT: &'static str = "ada.Event/1";
}

/// A 64-byte detail-lane record: an event with six words of payload.
///
/// ```
/// let detail = ada::Detail::now(0x4000, [1, 2, 3, 4, 5, 6]);
/// assert_eq!(size_of::<ada::Detail>(), 64);
/// assert_eq!(detail.payload[5], 6);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Pod, Zeroable, Serialize)]
#[repr(C)]
pub struct Detail {
    /// Nanoseconds since the process's trace epoch.
    pub timestamp_ns: u64,
    /// The function or span it belongs to.
    pub function: u64,
    /// Arguments, sizes, ids: whatever the writer needs.
    pub payload: [u64; 6],
}

impl Detail {
    /// A detail record stamped now.
    #[must_use]
    pub fn now(function: u64, payload: [u64; 6]) -> Self {
        Self {
            timestamp_ns: timestamp_ns(),
            function,
            payload,
        }
    }
}

impl ada_capture::Record for Detail {
    const LAYOUT: &'static str = "ada.Detail/1";
}

/// Nanoseconds since the first call in this process (a monotonic clock).
#[must_use]
pub fn timestamp_ns() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    let epoch = EPOCH.get_or_init(Instant::now);
    u64::try_from(epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
}
