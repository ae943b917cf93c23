//! An `UnsafeCell` that is `core`'s in normal builds and loom's under `--cfg loom`.
//!
//! Crates built on `ada-slots` take their cells from here (through their own private
//! `sync` module) so that every non-atomic shared access in ada is visible to loom. The
//! API is loom's: access goes through closures that receive a raw pointer.

#[cfg(loom)]
pub use loom::cell::UnsafeCell;

/// `core::cell::UnsafeCell` with loom's closure-based API.
///
/// ```
/// let cell = ada_slots::cell::UnsafeCell::new(1_u32);
/// // SAFETY: no other reference to the cell's contents exists.
/// cell.with_mut(|value| unsafe { *value += 1 });
/// // SAFETY: no concurrent writer.
/// assert_eq!(cell.with(|value| unsafe { *value }), 2);
/// ```
#[cfg(not(loom))]
#[derive(Debug, Default)]
#[repr(transparent)]
pub struct UnsafeCell<T: ?Sized>(core::cell::UnsafeCell<T>);

#[cfg(not(loom))]
impl<T> UnsafeCell<T> {
    /// Wraps `value`.
    #[inline(always)]
    pub const fn new(value: T) -> Self {
        Self(core::cell::UnsafeCell::new(value))
    }
}

#[cfg(not(loom))]
impl<T: ?Sized> UnsafeCell<T> {
    /// Calls `f` with a pointer for reading the contents.
    #[inline(always)]
    pub fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }

    /// Calls `f` with a pointer for writing the contents.
    #[inline(always)]
    pub fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}
