//! The drain loop's control flow: when to poll, idle, stop and make the final passes.
//! What one pass does lives in `worker.rs`; keeping the two apart lets the loom model
//! (`loom_tests.rs`) run this very code against the real registry.

use crate::sync::{self, AtomicU8, Ordering};
use crate::{DrainConfig, DrainError, DrainState};
use ada_ring_pool::LaneSnapshot;
use ada_thread_registry::{ActiveSlot, Registry, RegistryDrain};
use std::time::{Duration, Instant};

/// Most passes of the final drain: producers still writing would otherwise keep it
/// going forever; what they write after the stop is theirs to keep (reported in flight).
pub(crate) const FINAL_PASSES: u64 = 16;

/// Most visits of one slot by the final cut: a thread that keeps writing would keep it
/// visiting; what it commits after the last visit is in flight in the report.
pub(crate) const CUT_VISITS: u32 = 4;

/// What the loop did after a pass that moved nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IdleStep {
    /// Spun once (a busy-wait hint): work moved less than `spin_for` ago.
    Spun,
    /// Slept this long: work moved less than `park_after` ago.
    Napped(Duration),
    /// Parked until woken or `park_interval` passed: nothing moved for `park_after`.
    Parked,
}

/// What one pass moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Moved {
    /// Submitted rings taken: producers are writing, so more may come soon.
    pub(crate) taken: u64,
    /// Everything else: partly filled rings collected in place, retired slots released.
    /// Work, but the drain's own doing (a sweep every `latency_bound`), not a sign that
    /// rings are arriving.
    pub(crate) other: u64,
}

impl Moved {
    fn any(self) -> bool {
        self.taken + self.other > 0
    }
}

/// What a pass does, for [`drive`].
pub(crate) trait Passes<I, D> {
    /// One pass over every occupied slot; `last` during the final drain (take every
    /// submitted ring, collect every partly filled one). Returns what it moved.
    fn pass(&mut self, drain: &mut RegistryDrain<'_, I, D>, last: bool) -> Moved;
    /// The time now as the loop's idle ladder measures it: the worker's clock, read
    /// once per pass and after every wait (a model's is made up: loom has no time).
    fn now(&self) -> Instant;
    /// The loop idled, after the step's wait.
    fn idled(&mut self, step: IdleStep);
    /// A pass of the final drain is about to run.
    fn final_pass(&mut self);
    /// One visit of `slot` as a final pass makes it (take every submitted ring, collect
    /// the partly filled one), without releasing it. Returns what it moved.
    fn final_visit(&mut self, slot: &mut ActiveSlot<'_, '_, I, D>) -> Moved;
    /// The final report's counters of `slot`'s thread (index, detail lane), read after
    /// a visit: a thread retiring is released (its slot freed), one still registered is
    /// reported live.
    fn cut(&mut self, slot: ActiveSlot<'_, '_, I, D>, lanes: (LaneSnapshot, LaneSnapshot));
}

/// The idle ladder: where the loop stands after a pass, from when rings were last taken
/// and how fast they have been coming.
///
/// Time-based, so the steps mean the same on any machine. While rings come in quick
/// succession (one of the last [`GAPS`] gaps between passes that took rings, divided by
/// the rings each took, was at most twice `spin_for`: the drain sees gaps a nap longer
/// than they were): spin for
/// `spin_for` after the last ring, then nap (sleep, which leaves the CPU to others and
/// lets the scheduler place the drain on an idle CPU when it wakes, unlike a yield, which
/// keeps it runnable on a busy one) until nothing came for `park_after`, then park
/// (woken by the first producer that submits a ring). When rings come slowly (every
/// recent gap longer), park at once: a ring every millisecond or so is cheaper to be
/// woken for (one system call for its producer) than to poll for (a nap costs the drain
/// some 20 µs of CPU on a VM), and the lane's rings last long at that rate.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ladder {
    /// When a pass last took a submitted ring (or the loop started).
    last_work: Instant,
    /// The last gaps between passes that took rings (`spin_for` each until measured:
    /// a new drain polls first).
    gaps: [Duration; GAPS],
    /// Where the next gap goes.
    next: usize,
}

/// How many recent gaps between rings the ladder remembers: enough that a pause in a
/// burst does not make it park at once when the burst resumes.
pub(crate) const GAPS: usize = 4;

impl Ladder {
    pub(crate) fn new(now: Instant, config: &DrainConfig) -> Self {
        Self {
            last_work: now,
            gaps: [config.spin_for; GAPS],
            next: 0,
        }
    }

    /// A pass took `rings` submitted rings at `now`. A pass that found several waiting
    /// counts the gap divided among them: rings came that much faster than it passed.
    pub(crate) fn worked(&mut self, now: Instant, rings: u64) {
        let rings = u32::try_from(rings.max(1)).unwrap_or(u32::MAX);
        self.gaps[self.next] = now.saturating_duration_since(self.last_work) / rings;
        self.next = (self.next + 1) % GAPS;
        self.last_work = now;
    }

