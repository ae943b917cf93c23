//! The only place this crate takes atomics and cells from: `std` normally, loom under
//! `--cfg loom`.

#[cfg(loom)]
pub(crate) use loom::sync::Mutex;
#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering, fence};
#[cfg(loom)]
pub(crate) use loom::thread::{Thread, current};

#[cfg(not(loom))]
pub(crate) use std::sync::Mutex;
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering, fence};
#[cfg(not(loom))]
pub(crate) use std::thread::{Thread, current};

/// Parks the calling thread for at most `timeout` (loom models no time: it parks until
/// unparked, which is what a lost wake-up would turn into a detected deadlock).
pub(crate) fn park_timeout(timeout: std::time::Duration) {
    #[cfg(loom)]
    {
        let _ = timeout;
        loom::thread::park();
    }
    #[cfg(not(loom))]
    std::thread::park_timeout(timeout);
}

/// A `std` mutex even under loom, for a value the protocols hand over but do not order
/// (a blocked producer's `Thread`, `block.rs`): it holds no loom object, and no loom
/// operation runs while it is locked, so it cannot stall loom's scheduler. (A loom mutex
/// per slot made `Registry::new` overflow a loom model thread's 32 KiB stack.)
pub(crate) use std::sync::Mutex as PlainMutex;

pub(crate) use ada_slots::cell::UnsafeCell;

/// A statistic one thread stores and any thread loads: `std` atomics even under loom,
/// since it orders nothing (no data is published through it), which keeps the models'
/// state space on the protocols; `Relaxed` both ways.
#[derive(Debug)]
pub(crate) struct Statistic(std::sync::atomic::AtomicU64);

impl Statistic {
    pub(crate) const fn new(value: u64) -> Self {
        Self(std::sync::atomic::AtomicU64::new(value))
    }

    pub(crate) fn set(&self, value: u64) {
        self.0.store(value, std::sync::atomic::Ordering::Relaxed);
    }

    pub(crate) fn get(&self) -> u64 {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Adds `n`: for a counter several threads bump (still ordering nothing).
    pub(crate) fn add(&self, n: u64) {
        self.0.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Where the drain thread may run, so that the producer that wakes it can keep it off
/// the producer's own CPU (`wake.rs`). Linux only; elsewhere, and under loom or Miri, it
/// does nothing.
///
/// Why: a thread woken by `unpark` is often queued on the waker's CPU even when another
/// CPU is idle, and there it waits for the waker, a producer writing at full speed, to
/// use up its time slice: milliseconds, in which the producer fills every ring. Leaving
/// the waker's CPU out of the drain's CPU set just before the unpark makes the scheduler
/// place the drain elsewhere; the drain restores its set once it runs (`restore`).
#[cfg(all(target_os = "linux", not(loom), not(miri)))]
pub(crate) struct Placement {
    /// The drain thread's kernel id.
    tid: libc::pid_t,
    /// The CPUs it may run on.
    allowed: libc::cpu_set_t,
}

#[cfg(all(target_os = "linux", not(loom), not(miri)))]
impl Placement {
    /// The calling thread's placement, or `None` when it may run on one CPU only (pinned:
    /// nothing to steer) or its CPU set cannot be read.
    pub(crate) fn of_current() -> Option<Self> {
        // SAFETY: all-zero bytes are a valid (empty) `cpu_set_t`; `sched_getaffinity`
        // writes at most `size_of::<cpu_set_t>()` bytes into the set we own, and
        // `gettid` has no preconditions.
        let (tid, allowed, status) = unsafe {
            let mut allowed: libc::cpu_set_t = std::mem::zeroed();
            let status = libc::sched_getaffinity(0, size_of::<libc::cpu_set_t>(), &raw mut allowed);
            (libc::gettid(), allowed, status)
        };
        // SAFETY: `CPU_COUNT` only reads the set.
        let cpus = unsafe { libc::CPU_COUNT(&allowed) };
        (status == 0 && cpus > 1).then_some(Self { tid, allowed })
    }

    /// Lets the drain run on its CPUs except the calling thread's (when that leaves any),
    /// for the wake-up that follows. Returns whether the set was changed.
    pub(crate) fn avoid_current_cpu(&self) -> bool {
        // SAFETY: `sched_getcpu` has no preconditions.
        let Ok(cpu) = usize::try_from(unsafe { libc::sched_getcpu() }) else {
            return false;
        };
        let mut elsewhere = self.allowed;
        // SAFETY: `CPU_ISSET`/`CPU_CLR`/`CPU_COUNT` check `cpu` against the set's size
        // and touch only the set we own; `sched_setaffinity` reads `size_of` bytes of it.
        // A thread of this process may change another's CPU set; a refusal (the drain
        // exited, a seccomp policy) only loses the steering.
        unsafe {
            if !libc::CPU_ISSET(cpu, &elsewhere) {
                return false;
            }
            libc::CPU_CLR(cpu, &mut elsewhere);
            libc::CPU_COUNT(&elsewhere) > 0
                && libc::sched_setaffinity(self.tid, size_of::<libc::cpu_set_t>(), &elsewhere) == 0
        }
    }

    /// Gives the drain its whole CPU set back (called by the drain, once running).
    pub(crate) fn restore(&self) {
        // SAFETY: `sched_setaffinity` reads `size_of` bytes of the set we own; a failure
        // leaves the drain on fewer CPUs, never on none.
        unsafe {
            libc::sched_setaffinity(self.tid, size_of::<libc::cpu_set_t>(), &self.allowed);
        }
    }
}

/// No placement to steer (not Linux, or loom, or Miri, which runs no system calls).
#[cfg(not(all(target_os = "linux", not(loom), not(miri))))]
pub(crate) struct Placement;

#[cfg(not(all(target_os = "linux", not(loom), not(miri))))]
impl Placement {
    pub(crate) fn of_current() -> Option<Self> {
        None
    }

    pub(crate) fn avoid_current_cpu(&self) -> bool {
        false
    }

    pub(crate) fn restore(&self) {}
}
