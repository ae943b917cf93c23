//! The thread-local layer: one handle per (thread, registry), made on first use and
//! retired by the thread-local destructor when the thread exits.
//!
//! Each thread keeps a short list of `(registry address, handle)`. The address is a
//! sound key: the entry's handle holds an `Arc` of its registry, so the registry (and
//! its address) outlives the entry. Lookups are a linear scan of that list, which holds
//! one entry per registry the thread writes to (usually one).

use crate::{RegisterError, Registry, ThreadHandle};
use std::any::Any;
use std::cell::RefCell;
use std::sync::Arc;

struct Entry {
    registry: usize,
    handle: Box<dyn Any>,
}

thread_local! {
    static HANDLES: RefCell<Vec<Entry>> = const { RefCell::new(Vec::new()) };
}

pub(crate) fn with<I, D, R>(
    registry: &Arc<Registry<I, D>>,
    f: impl FnOnce(&mut ThreadHandle<I, D>) -> R,
) -> Result<R, RegisterError>
where
    I: Copy + Send + 'static,
    D: Copy + Send + 'static,
{
    let key = Arc::as_ptr(registry) as usize;
    HANDLES
        .try_with(|cell| {
            let Ok(mut entries) = cell.try_borrow_mut() else {
                return Err(RegisterError::LocalUnavailable);
            };
            let position = match entries.iter().position(|entry| entry.registry == key) {
                Some(position) => position,
                None => {
                    let handle = registry.register()?;
                    entries.push(Entry {
                        registry: key,
                        handle: Box::new(handle),
                    });
                    entries.len() - 1
                }
            };
            let handle = entries[position]
                .handle
                .downcast_mut::<ThreadHandle<I, D>>()
                .expect("the entry for a registry holds that registry's handle type");
            Ok(f(handle))
        })
        .unwrap_or(Err(RegisterError::LocalUnavailable))
}
