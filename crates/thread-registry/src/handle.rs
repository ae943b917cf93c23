//! A registered thread's handle: writes, flushes and marks into its two lanes, waking a
//! parked drain whenever one of them hands a ring over, and retiring the slot on drop.

use crate::block::WaitEnd;
use crate::registry::Registry;
use crate::slot::{NOT_REPORTED, SlotState, SlotWord};
use crate::sync::Ordering;
use ada_ring_pool::{Blocked, ExhaustionPolicy, FlushOutcome, LaneProducer, MarkError, Submission};
use core::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A registered thread's access to its lanes. Dropping it retires the slot.
///
/// Every operation that can hand a ring to the drain (a write that fills a ring, a
/// flush, a mark, the retirement) wakes the drain if it is parked; a write into a ring
/// with room does no more than the lane's write.
///
/// On a lane whose policy is [`ExhaustionPolicy::Block`], a write that finds no free
/// ring submits the full one and waits (spins briefly, then parks) until the drain
/// recycles a ring, the lane's timeout passes or the registry shuts down; only the
/// last two drop events (counted, cause `timeout`). Batches wait the same way, ring by
/// ring. Flushes and marks never wait.
pub struct ThreadHandle<I: Copy + Send + 'static, D: Copy + Send + 'static> {
    // Field order matters: the producers borrow lanes owned by `registry` and must drop
    // first.
    index: Option<LaneProducer<'static, I>>,
    detail: Option<LaneProducer<'static, D>>,
    slot: usize,
    generation: u32,
    registry: Arc<Registry<I, D>>,
}

/// What [`ThreadHandle::flush`] did on each lane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flushed {
    /// The index lane's flush.
    pub index: FlushOutcome,
    /// The detail lane's flush.
    pub detail: FlushOutcome,
}

impl<I: Copy + Send + 'static, D: Copy + Send + 'static> ThreadHandle<I, D> {
    /// The handle of `slot`, which the caller has just claimed for this registration.
    ///
    /// # Safety
    /// The slot's lanes are reset and open, no other producer of them exists, and their
    /// reset happens-before this call.
    pub(crate) unsafe fn new(registry: Arc<Registry<I, D>>, slot: usize, generation: u32) -> Self {
        let entry = &registry.slots[slot];
        // SAFETY: the caller's contract: the only producers of reset lanes.
        let (index, detail) = unsafe {
            (
                extend(
                    entry
                        .index
                        .producer()
                        .expect("a free slot's lanes are reset and open"),
                ),
                extend(
                    entry
                        .detail
                        .producer()
                        .expect("a free slot's lanes are reset and open"),
                ),
            )
        };
        Self {
            index: Some(index),
            detail: Some(detail),
            slot,
            generation,
            registry,
        }
    }

    /// Writes an index-lane record; wakes a parked drain when the write submitted a ring.
    /// On a [`Block`](ExhaustionPolicy::Block) lane with no free ring, waits for one.
    #[inline]
    pub fn index(&mut self, record: I) {
        if let Some(lane) = &mut self.index {
            // A write into a ring with room returns `Ok(NothingSubmitted)`, a constant:
            // neither the wake nor the wait adds anything to it.
            match lane.try_write(record) {
                Ok(submission) => self.wake_drain_after(submission),
                Err(blocked) => {
                    let policy = self.registry.config.index.policy;
                    wait_and_write(&self.registry, self.slot, lane, policy, &[record], blocked);
                }
            }
        }
    }

    /// Writes a detail-lane record, as [`index`](Self::index).
    #[inline]
    pub fn detail(&mut self, record: D) {
        if let Some(lane) = &mut self.detail {
            match lane.try_write(record) {
                Ok(submission) => self.wake_drain_after(submission),
                Err(blocked) => {
                    let policy = self.registry.config.detail.policy;
                    wait_and_write(&self.registry, self.slot, lane, policy, &[record], blocked);
                }
            }
        }
    }

    /// Writes a batch of index-lane records (one publishing store per ring touched);
    /// wakes a parked drain when a ring was submitted. On a
    /// [`Block`](ExhaustionPolicy::Block) lane, waits for a ring each time it runs out.
    pub fn index_slice(&mut self, records: &[I]) {
        let lane = self.index.as_mut().expect("present until drop");
        match lane.try_write_slice(records) {
            Ok(submission) => self.wake_drain_after(submission),
            Err(blocked) => {
                let policy = self.registry.config.index.policy;
                wait_and_write(&self.registry, self.slot, lane, policy, records, blocked);
            }
        }
    }

