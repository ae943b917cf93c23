//! [`AdaLayer`]: `tracing`'s spans, events and fields as ada records on the calling
//! thread's index lane.

use crate::fields::{Records, SpanArgs, Visitor};
use crate::ids::{self, CLOSED_EARLY, EXIT, EXIT_UNMATCHED};
use crate::stack::{self, Entry, Exit};
use crate::stats::{LayerStats, Stats};
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
        if attrs.values().is_empty() {
            return; // nothing to keep: an enter finds its names through the metadata
        }
        let ids = ids::callsite(attrs.metadata(), &self.stats);
        let mut args = SpanArgs::new(ids.name, ids.category);
        attrs.record(&mut Visitor::span(&ids, &self.stats, &mut args));
        if args.is_empty() {
            return;
        }
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(args);
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
        let mut extensions = span.extensions_mut();
        match extensions.get_mut::<SpanArgs>() {
            Some(args) => args.update(&newer),
            None => extensions.insert(newer),
        }
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
        let Some(span) = ctx.span(id) else {
            return;
        };
        let metadata = span.metadata();
        let mut records = Records::new(Event::default());
        // A span with fields has its names in its extensions; one without, in the
        // callsite cache.
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
        let entry = Entry {
            layer: self.id,
            span: id.into_u64(),
            name,
            category,
            written: false,
        };
        stack::enter(entry, || {
            *records.first_mut() = Event::now(EventKind::Enter, name, 0).with_category(category);
            self.write(&records)
        });
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
}
