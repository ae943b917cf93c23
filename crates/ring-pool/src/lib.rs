//! A lane of ada: a pool of pre-allocated rings, the producer's active ring, a submit
//! queue to the drain and a free queue back, with the atomic swap protocol, exhaustion
//! policies and detail-lane marking.
//!
//! - **Write**: [`LaneProducer::write`] appends to the active ring (one release store).
//! - **Swap**: when the ring is full, the producer takes an empty ring (its spares, then
//!   the free queue), makes it active, and submits the full one with a header: a per-lane
//!   sequence number, flags, and the ring's position in the lane's stream of events. Every
//!   producer operation that submits says so ([`Submission`], [`FlushOutcome`]), so the
//!   caller knows when to wake a drain that may be parked.
//! - **Exhaustion**: with no empty ring, [`ExhaustionPolicy::DropOldest`] takes back the
//!   oldest ring the drain has not claimed (a compare-and-swap on the submit queue's head
//!   that the drain uses too: a claimed ring is never taken back), and
//!   [`ExhaustionPolicy::DropNewest`] discards arriving events. Every loss is counted,
//!   and every delivery says exactly what its lane lost just before it, by cause
//!   ([`Gap`]: worked out by the drain from the rings' positions).
//!   [`ExhaustionPolicy::Block`] loses nothing: the producer submits its full ring and
//!   [`LaneProducer::try_write`] reports [`Blocked`], so that its caller (which, unlike
//!   this `no_std` crate, can park) waits until the drain recycles a ring, up to an
//!   optional timeout after which events are dropped, counted under `timeout`.
//! - **Drain**: [`LaneDrain::take`] claims the oldest submitted ring; delivering it puts
//!   it back in the free queue. [`LaneDrain::collect_active`] reads a quiet producer's
//!   committed records in place, under a pin the producer respects.
//! - **Marking** ([`LaneMode::FlightRecorder`]): unmarked windows are recycled without
//!   being submitted; [`LaneProducer::mark`] keeps the current window and the one before
//!   it; `mark_push`/`mark_pop` keep every window of a scope.
//!
//! Every ring is, at every instant, in exactly one place: the producer's hands, the
//! submit queue, the drain's hands or the free queue (checked on every move in debug
//! builds and in the loom models). The protocol, with each atomic and its ordering, is in
//! `docs/protocol.md`.
#![no_std]
#![warn(missing_docs)]
#![doc(test(attr(deny(warnings))))]

extern crate alloc;
#[cfg(any(feature = "std", loom, test))]
extern crate std;

mod active_word;
mod change;
mod config;
mod counters;
mod drain;
mod lane;
mod ledger;
mod outcome;
mod pin;
mod producer;
mod reserve;
mod submit;
mod swap;
mod sync;
mod taken;
mod window;

pub use ada_metrics::{DropCounts, LaneSnapshot};
pub use ada_ring_buffer::{RingFlags, RingHeader};
pub use config::{ExhaustionPolicy, LaneConfig, LaneConfigError, LaneMode, MAX_RINGS, MarkError};
pub use drain::LaneDrain;
pub use lane::Lane;
pub use ledger::Gap;
pub use outcome::{Blocked, FlushOutcome, Submission};
pub use producer::LaneProducer;
pub use reserve::{MAX_ADDRESSES, Reserve};
pub use taken::TakenRing;

#[cfg(all(test, not(loom)))]
mod tests;

#[cfg(all(test, not(loom)))]
mod block_tests;

#[cfg(all(test, not(loom)))]
mod reserve_tests;

#[cfg(all(test, loom))]
mod loom_tests;

/// The README's example, compiled and run as a doc test.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
