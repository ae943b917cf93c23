//! Real `tracing` instrumentation through the layer into a capture file, read back
//! through `ada::capture`: names, categories, nesting, fields, threads, panics,
//! truncation, exits on other threads, and conservation in the report.
#![allow(non_snake_case)]

mod support;

use ada::EventKind::{Enter, Instant, Leave};
use ada::{LaneConfig, Tracer};
use ada_tracing::MAX_STRING_LEN;
use support::{Traced, Value};
use tracing::{info, info_span, instrument};

fn this_thread() -> String {
    std::thread::current().name().unwrap_or("").to_owned()
}

#[test]
fn layer__nested_spans__then_enters_and_leaves_nest_named_with_the_target_as_category() {
    let traced = Traced::new();
    traced.run(|| {
        let _outer = info_span!(target: "app::net", "request").entered();
        {
            let _inner = info_span!("parse").entered();
        }
        let _second = info_span!("respond").entered();
    });
    let thread = this_thread();
    let (report, stats, capture) = traced.finish();
    assert!(stats.is_clean(), "{stats}");
    let track = capture.thread(&thread);
    assert_eq!(
        track.shapes(),
        [
            (Enter, "request"),
            (Enter, "parse"),
            (Leave, "parse"),
            (Enter, "respond"),
            (Leave, "respond"),
            (Leave, "request"),
        ]
    );
    assert!(track.is_balanced());
    assert_eq!(track.records[0].category, "app::net");
    assert_eq!(track.records[5].category, "app::net");
    assert_eq!(track.records[1].category, module_path!());
    assert!(track.records.windows(2).all(|w| w[0].ticks <= w[1].ticks));
    assert_eq!(report.totals.events_written, 6);
}

#[derive(Debug)]
#[allow(dead_code)] // read through `Debug` only
struct Point {
    x: i32,
    y: i32,
}

#[instrument(target = "geo", fields(extra = 9_u64))]
fn measure(count: u64, offset: i64, scale: f64, exact: bool, label: &str, at: &Point) -> u64 {
    count * 2
}

#[test]
fn layer__instrument_with_fields__then_the_enter_carries_every_field_typed() {
    let traced = Traced::new();
    let doubled = traced.run(|| measure(21, -3, 0.5, true, "north", &Point { x: 1, y: 2 }));
    assert_eq!(doubled, 42);
    let thread = this_thread();
    let (_, stats, capture) = traced.finish();
    assert!(stats.is_clean(), "{stats}");
    let track = capture.thread(&thread);
    assert_eq!(track.shapes(), [(Enter, "measure"), (Leave, "measure")]);
    let enter = &track.records[0];
    assert_eq!(enter.category, "geo");
    let keys: Vec<_> = enter.args.iter().map(|(key, _)| key.as_str()).collect();
    assert_eq!(
        keys,
        ["count", "offset", "scale", "exact", "label", "at", "extra"]
    );
    assert_eq!(enter.arg("count"), Some(&Value::U64(21)));
    assert_eq!(enter.arg("offset"), Some(&Value::I64(-3)));
    assert_eq!(enter.arg("scale"), Some(&Value::F64(0.5)));
    assert_eq!(enter.arg("exact"), Some(&Value::Bool(true)));
    assert_eq!(enter.arg("label"), Some(&Value::Str(Some("north".into()))));
    assert_eq!(
        enter.arg("at"),
        Some(&Value::Str(Some("Point { x: 1, y: 2 }".into())))
    );
    assert_eq!(enter.arg("extra"), Some(&Value::U64(9)));
}

