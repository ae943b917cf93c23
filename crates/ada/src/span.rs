//! What the macros expand to: spans that close on drop, instants, counters and their
//! arguments, written to the global tracer or an explicit one.

use crate::event::{ArgType, Event, EventKind};
use crate::tracer::Tracer;
use ada_names::{Callsite, NameId};

/// A value an event argument or a counter can carry: its [`ArgType`] and its 64 bits.
///
/// Implemented for the integers (signed ones as [`ArgType::I64`], unsigned as
/// [`ArgType::U64`]), `f32`/`f64`, `bool`, and strings and [`NameId`]s
/// ([`ArgType::Name`]: a string is interned in the process-wide name table; one that
/// cannot be, too long or the table full, becomes [`NameId::NONE`]: no name, never
/// another one).
///
/// ```
/// use ada::{ArgType, ArgValue};
///
/// assert_eq!(7_u32.to_arg(), (ArgType::U64, 7));
/// assert_eq!((-1_i8).to_arg(), (ArgType::I64, u64::MAX));
/// assert_eq!(1.5_f64.to_arg(), (ArgType::F64, 1.5_f64.to_bits()));
/// assert_eq!(true.to_arg(), (ArgType::Bool, 1));
/// let (ty, id) = "GET".to_arg();
/// assert_eq!(ty, ArgType::Name);
/// assert_eq!(ada::names::lookup(ada::names::NameId::from_raw(id as u32)), Some("GET"));
/// ```
pub trait ArgValue {
    /// The type tag and the value's bits.
    fn to_arg(self) -> (ArgType, u64);
}

macro_rules! unsigned {
    ($($ty:ty),*) => {$(
        impl ArgValue for $ty {
            #[inline]
            fn to_arg(self) -> (ArgType, u64) {
                (ArgType::U64, self as u64)
            }
        }
    )*};
}

macro_rules! signed {
    ($($ty:ty),*) => {$(
        impl ArgValue for $ty {
            #[inline]
            fn to_arg(self) -> (ArgType, u64) {
                (ArgType::I64, (self as i64).cast_unsigned())
            }
        }
    )*};
}

unsigned!(u8, u16, u32, u64, usize);
signed!(i8, i16, i32, i64, isize);

impl ArgValue for f64 {
    #[inline]
    fn to_arg(self) -> (ArgType, u64) {
        (ArgType::F64, self.to_bits())
    }
}

impl ArgValue for f32 {
    #[inline]
    fn to_arg(self) -> (ArgType, u64) {
        (ArgType::F64, f64::from(self).to_bits())
    }
}

impl ArgValue for bool {
    #[inline]
    fn to_arg(self) -> (ArgType, u64) {
        (ArgType::Bool, u64::from(self))
    }
}

impl ArgValue for NameId {
    #[inline]
    fn to_arg(self) -> (ArgType, u64) {
        (ArgType::Name, u64::from(self.get()))
    }
}

impl ArgValue for &str {
    fn to_arg(self) -> (ArgType, u64) {
        interned(self).to_arg()
    }
}

impl ArgValue for &String {
    fn to_arg(self) -> (ArgType, u64) {
        self.as_str().to_arg()
    }
}

/// `name`'s id, or [`NameId::NONE`] when it cannot be interned (no name rather than a
/// wrong one).
fn interned(name: &str) -> NameId {
    ada_names::intern(name).unwrap_or(NameId::NONE)
}

/// Where a macro writes: nothing (tracing off, or no global tracer), the global tracer
/// (its key), or an explicit tracer.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    /// Write nothing.
    Off,
    /// The global tracer with this key.
    Global(usize),
    /// This tracer.
    Tracer(&'a Tracer),
}

impl<'a> Target<'a> {
    /// The global tracer, if one is installed and tracing is on: one relaxed load.
    #[inline]
    #[must_use]
    pub fn global() -> Self {
        match crate::global::GLOBAL.key() {
            0 => Self::Off,
            key => Self::Global(key),
        }
    }

    /// `tracer`, if tracing is on: one relaxed load.
    #[inline]
    #[must_use]
    pub fn tracer(tracer: &'a Tracer) -> Self {
        if crate::global::GLOBAL.enabled() {
            Self::Tracer(tracer)
        } else {
            Self::Off
        }
    }

    /// Whether anything will be written.
    #[inline]
    #[must_use]
    pub fn is_on(&self) -> bool {
        !matches!(self, Self::Off)
    }

