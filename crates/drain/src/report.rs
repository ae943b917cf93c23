//! What the drain reports when it stops.

use ada_metrics::LaneSnapshot;
use serde::{Deserialize, Serialize};

/// One thread's final (retired) or current (still registered) counters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThreadReport {
    /// Registry slot.
    pub slot: usize,
    /// Slot generation of this registration.
    pub generation: u32,
    /// The thread's name, if it had one.
    pub thread_name: Option<String>,
    /// Whether the thread had exited (its slot was released).
    pub retired: bool,
    /// Rings the drain delivered from this thread (both lanes).
    pub rings_delivered: u64,
    /// How long before the report the drain last delivered something of this thread, in
    /// microseconds (`None`: never).
    pub last_seen_us_ago: Option<u64>,
    /// Index lane counters.
    pub index: LaneSnapshot,
    /// Detail lane counters.
    pub detail: LaneSnapshot,
}

/// The drain's final report: what moved, what was lost and why, how the loop behaved.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DrainReport {
    /// Poll cycles run.
    pub cycles: u64,
    /// Cycles that moved nothing.
    pub idle_cycles: u64,
    /// Idle yields.
    pub yields: u64,
    /// Idle parks.
    pub parks: u64,
    /// Passes of the final drain after the stop request.
    pub final_passes: u64,
    /// Rings handed to the sink.
    pub rings_delivered: u64,
    /// In-place collections handed to the sink.
    pub collections: u64,
    /// Times a lane used its whole quantum and the drain moved on to the next lane.
    pub fairness_switches: u64,
    /// Bytes of records delivered (both lanes, all threads).
    pub bytes_delivered: u64,
    /// Sink calls that returned an error (their records count as lost to the sink).
    pub sink_errors: u64,
    /// Sink calls that panicked (caught; their records count as lost to the sink).
    pub sink_panics: u64,
    /// The sink's final flush error, if any.
    pub sink_flush_error: Option<String>,
    /// Median poll-cycle time, ns (power-of-two bucket upper bound).
    pub cycle_p50_ns: u64,
    /// 99th percentile poll-cycle time, ns (power-of-two bucket upper bound).
    pub cycle_p99_ns: u64,
    /// Jain's fairness index over rings delivered per thread (1 = perfectly even).
    pub fairness_index: f64,
    /// Every thread seen: retired ones with final counters, live ones as of the stop.
    pub threads: Vec<ThreadReport>,
    /// Sum of every thread's index and detail lane counters.
    pub totals: LaneSnapshot,
}

impl DrainReport {
    /// Adds one lane snapshot into the totals.
    pub(crate) fn add_totals(&mut self, lane: &LaneSnapshot) {
        let t = &mut self.totals;
        t.events_written += lane.events_written;
        t.events_delivered += lane.events_delivered;
        t.dropped.oldest += lane.dropped.oldest;
        t.dropped.newest += lane.dropped.newest;
        t.dropped.sink += lane.dropped.sink;
        t.events_discarded += lane.events_discarded;
        t.windows_discarded += lane.windows_discarded;
        t.rings_dropped += lane.rings_dropped;
        t.rings_submitted += lane.rings_submitted;
        t.rings_delivered += lane.rings_delivered;
        t.swaps += lane.swaps;
        t.exhaustions += lane.exhaustions;
        t.submit_high_water = t.submit_high_water.max(lane.submit_high_water);
    }
}

/// Jain's fairness index of `shares`: (Σx)² / (n·Σx²); 1 for equal shares, 1/n when one
/// share has everything. 1 for no shares.
#[must_use]
pub(crate) fn jain(shares: &[u64]) -> f64 {
    let n = shares.len() as f64;
    let sum: f64 = shares.iter().map(|&x| x as f64).sum();
    let squares: f64 = shares.iter().map(|&x| (x as f64) * (x as f64)).sum();
    if squares == 0.0 {
        1.0
    } else {
        sum * sum / (n * squares)
    }
}

/// A power-of-two histogram of durations in ns.
#[derive(Debug, Clone)]
pub(crate) struct Histogram {
    buckets: [u64; 64],
    count: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Self {
            buckets: [0; 64],
            count: 0,
        }
    }
}

impl Histogram {
    pub(crate) fn record(&mut self, ns: u64) {
        let bucket = (64 - ns.leading_zeros()) as usize;
        self.buckets[bucket.min(63)] += 1;
        self.count += 1;
    }

    /// Upper bound of the bucket holding the `q` quantile.
    pub(crate) fn quantile(&self, q: f64) -> u64 {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let target = ((self.count as f64) * q).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (bucket, &n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen >= target && n > 0 {
                return if bucket == 0 {
                    0
                } else {
                    (1_u64 << bucket) - 1
                };
            }
        }
        0
    }
}
