//! One slot: a thread's index and detail lanes, who holds them, and the slot's state
//! word (`generation << 2 | state`), whose layout only this module knows.

use crate::sync::{AtomicU32, Ordering, Statistic, UnsafeCell};
use ada_ring_pool::Lane;
use crossbeam_utils::CachePadded;

/// Who holds a slot: for sinks and metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotIdentity {
    /// The slot's index in the registry.
    pub slot: usize,
    /// Registrations of this slot so far, this one included.
    pub generation: u32,
    /// The registering thread's id.
    pub thread_id: std::thread::ThreadId,
    /// The registering thread's name, if it has one.
    pub thread_name: Option<String>,
    /// When the thread registered.
    pub registered_at: std::time::SystemTime,
}

/// One thread's slot: its state word, its lanes and who holds it.
pub(crate) struct Slot<I, D> {
    /// Written by the registering thread (→ `Active`), the owning thread (→ `Retiring`)
    /// and the drain (→ `Free`).
    pub(crate) state: CachePadded<AtomicSlotWord>,
    pub(crate) index: Lane<I>,
    pub(crate) detail: Lane<D>,
    /// Written by the registering thread before it publishes `Active`; read by the
    /// drain after it sees `Active` or `Retiring`; taken by the drain at release.
    pub(crate) identity: UnsafeCell<Option<SlotIdentity>>,
    /// Events written on the index and detail lanes as the drain's last final report
    /// counted them ([`NOT_REPORTED`]: no final report yet), so the thread's handle can
    /// tell what it wrote after that report. Written by the drain, read by the handle.
    pub(crate) reported: [Statistic; 2],
}

/// A slot's `reported` value before any final report counted it.
pub(crate) const NOT_REPORTED: u64 = u64::MAX;

/// Where a slot is in its life: `Free → Active → Retiring → Free`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SlotState {
    /// No thread holds the slot (its bit may be claimed by a registrant already).
    Free = 0,
    /// A registered thread writes into its lanes.
    Active = 1,
    /// The thread has exited (its lanes are closed); the drain has not freed it yet.
    Retiring = 2,
}

/// Bits of the word that hold the [`SlotState`]; the generation is above them.
const STATE_BITS: u32 = 2;
const STATE_MASK: u32 = (1 << STATE_BITS) - 1;

/// One value of a slot's state word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SlotWord(u32);

impl SlotWord {
    /// A slot never registered: free, generation 0.
    pub(crate) const NEVER_USED: Self = Self(SlotState::Free as u32);

    pub(crate) fn new(generation: u32, state: SlotState) -> Self {
        Self(generation << STATE_BITS | state as u32)
    }

    /// Registrations of the slot so far.
    pub(crate) fn generation(self) -> u32 {
        self.0 >> STATE_BITS
    }

    pub(crate) fn state(self) -> SlotState {
        match self.0 & STATE_MASK {
            0 => SlotState::Free,
            1 => SlotState::Active,
            2 => SlotState::Retiring,
            _ => unreachable!("no slot state is written as 3"),
        }
    }
}

/// A slot's state word as an atomic; orderings are the caller's (`docs/protocol.md`).
pub(crate) struct AtomicSlotWord(AtomicU32);

impl AtomicSlotWord {
    pub(crate) fn new(word: SlotWord) -> Self {
        Self(AtomicU32::new(word.0))
    }

    pub(crate) fn load(&self, order: Ordering) -> SlotWord {
        SlotWord(self.0.load(order))
    }

    pub(crate) fn store(&self, word: SlotWord, order: Ordering) {
        self.0.store(word.0, order);
    }
}
