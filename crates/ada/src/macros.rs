//! `span!`, `instant!` and `counter!`: callsite-static names, the global tracer or an
//! explicit one, arguments as `key = value`.
//!
//! Every form takes optional prefixes, in this order or the other: `tracer: &tracer,`
//! (an explicit [`Tracer`](crate::Tracer); without it the global tracer of
//! [`install`](crate::install)) and `category: "name",` (or `target: "name",`). Names,
//! categories and argument keys are interned once per callsite (a `static`
//! `ada_names::Callsite`), so after the first use a name costs one load and a branch.
//!
//! With tracing off ([`set_enabled`](crate::set_enabled)), or no global tracer
//! installed, a macro costs one relaxed load and a branch: nothing is evaluated (not its
//! argument expressions), written or counted. With the crate's `off` feature the macros
//! expand to nothing that writes (argument expressions are type-checked, not evaluated).

/// Parses the optional `tracer:` and `category:`/`target:` prefixes, then hands the rest
/// to `__ada_emit!`.
#[doc(hidden)]
#[macro_export]
macro_rules! __ada_parse {
    ($kind:ident [] [$($category:tt)*] tracer: $tracer:expr, $($rest:tt)+) => {
        $crate::__ada_parse!($kind [$tracer] [$($category)*] $($rest)+)
    };
    ($kind:ident [$($tracer:tt)*] [] category: $category:expr, $($rest:tt)+) => {
        $crate::__ada_parse!($kind [$($tracer)*] [$category] $($rest)+)
    };
    ($kind:ident [$($tracer:tt)*] [] target: $category:expr, $($rest:tt)+) => {
        $crate::__ada_parse!($kind [$($tracer)*] [$category] $($rest)+)
    };
    (counter [$($tracer:expr)?] [$($category:expr)?] $name:expr, $value:expr $(,)?) => {
        $crate::__ada_emit!(counter [$($tracer)?] [$($category)?] $name, $value)
    };
    ($kind:ident [$($tracer:expr)?] [$($category:expr)?] $name:expr
        $(, $key:ident = $value:expr)* $(,)?) => {
        $crate::__ada_emit!($kind [$($tracer)?] [$($category)?] $name $(, $key = $value)*)
    };
}

/// The writing expansion (without the `off` feature).
#[cfg(not(feature = "off"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __ada_emit {
    (span [$($tracer:expr)?] [$($category:expr)?] $name:expr) => {{
        static __ADA_NAME: $crate::names::Callsite = $crate::names::Callsite::new($name);
        let __ada_target = $crate::__ada_target!($($tracer)?);
        if __ada_target.is_on() {
            $crate::__private::Span::enter_bare(
                __ada_target,
                &__ADA_NAME,
                $crate::__ada_category!($($category)?),
            )
        } else {
            $crate::__private::Span::off()
        }
    }};
    (instant [$($tracer:expr)?] [$($category:expr)?] $name:expr) => {{
        static __ADA_NAME: $crate::names::Callsite = $crate::names::Callsite::new($name);
        let __ada_target = $crate::__ada_target!($($tracer)?);
        if __ada_target.is_on() {
            $crate::__private::instant_bare(
                __ada_target,
                &__ADA_NAME,
                $crate::__ada_category!($($category)?),
            );
        }
    }};
    (span [$($tracer:expr)?] [$($category:expr)?] $name:expr $(, $key:ident = $value:expr)*) => {{
        static __ADA_NAME: $crate::names::Callsite = $crate::names::Callsite::new($name);
        let __ada_target = $crate::__ada_target!($($tracer)?);
        if __ada_target.is_on() {
            $crate::__private::Span::enter(
                __ada_target,
                &__ADA_NAME,
                $crate::__ada_category!($($category)?),
                &mut [$crate::Event::at(0, $crate::EventKind::Enter, 0, 0) $(, $crate::__ada_arg!($key = $value))*],
            )
        } else {
            $crate::__private::Span::off()
        }
    }};
    (instant [$($tracer:expr)?] [$($category:expr)?] $name:expr $(, $key:ident = $value:expr)*) => {{
        static __ADA_NAME: $crate::names::Callsite = $crate::names::Callsite::new($name);
        let __ada_target = $crate::__ada_target!($($tracer)?);
        if __ada_target.is_on() {
            $crate::__private::instant(
                __ada_target,
                &__ADA_NAME,
                $crate::__ada_category!($($category)?),
                &mut [$crate::Event::at(0, $crate::EventKind::Enter, 0, 0) $(, $crate::__ada_arg!($key = $value))*],
            );
        }
    }};
    (counter [$($tracer:expr)?] [$($category:expr)?] $name:expr, $value:expr) => {{
        static __ADA_NAME: $crate::names::Callsite = $crate::names::Callsite::new($name);
        let __ada_target = $crate::__ada_target!($($tracer)?);
        if __ada_target.is_on() {
            $crate::__private::counter(
                __ada_target,
                &__ADA_NAME,
                $crate::__ada_category!($($category)?),
                $value,
            );
        }
    }};
}

