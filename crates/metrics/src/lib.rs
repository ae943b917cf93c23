//! Counter snapshots of ada's lanes, with the conservation arithmetic every report needs.
//!
//! A snapshot is plain data copied out of the live counters (which stay in the crates
//! that update them, on their owners' cache lines). Every type is `serde`-serialisable
//! for reports and exporters.
//!
//! ```
//! use ada_metrics::LaneSnapshot;
//!
//! let lane = LaneSnapshot { events_written: 10, events_delivered: 10, ..Default::default() };
//! assert!(lane.is_conserved());
//! let json = serde_json::to_string(&lane).unwrap();
//! assert!(json.contains("\"events_written\":10"));
//! ```
#![no_std]
#![warn(missing_docs)]

use serde::{Deserialize, Serialize};

/// Why events were lost, with how many for each cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DropCounts {
    /// Events in submitted rings the producer took back under `DropOldest`.
    pub oldest: u64,
    /// Events the producer discarded on arrival because no ring was free (`DropNewest`,
    /// or `DropOldest` with nothing it could take back).
    pub newest: u64,
    /// Events lost because a sink failed while handling their ring.
    pub sink: u64,
}

impl DropCounts {
    /// All lost events, whatever the cause.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.oldest + self.newest + self.sink
    }
}

/// One lane's counters at one instant.
///
/// Conservation: `events_written = events_delivered + dropped.total() +
/// events_discarded + events_in_flight()`, and once the lane is drained
/// (`events_in_flight() == 0`) nothing is unaccounted for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LaneSnapshot {
    /// Events the producer committed.
    pub events_written: u64,
    /// Events handed to the drain's consumer (whole rings and in-place collection).
    pub events_delivered: u64,
    /// Events lost, by cause.
    pub dropped: DropCounts,
    /// Events in flight-recorder windows recycled without a mark: discarded by design,
    /// not a loss.
    pub events_discarded: u64,
    /// Flight-recorder windows recycled without being submitted.
    pub windows_discarded: u64,
    /// Whole submitted rings taken back under `DropOldest`.
    pub rings_dropped: u64,
    /// Rings submitted to the drain.
    pub rings_submitted: u64,
    /// Rings the drain took.
    pub rings_delivered: u64,
    /// Times the producer replaced its active ring.
    pub swaps: u64,
    /// Times the producer needed a ring and none was free.
    pub exhaustions: u64,
    /// Most rings ever waiting in the submit queue at once.
    pub submit_high_water: u64,
}

impl LaneSnapshot {
    /// Events lost, all causes.
    #[must_use]
    pub fn events_lost(&self) -> u64 {
        self.dropped.total()
    }

    /// Events written but neither delivered, lost nor discarded yet: they sit in rings
    /// the drain has not taken. Zero once the lane is drained. Saturates at zero when
    /// the snapshot's counters were read at slightly different instants.
    #[must_use]
    pub fn events_in_flight(&self) -> u64 {
        self.events_written
            .saturating_sub(self.events_delivered + self.dropped.total() + self.events_discarded)
    }

    /// Whether every written event is delivered, lost with a cause, or discarded by
    /// design: `written == delivered + lost + discarded`, exactly.
    #[must_use]
    pub fn is_conserved(&self) -> bool {
        self.events_written == self.events_delivered + self.dropped.total() + self.events_discarded
    }
}

impl core::ops::AddAssign<&LaneSnapshot> for LaneSnapshot {
    /// Sums counters (totals over lanes and threads); the high-water mark takes the
    /// maximum.
    fn add_assign(&mut self, other: &LaneSnapshot) {
        self.events_written += other.events_written;
        self.events_delivered += other.events_delivered;
        self.dropped.oldest += other.dropped.oldest;
        self.dropped.newest += other.dropped.newest;
        self.dropped.sink += other.dropped.sink;
        self.events_discarded += other.events_discarded;
        self.windows_discarded += other.windows_discarded;
        self.rings_dropped += other.rings_dropped;
        self.rings_submitted += other.rings_submitted;
        self.rings_delivered += other.rings_delivered;
        self.swaps += other.swaps;
        self.exhaustions += other.exhaustions;
        self.submit_high_water = self.submit_high_water.max(other.submit_high_water);
    }
}

