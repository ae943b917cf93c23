//! One value owned by exactly two parties (feature `alloc`): each holds a [`PairEnd`],
//! the value lives in an `Arc` until both are dropped, and each end can tell whether the
//! other was dropped.
//!
//! This is what the owned handles of `ada-spsc` (`OwnedProducer`/`OwnedConsumer`) and
//! `ada-ring-buffer` (`OwnedRingWriter`/`OwnedRingReader`) are built on: each handle is
//! an end over the queue or buffer plus its side's own state, so the sharing, the
//! freeing and the abandonment flag exist once, here.
//!
//! | atomic | written by | store | read by | load | why |
//! |---|---|---|---|---|---|
//! | `abandoned` | the end dropped first (`Drop`) | `Release` | the other end ([`PairEnd::is_abandoned`]) | `Acquire` | everything the dropped end's owner did happens-before the other's next step once it sees the flag |
//!
//! ```
//! use ada_slots::pair::PairEnd;
//!
//! let (first, second) = PairEnd::pair(String::from("shared"));
//! assert_eq!(*first, "shared", "each end derefs to the value");
//! assert!(!second.is_abandoned());
//! drop(first);
//! assert!(second.is_abandoned(), "the other end was dropped");
//! assert_eq!(*second, "shared", "the value lives as long as one end does");
//! ```

use crate::sync::{Arc, AtomicBool, Ordering};
use core::cell::Cell;
use core::fmt;
use core::marker::PhantomData;
use core::ops::Deref;

/// One of the two owners of a value: made in pairs by [`PairEnd::pair`], never cloned.
/// The value is freed with the last end dropped; each end's drop sets the flag that
/// the other end reads with [`is_abandoned`](Self::is_abandoned).
///
/// An end is `Send` when the value is `Send + Sync` (as an `Arc` is), and never `Sync`:
/// it stands for one party, used by one thread at a time, which is what the handles
/// built on it promise too.
///
/// ```compile_fail,E0277
/// fn shared<E: Sync>(_: &E) {}
/// let (end, _other) = ada_slots::pair::PairEnd::pair(1_u32);
/// shared(&end); // a `PairEnd` is not `Sync`
/// ```
///
/// ```compile_fail,E0599
/// struct Token; // not `Clone`, so `clone` cannot reach it through `Deref` either
/// let (end, _other) = ada_slots::pair::PairEnd::pair(Token);
/// let _third = end.clone(); // two ends, no more
/// ```
pub struct PairEnd<S> {
    /// Crate-visible for the tests that watch the value being freed.
    pub(crate) shared: Arc<Shared<S>>,
    _not_sync: PhantomData<Cell<()>>,
}

/// What the two ends share.
pub(crate) struct Shared<S> {
    value: S,
    /// Set by the first end dropped; only the other one reads it.
    abandoned: AtomicBool,
}

impl<S> PairEnd<S> {
    /// Moves `value` into shared storage and returns its two ends.
    #[must_use]
    pub fn pair(value: S) -> (Self, Self) {
        let shared = Arc::new(Shared {
            value,
            abandoned: AtomicBool::new(false),
        });
        let first = Self {
            shared: Arc::clone(&shared),
            _not_sync: PhantomData,
        };
        let second = Self {
            shared,
            _not_sync: PhantomData,
        };
        (first, second)
    }

    /// Whether the other end was dropped.
    ///
    /// `false` can turn `true` at any moment (the other end may be dropped concurrently);
    /// `true` stays `true`, and then everything the other end's owner did before dropping
    /// it happens-before what this end's owner does next.
    #[inline]
    #[must_use]
    pub fn is_abandoned(&self) -> bool {
        // Acquire: pairs with the Release store in the other end's drop. The flag is set
        // only by the other end: this one is alive, so its own drop has not run.
        // mutant: slots.abandoned_acquire
        self.shared.abandoned.load(Ordering::Acquire)
    }
}

impl<S: fmt::Debug> PairEnd<S> {
    /// Writes `handle { field: <value>, abandoned: <bool> }`: the `Debug` form of a
    /// handle built on this end (`handle` names the handle's type, `field` the value).
    ///
    /// ```
    /// struct Handle(ada_slots::pair::PairEnd<u8>);
    /// impl core::fmt::Debug for Handle {
    ///     fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
    ///         self.0.fmt_handle(f, "Handle", "byte")
    ///     }
    /// }
    /// let (end, other) = ada_slots::pair::PairEnd::pair(7);
    /// drop(other);
    /// assert_eq!(format!("{:?}", Handle(end)), "Handle { byte: 7, abandoned: true }");
    /// ```
    ///
    /// # Errors
    /// The formatter's.
    pub fn fmt_handle(&self, f: &mut fmt::Formatter<'_>, handle: &str, field: &str) -> fmt::Result {
        f.debug_struct(handle)
            .field(field, &self.shared.value)
            .field("abandoned", &self.is_abandoned())
            .finish()
    }
}

impl<S> Deref for PairEnd<S> {
    type Target = S;

    /// The shared value: one pointer away, as through an `Arc`.
    #[inline(always)]
    fn deref(&self) -> &S {
        &self.shared.value
    }
}

impl<S> Drop for PairEnd<S> {
    fn drop(&mut self) {
        // Release: what this end's owner did (a producer's slot writes, a consumer's slot
        // reads) happens-before the other end's Acquire load that sees the flag. Stored
        // before this end's `Arc` is released (the field drops after this body), so the
        // value is still alive.
        // mutant: slots.abandoned_release
        self.shared.abandoned.store(true, Ordering::Release);
    }
}

impl<S: fmt::Debug> fmt::Debug for PairEnd<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.fmt_handle(f, "PairEnd", "value")
    }
}
