//! ada's drain thread: one background thread that polls every registered thread's lanes,
//! hands whole rings to a [`Sink`], recycles them, and at shutdown collects everything
//! that was committed before it stops.
//!
//! - **Lifecycle**: [`Drain::new`] validates the config (`Initialized`); [`Drain::start`]
//!   spawns the thread (`Running`); [`Drain::stop`] (`Stopping` → `Stopped`) refuses new
//!   registrations, drains until nothing is left, flushes the sink, joins the thread and
//!   returns the [`DrainReport`]. Starting twice, stopping before start, and concurrent
//!   stops are typed errors, never hangs.
//! - **Fairness**: each cycle visits every non-free slot from a rotating start and takes
//!   at most `quantum` rings per lane, so a busy thread cannot starve a quiet one.
//! - **Idle**: after an empty cycle the drain climbs a ladder timed from the last ring it
//!   took: it spins for `spin_for`, naps (short sleeps) until `park_after`, then parks
//!   for `park_interval` at a time; when rings have been coming slowly it parks at once.
//!   It never yields. Only the first producer that submits a ring to a parked drain pays
//!   the wake-up (`producer_wakes`).
//! - **Latency**: every ring's submit → take time, from the tick its producer stamped
//!   in its header, is in the snapshot's `take_latency_*` percentiles.
//! - **Quiet threads**: a lane with no submitted ring whose records have waited longer
//!   than `latency_bound` has its committed records collected in place.
//! - **Retired threads**: their lanes are drained and their slots released, with their
//!   final counters kept for the report.
//! - **Sinks**: an error or a panic counts the ring's records as lost with cause "sink";
//!   the ring is recycled either way and the drain keeps running.
//! - **Metrics**: [`Drain::snapshot`] reads the loop's [`DrainSnapshot`] while it runs
//!   (cycles, idling, deliveries, sink failures, cycle-time and take-latency
//!   percentiles from [`Histogram`]s); the [`DrainReport`] adds every thread's lane
//!   counters, the longest time the drain left each thread unvisited, the drain
//!   thread's CPU time, Jain's [`fairness_index`], and
//!   [`DrainReport::loss_explanations`]: for every lane that lost events, why its
//!   buffer did not cover the drain's absence and what would have.
//!
//! ```
//! use ada_drain::{CollectingSink, Drain, DrainConfig};
//! use ada_thread_registry::{Registry, RegistryConfig};
//!
//! let registry = Registry::<u64, u64>::new(RegistryConfig::default())?;
//! let sink = CollectingSink::default();
//! let mut drain = Drain::new(registry.clone(), sink.clone(), DrainConfig::default())?;
//! drain.start()?;
//! std::thread::scope(|s| {
//!     s.spawn(|| {
//!         let mut handle = registry.register().unwrap();
//!         for event in 0..10_000 {
//!             handle.index(event);
//!         }
//!     });
//! });
//! let report = drain.stop()?;
//! assert!(report.totals.is_conserved());
//! let delivered: usize = sink.index_deliveries().iter().map(|d| d.records.len()).sum();
//! assert_eq!(delivered as u64, report.totals.events_delivered);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]
#![doc(test(attr(deny(warnings))))]

mod control;
mod metrics;
mod report;
mod sink;
mod sync;
mod worker;

pub use metrics::{DrainSnapshot, Histogram, fairness_index};
pub use report::{DrainReport, LaneGeometries, LaneGeometry, LossExplanation, ThreadReport};
pub use sink::{
    ClosureSink, Collected, CollectingSink, Delivery, LaneKind, LaneLayout, LaneShape, NullSink,
    Origin, Sink, SinkError,
};

use ada_thread_registry::Registry;
use crossbeam_utils::CachePadded;
use metrics::LiveMetrics;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use sync::{AtomicU8, Ordering};