/// The drain loop's counters at one instant: how it polled, idled and delivered.
///
/// ```
/// use ada_metrics::DrainSnapshot;
///
/// let drain = DrainSnapshot { cycles: 10, idle_cycles: 4, ..Default::default() };
/// assert_eq!(drain.busy_cycles(), 6);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DrainSnapshot {
    /// Poll cycles run.
    pub cycles: u64,
    /// Cycles that moved nothing.
    pub idle_cycles: u64,
    /// Idle yields.
    pub yields: u64,
    /// Idle parks (sleeps).
    pub parks: u64,
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
}

impl DrainSnapshot {
    /// Cycles that moved something.
    #[must_use]
    pub fn busy_cycles(&self) -> u64 {
        self.cycles.saturating_sub(self.idle_cycles)
    }
}

/// Jain's fairness index of `shares`: (Σx)² / (n·Σx²). 1 when every share is equal, 1/n
/// when one share has everything, 1 for no shares (nothing to be unfair about).
///
/// ```
/// assert_eq!(ada_metrics::fairness_index([5, 5, 5, 5]), 1.0);
/// assert_eq!(ada_metrics::fairness_index([8, 0, 0, 0]), 0.25);
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
/// let mut histogram = ada_metrics::Histogram::default();
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
}

impl Default for Histogram {
    fn default() -> Self {
        Self {
            buckets: [0; 65],
            count: 0,
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
    }

    /// Values recorded.
    #[must_use]
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The upper bound of the bucket holding the `q` quantile (`q` in 0..=1); 0 when
    /// nothing was recorded.
    #[must_use]
    pub fn quantile(&self, q: f64) -> u64 {
        if self.count == 0 {
            return 0;
        }
        // `ceil` is not in `core`: the rank is the first count that reaches count·q.
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

/// The README's example, compiled and run as a doc test.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

#[cfg(test)]
mod tests {
    #![allow(non_snake_case)]
    use super::*;

    #[test]
    fn snapshot__delivered_plus_lost_plus_discarded__then_conserved() {
        let lane = LaneSnapshot {
            events_written: 100,
            events_delivered: 70,
            dropped: DropCounts {
                oldest: 10,
                newest: 5,
                sink: 5,
            },
            events_discarded: 10,
            ..LaneSnapshot::default()
        };
        assert!(lane.is_conserved());
        assert_eq!(lane.events_in_flight(), 0);
        let unbalanced = LaneSnapshot {
            events_delivered: 71,
            ..lane
        };
        assert!(!unbalanced.is_conserved());
        assert_eq!(
            unbalanced.events_in_flight(),
            0,
            "saturates rather than wrapping"
        );
    }

    #[test]
    fn snapshot__serde_round_trip__then_equal() {
        let lane = LaneSnapshot {
            events_written: 7,
            swaps: 3,
            ..LaneSnapshot::default()
        };
        let json = serde_json::to_string(&lane).unwrap();
        let back: LaneSnapshot = serde_json::from_str(&json).unwrap();
        assert_eq!(back, lane);
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

    #[test]
    fn snapshot__add_assign__then_counters_sum_and_high_water_is_max() {
        let mut total = LaneSnapshot::default();
        let lane = LaneSnapshot {
            events_written: 5,
            events_delivered: 4,
            dropped: DropCounts {
                oldest: 1,
                newest: 0,
                sink: 0,
            },
            submit_high_water: 3,
            ..LaneSnapshot::default()
        };
        total += &lane;
        total += &LaneSnapshot {
            submit_high_water: 2,
            ..lane
        };
        assert_eq!(total.events_written, 10);
        assert_eq!(total.dropped.oldest, 2);
        assert_eq!(total.submit_high_water, 3);
        assert!(total.is_conserved());
    }
}
