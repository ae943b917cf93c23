//! `tracing` field values as ada argument records: numbers and booleans as typed
//! values, strings and `Debug` values interned (at most [`MAX_STRING_LEN`] bytes;
//! longer ones truncated and flagged), and an event's `message` as its name.

use crate::ids::{CallsiteIds, UNNAMED};
use crate::stats::Stats;
use crate::table::{SpanEntry, TABLE_ARGS};
use ada::{ArgType, Event, EventKind};
use arrayvec::{ArrayString, ArrayVec};
use std::fmt::{self, Write as _};
use tracing_core::field::{Field, Visit};

/// The longest string or `Debug` value recorded whole, in bytes (UTF-8). A longer one
/// is cut at the last character boundary within it, `…` is appended, and a
/// `<key>.truncated` argument with the original length follows it.
pub const MAX_STRING_LEN: usize = 64;

/// What marks a truncated value's end.
const ELLIPSIS: &str = "…";

/// Where a visit puts each field's records (a value, then its flags, if any).
pub(crate) trait ArgSink {
    /// A record of the field numbered `index`.
    fn push(&mut self, index: usize, record: Event);

    /// The argument record `Event::arg(key, ty, bits)` of the field numbered `index`.
    #[inline(always)]
    fn push_arg(&mut self, index: usize, key: u32, ty: ArgType, bits: u64) {
        self.push(index, Event::arg(key, ty, bits));
    }
}

/// How many records [`Records`] holds inline: the array is zeroed for every event and
/// enter, so it stays small (8 × 32 B; 16 cost callgrind 49 instructions of memset).
const RECORDS_INLINE: usize = 8;

/// An event's or an enter's records, in lane order: the event, then its arguments.
/// Inline for up to 7 arguments (256 bytes of stack); beyond that they continue on the
/// heap.
///
/// A plain array, not an `ArrayVec`: a record is then stored straight into its slot
/// (an `ArrayVec` push built it on the stack first and copied it with wider loads than
/// the stores that built it, a store-forwarding stall that was a quarter of an event's
/// cost).
#[derive(Debug)]
pub(crate) struct Records {
    inline: [Event; RECORDS_INLINE],
    len: usize,
    spilled: Vec<Event>,
}

impl Records {
    /// Records starting with `first` (its timestamp is set when it is written).
    #[inline(always)]
    pub(crate) fn new(first: Event) -> Self {
        let mut inline = [Event::default(); RECORDS_INLINE];
        inline[0] = first;
        Self {
            inline,
            len: 1,
            spilled: Vec::new(),
        }
    }

    #[inline(always)]
    pub(crate) fn push(&mut self, record: Event) {
        match self.inline.get_mut(self.len) {
            Some(slot) => {
                *slot = record;
                self.len += 1;
            }
            None => self.spill(record),
        }
    }

    #[cold]
    #[inline(never)]
    fn spill(&mut self, record: Event) {
        self.spilled.push(record);
    }

    #[inline]
    pub(crate) fn extend(&mut self, records: &[Event]) {
        match self.inline.get_mut(self.len..self.len + records.len()) {
            Some(slots) => {
                // The common case: one copy.
                slots.copy_from_slice(records);
                self.len += records.len();
            }
            None => records.iter().for_each(|record| self.push(*record)),
        }
    }

    /// The first record (the event itself).
    #[inline(always)]
    pub(crate) fn first_mut(&mut self) -> &mut Event {
        &mut self.inline[0]
    }

    /// The records in lane order: up to two slices, written one after the other.
    #[inline]
    pub(crate) fn parts(&self) -> [&[Event]; 2] {
        [&self.inline[..self.len], &self.spilled]
    }
}

impl ArgSink for Records {
    #[inline]
    fn push(&mut self, _index: usize, record: Event) {
        self.push(record);
    }

    #[inline(always)]
    fn push_arg(&mut self, _index: usize, key: u32, ty: ArgType, bits: u64) {
        match self.inline.get_mut(self.len) {
            Some(slot) => {
                // Field by field into the slot: a record built on the stack and then
                // copied was read back with wider loads than its stores (a stall).
                slot.ticks = 0;
                slot.name = key;
                slot.category = 0;
                slot.argument = bits;
                slot.kind = EventKind::Arg as u32;
                slot.depth = ty as u32;
                self.len += 1;
            }
            None => self.spill(Event::arg(key, ty, bits)),
        }
    }
}

/// Argument records kept inline by a span (beyond, on the heap).
const SPAN_INLINE: usize = 4;

/// A span's fields as records, kept in its extensions from its creation: each field's
/// latest value (a `record` replaces the earlier one), written after every enter; and
/// the span's name and category ids, so that an enter needs no callsite lookup.
/// Small (a few fields inline): its box is the one allocation it costs.
#[derive(Debug, Default)]
pub(crate) struct SpanArgs {
    pub(crate) name: u32,
    pub(crate) category: u32,
    records: ArrayVec<Event, SPAN_INLINE>,
    /// The field index of each record of `records`.
    fields: ArrayVec<u16, SPAN_INLINE>,
    spilled: Vec<(u16, Event)>,
}

impl SpanArgs {
    /// No fields yet, for a span of these name and category ids.
    pub(crate) fn new(name: u32, category: u32) -> Self {
        Self {
            name,
            category,
            records: ArrayVec::new(),
            fields: ArrayVec::new(),
            spilled: Vec::new(),
        }
    }

