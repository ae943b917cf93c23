//! Name ids without the name table's lock on the hot path: a per-thread cache of each
//! `tracing` callsite's ids (its name, its target, its field keys, and each field's last
//! string value), and a per-thread direct-mapped cache of interned string values.
//!
//! Names are process-wide facts (`ada::names`), so both caches are shared by every
//! layer of the process; each thread fills its own, without any atomic: a callsite
//! costs one hash lookup after its first use on a thread, a field repeating its last
//! string value (an event's constant message) one compare, another string seen recently
//! one hash and one compare. A miss interns (`ada::names::intern`, a short lock).

use crate::stats::Stats;
use ada::names::{self, Callsite, NameError};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::rc::Rc;
use tracing_core::Metadata;

/// The key of an argument record that flags the string value just before it as
/// truncated, when the field's own `<key>.truncated` cannot be interned: the original
/// length in bytes.
pub(crate) static TRUNCATED: Callsite = Callsite::new("ada.truncated");
/// The key of an argument record that flags the string value just before it as
/// unnamed (the name table could not take it): the value is the field's key.
pub(crate) static UNNAMED: Callsite = Callsite::new("ada.unnamed");
/// The key of the argument a marker instant carries to say why it was written.
pub(crate) static EXIT: Callsite = Callsite::new("ada.exit");
/// The value of [`EXIT`] on an exit with no open enter of the span on its thread.
pub(crate) static EXIT_UNMATCHED: Callsite =
    Callsite::new("exit without an open enter on this thread");
/// The value of [`EXIT`] on a span left early: an enclosing span exited first.
pub(crate) static CLOSED_EARLY: Callsite =
    Callsite::new("left early: an enclosing span exited first");

/// Interns the markers' names while the table surely has room.
pub(crate) fn intern_markers(stats: &Stats) {
    for marker in [&TRUNCATED, &UNNAMED, &EXIT, &EXIT_UNMATCHED, &CLOSED_EARLY] {
        if marker.id().is_none() {
            stats.names_unavailable.bump();
        }
    }
}

/// One field of a callsite: its key's id, made on the first truncation the id of
/// `<key>.truncated`, and the last string value this thread recorded for it.
#[derive(Debug)]
struct FieldIds {
    name: &'static str,
    key: u32,
    /// Named `message` (an event's text, which becomes its name): decided once here,
    /// not by a string compare on every event.
    message: bool,
    /// 0 until a value of this field is first truncated.
    truncated: Cell<u32>,
    /// The last string value and its id: a field that repeats its value (an event's
    /// constant message) costs a compare.
    last: RefCell<Option<(Box<str>, u32)>>,
}

/// A `tracing` callsite's ids: its name, its target (the records' category) and its
/// fields' keys, by field index.
#[derive(Debug)]
pub(crate) struct CallsiteIds {
    pub(crate) name: u32,
    pub(crate) category: u32,
    fields: Box<[FieldIds]>,
}

impl CallsiteIds {
    /// Interns everything; each name that cannot be interned is counted and stays 0.
    /// Whether every name was interned.
    fn new(metadata: &'static Metadata<'static>, stats: &Stats) -> (Self, bool) {
        let mut complete = true;
        let mut id = |name: &str| match names::intern(name) {
            Ok(id) => id.get(),
            Err(_) => {
                stats.names_unavailable.bump();
                complete = false;
                0
            }
        };
        let name = id(metadata.name());
        let category = id(metadata.target());
        let fields = metadata
            .fields()
            .iter()
            .map(|field| FieldIds {
                name: field.name(),
                key: id(field.name()),
                message: field.name() == crate::fields::MESSAGE,
                truncated: Cell::new(0),
                last: RefCell::new(None),
            })
            .collect();
        (
            Self {
                name,
                category,
                fields,
            },
            complete,
        )
    }

    /// The key id of the field numbered `index` (0 for an index the callsite lacks).
    pub(crate) fn key(&self, index: usize) -> u32 {
        self.fields.get(index).map_or(0, |field| field.key)
    }

    /// Whether field `index` is named `message`.
    pub(crate) fn is_message(&self, index: usize) -> bool {
        self.fields.get(index).is_some_and(|field| field.message)
    }

    /// The id of `value`, a string value of field `index`: its last value's when it
    /// repeats, else through [`intern`].
    ///
    /// # Errors
    /// As [`intern`].
    pub(crate) fn value_id(&self, index: usize, value: &str) -> Result<u32, NameError> {
        let Some(field) = self.fields.get(index) else {
            return intern(value);
        };
        if let Ok(last) = field.last.try_borrow()
            && let Some((text, id)) = last.as_ref()
            && **text == *value
        {
            return Ok(*id);
        }
        let id = intern(value)?;
        if let Ok(mut last) = field.last.try_borrow_mut() {
            *last = Some((value.into(), id));
        }
        Ok(id)
    }

    /// The key of the record that flags a truncated value of field `index`:
    /// `<key>.truncated`, or [`TRUNCATED`] when that cannot be interned (counted).
    pub(crate) fn truncated_key(&self, index: usize, stats: &Stats) -> u32 {
        let Some(field) = self.fields.get(index) else {
            return TRUNCATED.id().get();
        };
        if field.truncated.get() == 0 {
            match names::intern(&format!("{}.truncated", field.name)) {
                Ok(id) => field.truncated.set(id.get()),
                Err(_) => {
                    stats.names_unavailable.bump();
                    return TRUNCATED.id().get();
                }
            }
        }
        field.truncated.get()
    }
}