#[test]
fn layer__events_inside_a_span__then_instants_named_by_message_between_enter_and_leave() {
    let traced = Traced::new();
    let line = traced.run(|| {
        let _span = info_span!("work").entered();
        info!(target: "cache", key = "user:42", hits = 3_u64, "cache miss");
        let line = line!() + 1;
        info!(done = true);
        line
    });
    let thread = this_thread();
    let (_, stats, capture) = traced.finish();
    assert!(stats.is_clean(), "{stats}");
    let track = capture.thread(&thread);
    let unnamed = format!("event {}:{line}", file!());
    assert_eq!(
        track.shapes(),
        [
            (Enter, "work"),
            (Instant, "cache miss"),
            (Instant, unnamed.as_str()),
            (Leave, "work")
        ]
    );
    let miss = &track.records[1];
    assert_eq!(miss.category, "cache");
    assert_eq!(
        miss.args,
        [
            ("key".to_owned(), Value::Str(Some("user:42".into()))),
            ("hits".to_owned(), Value::U64(3)),
        ],
        "the message is the name, not an argument"
    );
    assert_eq!(
        track.records[2].args,
        [("done".to_owned(), Value::Bool(true))]
    );
}

#[test]
fn layer__formatted_messages__then_each_text_is_the_instants_name() {
    let traced = Traced::new();
    traced.run(|| {
        for n in 0..3 {
            info!("step {n} of 3");
        }
    });
    let thread = this_thread();
    let (_, _, capture) = traced.finish();
    let names: Vec<_> = capture
        .thread(&thread)
        .records
        .iter()
        .map(|r| r.name.as_str())
        .collect();
    assert_eq!(names, ["step 0 of 3", "step 1 of 3", "step 2 of 3"]);
}

#[test]
fn layer__many_threads__then_each_thread_has_its_own_balanced_track_and_all_is_conserved() {
    const THREADS: usize = 8;
    const SPANS: u64 = 2_000;
    let traced = Traced::with(Tracer::builder().threads(THREADS + 1));
    std::thread::scope(|s| {
        for worker in 0..THREADS {
            let dispatch = &traced.dispatch;
            std::thread::Builder::new()
                .name(format!("worker-{worker}"))
                .spawn_scoped(s, move || {
                    tracing::dispatcher::with_default(dispatch, || {
                        for n in 0..SPANS {
                            let _span = info_span!("item", n, worker).entered();
                            if n.is_multiple_of(100) {
                                info!(n, "checkpoint");
                            }
                        }
                    });
                })
                .unwrap()
                .join()
                .unwrap();
        }
    });
    let (report, stats, capture) = traced.finish();
    assert!(stats.is_clean(), "{stats}");
    // Per span: enter, two arguments, leave; per checkpoint: instant, argument.
    let per_thread = SPANS * 4 + SPANS / 100 * 2;
    assert_eq!(report.totals.events_written, per_thread * THREADS as u64);
    assert_eq!(report.totals.events_delivered, report.totals.events_written);
    for worker in 0..THREADS {
        let track = capture.thread(&format!("worker-{worker}"));
        assert!(track.is_balanced());
        assert_eq!(track.records.len() as u64, SPANS * 2 + SPANS / 100);
        let last = &track.records[track.records.len() - 2];
        assert_eq!(last.arg("n"), Some(&Value::U64(SPANS - 1)));
        assert_eq!(last.arg("worker"), Some(&Value::U64(worker as u64)));
    }
}

#[test]
fn layer__a_panicking_thread__then_its_spans_are_left_while_unwinding_and_nothing_is_lost() {
    let traced = Traced::new();
    std::thread::scope(|s| {
        let dispatch = &traced.dispatch;
        let result = std::thread::Builder::new()
            .name("doomed".into())
            .spawn_scoped(s, move || {
                tracing::dispatcher::with_default(dispatch, || {
                    let _outer = info_span!("outer").entered();
                    let _inner = info_span!("inner", step = 2_u64).entered();
                    info!("about to fail");
                    panic!("deliberate");
                })
            })
            .unwrap()
            .join();
        assert!(result.is_err(), "the thread panicked");
    });
    let (report, _, capture) = traced.finish();
    let track = capture.thread("doomed");
    assert_eq!(
        track.shapes(),
        [
            (Enter, "outer"),
            (Enter, "inner"),
            (Instant, "about to fail"),
            (Leave, "inner"),
            (Leave, "outer"),
        ]
    );
    assert_eq!(report.totals.events_written, 6);
}

