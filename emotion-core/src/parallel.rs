//! The crate's one way to spread independent pieces of work over threads: scoped threads pulling
//! items from a shared counter, results returned in item order (so the outcome never depends on
//! the thread count or on scheduling).

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::error::{Error, Result};

/// `f` applied to every item on up to `threads` threads (the calling thread counts as one);
/// results in the order of `items`. Items are started in order, so put the longest first.
pub(crate) fn map<T: Sync, R: Send>(items: &[T], threads: usize, f: impl Fn(&T) -> Result<R> + Sync) -> Result<Vec<R>> {
    let workers = threads.min(items.len());
    if workers <= 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(item) = items.get(i) else { break };
            done.push((i, f(item)));
        }
        done
    };
    let mut slots: Vec<Option<Result<R>>> = (0..items.len()).map(|_| None).collect();
    std::thread::scope(|scope| {
        let helpers: Vec<_> = (1..workers).map(|_| scope.spawn(work)).collect();
        let mut all = work();
        for helper in helpers {
            // `f` catches the panics of the code it calls; a panic here would be our own bug.
            match helper.join() {
                Ok(done) => all.extend(done),
                Err(_) => all.push((usize::MAX, Err(Error::Internal("a worker thread panicked".into())))),
            }
        }
        for (i, r) in all {
            match slots.get_mut(i) {
                Some(slot) => *slot = Some(r),
                None => slots.push(Some(r)),
            }
        }
    });
    slots.into_iter().map(|s| s.unwrap_or_else(|| Err(Error::Internal("a work item was not run".into())))).collect()
}
