//! The process-wide tracer that the macros write to when they are given none:
//! [`install`] it, hold the [`TracerGuard`] in `main`, and [`TracerGuard::finish`] (or
//! drop it, or call [`shutdown`]) to stop the drain and get the final report.
//!
//! The hot path loads one word, the installed tracer's *key* (its registry's address;
//! 0 when nothing is installed or tracing is disabled), and compares it with the calling
//! thread's cached handle (in this crate's own thread-local): no lock, no reference
//! count, nothing shared written. The key is only ever compared, never dereferenced, so
//! a `Relaxed` load suffices: a thread's cached handle keeps its own registry alive, and
//! a thread without one (its first record, or after another tracer) takes the cold path,
//! which clones the installed tracer's registry under a lock before registering with
//! it. Names are the process-wide `ada_names` table's, whichever tracer is installed.

use crate::event::{Detail, Event};
use crate::slot::Global;
use crate::tracer::{BuildError, Tracer, TracerBuilder};
use ada_drain::{DrainError, DrainReport};
use std::fmt;
use std::sync::Arc;

/// The process's global tracer.
#[cfg(not(loom))]
pub(crate) static GLOBAL: Global<Tracer> = Global::new();

/// The process's global tracer, under loom (whose atomics are not `const`; only the
/// slot's own model runs there, which never touches this one).
#[cfg(loom)]
pub(crate) static GLOBAL: std::sync::LazyLock<Global<Tracer>> =
    std::sync::LazyLock::new(Global::new);

/// Why [`install`] refused.
#[derive(Debug)]
#[non_exhaustive]
pub enum InstallError {
    /// A tracer is installed already: [`shutdown`] it (or finish its guard) first.
    AlreadyInstalled,
    /// The builder refused its configuration, or the drain did not start.
    Build(BuildError),
}

impl fmt::Display for InstallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AlreadyInstalled => {
                write!(
                    f,
                    "a global tracer is installed already (shut it down first)"
                )
            }
            Self::Build(error) => write!(f, "global tracer: {error}"),
        }
    }
}

impl std::error::Error for InstallError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::AlreadyInstalled => None,
            Self::Build(error) => Some(error),
        }
    }
}

/// Why a global tracer's shutdown returned no report.
#[derive(Debug)]
#[non_exhaustive]
pub enum ShutdownError {
    /// Nothing to stop: no tracer installed, or (from a guard) its tracer was stopped
    /// already by [`shutdown`].
    NotInstalled,
    /// The drain failed to stop cleanly (see [`DrainError`]).
    Drain(DrainError),
}

impl fmt::Display for ShutdownError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotInstalled => write!(f, "no global tracer to shut down"),
            Self::Drain(error) => write!(f, "global tracer: {error}"),
        }
    }
}

impl std::error::Error for ShutdownError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::NotInstalled => None,
            Self::Drain(error) => Some(error),
        }
    }
}

/// Builds the tracer and installs it as the process's global tracer, which the macros
/// ([`span!`](crate::span), [`instant!`](crate::instant), [`counter!`](crate::counter))
/// write to when given no `tracer:`.
///
/// Hold the guard in `main`: dropping it (or [`TracerGuard::finish`], which also returns
/// the report, or [`shutdown`]) stops the drain and delivers every thread's committed
/// records. Statics are not dropped at process exit, so a tracer left installed when
/// `main` returns, or at `std::process::exit`, is never shut down: whatever its lanes
/// hold is lost (a `FileSink`'s file then ends without its trailer, which readers report
/// as a torn tail). A panic that unwinds out of `main` drops the guard, so the final
/// drain still runs; see [`flush_on_panic`] for the panicking thread's rings.
///
/// A thread that keeps writing while the tracer shuts down: what it committed before
/// the final drain collected its lanes is delivered; after the shutdown the macros find
/// no tracer and write nothing (a record racing the shutdown may land in a lane no drain
/// reads any more: it is counted by the thread's handle, not in the report). Installing
/// again after a shutdown works.
///
/// ```
/// let guard = ada::install(ada::Tracer::builder())?;
/// assert!(matches!(
///     ada::install(ada::Tracer::builder()),
///     Err(ada::InstallError::AlreadyInstalled)
/// ));
/// {
///     let _span = ada::span!("work");
///     ada::instant!("step", n = 1);
/// }
/// let report = guard.finish()?;
/// assert_eq!(report.totals.events_delivered, 4); // enter, instant, its argument, leave
/// assert!(report.totals.is_conserved());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`InstallError::AlreadyInstalled`] while another global tracer is installed (the
/// builder is not built); [`InstallError::Build`] as [`TracerBuilder::build`].
pub fn install(builder: TracerBuilder<Event, Detail>) -> Result<TracerGuard, InstallError> {
    let generation = GLOBAL
        .install(|| {
            let tracer = builder.build()?;
            let key = Arc::as_ptr(tracer.registry()) as usize;
            Ok((tracer, key))
        })
        .map_err(|error| error.map_or(InstallError::AlreadyInstalled, InstallError::Build))?;
    Ok(TracerGuard {
        generation: Some(generation),
    })
}