#[test]
fn layer__strings_over_the_bound__then_truncated_with_an_ellipsis_and_flagged_with_the_length() {
    let long = "x".repeat(MAX_STRING_LEN + 36);
    let fits = "y".repeat(MAX_STRING_LEN);
    // 3 bytes a character: the cut falls inside one and must not split it.
    let wide = "€".repeat(30);
    let items: Vec<u64> = (0..100).collect();
    let traced = Traced::new();
    traced.run(|| {
        info!(
            long = long.as_str(),
            fits = fits.as_str(),
            wide,
            ?items,
            "values"
        );
        info!("{}", "m".repeat(100));
    });
    let thread = this_thread();
    let (_, stats, capture) = traced.finish();
    assert_eq!(stats.strings_truncated, 4, "{stats}");
    let track = capture.thread(&thread);
    let values = &track.records[0];
    assert_eq!(
        values.arg("long"),
        Some(&Value::Str(Some(format!(
            "{}…",
            "x".repeat(MAX_STRING_LEN)
        ))))
    );
    assert_eq!(
        values.arg("long.truncated"),
        Some(&Value::U64(MAX_STRING_LEN as u64 + 36))
    );
    assert_eq!(values.arg("fits"), Some(&Value::Str(Some(fits.clone()))));
    assert_eq!(values.arg("fits.truncated"), None);
    assert_eq!(
        values.arg("wide"),
        Some(&Value::Str(Some(format!("{}…", "€".repeat(21)))))
    );
    assert_eq!(values.arg("wide.truncated"), Some(&Value::U64(90)));
    let Some(Value::Str(Some(items_text))) = values.arg("items") else {
        panic!("{values:?}");
    };
    assert!(items_text.starts_with("[0, 1, 2, 3,"), "{items_text}");
    assert!(items_text.ends_with('…'), "{items_text}");
    let full = format!("{items:?}").len() as u64;
    assert_eq!(values.arg("items.truncated"), Some(&Value::U64(full)));
    // The flag directly follows the value it flags.
    let keys: Vec<_> = values.args.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "long",
            "long.truncated",
            "fits",
            "wide",
            "wide.truncated",
            "items",
            "items.truncated"
        ]
    );
    // A long message names the instant truncated, flagged the same way.
    let message = &track.records[1];
    assert_eq!(message.name, format!("{}…", "m".repeat(MAX_STRING_LEN)));
    assert_eq!(message.arg("message.truncated"), Some(&Value::U64(100)));
}

#[test]
fn layer__a_span_exited_on_another_thread__then_both_lanes_stay_balanced_and_the_exit_is_marked() {
    let traced = Traced::new();
    let span = std::thread::scope(|s| {
        let dispatch = &traced.dispatch;
        let span = std::thread::Builder::new()
            .name("enters".into())
            .spawn_scoped(s, move || {
                tracing::dispatcher::with_default(dispatch, || {
                    let _before = info_span!("before").entered();
                    let span = info_span!("migrating", job = 5_u64);
                    // Entered here, never exited here (as a guard moved away would).
                    span.with_subscriber(|(id, dispatch)| dispatch.enter(id));
                    info!("inside");
                    span
                })
            })
            .unwrap()
            .join()
            .unwrap();
        std::thread::Builder::new()
            .name("exits".into())
            .spawn_scoped(s, move || {
                tracing::dispatcher::with_default(dispatch, || {
                    let _own = info_span!("own").entered();
                    span.with_subscriber(|(id, dispatch)| dispatch.exit(id));
                    info!("after");
                    span
                })
            })
            .unwrap()
            .join()
            .unwrap()
    });
    drop(span);
    let (_, stats, capture) = traced.finish();
    assert_eq!(stats.exits_unmatched, 1, "{stats}");
    let enters = capture.thread("enters");
    // `before` was exited (dropped) while `migrating` was still open on this thread:
    // `migrating` is left early, flagged, so that the Leave of `before` closes `before`.
    assert_eq!(
        enters.shapes(),
        [
            (Enter, "before"),
            (Enter, "migrating"),
            (Instant, "inside"),
            (Instant, "migrating"),
            (Leave, "migrating"),
            (Leave, "before"),
        ]
    );
    assert!(enters.is_balanced());
    assert_eq!(
        enters.records[3].arg("ada.exit"),
        Some(&Value::Str(Some(
            "left early: an enclosing span exited first".into()
        )))
    );
    assert_eq!(stats.spans_left_early, 1);
    let exits = capture.thread("exits");
    assert_eq!(
        exits.shapes(),
        [
            (Enter, "own"),
            (Instant, "migrating"),
            (Instant, "after"),
            (Leave, "own"),
        ],
        "no Leave that would close `own`"
    );
    assert!(exits.is_balanced());
    assert_eq!(
        exits.records[1].arg("ada.exit"),
        Some(&Value::Str(Some(
            "exit without an open enter on this thread".into()
        )))
    );
}

