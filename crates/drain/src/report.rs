//! What the drain reports when it stops, and why lanes lost events
//! ([`DrainReport::loss_explanations`]).

use crate::metrics::DrainSnapshot;
use crate::sink::{LaneKind, LaneLayout};
use ada_metrics::{DropCounts, LaneSnapshot};
use serde::{Deserialize, Serialize};
use std::fmt;

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
    /// The longest the drain left this thread's slot unvisited while it was registered,
    /// in microseconds: the largest gap between two passes that visited it, naps, parks
    /// and slow sink calls included. The thread's rings had to hold everything it wrote
    /// meanwhile.
    #[serde(default)]
    pub longest_unvisited_us: u64,
    /// How long the thread was registered as the drain saw it, in microseconds: from the
    /// first pass that visited its slot to its release (retired) or the stop (live).
    #[serde(default)]
    pub active_us: u64,
    /// Index lane counters.
    pub index: LaneSnapshot,
    /// Detail lane counters.
    pub detail: LaneSnapshot,
}

/// One lane's shape as the drain served it, for reading write rates against it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LaneGeometry {
    /// Rings per lane.
    pub rings: usize,
    /// Records per ring.
    pub ring_records: usize,
    /// Bytes per record.
    pub record_size: usize,
}

impl LaneGeometry {
    /// Records the lane holds in all its rings.
    #[must_use]
    pub fn records(&self) -> u64 {
        (self.rings as u64).saturating_mul(self.ring_records as u64)
    }
}

/// Both lanes' shapes (every thread has the same).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LaneGeometries {
    /// The index lane.
    pub index: LaneGeometry,
    /// The detail lane.
    pub detail: LaneGeometry,
}

impl From<&LaneLayout> for LaneGeometries {
    fn from(layout: &LaneLayout) -> Self {
        let geometry = |shape: &crate::sink::LaneShape| LaneGeometry {
            rings: shape.config.rings,
            ring_records: shape.config.ring_records,
            record_size: shape.record_size,
        };
        Self {
            index: geometry(&layout.index),
            detail: geometry(&layout.detail),
        }
    }
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
    /// CPU time the drain thread used, in nanoseconds (its thread CPU clock, read as it
    /// ends; 0 where the platform has none).
    #[serde(default)]
    pub drain_cpu_ns: u64,
    /// The lanes' shapes (rings, records per ring, record size).
    #[serde(default)]
    pub lanes: LaneGeometries,
    /// The registry's shared reserves at the stop: their size, and the most rings lent
    /// at once (who borrowed: each thread's lanes' `rings_borrowed`). All zero without
    /// reserves; absent from older reports.
    #[serde(default)]
    pub reserve: ada_thread_registry::ReserveUsage,
    /// The order the drain's passes visited the threads in (`DrainConfig::poll_order`).
    #[serde(default)]
    pub poll_order: crate::PollOrder,
    /// Jain's fairness index over rings delivered per thread (1 = perfectly even).
    pub fairness_index: f64,
    /// Every thread seen: retired ones with final counters, live ones as of the stop.
    pub threads: Vec<ThreadReport>,
    /// Sum of every thread's index and detail lane counters.
    pub totals: LaneSnapshot,
}

