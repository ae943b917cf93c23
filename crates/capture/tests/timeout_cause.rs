//! The `timeout` loss cause (code 5) in a capture: a blocking lane whose producer gave
//! up waiting for a ring drops events under `timeout`; the file's blocks announce them
//! by that cause, and the trailer reconciles them with the drain's report.
#![allow(non_snake_case)]

use ada_capture::{CaptureReader, FileSink, LossCause};
use ada_drain::{Delivery, DrainReport, LaneLayout, Sink, SinkError};
use ada_drain::{Drain, DrainConfig};
use ada_ring_pool::{ExhaustionPolicy, LaneConfig, LaneMode};
use ada_thread_registry::{Registry, RegistryConfig};
use std::sync::Arc;
use std::time::Duration;

/// A file sink whose first index delivery stalls for `stall`.
struct Stalling {
    inner: FileSink<u64, u32>,
    stall: Option<Duration>,
}

impl Sink<u64, u32> for Stalling {
    fn start(&mut self, lanes: &LaneLayout) -> Result<(), SinkError> {
        self.inner.start(lanes)
    }

    fn index(&mut self, delivery: &Delivery<'_, u64>) -> Result<(), SinkError> {
        if let Some(stall) = self.stall.take() {
            std::thread::sleep(stall);
        }
        self.inner.index(delivery)
    }

    fn detail(&mut self, delivery: &Delivery<'_, u32>) -> Result<(), SinkError> {
        self.inner.detail(delivery)
    }

    fn flush(&mut self) -> Result<(), SinkError> {
        self.inner.flush()
    }

    fn finish(&mut self, report: &DrainReport) -> Result<(), SinkError> {
        self.inner.finish(report)
    }
}

#[test]
fn file_sink__blocking_lane_gave_up_waiting__then_timeout_cause_announced_and_reconciled() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("block.ada");
    let registry = Registry::<u64, u32>::new(RegistryConfig {
        capacity: 1,
        index: LaneConfig {
            rings: 2,
            ring_records: 8,
            policy: ExhaustionPolicy::Block {
                timeout: Some(Duration::from_millis(2)),
            },
            mode: LaneMode::SubmitAll,
        },
        detail: LaneConfig::detail_lane(),
    })
    .unwrap();
    let sink = Stalling {
        inner: FileSink::create(&path).unwrap(),
        stall: Some(Duration::from_millis(100)),
    };
    let mut drain = Drain::new(Arc::clone(&registry), sink, DrainConfig::default()).unwrap();
    drain.start().unwrap();
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut handle = registry.register().unwrap();
            // Two rings fill; the next write waits 2 ms for the stalled drain and gives
            // up: it and the writes after it are dropped (`timeout`).
            for n in 0..500 {
                handle.index(n);
            }
            std::thread::sleep(Duration::from_millis(200));
            // The drain caught up: these are written, and announce the drops.
            for n in 500..540 {
                handle.index(n);
            }
        });
    });
    let report = drain.stop().unwrap();
    let totals = report.totals;
    assert!(totals.is_conserved(), "{totals:?}");
    assert!(totals.dropped.timeout > 0, "{totals:?}");
    assert_eq!(totals.dropped.total(), totals.dropped.timeout);

    let mut reader = CaptureReader::open(&path).unwrap();
    let mut announced = 0;
    let mut records = 0;
    while let Some(block) = reader.next_block().unwrap() {
        let losses = block.losses.as_ref().expect("loss causes");
        assert_eq!(losses.lost(), block.lost_events, "every loss has its cause");
        announced += losses.get(LossCause::Timeout);
        records += u64::from(block.record_count);
    }
    assert_eq!(records, totals.events_delivered);
    assert_eq!(
        announced, totals.dropped.timeout,
        "each drop announced once, before the records after it"
    );
    let reconciliation = reader.reconcile().expect("a trailer");
    assert!(reconciliation.reconciles(), "{reconciliation:#?}");
    let trailer = reader.trailer().unwrap();
    assert_eq!(
        trailer.totals.dropped.get(LossCause::Timeout),
        totals.dropped.timeout
    );
    assert_eq!(LossCause::Timeout.code(), 5);
    assert_eq!(LossCause::Timeout.to_string(), "timeout");
}