#[test]
fn layer__exits_out_of_order__then_the_inner_span_is_left_first_and_its_late_exit_is_marked() {
    let traced = Traced::new();
    traced.run(|| {
        let outer = info_span!("outer").entered();
        let inner = info_span!("inner").entered();
        drop(outer); // out of order
        drop(inner);
    });
    let thread = this_thread();
    let (_, stats, capture) = traced.finish();
    assert_eq!((stats.spans_left_early, stats.exits_unmatched), (1, 1));
    let track = capture.thread(&thread);
    assert_eq!(
        track.shapes(),
        [
            (Enter, "outer"),
            (Enter, "inner"),
            (Instant, "inner"),
            (Leave, "inner"),
            (Leave, "outer"),
            (Instant, "inner"),
        ]
    );
    assert!(track.is_balanced());
}

#[test]
fn layer__record_inside_the_span__then_an_instant_with_the_value_and_later_enters_carry_it() {
    let traced = Traced::new();
    traced.run(|| {
        let span = info_span!("job", id = 1_u64, result = tracing::field::Empty);
        {
            let _entered = span.enter();
            span.record("result", "ok");
        }
        span.record("id", 2_u64); // outside: kept for the next enter only
        let _again = span.enter();
    });
    let thread = this_thread();
    let (_, _, capture) = traced.finish();
    let track = capture.thread(&thread);
    assert_eq!(
        track.shapes(),
        [
            (Enter, "job"),
            (Instant, "job"),
            (Leave, "job"),
            (Enter, "job"),
            (Leave, "job"),
        ]
    );
    assert_eq!(track.records[0].args, [("id".to_owned(), Value::U64(1))]);
    assert_eq!(
        track.records[1].args,
        [("result".to_owned(), Value::Str(Some("ok".into())))]
    );
    assert_eq!(
        track.records[3].args,
        [
            ("id".to_owned(), Value::U64(2)),
            ("result".to_owned(), Value::Str(Some("ok".into())))
        ]
    );
}

#[test]
fn layer__after_finish__then_nothing_is_written_and_each_refusal_is_counted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.ada");
    let tracer = Tracer::builder()
        .sink(ada::FileSink::create(&path).unwrap())
        .build()
        .unwrap();
    let layer = ada_tracing::AdaLayer::for_tracer(&tracer);
    let dispatch = support::dispatch(layer);
    tracing::dispatcher::with_default(&dispatch, || info!("before"));
    let report = tracer.shutdown().unwrap();
    assert_eq!(report.totals.events_written, 1);
    tracing::dispatcher::with_default(&dispatch, || {
        info!("after");
        let _span = info_span!("after").entered();
    });
    let stats = dispatch
        .downcast_ref::<ada_tracing::AdaLayer>()
        .map(ada_tracing::AdaLayer::stats);
    // The registry's layers are reachable through `downcast_ref` on the dispatch.
    assert_eq!(stats.map(|s| s.writes_refused), Some(2), "{stats:?}");
    assert_eq!(support::read(&path).records, 1);
}