    /// The step after a pass that moved nothing, at `now`.
    ///
    /// A nap lasts half the shortest recent gap between rings, or half the time since
    /// the last ring if that is longer (the rate has dropped: back off), never longer
    /// than `config.nap`.
    pub(crate) fn step(&self, now: Instant, config: &DrainConfig) -> IdleStep {
        let idle = now.saturating_duration_since(self.last_work);
        let fastest = self.gaps.iter().copied().min().unwrap_or_default();
        if fastest > config.spin_for * 2 || idle >= config.park_after {
            IdleStep::Parked
        } else if idle < config.spin_for {
            IdleStep::Spun
        } else {
            let nap = fastest.max(idle) / 2;
            IdleStep::Napped(nap.clamp(MIN_NAP, config.nap.max(MIN_NAP)))
        }
    }
}

/// The shortest nap: below this a sleep is all system call.
const MIN_NAP: Duration = Duration::from_micros(1);

/// Polls until a stop is requested, idling after passes that moved nothing (the
/// [`Ladder`]: spin, then nap, then park); then refuses new registrations, makes final
/// passes until one moves nothing, and makes the final report's cut ([`final_cut`]).
///
/// No stop is missed by a parked drain: `Drain::stop` unparks the drain thread after
/// its compare-and-swap, and a park that begins after that unpark returns at once (the
/// thread's park token), so the state is re-read. A nap ends by itself.
pub(crate) fn drive<I: Copy + Send + 'static, D: Copy + Send + 'static>(
    state: &AtomicU8,
    registry: &Registry<I, D>,
    drain: &mut RegistryDrain<'_, I, D>,
    config: &DrainConfig,
    passes: &mut impl Passes<I, D>,
) {
    let mut ladder = Ladder::new(passes.now(), config);
    // Acquire: pairs with `request_stop`'s compare-and-swap.
    while state.load(Ordering::Acquire) == DrainState::Running as u8 {
        let moved = passes.pass(drain, false);
        if moved.taken > 0 {
            ladder.worked(passes.now(), moved.taken);
        }
        if moved.any() {
            continue;
        }
        let now = passes.now();
        let step = ladder.step(now, config);
        match step {
            IdleStep::Spun => core::hint::spin_loop(),
            IdleStep::Napped(nap) => sync::sleep(nap),
            IdleStep::Parked => drain.park(config.park_interval),
        }
        passes.idled(step);
    }
    // Final drain: no new threads; take every submitted ring, collect every partly
    // filled ring, release every retired slot, until a pass moves nothing.
    registry.shutdown();
    // mutant: drain.final_passes
    for _ in 0..FINAL_PASSES {
        passes.final_pass();
        if !passes.pass(drain, true).any() {
            break;
        }
    }
    final_cut(drain, passes);
}

/// The final report's cut: each occupied slot's counters, read right after a visit
/// that took and collected everything its thread had committed.
///
/// The final passes alone do not make it: a thread can retire between the last of them
/// and the report (a thread-local handle retires in its thread's TLS destructor, which
/// `std::thread::scope` does not wait for), and its retirement submits the ring it was
/// writing. A pass that looked for that ring after the submit queue was empty and in
/// the active ring after the retirement found it in neither place, and the report
/// counted its records written but in flight. So each slot is visited again until its
/// counters, read after the visit, show nothing in flight (a retirement after the read
/// adds nothing: its ring's records were collected). A thread still writing stops the
/// visits after [`CUT_VISITS`]; what it wrote after the last is in flight.
pub(crate) fn final_cut<I: Copy + Send + 'static, D: Copy + Send + 'static>(
    drain: &mut RegistryDrain<'_, I, D>,
    passes: &mut impl Passes<I, D>,
) {
    drain.for_each_slot(|mut slot| {
        let mut lanes = (LaneSnapshot::default(), LaneSnapshot::default());
        // mutant: drain.cut_visits
        for _ in 0..CUT_VISITS {
            passes.final_visit(&mut slot);
            // A live flight recorder's unkept windows count as discarded now.
            lanes = slot.final_snapshots();
            if lanes.0.events_in_flight() == 0 && lanes.1.events_in_flight() == 0 {
                break;
            }
        }
        passes.cut(slot, lanes);
    });
}

/// Moves the state from `Running` to `Stopping`: exactly one caller wins. The caller
/// then unparks the drain thread.
pub(crate) fn request_stop(state: &AtomicU8) -> Result<(), DrainError> {
    // AcqRel: exactly one stop wins; the drain thread's Acquire load sees the request
    // and everything the stopping thread did before it.
    state
        .compare_exchange(
            DrainState::Running as u8,
            DrainState::Stopping as u8,
            Ordering::AcqRel,
            Ordering::Acquire,
        )
        .map(|_| ())
        .map_err(|current| {
            if current == DrainState::Initialized as u8 {
                DrainError::NotStarted
            } else {
                DrainError::AlreadyStopping
            }
        })
}
