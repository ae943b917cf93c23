//! The probe `cargo xtask cost` runs under callgrind: `cost_probe PATH N` performs `N`
//! operations of one write path in a loop of its own (`cost_loop_PATH`, never inlined),
//! the only code callgrind counts (`--toggle-collect`), so the drain thread and the
//! set-up are left out; the difference between an `N` and a `2N` run, divided by `N`,
//! is the instructions per operation, the loop's own increment and branch included.
//!
//! Paths: `floor` (an `ada-ring-buffer` push: the append and its release store),
//! `handle_write` (`handle.index(event)`), `local_write` (`tracer.index(event)`, the
//! thread-local path), `timestamped_event` (`handle.index(Event::now(..))`), `span`
//! (`ada::span!` entered and left, both stamped, global tracer), `clock`
//! (`ada_clock::now()`), and the `tracing` layer's operations, each through
//! `ada_tracing` and through a layer that does nothing (what `tracing` itself costs; the
//! difference is the layer's): `tracing_event` / `noop_event` (`info!` with two `u64`
//! fields and a message), `tracing_span` / `noop_span` (`info_span!` with two `u64`
//! fields, made, entered, exited and closed) and `tracing_bare_span` /
//! `noop_bare_span` (the same without fields): the workload of
//! `benches/tracing_layer.rs`.

use ada::{Event, EventKind, ExhaustionPolicy, LaneConfig, LaneMode, NullSink, Tracer};
use std::hint::black_box;

/// Rings that hold every record of the largest run (16 × 65 536 = 1 M records), so that
/// the drain's pace (slow under callgrind) changes nothing: no exhaustion, no drops;
/// the swaps' share is what it is in any steady run.
fn builder() -> ada::TracerBuilder<Event, ada::Detail> {
    Tracer::builder()
        .threads(4)
        .index_lane(LaneConfig {
            rings: 16,
            ring_records: 1 << 16,
            policy: ExhaustionPolicy::DropNewest,
            mode: LaneMode::SubmitAll,
        })
        .sink(NullSink::default())
}

#[inline(never)]
fn cost_loop_floor(n: u64) {
    let mut ring = ada_ring_buffer::RingBuffer::<Event>::with_capacity(1 << 16).unwrap();
    let mut i = 0;
    while i < n {
        let (mut writer, _) = ring.split();
        while i < n {
            if writer
                .push(Event::at(i, EventKind::Enter, 1, black_box(i)))
                .is_err()
            {
                break;
            }
            i += 1;
        }
        ring.reset();
    }
}

#[inline(never)]
fn cost_loop_handle_write(handle: &mut ada::ThreadHandle<Event, ada::Detail>, n: u64) {
    for i in 0..n {
        handle.index(Event::at(i, EventKind::Enter, 1, black_box(i)));
    }
}

#[inline(never)]
fn cost_loop_local_write(tracer: &Tracer, n: u64) {
    for i in 0..n {
        let _ = tracer.index(Event::at(i, EventKind::Enter, 1, black_box(i)));
    }
}

#[inline(never)]
fn cost_loop_timestamped_event(handle: &mut ada::ThreadHandle<Event, ada::Detail>, n: u64) {
    for i in 0..n {
        handle.index(Event::now(EventKind::Enter, 1, black_box(i)));
    }
}

#[inline(never)]
fn cost_loop_span(n: u64) {
    for _ in 0..n {
        let _span = ada::span!("cost");
    }
}

#[inline(never)]
fn cost_loop_clock(n: u64) -> u64 {
    let mut sum = 0_u64;
    for _ in 0..n {
        sum = sum.wrapping_add(ada::clock::now());
    }
    sum
}

#[inline(never)]
fn cost_loop_tracing_event(n: u64) {
    for i in 0..n {
        tracing::info!(a = black_box(i), b = 7_u64, "tick");
    }
}

#[inline(never)]
fn cost_loop_tracing_span(n: u64) {
    for i in 0..n {
        let span = tracing::info_span!("work", a = black_box(i), b = 7_u64);
        let _entered = span.enter();
    }
}

#[inline(never)]
fn cost_loop_tracing_bare_span(n: u64) {
    for _ in 0..n {
        let span = tracing::info_span!("work");
        let _entered = span.enter();
    }
}

/// A layer whose methods are empty: `tracing`'s own dispatch, span creation and stack.
struct NoopLayer;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for NoopLayer {}

/// Runs the `tracing` operation `op` (`event`, `span` or `bare_span`) `n` times with
/// `dispatch` as this thread's default.
fn tracing_loop(op: &str, dispatch: &tracing::Dispatch, n: u64) -> Result<(), String> {
    let op: fn(u64) = match op {
        "event" => cost_loop_tracing_event,
        "span" => cost_loop_tracing_span,
        "bare_span" => cost_loop_tracing_bare_span,
        other => return Err(format!("unknown tracing operation {other:?}")),
    };
    tracing::dispatcher::with_default(dispatch, || op(n));
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(path), Some(n)) = (args.get(1), args.get(2)) else {
        return Err("usage: cost_probe PATH N".into());
    };
    let n: u64 = n.parse()?;
    // The clock's source and calibration are decided before any loop runs.
    let _ = ada::clock::Calibration::get();
    match path.as_str() {
        "floor" => cost_loop_floor(n),
        "handle_write" | "timestamped_event" => {
            let tracer = builder().build()?;
            let mut handle = tracer.handle()?;
            if path == "handle_write" {
                cost_loop_handle_write(&mut handle, n);
            } else {
                cost_loop_timestamped_event(&mut handle, n);
            }
            drop(handle);
            tracer.shutdown()?;
        }
        "local_write" => {
            let tracer = builder().build()?;
            cost_loop_local_write(&tracer, n);
            tracer.shutdown()?;
        }
        "span" => {
            let guard = ada::install(builder())?;
            cost_loop_span(n);
            let report = guard.finish()?;
            assert_eq!(report.totals.events_written, 2 * n, "every span written");
        }
        "clock" => {
            black_box(cost_loop_clock(n));
        }
        "tracing_event" | "tracing_span" | "tracing_bare_span" => {
            use tracing_subscriber::layer::SubscriberExt;
            let tracer = builder().build()?;
            let layer = ada_tracing::AdaLayer::for_tracer(&tracer);
            let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
            tracing_loop(&path["tracing_".len()..], &dispatch, n)?;
            drop(dispatch);
            let report = tracer.shutdown()?;
            assert_eq!(report.totals.dropped.total(), 0, "every record kept");
        }
        "noop_event" | "noop_span" | "noop_bare_span" => {
            use tracing_subscriber::layer::SubscriberExt;
            let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(NoopLayer));
            tracing_loop(&path["noop_".len()..], &dispatch, n)?;
        }
        other => return Err(format!("unknown path {other:?}").into()),
    }
    eprintln!("clock source: {}", ada::clock::source().name());
    Ok(())
}
