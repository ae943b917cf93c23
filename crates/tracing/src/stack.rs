//! Each thread's stack of the spans it entered and has not exited, per layer: what
//! keeps every thread's lane balanced (each Leave closes the innermost Enter of its own
//! thread) whatever order or thread `tracing` exits spans on.
//!
//! An entry carries the span's name and category ids, so an exit writes its Leave
//! without looking the span up. Entries of several layers may interleave on one thread;
//! each layer sees only its own.

use std::cell::RefCell;

/// A span this thread entered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Entry {
    /// The layer that entered it.
    pub(crate) layer: u64,
    /// `tracing`'s span id (`Id::into_u64`).
    pub(crate) span: u64,
    pub(crate) name: u32,
    pub(crate) category: u32,
    /// Whether its Enter was written (so its Leave must be).
    pub(crate) written: bool,
}

/// What an exit found on this thread's stack.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Exit {
    /// The span's entry, and the entries of the same layer above it, innermost first:
    /// spans entered after it and not exited yet, to be left first.
    Entered { entry: Entry, above: Vec<Entry> },
    /// No entry of the span (entered on another thread, or left early already), or the
    /// stack is gone (thread exit).
    NotEntered,
}

thread_local! {
    static STACK: RefCell<Vec<Entry>> = const { RefCell::new(Vec::new()) };
}

/// Runs `write` (which must not re-enter this module), then pushes the entry it
/// describes with `written` set to what `write` returned. Nothing runs, and `false` is
/// returned, when the stack is gone (thread exit): an Enter is never written without
/// an entry that will write its Leave.
pub(crate) fn enter(entry: Entry, write: impl FnOnce() -> bool) -> bool {
    STACK
        .try_with(|stack| {
            let Ok(mut stack) = stack.try_borrow_mut() else {
                return false;
            };
            let written = write();
            stack.push(Entry { written, ..entry });
            written
        })
        .unwrap_or(false)
}

/// The common case of an exit: when `span`, entered through `layer`, is this thread's
/// innermost entry, removes it and returns its name id, category id and whether its
/// Enter was written (small values, returned in registers); else `None` and nothing
/// changes ([`exit`] then).
#[inline]
pub(crate) fn pop_top(layer: u64, span: u64) -> Option<(u32, u32, bool)> {
    STACK
        .try_with(|stack| {
            let mut stack = stack.try_borrow_mut().ok()?;
            let top = stack.last()?;
            if top.layer != layer || top.span != span {
                return None;
            }
            let found = (top.name, top.category, top.written);
            stack.pop();
            Some(found)
        })
        .ok()
        .flatten()
}

/// Removes the innermost entry of `span` entered through `layer`, and the same layer's
/// entries above it.
pub(crate) fn exit(layer: u64, span: u64) -> Exit {
    STACK
        .try_with(|stack| {
            let Ok(mut stack) = stack.try_borrow_mut() else {
                return Exit::NotEntered;
            };
            let Some(at) = stack
                .iter()
                .rposition(|entry| entry.layer == layer && entry.span == span)
            else {
                return Exit::NotEntered;
            };
            let entry = stack.remove(at);
            let mut above = Vec::new();
            if stack.len() > at {
                // Rare (exits out of order): keep other layers' entries in place.
                let mut index = stack.len();
                while index > at {
                    index -= 1;
                    if stack[index].layer == layer {
                        above.push(stack.remove(index));
                    }
                }
            }
            Exit::Entered { entry, above }
        })
        .unwrap_or(Exit::NotEntered)
}

/// Whether `span` is entered through `layer` on this thread with its Enter written.
pub(crate) fn is_entered(layer: u64, span: u64) -> bool {
    STACK
        .try_with(|stack| {
            stack.try_borrow().is_ok_and(|stack| {
                stack
                    .iter()
                    .any(|entry| entry.layer == layer && entry.span == span && entry.written)
            })
        })
        .unwrap_or(false)
}

#[cfg(test)]
#[allow(non_snake_case)]
mod tests {
    use super::*;

    fn entry(layer: u64, span: u64) -> Entry {
        Entry {
            layer,
            span,
            name: 0,
            category: 0,
            written: true,
        }
    }

    #[test]
    fn exit__innermost__then_only_it_is_removed() {
        assert!(enter(entry(1, 10), || true));
        assert!(enter(entry(1, 11), || true));
        assert!(enter(entry(1, 12), || true));
        assert_eq!(pop_top(1, 11), None, "not the innermost");
        assert_eq!(pop_top(1, 12), Some((0, 0, true)));
        assert_eq!(
            exit(1, 11),
            Exit::Entered {
                entry: entry(1, 11),
                above: vec![]
            }
        );
        assert!(is_entered(1, 10));
        assert!(!is_entered(1, 11));
        assert!(matches!(exit(1, 10), Exit::Entered { .. }));
    }

    #[test]
    fn exit__out_of_order__then_the_layers_entries_above_come_out_innermost_first() {
        enter(entry(2, 1), || true);
        enter(entry(2, 2), || true);
        enter(entry(3, 9), || true); // another layer's: stays
        enter(entry(2, 3), || true);
        assert_eq!(
            exit(2, 1),
            Exit::Entered {
                entry: entry(2, 1),
                above: vec![entry(2, 3), entry(2, 2)]
            }
        );
        assert_eq!(exit(2, 2), Exit::NotEntered);
        assert!(is_entered(3, 9));
        assert!(matches!(exit(3, 9), Exit::Entered { .. }));
    }

    #[test]
    fn enter__write_refused__then_entry_kept_unwritten() {
        assert!(!enter(entry(4, 1), || false));
        assert!(!is_entered(4, 1), "not entered as far as records go");
        assert_eq!(
            exit(4, 1),
            Exit::Entered {
                entry: Entry {
                    written: false,
                    ..entry(4, 1)
                },
                above: vec![]
            }
        );
    }
}
