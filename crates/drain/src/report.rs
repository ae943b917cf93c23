//! What the drain reports when it stops.

use crate::metrics::DrainSnapshot;
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
    /// How the loop polled, idled and delivered.
    pub drain: DrainSnapshot,
    /// Bytes of records delivered (both lanes, all threads).
    pub bytes_delivered: u64,
    /// The sink's final flush error, if any.
    pub sink_flush_error: Option<String>,
    /// The sink's error at [`finish`](crate::Sink::finish) (its last call, with this
    /// report), if any.
    #[serde(default)]
    pub sink_finish_error: Option<String>,
    /// The CPU the drain thread was pinned to, if any.
    pub pinned_cpu: Option<usize>,
    /// Jain's fairness index over rings delivered per thread (1 = perfectly even).
    pub fairness_index: f64,
    /// Every thread seen: retired ones with final counters, live ones as of the stop.
    pub threads: Vec<ThreadReport>,
    /// Sum of every thread's index and detail lane counters.
    pub totals: LaneSnapshot,
}
