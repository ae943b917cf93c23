//! The drain loop's metrics: [`DrainSnapshot`] (what a reader sees), the live copy the
//! drain thread publishes it through, the [`Histogram`] of cycle times and submit → take
//! latencies, and Jain's [`fairness_index`] the report is computed with.
//!
//! Every drain counter is named once, in the `drain_metrics!` invocation below, which
//! defines the snapshot struct (with serde), its publication through the live
//! statistics and back, and [`DrainSnapshot::counters`], the name/value list printers
//! use.

use crate::sync::Statistic;
use serde::{Deserialize, Serialize};

/// Defines the snapshot struct from its field list (every field a `u64` counter), plus
/// everything else that must follow that list: the live statistics it is published
/// through, `publish`/`read`, and `counters`.
macro_rules! drain_metrics {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$field_meta:meta])* pub $field:ident: u64, )*
        }
    ) => {
        $(#[$meta])*
        pub struct $name {
            $( $(#[$field_meta])* pub $field: u64, )*
        }

        /// How many counters a snapshot has.
        const COUNTERS: usize = [$(stringify!($field)),*].len();

        impl $name {
            /// Every counter as `(name, value)`, in declaration order; the names are the
            /// serde keys. For printing without listing the fields again.
            #[must_use]
            pub fn counters(&self) -> [(&'static str, u64); COUNTERS] {
                [$((stringify!($field), self.$field)),*]
            }
        }

        impl LiveMetrics {
            /// Stores every counter of `snapshot`. Drain thread only.
            pub(crate) fn publish(&self, snapshot: &$name) {
                let values = [$(snapshot.$field),*];
                for (live, value) in self.counters.iter().zip(values) {
                    live.set(value);
                }
            }

            /// The counters as last published.
            pub(crate) fn read(&self) -> $name {
                let [$($field),*] = self.counters.each_ref().map(Statistic::get);
                $name { $($field),* }
            }
        }
    };
}

drain_metrics! {
    /// The drain loop's counters at one instant: how it polled, idled and delivered.
    ///
    /// ```
    /// use ada_drain::DrainSnapshot;
    ///
    /// let drain = DrainSnapshot { cycles: 10, idle_cycles: 4, ..Default::default() };
    /// assert_eq!(drain.busy_cycles(), 6);
    /// assert_eq!(drain.counters()[0], ("cycles", 10));
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
    #[serde(default)]
    pub struct DrainSnapshot {
        /// Poll cycles run.
        pub cycles: u64,
        /// Cycles that moved nothing.
        pub idle_cycles: u64,
        /// Naps: short sleeps between polls while work had moved recently.
        pub naps: u64,
        /// Parks: waits for a producer's wake-up (or `park_interval`) after sustained
        /// idleness.
        pub parks: u64,
        /// Times a producer unparked the drain (at most one per park: only the first
        /// producer that finds the drain parked pays the system call).
        pub producer_wakes: u64,
        /// Passes of the final drain after the stop request.
        pub final_passes: u64,
        /// Rings handed to the sink.
        pub rings_delivered: u64,
        /// In-place collections of quiet threads' partly filled rings handed to the sink.
        pub collections: u64,
        /// Times a lane used its whole quantum and the drain moved on to the next lane.
        pub fairness_switches: u64,
        /// Sink calls that returned an error (their records count as lost to the sink).
        pub sink_errors: u64,
        /// Sink calls that panicked (caught; their records count as lost to the sink).
        pub sink_panics: u64,
        /// Median poll-cycle time, ns (upper bound of its power-of-two bucket).
        pub cycle_p50_ns: u64,
        /// 99th percentile poll-cycle time, ns (upper bound of its power-of-two bucket).
        pub cycle_p99_ns: u64,
        /// Median time from a ring's submission to the drain taking it, ns (upper bound
        /// of its power-of-two bucket; rings without a clock stamp are not counted).
        pub take_latency_p50_ns: u64,
        /// 99th percentile submit → take time, ns (upper bound of its bucket).
        pub take_latency_p99_ns: u64,
        /// Longest submit → take time, ns (exact).
        pub take_latency_max_ns: u64,
    }
}

impl DrainSnapshot {
    /// Cycles that moved something.
    #[must_use]
    pub fn busy_cycles(&self) -> u64 {
        self.cycles.saturating_sub(self.idle_cycles)
    }
}

/// A [`DrainSnapshot`] in statistics: the drain thread alone stores (once per cycle), any
/// thread loads. No data is published through them, so fields read at slightly different
/// instants are the only inconsistency.
pub(crate) struct LiveMetrics {
    counters: [Statistic; COUNTERS],
}

impl Default for LiveMetrics {
    fn default() -> Self {
        Self {
            counters: core::array::from_fn(|_| Statistic::default()),
        }
    }
}

/// Jain's fairness index of `shares`: (Σx)² / (n·Σx²). 1 when every share is equal, 1/n
/// when one share has everything, 1 for no shares (nothing to be unfair about).
///
/// ```
/// assert_eq!(ada_drain::fairness_index([5, 5, 5, 5]), 1.0);
/// assert_eq!(ada_drain::fairness_index([8, 0, 0, 0]), 0.25);
/// ```
#[must_use]
pub fn fairness_index(shares: impl IntoIterator<Item = u64>) -> f64 {
    let (mut n, mut sum, mut squares) = (0.0_f64, 0.0_f64, 0.0_f64);
    for share in shares {
        let x = share as f64;
        n += 1.0;
        sum += x;
        squares += x * x;
    }
    if squares == 0.0 {
        1.0
    } else {
        sum * sum / (n * squares)
    }
}

/// Durations in power-of-two buckets: constant size, constant-time record, for
/// percentiles of hot loops (a drain cycle records one per pass).
///
/// ```
/// let mut histogram = ada_drain::Histogram::default();
/// for ns in [100, 110, 120, 5_000] {
///     histogram.record(ns);
/// }
/// assert_eq!(histogram.quantile(0.5), 127);
/// assert_eq!(histogram.quantile(1.0), 8_191);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Histogram {
    buckets: [u64; 65],
    count: u64,
    max: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Self {
            buckets: [0; 65],
            count: 0,
            max: 0,
        }
    }
}

impl Histogram {
    /// Counts one value.
    #[inline]
    pub fn record(&mut self, value: u64) {
        // Bucket b holds values in [2^(b-1), 2^b - 1]; bucket 0 holds 0.
        self.buckets[(u64::BITS - value.leading_zeros()) as usize] += 1;
        self.count += 1;
        self.max = self.max.max(value);
    }

    /// Values recorded.
    #[must_use]
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The largest value recorded, exactly (0 when nothing was).
    ///
    /// ```
    /// let mut histogram = ada_drain::Histogram::default();
    /// histogram.record(300);
    /// assert_eq!((histogram.max(), histogram.quantile(1.0)), (300, 511));
    /// ```
    #[must_use]
    pub fn max(&self) -> u64 {
        self.max
    }

    /// The upper bound of the bucket holding the `q` quantile (`q` in 0..=1); 0 when
    /// nothing was recorded.
    #[must_use]
    pub fn quantile(&self, q: f64) -> u64 {
        if self.count == 0 {
            return 0;
        }
        // The rank is the first count that reaches count·q.
        let rank = self.count as f64 * q.clamp(0.0, 1.0);
        let mut seen = 0_u64;
        for (bucket, &n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen > 0 && seen as f64 >= rank {
                return match bucket {
                    0 => 0,
                    64 => u64::MAX,
                    b => (1_u64 << b) - 1,
                };
            }
        }
        u64::MAX
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    #![allow(non_snake_case)]
    use super::*;

    /// A snapshot whose every counter differs from every other.
    fn distinct() -> DrainSnapshot {
        let mut live = LiveMetrics::default();
        for (n, counter) in live.counters.iter_mut().enumerate() {
            counter.set(1000 + n as u64);
        }
        live.read()
    }

    #[test]
    fn live_metrics__publish_then_read__then_every_counter_round_trips() {
        let snapshot = distinct();
        let live = LiveMetrics::default();
        assert_eq!(live.read(), DrainSnapshot::default());
        live.publish(&snapshot);
        assert_eq!(live.read(), snapshot);
        let mut values: Vec<u64> = snapshot.counters().iter().map(|&(_, v)| v).collect();
        values.dedup();
        assert_eq!(values.len(), COUNTERS, "no two counters share a slot");
    }

    #[test]
    fn drain_snapshot__counters__then_serde_keys_and_values_in_order() {
        let snapshot = DrainSnapshot {
            cycles: 7,
            cycle_p99_ns: 9,
            ..distinct()
        };
        let json = serde_json::to_value(snapshot).unwrap();
        let object = json.as_object().unwrap();
        assert_eq!(object.len(), COUNTERS);
        for (name, value) in snapshot.counters() {
            assert_eq!(object[name], value, "{name}");
        }
        assert_eq!(snapshot.counters()[0], ("cycles", 7));
        assert_eq!(
            snapshot.counters()[COUNTERS - 1],
            ("take_latency_max_ns", snapshot.take_latency_max_ns)
        );
        let back: DrainSnapshot = serde_json::from_value(json).unwrap();
        assert_eq!(back, snapshot);
    }

    #[test]
    fn drain_snapshot__busy_cycles__then_cycles_less_idle_never_below_zero() {
        let busy = DrainSnapshot {
            cycles: 10,
            idle_cycles: 4,
            ..DrainSnapshot::default()
        };
        assert_eq!(busy.busy_cycles(), 6);
        let inconsistent = DrainSnapshot {
            cycles: 3,
            idle_cycles: 5,
            ..DrainSnapshot::default()
        };
        assert_eq!(
            inconsistent.busy_cycles(),
            0,
            "fields read at different instants"
        );
    }

    #[test]
    fn histogram__values_across_buckets__then_quantiles_are_bucket_bounds() {
        let mut histogram = Histogram::default();
        assert_eq!(histogram.quantile(0.5), 0, "empty");
        for _ in 0..99 {
            histogram.record(300);
        }
        histogram.record(u64::MAX);
        assert_eq!(histogram.count(), 100);
        assert_eq!(histogram.quantile(0.5), 511);
        assert_eq!(histogram.quantile(0.99), 511);
        assert_eq!(histogram.quantile(1.0), u64::MAX);
        histogram.record(0);
        assert_eq!(histogram.quantile(0.0), 0);
    }

    #[test]
    fn fairness_index__uneven_shares__then_between_one_over_n_and_one() {
        assert_eq!(fairness_index([]), 1.0);
        assert_eq!(fairness_index([3, 3]), 1.0);
        let skewed = fairness_index([1, 9]);
        assert!(skewed > 0.5 && skewed < 1.0, "{skewed}");
        assert_eq!(fairness_index([7, 0]), 0.5);
    }
}
