//! Unit tests of the registry: registration, enumeration, reuse, churn, the thread-local
//! layer, and the drain's wake-up by each submitting handle operation.
#![allow(non_snake_case)]

use super::*;
use crate::slot::Slot;
use crate::sync::AtomicUsize;
use ada_ring_pool::{ExhaustionPolicy, FlushOutcome, LaneConfig, LaneMode};
use crossbeam_utils::CachePadded;
use rstest::rstest;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn small(capacity: usize) -> Arc<Registry<u64, u64>> {
    Registry::new(RegistryConfig {
        capacity,
        index: LaneConfig {
            rings: 4,
            ring_records: 8,
            policy: ExhaustionPolicy::DropOldest,
            mode: LaneMode::SubmitAll,
        },
        detail: LaneConfig {
            rings: 2,
            ring_records: 4,
            ..LaneConfig::detail_lane()
        },
    })
    .unwrap()
}

/// One drain pass: takes every submitted ring of every slot, collects quiet threads'
/// active rings, releases retired slots. Returns delivered index records per
/// (slot, generation) and the released slots.
fn drain_pass(
    registry: &Registry<u64, u64>,
    delivered: &mut BTreeMap<(usize, u32), Vec<u64>>,
) -> Vec<RetiredSlot> {
    let mut drain = registry.drain().expect("one drain");
    let mut released = Vec::new();
    drain.for_each_slot(|mut slot| {
        let key = (slot.slot(), slot.generation());
        let records = delivered.entry(key).or_default();
        let mut lane = slot.index_drain();
        while let Some(ring) = lane.take() {
            records.extend_from_slice(ring.records());
            ring.deliver();
        }
        lane.collect_active(|committed, _| {
            records.extend_from_slice(committed);
            Ok::<(), ()>(())
        });
        let mut detail = slot.detail_drain();
        while let Some(ring) = detail.take() {
            ring.deliver();
        }
        if let Ok(retired) = slot.release() {
            released.push(retired);
        }
    });
    released
}

#[test]
fn thread_registry__single_registration__then_succeeds() {
    let registry = small(4);
    let handle = registry.register().unwrap();
    assert_eq!((handle.slot(), handle.generation()), (0, 1));
    assert_eq!(registry.occupied(), 1);
    let mut drain = registry.drain().unwrap();
    let mut seen = Vec::new();
    drain.for_each_slot(|slot| {
        let identity = slot.identity().unwrap();
        assert_eq!(identity.thread_id, std::thread::current().id());
        seen.push((slot.slot(), slot.generation(), slot.is_retiring()));
    });
    assert_eq!(seen, [(0, 1, false)]);
}

#[rstest]
#[case(0, RegistryError::ZeroCapacity)]
#[case(MAX_CAPACITY + 1, RegistryError::TooLarge { capacity: MAX_CAPACITY + 1, max: MAX_CAPACITY })]
fn registry__bad_config__then_typed_error(#[case] capacity: usize, #[case] error: RegistryError) {
    let config = RegistryConfig {
        capacity,
        ..RegistryConfig::default()
    };
    assert_eq!(Registry::<u64, u64>::new(config).err(), Some(error));
    let one_ring = RegistryConfig {
        capacity: 1,
        index: LaneConfig {
            rings: 1,
            ..LaneConfig::index_lane()
        },
        ..RegistryConfig::default()
    };
    assert!(matches!(
        Registry::<u64, u64>::new(one_ring),
        Err(RegistryError::IndexLane(_))
    ));
}

#[test]
fn thread_registry__concurrent_registration__then_unique_slots() {
    let registry = small(64);
    let threads = if cfg!(miri) { 4 } else { 16 };
    let handles: Vec<ThreadHandle<u64, u64>> = std::thread::scope(|s| {
        let spawned: Vec<_> = (0..threads)
            .map(|_| {
                let registry = &registry;
                s.spawn(move || registry.register().unwrap())
            })
            .collect();
        spawned.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let slots: Vec<usize> = handles.iter().map(ThreadHandle::slot).collect();
    let mut unique = slots.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), threads, "{slots:?}");
    assert_eq!(registry.occupied(), threads);
}

