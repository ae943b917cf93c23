//! Contiguous slot storage for structures with one writer and one concurrent reader.
//!
//! [`Slots`] is the memory under ada's record buffer (`ada-ring-buffer`) and SPSC queue
//! (`ada-spsc`): a fixed number of `T: Copy` values, either owned (feature `alloc`) or in
//! memory the caller provides, so that a whole pool of rings can live in one
//! pre-allocated region (or a shared-memory mapping) without a single allocation.
//!
//! The type knows nothing of the protocol that orders its accesses; its `unsafe` methods
//! state what that protocol must guarantee (a slot is never written while another thread
//! reads it). Under `--cfg loom` each slot access is recorded in a loom cell, so the loom
//! models of the crates above fail when their memory orderings stop ordering slot accesses.
//!
//! Two small pieces the crates above share live here too: [`cell::UnsafeCell`], the cell
//! that is loom's under `--cfg loom`, and (feature `alloc`) `pair::PairEnd`, the two
//! owners of one value in an `Arc`, each told when the other is dropped, on which their
//! owned handles are built.
//!
//! ```
//! use core::mem::MaybeUninit;
//! use ada_slots::Slots;
//!
//! let mut memory = [MaybeUninit::<u32>::uninit(); 4];
//! let slots = Slots::from_uninit(&mut memory)?;
//! // SAFETY: one thread; slots 0 and 1 are written before they are read.
//! unsafe {
//!     slots.write(0, 7);
//!     slots.write(1, 8);
//!     assert_eq!(slots.slice(0, 2), &[7, 8]);
//! }
//! # Ok::<(), ada_slots::SlotsError>(())
//! ```
#![no_std]
#![warn(missing_docs)]
#![doc(test(attr(deny(warnings))))]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(any(feature = "std", loom, test))]
extern crate std;

pub mod cell;
mod error;
#[cfg(feature = "alloc")]
pub mod pair;
#[cfg(feature = "alloc")]
mod sync;

pub use error::SlotsError;

use core::marker::PhantomData;
use core::mem::{MaybeUninit, align_of, size_of};
use core::ptr::NonNull;

/// A fixed number of `T` slots in one contiguous allocation.
///
/// `'buf` is the lifetime of caller-provided memory; owned storage is `Slots<'static, T>`.
/// Slots start uninitialised: a slot must be written before it is read.
pub struct Slots<'buf, T> {
    ptr: NonNull<T>,
    len: usize,
    /// Whether `ptr` came from the global allocator and must be returned to it on drop.
    #[cfg(feature = "alloc")]
    owned: bool,
    #[cfg(loom)]
    tracker: std::boxed::Box<[cell::UnsafeCell<()>]>,
    // Borrows the memory for `'buf` and holds `T`s, without requiring `T: 'buf`.
    _memory: PhantomData<(&'buf mut [u8], T)>,
}

// SAFETY: `Slots` owns or exclusively borrows its memory, like a `Box<[T]>` or a
// `&mut [T]`; sending it to another thread sends the `T`s with it.
unsafe impl<T: Send> Send for Slots<'_, T> {}
// SAFETY: shared access goes only through the `unsafe` methods, whose contracts forbid
// a write concurrent with any other access to the same slot; under those contracts a
// `&Slots` used from several threads moves `T` values between them, hence `T: Send`.
unsafe impl<T: Send> Sync for Slots<'_, T> {}

impl<T: Copy> Slots<'static, T> {
    /// Allocates `len` slots from the global allocator.
    ///
    /// # Errors
    /// [`SlotsError::ZeroLength`] for `len == 0`, [`SlotsError::TooLarge`] when
    /// `len * size_of::<T>()` does not fit in `isize`, and
    /// [`SlotsError::AllocationFailed`] when the allocator returns null.
    ///
    /// ```
    /// let slots = ada_slots::Slots::<u64>::new(1000)?;
    /// assert_eq!(slots.len(), 1000);
    /// assert!(matches!(
    ///     ada_slots::Slots::<u64>::new(0),
    ///     Err(ada_slots::SlotsError::ZeroLength)
    /// ));
    /// # Ok::<(), ada_slots::SlotsError>(())
    /// ```
    #[cfg(feature = "alloc")]
    pub fn new(len: usize) -> Result<Self, SlotsError> {
        let layout = layout_for::<T>(len)?;
        let ptr = if layout.size() == 0 {
            NonNull::dangling()
        } else {
            // SAFETY: `layout` has a non-zero size (checked just above).
            let raw = unsafe { alloc::alloc::alloc(layout) };
            NonNull::new(raw.cast::<T>()).ok_or(SlotsError::AllocationFailed {
                bytes: layout.size(),
            })?
        };
        Ok(Self::from_parts(ptr, len, true))
    }
}

