//! A slot for one installed value at a time (the global tracer): the protocol the loom
//! model checks (`loom_tests.rs`), generic so that the model can use a plain value.

use crate::sync::{AtomicBool, AtomicUsize, Mutex, Ordering, lock};

/// A slot for one installed value at a time: a key that hot paths load (`Relaxed`,
/// compared only), and the value itself behind a lock, for cold paths. Generic so that
/// the loom model can check the protocol with a plain value.
pub(crate) struct Global<T> {
    /// The installed value's key while one is installed and enabled, else 0.
    key: AtomicUsize,
    /// Whether records are written at all (the explicit tracers' switch too).
    enabled: AtomicBool,
    state: Mutex<State<T>>,
}

struct State<T> {
    /// The installed value, its key and the install's generation.
    installed: Option<(T, usize, u64)>,
    /// Installs so far (the next generation).
    installs: u64,
    /// Mirrors `Global::enabled`, updated under the lock with `key`.
    enabled: bool,
}

impl<T> Global<T> {
    /// Nothing installed, tracing enabled.
    #[cfg(not(loom))]
    pub(crate) const fn new() -> Self {
        Self {
            key: AtomicUsize::new(0),
            enabled: AtomicBool::new(true),
            state: Mutex::new(State {
                installed: None,
                installs: 0,
                enabled: true,
            }),
        }
    }

    /// Nothing installed, tracing enabled (loom's atomics are not `const`).
    #[cfg(loom)]
    pub(crate) fn new() -> Self {
        Self {
            key: AtomicUsize::new(0),
            enabled: AtomicBool::new(true),
            state: Mutex::new(State {
                installed: None,
                installs: 0,
                enabled: true,
            }),
        }
    }

    /// The installed value's key, or 0 (nothing installed, or disabled).
    #[inline]
    pub(crate) fn key(&self) -> usize {
        // Relaxed: the key is compared with a thread's own cached key, never
        // dereferenced; what it names is reached only under `state`'s lock.
        self.key.load(Ordering::Relaxed)
    }

    /// Whether tracing is enabled.
    #[inline]
    pub(crate) fn enabled(&self) -> bool {
        // Relaxed: a switch; nothing is published through it.
        self.enabled.load(Ordering::Relaxed)
    }

    /// Turns tracing on or off (the key follows: 0 while off).
    pub(crate) fn set_enabled(&self, on: bool) {
        let mut state = lock(&self.state);
        state.enabled = on;
        // Relaxed: a switch (as in `enabled`).
        self.enabled.store(on, Ordering::Relaxed);
        self.publish(&state);
    }

    /// Stores the key `state` implies; called under the lock, so stores are in the
    /// lock's order and the last one matches the state.
    fn publish(&self, state: &State<T>) {
        let key = match &state.installed {
            Some((_, key, _)) if state.enabled => *key,
            _ => 0,
        };
        // Relaxed: compared only (see `key`).
        self.key.store(key, Ordering::Relaxed);
    }

    /// Installs what `make` makes (called under the lock, only when nothing is
    /// installed) with its key (never 0); the install's generation.
    ///
    /// # Errors
    /// `Err(None)` when a value is installed already (`make` is not called);
    /// `Err(Some(error))` when `make` fails.
    pub(crate) fn install<E>(
        &self,
        make: impl FnOnce() -> Result<(T, usize), E>,
    ) -> Result<u64, Option<E>> {
        let mut state = lock(&self.state);
        if state.installed.is_some() {
            return Err(None);
        }
        let (value, key) = make().map_err(Some)?;
        debug_assert_ne!(key, 0, "0 means nothing installed");
        state.installs += 1;
        let generation = state.installs;
        state.installed = Some((value, key, generation));
        self.publish(&state);
        Ok(generation)
    }

    /// Takes the installed value out (only generation `generation`'s, when given): the
    /// key is 0 before the lock is released.
    pub(crate) fn take(&self, generation: Option<u64>) -> Option<T> {
        let mut state = lock(&self.state);
        match &state.installed {
            Some((_, _, installed)) if generation.is_none_or(|g| g == *installed) => {}
            _ => return None,
        }
        let (value, _, _) = state.installed.take()?;
        self.publish(&state);
        Some(value)
    }

    /// `f` of the installed value, if its key is `key`.
    pub(crate) fn with_installed<R>(&self, key: usize, f: impl FnOnce(&T) -> R) -> Option<R> {
        let state = lock(&self.state);
        match &state.installed {
            Some((value, installed, _)) if *installed == key => Some(f(value)),
            _ => None,
        }
    }

    /// Whether a value is installed (enabled or not).
    pub(crate) fn is_installed(&self) -> bool {
        lock(&self.state).installed.is_some()
    }
}