#[rstest]
#[case(1)]
#[case(64)]
#[case(65)]
#[case(if cfg!(miri) { 130 } else { 1024 })]
fn thread_registry__max_threads_exceeded__then_returns_error(#[case] capacity: usize) {
    let registry = small(capacity);
    let handles: Vec<_> = (0..capacity)
        .map(|_| registry.register().unwrap())
        .collect();
    assert_eq!(
        registry.register().err(),
        Some(RegisterError::Full { capacity })
    );
    drop(handles);
    // Retired, not yet collected: still full.
    assert_eq!(
        registry.register().err(),
        Some(RegisterError::Full { capacity })
    );
    let released = drain_pass(&registry, &mut BTreeMap::new());
    assert_eq!(released.len(), capacity);
    let handle = registry.register().unwrap();
    assert_eq!(
        handle.generation(),
        2,
        "a reused slot carries a new generation"
    );
}

#[test]
fn registry__shutting_down__then_refuses() {
    let registry = small(4);
    registry.shutdown();
    assert!(registry.is_shutting_down());
    assert_eq!(registry.register().err(), Some(RegisterError::ShuttingDown));
}

#[test]
fn registry__second_drain__then_refused_until_first_dropped() {
    let registry = small(2);
    let first = registry.drain().unwrap();
    assert!(registry.drain().is_none());
    drop(first);
    assert!(registry.drain().is_some());
}

#[test]
fn memory_ordering__registration__then_visible_to_drain() {
    // A thread registers and writes; the drain, synchronised only through the slot
    // state, sees the slot and every record once the thread exits.
    let registry = small(8);
    let thread = std::thread::spawn({
        let registry = Arc::clone(&registry);
        move || {
            let mut handle = registry.register().unwrap();
            // 20 records fit in the lane's 4 rings of 8 without a drain running.
            for event in 0..20 {
                handle.index(event);
            }
            (handle.slot(), handle.generation())
        }
    });
    let key = thread.join().unwrap();
    let mut delivered = BTreeMap::new();
    let released = drain_pass(&registry, &mut delivered);
    assert_eq!(delivered[&key], (0..20).collect::<Vec<_>>());
    assert_eq!(released.len(), 1);
    assert!(released[0].index.is_conserved());
    assert_eq!(released[0].identity.as_ref().unwrap().generation, key.1);
}

#[test]
fn enumeration__low_slot_retires__then_high_slots_still_enumerated() {
    let registry = small(130);
    let mut handles: Vec<_> = (0..130).map(|_| registry.register().unwrap()).collect();
    // Retire slots 0 and 64 (first of two words), keep the rest.
    let high = handles.split_off(65);
    let mut low = handles;
    drop(low.remove(64));
    drop(low.remove(0));
    let _ = drain_pass(&registry, &mut BTreeMap::new());
    let mut drain = registry.drain().unwrap();
    let mut seen = Vec::new();
    drain.for_each_slot(|slot| seen.push(slot.slot()));
    let expected: Vec<usize> = (1..64).chain(65..130).collect();
    seen.sort_unstable();
    assert_eq!(seen, expected);
    drop((low, high));
}

#[test]
fn enumeration__rotating_start__then_every_slot_first_in_turn() {
    let registry = small(5);
    let _handles: Vec<_> = (0..5).map(|_| registry.register().unwrap()).collect();
    let mut drain = registry.drain().unwrap();
    let mut firsts = Vec::new();
    for _ in 0..5 {
        let mut order = Vec::new();
        assert_eq!(drain.for_each_slot(|slot| order.push(slot.slot())), 5);
        firsts.push(order[0]);
    }
    assert_eq!(firsts, [0, 1, 2, 3, 4]);
}

#[test]
fn isolation__no_false_sharing__then_independent_performance() {
    // Layout: each slot's state word and each bitmap word sit on their own cache line,
    // and two slots' lanes never share a line (the lanes are themselves padded).
    let registry = small(2);
    let a = core::ptr::addr_of!(*registry.slots[0].state) as usize;
    let b = core::ptr::addr_of!(*registry.slots[1].state) as usize;
    let line = core::mem::align_of::<CachePadded<u8>>();
    assert!(line >= 64);
    assert!(a.abs_diff(b) >= line);
    assert_eq!(core::mem::size_of::<CachePadded<AtomicUsize>>() % line, 0);
    assert_eq!(core::mem::size_of::<Slot<u64, u64>>() % line, 0);
}