    /// Writes one record; whether it was written.
    #[inline(always)]
    fn write_one(self, record: Event) -> bool {
        match self {
            Self::Off => false,
            Self::Global(key) => crate::global_handle::write(key, record),
            Self::Tracer(tracer) => tracer.index(record).is_ok(),
        }
    }

    /// Writes `records` one after the other on the calling thread's index lane (so
    /// that an event's arguments directly follow it); whether they were written.
    #[inline(always)]
    fn write(self, records: &[Event]) -> bool {
        match self {
            Self::Off => false,
            Self::Global(key) => crate::global_handle::write_all(key, records),
            Self::Tracer(tracer) => tracer.registry().index_all_local(records).is_ok(),
        }
    }
}

/// An argument record: `key`'s id and `value`.
#[doc(hidden)]
#[inline]
#[must_use]
pub fn arg(key: &Callsite, value: impl ArgValue) -> Event {
    let (ty, bits) = value.to_arg();
    Event::arg(key.id().get(), ty, bits)
}

#[inline]
fn category_id(category: Option<&Callsite>) -> u32 {
    category.map_or(0, |category| category.id().get())
}

/// A span: entered when made, left when dropped (end of scope, early return, `?`,
/// unwinding). Made by [`span!`](crate::span); bind it to a named variable
/// (`let _span = ...`: `let _ = ...` drops it at once).
#[must_use = "a span is left when this guard drops: bind it (`let _span = ada::span!(..)`)"]
#[derive(Debug)]
pub struct Span<'a> {
    target: Target<'a>,
    name: u32,
    category: u32,
}

impl<'a> Span<'a> {
    /// A span that writes nothing (tracing off, no tracer, or the `off` feature).
    #[inline]
    pub const fn off() -> Self {
        Self {
            target: Target::Off,
            name: 0,
            category: 0,
        }
    }

    /// Whether the span's enter was written (and so its leave will be).
    #[must_use]
    pub fn is_recording(&self) -> bool {
        self.target.is_on()
    }

    /// Writes the enter (stamped now) to `target`.
    #[doc(hidden)]
    #[inline(always)]
    pub fn enter_bare(target: Target<'a>, name: &Callsite, category: Option<&Callsite>) -> Self {
        let name = name.id().get();
        let category = category_id(category);
        let written =
            target.write_one(Event::now(EventKind::Enter, name, 0).with_category(category));
        Self {
            target: if written { target } else { Target::Off },
            name,
            category,
        }
    }

    /// Writes the enter (stamped now, into `records[0]`) and its arguments (the rest
    /// of `records`) to `target`.
    #[doc(hidden)]
    #[inline]
    pub fn enter(
        target: Target<'a>,
        name: &Callsite,
        category: Option<&Callsite>,
        records: &mut [Event],
    ) -> Self {
        let name = name.id().get();
        let category = category_id(category);
        records[0] = Event::now(EventKind::Enter, name, 0).with_category(category);
        let written = target.write(records);
        Self {
            target: if written { target } else { Target::Off },
            name,
            category,
        }
    }
}

impl Drop for Span<'_> {
    #[inline(always)]
    fn drop(&mut self) {
        if self.target.is_on() {
            let leave = Event::now(EventKind::Leave, self.name, 0).with_category(self.category);
            self.target.write_one(leave);
        }
    }
}

/// Writes an instant event (stamped now).
#[doc(hidden)]
#[inline(always)]
pub fn instant_bare(target: Target<'_>, name: &Callsite, category: Option<&Callsite>) {
    target.write_one(
        Event::now(EventKind::Instant, name.id().get(), 0).with_category(category_id(category)),
    );
}

/// Writes an instant event (stamped now, into `records[0]`) and its arguments (the rest
/// of `records`).
#[doc(hidden)]
#[inline]
pub fn instant(
    target: Target<'_>,
    name: &Callsite,
    category: Option<&Callsite>,
    records: &mut [Event],
) {
    records[0] =
        Event::now(EventKind::Instant, name.id().get(), 0).with_category(category_id(category));
    target.write(records);
}

/// Writes a counter's value (stamped now; `depth` holds the value's [`ArgType`]).
#[doc(hidden)]
#[inline]
pub fn counter(
    target: Target<'_>,
    name: &Callsite,
    category: Option<&Callsite>,
    value: impl ArgValue,
) {
    let (ty, bits) = value.to_arg();
    let mut event =
        Event::now(EventKind::Counter, name.id().get(), bits).with_category(category_id(category));
    event.depth = ty as u32;
    target.write_one(event);
}
