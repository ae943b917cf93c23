//! The tracer: one registry, one drain thread, one sink.

use crate::event::{Detail, Event};
use ada_drain::{Drain, DrainConfig, DrainError, DrainReport, DrainSnapshot, NullSink, Sink};
use ada_ring_pool::{ExhaustionPolicy, LaneConfig, MarkError};
use ada_thread_registry::{
    RegisterError, Registry, RegistryConfig, RegistryError, ReserveConfig, ThreadHandle,
};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Why [`TracerBuilder::build`] refused a configuration; the text names the setting.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BuildError {
    /// The thread capacity or a lane setting (ring count, ring size, policy, mode).
    Registry(RegistryError),
    /// A drain setting, or the drain thread could not start.
    Drain(DrainError),
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Registry(error) => write!(f, "tracer configuration: {error}"),
            Self::Drain(error) => write!(f, "tracer drain: {error}"),
        }
    }
}

impl std::error::Error for BuildError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Registry(error) => Some(error),
            Self::Drain(error) => Some(error),
        }
    }
}

/// Why a mark could not be placed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MarkFailure {
    /// The calling thread could not register (the registry is full or shutting down).
    Register(RegisterError),
    /// The detail lane refused the mark (not a flight recorder, or too deep).
    Mark(MarkError),
}

impl fmt::Display for MarkFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Register(error) => write!(f, "{error}"),
            Self::Mark(error) => write!(f, "{error}"),
        }
    }
}

impl std::error::Error for MarkFailure {}

/// How long a producer of a [`Tracer`] built with the defaults waits for a free ring
/// before it drops (counted under the `timeout` cause) until the drain hands it one:
/// long enough to ride out a drain descheduled by a busy machine (2–8 ms seen on a
/// loaded 2-core VM), short enough that a stalled sink cannot stall the program.
pub const DEFAULT_BLOCK_TIMEOUT: Duration = Duration::from_millis(50);

/// The index lane's policy of a [`Tracer`] built with the defaults: lose nothing unless
/// the drain is stalled longer than [`DEFAULT_BLOCK_TIMEOUT`]. The lower crates'
/// [`LaneConfig::index_lane`] stays `DropOldest` (never wait); choose it, or
/// `DropNewest`, with [`TracerBuilder::index_lane`].
pub const DEFAULT_INDEX_POLICY: ExhaustionPolicy = ExhaustionPolicy::Block {
    timeout: Some(DEFAULT_BLOCK_TIMEOUT),
};

/// Configures a [`Tracer`]: thread capacity, both lanes, the drain and the sink.
///
/// ```
/// use ada::{LaneConfig, Tracer};
///
/// let error = Tracer::builder()
///     .index_lane(LaneConfig { rings: 1, ..LaneConfig::index_lane() })
///     .build()
///     .unwrap_err();
/// assert!(error.to_string().contains("index lane"), "{error}");
/// ```
pub struct TracerBuilder<I, D> {
    registry: RegistryConfig,
    reserve: ReserveConfig,
    drain: DrainConfig,
    sink: Option<Box<dyn Sink<I, D>>>,
}