#[test]
fn reuse__retired_slot__then_starts_clean() {
    let registry = small(1);
    let mut handle = registry.register().unwrap();
    handle.mark_push().unwrap();
    for event in 0..20 {
        handle.index(event);
        handle.detail(event);
    }
    drop(handle);
    let mut delivered = BTreeMap::new();
    let released = drain_pass(&registry, &mut delivered);
    assert_eq!(released[0].index.events_written, 20);
    let mut handle = registry.register().unwrap();
    assert_eq!(handle.generation(), 2);
    assert_eq!(handle.mark_depth(), 0, "marks do not carry over");
    assert_eq!(
        registry.slots[0].index.snapshot().events_written,
        0,
        "the new occupant's active ring is empty"
    );
    handle.index(100);
    drop(handle);
    let released = drain_pass(&registry, &mut delivered);
    assert_eq!(
        released[0].index.events_written, 1,
        "counters start from zero"
    );
    assert_eq!(
        delivered[&(0, 2)],
        [100],
        "nothing of the previous occupant"
    );
}

#[test]
fn churn__thousands_of_short_lived_threads__then_no_leak_no_loss() {
    let threads: u64 = if cfg!(miri) { 16 } else { 2000 }; // multiples of 8
    let events: u64 = 50;
    let registry = small(64);
    let done = std::sync::atomic::AtomicBool::new(false);
    let (delivered, released) = std::thread::scope(|s| {
        let (registry, done) = (&registry, &done);
        s.spawn(move || {
            for batch in 0..threads / 8 {
                std::thread::scope(|inner| {
                    for t in 0..8 {
                        inner.spawn(move || {
                            let id = batch * 8 + t;
                            let mut handle = loop {
                                match registry.register() {
                                    Ok(handle) => break handle,
                                    Err(RegisterError::Full { .. }) => std::thread::yield_now(),
                                    Err(other) => panic!("{other}"),
                                }
                            };
                            for event in 0..events {
                                handle.index(id * 1000 + event);
                            }
                        });
                    }
                });
            }
            done.store(true, std::sync::atomic::Ordering::Release);
        });
        let mut delivered = BTreeMap::new();
        let mut released = Vec::new();
        loop {
            let finished = done.load(std::sync::atomic::Ordering::Acquire);
            released.extend(drain_pass(registry, &mut delivered));
            if finished && registry.occupied() == 0 {
                break;
            }
            std::thread::yield_now();
        }
        (delivered, released)
    });
    assert_eq!(
        released.len() as u64,
        threads,
        "every thread's slot was released once; occupied now: {}",
        registry.occupied()
    );
    assert_eq!(registry.occupied(), 0, "no slot leaked");
    let mut all: Vec<u64> = delivered.values().flatten().copied().collect();
    let written: u64 = released.iter().map(|r| r.index.events_written).sum();
    let lost: u64 = released.iter().map(|r| r.index.events_lost()).sum();
    assert!(
        released
            .iter()
            .all(|r| r.index.is_conserved() && r.detail.is_conserved())
    );
    assert_eq!(written, threads * events);
    assert_eq!(all.len() as u64 + lost, written);
    all.sort_unstable();
    all.dedup();
    assert_eq!(
        all.len() as u64 + lost,
        written,
        "no record delivered twice"
    );
    for records in delivered.values() {
        let thread = records.first().map(|r| r / 1000);
        assert!(
            records.iter().all(|r| Some(r / 1000) == thread),
            "one thread per (slot, generation)"
        );
    }
}

#[test]
fn with_local__several_registries__then_one_handle_each_retired_at_exit() {
    let first = small(4);
    let second = small(4);
    // A plain (not scoped) thread: its join returns after its thread-local destructors
    // ran, which is when the handles retire.
    std::thread::spawn({
        let (first, second) = (Arc::clone(&first), Arc::clone(&second));
        move || {
            let slot = first.with_local(|handle| {
                handle.index(1);
                handle.slot()
            });
            second.with_local(|handle| handle.index(2)).unwrap();
            assert_eq!(
                first.with_local(|handle| handle.slot()),
                slot,
                "same handle again"
            );
            let nested = first.with_local(|_| first.with_local(|_| ()));
            assert_eq!(nested, Ok(Err(RegisterError::LocalUnavailable)));
        }
    })
    .join()
    .unwrap();
    let mut delivered = BTreeMap::new();
    assert_eq!(
        drain_pass(&first, &mut delivered).len(),
        1,
        "retired at thread exit"
    );
    assert_eq!(
        delivered.values().flatten().copied().collect::<Vec<_>>(),
        [1]
    );
    let mut delivered = BTreeMap::new();
    assert_eq!(drain_pass(&second, &mut delivered).len(), 1);
    assert_eq!(
        delivered.values().flatten().copied().collect::<Vec<_>>(),
        [2]
    );
}