/// Stops the global tracer, whoever installed it: as [`TracerGuard::finish`]. Its guard
/// then has nothing left to stop.
///
/// # Errors
/// [`ShutdownError::NotInstalled`] when no tracer is installed;
/// [`ShutdownError::Drain`] as [`Tracer::shutdown`].
pub fn shutdown() -> Result<DrainReport, ShutdownError> {
    let tracer = GLOBAL.take(None).ok_or(ShutdownError::NotInstalled)?;
    tracer.shutdown().map_err(ShutdownError::Drain)
}

/// Whether a global tracer is installed (enabled or not).
#[must_use]
pub fn is_installed() -> bool {
    GLOBAL.is_installed()
}

/// Turns tracing on or off for the whole process, for the global tracer and the macros
/// given an explicit `tracer:`. Off, a macro costs a relaxed load and a branch and
/// writes nothing (its argument expressions are not evaluated); a span entered before
/// still writes its leave. Direct calls ([`Tracer::index`], a handle's writes) are not
/// affected. On by default.
///
/// ```
/// let guard = ada::install(ada::Tracer::builder())?;
/// ada::set_enabled(false);
/// ada::instant!("ignored");
/// ada::set_enabled(true);
/// assert_eq!(guard.finish()?.totals.events_written, 0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn set_enabled(on: bool) {
    GLOBAL.set_enabled(on);
}

/// Whether tracing is on ([`set_enabled`]).
#[inline]
#[must_use]
pub fn enabled() -> bool {
    GLOBAL.enabled()
}

/// Installs (once per process; later calls do nothing) a panic hook that first hands
/// the panicking thread's partly filled rings of the global tracer to the drain (as
/// [`Tracer::flush`]), then runs the hook that was installed before.
///
/// A panic that unwinds retires the thread's lanes anyway when the thread exits; the
/// hook matters when the thread does not exit (a pool thread catching the panic, or
/// `main` stuck in its own guard's drop) and for the drain's latency: the records
/// before the panic are on their way at once. With `panic = "abort"` the process dies
/// right after the hook: the drain may not get to write them. Nothing is flushed when
/// the panic was raised inside ada's own crates (a write may hold the handle) or the
/// thread never wrote to the global tracer.
pub fn flush_on_panic() {
    static HOOK: crate::sync::Once = crate::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            // A panic raised inside ada's own crates may have interrupted a write that
            // holds this thread's handle: leave the handle alone then.
            let inside = info.location().is_some_and(|location| {
                let file = location.file();
                ADA_SOURCES.iter().any(|crate_dir| file.contains(crate_dir))
            });
            if !inside {
                // The cached handle only: no lock in a panic hook, and a thread with no
                // cached handle of the global tracer has nothing of it to flush.
                crate::global_handle::flush(GLOBAL.key());
            }
            previous(info);
        }));
    });
}

/// Where a panic's location lies inside the crates a write runs through (source folders
/// of the workspace and package names as cargo unpacks them).
const ADA_SOURCES: [&str; 12] = [
    "crates/ada/src/",
    "crates/ring-buffer/src/",
    "crates/ring-pool/src/",
    "crates/thread-registry/src/",
    "crates/spsc/src/",
    "crates/slots/src/",
    "ada-trace-",
    "ada-ring-buffer-",
    "ada-ring-pool-",
    "ada-thread-registry-",
    "ada-spsc-",
    "ada-slots-",
];

/// Owns the installed global tracer: [`finish`](Self::finish) (or drop) stops it.
#[derive(Debug)]
#[must_use = "dropping the guard shuts the global tracer down at once: hold it in main"]
pub struct TracerGuard {
    /// The install it stops (None once finished).
    generation: Option<u64>,
}

impl TracerGuard {
    /// Stops the global tracer: refuses new threads, delivers every thread's committed
    /// records (threads still alive included), flushes the sink, and returns the final
    /// report, as [`Tracer::shutdown`].
    ///
    /// # Errors
    /// [`ShutdownError::NotInstalled`] when [`shutdown`] stopped it already;
    /// [`ShutdownError::Drain`] as [`Tracer::shutdown`].
    pub fn finish(mut self) -> Result<DrainReport, ShutdownError> {
        self.stop()
    }

    fn stop(&mut self) -> Result<DrainReport, ShutdownError> {
        let tracer = self
            .generation
            .take()
            .and_then(|generation| GLOBAL.take(Some(generation)))
            .ok_or(ShutdownError::NotInstalled)?;
        tracer.shutdown().map_err(ShutdownError::Drain)
    }
}

impl Drop for TracerGuard {
    fn drop(&mut self) {
        {
            let _ = self.stop();
        }
    }
}
