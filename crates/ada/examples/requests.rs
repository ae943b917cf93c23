//! A request-handling loop: nested spans per request (parse, lookup, respond), an
//! instant on each cache miss, a counter for the queue, arguments everywhere; into a
//! capture file through the global tracer.
//!
//! ```text
//! cargo run --release --example requests [PATH]
//! ada inspect PATH     # or: ada dump PATH, ada export --perfetto PATH
//! ```

use ada::{FileSink, LaneConfig, Tracer};
use std::collections::HashMap;

struct Request {
    id: u64,
    path: &'static str,
    body: Vec<u8>,
}

fn parse(request: &Request) -> Result<u64, String> {
    let _span = ada::span!(category: "http", "parse", bytes = request.body.len());
    if request.body.is_empty() {
        return Err(format!("request {}: empty body", request.id)); // the span closes
    }
    Ok(request.body.iter().map(|&b| u64::from(b)).sum())
}

fn lookup(cache: &mut HashMap<u64, u64>, key: u64) -> u64 {
    let _span = ada::span!(category: "cache", "lookup", key = key);
    if let Some(&value) = cache.get(&key) {
        return value;
    }
    ada::instant!(category: "cache", "cache_miss", key = key);
    let value = (1..=key % 1000).product::<u64>() % 1_000_003;
    cache.insert(key, value);
    value
}

fn handle(cache: &mut HashMap<u64, u64>, request: &Request) -> Result<u64, String> {
    let _span = ada::span!(category: "http", "request", id = request.id, path = request.path);
    let key = parse(request)?;
    let value = lookup(cache, key % 64);
    let _respond = ada::span!(category: "http", "respond", status = 200_u32);
    Ok(value)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).map_or_else(
        || std::env::temp_dir().join("ada-requests.ada"),
        std::path::PathBuf::from,
    );
    ada::flush_on_panic();
    // A burst of 2000 requests back to back (about 28 000 events in a few ms): rings
    // enough for all of it, so that none is lost while the drain wakes up.
    let guard = ada::install(
        Tracer::builder()
            .index_lane(LaneConfig {
                rings: 32,
                ring_records: 4096,
                ..LaneConfig::index_lane()
            })
            .sink(FileSink::create(&path)?),
    )?;
    let paths = ["/", "/users", "/orders", "/health"];
    let mut queue: Vec<Request> = (0..2_000_u64)
        .map(|id| Request {
            id,
            path: paths[(id % 4) as usize],
            // Every 50th request is malformed.
            body: if id % 50 == 7 {
                Vec::new()
            } else {
                id.to_le_bytes().to_vec()
            },
        })
        .collect();
    let mut cache = HashMap::new();
    let (mut served, mut failed) = (0_u64, 0_u64);
    while let Some(request) = queue.pop() {
        ada::counter!("queue_len", queue.len());
        match handle(&mut cache, &request) {
            Ok(_) => served += 1,
            Err(error) => {
                failed += 1;
                ada::instant!(category: "http", "bad_request", id = request.id, error = error.as_str());
            }
        }
    }
    let report = guard.finish()?;
    println!("{served} served, {failed} refused");
    println!(
        "{} events written, {} delivered, {} dropped",
        report.totals.events_written,
        report.totals.events_delivered,
        report.totals.dropped.total()
    );
    println!("capture: {}", path.display());
    Ok(())
}