/// The `off` feature's expansion: type-checks, evaluates and writes nothing.
#[cfg(feature = "off")]
#[doc(hidden)]
#[macro_export]
macro_rules! __ada_emit {
    (span [$($tracer:expr)?] [$($category:expr)?] $name:expr $(, $key:ident = $value:expr)*) => {{
        if false {
            $(let _ = &$tracer;)?
            $(let _ = &$value;)*
        }
        $crate::__private::Span::off()
    }};
    (instant [$($tracer:expr)?] [$($category:expr)?] $name:expr $(, $key:ident = $value:expr)*) => {{
        if false {
            $(let _ = &$tracer;)?
            $(let _ = &$value;)*
        }
    }};
    (counter [$($tracer:expr)?] [$($category:expr)?] $name:expr, $value:expr) => {{
        if false {
            $(let _ = &$tracer;)?
            let _ = &$value;
        }
    }};
}

/// The global tracer, or an explicit one.
#[doc(hidden)]
#[macro_export]
macro_rules! __ada_target {
    () => {
        $crate::__private::Target::global()
    };
    ($tracer:expr) => {
        $crate::__private::Target::tracer($tracer)
    };
}

/// The category's callsite, if any.
#[doc(hidden)]
#[macro_export]
macro_rules! __ada_category {
    () => {
        ::core::option::Option::None
    };
    ($category:expr) => {{
        static __ADA_CATEGORY: $crate::names::Callsite = $crate::names::Callsite::new($category);
        ::core::option::Option::Some(&__ADA_CATEGORY)
    }};
}

/// An argument record, its key interned once per callsite.
#[doc(hidden)]
#[macro_export]
macro_rules! __ada_arg {
    ($key:ident = $value:expr) => {{
        static __ADA_KEY: $crate::names::Callsite =
            $crate::names::Callsite::new(::core::stringify!($key));
        $crate::__private::arg(&__ADA_KEY, $value)
    }};
}

/// Enters a span now and leaves it when the returned guard ([`Span`](crate::Span))
/// drops: at the end of the scope, an early `return`, a `?`, or while unwinding.
///
/// `span!(name)`, `span!(name, key = value, ..)` (arguments written as Arg records
/// right after the Enter, see [`ArgValue`](crate::ArgValue)), with optional prefixes
/// `tracer: &tracer,` and `category: "..",` (see the [module docs](crate#instrumenting)).
/// The name and keys are `&'static str` constants.
///
/// ```
/// let guard = ada::install(ada::Tracer::builder())?;
/// fn parse(input: &str) -> Result<u32, std::num::ParseIntError> {
///     let _span = ada::span!("parse", bytes = input.len());
///     let value = input.trim().parse()?; // an early return leaves the span too
///     Ok(value)
/// }
/// parse("42")?;
/// assert!(parse("x").is_err());
/// let report = guard.finish()?;
/// // Two spans: enter, one argument, leave each.
/// assert_eq!(report.totals.events_delivered, 6);
///
/// // An explicit tracer and a category.
/// let tracer = ada::Tracer::builder().build()?;
/// {
///     let _span = ada::span!(tracer: &tracer, category: "io", "read", fd = 3);
/// }
/// assert_eq!(tracer.shutdown()?.totals.events_delivered, 3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[macro_export]
macro_rules! span {
    ($($input:tt)+) => {
        $crate::__ada_parse!(span [] [] $($input)+)
    };
}

/// Writes an instant event (stamped now) with optional arguments: `instant!(name)`,
/// `instant!(name, key = value, ..)`; prefixes as [`span!`].
///
/// ```
/// let tracer = ada::Tracer::builder().build()?;
/// let key = "user:42";
/// ada::instant!(tracer: &tracer, "cache_miss", key = key, attempt = 2);
/// assert_eq!(tracer.shutdown()?.totals.events_delivered, 3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[macro_export]
macro_rules! instant {
    ($($input:tt)+) => {
        $crate::__ada_parse!(instant [] [] $($input)+)
    };
}

/// Writes a counter's value (stamped now): `counter!(name, value)`, any
/// [`ArgValue`](crate::ArgValue) (the record's `depth` holds its
/// [`ArgType`](crate::ArgType)); prefixes as [`span!`].
///
/// ```
/// let tracer = ada::Tracer::builder().build()?;
/// let queue = vec![1, 2, 3];
/// ada::counter!(tracer: &tracer, "queue_len", queue.len());
/// assert_eq!(tracer.shutdown()?.totals.events_delivered, 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[macro_export]
macro_rules! counter {
    ($($input:tt)+) => {
        $crate::__ada_parse!(counter [] [] $($input)+)
    };
}