#[test]
fn with_local__registration_refused__then_error_and_next_call_registers_afresh() {
    let registry = small(1);
    let holder = registry.register().unwrap();
    std::thread::spawn({
        let registry = Arc::clone(&registry);
        move || {
            assert_eq!(
                registry.with_local(|handle| handle.slot()),
                Err(RegisterError::Full { capacity: 1 }),
                "the registration's own error"
            );
        }
    })
    .join()
    .unwrap();
    drop(holder);
    assert_eq!(drain_pass(&registry, &mut BTreeMap::new()).len(), 1);
    std::thread::spawn({
        let registry = Arc::clone(&registry);
        move || {
            assert_eq!(registry.with_local(|handle| handle.generation()), Ok(2));
            registry.shutdown();
            let other = small(1);
            other.shutdown();
            assert_eq!(
                other.with_local(|_| ()),
                Err(RegisterError::ShuttingDown),
                "refused, and no entry is kept for it"
            );
            assert_eq!(
                registry.with_local(|handle| handle.generation()),
                Err(RegisterError::ShuttingDown),
                "the thread's entry for the shut-down registry went when it tried to \
                 register elsewhere (retired, releasing the registry): refused, typed"
            );
        }
    })
    .join()
    .unwrap();
    assert_eq!(drain_pass(&registry, &mut BTreeMap::new()).len(), 1);
}

/// A handle operation that hands a ring to the drain (or retires), and what has to
/// happen before it so that it does.
#[derive(Debug, Clone, Copy)]
enum Submitting {
    /// The ninth index record: the full first ring (8 records) is submitted.
    IndexWrite,
    /// The same through a batch.
    IndexSlice,
    /// The fifth detail record in a marked scope: the full, kept window is submitted.
    DetailWrite,
    /// The same through a batch.
    DetailSlice,
    /// A flush of a partly filled index ring.
    Flush,
    /// A mark while an unmarked full window is held: it is submitted as context.
    Mark,
    /// A marked scope opened while a window is held: the same.
    MarkPush,
    /// The end of a marked scope: its partly filled window is flushed.
    MarkPop,
    /// The handle's drop: the thread retires.
    Retire,
}

impl Submitting {
    /// Brings the lanes to the point where the operation submits, submitting nothing.
    fn prepare(self, handle: &mut ThreadHandle<u64, u64>) {
        match self {
            Self::IndexWrite | Self::IndexSlice => (0..8).for_each(|n| handle.index(n)),
            Self::DetailWrite | Self::DetailSlice => {
                handle.mark_push().unwrap();
                (0..4).for_each(|n| handle.detail(n));
            }
            Self::Flush | Self::Retire => handle.index(0),
            // Window [0, 4) full and held, record 4 in the active window.
            Self::Mark | Self::MarkPush => (0..5).for_each(|n| handle.detail(n)),
            Self::MarkPop => {
                handle.mark_push().unwrap();
                handle.detail(0);
            }
        }
    }

    fn run(self, handle: &mut Option<ThreadHandle<u64, u64>>) {
        let Some(live) = handle.as_mut() else {
            unreachable!("run once")
        };
        match self {
            Self::IndexWrite => live.index(8),
            Self::IndexSlice => live.index_slice(&[8, 9]),
            Self::DetailWrite => live.detail(4),
            Self::DetailSlice => live.detail_slice(&[4, 5]),
            Self::Flush => assert_eq!(live.flush().index, FlushOutcome::Submitted),
            Self::Mark => live.mark(),
            Self::MarkPush => live.mark_push().unwrap(),
            Self::MarkPop => assert_eq!(live.mark_pop(), Ok(FlushOutcome::Submitted)),
            Self::Retire => drop(handle.take()),
        }
    }
}