impl DrainReport {
    /// For every thread and lane that lost events, in slot order (index lane first): the
    /// losses by cause, the rate the thread wrote at, how long its lane's rings last at
    /// that rate, the longest the drain left it unvisited, and what would have avoided
    /// the loss. Empty when nothing was lost.
    ///
    /// ```
    /// use ada_drain::{DrainReport, LaneGeometry, LaneKind, ThreadReport};
    /// use ada_metrics::{DropCounts, LaneSnapshot};
    ///
    /// let mut report = DrainReport::default();
    /// report.lanes.index = LaneGeometry { rings: 4, ring_records: 1000, record_size: 32 };
    /// assert!(report.loss_explanations().is_empty());
    /// report.threads.push(ThreadReport {
    ///     slot: 0,
    ///     generation: 1,
    ///     thread_name: Some("worker".into()),
    ///     retired: true,
    ///     rings_delivered: 96,
    ///     last_seen_us_ago: Some(5),
    ///     longest_unvisited_us: 2_000, // the drain was away 2 ms
    ///     active_us: 10_000,
    ///     // 100,000 events in 10 ms: 10 per µs, so 4 rings of 1000 last 400 µs.
    ///     index: LaneSnapshot {
    ///         events_written: 100_000,
    ///         events_delivered: 96_000,
    ///         dropped: DropCounts { oldest: 4_000, ..DropCounts::default() },
    ///         ..LaneSnapshot::default()
    ///     },
    ///     detail: LaneSnapshot::default(),
    /// });
    /// let [why] = report.loss_explanations().try_into().unwrap();
    /// assert_eq!((why.slot, why.lane, why.dropped.oldest), (0, LaneKind::Index, 4_000));
    /// assert_eq!(why.buffer_covers_us, Some(400));
    /// // 2 ms at 10 events/µs is 20,000 records: 20 full rings and the one being written.
    /// assert_eq!(why.rings_needed, Some(21));
    /// assert!(why.to_string().contains("21 rings of 1000 records"), "{why}");
    /// ```
    #[must_use]
    pub fn loss_explanations(&self) -> Vec<LossExplanation> {
        let mut explanations = Vec::new();
        for thread in &self.threads {
            for (lane, counters, geometry) in [
                (LaneKind::Index, &thread.index, &self.lanes.index),
                (LaneKind::Detail, &thread.detail, &self.lanes.detail),
            ] {
                if counters.events_lost() > 0 {
                    explanations.push(LossExplanation::new(thread, lane, counters, geometry));
                }
            }
        }
        explanations
    }
}

/// Why one thread's lane lost events, and what would have avoided it
/// ([`DrainReport::loss_explanations`]). Its `Display` is one paragraph of advice.
///
/// The rate is the thread's average over its registration: a thread that writes in
/// bursts wrote faster than that while it lost events, so treat the ring counts as a
/// lower bound.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LossExplanation {
    /// Registry slot.
    pub slot: usize,
    /// Slot generation of the registration.
    pub generation: u32,
    /// The thread's name, if it had one.
    pub thread_name: Option<String>,
    /// Which lane lost events.
    pub lane: LaneKind,
    /// Events the thread wrote to the lane.
    pub events_written: u64,
    /// Events the lane lost, by cause.
    pub dropped: DropCounts,
    /// How long the thread was registered as the drain saw it, µs.
    pub active_us: u64,
    /// Events written per second over `active_us` (`None`: too short to measure).
    pub events_per_sec: Option<f64>,
    /// The lane's rings.
    pub rings: usize,
    /// The lane's records per ring.
    pub ring_records: usize,
    /// How long the lane's rings hold the thread's writes at that rate, µs
    /// (`rings × ring_records / rate`).
    pub buffer_covers_us: Option<u64>,
    /// The longest the drain left the thread unvisited, µs.
    pub longest_unvisited_us: u64,
    /// Rings of `ring_records` that would have held what the thread wrote at that rate
    /// during the longest unvisited interval (plus the one being written).
    pub rings_needed: Option<u64>,
    /// Records per ring that `rings` rings would have needed for the same.
    pub ring_records_needed: Option<u64>,
    /// The highest rate (events/s) at which the lane's rings cover the longest unvisited
    /// interval.
    pub sustainable_events_per_sec: Option<f64>,
    /// Events lost because the buffer ran out (every cause but the sink's).
    pub exhausted: u64,
}