/// How the drain polls, and how it idles when nothing arrives.
///
/// After a pass that moved nothing the drain climbs an idle ladder measured in time
/// since it last took a submitted ring: it spins (polls without pause) for `spin_for`,
/// then naps (short sleeps between polls, `nap` at most) until `park_after` passed,
/// then parks for `park_interval` at a time, woken at once by the first producer that
/// submits a ring. While rings have been coming slowly (each of the last few more than
/// `2 × spin_for` apart) it parks at once: being woken per ring is cheaper than polling
/// for it. It never yields: a yielding drain stays runnable on a busy CPU, where it can
/// starve for milliseconds while the producer it should serve fills every ring. The
/// drain thread also asks the OS for a short time slice and precise timers (Linux, best
/// effort), so that it runs as soon as it wakes.
///
/// ```
/// use ada_drain::{DrainConfig, DrainError};
/// use std::time::Duration;
///
/// // Stay awake longer after a burst (more idle CPU, faster pick-up of the next one).
/// let config = DrainConfig { park_after: Duration::from_millis(100), ..DrainConfig::default() };
/// assert!(config.validate().is_ok());
/// let backwards = DrainConfig { spin_for: Duration::from_millis(200), ..config };
/// assert!(matches!(backwards.validate(), Err(DrainError::InvalidConfig(_))));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DrainConfig {
    /// Most rings taken from one lane per visit (the fairness quantum).
    pub quantum: usize,
    /// How long the drain keeps polling without pause after it last took a ring: a
    /// producer writing steadily is served with no wake-up at all. Also the pace that
    /// counts as quick: the drain polls (spins, then naps) only while rings came at most
    /// twice this apart. Zero: nap at once. At most `park_after`.
    pub spin_for: Duration,
    /// The longest sleep between polls once spinning is over (half the time since the
    /// last ring, or half the shortest recent gap between rings, if less). Above zero,
    /// at most `park_interval`.
    pub nap: Duration,
    /// How long after the last ring the drain parks; until then it naps. Zero: park at
    /// the first pass that takes nothing (`spin_for` is then zero too).
    pub park_after: Duration,
    /// How long one park lasts: the added latency, when the drain is parked, for records
    /// that are not submitted (in-place collection); a submitted ring wakes it.
    pub park_interval: Duration,
    /// A lane's committed records are collected in place once they have waited this
    /// long without their ring being submitted.
    pub latency_bound: Duration,
    /// Pins the drain thread to this CPU (an id from the CPUs this process may run on),
    /// so it neither migrates nor competes with producers pinned elsewhere. `None`: the
    /// OS schedules it.
    pub pin_to_cpu: Option<usize>,
    /// In which order a pass visits the threads (every thread is visited once per pass
    /// either way, at most `quantum` rings per lane: the same starvation bound).
    pub poll_order: PollOrder,
}

/// In which order a drain pass visits the registered threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum PollOrder {
    /// From a start that moves one slot further each pass.
    #[default]
    RoundRobin,
    /// The lanes closest to running out first: by submitted rings over the lane's rings
    /// (the fuller of a thread's two lanes), ties in round-robin order. A pass that
    /// finds one thread's lanes nearly full serves it before threads whose rings can
    /// wait, so with a slow sink its rings come back sooner.
    FullestFirst,
}

impl Default for DrainConfig {
    fn default() -> Self {
        Self {
            quantum: 4,
            spin_for: Duration::from_micros(20),
            nap: Duration::from_micros(50),
            park_after: Duration::from_millis(20),
            park_interval: Duration::from_millis(10),
            latency_bound: Duration::from_millis(10),
            pin_to_cpu: None,
            poll_order: PollOrder::RoundRobin,
        }
    }
}