    /// Writes a batch of detail-lane records, as [`index_slice`](Self::index_slice).
    pub fn detail_slice(&mut self, records: &[D]) {
        let lane = self.detail.as_mut().expect("present until drop");
        match lane.try_write_slice(records) {
            Ok(submission) => self.wake_drain_after(submission),
            Err(blocked) => {
                let policy = self.registry.config.detail.policy;
                wait_and_write(&self.registry, self.slot, lane, policy, records, blocked);
            }
        }
    }

    /// Hands both lanes' partly filled rings to the drain now (a flight-recorder window
    /// only when marked) and wakes the drain if one was submitted.
    pub fn flush(&mut self) -> Flushed {
        let flushed = Flushed {
            index: self.index_lane().flush(),
            detail: self.detail_lane().flush(),
        };
        self.wake_drain_after(flushed.index.submission().or(flushed.detail.submission()));
        flushed
    }

    /// Marks the detail lane's current window as worth keeping (see
    /// [`LaneProducer::mark`]); wakes the drain if the held window was submitted as
    /// context.
    pub fn mark(&mut self) {
        let submission = self.detail_lane().mark();
        self.wake_drain_after(submission);
    }

    /// Opens a marked scope on the detail lane (see [`LaneProducer::mark_push`]); wakes
    /// the drain if the held window was submitted as context.
    ///
    /// # Errors
    /// As [`LaneProducer::mark_push`].
    pub fn mark_push(&mut self) -> Result<(), MarkError> {
        let submission = self.detail_lane().mark_push()?;
        self.wake_drain_after(submission);
        Ok(())
    }

    /// Closes the innermost marked scope of the detail lane and flushes its window (see
    /// [`LaneProducer::mark_pop`]); wakes the drain if the window was submitted.
    ///
    /// # Errors
    /// As [`LaneProducer::mark_pop`].
    pub fn mark_pop(&mut self) -> Result<FlushOutcome, MarkError> {
        let flushed = self.detail_lane().mark_pop()?;
        self.wake_drain_after(flushed.submission());
        Ok(flushed)
    }

    /// Open marked scopes on the detail lane.
    #[must_use]
    pub fn mark_depth(&mut self) -> u8 {
        self.detail_lane().mark_depth()
    }

    /// Events this handle wrote (both lanes) after the last final report of the
    /// registry's drain counted its lanes: written once the tracer was shut down, they
    /// reach no sink and no report, and are counted here instead. 0 before any final
    /// report. Writes never fail (they are a few nanoseconds, with no check of the
    /// drain's state), so this is where a handle used past its drain's shutdown shows
    /// what it wrote in vain.
    ///
    /// ```
    /// use ada_thread_registry::{Registry, RegistryConfig};
    ///
    /// let registry = Registry::<u64, u64>::new(RegistryConfig::default())?;
    /// let mut handle = registry.register()?;
    /// handle.index(1);
    /// // A drain's final report (what `ada_drain::Drain::stop` does) counts it.
    /// registry.shutdown();
    /// let mut drain = registry.drain().expect("the only drain");
    /// drain.for_each_slot(|mut slot| {
    ///     assert_eq!(slot.final_snapshots().0.events_written, 1);
    /// });
    /// assert_eq!(handle.unreported_events(), 0);
    /// handle.index(2); // after the report: no drain will take it
    /// assert_eq!(handle.unreported_events(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn unreported_events(&self) -> u64 {
        let entry = &self.registry.slots[self.slot];
        let reported = [entry.reported[0].get(), entry.reported[1].get()];
        if reported.contains(&NOT_REPORTED) {
            return 0;
        }
        // The handle is the lanes' producer: their counters are exact on this thread.
        let written =
            entry.index.snapshot().events_written + entry.detail.snapshot().events_written;
        written.saturating_sub(reported[0] + reported[1])
    }

    /// Whether the handle's registry refuses registrations (its drain is stopping or
    /// stopped): for the thread-local layer, which then lets the handle go.
    pub(crate) fn is_registry_shutting_down(&self) -> bool {
        self.registry.is_shutting_down()
    }

    /// The slot's index.
    #[must_use]
    pub fn slot(&self) -> usize {
        self.slot
    }

    /// The slot's generation for this registration.
    #[must_use]
    pub fn generation(&self) -> u32 {
        self.generation
    }

    /// Wakes the drain if `submission` handed it a ring. The check is a compare of a
    /// value the lane's slow path returned: on the write fast path it is a constant.
    #[inline(always)]
    fn wake_drain_after(&self, submission: Submission) {
        if submission.is_submitted() {
            self.registry.parking.wake();
        }
    }

    #[inline(always)]
    fn index_lane(&mut self) -> &mut LaneProducer<'static, I> {
        self.index.as_mut().expect("present until drop")
    }

    #[inline(always)]
    fn detail_lane(&mut self) -> &mut LaneProducer<'static, D> {
        self.detail.as_mut().expect("present until drop")
    }
}

