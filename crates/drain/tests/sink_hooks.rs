//! The sink's two hooks around deliveries: `start`, called by `Drain::start` with the
//! lanes' shapes before any delivery (a refusal or a panic fails the start with a typed
//! error), and `finish`, called once at shutdown after `flush` with the final report (its
//! failure or panic is in the report).
#![allow(non_snake_case)]

use ada_drain::{
    Delivery, Drain, DrainConfig, DrainError, DrainReport, DrainState, LaneLayout, NullSink, Sink,
    SinkError,
};
use ada_ring_pool::LaneConfig;
use ada_thread_registry::{Registry, RegistryConfig};
use std::sync::{Arc, Mutex};

/// What a sink was called with, in order.
#[derive(Debug, Clone, PartialEq)]
enum Call {
    Start(LaneLayout),
    Index(usize),
    Detail(usize),
    Flush,
    Finish(Box<DrainReport>),
}

/// How the recording sink misbehaves in its hooks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hooks {
    Accept,
    Refuse,
    Panic,
}

struct Recording {
    calls: Arc<Mutex<Vec<Call>>>,
    start: Hooks,
    finish: Hooks,
}

impl Recording {
    fn new(start: Hooks, finish: Hooks) -> (Self, Arc<Mutex<Vec<Call>>>) {
        let calls = Arc::default();
        let sink = Self {
            calls: Arc::clone(&calls),
            start,
            finish,
        };
        (sink, calls)
    }

    fn push(&self, call: Call) {
        self.calls.lock().unwrap().push(call);
    }
}

fn behave(hooks: Hooks, what: &str) -> Result<(), SinkError> {
    match hooks {
        Hooks::Accept => Ok(()),
        Hooks::Refuse => Err(SinkError(format!("{what} refused"))),
        Hooks::Panic => panic!("{what} panicked"),
    }
}

impl Sink<u64, u32> for Recording {
    fn start(&mut self, lanes: &LaneLayout) -> Result<(), SinkError> {
        self.push(Call::Start(*lanes));
        behave(self.start, "start")
    }

    fn index(&mut self, delivery: &Delivery<'_, u64>) -> Result<(), SinkError> {
        self.push(Call::Index(delivery.records.len()));
        Ok(())
    }

    fn detail(&mut self, delivery: &Delivery<'_, u32>) -> Result<(), SinkError> {
        self.push(Call::Detail(delivery.records.len()));
        Ok(())
    }

    fn flush(&mut self) -> Result<(), SinkError> {
        self.push(Call::Flush);
        Ok(())
    }

    fn finish(&mut self, report: &DrainReport) -> Result<(), SinkError> {
        self.push(Call::Finish(Box::new(report.clone())));
        behave(self.finish, "finish")
    }
}

fn registry() -> Arc<Registry<u64, u32>> {
    Registry::new(RegistryConfig {
        capacity: 2,
        index: LaneConfig {
            ring_records: 64,
            ..LaneConfig::index_lane()
        },
        detail: LaneConfig::detail_lane(),
    })
    .unwrap()
}

#[test]
fn drain_start__sink_start__then_called_first_with_every_lanes_shape() {
    let registry = registry();
    let (sink, calls) = Recording::new(Hooks::Accept, Hooks::Accept);
    let mut drain = Drain::new(Arc::clone(&registry), sink, DrainConfig::default()).unwrap();
    assert!(calls.lock().unwrap().is_empty(), "not before start");
    drain.start().unwrap();
    let mut handle = registry.register().unwrap();
    (0..200).for_each(|n| handle.index(n));
    drop(handle);
    let report = drain.stop().unwrap();
    let calls = calls.lock().unwrap().clone();
    let Call::Start(layout) = &calls[0] else {
        panic!("{calls:?}");
    };
    assert_eq!(layout.index.config, registry.config().index);
    assert_eq!(layout.detail.config, registry.config().detail);
    assert_eq!(
        (layout.index.record_size, layout.detail.record_size),
        (8, 4)
    );
    assert_eq!(layout.index.ring_bytes(), 64 * 8);
    assert_eq!(
        calls.iter().filter(|c| matches!(c, Call::Start(_))).count(),
        1
    );
    // Then deliveries, then the flush, then the finish with the very report returned.
    let n = calls.len();
    assert_eq!(calls[n - 2], Call::Flush);
    assert_eq!(calls[n - 1], Call::Finish(Box::new(report.clone())));
    let delivered: usize = calls
        .iter()
        .map(|call| match call {
            Call::Index(records) | Call::Detail(records) => *records,
            _ => 0,
        })
        .sum();
    assert_eq!(delivered as u64, report.totals.events_delivered);
    assert!(report.sink_finish_error.is_none());
}

