//! Where the drain hands the records: the [`Sink`] trait and the built-in sinks.

use crate::report::DrainReport;
use ada_ring_pool::{DropCounts, LaneConfig, RingHeader};
use std::sync::{Arc, Mutex};

/// Which of a thread's two lanes a ring came from.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum LaneKind {
    /// Enter/leave events.
    Index,
    /// Snapshots, kept only around marks.
    Detail,
}

/// Which thread a ring came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin<'a> {
    /// The registry slot.
    pub slot: usize,
    /// The slot's generation (one per registration).
    pub generation: u32,
    /// The thread's name, if it has one.
    pub thread_name: Option<&'a str>,
    /// The thread's id.
    pub thread_id: Option<std::thread::ThreadId>,
}

/// One ring's worth of records with everything a sink needs to know about them.
#[derive(Debug, Clone, Copy)]
pub struct Delivery<'a, T> {
    /// The producing thread.
    pub origin: Origin<'a>,
    /// The lane.
    pub lane: LaneKind,
    /// Sequence number, flags (`MARKED`, `PARTIAL`, `CONTEXT`, and `LOSS_BEFORE` exactly
    /// when [`lost_before`](Self::lost_before) is not zero) and the ring's position in
    /// its lane. `None` for records collected in place from a ring still being written
    /// (they precede that ring's later delivery).
    pub header: Option<RingHeader>,
    /// Events of this lane lost between its previous delivery (a ring, or records
    /// collected in place) and this one, by cause: `oldest` (taken back under
    /// drop-oldest), `newest` (dropped on arrival), `sink` (the records of deliveries the
    /// sink failed since the previous one), `timeout` (dropped on arrival by a blocking
    /// lane's producer that gave up waiting for a ring). Exact: summed over a lane's deliveries, plus
    /// what the lane lost after its last one, it is the lane's `dropped` counters.
    pub lost_before: DropCounts,
    /// Events of this lane in flight-recorder windows discarded unmarked between its
    /// previous delivery and this one (by design, not a loss).
    pub discarded_before: u64,
    /// The records, in write order.
    pub records: &'a [T],
}

/// Why a sink refused a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SinkError(pub String);

impl std::fmt::Display for SinkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "sink error: {}", self.0)
    }
}

impl std::error::Error for SinkError {}

/// One lane's shape as a sink will see it: how many records one delivery can hold, and
/// how large each is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LaneShape {
    /// The lane's configuration: rings, records per ring (the most records one delivery
    /// holds), policy and mode.
    pub config: LaneConfig,
    /// Bytes per record (`size_of` the lane's record type).
    pub record_size: usize,
}

impl LaneShape {
    /// The most bytes of records one delivery can hold: a whole ring (saturating).
    #[must_use]
    pub fn ring_bytes(&self) -> u64 {
        (self.config.ring_records as u64).saturating_mul(self.record_size as u64)
    }
}

/// What [`Sink::start`] is told before the first delivery: the shape of every thread's
/// two lanes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LaneLayout {
    /// The index lane of every thread.
    pub index: LaneShape,
    /// The detail lane of every thread.
    pub detail: LaneShape,
}

/// Receives every delivered ring. Runs on the drain thread only, except
/// [`start`](Self::start), which [`Drain::start`](crate::Drain::start) calls on its
/// caller's thread before the drain thread exists.
///
/// An `Err` from a delivery counts the ring's records as lost to the sink (and the ring
/// is still recycled); so does a panic, which the drain catches and reports.
///
/// The calls, in order: `start` once, then any number of `index` and `detail`, then at
/// shutdown `flush` once and `finish` once with the final report.
pub trait Sink<I, D>: Send {
    /// Called once by [`Drain::start`](crate::Drain::start), before any delivery, with
    /// the lanes' shapes: a sink that cannot take deliveries of that shape (a file
    /// format's bound on a block, say) refuses here rather than fail every delivery.
    ///
    /// # Errors
    /// A [`SinkError`] saying what the sink cannot take: `start` fails with
    /// [`DrainError::SinkStart`](crate::DrainError::SinkStart) and the drain does not
    /// start.
    fn start(&mut self, lanes: &LaneLayout) -> Result<(), SinkError> {
        let _ = lanes;
        Ok(())
    }