#[rstest]
#[case::index_write(Submitting::IndexWrite)]
#[case::index_slice(Submitting::IndexSlice)]
#[case::detail_write(Submitting::DetailWrite)]
#[case::detail_slice(Submitting::DetailSlice)]
#[case::flush(Submitting::Flush)]
#[case::mark(Submitting::Mark)]
#[case::mark_push(Submitting::MarkPush)]
#[case::mark_pop(Submitting::MarkPop)]
#[case::retire(Submitting::Retire)]
fn handle__submits_while_drain_parked__then_drain_woken(#[case] operation: Submitting) {
    const PARK: Duration = Duration::from_secs(20);
    let registry = small(1);
    let mut handle = Some(registry.register().unwrap());
    operation.prepare(handle.as_mut().unwrap());
    let mut drain = registry.drain().unwrap();
    assert!(
        !drain.has_work(),
        "{operation:?} was prepared without submitting"
    );
    std::thread::scope(|s| {
        let parked = s.spawn(move || {
            let start = Instant::now();
            drain.park(PARK);
            start.elapsed()
        });
        while !registry.parking.is_parked() && !parked.is_finished() {
            std::thread::yield_now();
        }
        // Let the drain get past its look for work into the park itself: only a
        // wake-up can end it then.
        std::thread::sleep(Duration::from_millis(50));
        operation.run(&mut handle);
        let slept = parked.join().unwrap();
        assert!(
            slept < PARK / 2,
            "{operation:?} left the drain parked for {slept:?}"
        );
    });
}

#[test]
fn registry_error__each_variant__then_display_names_the_setting_and_numbers() {
    use std::error::Error as _;
    let zero = RegistryError::check_capacity(0).unwrap_err();
    assert_eq!(zero.to_string(), "a registry needs at least 1 slot");
    let large = RegistryError::check_capacity(MAX_CAPACITY + 1).unwrap_err();
    assert_eq!(
        large.to_string(),
        std::format!(
            "a registry holds at most {MAX_CAPACITY} slots, not {}",
            MAX_CAPACITY + 1
        )
    );
    let one_ring = LaneConfig {
        rings: 1,
        ..LaneConfig::index_lane()
    };
    let index = Registry::<u64, u64>::new(RegistryConfig {
        index: one_ring,
        ..RegistryConfig::default()
    })
    .unwrap_err();
    let empty_rings = LaneConfig {
        ring_records: 0,
        ..LaneConfig::detail_lane()
    };
    let detail = Registry::<u64, u64>::new(RegistryConfig {
        detail: empty_rings,
        ..RegistryConfig::default()
    })
    .unwrap_err();
    let (RegistryError::IndexLane(index_cause), RegistryError::DetailLane(detail_cause)) =
        (index, detail)
    else {
        panic!("each lane's error names its lane: {index:?}, {detail:?}");
    };
    assert_eq!(index.to_string(), std::format!("index lane: {index_cause}"));
    assert!(index.to_string().contains("at least 2 rings"), "{index}");
    assert_eq!(
        detail.to_string(),
        std::format!("detail lane: {detail_cause}")
    );
    assert!(detail.to_string().contains("at least 1 record"), "{detail}");
    for error in [zero, large, index, detail] {
        assert!(
            error.source().is_none(),
            "the lane's error is in the message, not reported twice: {error}"
        );
    }
}

#[test]
fn register_error__full_shutting_down_and_local__then_display_says_why() {
    let registry = small(1);
    let handle = registry.register().unwrap();
    let full = registry.register().unwrap_err();
    assert_eq!(full, RegisterError::Full { capacity: 1 });
    assert_eq!(full.to_string(), "all 1 slots are taken; retry later");
    drop(handle);
    registry.shutdown();
    let refused = registry.register().unwrap_err();
    assert_eq!(refused.to_string(), "the registry is shutting down");
    let text = RegisterError::LocalUnavailable.to_string();
    assert!(
        text.contains("re-entrant call") && text.contains("thread exit"),
        "{text}"
    );
}

