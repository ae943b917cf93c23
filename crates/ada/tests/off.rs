//! The `off` feature: the macros compile to nothing that writes (run with
//! `cargo test -p ada-trace --features off`).
#![allow(non_snake_case)]
#![cfg(feature = "off")]

use std::sync::atomic::{AtomicU64, Ordering};

#[test]
fn off_feature__macros_with_tracers_installed__then_nothing_written_or_evaluated() {
    let evaluated = AtomicU64::new(0);
    let value = || evaluated.fetch_add(1, Ordering::Relaxed);
    let guard = ada::install(ada::Tracer::builder()).unwrap();
    let tracer = ada::Tracer::builder().build().unwrap();
    {
        let span = ada::span!("compiled_out", v = value());
        assert!(!span.is_recording());
        let _explicit = ada::span!(tracer: &tracer, category: "c", "compiled_out");
        ada::instant!("compiled_out", v = value());
        ada::instant!(tracer: &tracer, "compiled_out");
        ada::counter!("compiled_out", value());
        ada::counter!(tracer: &tracer, "compiled_out", value());
    }
    assert_eq!(evaluated.load(Ordering::Relaxed), 0);
    assert_eq!(tracer.shutdown().unwrap().totals.events_written, 0);
    assert_eq!(guard.finish().unwrap().totals.events_written, 0);
}