    /// Appends every field's records, in the order they were recorded.
    pub(crate) fn write_to(&self, records: &mut Records) {
        records.extend(&self.records);
        for (_, record) in &self.spilled {
            records.push(*record);
        }
    }

    /// Takes `newer`'s values: a field recorded before is replaced where it was, a new
    /// one appended. (The rare path of `span.record`.)
    pub(crate) fn update(&mut self, newer: &Self) {
        let fresh: Vec<(u16, Event)> = newer.tagged().collect();
        let of = |index: u16| {
            fresh
                .iter()
                .copied()
                .filter(move |(field, _)| *field == index)
        };
        let mut merged = Vec::new();
        let mut placed = Vec::new();
        for (index, record) in self.tagged() {
            if of(index).next().is_none() {
                merged.push((index, record));
            } else if !placed.contains(&index) {
                merged.extend(of(index));
                placed.push(index);
            }
        }
        merged.extend(fresh.iter().filter(|(field, _)| !placed.contains(field)));
        *self = Self::new(self.name, self.category);
        for (index, record) in merged {
            self.push(usize::from(index), record);
        }
    }

    fn tagged(&self) -> impl Iterator<Item = (u16, Event)> + '_ {
        self.fields
            .iter()
            .copied()
            .zip(self.records.iter().copied())
            .chain(self.spilled.iter().copied())
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Its argument records and their field indices, when they all are inline (the
    /// layer's table takes at most [`TABLE_ARGS`] of them).
    pub(crate) fn inline(&self) -> Option<(&[u16], &[Event])> {
        (self.spilled.is_empty() && self.records.len() <= TABLE_ARGS)
            .then_some((&self.fields, &self.records))
    }

    /// A table entry's span, to be kept in the registry's extensions from now on.
    pub(crate) fn from_entry(entry: &SpanEntry) -> Self {
        let mut args = Self::new(entry.name, entry.category);
        for (&field, &record) in entry.fields().iter().zip(entry.args()) {
            args.push(usize::from(field), record);
        }
        args
    }
}

impl ArgSink for SpanArgs {
    #[inline]
    fn push(&mut self, index: usize, record: Event) {
        // Callsites have at most a few dozen fields; an index past u16 is no field.
        let index = u16::try_from(index).unwrap_or(u16::MAX);
        if self.spilled.is_empty() && !self.records.is_full() {
            self.records.push(record);
            self.fields.push(index);
        } else {
            self.spilled.push((index, record));
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
pub(crate) const MESSAGE: &str = "message";

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

    #[inline]
    fn typed(&mut self, field: &Field, ty: ArgType, bits: u64) {
        let index = field.index();
        self.sink.push_arg(index, self.ids.key(index), ty, bits);
    }

    /// A string value (whole when it fits, else cut and flagged), or the event's name.
    fn string(&mut self, field: &Field, text: &mut Bounded) {
        let index = field.index();
        let key = self.ids.key(index);
        let truncated = text.truncated();
        let total = text.total;
        let id = self.ids.value_id(index, text.as_str());
        if let Some(message) = self.message.as_deref_mut()
            && self.ids.is_message(index)
        {
            // The event's name; only the flags (if any) are arguments.
            match id {
                Ok(id) => *message = Some(id),
                Err(_) => {
                    self.stats.names_unavailable.bump();
                    let unnamed = Event::arg(UNNAMED.id().get(), ArgType::Name, key.into());
                    self.sink.push(index, unnamed);
                }
            }
        } else {
            match id {
                Ok(id) => self
                    .sink
                    .push(index, Event::arg(key, ArgType::Name, id.into())),
                Err(_) => {
                    self.stats.names_unavailable.bump();
                    self.sink.push(index, Event::arg(key, ArgType::Name, 0));
                    let unnamed = Event::arg(UNNAMED.id().get(), ArgType::Name, key.into());
                    self.sink.push(index, unnamed);
                }
            }
        }
        if truncated {
            self.stats.strings_truncated.bump();
            let flag = self.ids.truncated_key(index, self.stats);
            self.sink
                .push(index, Event::arg(flag, ArgType::U64, total as u64));
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
        assert_eq!(
            text.as_str(),
            format!("{}…", "a".repeat(MAX_STRING_LEN - 1))
        );
    }

    #[test]
    fn span_args__a_field_recorded_again__then_replaced_where_it_was() {
        let mut args = SpanArgs::default();
        args.push(1, Event::arg(7, ArgType::U64, 1));
        args.push(0, Event::arg(8, ArgType::U64, 2));
        args.push(0, Event::arg(9, ArgType::U64, 3)); // a flag of field 0
        for index in 2..6 {
            args.push(index, Event::arg(10, ArgType::U64, 10 + index as u64));
        }
        let mut newer = SpanArgs::default();
        newer.push(0, Event::arg(8, ArgType::U64, 20)); // no flag this time
        newer.push(5, Event::arg(10, ArgType::U64, 50)); // spilled before, replaced too
        newer.push(9, Event::arg(11, ArgType::U64, 90)); // new: appended
        args.update(&newer);
        let mut records = Records::new(Event::default());
        args.write_to(&mut records);
        let [inline, spilled] = records.parts();
        assert!(spilled.is_empty());
        let values: Vec<_> = inline[1..].iter().map(|arg| arg.argument).collect();
        assert_eq!(values, [1, 20, 12, 13, 14, 50, 90]);
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
