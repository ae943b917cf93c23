//! What a configuration's lanes cost per thread, and what a run's losses mean: shared by
//! `ada stress`, `ada record` and the main job, so every report states them the same way.

use crate::out::outln;
use ada::drain::LossExplanation;
use ada::registry::RegistryConfig;
use ada::ring_pool::Lane;
use ada::{Detail, Event, LaneConfig};
use serde::Serialize;

/// One lane's memory: its shape and the bytes it allocates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(crate) struct LaneMemory {
    /// Rings in the lane's pool.
    pub(crate) rings: usize,
    /// Records per ring.
    pub(crate) ring_records: usize,
    /// Bytes per record.
    pub(crate) record_bytes: usize,
    /// `rings × ring_records × record_bytes`: the records themselves.
    pub(crate) records_bytes: u64,
    /// Everything the lane allocates: the records, each ring's header, the submit and
    /// free queues' slots, the lane's own bookkeeping (`Lane::memory_bytes_for`).
    pub(crate) total_bytes: u64,
}

impl LaneMemory {
    fn of<T: Copy>(config: &LaneConfig) -> Self {
        let record_bytes = size_of::<T>();
        Self {
            rings: config.rings,
            ring_records: config.ring_records,
            record_bytes,
            records_bytes: (config.rings * config.ring_records * record_bytes) as u64,
            total_bytes: Lane::<T>::memory_bytes_for(config) as u64,
        }
    }
}

/// A registered thread's memory: both lanes, allocated when its slot is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(crate) struct MemoryPerThread {
    /// The index lane ([`Event`]s).
    pub(crate) index: LaneMemory,
    /// The detail lane ([`Detail`]s).
    pub(crate) detail: LaneMemory,
    /// Both lanes' `total_bytes`.
    pub(crate) total_bytes: u64,
}

impl MemoryPerThread {
    /// The memory of one thread of a registry of `config` with ada's standard records.
    pub(crate) fn of(config: &RegistryConfig) -> Self {
        let index = LaneMemory::of::<Event>(&config.index);
        let detail = LaneMemory::of::<Detail>(&config.detail);
        Self {
            index,
            detail,
            total_bytes: index.total_bytes + detail.total_bytes,
        }
    }

    /// One line of a text report: the total, each lane's records, and the rest.
    pub(crate) fn line(&self) -> String {
        let lane = |lane: &LaneMemory| {
            format!(
                "{} × {} × {} B",
                lane.rings, lane.ring_records, lane.record_bytes
            )
        };
        let overhead = self.total_bytes - self.index.records_bytes - self.detail.records_bytes;
        format!(
            "{} bytes per thread: index {}, detail {}, + {} B of ring headers, queues, bookkeeping",
            self.total_bytes,
            lane(&self.index),
            lane(&self.detail),
            overhead
        )
    }
}

/// Most loss explanations a text report prints (`--json` has every one).
const MAX_EXPLAINED: usize = 8;

/// A loss explanation in `--json`: the report's own [`LossExplanation`] and its advice
/// as text, with the run it comes from where a command runs several.
#[derive(Debug, Serialize)]
pub(crate) struct Explained<'a> {
    /// The run (from 1), for the main job's traced runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) run: Option<usize>,
    #[serde(flatten)]
    pub(crate) explanation: &'a LossExplanation,
    /// The explanation's one paragraph of advice (its `Display`).
    pub(crate) text: String,
}

impl<'a> Explained<'a> {
    /// Every explanation of `explanations`, for run `run`.
    pub(crate) fn all(run: Option<usize>, explanations: &'a [LossExplanation]) -> Vec<Self> {
        explanations
            .iter()
            .map(|explanation| Self {
                run,
                explanation,
                text: explanation.to_string(),
            })
            .collect()
    }
}

/// The text report's loss lines: nothing when nothing was lost, else each lane's
/// explanation (the first [`MAX_EXPLAINED`], then how many more `--json` lists).
pub(crate) fn print_explanations(explained: &[Explained<'_>]) {
    if explained.is_empty() {
        return;
    }
    outln!("  losses explained:");
    for one in explained.iter().take(MAX_EXPLAINED) {
        match one.run {
            Some(run) => outln!("    run {run}: {}", one.text),
            None => outln!("    {}", one.text),
        }
    }
    if explained.len() > MAX_EXPLAINED {
        outln!(
            "    ... and {} more lanes (`--json` lists every one under `loss_explanations`)",
            explained.len() - MAX_EXPLAINED
        );
    }
}

#[cfg(test)]
mod tests {
    #![allow(non_snake_case)]
    use super::*;

    #[test]
    fn memory_per_thread__default_registry__then_records_plus_bookkeeping() {
        let config = RegistryConfig::default();
        let memory = MemoryPerThread::of(&config);
        let records =
            |lane: &LaneConfig, bytes: usize| (lane.rings * lane.ring_records * bytes) as u64;
        assert_eq!(memory.index.records_bytes, records(&config.index, 32));
        assert_eq!(memory.detail.records_bytes, records(&config.detail, 64));
        assert_eq!(
            memory.total_bytes,
            (Lane::<Event>::memory_bytes_for(&config.index)
                + Lane::<Detail>::memory_bytes_for(&config.detail)) as u64
        );
        let bookkeeping =
            memory.total_bytes - memory.index.records_bytes - memory.detail.records_bytes;
        assert!(bookkeeping > 0 && bookkeeping < 16 * 1024, "{bookkeeping}");
        let line = memory.line();
        assert!(
            line.starts_with(&format!("{} bytes per thread", memory.total_bytes)),
            "{line}"
        );
        assert!(
            line.contains(&format!(
                "index {} × {} × 32 B",
                config.index.rings, config.index.ring_records
            )),
            "{line}"
        );
    }
}
