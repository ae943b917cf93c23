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
#![doc(test(attr(deny(warnings))))]

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
    /// Events an `ExhaustionPolicy::Block` lane's producer discarded on arrival after it
    /// gave up waiting for a ring: its timeout passed, or the registry shut down (a
    /// `Block` lane without a timeout counts here only at shutdown). Absent from reports
    /// written before the cause existed (read as 0).
    #[serde(default)]
    pub timeout: u64,
}

impl DropCounts {
    /// All lost events, whatever the cause.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.by_cause().iter().map(|&(_, events)| events).sum()
    }

    /// Every cause as `(name, events)`, in declaration order; the names are the serde
    /// keys. For printing without listing the causes again.
    ///
    /// ```
    /// let dropped = ada_metrics::DropCounts { oldest: 3, timeout: 2, ..Default::default() };
    /// assert_eq!(
    ///     dropped.by_cause(),
    ///     [("oldest", 3), ("newest", 0), ("sink", 0), ("timeout", 2)]
    /// );
    /// ```
    #[must_use]
    pub fn by_cause(&self) -> [(&'static str, u64); 4] {
        let Self {
            oldest,
            newest,
            sink,
            timeout,
        } = *self;
        [
            ("oldest", oldest),
            ("newest", newest),
            ("sink", sink),
            ("timeout", timeout),
        ]
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
    /// Times an `ExhaustionPolicy::Block` lane's producer waited for a ring (each wait
    /// counts once, however long it took, whether it ended with a ring, a timeout or
    /// the registry's shutdown). Absent from older reports (read as 0).
    #[serde(default)]
    pub blocked_waits: u64,
    /// Nanoseconds those waits took in total. Absent from older reports (read as 0).
    #[serde(default)]
    pub blocked_ns: u64,
    /// Rings the producer borrowed from its registry's shared reserve when its own were
    /// all out (each went back to the reserve once delivered). Absent from older reports
    /// (read as 0).
    #[serde(default)]
    pub rings_borrowed: u64,
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
        self.dropped.timeout += other.dropped.timeout;
        self.events_discarded += other.events_discarded;
        self.windows_discarded += other.windows_discarded;
        self.rings_dropped += other.rings_dropped;
        self.rings_submitted += other.rings_submitted;
        self.rings_delivered += other.rings_delivered;
        self.swaps += other.swaps;
        self.exhaustions += other.exhaustions;
        self.submit_high_water = self.submit_high_water.max(other.submit_high_water);
        self.blocked_waits += other.blocked_waits;
        self.blocked_ns += other.blocked_ns;
        self.rings_borrowed += other.rings_borrowed;
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
                sink: 3,
                timeout: 2,
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
    fn drop_counts__by_cause__then_serde_keys_and_total() {
        let dropped = DropCounts {
            oldest: 1,
            newest: 20,
            sink: 300,
            timeout: 4000,
        };
        let json = serde_json::to_value(dropped).unwrap();
        let object = json.as_object().unwrap();
        assert_eq!(object.len(), dropped.by_cause().len());
        for (cause, events) in dropped.by_cause() {
            assert_eq!(object[cause], events, "{cause}");
        }
        assert_eq!(dropped.total(), 4321);
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
                timeout: 0,
            },
            submit_high_water: 3,
            blocked_waits: 2,
            blocked_ns: 500,
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
        assert_eq!((total.blocked_waits, total.blocked_ns), (4, 1000));
        assert!(total.is_conserved());
    }

    #[test]
    fn snapshot__json_from_before_timeout_and_blocking__then_read_as_zero() {
        // A report written before the `timeout` cause and the blocking counters existed.
        let json = r#"{"events_written":3,"events_delivered":2,
            "dropped":{"oldest":0,"newest":1,"sink":0},
            "events_discarded":0,"windows_discarded":0,"rings_dropped":0,
            "rings_submitted":1,"rings_delivered":1,"swaps":1,"exhaustions":1,
            "submit_high_water":1}"#;
        let lane: LaneSnapshot = serde_json::from_str(json).unwrap();
        assert_eq!(lane.dropped.timeout, 0);
        assert_eq!((lane.blocked_waits, lane.blocked_ns), (0, 0));
        assert_eq!(lane.rings_borrowed, 0);
        assert!(lane.is_conserved());
    }
}