impl DrainConfig {
    /// Checks every setting: the quantum, the idle ladder's order (`spin_for` ≤
    /// `park_after`, `nap` ≤ `park_interval`), non-zero waits, and the CPU to pin to.
    ///
    /// # Errors
    /// [`DrainError::InvalidConfig`] naming the bad setting.
    pub fn validate(&self) -> Result<(), DrainError> {
        if self.quantum == 0 {
            return Err(DrainError::InvalidConfig("quantum must be at least 1 ring"));
        }
        if self.park_interval.is_zero() {
            return Err(DrainError::InvalidConfig(
                "park_interval must be above zero",
            ));
        }
        if self.nap.is_zero() {
            return Err(DrainError::InvalidConfig(
                "nap must be above zero (spin_for is the way to poll without pause)",
            ));
        }
        if self.nap > self.park_interval {
            return Err(DrainError::InvalidConfig(
                "nap must not exceed park_interval (a nap is the short wait)",
            ));
        }
        if self.spin_for > self.park_after {
            return Err(DrainError::InvalidConfig(
                "spin_for must not exceed park_after (the idle ladder spins, then naps, then parks)",
            ));
        }
        if let Some(cpu) = self.pin_to_cpu {
            let allowed = core_affinity::get_core_ids().unwrap_or_default();
            if !allowed.iter().any(|core| core.id == cpu) {
                return Err(DrainError::InvalidConfig(
                    "pin_to_cpu names a CPU this process may not run on",
                ));
            }
        }
        Ok(())
    }
}

/// What went wrong with a drain call.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DrainError {
    /// A setting is out of range; the text says which.
    InvalidConfig(&'static str),
    /// The registry already has a drain (a registry has one drain at a time).
    RegistryHasDrain,
    /// `start` on a drain that was already started.
    AlreadyStarted,
    /// `stop` on a drain that was never started.
    NotStarted,
    /// `stop` while another `stop` is under way or done.
    AlreadyStopping,
    /// The drain thread could not be spawned.
    Spawn(String),
    /// The drain thread died (a bug: sink panics are caught).
    WorkerPanicked,
    /// The OS refused to pin the drain thread to `pin_to_cpu`.
    Affinity(usize),
    /// `stop` ran on the drain thread itself (a sink stopped its own drain, or dropped
    /// the last handle of it): the stop is under way, and once the sink call returns the
    /// thread makes the final passes, flushes the sink and ends, but it cannot wait for
    /// itself, so the report is not returned.
    StopOnDrainThread,
    /// The sink refused to start ([`Sink::start`]): the text says what it cannot take
    /// (a capture file's bound on a block, say).
    SinkStart(SinkError),
}

impl fmt::Display for DrainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidConfig(why) => write!(f, "invalid drain config: {why}"),
            Self::RegistryHasDrain => f.write_str("the registry already has a drain"),
            Self::AlreadyStarted => f.write_str("the drain was already started"),
            Self::NotStarted => f.write_str("the drain was never started"),
            Self::AlreadyStopping => f.write_str("the drain is already stopping or stopped"),
            Self::Spawn(error) => write!(f, "could not spawn the drain thread: {error}"),
            Self::WorkerPanicked => f.write_str("the drain thread panicked"),
            Self::StopOnDrainThread => f.write_str(
                "stop was called on the drain thread itself: it stops after the current \
                 sink call, without returning its report",
            ),
            Self::Affinity(cpu) => write!(f, "could not pin the drain thread to CPU {cpu}"),
            Self::SinkStart(error) => write!(f, "the sink refused to start: {}", error.0),
        }
    }
}

impl std::error::Error for DrainError {}

/// The drain's lifecycle states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum DrainState {
    /// Built, not started.
    Initialized = 0,
    /// The thread polls.
    Running = 1,
    /// A stop was asked: the final drain is under way.
    Stopping = 2,
    /// The thread has exited; the report was returned.
    Stopped = 3,
}

impl DrainState {
    fn from_u8(value: u8) -> Self {
        match value {
            0 => Self::Initialized,
            1 => Self::Running,
            2 => Self::Stopping,
            _ => Self::Stopped,
        }
    }
}

/// Shared between the [`Drain`] handle and its thread.
pub(crate) struct Shared {
    pub(crate) state: AtomicU8,
    /// The loop's counters as the thread last published them, on their own cache line
    /// so that a reader polling them does not slow the state word's readers.
    pub(crate) live: CachePadded<LiveMetrics>,
}

/// What `start` hands to the drain thread.
type Pending<I, D> = (Arc<Registry<I, D>>, Box<dyn Sink<I, D>>);