#[test]
fn layer__more_threads_than_the_tracer_takes__then_the_extra_threads_writes_are_refused_and_counted()
 {
    let traced = Traced::with(Tracer::builder().threads(1));
    std::thread::scope(|s| {
        let dispatch = &traced.dispatch;
        let (registered, first_registered) = std::sync::mpsc::channel::<()>();
        let (release, released) = std::sync::mpsc::channel::<()>();
        // The first thread takes the only slot and keeps it while the second writes.
        let first = s.spawn(move || {
            tracing::dispatcher::with_default(dispatch, || info!("first"));
            registered.send(()).unwrap();
            released.recv().unwrap();
        });
        first_registered.recv().unwrap();
        s.spawn(move || {
            tracing::dispatcher::with_default(dispatch, || {
                let _span = info_span!("second").entered();
                info!("second");
            });
        })
        .join()
        .unwrap();
        release.send(()).unwrap();
        first.join().unwrap();
    });
    let (report, stats, capture) = traced.finish();
    // The enter and the instant of the second thread; its exit writes nothing.
    assert_eq!(stats.writes_refused, 2, "{stats}");
    assert_eq!(report.totals.events_written, 1);
    assert_eq!(capture.records, 1);
}

#[test]
fn layer__lanes_that_drop__then_the_report_counts_every_loss_by_cause() {
    // Tiny rings and a drain that cannot keep up with a burst: losses are counted, and
    // written = delivered + dropped holds exactly.
    let traced = Traced::with(Tracer::builder().index_lane(LaneConfig {
        rings: 2,
        ring_records: 16,
        policy: ada::ExhaustionPolicy::DropNewest,
        ..LaneConfig::index_lane()
    }));
    traced.run(|| {
        for n in 0..20_000_u64 {
            let _span = info_span!("burst", n).entered();
        }
    });
    let (report, _, _) = traced.finish();
    assert_eq!(report.totals.events_written, 60_000);
    assert_eq!(
        report.totals.events_written,
        report.totals.events_delivered + report.totals.dropped.total()
    );
}

#[test]
fn layer__spans_made_on_one_thread_and_entered_on_others__then_each_enter_carries_its_fields() {
    let traced = Traced::new();
    let spans: Vec<_> = traced.run(|| {
        (0..8_u64)
            .map(|job| info_span!("handed", job, parity = job % 2 == 0))
            .collect()
    });
    std::thread::scope(|s| {
        for (index, half) in spans.chunks(4).enumerate() {
            let dispatch = &traced.dispatch;
            std::thread::Builder::new()
                .name(format!("enterer-{index}"))
                .spawn_scoped(s, move || {
                    tracing::dispatcher::with_default(dispatch, || {
                        for span in half {
                            let _entered = span.enter();
                        }
                    });
                })
                .unwrap();
        }
    });
    drop(spans);
    let (_, stats, capture) = traced.finish();
    assert!(stats.is_clean(), "{stats}");
    for index in 0..2_u64 {
        let track = capture.thread(&format!("enterer-{index}"));
        assert!(track.is_balanced());
        let jobs: Vec<_> = track
            .records
            .iter()
            .filter(|rec| rec.kind == Enter)
            .map(|rec| {
                let Some(&Value::U64(job)) = rec.arg("job") else {
                    panic!("no job in {rec:?}");
                };
                assert_eq!(rec.arg("parity"), Some(&Value::Bool(job % 2 == 0)));
                job
            })
            .collect();
        assert_eq!(jobs, (4 * index..4 * index + 4).collect::<Vec<_>>());
    }
}