#[test]
fn release__thread_still_registered__then_still_active_and_slot_kept() {
    let registry = small(2);
    let handle = registry.register().unwrap();
    let mut drain = registry.drain().unwrap();
    let mut refusals = Vec::new();
    drain.for_each_slot(|slot| refusals.push(slot.release().unwrap_err()));
    assert_eq!(refusals, [ReleaseError::StillActive]);
    assert_eq!(
        refusals[0].to_string(),
        "the slot's thread is still registered"
    );
    assert_eq!(registry.occupied(), 1, "the slot stays taken");
    assert_eq!(drain.for_each_slot(|_| ()), 1, "and is visited again");
    drop(handle);
}

#[test]
fn release__retired_with_submitted_rings__then_not_drained_until_taken() {
    let registry = small(1);
    let mut handle = registry.register().unwrap();
    (0..9).for_each(|n| handle.index(n)); // one full ring submitted, one partly filled
    drop(handle); // the partly filled ring is submitted at retirement
    let mut drain = registry.drain().unwrap();
    let mut refusals = Vec::new();
    drain.for_each_slot(|slot| {
        assert!(slot.is_retiring());
        refusals.push(slot.release().unwrap_err());
    });
    assert_eq!(refusals, [ReleaseError::NotDrained]);
    assert_eq!(
        refusals[0].to_string(),
        "the retired slot still holds submitted rings"
    );
    let mut taken = Vec::new();
    let mut released = Vec::new();
    drain.for_each_slot(|mut slot| {
        let mut lane = slot.index_drain();
        while let Some(ring) = lane.take() {
            taken.extend_from_slice(ring.records());
            ring.deliver();
        }
        released.push(slot.release().expect("drained now"));
    });
    assert_eq!(taken, (0..9).collect::<Vec<_>>());
    assert_eq!(released.len(), 1);
    assert_eq!(released[0].index.events_written, 9);
    assert!(released[0].index.is_conserved());
    assert_eq!(released[0].identity.as_ref().map(|id| id.slot), Some(0));
    assert_eq!(registry.occupied(), 0);
}

#[test]
fn has_work__submitted_ring_or_retiring_slot__then_true() {
    let registry = small(2);
    let mut quiet = registry.register().unwrap();
    let mut busy = registry.register().unwrap();
    quiet.index(0); // in its active ring: not work for `has_work`
    let mut drain = registry.drain().unwrap();
    assert!(!drain.has_work(), "nothing submitted, nobody retired");
    (0..9).for_each(|n| busy.index(n));
    assert!(drain.has_work(), "a submitted ring");
    drain.for_each_slot(|mut slot| {
        let mut lane = slot.index_drain();
        while let Some(ring) = lane.take() {
            ring.deliver();
        }
    });
    assert!(!drain.has_work(), "taken");
    drop(quiet);
    assert!(drain.has_work(), "a retiring slot");
    drop(busy);
}

#[test]
fn handle__detail_slice_in_marked_scope__then_every_window_delivered_in_order() {
    fn take_windows(registry: &Registry<u64, u64>, windows: &mut Vec<Vec<u64>>) {
        registry.drain().unwrap().for_each_slot(|mut slot| {
            let mut lane = slot.detail_drain();
            while let Some(ring) = lane.take() {
                windows.push(ring.records().to_vec());
                ring.deliver();
            }
        });
    }
    let registry = small(1);
    let mut handle = registry.register().unwrap();
    handle.mark_push().unwrap();
    handle.detail_slice(&[0, 1, 2, 3, 4, 5]); // a window of 4 fills and is submitted
    let mut windows = Vec::new();
    take_windows(&registry, &mut windows);
    assert_eq!(windows, [vec![0, 1, 2, 3]]);
    // Two rings: with the first one back in the free queue, the scope's end can flush.
    assert_eq!(handle.mark_pop(), Ok(FlushOutcome::Submitted));
    take_windows(&registry, &mut windows);
    assert_eq!(windows, [vec![0, 1, 2, 3], vec![4, 5]]);
    drop(handle);
}

