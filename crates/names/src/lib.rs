//! ada's process-wide name table: strings become small ids that fixed-size trace records
//! carry.
//!
//! A span, event, counter, category or argument key is named by a [`NameId`], a `u32`
//! (`0` = [`NameId::NONE`], ids from 1). Names are process-wide facts, like `tracing`'s
//! callsite registry: one append-only table per process, so that every tracer, registry
//! and sink in the process agrees on what an id means. (Tracers and registries stay
//! values; only the vocabulary is shared.) A capture file sink writes the table's new
//! names in a names block before the first data block that can use them (see
//! `docs/file-format.md`), using [`len`] and [`names_from`].
//!
//! - [`intern`]: one id per distinct string, from any number of threads; a typed
//!   [`NameError`] when a name is longer than [`MAX_LEN`] bytes or the table holds
//!   [`CAPACITY`] names already: never a silent wrong name.
//! - [`lookup`]: lock-free, `None` for ids never given.
//! - [`Callsite`]: a `static` that interns its name on first use and then costs one
//!   relaxed load and a branch; a full table makes it return [`NameId::NONE`] and count
//!   the miss in [`overflows`].
//!
//! ```
//! use ada_names::{Callsite, NameId};
//!
//! let id = ada_names::intern("parse")?;
//! assert_eq!(ada_names::intern("parse")?, id, "one id per string");
//! assert_eq!(ada_names::lookup(id), Some("parse"));
//! assert!(ada_names::len() >= id.get() as usize);
//! assert!(ada_names::names_from(id.get()).contains(&(id, "parse")));
//!
//! static SITE: Callsite = Callsite::new("parse");
//! assert_eq!(SITE.id(), id, "a callsite interns once, then reads its cached id");
//! assert_eq!(ada_names::lookup(NameId::NONE), None);
//! # Ok::<(), ada_names::NameError>(())
//! ```
#![warn(missing_docs)]
#![doc(test(attr(deny(warnings))))]

mod sync;
mod table;

pub use table::{CAPACITY_LIMIT, NameTable};

use std::sync::LazyLock;
use std::vec::Vec;

/// How many names the process-wide table holds: ids `1..=65_535`, so an id also fits
/// 16 bits. Interning a new name beyond it is [`NameError::TableFull`].
pub const CAPACITY: usize = 65_535;

/// The longest name, in bytes (UTF-8), that [`intern`] accepts; longer is
/// [`NameError::TooLong`] (names are never truncated).
pub const MAX_LEN: usize = 1024;

/// A name's id: `0` is [`NameId::NONE`] ("no name"), interned names are `1..`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[repr(transparent)]
pub struct NameId(u32);

impl NameId {
    /// No name (id 0): what a record without a name carries.
    pub const NONE: Self = Self(0);

    /// The raw id, as records store it.
    ///
    /// ```
    /// assert_eq!(ada_names::NameId::NONE.get(), 0);
    /// ```
    #[inline]
    #[must_use]
    pub const fn get(self) -> u32 {
        self.0
    }

    /// The id a record stored (any `u32`; [`lookup`] tells whether it names anything).
    ///
    /// ```
    /// use ada_names::NameId;
    /// assert_eq!(NameId::from_raw(7).get(), 7);
    /// assert_eq!(NameId::from_raw(0), NameId::NONE);
    /// ```
    #[inline]
    #[must_use]
    pub const fn from_raw(raw: u32) -> Self {
        Self(raw)
    }

    /// Whether this is [`NameId::NONE`].
    #[inline]
    #[must_use]
    pub const fn is_none(self) -> bool {
        self.0 == 0
    }
}

impl From<NameId> for u32 {
    fn from(id: NameId) -> Self {
        id.0
    }
}

/// Why a name could not be interned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NameError {
    /// The table already holds `capacity` names and this one is new.
    TableFull {
        /// The table's capacity ([`CAPACITY`] for the process-wide table).
        capacity: usize,
    },
    /// The name is `len` bytes long, over the `max` ([`MAX_LEN`]).
    TooLong {
        /// The name's length in bytes.
        len: usize,
        /// The longest name accepted.
        max: usize,
    },
}

impl core::fmt::Display for NameError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::TableFull { capacity } => {
                write!(f, "the name table is full ({capacity} names)")
            }
            Self::TooLong { len, max } => {
                write!(f, "a name of {len} bytes is longer than the {max} allowed")
            }
        }
    }
}

impl std::error::Error for NameError {}

/// The process-wide table.
static GLOBAL: LazyLock<NameTable> = LazyLock::new(|| NameTable::with_capacity(CAPACITY));

/// How many times a [`Callsite`] returned [`NameId::NONE`] because its name could not
/// be interned.
static OVERFLOWS: sync::Counter = sync::Counter::new();

