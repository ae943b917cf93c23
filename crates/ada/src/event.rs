//! ada's standard record types: what the CLI writes, captures and exports, and a
//! ready-made choice for users who have no record type of their own.
//!
//! Records store raw clock *ticks* ([`ada_clock::now`]: a TSC read where the CPU has an
//! invariant one), never nanoseconds: the conversion is a division, done off the hot
//! path with the process's [`Calibration`] (which a capture file records).

use ada_clock::Calibration;
use bytemuck::{Pod, Zeroable};
use serde::Serialize;

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
    /// A counter's new value (in [`Event::argument`]).
    Counter = 3,
    /// An argument of the Enter or Instant event it directly follows on the same lane:
    /// `name` is the key, `argument` the value's bits, `depth` its [`ArgType`].
    Arg = 4,
}

impl EventKind {
    /// The kind numbered `raw`, or `None` for a number no kind has.
    #[must_use]
    pub const fn from_raw(raw: u32) -> Option<Self> {
        match raw {
            0 => Some(Self::Instant),
            1 => Some(Self::Enter),
            2 => Some(Self::Leave),
            3 => Some(Self::Counter),
            4 => Some(Self::Arg),
            _ => None,
        }
    }
}

/// How an [`EventKind::Arg`] record's `argument` bits read (stored in its `depth`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[repr(u32)]
pub enum ArgType {
    /// An unsigned integer.
    U64 = 0,
    /// A signed integer (two's complement bits).
    I64 = 1,
    /// A float (`f64::to_bits`).
    F64 = 2,
    /// A boolean (0 or 1).
    Bool = 3,
    /// An interned string: the value is a name id (`ada_names::NameId`).
    Name = 4,
}

impl ArgType {
    /// The type numbered `raw`, or `None` for a number no type has.
    #[must_use]
    pub const fn from_raw(raw: u32) -> Option<Self> {
        match raw {
            0 => Some(Self::U64),
            1 => Some(Self::I64),
            2 => Some(Self::F64),
            3 => Some(Self::Bool),
            4 => Some(Self::Name),
            _ => None,
        }
    }
}

/// A 32-byte index-lane record (layout `ada.Event/2`): when (raw clock ticks), what (a
/// name id and a category id), a free argument, the kind and a nesting depth.
///
/// Names are ids of the process-wide name table (`ada_names`; 0 = none): the capture
/// file carries the table, so readers show the strings. An event's arguments are
/// [`EventKind::Arg`] records written right after it on the same lane.
///
/// ```
/// use ada::{Event, EventKind};
///
/// let event = Event::now(EventKind::Enter, 7, 42);
/// assert_eq!(event.kind(), Some(EventKind::Enter));
/// assert_eq!((event.name, event.argument), (7, 42));
/// assert_eq!(size_of::<Event>(), 32);
///
/// // Ticks become nanoseconds off the hot path, with the process's calibration.
/// let calibration = ada::clock::Calibration::get();
/// let later = Event::now(EventKind::Leave, 7, 42);
/// assert!(later.timestamp_ns(calibration) >= event.timestamp_ns(calibration));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Pod, Zeroable, Serialize)]
#[repr(C)]
pub struct Event {
    /// Raw clock ticks ([`ada_clock::now`]); 0 in [`EventKind::Arg`] records.
    pub ticks: u64,
    /// The span, event, counter or argument key: a name id (0 = none).
    pub name: u32,
    /// The category or target: a name id (0 = none).
    pub category: u32,
    /// A free argument (Instant, Enter, Leave), the value (Counter), the value's bits
    /// (Arg).
    pub argument: u64,
    /// [`EventKind`] as a number (kept raw so any bytes are a valid record).
    pub kind: u32,
    /// Nesting depth, when the writer tracks it; in an Arg record, its [`ArgType`].
    pub depth: u32,
}

impl Event {
    /// An event stamped now ([`ada_clock::now`]), with no category.
    #[inline]
    #[must_use]
    pub fn now(kind: EventKind, name: u32, argument: u64) -> Self {
        Self::at(ada_clock::now(), kind, name, argument)
    }

