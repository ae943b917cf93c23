//! Unit tests of the slot storage: owned and caller-memory forms, their typed errors.

#![allow(non_snake_case)]

use super::*;
use core::mem::MaybeUninit;
use rstest::rstest;
use std::vec::Vec;

#[rstest]
#[case(1)]
#[case(2)]
#[case(3)]
#[case(7)]
#[case(1023)]
#[case(1024)]
fn owned__written_slots__then_read_back(#[case] len: usize) {
    let slots = Slots::<u64>::new(len).unwrap();
    assert_eq!(slots.len(), len);
    for i in 0..len {
        // SAFETY: single thread, in bounds.
        unsafe { slots.write(i, i as u64 * 3) };
    }
    // SAFETY: every slot was written above.
    let all = unsafe { slots.slice(0, len) };
    assert!(all.iter().enumerate().all(|(i, &v)| v == i as u64 * 3));
}

#[test]
fn zero_length__then_typed_error() {
    assert_eq!(Slots::<u8>::new(0).unwrap_err(), SlotsError::ZeroLength);
    let mut empty: [MaybeUninit<u8>; 0] = [];
    assert_eq!(
        Slots::from_uninit(&mut empty).unwrap_err(),
        SlotsError::ZeroLength
    );
}

#[test]
fn overflowing_byte_size__then_typed_error() {
    let err = Slots::<[u8; 64]>::new(usize::MAX / 32).unwrap_err();
    assert!(matches!(err, SlotsError::TooLarge { slot_bytes: 64, .. }));
}

#[test]
fn zero_sized_slots__then_usable_without_allocation() {
    let slots = Slots::<()>::new(usize::MAX).unwrap();
    // SAFETY: single thread, in bounds.
    unsafe { slots.write(usize::MAX - 1, ()) };
}

#[test]
fn caller_bytes__misaligned_or_small__then_typed_errors() {
    let mut backing: Vec<MaybeUninit<u64>> = Vec::with_capacity(8);
    backing.resize(8, MaybeUninit::uninit());
    // SAFETY: reinterpreting 64 initialisable bytes as `MaybeUninit<u8>`.
    let bytes: &mut [MaybeUninit<u8>] =
        unsafe { core::slice::from_raw_parts_mut(backing.as_mut_ptr().cast(), 64) };
    assert!(matches!(
        Slots::<u64>::from_bytes(&mut bytes[4..], 1),
        Err(SlotsError::Misaligned { required: 8, .. })
    ));
    assert_eq!(
        Slots::<u64>::from_bytes(&mut bytes[..63], 8).unwrap_err(),
        SlotsError::TooSmall {
            needed: 64,
            available: 63
        }
    );
    let slots = Slots::<u64>::from_bytes(bytes, 8).unwrap();
    // SAFETY: single thread, in bounds.
    unsafe { slots.write_slice(0, &[1, 2, 3, 4, 5, 6, 7, 8]) };
    // SAFETY: all eight were written.
    assert_eq!(unsafe { slots.read(7) }, 8);
}

#[test]
fn errors__then_display_says_why() {
    let text = std::format!(
        "{}",
        SlotsError::TooSmall {
            needed: 8,
            available: 4
        }
    );
    assert!(text.contains("4 bytes") && text.contains("8"));
}

#[test]
fn errors_and_debug__then_say_what_is_wrong_with_the_numbers() {
    use std::string::ToString;
    let cases = [
        (SlotsError::ZeroLength, "at least 1"),
        (
            SlotsError::TooLarge {
                len: 7,
                slot_bytes: 64,
            },
            "7 slots of 64 bytes",
        ),
        (
            SlotsError::Misaligned {
                address: 0x11,
                required: 8,
            },
            "0x11",
        ),
        (
            SlotsError::TooSmall {
                needed: 32,
                available: 3,
            },
            "holds 3 bytes but 32",
        ),
        (SlotsError::AllocationFailed { bytes: 99 }, "99 bytes"),
    ];
    for (error, expected) in cases {
        let text = error.to_string();
        assert!(text.contains(expected), "{text}");
    }
    let slots = Slots::<u32>::new(3).unwrap();
    assert!(!slots.is_empty());
    let debug = std::format!("{slots:?}");
    assert!(
        debug.contains("len: 3") && debug.contains("slot_bytes: 4"),
        "{debug}"
    );
}

#[test]
fn pair__either_end_dropped_first__then_other_abandoned_and_value_freed_with_last() {
    for first_dropped_first in [true, false] {
        let (first, second) = pair::PairEnd::pair(std::string::String::from("value"));
        let storage = std::sync::Arc::downgrade(&first.shared);
        assert_eq!(storage.strong_count(), 2);
        assert!(!first.is_abandoned() && !second.is_abandoned());
        let (dropped, survivor) = if first_dropped_first {
            (first, second)
        } else {
            (second, first)
        };
        drop(dropped);
        assert!(survivor.is_abandoned(), "the survivor sees the drop");
        assert_eq!(*survivor, "value", "the survivor still holds the value");
        assert!(storage.upgrade().is_some());
        drop(survivor);
        assert!(storage.upgrade().is_none(), "freed with the last end");
    }
}

#[test]
fn pair_end__debug__then_names_value_and_abandonment() {
    let (end, other) = pair::PairEnd::pair(7_u8);
    assert_eq!(
        std::format!("{end:?}"),
        "PairEnd { value: 7, abandoned: false }"
    );
    drop(other);
    assert_eq!(
        std::format!("{end:?}"),
        "PairEnd { value: 7, abandoned: true }"
    );
}

#[test]
fn from_uninit__caller_array__then_slots_live_in_it_without_allocation() {
    let mut memory = [MaybeUninit::<u16>::uninit(); 3];
    let address = memory.as_ptr().addr();
    let slots = Slots::from_uninit(&mut memory).unwrap();
    assert_eq!(slots.len(), 3);
    // SAFETY: single thread, in bounds; slots 0..3 are written before they are read.
    let written = unsafe {
        slots.write_slice(0, &[4, 5, 6]);
        slots.slice(0, 3)
    };
    assert_eq!(written, [4, 5, 6]);
    assert_eq!(
        written.as_ptr().addr(),
        address,
        "the caller's memory, not a copy"
    );
}

#[test]
fn cell__written_through_with_mut__then_read_back_through_with() {
    let cell = cell::UnsafeCell::new(1_u32);
    // SAFETY: single thread: no other access to the contents during either closure.
    cell.with_mut(|value| unsafe { *value += 41 });
    // SAFETY: as above.
    assert_eq!(cell.with(|value| unsafe { *value }), 42);
}