impl<'buf, T: Copy> Slots<'buf, T> {
    /// Uses caller-provided memory: one slot per element of `memory`.
    ///
    /// # Errors
    /// [`SlotsError::ZeroLength`] for an empty slice.
    pub fn from_uninit(memory: &'buf mut [MaybeUninit<T>]) -> Result<Self, SlotsError> {
        let len = memory.len();
        layout_for::<T>(len)?;
        let ptr = NonNull::from(memory).cast::<T>();
        Ok(Self::from_parts(ptr, len, false))
    }

    /// Uses a caller-provided byte region for `len` slots, as when rings are carved out of
    /// one pre-allocated block or a shared-memory mapping. Bytes past the slots are unused.
    ///
    /// # Errors
    /// [`SlotsError::ZeroLength`], [`SlotsError::TooLarge`], [`SlotsError::Misaligned`]
    /// when `memory` does not start at a multiple of `align_of::<T>()`, and
    /// [`SlotsError::TooSmall`] when it holds fewer than `len * size_of::<T>()` bytes.
    ///
    /// ```
    /// use core::mem::MaybeUninit;
    /// use ada_slots::{Slots, SlotsError};
    ///
    /// let mut region = [MaybeUninit::<u64>::uninit(); 4]; // 32 bytes, 8-aligned
    /// // SAFETY: `MaybeUninit<u64>` has no invalid byte patterns to expose.
    /// let bytes: &mut [MaybeUninit<u8>] = unsafe {
    ///     core::slice::from_raw_parts_mut(region.as_mut_ptr().cast(), 32)
    /// };
    /// assert!(matches!(
    ///     Slots::<u64>::from_bytes(&mut bytes[1..], 2),
    ///     Err(SlotsError::Misaligned { .. })
    /// ));
    /// assert!(matches!(
    ///     Slots::<u64>::from_bytes(bytes, 5),
    ///     Err(SlotsError::TooSmall { needed: 40, available: 32 })
    /// ));
    /// let slots = Slots::<u64>::from_bytes(bytes, 4)?;
    /// assert_eq!(slots.len(), 4);
    /// # Ok::<(), SlotsError>(())
    /// ```
    pub fn from_bytes(memory: &'buf mut [MaybeUninit<u8>], len: usize) -> Result<Self, SlotsError> {
        let layout = layout_for::<T>(len)?;
        let start = memory.as_mut_ptr();
        if start.align_offset(align_of::<T>()) != 0 {
            return Err(SlotsError::Misaligned {
                address: start.addr(),
                required: align_of::<T>(),
            });
        }
        if memory.len() < layout.size() {
            return Err(SlotsError::TooSmall {
                needed: layout.size(),
                available: memory.len(),
            });
        }
        let ptr = NonNull::from(memory).cast::<T>();
        Ok(Self::from_parts(ptr, len, false))
    }

    fn from_parts(ptr: NonNull<T>, len: usize, owned: bool) -> Self {
        let _ = owned;
        Self {
            ptr,
            len,
            #[cfg(feature = "alloc")]
            owned,
            #[cfg(loom)]
            tracker: (0..len).map(|_| cell::UnsafeCell::new(())).collect(),
            _memory: PhantomData,
        }
    }

