//! The drain loop's control flow: when to poll, idle, stop and make the final passes.
//! What one pass does lives in `worker.rs`; keeping the two apart lets the loom model
//! (`loom_tests.rs`) run this very code against the real registry.

use crate::sync::{self, AtomicU8, Ordering};
use crate::{DrainConfig, DrainError, DrainState};
use ada_thread_registry::{Registry, RegistryDrain};

/// Most passes of the final drain: producers still writing would otherwise keep it
/// going forever; what they write after the stop is theirs to keep (reported in flight).
pub(crate) const FINAL_PASSES: u64 = 16;

/// What the loop did after a pass that moved nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IdleStep {
    /// Spun once (a busy-wait hint).
    Spun,
    /// Gave the CPU away once.
    Yielded,
    /// Parked until woken or `park_interval` passed.
    Parked,
}

/// What a pass does, for [`drive`].
pub(crate) trait Passes<I, D> {
    /// One pass over every occupied slot; `last` during the final drain (take every
    /// submitted ring, collect every partly filled one). Returns the deliveries made.
    fn pass(&mut self, drain: &mut RegistryDrain<'_, I, D>, last: bool) -> u64;
    /// The loop idled, after the step's wait.
    fn idled(&mut self, step: IdleStep);
    /// A pass of the final drain is about to run.
    fn final_pass(&mut self);
}

/// Polls until a stop is requested, idling (spin, then yield, then park) after passes
/// that moved nothing; then refuses new registrations and makes final passes until one
/// moves nothing.
///
/// No stop is missed by a parked drain: `Drain::stop` unparks the drain thread after
/// its compare-and-swap, and a park that begins after that unpark returns at once (the
/// thread's park token), so the state is re-read.
pub(crate) fn drive<I: Copy + Send + 'static, D: Copy + Send + 'static>(
    state: &AtomicU8,
    registry: &Registry<I, D>,
    drain: &mut RegistryDrain<'_, I, D>,
    config: &DrainConfig,
    passes: &mut impl Passes<I, D>,
) {
    let mut idle = 0_u32;
    // Acquire: pairs with `request_stop`'s compare-and-swap.
    while state.load(Ordering::Acquire) == DrainState::Running as u8 {
        if passes.pass(drain, false) > 0 {
            idle = 0;
            continue;
        }
        idle = idle.saturating_add(1);
        let step = if idle <= config.idle_spins {
            core::hint::spin_loop();
            IdleStep::Spun
        } else if idle <= config.idle_spins.saturating_add(config.idle_yields) {
            sync::yield_now();
            IdleStep::Yielded
        } else {
            drain.park(config.park_interval);
            IdleStep::Parked
        };
        passes.idled(step);
    }
    // Final drain: no new threads; take every submitted ring, collect every partly
    // filled ring, release every retired slot, until a pass moves nothing.
    registry.shutdown();
    // mutant: drain.final_passes
    for _ in 0..FINAL_PASSES {
        passes.final_pass();
        if passes.pass(drain, true) == 0 {
            break;
        }
    }
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