impl LossExplanation {
    fn new(
        thread: &ThreadReport,
        lane: LaneKind,
        counters: &LaneSnapshot,
        geometry: &LaneGeometry,
    ) -> Self {
        let active_us = thread.active_us;
        let unvisited = thread.longest_unvisited_us;
        // Events per µs; unknown when the drain never saw the thread for a microsecond.
        let per_us = (active_us > 0).then(|| counters.events_written as f64 / active_us as f64);
        let per_us = per_us.filter(|&rate| rate > 0.0);
        let records = geometry.records();
        let ring_records = geometry.ring_records.max(1) as u64;
        let during_absence = per_us.map(|rate| (rate * unvisited as f64).ceil() as u64);
        Self {
            slot: thread.slot,
            generation: thread.generation,
            thread_name: thread.thread_name.clone(),
            lane,
            events_written: counters.events_written,
            dropped: counters.dropped,
            active_us,
            events_per_sec: per_us.map(|rate| rate * 1e6),
            rings: geometry.rings,
            ring_records: geometry.ring_records,
            buffer_covers_us: per_us.map(|rate| (records as f64 / rate) as u64),
            longest_unvisited_us: unvisited,
            rings_needed: during_absence
                .filter(|_| unvisited > 0)
                .map(|events| events.div_ceil(ring_records) + 1),
            ring_records_needed: during_absence
                .filter(|_| unvisited > 0 && geometry.rings > 1)
                .map(|events| events.div_ceil(geometry.rings as u64 - 1)),
            sustainable_events_per_sec: (unvisited > 0)
                .then(|| records as f64 / unvisited as f64 * 1e6),
            exhausted: counters.dropped.total() - counters.dropped.sink,
        }
    }
}

impl fmt::Display for LossExplanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lane = match self.lane {
            LaneKind::Index => "index",
            LaneKind::Detail => "detail",
        };
        write!(f, "slot {} (generation {}", self.slot, self.generation)?;
        if let Some(name) = &self.thread_name {
            write!(f, ", {name:?}")?;
        }
        write!(
            f,
            ") {lane} lane lost {} of {} events (",
            self.dropped.total(),
            self.events_written
        )?;
        let mut first = true;
        for (cause, events) in self.dropped.by_cause() {
            if events > 0 {
                let separator = if first { "" } else { ", " };
                write!(f, "{separator}{cause} {events}")?;
                first = false;
            }
        }
        f.write_str(").")?;
        if self.exhausted > 0 {
            match (self.events_per_sec, self.buffer_covers_us) {
                (Some(rate), Some(covers)) => write!(
                    f,
                    " It wrote {:.0} events/s over {} µs; its {} rings × {} records last {covers} µs at that rate,",
                    rate, self.active_us, self.rings, self.ring_records
                )?,
                _ => write!(
                    f,
                    " It was registered too briefly to measure its rate; its lane has {} rings × {} records,",
                    self.rings, self.ring_records
                )?,
            }
            write!(
                f,
                " and the drain left it unvisited for up to {} µs.",
                self.longest_unvisited_us
            )?;
            match (self.rings_needed, self.ring_records_needed) {
                (Some(rings), Some(records)) => write!(
                    f,
                    " To cover that: {rings} rings of {} records, or {} rings of {records} records;",
                    self.ring_records, self.rings
                )?,
                (Some(rings), None) => write!(
                    f,
                    " To cover that: {rings} rings of {} records;",
                    self.ring_records
                )?,
                _ => f.write_str(" To cover more: more or larger rings;")?,
            }
            f.write_str(" or ExhaustionPolicy::Block (lossless: the producer waits for a ring)")?;
            match self.sustainable_events_per_sec {
                Some(rate) => write!(f, "; or write at most {rate:.0} events/s.")?,
                None => f.write_str("; or write at a lower rate.")?,
            }
        }
        if self.dropped.sink > 0 {
            write!(
                f,
                " {} events were lost because the sink failed on their rings: more rings do not help; see the sink's errors.",
                self.dropped.sink
            )?;
        }
        Ok(())
    }
}
