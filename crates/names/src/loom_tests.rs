//! loom models of the name table: two threads interning the same string get one id, and
//! a reader that sees `len` finds every name up to it.
//!
//! The slots are loom-tracked cells (`ada-slots`' cell), so if the writer's Release store
//! of `len` or the reader's Acquire load is weakened (mutants `names.len_release`,
//! `names.len_acquire`), loom reports the slot read as a data race.

#![allow(non_snake_case)]

use super::*;
use loom::sync::Arc;
use loom::thread;
use std::collections::BTreeSet;
use std::sync::Mutex;

#[test]
fn loom__two_threads_intern_same_string_and_reader_looks_up__one_id_and_never_none() {
    let outcomes = std::sync::Arc::new(Mutex::new(BTreeSet::new()));
    let seen_outcomes = std::sync::Arc::clone(&outcomes);
    loom::model(move || {
        let table = Arc::new(NameTable::with_capacity(2));
        let writers: Vec<_> = (0..2)
            .map(|_| {
                let table = Arc::clone(&table);
                thread::spawn(move || table.intern("span").unwrap())
            })
            .collect();
        let reader_table = Arc::clone(&table);
        let reader = thread::spawn(move || {
            // A lookup on its own (its own Acquire), then one after seeing `len`.
            let first = reader_table.lookup(NameId::from_raw(1));
            assert!(matches!(first, None | Some("span")), "{first:?}");
            let len = reader_table.len();
            for id in 1..=len {
                let id = NameId::from_raw(u32::try_from(id).unwrap());
                assert_eq!(reader_table.lookup(id), Some("span"), "a published name");
            }
            (first.is_some(), len)
        });
        let ids: Vec<NameId> = writers.into_iter().map(|w| w.join().unwrap()).collect();
        let seen = reader.join().unwrap();
        assert_eq!(ids, [NameId::from_raw(1); 2], "one id for one string");
        assert_eq!(table.len(), 1);
        seen_outcomes.lock().unwrap().insert(seen);
    });
    let outcomes = outcomes.lock().unwrap();
    assert_eq!(
        *outcomes,
        BTreeSet::from([(false, 0), (false, 1), (true, 1)]),
        "loom explored the reader before and after the publication"
    );
}
