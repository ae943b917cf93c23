//! `tracing` layers side by side, nanoseconds per operation in one run, same workload:
//! (a) a span with two `u64` fields, entered and exited (`info_span!` + `enter`, made
//! and closed each time), (b) an event with two `u64` fields and a message, and (c) a
//! span without fields (what keeping a span's fields from its creation to its enter
//! costs: the difference between (a) and (c)).
//!
//! - `ada-tracing`: the layer on a registry, a tracer with a null sink (the numbers are
//!   the producer's path; lanes large enough for a whole sample between drain visits);
//! - `no-op layer`: a registry with a layer whose methods are empty: `tracing`'s own
//!   dispatch, span creation and span stack;
//! - `buffer layer`: the minimal buffering layer: each callback pushes (name, fields,
//!   `Instant::now()`) into a per-thread `Vec`;
//! - `tracing-chrome`: its layer with arguments, writing JSON to a temporary file;
//! - `fastrace`: fastrace's own API (`LocalSpan` with two properties, `LocalSpan::add_event`)
//!   under a root span per 1 000 operations, its collector reporting to a reporter that
//!   discards: the non-`tracing` peer.
//!
//! Targets: ada-tracing at most the no-op layer + 20 ns per operation, cheaper than the
//! buffer layer, at least 10× cheaper than tracing-chrome. After the timings the bench
//! prints the output bytes per operation: ada's capture file and tracing-chrome's JSON,
//! each from 100 000 operations of each kind.
//!
//! `cargo bench -p ada-benches --bench tracing_layer`

use ada::{ExhaustionPolicy, FileSink, LaneConfig, LaneMode, NullSink, Tracer};
use criterion::{BenchmarkGroup, Criterion, measurement::WallTime};
use fastrace::collector::{Config, Reporter, SpanContext, SpanRecord};
use fastrace::local::LocalSpan;
use fastrace::prelude::Span as FastraceSpan;
use std::cell::RefCell;
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Dispatch, Subscriber, info, info_span};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

/// (a): a span with two `u64` fields, made, entered, exited and closed.
#[inline(never)]
fn span_op(i: u64) {
    let span = info_span!("work", a = i, b = 7_u64);
    let _entered = span.enter();
}

/// (c): a span without fields, made, entered, exited and closed.
#[inline(never)]
fn bare_span_op(_: u64) {
    let span = info_span!("work");
    let _entered = span.enter();
}

/// (b): an event with two `u64` fields and a message.
#[inline(never)]
fn event_op(i: u64) {
    info!(a = i, b = 7_u64, "tick");
}

/// A layer that does nothing: what `tracing` itself costs.
struct NoopLayer;

impl<S: Subscriber> Layer<S> for NoopLayer {}

/// A field value, as the buffer layer keeps it.
#[allow(dead_code)] // kept, never read: the bench measures the keeping
#[derive(Debug)]
enum FieldValue {
    U64(u64),
    I64(i64),
    F64(f64),
    Bool(bool),
    Text(String),
}

/// One buffered callback.
#[allow(dead_code)] // kept, never read
#[derive(Debug)]
struct Buffered {
    name: &'static str,
    kind: u8,
    at: Instant,
    fields: Vec<(&'static str, FieldValue)>,
}

struct Fields<'a>(&'a mut Vec<(&'static str, FieldValue)>);

impl Visit for Fields<'_> {
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.push((field.name(), FieldValue::U64(value)));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.push((field.name(), FieldValue::I64(value)));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.push((field.name(), FieldValue::F64(value)));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.push((field.name(), FieldValue::Bool(value)));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0
            .push((field.name(), FieldValue::Text(value.to_owned())));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0
            .push((field.name(), FieldValue::Text(format!("{value:?}"))));
    }
}

thread_local! {
    static BUFFER: RefCell<Vec<Buffered>> = const { RefCell::new(Vec::new()) };
}

