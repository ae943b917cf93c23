//! `tracing` field values as ada argument records: numbers and booleans as typed
//! values, strings and `Debug` values interned (at most [`MAX_STRING_LEN`] bytes;
//! longer ones truncated and flagged), and an event's `message` as its name.

use crate::ids::{self, CallsiteIds, UNNAMED};
use crate::stats::Stats;
use ada::{ArgType, Event};
use arrayvec::{ArrayString, ArrayVec};
use std::fmt::{self, Write as _};
use tracing_core::field::{Field, Visit};

/// The longest string or `Debug` value recorded whole, in bytes (UTF-8). A longer one
/// is cut at the last character boundary within it, `…` is appended, and a
/// `<key>.truncated` argument with the original length follows it.
pub const MAX_STRING_LEN: usize = 64;

/// What marks a truncated value's end.
const ELLIPSIS: &str = "…";

/// The records one field becomes: its value, and up to two flags (unnamed, truncated).
pub(crate) type FieldRecords = ArrayVec<Event, 3>;

/// Where a visit puts each field's records.
pub(crate) trait ArgSink {
    /// The records of the field numbered `index`.
    fn field(&mut self, index: usize, records: &[Event]);
}

/// An event's or an enter's records, in lane order: the event, then its arguments.
/// Inline for every callsite `tracing`'s macros make (at most 32 fields, three records
/// each); beyond that they continue on the heap.
#[derive(Debug, Default)]
pub(crate) struct Records {
    inline: ArrayVec<Event, 100>,
    spilled: Vec<Event>,
}

impl Records {
    /// Records starting with `first` (its timestamp is set when it is written).
    pub(crate) fn new(first: Event) -> Self {
        let mut records = Self::default();
        records.inline.push(first);
        records
    }

    pub(crate) fn push(&mut self, record: Event) {
        if let Err(full) = self.inline.try_push(record) {
            self.spilled.push(full.element());
        }
    }

    pub(crate) fn extend(&mut self, records: &[Event]) {
        for record in records {
            self.push(*record);
        }
    }

    /// The first record (the event itself).
    pub(crate) fn first_mut(&mut self) -> &mut Event {
        &mut self.inline[0]
    }

    /// The records in lane order: up to two slices, written one after the other.
    pub(crate) fn parts(&self) -> [&[Event]; 2] {
        [&self.inline, &self.spilled]
    }
}

impl ArgSink for Records {
    fn field(&mut self, _index: usize, records: &[Event]) {
        self.extend(records);
    }
}

/// A span's fields as records, kept in its extensions from its creation: each field's
/// latest value (a `record` replaces the earlier one), written after every enter.
#[derive(Debug, Default)]
pub(crate) struct SpanArgs {
    fields: Vec<(usize, FieldRecords)>,
}

impl SpanArgs {
    /// Appends the records of every field, in the order they were first recorded.
    pub(crate) fn write_to(&self, records: &mut Records) {
        for (_, field) in &self.fields {
            records.extend(field);
        }
    }

    /// Takes `newer`'s values, replacing fields recorded before.
    pub(crate) fn update(&mut self, newer: Self) {
        for (index, records) in newer.fields {
            self.field(index, &records);
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }
}

impl ArgSink for SpanArgs {
    fn field(&mut self, index: usize, records: &[Event]) {
        let records = records.iter().copied().collect();
        match self.fields.iter_mut().find(|(known, _)| *known == index) {
            Some((_, known)) => *known = records,
            None => self.fields.push((index, records)),
        }
    }
}

/// Text up to [`MAX_STRING_LEN`] bytes, and how long the whole was: a `fmt::Write`
/// that keeps whole characters while they fit and only counts the rest (nothing
/// allocated, whatever the value's size).
#[derive(Debug)]
pub(crate) struct Bounded {
    text: ArrayString<{ MAX_STRING_LEN + ELLIPSIS.len() }>,
    total: usize,
}

impl Bounded {
    pub(crate) fn new() -> Self {
        Self {
            text: ArrayString::new(),
            total: 0,
        }
    }

    /// Whether the text was cut.
    pub(crate) fn truncated(&self) -> bool {
        self.total > MAX_STRING_LEN
    }

    /// The text kept, ending in `…` when it was cut.
    pub(crate) fn as_str(&mut self) -> &str {
        if self.truncated() && !self.text.ends_with(ELLIPSIS) {
            self.text.push_str(ELLIPSIS);
        }
        &self.text
    }
}

impl fmt::Write for Bounded {
    fn write_str(&mut self, piece: &str) -> fmt::Result {
        let fits = self.total + piece.len() <= MAX_STRING_LEN;
        if fits {
            self.text.push_str(piece);
        } else if self.total <= MAX_STRING_LEN {
            // The first piece that does not fit: keep its whole characters that do,
            // then nothing more (no gap in the text).
            let mut end = MAX_STRING_LEN - self.total;
            while !piece.is_char_boundary(end) {
                end -= 1;
            }
            self.text.push_str(&piece[..end]);
        }
        self.total += piece.len();
        Ok(())
    }
}

/// The field whose value names an event.
const MESSAGE: &str = "message";

/// Turns visited fields into records for `sink`; an event's `message`, when `message`
/// is given, into the name id it gets instead.
pub(crate) struct Visitor<'a, S> {
    ids: &'a CallsiteIds,
    stats: &'a Stats,
    sink: &'a mut S,
    /// For events: the message's name id, once visited.
    message: Option<&'a mut Option<u32>>,
}

