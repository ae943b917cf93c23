//! Ticks to nanoseconds: a rate measured once per process against `Instant`, and an
//! anchor tying a tick to wall-clock time.

use crate::ClockSource;
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long the rate is measured: its relative error is about twice the jitter of one
/// `Instant` read (tens of nanoseconds) over this window, i.e. a few parts in 10⁵.
const WINDOW: Duration = Duration::from_millis(5);

/// How ticks convert to nanoseconds: `ns_span` nanoseconds passed while the clock
/// advanced `ticks_span` ticks, and tick `anchor_ticks` was `anchor_unix_ns` of Unix
/// time. Plain data, so a capture file can record it and its readers convert.
///
/// ```
/// use ada_clock::Calibration;
///
/// // 3 ticks a nanosecond, tick 3000 at Unix time 1 µs.
/// let calibration = Calibration {
///     source: ada_clock::ClockSource::Tsc,
///     ticks_span: 3_000_000,
///     ns_span: 1_000_000,
///     anchor_ticks: 3000,
///     anchor_unix_ns: 1000,
/// };
/// assert_eq!(calibration.ticks_to_ns(3_000), 1_000);
/// assert_eq!(calibration.to_unix_ns(6_000), 2_000);
/// assert_eq!(calibration.to_unix_ns(0), 0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Calibration {
    /// The source the ticks came from.
    pub source: ClockSource,
    /// Ticks counted over the measurement (never 0).
    pub ticks_span: u64,
    /// Nanoseconds over the same measurement (never 0).
    pub ns_span: u64,
    /// A tick whose wall-clock time is known.
    pub anchor_ticks: u64,
    /// `anchor_ticks` in nanoseconds since the Unix epoch.
    pub anchor_unix_ns: u64,
}

static CALIBRATION: OnceLock<Calibration> = OnceLock::new();

impl Calibration {
    /// This process's calibration: measured on first call (about 5 ms on a TSC; at once
    /// for the monotonic source, whose ticks are nanoseconds), then cached. Call it off
    /// the hot path, e.g. when a tracer starts.
    #[must_use]
    pub fn get() -> &'static Self {
        CALIBRATION.get_or_init(Self::measure)
    }

    fn measure() -> Self {
        let source = crate::source();
        let (anchor_ticks, anchor_instant, anchor_unix_ns) = anchor();
        if source != ClockSource::Tsc {
            return Self {
                source,
                ticks_span: 1,
                ns_span: 1,
                anchor_ticks,
                anchor_unix_ns,
            };
        }
        // Spin rather than sleep: the window's end is read as soon as it has passed.
        let mut end = Instant::now();
        while end.duration_since(anchor_instant) < WINDOW {
            core::hint::spin_loop();
            end = Instant::now();
        }
        let end_ticks = crate::now();
        let ns_span = u64::try_from(end.duration_since(anchor_instant).as_nanos())
            .unwrap_or(u64::MAX)
            .max(1);
        Self {
            source,
            ticks_span: end_ticks.saturating_sub(anchor_ticks).max(1),
            ns_span,
            anchor_ticks,
            anchor_unix_ns,
        }
    }

    /// Nanoseconds in `ticks` (a difference of two [`now`](crate::now) readings).
    #[must_use]
    pub fn ticks_to_ns(&self, ticks: u64) -> u64 {
        let ns = u128::from(ticks) * u128::from(self.ns_span) / u128::from(self.ticks_span);
        u64::try_from(ns).unwrap_or(u64::MAX)
    }

    /// Nanoseconds since the Unix epoch at tick `ticks` (saturating at 0 and `u64::MAX`).
    #[must_use]
    pub fn to_unix_ns(&self, ticks: u64) -> u64 {
        if ticks >= self.anchor_ticks {
            self.anchor_unix_ns
                .saturating_add(self.ticks_to_ns(ticks - self.anchor_ticks))
        } else {
            self.anchor_unix_ns
                .saturating_sub(self.ticks_to_ns(self.anchor_ticks - ticks))
        }
    }

    /// Ticks per second, for printing.
    #[must_use]
    pub fn ticks_per_second(&self) -> f64 {
        self.ticks_span as f64 * 1e9 / self.ns_span as f64
    }
}

/// A tick, the `Instant` and the Unix time read together (the tick between the two
/// others, so it is within one read of both).
fn anchor() -> (u64, Instant, u64) {
    let instant = Instant::now();
    let ticks = crate::now();
    let unix_ns = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            u64::try_from(since.as_nanos()).unwrap_or(u64::MAX)
        });
    (ticks, instant, unix_ns)
}

#[cfg(test)]
mod tests {
    #![allow(non_snake_case)]
    use super::*;

    #[test]
    #[cfg_attr(miri, ignore = "Miri's clock is virtual")]
    fn calibration__sleep_of_20_ms__then_measured_within_5_percent() {
        let calibration = Calibration::get();
        let start = crate::now();
        let wall = Instant::now();
        std::thread::sleep(Duration::from_millis(20));
        let ticks = crate::now() - start;
        let wall_ns = wall.elapsed().as_nanos() as f64;
        let ns = calibration.ticks_to_ns(ticks) as f64;
        assert!(
            (ns / wall_ns - 1.0).abs() < 0.05,
            "{ns} ns by ticks, {wall_ns} by Instant"
        );
    }

    #[test]
    #[cfg_attr(miri, ignore = "Miri's clock is virtual")]
    fn calibration__unix_time_of_now__then_close_to_system_time() {
        let calibration = Calibration::get();
        let unix = calibration.to_unix_ns(crate::now());
        let system = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64;
        assert!(unix.abs_diff(system) < 50_000_000, "{unix} vs {system}");
    }

    #[test]
    fn now__two_threads__then_each_monotonic() {
        let threads: std::vec::Vec<_> = (0..2)
            .map(|_| {
                std::thread::spawn(|| {
                    let mut last = crate::now();
                    for _ in 0..10_000 {
                        let next = crate::now();
                        assert!(next >= last);
                        last = next;
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
    }

    #[test]
    fn ticks_to_ns__huge_span__then_saturates() {
        let calibration = Calibration {
            source: ClockSource::Tsc,
            ticks_span: 1,
            ns_span: 1000,
            anchor_ticks: 10,
            anchor_unix_ns: 5,
        };
        assert_eq!(calibration.ticks_to_ns(u64::MAX), u64::MAX);
        assert_eq!(calibration.to_unix_ns(0), 0);
    }
}