/// The minimal buffering layer: (name, fields, time) per callback into a per-thread
/// `Vec` (emptied at a million entries, as a consumer would).
struct BufferLayer;

impl BufferLayer {
    fn push(name: &'static str, kind: u8, fields: Vec<(&'static str, FieldValue)>) {
        let at = Instant::now();
        BUFFER.with(|buffer| {
            let mut buffer = buffer.borrow_mut();
            if buffer.len() >= 1_000_000 {
                buffer.clear();
            }
            buffer.push(Buffered {
                name,
                kind,
                at,
                fields,
            });
        });
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for BufferLayer {
    fn on_new_span(&self, attrs: &Attributes<'_>, _id: &Id, _ctx: Context<'_, S>) {
        let mut fields = Vec::new();
        attrs.record(&mut Fields(&mut fields));
        Self::push(attrs.metadata().name(), 0, fields);
    }
    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        if let Some(metadata) = ctx.metadata(id) {
            Self::push(metadata.name(), 1, Vec::new());
        }
    }
    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        if let Some(metadata) = ctx.metadata(id) {
            Self::push(metadata.name(), 2, Vec::new());
        }
    }
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        let mut fields = Vec::new();
        event.record(&mut Fields(&mut fields));
        Self::push(event.metadata().name(), 3, fields);
    }
}

/// fastrace's collector, reporting to nothing.
struct Discard;

impl Reporter for Discard {
    fn report(&mut self, spans: Vec<SpanRecord>) {
        black_box(spans);
    }
}

/// The lanes of the timing runs: a whole sample fits between drain visits.
fn lanes() -> LaneConfig {
    LaneConfig {
        rings: 16,
        ring_records: 1 << 14,
        policy: ExhaustionPolicy::DropOldest,
        mode: LaneMode::SubmitAll,
    }
}

/// Times `op` with `dispatch` as the thread's default subscriber.
fn time(group: &mut BenchmarkGroup<'_, WallTime>, name: &str, dispatch: &Dispatch, op: fn(u64)) {
    let mut i = 0_u64;
    group.bench_function(name, |b| {
        tracing::dispatcher::with_default(dispatch, || {
            b.iter(|| {
                i += 1;
                op(black_box(i));
            });
        });
    });
}

/// Times fastrace's `op` under a root span per 1 000 operations (its local collector
/// holds 4 096 spans; the root's end submits them).
fn time_fastrace(group: &mut BenchmarkGroup<'_, WallTime>, op: fn(u64)) {
    // The collector's backlog of the previous timing, reported first: left queued, it
    // made this one ~1000× slower in some runs.
    fastrace::flush();
    group.bench_function("fastrace", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            let mut done = 0;
            while done < iters {
                let root = FastraceSpan::root("batch", SpanContext::random());
                let guard = root.set_local_parent();
                let batch = (iters - done).min(1_000);
                for i in done..done + batch {
                    op(black_box(i));
                }
                drop(guard);
                drop(root);
                done += batch;
            }
            start.elapsed()
        });
    });
}

fn fastrace_span(i: u64) {
    let _span = LocalSpan::enter_with_local_parent("work")
        .with_properties(|| [("a", i.to_string()), ("b", 7_u64.to_string())]);
}

fn fastrace_bare_span(_: u64) {
    let _span = LocalSpan::enter_with_local_parent("work");
}

fn fastrace_event(i: u64) {
    LocalSpan::add_event(
        fastrace::Event::new("tick")
            .with_properties(|| [("a", i.to_string()), ("b", 7_u64.to_string())]),
    );
}