impl<'a, S: ArgSink> Visitor<'a, S> {
    /// A visitor of a span's fields (a `message` field is an argument like any other).
    pub(crate) fn span(ids: &'a CallsiteIds, stats: &'a Stats, sink: &'a mut S) -> Self {
        Self {
            ids,
            stats,
            sink,
            message: None,
        }
    }

    /// A visitor of an event's fields: the `message` becomes `message`'s name id.
    pub(crate) fn event(
        ids: &'a CallsiteIds,
        stats: &'a Stats,
        sink: &'a mut S,
        message: &'a mut Option<u32>,
    ) -> Self {
        Self {
            ids,
            stats,
            sink,
            message: Some(message),
        }
    }

    fn typed(&mut self, field: &Field, ty: ArgType, bits: u64) {
        let key = self.ids.key(field.index());
        self.sink.field(field.index(), &[Event::arg(key, ty, bits)]);
    }

    /// A string value (whole when it fits, else cut and flagged), or the event's name.
    fn string(&mut self, field: &Field, text: &mut Bounded) {
        let index = field.index();
        let key = self.ids.key(index);
        let mut records = FieldRecords::new();
        let truncated = text.truncated();
        let total = text.total;
        let id = ids::intern(text.as_str());
        if let Some(message) = self.message.as_deref_mut()
            && field.name() == MESSAGE
        {
            // The event's name; only the flags (if any) are arguments.
            match id {
                Ok(id) => *message = Some(id),
                Err(_) => {
                    self.stats.names_unavailable.bump();
                    records.push(Event::arg(UNNAMED.id().get(), ArgType::Name, key.into()));
                }
            }
        } else {
            match id {
                Ok(id) => records.push(Event::arg(key, ArgType::Name, id.into())),
                Err(_) => {
                    self.stats.names_unavailable.bump();
                    records.push(Event::arg(key, ArgType::Name, 0));
                    records.push(Event::arg(UNNAMED.id().get(), ArgType::Name, key.into()));
                }
            }
        }
        if truncated {
            self.stats.strings_truncated.bump();
            let flag = self.ids.truncated_key(index, self.stats);
            records.push(Event::arg(flag, ArgType::U64, total as u64));
        }
        if !records.is_empty() {
            self.sink.field(index, &records);
        }
    }
}

impl<S: ArgSink> Visit for Visitor<'_, S> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.typed(field, ArgType::F64, value.to_bits());
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.typed(field, ArgType::I64, value.cast_unsigned());
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.typed(field, ArgType::U64, value);
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        match i64::try_from(value) {
            Ok(value) => self.record_i64(field, value),
            Err(_) => self.record_debug(field, &value),
        }
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        match u64::try_from(value) {
            Ok(value) => self.record_u64(field, value),
            Err(_) => self.record_debug(field, &value),
        }
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.typed(field, ArgType::Bool, u64::from(value));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        let mut text = Bounded::new();
        let _ = text.write_str(value);
        self.string(field, &mut text);
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let mut text = Bounded::new();
        // `Bounded` never fails; a `Debug` impl that does leaves what it wrote.
        let _ = write!(text, "{value:?}");
        self.string(field, &mut text);
    }
}

#[cfg(test)]
#[allow(non_snake_case)]
mod tests {
    use super::*;

    #[test]
    fn bounded__text_that_fits__then_kept_whole_unflagged() {
        let mut text = Bounded::new();
        write!(text, "{}", "a".repeat(MAX_STRING_LEN)).unwrap();
        assert!(!text.truncated());
        assert_eq!(text.as_str(), "a".repeat(MAX_STRING_LEN));
    }

    #[test]
    fn bounded__longer_text_in_pieces__then_cut_at_a_char_boundary_with_an_ellipsis() {
        let mut text = Bounded::new();
        text.write_str(&"a".repeat(MAX_STRING_LEN - 1)).unwrap();
        text.write_str("éé").unwrap(); // 2 bytes each: the first does not fit
        text.write_str("b").unwrap(); // fits the byte left, but must not follow a gap
        assert!(text.truncated());
        assert_eq!(text.total, MAX_STRING_LEN - 1 + 5);
        assert_eq!(text.as_str(), format!("{}…", "a".repeat(MAX_STRING_LEN - 1)));
    }

    #[test]
    fn span_args__a_field_recorded_again__then_replaced_in_place() {
        let mut args = SpanArgs::default();
        args.field(1, &[Event::arg(7, ArgType::U64, 1)]);
        args.field(0, &[Event::arg(8, ArgType::U64, 2)]);
        args.field(1, &[Event::arg(7, ArgType::U64, 3)]);
        let mut records = Records::new(Event::default());
        args.write_to(&mut records);
        let [inline, spilled] = records.parts();
        assert!(spilled.is_empty());
        let values: Vec<_> = inline[1..].iter().map(|arg| arg.argument).collect();
        assert_eq!(values, [3, 2]);
    }

    #[test]
    fn records__more_than_fit_inline__then_continued_in_order() {
        let mut records = Records::new(Event::default());
        for n in 1..=150 {
            records.push(Event::arg(1, ArgType::U64, n));
        }
        let [inline, spilled] = records.parts();
        let all: Vec<_> = inline.iter().chain(spilled).map(|e| e.argument).collect();
        assert_eq!(all, (0..=150).collect::<Vec<_>>());
    }
}