    /// An index-lane ring.
    ///
    /// # Errors
    /// Any [`SinkError`]: the records are counted as lost with cause "sink".
    fn index(&mut self, delivery: &Delivery<'_, I>) -> Result<(), SinkError>;

    /// A detail-lane ring.
    ///
    /// # Errors
    /// As [`index`](Self::index).
    fn detail(&mut self, delivery: &Delivery<'_, D>) -> Result<(), SinkError>;

    /// Called once after the final drain at shutdown.
    ///
    /// # Errors
    /// Reported in the final report.
    fn flush(&mut self) -> Result<(), SinkError> {
        Ok(())
    }

    /// Called once at shutdown, after [`flush`](Self::flush), with the final report
    /// (every thread's final counters): the last call the sink gets. A sink that keeps
    /// a record of the run (a file's trailer) writes it here.
    ///
    /// # Errors
    /// Reported in the report the drain returns
    /// ([`DrainReport::sink_finish_error`]).
    fn finish(&mut self, report: &DrainReport) -> Result<(), SinkError> {
        let _ = report;
        Ok(())
    }
}

/// A sink chosen at run time (for builders that take any sink).
impl<I, D> Sink<I, D> for Box<dyn Sink<I, D>> {
    fn start(&mut self, lanes: &LaneLayout) -> Result<(), SinkError> {
        (**self).start(lanes)
    }

    fn index(&mut self, delivery: &Delivery<'_, I>) -> Result<(), SinkError> {
        (**self).index(delivery)
    }

    fn detail(&mut self, delivery: &Delivery<'_, D>) -> Result<(), SinkError> {
        (**self).detail(delivery)
    }

    fn flush(&mut self) -> Result<(), SinkError> {
        (**self).flush()
    }

    fn finish(&mut self, report: &DrainReport) -> Result<(), SinkError> {
        (**self).finish(report)
    }
}

/// Counts records and rings, keeps nothing.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct NullSink {
    /// Index records received.
    pub index_records: u64,
    /// Detail records received.
    pub detail_records: u64,
    /// Deliveries received.
    pub deliveries: u64,
}

impl<I, D> Sink<I, D> for NullSink {
    fn index(&mut self, delivery: &Delivery<'_, I>) -> Result<(), SinkError> {
        self.index_records += delivery.records.len() as u64;
        self.deliveries += 1;
        Ok(())
    }

    fn detail(&mut self, delivery: &Delivery<'_, D>) -> Result<(), SinkError> {
        self.detail_records += delivery.records.len() as u64;
        self.deliveries += 1;
        Ok(())
    }
}

/// One delivery as a [`CollectingSink`] keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collected<T> {
    /// Registry slot.
    pub slot: usize,
    /// Slot generation.
    pub generation: u32,
    /// Lane.
    pub lane: LaneKind,
    /// Header (`None` for in-place collection).
    pub header: Option<RingHeader>,
    /// Events lost just before the delivery, by cause.
    pub lost_before: DropCounts,
    /// Events discarded just before the delivery.
    pub discarded_before: u64,
    /// The records.
    pub records: Vec<T>,
}

/// Keeps copies of everything, for tests. Clones share the storage.
#[derive(Debug)]
pub struct CollectingSink<I, D> {
    index: Arc<Mutex<Vec<Collected<I>>>>,
    detail: Arc<Mutex<Vec<Collected<D>>>>,
}

impl<I, D> Default for CollectingSink<I, D> {
    fn default() -> Self {
        Self {
            index: Arc::default(),
            detail: Arc::default(),
        }
    }
}

impl<I, D> Clone for CollectingSink<I, D> {
    fn clone(&self) -> Self {
        Self {
            index: Arc::clone(&self.index),
            detail: Arc::clone(&self.detail),
        }
    }
}

impl<I: Clone, D: Clone> CollectingSink<I, D> {
    /// Index deliveries so far, in delivery order.
    #[must_use]
    pub fn index_deliveries(&self) -> Vec<Collected<I>> {
        self.index
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Detail deliveries so far, in delivery order.
    #[must_use]
    pub fn detail_deliveries(&self) -> Vec<Collected<D>> {
        self.detail
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

fn collect<T: Clone>(delivery: &Delivery<'_, T>) -> Collected<T> {
    Collected {
        slot: delivery.origin.slot,
        generation: delivery.origin.generation,
        lane: delivery.lane,
        header: delivery.header,
        lost_before: delivery.lost_before,
        discarded_before: delivery.discarded_before,
        records: delivery.records.to_vec(),
    }
}

impl<I: Clone + Send, D: Clone + Send> Sink<I, D> for CollectingSink<I, D> {
    fn index(&mut self, delivery: &Delivery<'_, I>) -> Result<(), SinkError> {
        self.index
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(collect(delivery));
        Ok(())
    }

    fn detail(&mut self, delivery: &Delivery<'_, D>) -> Result<(), SinkError> {
        self.detail
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(collect(delivery));
        Ok(())
    }
}

/// A sink made of a closure over index deliveries. Detail deliveries are accepted
/// without being looked at (and so count as delivered); implement [`Sink`] to see both.
pub struct ClosureSink<F>(pub F);

impl<I, D, F> Sink<I, D> for ClosureSink<F>
where
    F: FnMut(&Delivery<'_, I>) -> Result<(), SinkError> + Send,
{
    fn index(&mut self, delivery: &Delivery<'_, I>) -> Result<(), SinkError> {
        (self.0)(delivery)
    }

    fn detail(&mut self, _delivery: &Delivery<'_, D>) -> Result<(), SinkError> {
        Ok(())
    }
}

impl<F> std::fmt::Debug for ClosureSink<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClosureSink")
    }
}
