//! The calling thread's CPU time: what a drain or a benchmark reports as its cost.

use std::time::Duration;

/// CPU time the calling thread has used so far, or `None` where the platform has no
/// per-thread CPU clock (or under Miri).
///
/// ```
/// let before = ada_clock::thread_cpu_time();
/// let mut x = 0_u64;
/// for n in 0..100_000 {
///     x = x.wrapping_mul(31).wrapping_add(n);
/// }
/// std::hint::black_box(x);
/// if let (Some(before), Some(after)) = (before, ada_clock::thread_cpu_time()) {
///     assert!(after >= before);
/// }
/// ```
#[must_use]
pub fn thread_cpu_time() -> Option<Duration> {
    #[cfg(all(unix, not(miri)))]
    {
        let mut time = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `clock_gettime` writes only the `timespec` we own and pass by a valid
        // pointer; `CLOCK_THREAD_CPUTIME_ID` is a clock every supported unix has (an
        // unknown one would be an error status, not undefined behaviour).
        let status = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &raw mut time) };
        if status != 0 {
            return None;
        }
        Some(Duration::new(
            u64::try_from(time.tv_sec).unwrap_or(0),
            u32::try_from(time.tv_nsec).unwrap_or(0),
        ))
    }
    #[cfg(not(all(unix, not(miri))))]
    {
        None
    }
}
