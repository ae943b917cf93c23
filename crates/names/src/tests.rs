//! Unit tests of the name table and callsites.

#![allow(non_snake_case)]

use super::*;
use std::collections::HashMap;
use std::string::{String, ToString};
use std::sync::Barrier;

#[test]
fn intern__same_strings_from_8_threads__one_id_per_string() {
    // Fewer under Miri, which runs the same interleavings' code far slower.
    const THREADS: usize = if cfg!(miri) { 4 } else { 8 };
    const NAMES: usize = if cfg!(miri) { 40 } else { 1_000 };
    let table = NameTable::with_capacity(CAPACITY);
    let barrier = Barrier::new(THREADS);
    let names: Vec<String> = (0..NAMES).map(|i| std::format!("name {i}")).collect();
    let per_thread: Vec<HashMap<String, NameId>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let (table, barrier, names) = (&table, &barrier, &names);
                s.spawn(move || {
                    barrier.wait();
                    // Each thread walks the names from a different start, so that first
                    // sightings race.
                    (0..NAMES)
                        .map(|i| {
                            let name = &names[(i + t * NAMES / THREADS) % NAMES];
                            (name.clone(), table.intern(name).unwrap())
                        })
                        .collect()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(table.len(), NAMES, "no string interned twice");
    for ids in &per_thread[1..] {
        assert_eq!(
            ids, &per_thread[0],
            "every thread got the same id per string"
        );
    }
    let mut seen: Vec<u32> = per_thread[0].values().map(|id| id.get()).collect();
    seen.sort_unstable();
    assert_eq!(
        seen,
        (1..=NAMES as u32).collect::<Vec<_>>(),
        "ids 1..=len, dense"
    );
    for (name, id) in &per_thread[0] {
        assert_eq!(table.lookup(*id), Some(name.as_str()));
    }
}

#[test]
fn intern__new_name_in_full_table__table_full_and_old_names_still_found() {
    let table = NameTable::with_capacity(3);
    let ids: Vec<NameId> = ["a", "b", "c"]
        .iter()
        .map(|name| table.intern(name).unwrap())
        .collect();
    assert_eq!(table.intern("d"), Err(NameError::TableFull { capacity: 3 }));
    assert_eq!(table.intern("b"), Ok(ids[1]), "a known name still resolves");
    assert_eq!(table.len(), 3);
    assert_eq!(table.lookup(NameId::from_raw(4)), None, "no id given for d");
    assert_eq!(
        NameError::TableFull { capacity: 3 }.to_string(),
        "the name table is full (3 names)"
    );
}

#[test]
fn intern__name_over_max_len__too_long_and_nothing_interned() {
    let table = NameTable::with_capacity(4);
    let long = "x".repeat(MAX_LEN + 1);
    assert_eq!(
        table.intern(&long),
        Err(NameError::TooLong {
            len: MAX_LEN + 1,
            max: MAX_LEN
        })
    );
    assert!(table.is_empty());
    let longest = "x".repeat(MAX_LEN);
    let id = table.intern(&longest).unwrap();
    assert_eq!(
        table.lookup(id),
        Some(longest.as_str()),
        "exactly MAX_LEN fits"
    );
}

#[test]
fn intern__zero_capacity_table__always_full() {
    let table = NameTable::with_capacity(0);
    assert_eq!(table.intern(""), Err(NameError::TableFull { capacity: 0 }));
    assert_eq!(table.names_from(0), Vec::new());
}

#[test]
fn with_capacity__over_the_limit__clamped() {
    assert_eq!(
        NameTable::with_capacity(usize::MAX).capacity(),
        CAPACITY_LIMIT
    );
}

#[test]
fn lookup__ids_never_given__none() {
    let table = NameTable::with_capacity(4);
    let id = table.intern("only").unwrap();
    assert_eq!(id, NameId::from_raw(1));
    assert_eq!(table.lookup(NameId::NONE), None);
    assert_eq!(table.lookup(NameId::from_raw(2)), None);
    assert_eq!(table.lookup(NameId::from_raw(u32::MAX)), None);
}

#[test]
fn names_from__across_chunks__every_name_in_id_order() {
    // 2 500 names span three chunks of 1 024.
    let table = NameTable::with_capacity(2_500);
    for i in 0..2_500 {
        assert_eq!(table.intern(&i.to_string()).unwrap().get(), i + 1);
    }
    let all = table.names_from(0);
    assert_eq!(all.len(), 2_500);
    assert_eq!(table.names_from(1), all, "0 and 1 both start at id 1");
    for (i, (id, name)) in all.iter().enumerate() {
        assert_eq!((id.get() as usize, *name), (i + 1, i.to_string().as_str()));
    }
    let tail = table.names_from(2_000);
    assert_eq!(tail.first().map(|(id, _)| id.get()), Some(2_000));
    assert_eq!(tail.len(), 501);
    assert!(table.names_from(2_501).is_empty());
    assert_eq!(
        table.intern("one more"),
        Err(NameError::TableFull { capacity: 2_500 })
    );
}

#[test]
fn callsite__first_use__interns_once_then_caches() {
    let table = NameTable::with_capacity(4);
    let overflows = sync::Counter::new();
    let site = Callsite::new("cached");
    assert_eq!(site.id.get(), 0, "nothing interned before first use");
    let id = site.register(&table, &overflows);
    assert_eq!(table.lookup(id), Some("cached"));
    assert_eq!(site.id.get(), id.get(), "the id is cached");
    assert_eq!(table.len(), 1);
    assert_eq!(overflows.get(), 0);
}

#[test]
fn callsite__table_full__none_and_counted_then_retries() {
    let table = NameTable::with_capacity(1);
    let overflows = sync::Counter::new();
    table.intern("taken").unwrap();
    let site = Callsite::new("late");
    assert_eq!(site.register(&table, &overflows), NameId::NONE);
    assert_eq!(site.register(&table, &overflows), NameId::NONE);
    assert_eq!(overflows.get(), 2, "every unnamed use is counted");
    assert_eq!(site.id.get(), 0, "a failure is not cached");
}

#[test]
fn callsite__global_table__same_id_as_intern() {
    static SITE: Callsite = Callsite::new("callsite__global_table");
    let before = overflows();
    let id = SITE.id();
    assert_eq!(intern("callsite__global_table"), Ok(id));
    assert_eq!(SITE.id(), id);
    assert_eq!(lookup(id), Some("callsite__global_table"));
    assert!(names_from(id.get()).contains(&(id, "callsite__global_table")));
    assert!(len() >= id.get() as usize);
    assert_eq!(overflows(), before);
}

#[test]
fn callsite__name_over_max_len__none_and_counted() {
    static LONG: Callsite = Callsite::new(LONG_NAME);
    const LONG_NAME: &str = const {
        const BYTES: [u8; MAX_LEN + 1] = [b'y'; MAX_LEN + 1];
        match core::str::from_utf8(&BYTES) {
            Ok(s) => s,
            Err(_) => "",
        }
    };
    let table = NameTable::with_capacity(2);
    let overflows = sync::Counter::new();
    assert_eq!(LONG.register(&table, &overflows), NameId::NONE);
    assert_eq!(overflows.get(), 1);
    assert!(table.is_empty());
}