    /// Writes `value` into slot `index`.
    ///
    /// # Safety
    /// `index < self.len()`, and no other thread reads or writes slot `index` concurrently
    /// (the caller's protocol orders this write after every earlier access to the slot).
    #[inline]
    pub unsafe fn write(&self, index: usize, value: T) {
        debug_assert!(index < self.len);
        self.track_write(index);
        // SAFETY: in bounds and not accessed concurrently, by the caller's contract.
        unsafe { self.ptr.as_ptr().add(index).write(value) }
    }

    /// Copies `values` into the slots starting at `start`.
    ///
    /// # Safety
    /// `start + values.len() <= self.len()`, and no other thread accesses those slots
    /// concurrently.
    #[inline]
    pub unsafe fn write_slice(&self, start: usize, values: &[T]) {
        debug_assert!(start <= self.len && values.len() <= self.len - start);
        for index in start..start + values.len() {
            self.track_write(index);
        }
        // SAFETY: the destination is in bounds and not accessed concurrently (caller's
        // contract); `values` is a shared borrow and cannot overlap slots we may write.
        unsafe {
            self.ptr
                .as_ptr()
                .add(start)
                .copy_from_nonoverlapping(values.as_ptr(), values.len());
        }
    }

    /// Reads slot `index`.
    ///
    /// # Safety
    /// `index < self.len()`, the slot has been written, and no thread writes it
    /// concurrently.
    #[inline]
    pub unsafe fn read(&self, index: usize) -> T {
        debug_assert!(index < self.len);
        self.track_read(index);
        // SAFETY: in bounds, initialised and not written concurrently (caller's contract).
        unsafe { self.ptr.as_ptr().add(index).read() }
    }

    /// Borrows slots `start..end` as a slice.
    ///
    /// # Safety
    /// `start <= end <= self.len()`, every slot in the range has been written, and none is
    /// written while the returned slice is alive.
    #[inline]
    pub unsafe fn slice(&self, start: usize, end: usize) -> &[T] {
        debug_assert!(start <= end && end <= self.len);
        for index in start..end {
            self.track_read(index);
        }
        // SAFETY: in bounds and initialised; the caller keeps writers away from the range
        // for the slice's lifetime, which is tied to `&self`.
        unsafe { core::slice::from_raw_parts(self.ptr.as_ptr().add(start), end - start) }
    }

    #[inline(always)]
    fn track_write(&self, index: usize) {
        #[cfg(loom)]
        self.tracker[index].with_mut(|_| ());
        let _ = index;
    }

    #[inline(always)]
    fn track_read(&self, index: usize) {
        #[cfg(loom)]
        self.tracker[index].with(|_| ());
        let _ = index;
    }
}

impl<T> Slots<'_, T> {
    /// The number of slots (at least 1).
    #[inline]
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Always `false`: a `Slots` has at least one slot. Present for API symmetry.
    #[inline]
    #[must_use]
    pub fn is_empty(&self) -> bool {
        false
    }
}

impl<T> Drop for Slots<'_, T> {
    fn drop(&mut self) {
        #[cfg(feature = "alloc")]
        if self.owned {
            let layout = core::alloc::Layout::array::<T>(self.len)
                .expect("layout was valid when the slots were allocated");
            if layout.size() != 0 {
                // SAFETY: `ptr` came from `alloc` with this same layout in `new`, and is
                // freed once, here.
                unsafe { alloc::alloc::dealloc(self.ptr.as_ptr().cast(), layout) }
            }
        }
    }
}

impl<T> core::fmt::Debug for Slots<'_, T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Slots")
            .field("len", &self.len)
            .field("slot_bytes", &size_of::<T>())
            .finish_non_exhaustive()
    }
}

/// The layout of `len` slots of `T`, or the typed reason there is none.
fn layout_for<T>(len: usize) -> Result<core::alloc::Layout, SlotsError> {
    if len == 0 {
        return Err(SlotsError::ZeroLength);
    }
    core::alloc::Layout::array::<T>(len).map_err(|_| SlotsError::TooLarge {
        len,
        slot_bytes: size_of::<T>(),
    })
}

#[cfg(all(test, not(loom)))]
mod tests;

#[cfg(all(test, loom))]
mod loom_tests;

/// The README's example, compiled and run as a doc test.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