/// The drain thread's handle.
pub struct Drain<I: Copy + Send + 'static, D: Copy + Send + 'static> {
    shared: Arc<Shared>,
    config: DrainConfig,
    /// Registry and sink until `start` moves them into the thread (in a mutex so that
    /// the handle is `Sync` and `stop` may be called from several threads).
    pending: std::sync::Mutex<Option<Pending<I, D>>>,
    thread: std::sync::Mutex<Option<std::thread::JoinHandle<DrainReport>>>,
}

impl<I: Copy + Send + 'static, D: Copy + Send + 'static> Drain<I, D> {
    /// A drain for `registry` delivering to `sink`, not yet running.
    ///
    /// # Errors
    /// [`DrainError::InvalidConfig`] naming the bad setting.
    pub fn new(
        registry: Arc<Registry<I, D>>,
        sink: impl Sink<I, D> + 'static,
        config: DrainConfig,
    ) -> Result<Self, DrainError> {
        config.validate()?;
        Ok(Self {
            shared: Arc::new(Shared {
                state: AtomicU8::new(DrainState::Initialized as u8),
                live: CachePadded::default(),
            }),
            config,
            pending: std::sync::Mutex::new(Some((registry, Box::new(sink)))),
            thread: std::sync::Mutex::new(None),
        })
    }

    /// The drain's configuration.
    #[must_use]
    pub fn config(&self) -> &DrainConfig {
        &self.config
    }

    /// The current lifecycle state.
    #[must_use]
    pub fn state(&self) -> DrainState {
        DrainState::from_u8(self.shared.state.load(Ordering::Acquire))
    }