    /// An event stamped `ticks`, with no category.
    #[inline]
    #[must_use]
    pub const fn at(ticks: u64, kind: EventKind, name: u32, argument: u64) -> Self {
        Self {
            ticks,
            name,
            category: 0,
            argument,
            kind: kind as u32,
            depth: 0,
        }
    }

    /// An argument record (key `name`, value `bits` of type `ty`) for the event it
    /// follows.
    ///
    /// ```
    /// use ada::{ArgType, Event, EventKind};
    ///
    /// let arg = Event::arg(3, ArgType::I64, (-5_i64).cast_unsigned());
    /// assert_eq!(arg.kind(), Some(EventKind::Arg));
    /// assert_eq!(arg.arg_type(), Some(ArgType::I64));
    /// assert_eq!(arg.argument.cast_signed(), -5);
    /// ```
    #[inline]
    #[must_use]
    pub const fn arg(name: u32, ty: ArgType, bits: u64) -> Self {
        Self {
            ticks: 0,
            name,
            category: 0,
            argument: bits,
            kind: EventKind::Arg as u32,
            depth: ty as u32,
        }
    }

    /// The same event in category `category` (a name id).
    #[inline]
    #[must_use]
    pub const fn with_category(mut self, category: u32) -> Self {
        self.category = category;
        self
    }

    /// The kind, or `None` for a number no [`EventKind`] has.
    #[must_use]
    pub const fn kind(&self) -> Option<EventKind> {
        EventKind::from_raw(self.kind)
    }

    /// An Arg record's value type; `None` for other kinds or an unknown type.
    #[must_use]
    pub const fn arg_type(&self) -> Option<ArgType> {
        if self.kind == EventKind::Arg as u32 {
            ArgType::from_raw(self.depth)
        } else {
            None
        }
    }

    /// Nanoseconds from the calibration's anchor to this event (0 for an event before
    /// it); `calibration.to_unix_ns(event.ticks)` gives wall-clock time.
    #[must_use]
    pub fn timestamp_ns(&self, calibration: &Calibration) -> u64 {
        calibration.ticks_to_ns(self.ticks.saturating_sub(calibration.anchor_ticks))
    }
}

impl ada_capture::Record for Event {
    const LAYOUT: &'static str = "ada.Event/2";
}

/// A 64-byte detail-lane record (layout `ada.Detail/2`): an event with six words of
/// payload.
///
/// ```
/// let detail = ada::Detail::now(0x4000, [1, 2, 3, 4, 5, 6]);
/// assert_eq!(size_of::<ada::Detail>(), 64);
/// assert_eq!(detail.payload[5], 6);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Pod, Zeroable, Serialize)]
#[repr(C)]
pub struct Detail {
    /// Raw clock ticks ([`ada_clock::now`]).
    pub ticks: u64,
    /// The function or span it belongs to.
    pub function: u64,
    /// Arguments, sizes, ids: whatever the writer needs.
    pub payload: [u64; 6],
}

impl Detail {
    /// A detail record stamped now.
    #[inline]
    #[must_use]
    pub fn now(function: u64, payload: [u64; 6]) -> Self {
        Self {
            ticks: ada_clock::now(),
            function,
            payload,
        }
    }

    /// Nanoseconds from the calibration's anchor to this record (0 before it).
    #[must_use]
    pub fn timestamp_ns(&self, calibration: &Calibration) -> u64 {
        calibration.ticks_to_ns(self.ticks.saturating_sub(calibration.anchor_ticks))
    }
}

impl ada_capture::Record for Detail {
    const LAYOUT: &'static str = "ada.Detail/2";
}

/// Nanoseconds since this process's clock calibration was anchored (its first use; a
/// tracer's build takes it): [`ada_clock::now`] converted with [`Calibration::get`].
/// Records store ticks instead; this is for printing and for code that wants ns.
///
/// ```
/// let a = ada::timestamp_ns();
/// let b = ada::timestamp_ns();
/// assert!(b >= a);
/// ```
#[must_use]
pub fn timestamp_ns() -> u64 {
    let calibration = Calibration::get();
    calibration.ticks_to_ns(ada_clock::now().saturating_sub(calibration.anchor_ticks))
}
