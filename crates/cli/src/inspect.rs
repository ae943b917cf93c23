//! Reading capture files: `ada inspect`, `ada dump` (`ada export` is `export.rs`).

use crate::error::Failure;
use ada::capture::{Block, BlockKind, CaptureReader, LaneId, Record};
use ada::ring_buffer::RingFlags;
use ada::{Detail, Event};
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;
use std::io::{BufWriter, Write};
use std::path::Path;

/// Reads every block of `path`, calling `f` for each.
fn for_each_block(
    path: &Path,
    mut f: impl FnMut(&Block) -> Result<(), Failure>,
) -> Result<ada::capture::FileHeader, Failure> {
    let invalid = |source| Failure::Capture {
        path: path.to_owned(),
        source,
    };
    let mut reader = CaptureReader::open(path).map_err(invalid)?;
    while let Some(block) = reader.next_block().map_err(invalid)? {
        f(&block)?;
    }
    Ok(reader.header().clone())
}

/// The records of a block as `T`, or a usage error naming the file.
fn records<T: Record>(path: &Path, block: &Block) -> Result<Vec<T>, Failure> {
    block.records::<T>().map_err(|source| Failure::Capture {
        path: path.to_owned(),
        source,
    })
}

/// One registration's lane, as `inspect` sums it up.
#[derive(Debug, Default, Serialize)]
struct LaneSummary {
    thread_name: String,
    slot: u32,
    generation: u32,
    lane: &'static str,
    rings: u64,
    collections: u64,
    records: u64,
    events_lost: u64,
    rings_missing: u64,
    marked_windows: u64,
    first_ns: Option<u64>,
    last_ns: Option<u64>,
    #[serde(skip)]
    last_sequence: Option<u64>,
}

impl LaneSummary {
    fn add_time(&mut self, timestamp: u64) {
        self.first_ns = Some(self.first_ns.map_or(timestamp, |t| t.min(timestamp)));
        self.last_ns = Some(self.last_ns.map_or(timestamp, |t| t.max(timestamp)));
    }
}

/// `ada inspect`: per thread and lane, rings, records, losses, marked windows, span.
pub(crate) fn inspect(path: &Path, as_json: bool) -> Result<(), Failure> {
    let mut lanes: BTreeMap<(u32, u32, LaneId), LaneSummary> = BTreeMap::new();
    let header = for_each_block(path, |block| {
        let lane = lanes
            .entry((block.slot, block.generation, block.lane))
            .or_insert_with(|| LaneSummary {
                thread_name: block.thread_name.clone(),
                slot: block.slot,
                generation: block.generation,
                lane: lane_name(block.lane),
                ..LaneSummary::default()
            });
        lane.records += u64::from(block.record_count);
        match block.kind {
            BlockKind::Collected => lane.collections += 1,
            BlockKind::Ring => {
                lane.rings += 1;
                lane.events_lost += block.lost_events;
                if let Some(previous) = lane.last_sequence {
                    lane.rings_missing += block.sequence.saturating_sub(previous + 1);
                }
                lane.last_sequence = Some(block.sequence);
                lane.marked_windows += u64::from(block.flags.contains(RingFlags::MARKED));
            }
        }
        let timestamps: Vec<u64> = match (block.lane, block.bytes().is_empty()) {
            (_, true) => Vec::new(),
            (LaneId::Index, false) if block.holds::<Event>() => records::<Event>(path, block)?
                .iter()
                .map(|e| e.timestamp_ns)
                .collect(),
            (LaneId::Detail, false) if block.holds::<Detail>() => records::<Detail>(path, block)?
                .iter()
                .map(|d| d.timestamp_ns)
                .collect(),
            _ => Vec::new(),
        };
        for timestamp in timestamps {
            lane.add_time(timestamp);
        }
        Ok(())
    })?;
    let lanes: Vec<LaneSummary> = lanes.into_values().collect();
    if as_json {
        let value = json!({
            "file": path.display().to_string(),
            "index_layout": header.index_layout,
            "detail_layout": header.detail_layout,
            "lanes": lanes,
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&value).unwrap_or_default()
        );
        return Ok(());
    }
    println!(
        "{}: index records {} ({} B), detail records {} ({} B)",
        path.display(),
        header.index_layout,
        header.index_record_size,
        header.detail_layout,
        header.detail_record_size
    );
    println!(
        "{:<14} {:>5} {:>4} {:<6} {:>8} {:>6} {:>11} {:>10} {:>7} {:>7} {:>12}",
        "thread",
        "slot",
        "gen",
        "lane",
        "rings",
        "coll",
        "records",
        "lost",
        "missing",
        "marked",
        "span ms"
    );
    for lane in &lanes {
        let span = match (lane.first_ns, lane.last_ns) {
            (Some(first), Some(last)) => format!("{:.3}", (last - first) as f64 / 1e6),
            _ => "-".to_owned(),
        };
        println!(
            "{:<14} {:>5} {:>4} {:<6} {:>8} {:>6} {:>11} {:>10} {:>7} {:>7} {:>12}",
            if lane.thread_name.is_empty() {
                "-"
            } else {
                &lane.thread_name
            },
            lane.slot,
            lane.generation,
            lane.lane,
            lane.rings,
            lane.collections,
            lane.records,
            lane.events_lost,
            lane.rings_missing,
            lane.marked_windows,
            span
        );
    }
    Ok(())
}

fn lane_name(lane: LaneId) -> &'static str {
    match lane {
        LaneId::Index => "index",
        LaneId::Detail => "detail",
    }
}

/// `ada dump`: every record as one JSON line, with its block's origin.
pub(crate) fn dump(path: &Path) -> Result<(), Failure> {
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    for_each_block(path, |block| {
        let origin = json!({
            "thread": block.thread_name,
            "slot": block.slot,
            "generation": block.generation,
            "lane": lane_name(block.lane),
            "sequence": block.sequence,
            "collected": block.kind == BlockKind::Collected,
        });
        let lines: Vec<serde_json::Value> = if block.holds::<Event>() {
            records::<Event>(path, block)?
                .iter()
                .map(|record| json!({"origin": origin, "event": record}))
                .collect()
        } else if block.holds::<Detail>() {
            records::<Detail>(path, block)?
                .iter()
                .map(|record| json!({"origin": origin, "detail": record}))
                .collect()
        } else {
            vec![json!({"origin": origin, "bytes": hex(block.bytes())})]
        };
        for line in lines {
            writeln!(out, "{line}").map_err(Failure::stdout)?;
        }
        Ok(())
    })?;
    out.flush().map_err(Failure::stdout)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