    /// The loop's counters now, while it runs (all zero before `start`; the final values
    /// once stopped). Percentiles are refreshed every `latency_bound`.
    ///
    /// ```
    /// # use ada_drain::{Drain, DrainConfig, NullSink};
    /// # use ada_thread_registry::{Registry, RegistryConfig};
    /// let registry = Registry::<u64, u64>::new(RegistryConfig::default())?;
    /// let mut drain = Drain::new(registry, NullSink::default(), DrainConfig::default())?;
    /// assert_eq!(drain.snapshot().cycles, 0);
    /// drain.start()?;
    /// let report = drain.stop()?;
    /// assert_eq!(drain.snapshot(), report.drain);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn snapshot(&self) -> DrainSnapshot {
        self.shared.live.read()
    }

    /// Starts the sink ([`Sink::start`], with the lanes' shapes) and spawns the drain
    /// thread.
    ///
    /// # Errors
    /// [`DrainError::AlreadyStarted`] on a second call, [`DrainError::SinkStart`] when
    /// the sink refuses the lanes (or panics; the drain stays unstarted),
    /// [`DrainError::RegistryHasDrain`] when another drain holds the registry,
    /// [`DrainError::Spawn`] when the OS refuses a thread, [`DrainError::Affinity`] when
    /// it refuses the pinning.
    pub fn start(&mut self) -> Result<(), DrainError> {
        let pending = self
            .pending
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some((registry, mut sink)) = pending.take() else {
            return Err(DrainError::AlreadyStarted);
        };
        if let Err(error) = start_sink(&registry, &mut *sink) {
            *pending = Some((registry, sink));
            return Err(DrainError::SinkStart(error));
        }
        // AcqRel: the thread sees everything before start; the CAS keeps start unique.
        self.shared
            .state
            .compare_exchange(
                DrainState::Initialized as u8,
                DrainState::Running as u8,
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .map_err(|_| DrainError::AlreadyStarted)?;
        let shared = Arc::clone(&self.shared);
        let config = self.config;
        // Measured here, once per process (a few ms on a TSC), not on the drain thread,
        // where it would delay the first deliveries.
        let calibration = *ada_clock::Calibration::get();
        let (started, acknowledged) = std::sync::mpsc::sync_channel(1);
        let spawned = std::thread::Builder::new()
            .name("ada-drain".to_owned())
            .spawn(move || {
                let report = worker::run(&registry, sink, &shared, &config, calibration, &started);
                // Release: the report is complete. Stored here too because a stop made on
                // this thread itself has no joiner to store it.
                shared
                    .state
                    .store(DrainState::Stopped as u8, Ordering::Release);
                report
            });
        let thread = match spawned {
            Ok(thread) => thread,
            Err(error) => {
                self.shared
                    .state
                    .store(DrainState::Stopped as u8, Ordering::Release);
                return Err(DrainError::Spawn(error.to_string()));
            }
        };
        // The thread pins itself and claims the registry's single drain first, and says
        // whether it could.
        let refused = match acknowledged.recv() {
            Ok(Ok(())) => None,
            Ok(Err(error)) => Some(error),
            Err(_) => Some(DrainError::WorkerPanicked),
        };
        if let Some(error) = refused {
            let _ = thread.join();
            self.shared
                .state
                .store(DrainState::Stopped as u8, Ordering::Release);
            return Err(error);
        }
        *self
            .thread
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(thread);
        Ok(())
    }

    /// Stops the drain: registrations are refused, everything committed so far (submitted
    /// rings, partly filled rings of live threads, retired threads' rings) is delivered,
    /// the sink is flushed, the thread joined, and the final report returned.
    ///
    /// Called on the drain thread itself (from a sink, or by dropping the last handle of
    /// the drain there), it requests the stop and returns at once: the thread cannot
    /// join itself, so it finishes the final passes after the sink call returns.
    ///
    /// # Errors
    /// [`DrainError::NotStarted`] before `start`, [`DrainError::AlreadyStopping`] when
    /// another `stop` is under way or done (it, not this call, gets the report),
    /// [`DrainError::StopOnDrainThread`] on the drain thread.
    pub fn stop(&self) -> Result<DrainReport, DrainError> {
        control::request_stop(&self.shared.state)?;
        let thread = self
            .thread
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
            .ok_or(DrainError::AlreadyStopping)?;
        if thread.thread().id() == std::thread::current().id() {
            // Joining itself would fail (EDEADLK); the stop is requested, and the state
            // is re-read after the current sink call. The handle is dropped: detached.
            return Err(DrainError::StopOnDrainThread);
        }
        thread.thread().unpark();
        let report = thread.join().map_err(|_| DrainError::WorkerPanicked)?;
        self.shared
            .state
            .store(DrainState::Stopped as u8, Ordering::Release);
        Ok(report)
    }
}

/// The shapes of `registry`'s lanes.
pub(crate) fn lane_layout<I: Copy + Send + 'static, D: Copy + Send + 'static>(
    registry: &Registry<I, D>,
) -> LaneLayout {
    let config = registry.config();
    LaneLayout {
        index: LaneShape {
            config: config.index,
            record_size: size_of::<I>(),
        },
        detail: LaneShape {
            config: config.detail,
            record_size: size_of::<D>(),
        },
    }
}

/// Tells `sink` the lanes' shapes ([`Sink::start`]), catching a panic.
fn start_sink<I: Copy + Send + 'static, D: Copy + Send + 'static>(
    registry: &Registry<I, D>,
    sink: &mut dyn Sink<I, D>,
) -> Result<(), SinkError> {
    let layout = lane_layout(registry);
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| sink.start(&layout)))
        .unwrap_or_else(|panic| Err(SinkError(worker::panicked("start", &*panic))))
}

impl<I: Copy + Send + 'static, D: Copy + Send + 'static> Drop for Drain<I, D> {
    /// A running drain that is dropped still stops gracefully: nothing committed is lost.
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

impl<I: Copy + Send + 'static, D: Copy + Send + 'static> fmt::Debug for Drain<I, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Drain")
            .field("state", &self.state())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

#[cfg(all(test, not(loom)))]
mod tests;

#[cfg(all(test, not(loom)))]
mod edge_tests;

#[cfg(all(test, loom))]
mod loom_tests;

/// The README's example, compiled and run as a doc test.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
