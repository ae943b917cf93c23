//! [`AdaLayer`]: `tracing`'s spans, events and fields as ada records on the calling
//! thread's index lane.

use crate::fields::{Records, SpanArgs, Visitor};
use crate::ids::{self, CLOSED_EARLY, EXIT, EXIT_UNMATCHED};
use crate::stack::{self, Entry, Exit};
use crate::stats::{LayerStats, Stats};
use crate::table::{SpanTable, TABLE_SLOTS};
use ada::registry::Registry;
use ada::{ArgType, Detail, Event, EventKind, Tracer};
use std::fmt;
use std::sync::Arc;
use tracing_core::span::{Attributes, Id, Record};
use tracing_core::{Event as TracingEvent, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

/// A [`tracing_subscriber::Layer`] that writes spans, events and their fields as ada
/// [`Event`] records to the index lane of the calling thread (see the [crate
/// docs](crate) for what each becomes).
///
/// Made by [`layer`](crate::layer) (with a tracer of its own and a
/// [`FlushGuard`](crate::FlushGuard)) or [`AdaLayer::for_tracer`] (for a tracer the
/// caller keeps).
pub struct AdaLayer {
    registry: Arc<Registry<Event, Detail>>,
    stats: Arc<Stats>,
    /// Tells this layer's entries on the threads' span stacks from other layers'.
    id: u64,
    /// The open spans' names and fields (those that fit; the rest are in the
    /// registry's extensions).
    table: SpanTable,
}

impl AdaLayer {
    /// A layer writing to `tracer`, which the caller keeps and shuts down (its report
    /// then counts the layer's records with everything else it holds; native
    /// `ada::span!(tracer: &tracer, ..)` records land on the same lanes).
    ///
    /// ```
    /// use tracing_subscriber::layer::SubscriberExt;
    ///
    /// let tracer = ada::Tracer::builder().build()?;
    /// let subscriber = tracing_subscriber::registry().with(ada_tracing::AdaLayer::for_tracer(&tracer));
    /// tracing::subscriber::with_default(subscriber, || {
    ///     let _span = tracing::info_span!("work", items = 3_u64).entered();
    /// });
    /// // The enter, its argument, the leave.
    /// assert_eq!(tracer.shutdown()?.totals.events_delivered, 3);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn for_tracer(tracer: &Tracer) -> Self {
        Self::new(Arc::clone(tracer.registry()), Arc::default())
    }

    pub(crate) fn new(registry: Arc<Registry<Event, Detail>>, stats: Arc<Stats>) -> Self {
        ids::intern_markers(&stats);
        Self {
            registry,
            stats,
            id: crate::sync::next_layer_id(),
            table: SpanTable::new(TABLE_SLOTS),
        }
    }

    /// What this layer could not record exactly as asked, so far.
    #[must_use]
    pub fn stats(&self) -> LayerStats {
        self.stats.snapshot()
    }

    /// Writes `records` adjacently on this thread's index lane; whether they were.
    fn write(&self, records: &Records) -> bool {
        // After the tracer's shutdown its lanes are no longer drained: write nothing.
        if self.registry.is_shutting_down() {
            self.stats.writes_refused.bump();
            return false;
        }
        let [inline, spilled] = records.parts();
        let written = self.registry.index_all_local(inline).is_ok()
            // The same thread's lane, right after: still adjacent.
            && (spilled.is_empty() || self.registry.index_all_local(spilled).is_ok());
        if !written {
            self.stats.writes_refused.bump();
        }
        written
    }

    /// An instant named like a span (`name`, `category`), with `ada.exit` = `why`.
    fn exit_marker(&self, name: u32, category: u32, why: u32) {
        let mut records =
            Records::new(Event::now(EventKind::Instant, name, 0).with_category(category));
        records.push(Event::arg(EXIT.id().get(), ArgType::Name, why.into()));
        self.write(&records);
    }

    fn leave(&self, entry: &Entry) {
        if entry.written {
            let leave = Event::now(EventKind::Leave, entry.name, 0).with_category(entry.category);
            self.write_one(leave);
        }
    }

    /// Enters the span `span`: its Enter, then `args`, on this thread's lane, and its
    /// entry on this thread's stack.
    #[inline]
    fn enter(&self, span: u64, name: u32, category: u32, args: &[Event]) {
        let entry = self.entry(span, name, category);
        if args.is_empty() {
            // One record: no buffer to fill and copy.
            stack::enter(entry, || {
                self.write_one(Event::now(EventKind::Enter, name, 0).with_category(category))
            });
            return;
        }
        let mut records = Records::new(Event::default());
        records.extend(args);
        self.enter_records(entry, &mut records);
    }

    /// Enters the span of `entry`: `records` (its Enter, stamped here, then its
    /// arguments) on this thread's lane, and `entry` on this thread's stack.
    fn enter_records(&self, entry: Entry, records: &mut Records) {
        stack::enter(entry, || {
            *records.first_mut() =
                Event::now(EventKind::Enter, entry.name, 0).with_category(entry.category);
            self.write(records)
        });
    }

    /// [`Self::enter`] for a span the table does not hold: its names and fields
    /// through the registry (its metadata, its extensions).
    #[cold]
    #[inline(never)]
    fn enter_listed<S>(&self, id: &Id, ctx: &Context<'_, S>)
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let Some(span) = ctx.span(id) else {
            return;
        };
        let metadata = span.metadata();
        let mut records = Records::new(Event::default());
        let names = if metadata.fields().is_empty() {
            None
        } else {
            span.extensions().get::<SpanArgs>().map(|args| {
                args.write_to(&mut records);
                (args.name, args.category)
            })
        };
        let (name, category) = names.unwrap_or_else(|| {
            let ids = ids::callsite(metadata, &self.stats);
            (ids.name, ids.category)
        });
        self.enter_records(self.entry(id.into_u64(), name, category), &mut records);
    }

    /// This layer's stack entry for the span `span`, its Enter not written yet.
    fn entry(&self, span: u64, name: u32, category: u32) -> Entry {
        Entry {
            layer: self.id,
            span,
            name,
            category,
            written: false,
        }
    }

    /// Writes one record on this thread's index lane; whether it was.
    fn write_one(&self, record: Event) -> bool {
        if self.registry.is_shutting_down() {
            self.stats.writes_refused.bump();
            return false;
        }
        let written = self.registry.index_local(record).is_ok();
        if !written {
            self.stats.writes_refused.bump();
        }
        written
    }
}