fn benches(c: &mut Criterion, dir: &Path) {
    let (ada_layer, ada_guard) = ada_tracing::layer(
        Tracer::builder()
            .index_lane(lanes())
            .sink(NullSink::default()),
    )
    .unwrap();
    let ada = Dispatch::new(tracing_subscriber::registry().with(ada_layer));
    let noop = Dispatch::new(tracing_subscriber::registry().with(NoopLayer));
    let buffer = Dispatch::new(tracing_subscriber::registry().with(BufferLayer));
    fastrace::set_reporter(Discard, Config::default());

    for (group_name, op, fastrace_op) in [
        (
            "tracing_layer/span enter+exit, 2 u64 fields",
            span_op as fn(u64),
            fastrace_span as fn(u64),
        ),
        (
            "tracing_layer/event, 2 u64 fields",
            event_op,
            fastrace_event,
        ),
        (
            "tracing_layer/span enter+exit, no fields",
            bare_span_op,
            fastrace_bare_span,
        ),
    ] {
        let mut group = c.benchmark_group(group_name);
        time(&mut group, "ada-tracing", &ada, op);
        time(&mut group, "no-op layer", &noop, op);
        time(&mut group, "buffer layer", &buffer, op);
        {
            // A layer per group, its guard dropped (its writer thread joined, the backlog
            // of its channel written) before the next timing, which it would slow down.
            let (chrome_layer, chrome_guard) = tracing_chrome::ChromeLayerBuilder::new()
                .file(dir.join("timing.json"))
                .include_args(true)
                .build();
            let chrome = Dispatch::new(tracing_subscriber::registry().with(chrome_layer));
            time(&mut group, "tracing-chrome", &chrome, op);
            drop(chrome);
            drop(chrome_guard);
        }
        time_fastrace(&mut group, fastrace_op);
        group.finish();
    }

    drop(ada);
    let report = ada_guard.finish().unwrap();
    println!(
        "ada-tracing timing runs: {} records written, {} dropped ({} blocked waits)",
        report.totals.events_written,
        report.totals.dropped.total(),
        report.totals.blocked_waits,
    );
    fastrace::flush();
}

/// Operations per output-size run.
const SIZE_OPS: u64 = 100_000;

/// Output bytes per operation: ada's capture file and tracing-chrome's JSON, from
/// `SIZE_OPS` operations of `op`.
fn output_bytes(dir: &Path, label: &str, op: fn(u64)) {
    let ada_path = dir.join(format!("{label}.ada"));
    let (layer, guard) = ada_tracing::layer(
        Tracer::builder()
            .index_lane(lanes())
            .sink(FileSink::create(&ada_path).unwrap()),
    )
    .unwrap();
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(layer));
    tracing::dispatcher::with_default(&dispatch, || (0..SIZE_OPS).for_each(op));
    drop(dispatch);
    let report = guard.finish().unwrap();
    let ada_bytes = std::fs::metadata(&ada_path).unwrap().len();

    let chrome_path = dir.join(format!("{label}.json"));
    let (layer, guard) = tracing_chrome::ChromeLayerBuilder::new()
        .file(&chrome_path)
        .include_args(true)
        .build();
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(layer));
    tracing::dispatcher::with_default(&dispatch, || (0..SIZE_OPS).for_each(op));
    drop(dispatch);
    drop(guard); // flushes and closes the JSON
    let chrome_bytes = std::fs::metadata(&chrome_path).unwrap().len();

    #[allow(clippy::cast_precision_loss)] // byte counts far below 2^52
    let per_op = |bytes: u64| bytes as f64 / SIZE_OPS as f64;
    println!(
        "{label}: output bytes per operation: ada-tracing {:.1} ({} records per operation, \
         {} dropped), tracing-chrome {:.1}",
        per_op(ada_bytes),
        report.totals.events_written / SIZE_OPS,
        report.totals.dropped.total(),
        per_op(chrome_bytes),
    );
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let mut criterion = Criterion::default()
        .sample_size(10)
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_secs(1))
        .configure_from_args();
    benches(&mut criterion, dir.path());
    criterion.final_summary();
    output_bytes(dir.path(), "span enter+exit, 2 u64 fields", span_op);
    output_bytes(dir.path(), "event, 2 u64 fields", event_op);
    output_bytes(dir.path(), "span enter+exit, no fields", bare_span_op);
}
