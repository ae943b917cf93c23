//! [`FlushGuard`]: owns the tracer a [`layer`](crate::layer) writes to, and stops it.

use crate::stats::{LayerStats, Stats};
use ada::drain::DrainError;
use ada::{DrainReport, Tracer};
use std::fmt;
use std::sync::Arc;

/// Owns the tracer of a [`layer`](crate::layer): [`finish`](Self::finish) stops it and
/// returns its report. Hold it in `main`, like `tracing-chrome`'s guard.
///
/// **Dropping the guard is `finish` with the report discarded**: the drain stops and
/// delivers every record committed before (threads still alive included), the sink is
/// flushed and finished (a capture file gets its trailer). Afterwards the layer writes
/// nothing more; what it is asked to record then is counted in
/// [`LayerStats::writes_refused`].
///
/// As for any tracer, a guard that is never dropped (leaked, or in a static at process
/// exit) never delivers what the lanes still hold.
#[must_use = "dropping the guard stops the tracer at once: hold it while tracing"]
pub struct FlushGuard {
    tracer: Option<Tracer>,
    stats: Arc<Stats>,
}

impl FlushGuard {
    pub(crate) fn new(tracer: Tracer, stats: Arc<Stats>) -> Self {
        Self {
            tracer: Some(tracer),
            stats,
        }
    }

    /// The tracer the layer writes to: for native `ada::span!(tracer: guard.tracer(),
    /// ..)` records on the same lanes, marks, flushes or a live
    /// [`snapshot`](Tracer::snapshot).
    #[must_use]
    pub fn tracer(&self) -> &Tracer {
        self.tracer
            .as_ref()
            .expect("the tracer is only taken by `finish`, which consumes the guard")
    }

    /// What the layer could not record exactly as asked, so far.
    #[must_use]
    pub fn stats(&self) -> LayerStats {
        self.stats.snapshot()
    }

    /// Stops the tracer: delivers every record committed before (threads still alive
    /// included), flushes and finishes the sink, and returns the report (conservation
    /// per thread and lane: written = delivered + dropped by cause + discarded).
    ///
    /// # Errors
    /// As [`Tracer::shutdown`].
    pub fn finish(self) -> Result<DrainReport, DrainError> {
        self.finish_with_stats().map(|(report, _)| report)
    }

    /// [`finish`](Self::finish), and the layer's [`LayerStats`] once every record is
    /// in.
    ///
    /// # Errors
    /// As [`Tracer::shutdown`].
    pub fn finish_with_stats(mut self) -> Result<(DrainReport, LayerStats), DrainError> {
        let tracer = self
            .tracer
            .take()
            .expect("the tracer is only taken here, which consumes the guard");
        let report = tracer.shutdown()?;
        Ok((report, self.stats.snapshot()))
    }
}

impl Drop for FlushGuard {
    fn drop(&mut self) {
        if let Some(tracer) = self.tracer.take() {
            // The report is discarded (see the type's docs); so is a drain failure,
            // which a drop has no one to hand to.
            let _ = tracer.shutdown();
        }
    }
}

impl fmt::Debug for FlushGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FlushGuard")
            .field("tracer", &self.tracer)
            .field("stats", &self.stats.snapshot())
            .finish()
    }
}
