//! The global tracer's slot under loom: one thread installs, shuts down and installs
//! again while another emits through whatever it finds (the key, then the cold path's
//! lock), as the macros do.
#![allow(non_snake_case)]

use crate::slot::Global;
use loom::sync::Arc;
use loom::sync::atomic::{AtomicBool, Ordering};

/// A stand-in for a tracer: its key, and whether it was shut down (after `take`).
struct Installed {
    key: usize,
    shut_down: Arc<AtomicBool>,
}

#[test]
fn loom_global__emit_while_installed_shut_down_and_reinstalled__then_only_live_values() {
    loom::model(|| {
        let global = Arc::new(Global::<Installed>::new());
        let first_down = Arc::new(AtomicBool::new(false));
        let emitter = loom::thread::spawn({
            let global = Arc::clone(&global);
            move || {
                for _ in 0..2 {
                    let key = global.key();
                    if key == 0 {
                        continue;
                    }
                    // The cold path: the installed value, only if it is still `key`'s.
                    if let Some(found) = global.with_installed(key, |installed| {
                        // SeqCst in the model: what is checked, not a protocol.
                        assert!(!installed.shut_down.load(Ordering::SeqCst));
                        installed.key
                    }) {
                        assert_eq!(found, key, "never another install's value");
                    }
                }
            }
        });
        let generation = global
            .install(|| {
                Ok::<_, ()>((
                    Installed {
                        key: 8,
                        shut_down: Arc::clone(&first_down),
                    },
                    8,
                ))
            })
            .unwrap();
        assert_eq!(
            global.install(|| Err::<(Installed, usize), ()>(())),
            Err(None)
        );
        let first = global.take(Some(generation)).expect("installed");
        assert_eq!(global.key(), 0, "no key once taken");
        first.shut_down.store(true, Ordering::SeqCst);
        let second = global
            .install(|| {
                Ok::<_, ()>((
                    Installed {
                        key: 16,
                        shut_down: Arc::new(AtomicBool::new(false)),
                    },
                    16,
                ))
            })
            .unwrap();
        assert!(
            global.take(Some(generation)).is_none(),
            "an old guard takes nothing"
        );
        global.set_enabled(false);
        assert_eq!(global.key(), 0, "disabled: no key");
        global.set_enabled(true);
        assert_eq!(global.key(), 16);
        emitter.join().unwrap();
        assert!(global.take(Some(second)).is_some());
    });
}