impl<I: Copy + Send + 'static, D: Copy + Send + 'static> TracerBuilder<I, D> {
    /// Defaults: 64 threads, the default index lane's shape ([`LaneConfig::index_lane`])
    /// with the lossless policy [`DEFAULT_INDEX_POLICY`] (a producer waits for the drain,
    /// at most [`DEFAULT_BLOCK_TIMEOUT`] at a time, rather than drop), the default detail
    /// lane ([`LaneConfig::detail_lane`], a flight recorder), the default drain, and a
    /// [`NullSink`] (counts, keeps nothing) until [`sink`](Self::sink) is called.
    ///
    /// ```
    /// use ada::{ExhaustionPolicy, Tracer};
    ///
    /// let builder = Tracer::builder();
    /// assert!(matches!(builder.index_policy(), ExhaustionPolicy::Block { timeout: Some(_) }));
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self {
            registry: RegistryConfig {
                index: LaneConfig {
                    policy: DEFAULT_INDEX_POLICY,
                    ..LaneConfig::index_lane()
                },
                ..RegistryConfig::default()
            },
            reserve: ReserveConfig::default(),
            drain: DrainConfig::default(),
            sink: None,
        }
    }

    /// How many threads may be registered at once.
    #[must_use]
    pub fn threads(mut self, capacity: usize) -> Self {
        self.registry.capacity = capacity;
        self
    }

    /// The index lane's exhaustion policy as configured now.
    #[must_use]
    pub fn index_policy(&self) -> ExhaustionPolicy {
        self.registry.index.policy
    }

    /// The index lane of every thread (its policy included: `LaneConfig::index_lane()`
    /// is `DropOldest`, not the builder's lossless default).
    #[must_use]
    pub fn index_lane(mut self, lane: LaneConfig) -> Self {
        self.registry.index = lane;
        self
    }

    /// The detail lane of every thread.
    #[must_use]
    pub fn detail_lane(mut self, lane: LaneConfig) -> Self {
        self.registry.detail = lane;
        self
    }

    /// A shared reserve of `bytes` of index rings (whole rings of the index lane's shape)
    /// that any thread's index lane borrows from when its own rings are all out, before
    /// its exhaustion policy applies: a burst on one thread is absorbed without giving
    /// every thread that much memory. The drain gives a borrowed ring back to the
    /// reserve once delivered. 0 (the default): no reserve.
    ///
    /// ```
    /// let tracer = ada::Tracer::builder().reserve_bytes(1 << 20).build()?;
    /// let report = tracer.shutdown()?;
    /// assert_eq!(report.reserve.index.bytes, 1 << 20); // 32 rings of 1024 × 32 B
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn reserve_bytes(mut self, bytes: usize) -> Self {
        self.reserve.index_bytes = bytes;
        self
    }

    /// How many of the reserve's rings one thread's index lane may keep as its own while
    /// it keeps borrowing, giving them back once it stops needing them (runtime
    /// resizing; see [`Reserve::adopting`](ada_ring_pool::Reserve::adopting)). 0 (the
    /// default): every borrowed ring goes back to the reserve once delivered.
    #[must_use]
    pub fn reserve_adoption(mut self, per_lane: usize) -> Self {
        self.reserve.adopt_per_lane = per_lane;
        self
    }

    /// The drain: quantum, idle behaviour, latency bound, CPU pinning.
    #[must_use]
    pub fn drain(mut self, drain: DrainConfig) -> Self {
        self.drain = drain;
        self
    }

    /// Where delivered rings go.
    #[must_use]
    pub fn sink(mut self, sink: impl Sink<I, D> + 'static) -> Self {
        self.sink = Some(Box::new(sink));
        self
    }

    /// Validates everything and starts the drain thread.
    ///
    /// # Errors
    /// [`BuildError`] naming the setting that is wrong and why.
    pub fn build(self) -> Result<Tracer<I, D>, BuildError> {
        // The clock's calibration takes a few milliseconds on first use: here, not on
        // a writer's first record or in a sink's start.
        let _ = ada_clock::Calibration::get();
        let registry =
            Registry::with_reserve(self.registry, self.reserve).map_err(BuildError::Registry)?;
        let sink = self.sink.unwrap_or_else(|| Box::new(NullSink::default()));
        let mut drain =
            Drain::new(Arc::clone(&registry), sink, self.drain).map_err(BuildError::Drain)?;
        drain.start().map_err(BuildError::Drain)?;
        Ok(Tracer { registry, drain })
    }
}

impl<I: Copy + Send + 'static, D: Copy + Send + 'static> Default for TracerBuilder<I, D> {
    fn default() -> Self {
        Self::new()
    }
}

impl<I, D> fmt::Debug for TracerBuilder<I, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TracerBuilder")
            .field("registry", &self.registry)
            .field("drain", &self.drain)
            .field("sink", &self.sink.as_ref().map(|_| "set"))
            .finish()
    }
}

/// Per-thread trace lanes, one drain thread, one sink.
///
/// Any thread may emit through a shared `&Tracer`: its first record registers it
/// (thread-local, once), and its lanes are retired when it exits. Dropping a tracer
/// without [`shutdown`](Self::shutdown) still delivers everything committed.
///
/// A thread-local handle is retired by the thread's TLS destructor, which runs after
/// the thread's closure returns: `std::thread::scope` may return before it has run
/// (`JoinHandle::join` waits for it). A shutdown in that window reports the thread as
/// live: its index records and a marked flight-recorder window are delivered (collected
/// in place), its unmarked windows counted as discarded, as for any thread alive at the
/// shutdown. A thread keeps a thread-local registration of a shut-down tracer (and so
/// its memory) only until it writes through another tracer, or exits.
///
/// The last reference to a tracer may be dropped anywhere, even inside a sink call on
/// the drain thread (a sink holding a `Weak<Tracer>`): the stop is requested, and the
/// drain thread delivers everything committed after that call returns (it does not wait
/// for itself; its report is then not returned to anyone).
pub struct Tracer<I: Copy + Send + 'static = Event, D: Copy + Send + 'static = Detail> {
    registry: Arc<Registry<I, D>>,
    drain: Drain<I, D>,
}