/// Hashes a pointer-sized key (a callsite's metadata address) or a string's bytes:
/// a multiply-rotate hash, enough for keys that are addresses or short strings.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct FastHasher(u64);

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl Hasher for FastHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            let mut array = [0_u8; 8];
            array.copy_from_slice(word);
            self.write_u64(u64::from_le_bytes(array));
        }
        let mut tail = [0_u8; 8];
        tail[..words.remainder().len()].copy_from_slice(words.remainder());
        self.write_u64(u64::from_le_bytes(tail) ^ bytes.len() as u64);
    }

    fn write_u64(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(SEED);
    }

    fn write_usize(&mut self, word: usize) {
        self.write_u64(word as u64);
    }
}

type Callsites = HashMap<usize, Rc<CallsiteIds>, BuildHasherDefault<FastHasher>>;

/// Slots of the direct-mapped cache in front of the callsite map (a power of two).
const RECENT_SLOTS: usize = 64;

type Recent = [Option<(usize, Rc<CallsiteIds>)>; RECENT_SLOTS];

thread_local! {
    static CALLSITES: RefCell<Callsites> = RefCell::new(Callsites::default());
    /// The callsites this thread used last, one per slot of their address's bits: a
    /// hit is one compare and an `Rc` clone, against a hash and a probe of the map
    /// (about 60 instructions a lookup, counted by callgrind).
    static RECENT: RefCell<Recent> = const { RefCell::new([const { None }; RECENT_SLOTS]) };
}

/// The slot of `key` (a `Metadata` address: aligned, so its low bits are dropped).
fn recent_slot(key: usize) -> usize {
    ((key >> 4) ^ (key >> 10)) & (RECENT_SLOTS - 1)
}

/// The ids of the callsite of `metadata`, from this thread's caches (interned on the
/// first use on this thread). A callsite with a name that could not be interned is not
/// cached: the next use tries again (and counts again).
pub(crate) fn callsite(metadata: &'static Metadata<'static>, stats: &Stats) -> Rc<CallsiteIds> {
    let key = std::ptr::from_ref(metadata) as usize;
    let slot = recent_slot(key);
    // `try_with`/`try_borrow`: a thread being torn down, or a lookup made from within
    // another (never, but a miss is harmless), goes without the cache.
    let recent = RECENT
        .try_with(|recent| {
            let recent = recent.try_borrow().ok()?;
            match &recent[slot] {
                Some((cached, ids)) if *cached == key => Some(Rc::clone(ids)),
                _ => None,
            }
        })
        .ok()
        .flatten();
    if let Some(ids) = recent {
        return ids;
    }
    let (ids, complete) = callsite_listed(key, metadata, stats);
    if complete {
        let _ = RECENT.try_with(|recent| {
            if let Ok(mut recent) = recent.try_borrow_mut() {
                recent[slot] = Some((key, Rc::clone(&ids)));
            }
        });
    }
    ids
}

/// [`callsite`] through the map of every callsite this thread used; `false` with ids
/// that could not all be interned (not cached).
#[cold]
#[inline(never)]
fn callsite_listed(
    key: usize,
    metadata: &'static Metadata<'static>,
    stats: &Stats,
) -> (Rc<CallsiteIds>, bool) {
    let cached = CALLSITES
        .try_with(|callsites| {
            callsites
                .try_borrow()
                .ok()
                .and_then(|callsites| callsites.get(&key).cloned())
        })
        .ok()
        .flatten();
    if let Some(ids) = cached {
        return (ids, true);
    }
    let (ids, complete) = CallsiteIds::new(metadata, stats);
    let ids = Rc::new(ids);
    if complete {
        let _ = CALLSITES.try_with(|callsites| {
            if let Ok(mut callsites) = callsites.try_borrow_mut() {
                callsites.insert(key, Rc::clone(&ids));
            }
        });
    }
    (ids, complete)
}

/// Slots of the string cache (a power of two: the index is the hash's top bits).
const STRING_SLOTS: usize = 256;

type Strings = Vec<Option<(Box<str>, u32)>>;

thread_local! {
    static STRINGS: RefCell<Strings> = const { RefCell::new(Vec::new()) };
}

/// The id of `value` in the process-wide name table, from this thread's cache when it
/// saw the string recently.
///
/// # Errors
/// As [`ada::names::intern`]: the table is full, or the string too long.
pub(crate) fn intern(value: &str) -> Result<u32, NameError> {
    let mut hasher = FastHasher::default();
    hasher.write(value.as_bytes());
    // The top bits: the multiply spreads every input bit there.
    let slot = (hasher.finish() >> (64 - STRING_SLOTS.trailing_zeros())) as usize;
    let hit = STRINGS
        .try_with(|strings| {
            let strings = strings.try_borrow().ok()?;
            match strings.get(slot) {
                Some(Some((cached, id))) if **cached == *value => Some(*id),
                _ => None,
            }
        })
        .ok()
        .flatten();
    if let Some(id) = hit {
        return Ok(id);
    }
    let id = names::intern(value)?.get();
    let _ = STRINGS.try_with(|strings| {
        if let Ok(mut strings) = strings.try_borrow_mut() {
            if strings.is_empty() {
                strings.resize(STRING_SLOTS, None);
            }
            strings[slot] = Some((value.into(), id));
        }
    });
    Ok(id)
}
