//! The drain thread's work: what one pass does (a round-robin over the occupied slots
//! from a rotating start, at most a quantum of rings per lane, in-place collection of
//! quiet lanes, release of retired slots, sink calls with their errors and panics
//! caught), the counters it keeps and publishes, and the final report. When to pass,
//! idle and stop is `control.rs`.

use crate::control::{IdleStep, Moved, Passes, drive};
use crate::metrics::{Histogram, LiveMetrics, fairness_index};
use crate::report::{DrainReport, LaneGeometries, ThreadReport};
use crate::sink::{Delivery, LaneKind, Origin, Sink, SinkError};
use crate::{DrainConfig, DrainError, PollOrder, Shared, sync};
use ada_ring_pool::{LaneDrain, LaneSnapshot};
use ada_thread_registry::{ActiveSlot, Registry, RegistryDrain};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::SyncSender;
use std::time::{Duration, Instant};

/// What the drain has delivered of one slot's current occupant, and when it visited it.
#[derive(Debug, Clone, Copy, Default)]
struct Seen {
    generation: u32,
    rings: u64,
    last: Option<Instant>,
    /// The first pass that visited this occupant.
    first_visit: Option<Instant>,
    /// The latest pass that visited it.
    last_visit: Option<Instant>,
    /// The longest gap between two passes that visited it.
    longest_unvisited: Duration,
}

impl Seen {
    /// Microseconds since the last delivery (at report time it is "before the stop").
    fn ago_us(&self) -> Option<u64> {
        self.last
            .map(|last| u64::try_from(last.elapsed().as_micros()).unwrap_or(u64::MAX))
    }

    /// A pass that started at `at` visits the slot.
    fn visited(&mut self, at: Instant) {
        if let Some(last) = self.last_visit {
            self.longest_unvisited = self
                .longest_unvisited
                .max(at.saturating_duration_since(last));
        }
        self.first_visit.get_or_insert(at);
        self.last_visit = Some(at);
    }

    /// Microseconds from the first visit to `end` (0: never visited).
    fn active_us(&self, end: Instant) -> u64 {
        self.first_visit
            .map_or(0, |first| micros(end.saturating_duration_since(first)))
    }
}

/// Whole microseconds, saturating.
fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

/// The loop's state, allocated once before polling starts.
struct Poller<'a, I, D> {
    sink: &'a mut dyn Sink<I, D>,
    config: DrainConfig,
    report: DrainReport,
    histogram: Histogram,
    /// Submit → take time of every taken ring that carried a clock stamp, ns.
    latency: Histogram,
    /// Converts the rings' submit stamps (`ada_clock` ticks) to nanoseconds.
    calibration: ada_clock::Calibration,
    /// Per slot, for its current generation: rings delivered, and when last.
    seen: Vec<Seen>,
    /// When quiet lanes were last collected in place.
    last_sweep: Instant,
    /// When the next pass starts: one clock read per busy pass, since a pass's end is
    /// the next one's start unless the loop waited in between.
    now: Instant,
    /// Where the counters are published for `Drain::snapshot`.
    live: &'a LiveMetrics,
    /// The slots of a `FullestFirst` pass, in visiting order (kept to reuse its memory).
    order: Vec<(u32, usize)>,
}