impl Tracer<Event, Detail> {
    /// A builder for a tracer of ada's standard records ([`Event`], [`Detail`]); see
    /// [`TracerBuilder::new`] for other record types.
    #[must_use]
    pub fn builder() -> TracerBuilder<Event, Detail> {
        TracerBuilder::new()
    }
}

impl<I: Copy + Send + 'static, D: Copy + Send + 'static> Tracer<I, D> {
    /// Writes an index-lane record from the calling thread.
    ///
    /// # Errors
    /// The thread could not register: [`RegisterError::Full`] (more threads than
    /// `threads`), [`RegisterError::ShuttingDown`], or
    /// [`RegisterError::LocalUnavailable`] (during thread exit). The record was not
    /// written; nothing is dropped silently.
    #[inline]
    pub fn index(&self, record: I) -> Result<(), RegisterError> {
        self.registry.index_local(record)
    }

    /// Writes a detail-lane record from the calling thread.
    ///
    /// # Errors
    /// As [`index`](Self::index).
    #[inline]
    pub fn detail(&self, record: D) -> Result<(), RegisterError> {
        self.registry.detail_local(record)
    }

    /// Marks the calling thread's current detail window as worth keeping (a flight
    /// recorder lane hands it to the drain instead of recycling it).
    ///
    /// # Errors
    /// As [`index`](Self::index).
    pub fn mark(&self) -> Result<(), RegisterError> {
        self.registry.with_local(ThreadHandle::mark)
    }

    /// Opens a marked region on the calling thread's detail lane (nestable).
    ///
    /// # Errors
    /// [`MarkFailure::Register`] as [`index`](Self::index); [`MarkFailure::Mark`] when
    /// the lane is not a flight recorder or the region is nested too deep.
    pub fn mark_push(&self) -> Result<(), MarkFailure> {
        self.registry
            .with_local(ThreadHandle::mark_push)
            .map_err(MarkFailure::Register)?
            .map_err(MarkFailure::Mark)
    }

    /// Closes the innermost marked region; the outermost close submits the window.
    ///
    /// # Errors
    /// As [`mark_push`](Self::mark_push); [`MarkError::NotMarked`] without an open
    /// region.
    pub fn mark_pop(&self) -> Result<(), MarkFailure> {
        self.registry
            .with_local(ThreadHandle::mark_pop)
            .map_err(MarkFailure::Register)?
            .map(|_| ())
            .map_err(MarkFailure::Mark)
    }

    /// Hands the calling thread's partly filled rings to the drain now.
    ///
    /// # Errors
    /// As [`index`](Self::index).
    pub fn flush(&self) -> Result<(), RegisterError> {
        self.registry.with_local(|handle| {
            handle.flush();
        })
    }

    /// An explicit handle for the calling thread, for callers who want the last
    /// nanosecond (no thread-local lookup). It is retired when dropped.
    ///
    /// ```
    /// let tracer = ada::Tracer::builder().build()?;
    /// let mut handle = tracer.handle()?;
    /// handle.index(ada::Event::default());
    /// drop(handle);
    /// assert_eq!(tracer.shutdown()?.totals.events_delivered, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`RegisterError::Full`] or [`RegisterError::ShuttingDown`].
    pub fn handle(&self) -> Result<ThreadHandle<I, D>, RegisterError> {
        self.registry.register()
    }

    /// The drain loop's counters now.
    #[must_use]
    pub fn snapshot(&self) -> DrainSnapshot {
        self.drain.snapshot()
    }

    /// The registry underneath (configuration, occupancy).
    #[must_use]
    pub fn registry(&self) -> &Arc<Registry<I, D>> {
        &self.registry
    }

    /// Stops: refuses new threads, delivers everything committed, flushes the sink and
    /// returns the final report (conservation per thread and lane, losses by cause,
    /// drain metrics). Threads still alive keep their lanes: their committed records are
    /// delivered (a flight recorder's only when marked; its unmarked windows count as
    /// discarded), and a sink that panics (in a delivery, `flush`, `finish` or its drop)
    /// is counted in the report's `sink_panics`. An explicit [`ThreadHandle`] used after
    /// the shutdown writes where no drain looks: its
    /// [`unreported_events`](ThreadHandle::unreported_events) counts those records.
    ///
    /// # Errors
    /// [`DrainError::WorkerPanicked`] if the drain thread died (a bug);
    /// [`DrainError::StopOnDrainThread`] when called from a sink, on the drain thread.
    pub fn shutdown(self) -> Result<DrainReport, DrainError> {
        self.drain.stop()
    }
}

impl<I: Copy + Send + 'static, D: Copy + Send + 'static> fmt::Debug for Tracer<I, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tracer")
            .field("registry", &self.registry)
            .field("drain", &self.drain)
            .finish()
    }
}
