//! The only place this crate takes atomics and thread calls from: `std` normally, loom
//! under `--cfg loom` (for the stop-versus-park model). No other module names an atomic
//! type or an `Ordering`, sleeps, or asks the scheduler for anything.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicU8, Ordering};

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicU8, Ordering};

/// The idle ladder's nap: sleeps the calling thread for `duration` (loom models no time:
/// there a nap is a yield, which lets the other threads of the model run).
pub(crate) fn sleep(duration: std::time::Duration) {
    #[cfg(loom)]
    {
        let _ = duration;
        loom::thread::yield_now();
    }
    #[cfg(not(loom))]
    std::thread::sleep(duration);
}

/// The time slice the drain thread asks for: the shortest the kernel allows.
#[cfg(all(target_os = "linux", not(loom), not(miri)))]
const SHORT_TIME_SLICE_NS: u64 = 100_000;

/// How late the kernel may end the drain's naps (its timer slack; Linux's default is
/// 50 µs, which doubles a 50 µs nap).
#[cfg(all(target_os = "linux", not(loom), not(miri)))]
const TIMER_SLACK_NS: libc::c_ulong = 1_000;

/// Tunes the calling (drain) thread for latency; best effort, Linux only (elsewhere, and
/// under loom or Miri, it does nothing).
///
/// - A short time slice: Linux's EEVDF scheduler (6.12 on) lets a thread that asks for a
///   shorter slice than the one running preempt it when it wakes. A drain that wakes
///   (from a nap or a park) on a CPU where a producer writes at full speed otherwise
///   waits until the producer's slice ends, milliseconds in which the producer can fill
///   every ring. The drain runs in short bursts, so a short slice costs it nothing.
///   Older kernels ignore the request. (It also keeps a woken drain from waiting behind
///   other processes' threads, which share the CPUs too.)
/// - A 1 µs timer slack, so that a nap lasts what the idle ladder asked for.
pub(crate) fn tune_drain_thread() {
    #[cfg(all(target_os = "linux", not(loom), not(miri)))]
    {
        let mut attr = libc::sched_attr {
            size: u32::try_from(size_of::<libc::sched_attr>()).unwrap_or(u32::MAX),
            sched_policy: libc::SCHED_OTHER as u32,
            sched_flags: 0,
            sched_nice: 0,
            sched_priority: 0,
            sched_runtime: SHORT_TIME_SLICE_NS,
            sched_deadline: 0,
            sched_period: 0,
        };
        // SAFETY: `sched_setattr` reads `attr.size` bytes of the `sched_attr` we own and
        // pass by valid pointer; pid 0 is the calling thread; flags 0. `prctl` with
        // `PR_SET_TIMERSLACK` takes a plain number. A refusal (an old kernel, a seccomp
        // policy) changes nothing.
        unsafe {
            let _ = libc::syscall(libc::SYS_sched_setattr, 0, &raw mut attr, 0);
            let _ = libc::prctl(libc::PR_SET_TIMERSLACK, TIMER_SLACK_NS);
        }
    }
}

/// Counters the unit tests' sinks share with the test thread.
#[cfg(all(test, not(loom)))]
pub(crate) use std::sync::atomic::AtomicU64;

/// One published statistic: the drain thread alone stores it, any thread loads it.
///
/// Statistics order nothing (no data is published through them), so they are `std`
/// atomics even under loom, which keeps the model's state space on the stop/park
/// protocol; and `Relaxed` both ways: a reader wants a recent value, not an ordering.
#[derive(Debug, Default)]
pub(crate) struct Statistic(std::sync::atomic::AtomicU64);

impl Statistic {
    /// Stores `value`. Only the drain thread calls this.
    #[inline]
    pub(crate) fn set(&self, value: u64) {
        self.0.store(value, std::sync::atomic::Ordering::Relaxed);
    }

    /// The last stored value.
    #[inline]
    pub(crate) fn get(&self) -> u64 {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
}
