//! A small program instrumented only with `tracing` (`#[instrument]`, `info_span!`,
//! `info!`, `warn!`) on three named worker threads, recorded by `ada-tracing` into a
//! capture file.
//!
//! ```text
//! cargo run --release -p ada-tracing --example basic [PATH]
//! ada inspect PATH     # or: ada dump PATH, ada export --perfetto PATH -o run.pftrace
//! ```

use tracing::{info, info_span, instrument, warn};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// The lines of one batch: numbers, and every 25th line malformed.
fn generate(batch: u64) -> Vec<String> {
    (0..100_u64)
        .map(|n| {
            if (batch + n).is_multiple_of(25) {
                format!("x{n}")
            } else {
                (batch * 1_000 + n).to_string()
            }
        })
        .collect()
}

#[instrument(skip(lines), fields(lines = lines.len()))]
fn parse(batch: u64, lines: &[String]) -> Vec<u64> {
    let mut numbers = Vec::with_capacity(lines.len());
    for line in lines {
        match line.parse() {
            Ok(number) => numbers.push(number),
            Err(_) => warn!(line = line.as_str(), "malformed line"),
        }
    }
    numbers
}

#[instrument(skip(numbers), fields(count = numbers.len()))]
fn checksum(numbers: &mut [u64]) -> u64 {
    numbers.sort_unstable();
    numbers.iter().fold(0xcbf2_9ce4_8422_2325, |hash: u64, &n| {
        (hash ^ n).wrapping_mul(0x100_0000_01b3)
    })
}

fn work(worker: u64) -> u64 {
    let mut total = 0_u64;
    for batch in 0..20 {
        let _batch = info_span!(target: "basic::batch", "batch", worker, batch).entered();
        let lines = generate(batch);
        let mut numbers = parse(batch, &lines);
        let sum = checksum(&mut numbers);
        info!(sum, parsed = numbers.len(), "batch done");
        total = total.wrapping_add(sum);
    }
    total
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).map_or_else(
        || std::env::temp_dir().join("ada-tracing-basic.ada"),
        std::path::PathBuf::from,
    );
    let (layer, guard) =
        ada_tracing::layer(ada::Tracer::builder().sink(ada::FileSink::create(&path)?))?;
    tracing_subscriber::registry().with(layer).init();

    info!(workers = 3_u64, "starting");
    let totals: Vec<u64> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..3)
            .map(|worker| {
                std::thread::Builder::new()
                    .name(format!("worker-{worker}"))
                    .spawn_scoped(s, move || work(worker))
            })
            .collect::<Result<_, _>>()?;
        workers
            .into_iter()
            .map(|worker| worker.join().map_err(|_| "a worker panicked".into()))
            .collect::<Result<Vec<_>, Box<dyn std::error::Error>>>()
    })?;
    info!(
        checksum = totals.iter().fold(0, |a: u64, &b| a ^ b),
        "finished"
    );

    let (report, stats) = guard.finish_with_stats()?;
    let totals = report.totals;
    println!("capture: {}", path.display());
    println!(
        "events written {}, delivered {}, dropped {}, conserved {}",
        totals.events_written,
        totals.events_delivered,
        totals.dropped.total(),
        totals.is_conserved()
    );
    println!("layer: {stats}");
    println!(
        "next: ada inspect {0} | ada dump {0} | ada export --perfetto {0} -o run.pftrace",
        path.display()
    );
    if !totals.is_conserved() {
        return Err("events unaccounted for".into());
    }
    Ok(())
}