impl<I: Copy + Send + 'static, D: Copy + Send + 'static> Drop for ThreadHandle<I, D> {
    fn drop(&mut self) {
        if let Some(index) = self.index.take() {
            index.close();
        }
        if let Some(detail) = self.detail.take() {
            detail.close();
        }
        // Release: both lanes' final submits and closes happen-before a drain that sees
        // `Retiring`.
        self.registry.slots[self.slot].state.store(
            SlotWord::new(self.generation, SlotState::Retiring),
            Ordering::Release,
        );
        // The final rings and the retirement are work for a parked drain.
        self.registry.parking.wake();
    }
}

impl<I: Copy + Send + 'static, D: Copy + Send + 'static> fmt::Debug for ThreadHandle<I, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadHandle")
            .field("slot", &self.slot)
            .field("generation", &self.generation)
            .finish_non_exhaustive()
    }
}

/// The slow path of a write to a [`Block`](ExhaustionPolicy::Block) lane that found no
/// free ring (`blocked`: its full ring is submitted, the records from
/// `blocked.written` on are not written): wakes the drain, waits for a ring (until the
/// policy's timeout, or the registry's shutdown: then the lane gives up, and the rest
/// is dropped unless a ring came back), writes the rest, and again for each ring the
/// rest runs out of. Every wait is counted in the lane's `blocked_waits`/`blocked_ns`.
#[cold]
#[inline(never)]
fn wait_and_write<I, D, T>(
    registry: &Registry<I, D>,
    slot: usize,
    lane: &mut LaneProducer<'static, T>,
    policy: ExhaustionPolicy,
    mut records: &[T],
    mut blocked: Blocked,
) where
    I: Copy + Send + 'static,
    D: Copy + Send + 'static,
    T: Copy,
{
    let timeout = match policy {
        ExhaustionPolicy::Block { timeout } => timeout,
        // Only a blocking lane reports `Blocked`; were another to, it would not wait.
        ExhaustionPolicy::DropOldest | ExhaustionPolicy::DropNewest => Some(Duration::ZERO),
    };
    let waiter = &registry.waiters[slot];
    loop {
        // The full ring is the drain's now: it must not stay parked while we wait.
        if blocked.submission.is_submitted() {
            registry.parking.wake();
        }
        records = &records[blocked.written..];
        let started = Instant::now();
        let deadline = timeout.and_then(|timeout| started.checked_add(timeout));
        let end = waiter.wait(&registry.shutting_down, deadline, || lane.has_empty_ring());
        lane.record_wait(started.elapsed());
        if end != WaitEnd::Ring {
            // Until the drain hands a ring back, writes that find none drop at once.
            lane.give_up_waiting();
        }
        match lane.try_write_slice(records) {
            Ok(submission) => {
                if submission.is_submitted() {
                    registry.parking.wake();
                }
                return;
            }
            Err(again) => blocked = again,
        }
    }
}

/// Extends a lane producer's borrow to `'static`.
///
/// # Safety
/// The returned producer must be dropped before the registry that owns the lane; a
/// [`ThreadHandle`] guarantees it by holding an `Arc` of the registry in a field that
/// drops after its producers.
unsafe fn extend<T>(producer: LaneProducer<'_, T>) -> LaneProducer<'static, T> {
    // SAFETY: only the lifetime changes; the caller keeps the lane alive.
    unsafe { core::mem::transmute::<LaneProducer<'_, T>, LaneProducer<'static, T>>(producer) }
}