/// The id of `name` in the process-wide table, interning it on first sight (one id per
/// distinct string, from any number of threads). Takes a short lock: cache the id, or
/// use a [`Callsite`], on hot paths.
///
/// ```
/// let id = ada_names::intern("db.query")?;
/// assert_eq!(ada_names::lookup(id), Some("db.query"));
/// assert!(ada_names::intern(&"x".repeat(ada_names::MAX_LEN + 1)).is_err());
/// # Ok::<(), ada_names::NameError>(())
/// ```
///
/// # Errors
///
/// [`NameError::TooLong`] for a name over [`MAX_LEN`] bytes; [`NameError::TableFull`]
/// for a new name when the table holds [`CAPACITY`] names.
pub fn intern(name: &str) -> Result<NameId, NameError> {
    GLOBAL.intern(name)
}

/// The string `id` names in the process-wide table; `None` for [`NameId::NONE`] and for
/// ids never given. Lock-free.
///
/// ```
/// use ada_names::NameId;
/// assert_eq!(ada_names::lookup(NameId::from_raw(u32::MAX)), None);
/// ```
#[must_use]
pub fn lookup(id: NameId) -> Option<&'static str> {
    GLOBAL.lookup(id)
}

/// How many names the process-wide table holds: ids `1..=len()` exist. An Acquire load:
/// a sink that sees `len` sees every name up to it.
///
/// ```
/// let id = ada_names::intern("len example")?;
/// assert!(ada_names::len() >= id.get() as usize);
/// # Ok::<(), ada_names::NameError>(())
/// ```
#[must_use]
pub fn len() -> usize {
    GLOBAL.len()
}

/// Every name of the process-wide table with an id `>= first`, in id order (from id 1
/// when `first` is 0): what a sink writes when [`len`] grew since it last looked.
///
/// ```
/// let seen = ada_names::len() as u32;
/// let id = ada_names::intern("names_from example")?;
/// assert!(ada_names::names_from(seen + 1).contains(&(id, "names_from example")));
/// # Ok::<(), ada_names::NameError>(())
/// ```
#[must_use]
pub fn names_from(first: u32) -> Vec<(NameId, &'static str)> {
    GLOBAL.names_from(first)
}

/// How many times a [`Callsite`] returned [`NameId::NONE`] because its name could not be
/// interned (the table was full, or the name too long): records that went unnamed.
///
/// ```
/// static SITE: ada_names::Callsite = ada_names::Callsite::new("fits");
/// let before = ada_names::overflows();
/// assert!(!SITE.id().is_none());
/// assert_eq!(ada_names::overflows(), before, "a name that fits is no overflow");
/// ```
#[must_use]
pub fn overflows() -> u64 {
    OVERFLOWS.get()
}

/// A name known at compile time, interned on first use and cached: the id of a `static`
/// callsite costs one relaxed load and a branch after the first call.
///
/// ```
/// use ada_names::Callsite;
///
/// static SPAN: Callsite = Callsite::new("request");
/// let id = SPAN.id();
/// assert_eq!(ada_names::lookup(id), Some("request"));
/// assert_eq!(SPAN.id(), id);
/// assert_eq!(SPAN.name(), "request");
/// ```
#[derive(Debug)]
pub struct Callsite {
    name: &'static str,
    id: sync::CachedId,
}

impl Callsite {
    /// A callsite for `name`; nothing is interned until [`Callsite::id`].
    #[must_use]
    pub const fn new(name: &'static str) -> Self {
        Self {
            name,
            id: sync::CachedId::new(),
        }
    }

    /// The callsite's name.
    #[must_use]
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// The id of the callsite's name in the process-wide table: the cached id, or (first
    /// use) the id [`intern`] gives. [`NameId::NONE`] if the name cannot be interned (the
    /// table is full, or the name longer than [`MAX_LEN`]), counted in [`overflows`]; a
    /// later call tries again.
    #[inline]
    #[must_use]
    pub fn id(&self) -> NameId {
        let id = self.id.get();
        if id != 0 {
            return NameId(id);
        }
        self.register(&GLOBAL, &OVERFLOWS)
    }

    /// The cold path of [`Callsite::id`], against any table (tests use small ones).
    #[cold]
    #[inline(never)]
    fn register(&self, table: &NameTable, overflows: &sync::Counter) -> NameId {
        match table.intern(self.name) {
            Ok(id) => {
                self.id.set(id.get());
                id
            }
            Err(_) => {
                overflows.bump();
                NameId::NONE
            }
        }
    }
}

#[cfg(all(test, loom))]
mod loom_tests;
#[cfg(all(test, not(loom)))]
mod tests;
