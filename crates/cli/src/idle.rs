//! `ada idle`: the drain thread's CPU use while every registered thread is idle,
//! measured through the facade (a tracer with the default drain and a null sink).

use crate::error::{Failure, ProducerError};
use crate::out::outln;
use crate::stress::positive_seconds;
use ada::{DrainConfig, Event, EventKind, Tracer};
use std::sync::Barrier;
use std::time::{Duration, Instant};

/// How many idle threads, for how long.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct IdleArgs {
    /// Registered idle threads, 1 to 1024.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub(crate) threads: u64,
    /// Seconds to measure: above 0, at most 86400 (a day).
    #[arg(long, default_value_t = 2.0, value_parser = positive_seconds)]
    pub(crate) seconds: f64,
}

/// CPU time (user + system) this process has used.
fn process_cpu() -> Duration {
    // SAFETY: `getrusage` only writes the `rusage` we own, which all-zero bytes already
    // make a valid value of (plain integers); `RUSAGE_SELF` is a valid `who`.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &raw mut usage);
        usage
    };
    let time = |t: libc::timeval| {
        Duration::from_secs(u64::try_from(t.tv_sec).unwrap_or(0))
            + Duration::from_micros(u64::try_from(t.tv_usec).unwrap_or(0))
    };
    time(usage.ru_utime) + time(usage.ru_stime)
}

/// What `ada idle` measured.
#[derive(Debug, Clone, Copy)]
struct IdleUse {
    /// Process CPU time during the measurement.
    cpu: Duration,
    /// Wall time of the measurement.
    wall: Duration,
}

/// Registers `args.threads` threads that each write one event and then wait, lets the
/// drain settle into parking, and measures the process's CPU time for `args.seconds`.
pub(crate) fn run(args: &IdleArgs) -> Result<(), Failure> {
    let threads = usize::try_from(args.threads).unwrap_or(usize::MAX);
    let drain = DrainConfig::default();
    let tracer = Tracer::builder()
        .threads(threads)
        .drain(drain)
        .build()
        .map_err(Failure::Config)?;
    let registered = Barrier::new(threads + 1);
    let release = Barrier::new(threads + 1);
    let (measured, failure) = std::thread::scope(|s| {
        let idlers: Vec<_> = (0..args.threads)
            .map(|thread| {
                let (tracer, registered, release) = (&tracer, &registered, &release);
                s.spawn(move || {
                    let handle = tracer.handle().map(|mut handle| {
                        handle.index(Event::now(EventKind::Instant, 0, thread));
                        handle
                    });
                    registered.wait();
                    release.wait(); // idle, registered, until the measurement is over
                    handle
                        .map(drop)
                        .map_err(|source| ProducerError::Register { thread, source })
                })
            })
            .collect();
        registered.wait();
        std::thread::sleep(Duration::from_millis(200)); // let the drain settle into parking
        let (cpu, start) = (process_cpu(), Instant::now());
        std::thread::sleep(Duration::from_secs_f64(args.seconds));
        let measured = IdleUse {
            cpu: process_cpu().saturating_sub(cpu),
            wall: start.elapsed(),
        };
        release.wait();
        let failure = idlers
            .into_iter()
            .map(|idler| idler.join().unwrap_or(Err(ProducerError::Panicked)))
            .find_map(Result::err);
        (measured, failure)
    });
    let report = tracer.shutdown().map_err(Failure::Drain)?;
    if let Some(error) = failure {
        return Err(Failure::Producer(error));
    }
    outln!(
        "idle: {threads} registered idle threads, drain parks {:?}: {:.3} ms CPU in {:.2} s = {:.3} % of one core (getrusage, whole process); {} cycles, {} parks",
        drain.park_interval,
        measured.cpu.as_secs_f64() * 1e3,
        measured.wall.as_secs_f64(),
        100.0 * measured.cpu.as_secs_f64() / measured.wall.as_secs_f64(),
        report.drain.cycles,
        report.drain.parks,
    );
    Ok(())
}