#[test]
fn drain_start__sink_refuses_or_panics__then_sink_start_error_and_never_running() {
    for (hooks, text) in [
        (Hooks::Refuse, "start refused"),
        (Hooks::Panic, "the sink panicked in start: start panicked"),
    ] {
        let registry = registry();
        let (sink, calls) = Recording::new(hooks, Hooks::Accept);
        let mut drain = Drain::new(Arc::clone(&registry), sink, DrainConfig::default()).unwrap();
        let error = drain.start().unwrap_err();
        assert_eq!(error, DrainError::SinkStart(SinkError(text.to_owned())));
        assert_eq!(
            error.to_string(),
            format!("the sink refused to start: {text}")
        );
        assert_eq!(drain.state(), DrainState::Initialized);
        assert_eq!(drain.stop().unwrap_err(), DrainError::NotStarted);
        // The registry was never claimed: another drain may start on it.
        let mut other = Drain::new(registry, NullSink::default(), DrainConfig::default()).unwrap();
        other.start().unwrap();
        other.stop().unwrap();
        drop(drain);
        let calls = calls.lock().unwrap();
        assert!(
            calls.iter().all(|c| matches!(c, Call::Start(_))),
            "only start: {calls:?}"
        );
    }
}

#[test]
fn drain_stop__sink_finish_fails_or_panics__then_in_the_report_and_records_delivered() {
    for (hooks, text) in [
        (Hooks::Refuse, "finish refused"),
        (Hooks::Panic, "the sink panicked in finish: finish panicked"),
    ] {
        let registry = registry();
        let (sink, _) = Recording::new(Hooks::Accept, hooks);
        let mut drain = Drain::new(Arc::clone(&registry), sink, DrainConfig::default()).unwrap();
        drain.start().unwrap();
        let mut handle = registry.register().unwrap();
        (0..10).for_each(|n| handle.index(n));
        drop(handle);
        let report = drain.stop().unwrap();
        assert_eq!(report.sink_finish_error.as_deref(), Some(text));
        assert_eq!(report.totals.events_delivered, 10);
        assert!(report.totals.is_conserved());
    }
}

#[test]
fn boxed_sink__start_and_finish__then_forwarded_to_the_sink_inside() {
    let (sink, calls) = Recording::new(Hooks::Refuse, Hooks::Accept);
    let mut boxed: Box<dyn Sink<u64, u32>> = Box::new(sink);
    let registry = registry();
    let layout = LaneLayout {
        index: ada_drain::LaneShape {
            config: registry.config().index,
            record_size: 8,
        },
        detail: ada_drain::LaneShape {
            config: registry.config().detail,
            record_size: 4,
        },
    };
    assert_eq!(
        boxed.start(&layout),
        Err(SinkError("start refused".to_owned()))
    );
    boxed.finish(&DrainReport::default()).unwrap();
    assert_eq!(
        *calls.lock().unwrap(),
        [Call::Start(layout), Call::Finish(Box::default())]
    );
    // The built-in sinks accept any layout and report.
    let mut null = NullSink::default();
    assert_eq!(Sink::<u64, u32>::start(&mut null, &layout), Ok(()));
    assert_eq!(
        Sink::<u64, u32>::finish(&mut null, &DrainReport::default()),
        Ok(())
    );
}
