//! ada's cheap clock: raw ticks on the hot path, nanoseconds off it.
//!
//! [`now`] returns *ticks*. Where the CPU has an invariant time-stamp counter (x86-64 with
//! CPUID's "invariant TSC" bit, and on Linux the kernel's own clocksource is `tsc`, so
//! the counters agree across cores) a tick is one TSC count, read with `rdtsc`: a few
//! nanoseconds and no system call. Everywhere else (other architectures, a TSC the
//! kernel distrusts, Miri, or `ADA_CLOCK=monotonic` in the environment) a tick is one
//! nanosecond of [`std::time::Instant`] since the clock's epoch. Without the `std`
//! feature, x86-64 reads the TSC unchecked and other targets return 0 ("no time").
//!
//! Ticks become nanoseconds through a [`Calibration`] (with `std`): measured once per
//! process against `Instant`, it is what a capture file records so that its readers
//! convert. Which source is in use is [`source`].
//!
//! ```
//! let calibration = ada_clock::Calibration::get();
//! let start = ada_clock::now();
//! std::thread::sleep(std::time::Duration::from_millis(2));
//! let elapsed_ns = calibration.ticks_to_ns(ada_clock::now() - start);
//! assert!(elapsed_ns >= 1_000_000, "{elapsed_ns}");
//! ```
#![no_std]
#![warn(missing_docs)]
#![doc(test(attr(deny(warnings))))]

#[cfg(feature = "std")]
extern crate std;

#[cfg(feature = "std")]
mod calibration;
#[cfg(feature = "std")]
mod cpu;
#[cfg(feature = "std")]
mod detect;

#[cfg(feature = "std")]
pub use calibration::Calibration;
#[cfg(feature = "std")]
pub use cpu::thread_cpu_time;

/// Where [`now`]'s ticks come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ClockSource {
    /// The CPU's invariant time-stamp counter (`rdtsc`).
    Tsc,
    /// Nanoseconds of the OS's monotonic clock (`Instant`) since the clock's epoch.
    Monotonic,
    /// No clock (a `no_std` build on a target without a TSC): every tick is 0.
    None,
}

impl ClockSource {
    /// The source's name as captures and reports print it.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Tsc => "tsc",
            Self::Monotonic => "monotonic",
            Self::None => "none",
        }
    }
}

/// The current time in ticks ([`ClockSource`]): a TSC read where the platform has a
/// trustworthy one. Convert differences with [`Calibration::ticks_to_ns`] (with `std`).
///
/// ```
/// let (a, b) = (ada_clock::now(), ada_clock::now());
/// assert!(b >= a);
/// ```
#[inline]
#[must_use]
pub fn now() -> u64 {
    #[cfg(feature = "std")]
    {
        detect::now()
    }
    #[cfg(all(not(feature = "std"), target_arch = "x86_64", not(miri)))]
    {
        tsc()
    }
    #[cfg(all(not(feature = "std"), not(all(target_arch = "x86_64", not(miri)))))]
    {
        0
    }
}

/// Which source [`now`] reads (deciding it on first use, with `std`).
///
/// ```
/// use ada_clock::ClockSource;
/// assert_ne!(ada_clock::source(), ClockSource::None);
/// ```
#[must_use]
pub fn source() -> ClockSource {
    #[cfg(feature = "std")]
    {
        detect::source()
    }
    #[cfg(all(not(feature = "std"), target_arch = "x86_64", not(miri)))]
    {
        ClockSource::Tsc
    }
    #[cfg(all(not(feature = "std"), not(all(target_arch = "x86_64", not(miri)))))]
    {
        ClockSource::None
    }
}

/// One read of the time-stamp counter.
#[cfg(all(target_arch = "x86_64", not(miri)))]
#[inline(always)]
fn tsc() -> u64 {
    // SAFETY: `rdtsc` exists on every x86-64 CPU, has no preconditions and touches no
    // memory.
    unsafe { core::arch::x86_64::_rdtsc() }
}
