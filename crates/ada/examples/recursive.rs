//! A recursive function on several threads, each call a span (`ada::span!`) with its
//! argument, into a capture file through the global tracer.
//!
//! ```text
//! cargo run --release --example recursive [PATH]
//! ada inspect PATH     # or: ada dump PATH, ada export --chrome PATH
//! ```

use ada::{FileSink, Tracer};

/// Counts the partitions of `n` into parts of at most `max` (a call tree that is deep
/// and wide): every call is a span.
fn partitions(n: u64, max: u64) -> u64 {
    let _span = ada::span!("partitions", n = n, max = max);
    if n == 0 {
        return 1; // an early return leaves the span too
    }
    (1..=max.min(n))
        .map(|part| partitions(n - part, part))
        .sum()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).map_or_else(
        || std::env::temp_dir().join("ada-recursive.ada"),
        std::path::PathBuf::from,
    );
    // Hold the guard in `main`: dropping or finishing it delivers every thread's records.
    let guard = ada::install(Tracer::builder().sink(FileSink::create(&path)?))?;
    let results: Vec<u64> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..4_u64)
            .map(|worker| {
                std::thread::Builder::new()
                    .name(format!("worker-{worker}"))
                    .spawn_scoped(s, move || {
                        let _span = ada::span!(category: "example", "worker", id = worker);
                        partitions(12 + worker, 12 + worker)
                    })
            })
            .collect::<Result<_, _>>()?;
        Ok::<_, std::io::Error>(workers.into_iter().map(|w| w.join().unwrap()).collect())
    })?;
    let report = guard.finish()?;
    println!("partitions: {results:?}");
    println!(
        "{} events written, {} delivered, {} dropped",
        report.totals.events_written,
        report.totals.events_delivered,
        report.totals.dropped.total()
    );
    println!("capture: {}", path.display());
    Ok(())
}