#[test]
fn layer__more_open_spans_than_the_layers_table_holds__then_every_enter_carries_its_own_names_and_fields()
 {
    // 3 000 spans open at once, with and without fields, and some with more fields than
    // a table entry holds: many share a slot of the layer's table (1 024), so the
    // registry's extensions keep the others, and every enter must still find its own.
    const SPANS: u64 = 3_000;
    let traced = Traced::with(Tracer::builder().index_lane(LaneConfig {
        rings: 4,
        ring_records: 1 << 14,
        ..LaneConfig::index_lane()
    }));
    traced.run(|| {
        let spans: Vec<_> = (0..SPANS)
            .map(|n| match n % 3 {
                0 => info_span!("with_fields", n, half = n / 2),
                1 => info_span!("bare"),
                _ => info_span!("wide", n, a = 1_u64, b = 2_u64, c = 3_u64, d = 4_u64),
            })
            .collect();
        for span in &spans {
            let _entered = span.enter();
        }
    });
    let thread = this_thread();
    let (_, stats, capture) = traced.finish();
    assert!(stats.is_clean(), "{stats}");
    let track = capture.thread(&thread);
    let enters: Vec<_> = track
        .records
        .iter()
        .filter(|rec| rec.kind == Enter)
        .collect();
    assert_eq!(enters.len() as u64, SPANS);
    for (n, enter) in (0..SPANS).zip(enters) {
        match n % 3 {
            0 => {
                assert_eq!(enter.name, "with_fields");
                assert_eq!(
                    enter.args,
                    [
                        ("n".to_owned(), Value::U64(n)),
                        ("half".to_owned(), Value::U64(n / 2))
                    ]
                );
            }
            1 => assert_eq!((enter.name.as_str(), enter.args.len()), ("bare", 0)),
            _ => {
                assert_eq!(enter.name, "wide");
                assert_eq!(enter.arg("n"), Some(&Value::U64(n)));
                assert_eq!(enter.arg("d"), Some(&Value::U64(4)));
                assert_eq!(enter.args.len(), 5);
            }
        }
    }
}

#[test]
fn layer__record_on_another_thread_while_entered_here__then_later_enters_carry_the_new_value() {
    let traced = Traced::new();
    let thread = this_thread();
    traced.run(|| {
        let span = info_span!("shared", stage = 1_u64);
        {
            let _entered = span.enter();
            std::thread::scope(|s| {
                s.spawn(|| {
                    tracing::dispatcher::with_default(&traced.dispatch, || {
                        span.record("stage", 2_u64);
                    });
                });
            });
        }
        let _again = span.enter();
    });
    let (_, _, capture) = traced.finish();
    let track = capture.thread(&thread);
    let stages: Vec<_> = track
        .records
        .iter()
        .filter(|rec| rec.kind == Enter)
        .map(|rec| rec.arg("stage").cloned())
        .collect();
    assert_eq!(stages, [Some(Value::U64(1)), Some(Value::U64(2))]);
}

#[test]
fn layer__two_ada_layers_on_one_registry__then_each_records_wide_spans_whole() {
    use tracing_subscriber::layer::SubscriberExt;
    // Four fields: more than the layers' tables keep, so both keep them in the same
    // registry extensions.
    let first = Tracer::builder().build().unwrap();
    let second = Tracer::builder().build().unwrap();
    let subscriber = tracing_subscriber::registry()
        .with(ada_tracing::AdaLayer::for_tracer(&first))
        .with(ada_tracing::AdaLayer::for_tracer(&second));
    tracing::subscriber::with_default(subscriber, || {
        let span = info_span!("wide", a = 1_u64, b = 2_u64, c = 3_u64, d = 4_u64);
        let _entered = span.enter();
    });
    for tracer in [first, second] {
        let report = tracer.shutdown().unwrap();
        assert!(report.totals.is_conserved());
        // The enter, its four arguments, the leave.
        assert_eq!(report.totals.events_delivered, 6);
    }
}
