//! A flight recorder: every step writes a detail record, but the detail lane keeps only
//! the windows around marked moments (here, slow steps); unmarked windows are recycled
//! and counted as discarded. The index lane (spans) keeps everything.
//!
//! ```text
//! cargo run --release --example flight_recorder [PATH]
//! ada inspect PATH
//! ```

use ada::{Detail, FileSink, LaneConfig, LaneMode, Tracer};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).map_or_else(
        || std::env::temp_dir().join("ada-flight-recorder.ada"),
        std::path::PathBuf::from,
    );
    let tracer = Tracer::builder()
        // The spans of a 20 000-step burst (60 000 events) fit: none is lost.
        .index_lane(LaneConfig {
            rings: 32,
            ring_records: 4096,
            ..LaneConfig::index_lane()
        })
        .detail_lane(LaneConfig {
            rings: 4,
            ring_records: 64,
            mode: LaneMode::FlightRecorder { max_mark_depth: 2 },
            ..LaneConfig::detail_lane()
        })
        .sink(FileSink::create(&path)?)
        .build()?;
    let mut slow = 0;
    for step in 0..20_000_u64 {
        let _span = ada::span!(tracer: &tracer, "step", n = step);
        // The detail lane records what a post-mortem wants: here, the step's state.
        let latency = if step % 4_999 == 4_998 { 900 } else { step % 7 };
        tracer.detail(Detail::now(step, [step, latency, 0, 0, 0, 0]))?;
        if latency > 100 {
            // A slow step: keep the window around it (the records before it in the
            // current ring, and what follows until the window is handed over).
            slow += 1;
            ada::instant!(tracer: &tracer, "slow_step", n = step, latency = latency);
            tracer.mark()?;
        }
    }
    let report = tracer.shutdown()?;
    let detail: (u64, u64) = report.threads.iter().fold((0, 0), |(written, kept), t| {
        (
            written + t.detail.events_written,
            kept + t.detail.events_delivered,
        )
    });
    println!(
        "{slow} slow steps; detail records: {} written, {} kept around the marks, {} windows discarded",
        detail.0,
        detail.1,
        report
            .threads
            .iter()
            .map(|t| t.detail.windows_discarded)
            .sum::<u64>()
    );
    println!("capture: {}", path.display());
    Ok(())
}