impl fmt::Debug for AdaLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdaLayer")
            .field("id", &self.id)
            .field("stats", &self.stats.snapshot())
            .finish_non_exhaustive()
    }
}

impl<S> Layer<S> for AdaLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let ids = ids::callsite(attrs.metadata(), &self.stats);
        let span = id.into_u64();
        if attrs.values().is_empty() {
            // Kept in the layer's table when its slot is free; else an enter finds its
            // names through the metadata.
            self.table.insert(span, ids.name, ids.category, &[], &[]);
            return;
        }
        let mut args = SpanArgs::new(ids.name, ids.category);
        attrs.record(&mut Visitor::span(&ids, &self.stats, &mut args));
        // The common case: the layer's table keeps it, and an enter finds it there.
        if let Some((fields, records)) = args.inline()
            && self
                .table
                .insert(span, ids.name, ids.category, fields, records)
        {
            return;
        }
        if args.is_empty() {
            return;
        }
        if let Some(span) = ctx.span(id) {
            let mut extensions = span.extensions_mut();
            // Another ada layer on the same registry may have kept them already (the
            // same ids: names are process-wide); a second insert would panic.
            if extensions.get_mut::<SpanArgs>().is_none() {
                extensions.insert(args);
            }
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else {
            return;
        };
        let ids = ids::callsite(span.metadata(), &self.stats);
        let mut newer = SpanArgs::new(ids.name, ids.category);
        values.record(&mut Visitor::span(&ids, &self.stats, &mut newer));
        if newer.is_empty() {
            return;
        }
        if stack::is_entered(self.id, id.into_u64()) {
            // Inside the span on this thread: the values at the time they were recorded,
            // as an instant named like the span (the span's enter is written already).
            let mut records = Records::new(
                Event::now(EventKind::Instant, ids.name, 0).with_category(ids.category),
            );
            newer.write_to(&mut records);
            self.write(&records);
        }
        {
            let mut extensions = span.extensions_mut();
            match extensions.get_mut::<SpanArgs>() {
                Some(args) => args.update(&newer),
                None => {
                    // From now on the extensions hold the span's fields (the table's
                    // entry stays as it is while other threads may read it).
                    let mut args = self
                        .table
                        .read(id.into_u64(), SpanArgs::from_entry)
                        .unwrap_or_else(|_| SpanArgs::new(ids.name, ids.category));
                    args.update(&newer);
                    extensions.insert(args);
                }
            }
        }
        self.table.mark_moved(id.into_u64());
    }

    fn on_event(&self, event: &TracingEvent<'_>, _ctx: Context<'_, S>) {
        let ids = ids::callsite(event.metadata(), &self.stats);
        let mut records = Records::new(Event::default());
        let mut message = None;
        event.record(&mut Visitor::event(
            &ids,
            &self.stats,
            &mut records,
            &mut message,
        ));
        *records.first_mut() = Event::now(EventKind::Instant, message.unwrap_or(ids.name), 0)
            .with_category(ids.category);
        self.write(&records);
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        let span = id.into_u64();
        let found = self.table.read(span, |entry| {
            self.enter(span, entry.name, entry.category, entry.args());
        });
        if found.is_err() {
            self.enter_listed(id, &ctx);
        }
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        if let Some((name, category, written)) = stack::pop_top(self.id, id.into_u64()) {
            if written {
                self.write_one(Event::now(EventKind::Leave, name, 0).with_category(category));
            }
            return;
        }
        match stack::exit(self.id, id.into_u64()) {
            Exit::Entered { entry, above } => {
                for early in &above {
                    // An enclosing span exits first: leave this one now (flagged), so
                    // that the Leave below closes the span it belongs to.
                    self.stats.spans_left_early.bump();
                    if early.written {
                        self.exit_marker(early.name, early.category, CLOSED_EARLY.id().get());
                    }
                    self.leave(early);
                }
                self.leave(&entry);
            }
            Exit::NotEntered => {
                // Entered on another thread (or left early): a Leave here would close
                // whatever this thread has open. An instant says where it ended.
                self.stats.exits_unmatched.bump();
                let Some(metadata) = ctx.metadata(id) else {
                    return;
                };
                let ids = ids::callsite(metadata, &self.stats);
                self.exit_marker(ids.name, ids.category, EXIT_UNMATCHED.id().get());
            }
        }
    }

    fn on_close(&self, id: Id, _ctx: Context<'_, S>) {
        self.table.remove(id.into_u64());
    }
}
