//! Which source `now` reads, decided once per process: the TSC where it is invariant and
//! (on Linux) the kernel trusts it, else `Instant`.

use crate::ClockSource;
use core::sync::atomic::{AtomicU8, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

/// Not decided yet.
const UNKNOWN: u8 = 0;
/// `ClockSource::Tsc`.
const TSC: u8 = 1;
/// `ClockSource::Monotonic`.
const MONOTONIC: u8 = 2;

/// The decision, cached. Not a cross-thread protocol: every thread that finds it
/// `UNKNOWN` works out the same answer, so Relaxed loads and stores suffice (the
/// epoch it depends on is a `OnceLock`, which orders itself).
static SOURCE: AtomicU8 = AtomicU8::new(UNKNOWN);

/// The monotonic source's origin: tick 0.
static EPOCH: OnceLock<Instant> = OnceLock::new();

#[inline]
pub(crate) fn now() -> u64 {
    #[cfg(all(target_arch = "x86_64", not(miri)))]
    {
        // Relaxed: a cached, idempotent decision (above).
        if SOURCE.load(Ordering::Relaxed) == TSC {
            return crate::tsc();
        }
    }
    now_decided()
}

/// `now` for the monotonic source, or the first call.
#[inline(never)]
fn now_decided() -> u64 {
    match source() {
        #[cfg(all(target_arch = "x86_64", not(miri)))]
        ClockSource::Tsc => crate::tsc(),
        _ => monotonic_ns(),
    }
}

/// Nanoseconds since the epoch.
pub(crate) fn monotonic_ns() -> u64 {
    let epoch = *EPOCH.get_or_init(Instant::now);
    u64::try_from(epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

pub(crate) fn source() -> ClockSource {
    // Relaxed: as in `now`.
    match SOURCE.load(Ordering::Relaxed) {
        TSC => ClockSource::Tsc,
        MONOTONIC => ClockSource::Monotonic,
        _ => {
            let decided = decide();
            let code = if decided == ClockSource::Tsc {
                TSC
            } else {
                MONOTONIC
            };
            // The epoch first, so a monotonic tick never precedes it.
            let _ = EPOCH.get_or_init(Instant::now);
            SOURCE.store(code, Ordering::Relaxed);
            decided
        }
    }
}

fn decide() -> ClockSource {
    if std::env::var_os("ADA_CLOCK").is_some_and(|value| value == "monotonic") {
        return ClockSource::Monotonic;
    }
    if invariant_tsc() && kernel_trusts_tsc() {
        ClockSource::Tsc
    } else {
        ClockSource::Monotonic
    }
}

/// CPUID leaf 0x8000_0007, EDX bit 8: the TSC ticks at a constant rate in every
/// power state.
#[cfg(all(target_arch = "x86_64", not(miri)))]
fn invariant_tsc() -> bool {
    use core::arch::x86_64::__cpuid;
    // Leaf 0x8000_0000 reports the highest extended leaf; 0x8000_0007 is asked only
    // when it is within that range.
    let highest = __cpuid(0x8000_0000).eax;
    if highest < 0x8000_0007 {
        return false;
    }
    let power = __cpuid(0x8000_0007);
    power.edx & (1 << 8) != 0
}

#[cfg(not(all(target_arch = "x86_64", not(miri))))]
fn invariant_tsc() -> bool {
    false
}

/// On Linux the kernel checks that the TSC agrees across cores and stays stable, and
/// switches away from it when it does not: trust the TSC only while it is the
/// clocksource. Elsewhere, or when the file cannot be read, the CPUID bit decides.
fn kernel_trusts_tsc() -> bool {
    if !cfg!(target_os = "linux") {
        return true;
    }
    match std::fs::read_to_string(
        "/sys/devices/system/clocksource/clocksource0/current_clocksource",
    ) {
        Ok(current) => current.trim() == "tsc",
        Err(_) => true,
    }
}