pub(crate) fn run<I: Copy + Send + 'static, D: Copy + Send + 'static>(
    registry: &Registry<I, D>,
    mut sink: Box<dyn Sink<I, D>>,
    shared: &Shared,
    config: &DrainConfig,
    calibration: ada_clock::Calibration,
    started: &SyncSender<Result<(), DrainError>>,
) -> DrainReport {
    if let Some(cpu) = config.pin_to_cpu
        && !core_affinity::set_for_current(core_affinity::CoreId { id: cpu })
    {
        let _ = started.send(Err(DrainError::Affinity(cpu)));
        return DrainReport::default();
    }
    let Some(mut drain) = registry.drain() else {
        let _ = started.send(Err(DrainError::RegistryHasDrain));
        return DrainReport::default();
    };
    let _ = started.send(Ok(()));
    // Latency over throughput: naps as long as asked, and woken on a busy CPU, the
    // drain runs at once.
    sync::tune_drain_thread();
    let mut poller = Poller {
        sink: &mut *sink,
        config: *config,
        report: DrainReport {
            lanes: LaneGeometries::from(&crate::lane_layout(registry)),
            ..DrainReport::default()
        },
        histogram: Histogram::default(),
        latency: Histogram::default(),
        calibration,
        seen: vec![Seen::default(); registry.config().capacity],
        last_sweep: Instant::now(),
        now: Instant::now(),
        live: &shared.live,
        order: Vec::with_capacity(registry.config().capacity),
    };
    drive(&shared.state, registry, &mut drain, config, &mut poller);
    // Caught like a delivery's panic: counted, and the report is still returned.
    match catch_unwind(AssertUnwindSafe(|| poller.sink.flush())) {
        Ok(Ok(())) => {}
        Ok(Err(error)) => poller.report.sink_flush_error = Some(error.0),
        Err(panic) => {
            poller.report.drain.sink_panics += 1;
            poller.report.sink_flush_error = Some(panicked("flush", &*panic));
        }
    }
    let mut report = poller.finish(&mut drain);
    report.pinned_cpu = config.pin_to_cpu;
    report.reserve = registry.reserve_usage();
    report.poll_order = config.poll_order;
    // Read before `finish`, so the sink is given the report that `stop` returns (the
    // sink's last two calls are not counted).
    report.drain_cpu_ns = ada_clock::thread_cpu_time()
        .map_or(0, |cpu| u64::try_from(cpu.as_nanos()).unwrap_or(u64::MAX));
    // The sink's last call: the final report, after the flush (a file's trailer).
    match catch_unwind(AssertUnwindSafe(|| sink.finish(&report))) {
        Ok(Ok(())) => {}
        Ok(Err(error)) => report.sink_finish_error = Some(error.0),
        Err(panic) => {
            report.drain.sink_panics += 1;
            report.sink_finish_error = Some(panicked("finish", &*panic));
        }
    }
    // The sink ends here, on the drain thread: a panic in its drop is caught too.
    if catch_unwind(AssertUnwindSafe(move || drop(sink))).is_err() {
        report.drain.sink_panics += 1;
    }
    shared.live.publish(&report.drain);
    report
}

/// What a report says of a sink that panicked in `call`, with the panic's message when
/// it has one.
pub(crate) fn panicked(call: &str, panic: &(dyn std::any::Any + Send)) -> String {
    let message = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str));
    match message {
        Some(message) => format!("the sink panicked in {call}: {message}"),
        None => format!("the sink panicked in {call}"),
    }
}

impl<I: Copy + Send + 'static, D: Copy + Send + 'static> Passes<I, D> for Poller<'_, I, D> {
    fn pass(&mut self, drain: &mut RegistryDrain<'_, I, D>, last: bool) -> Moved {
        if last {
            return self.cycle(drain, Instant::now(), true, true).0;
        }
        let now = self.now;
        let sweep = now.duration_since(self.last_sweep) >= self.config.latency_bound;
        if sweep {
            self.last_sweep = now;
            self.refresh_percentiles();
        }
        let (moved, end) = self.cycle(drain, now, sweep, false);
        self.report.drain.producer_wakes = drain.producer_wakes();
        self.live.publish(&self.report.drain);
        self.now = end;
        moved
    }

    fn now(&self) -> Instant {
        self.now
    }

    fn idled(&mut self, step: IdleStep) {
        self.report.drain.idle_cycles += 1;
        match step {
            // No wait: the pass's end is still the time.
            IdleStep::Spun => return,
            IdleStep::Napped(_) => self.report.drain.naps += 1,
            IdleStep::Parked => self.report.drain.parks += 1,
        }
        self.now = Instant::now();
    }

    fn final_pass(&mut self) {
        self.report.drain.final_passes += 1;
    }

    fn final_visit(&mut self, slot: &mut ActiveSlot<'_, '_, I, D>) -> Moved {
        self.visit(slot, Instant::now(), true, true)
    }

    fn cut(&mut self, slot: ActiveSlot<'_, '_, I, D>, lanes: (LaneSnapshot, LaneSnapshot)) {
        let live = self.live_report(&slot, lanes);
        // A retiring thread's lanes are closed: `release` reads the same counters. One
        // that cannot be released yet (a ring left) is reported live, with its rings in
        // flight.
        if !(slot.is_retiring() && self.release(slot)) {
            self.report.threads.push(live);
        }
    }
}