#[test]
fn debug__registry_handle_drain_and_slot__then_name_their_key_fields() {
    let registry = small(3);
    assert_eq!(registry.config().capacity, 3);
    assert_eq!(registry.config().index.ring_records, 8);
    let debug = std::format!("{registry:?}");
    assert!(
        debug.starts_with("Registry") && debug.contains("capacity: 3"),
        "{debug}"
    );
    let handle = registry.register().unwrap();
    let debug = std::format!("{handle:?}");
    assert!(
        debug.contains("ThreadHandle")
            && debug.contains("slot: 0")
            && debug.contains("generation: 1"),
        "{debug}"
    );
    let mut drain = registry.drain().unwrap();
    assert!(std::format!("{drain:?}").contains("cursor: 0"));
    let mut slots = Vec::new();
    drain.for_each_slot(|slot| slots.push(std::format!("{slot:?}")));
    assert_eq!(
        slots,
        ["ActiveSlot { slot: 0, generation: 1, retiring: false }"]
    );
    assert!(
        std::format!("{drain:?}").contains("cursor: 1"),
        "the next enumeration starts one slot further"
    );
    drop(handle);
    slots.clear();
    drain.for_each_slot(|slot| slots.push(std::format!("{slot:?}")));
    assert_eq!(
        slots,
        ["ActiveSlot { slot: 0, generation: 1, retiring: true }"]
    );
}

#[test]
fn with_local__registry_shut_down_then_thread_registers_elsewhere__then_old_registry_freed() {
    std::thread::spawn(|| {
        let mut previous: Option<std::sync::Weak<Registry<u64, u64>>> = None;
        for job in 0..5_u64 {
            let registry = small(2);
            registry.with_local(|handle| handle.index(job)).unwrap();
            if let Some(previous) = &previous {
                assert!(
                    previous.upgrade().is_none(),
                    "job {job}: the previous, shut-down registry was freed"
                );
            }
            registry.shutdown(); // what a drain's stop does first
            previous = Some(Arc::downgrade(&registry));
        }
        // The last one stays until the thread exits or registers elsewhere.
        assert!(previous.unwrap().upgrade().is_some());
    })
    .join()
    .unwrap();
}

#[test]
fn handle__writes_after_the_final_report__then_counted_as_unreported() {
    let registry = small(2);
    let mut handle = registry.register().unwrap();
    (0..3).for_each(|n| handle.index(n));
    handle.detail(7);
    assert_eq!(handle.unreported_events(), 0, "no final report yet");
    registry.shutdown();
    {
        let mut drain = registry.drain().unwrap();
        drain.for_each_slot(|mut slot| {
            let (index, detail) = slot.final_snapshots();
            assert_eq!((index.events_written, detail.events_written), (3, 1));
        });
    }
    assert_eq!(
        handle.unreported_events(),
        0,
        "everything so far is in the report"
    );
    (3..13).for_each(|n| handle.index(n));
    handle.detail(8);
    assert_eq!(handle.unreported_events(), 11);
    let slot = handle.slot();
    drop(handle);
    // Released, the slot forgets the report: its next occupant starts without one.
    assert_eq!(drain_pass(&registry, &mut BTreeMap::new()).len(), 1);
    assert!(
        registry.slots[slot]
            .reported
            .iter()
            .all(|reported| reported.get() == crate::slot::NOT_REPORTED)
    );
}

#[test]
fn drain__fullest_first__then_fuller_lanes_first_ties_round_robin_every_slot_once() {
    let registry = small(4);
    let mut handles: Vec<_> = (0..4).map(|_| registry.register().unwrap()).collect();
    // Submitted index rings (of 4): slot 0 one, slot 1 three, slot 2 none, slot 3 three.
    for (handle, rings) in handles.iter_mut().zip([1, 3, 0, 3]) {
        for event in 0..(8 * rings + 1) {
            handle.index(event); // the last record makes the rotation that submits
        }
    }
    let mut drain = registry.drain().unwrap();
    let mut order = Vec::new();
    let visited = |drain: &mut RegistryDrain<'_, u64, u64>, order: &mut Vec<(u32, usize)>| {
        let mut slots = Vec::new();
        let count = drain.for_each_slot_fullest_first(order, |slot| slots.push(slot.slot()));
        assert_eq!(count, 4, "every occupied slot, once");
        slots
    };
    // Round-robin starts at slot 0, then 1, ...: the ties (1 and 3) follow it.
    assert_eq!(visited(&mut drain, &mut order), [1, 3, 0, 2]);
    assert_eq!(visited(&mut drain, &mut order), [1, 3, 0, 2]);
    assert_eq!(
        visited(&mut drain, &mut order),
        [3, 1, 0, 2],
        "the rotation moved on: slot 3 comes before 1 from a start at 2"
    );
    drop(handles);
}
