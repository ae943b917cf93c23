//! What the layer could not record as asked: counted here, and (except refusals) also
//! flagged in the records themselves, so that nothing is lost or altered silently.

use crate::sync::Counter;
use std::fmt;

/// The live counters a layer and its guard share.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub(crate) strings_truncated: Counter,
    pub(crate) names_unavailable: Counter,
    pub(crate) exits_unmatched: Counter,
    pub(crate) spans_left_early: Counter,
    pub(crate) writes_refused: Counter,
}

impl Stats {
    pub(crate) fn snapshot(&self) -> LayerStats {
        LayerStats {
            strings_truncated: self.strings_truncated.get(),
            names_unavailable: self.names_unavailable.get(),
            exits_unmatched: self.exits_unmatched.get(),
            spans_left_early: self.spans_left_early.get(),
            writes_refused: self.writes_refused.get(),
        }
    }
}

/// The layer's own counts of what it could not record exactly as asked (the tracer's
/// [`DrainReport`](ada::DrainReport) counts the records themselves).
///
/// ```
/// let (_layer, guard) = ada_tracing::layer(ada::Tracer::builder())?;
/// assert!(guard.stats().is_clean());
/// # Ok::<(), ada_tracing::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct LayerStats {
    /// String and `Debug` values longer than [`MAX_STRING_LEN`](crate::MAX_STRING_LEN)
    /// bytes, recorded truncated (ending in `…`) and flagged by a `<key>.truncated`
    /// argument holding the original length.
    pub strings_truncated: u64,
    /// Names that the process-wide name table could not take (full, or a name over its
    /// length limit): a string value is then recorded as no name, followed by an
    /// `ada.unnamed` argument naming its key; a span, event, target or key name shows
    /// as unnamed.
    pub names_unavailable: u64,
    /// Span exits on a thread with no open enter of that span (entered on another
    /// thread, or left early): recorded as an instant named like the span, with
    /// `ada.exit` saying so, never as a leave that would unbalance the thread's nesting.
    pub exits_unmatched: u64,
    /// Spans left before their own exit because an enclosing span exited first (exits
    /// out of order): each gets an instant with `ada.exit`, then its leave, so that
    /// the thread's nesting stays balanced.
    pub spans_left_early: u64,
    /// Spans, events and records not written: the thread could not register with the
    /// tracer (more threads than its capacity, or during thread exit), the tracer was
    /// finished already.
    pub writes_refused: u64,
}

impl LayerStats {
    /// Whether everything was recorded exactly as asked.
    #[must_use]
    pub fn is_clean(&self) -> bool {
        *self == Self::default()
    }
}

impl fmt::Display for LayerStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} strings truncated, {} names unavailable, {} unmatched exits, \
             {} spans left early, {} writes refused",
            self.strings_truncated,
            self.names_unavailable,
            self.exits_unmatched,
            self.spans_left_early,
            self.writes_refused,
        )
    }
}