impl<I: Copy + Send + 'static, D: Copy + Send + 'static> Poller<'_, I, D> {
    /// The report of a thread still registered at the final cut, with its lanes'
    /// final counters.
    fn live_report(
        &self,
        slot: &ActiveSlot<'_, '_, I, D>,
        lanes: (LaneSnapshot, LaneSnapshot),
    ) -> ThreadReport {
        let seen = &self.seen[slot.slot()];
        // Seen for another generation: the final passes missed this registration.
        let seen = if seen.generation == slot.generation() {
            *seen
        } else {
            Seen::default()
        };
        ThreadReport {
            slot: slot.slot(),
            generation: slot.generation(),
            thread_name: slot.identity().and_then(|i| i.thread_name.clone()),
            retired: false,
            rings_delivered: seen.rings,
            last_seen_us_ago: seen.ago_us(),
            longest_unvisited_us: micros(seen.longest_unvisited),
            active_us: seen.active_us(Instant::now()),
            index: lanes.0,
            detail: lanes.1,
        }
    }
}

impl<I: Copy + Send + 'static, D: Copy + Send + 'static> Poller<'_, I, D> {
    /// One round-robin pass over every occupied slot, started at `started`. Returns the
    /// deliveries made and when the pass ended.
    fn cycle(
        &mut self,
        drain: &mut RegistryDrain<'_, I, D>,
        started: Instant,
        sweep: bool,
        last: bool,
    ) -> (Moved, Instant) {
        let mut moved = Moved::default();
        let poll_order = self.config.poll_order;
        let mut order = std::mem::take(&mut self.order);
        let visit = |mut slot: ActiveSlot<'_, '_, I, D>| {
            let visited = self.visit(&mut slot, started, sweep, last);
            moved.taken += visited.taken;
            moved.other += visited.other;
            if slot.is_retiring() {
                self.release(slot);
            }
        };
        match poll_order {
            PollOrder::RoundRobin => drain.for_each_slot(visit),
            PollOrder::FullestFirst => drain.for_each_slot_fullest_first(&mut order, visit),
        };
        self.order = order;
        let end = Instant::now();
        let elapsed = u64::try_from((end - started).as_nanos()).unwrap_or(u64::MAX);
        self.histogram.record(elapsed);
        self.report.drain.cycles += 1;
        (moved, end)
    }

    /// One visit of `slot` by a pass that started at `started`: takes its lanes' rings
    /// (at most a quantum each, unless the thread is retiring or the drain stopping),
    /// collects quiet lanes in place (`sweep`; detail lanes only when `last`).
    fn visit(
        &mut self,
        slot: &mut ActiveSlot<'_, '_, I, D>,
        started: Instant,
        sweep: bool,
        last: bool,
    ) -> Moved {
        // Retiring threads and the final drain take everything; otherwise at most
        // one quantum per lane keeps the pass fair.
        let quantum = if last || slot.is_retiring() {
            usize::MAX
        } else {
            self.config.quantum
        };
        {
            let (name, thread_id) = slot.identity().map_or((None, None), |identity| {
                (identity.thread_name.clone(), Some(identity.thread_id))
            });
            let origin = Origin {
                slot: slot.slot(),
                generation: slot.generation(),
                thread_name: name.as_deref(),
                thread_id,
            };
            let index = self.lane(
                &mut slot.index_drain(),
                |sink, delivery| sink.index(delivery),
                origin,
                LaneKind::Index,
                quantum,
                sweep,
            );
            let detail = self.lane(
                &mut slot.detail_drain(),
                |sink, delivery| sink.detail(delivery),
                origin,
                LaneKind::Detail,
                quantum,
                // Detail lanes are collected in place by the final passes only: a live
                // flight recorder's kept (marked) window, or a `SubmitAll` ring.
                last,
            );
            let delivered = index.0 + index.1 + detail.0 + detail.1;
            let entry = &mut self.seen[slot.slot()];
            if entry.generation != slot.generation() {
                *entry = Seen {
                    generation: slot.generation(),
                    ..Seen::default()
                };
            }
            entry.visited(started);
            if delivered > 0 {
                entry.rings += delivered;
                entry.last = Some(started);
            }
            Moved {
                taken: index.0 + detail.0,
                other: index.1 + detail.1,
            }
        }
    }

    fn refresh_percentiles(&mut self) {
        self.report.drain.cycle_p50_ns = self.histogram.quantile(0.5);
        self.report.drain.cycle_p99_ns = self.histogram.quantile(0.99);
        self.report.drain.take_latency_p50_ns = self.latency.quantile(0.5);
        self.report.drain.take_latency_p99_ns = self.latency.quantile(0.99);
        self.report.drain.take_latency_max_ns = self.latency.max();
    }

    /// Records how long a ring submitted at tick `submitted` (0: not stamped) waited.
    fn taken(&mut self, submitted: u64) {
        if submitted != 0 {
            let waited = ada_clock::now().saturating_sub(submitted);
            self.latency.record(self.calibration.ticks_to_ns(waited));
        }
    }

    /// Takes up to `quantum` rings of one lane, then (when `collect`) its quiet
    /// partly filled ring. Returns the rings taken and the collections (0 or 1) made.
    fn lane<T: Copy>(
        &mut self,
        lane: &mut LaneDrain<'_, T>,
        to_sink: ToSink<I, D, T>,
        origin: Origin<'_>,
        kind: LaneKind,
        quantum: usize,
        collect: bool,
    ) -> (u64, u64) {
        let mut delivered = 0;
        while delivered < quantum as u64 {
            let Some(ring) = lane.take() else { break };
            let header = ring.header();
            self.taken(header.submitted_ticks);
            let gap = ring.gap();
            let delivery = Delivery {
                origin,
                lane: kind,
                header: Some(header),
                lost_before: gap.lost,
                discarded_before: gap.discarded,
                records: ring.records(),
            };
            if self.deliver(to_sink, &delivery) {
                ring.deliver();
            } else {
                ring.fail();
            }
            self.report.drain.rings_delivered += 1;
            delivered += 1;
        }
        if delivered == quantum as u64 {
            self.report.drain.fairness_switches += 1;
        }
        if delivered == 0 && collect {
            // Called only with records: a ring with nothing new is not a delivery.
            let outcome = lane.collect_active(|records, gap| {
                let delivery = Delivery {
                    origin,
                    lane: kind,
                    header: None,
                    lost_before: gap.lost,
                    discarded_before: gap.discarded,
                    records,
                };
                if self.deliver(to_sink, &delivery) {
                    Ok(())
                } else {
                    Err(())
                }
            });
            if outcome.is_some() {
                self.report.drain.collections += 1;
                return (0, 1);
            }
        }
        (delivered, 0)
    }

    /// Frees a retired slot whose lanes are drained, keeping its final counters; `false`
    /// when its lanes are not drained yet. Its registration ends now as the drain saw
    /// it, and the time since this pass began counts as unvisited too (a slow sink call
    /// in this very visit).
    fn release(&mut self, slot: ActiveSlot<'_, '_, I, D>) -> bool {
        let now = Instant::now();
        let mut seen = self.seen[slot.slot()];
        seen.visited(now);
        let Ok(retired) = slot.release() else {
            return false;
        };
        {
            let identity = retired.identity;
            self.report.threads.push(ThreadReport {
                slot: identity.as_ref().map_or(0, |i| i.slot),
                generation: identity.as_ref().map_or(0, |i| i.generation),
                thread_name: identity.and_then(|i| i.thread_name),
                retired: true,
                rings_delivered: seen.rings,
                last_seen_us_ago: seen.ago_us(),
                longest_unvisited_us: micros(seen.longest_unvisited),
                active_us: seen.active_us(now),
                index: retired.index,
                detail: retired.detail,
            });
        }
        true
    }

    /// Adds the totals, the percentiles and fairness to the threads' reports (the
    /// final cut made the last of them).
    fn finish(mut self, drain: &mut RegistryDrain<'_, I, D>) -> DrainReport {
        self.report.threads.sort_by_key(|t| (t.slot, t.generation));
        let threads = std::mem::take(&mut self.report.threads);
        for thread in &threads {
            self.report.totals += &thread.index;
            self.report.totals += &thread.detail;
            self.report.bytes_delivered += thread.index.events_delivered
                * std::mem::size_of::<I>() as u64
                + thread.detail.events_delivered * std::mem::size_of::<D>() as u64;
        }
        self.report.fairness_index =
            fairness_index(threads.iter().map(|t| t.rings_delivered).filter(|&r| r > 0));
        self.report.threads = threads;
        self.report.drain.producer_wakes = drain.producer_wakes();
        self.refresh_percentiles();
        self.report
    }
}

/// Which sink method a lane's deliveries go to.
type ToSink<I, D, T> = fn(&mut dyn Sink<I, D>, &Delivery<'_, T>) -> Result<(), SinkError>;

impl<I, D> Poller<'_, I, D> {
    /// Hands one delivery to the sink, catching its panics. `true`: delivered.
    fn deliver<T>(&mut self, to_sink: ToSink<I, D, T>, delivery: &Delivery<'_, T>) -> bool {
        let sink = &mut *self.sink;
        match catch_unwind(AssertUnwindSafe(|| to_sink(sink, delivery))) {
            Ok(Ok(())) => true,
            Ok(Err(_)) => {
                self.report.drain.sink_errors += 1;
                false
            }
            Err(_) => {
                self.report.drain.sink_panics += 1;
                false
            }
        }
    }
}
