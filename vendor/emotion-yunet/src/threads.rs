//! Detection on several threads with the same results (added in the `emotion-yunet` fork).
//!
//! Every output pixel of a layer is computed by the same code from the same inputs whichever
//! thread computes it, so splitting a layer's output rows into bands changes nothing in the
//! result. The thread count of the detection running on the calling thread is kept in a
//! thread-local set by [`crate::Detector`] for the length of one call, so the layer functions keep
//! upstream's signatures.

use std::cell::Cell;

use crate::blob::BlobViewMut;

/// Layers with fewer output values than this run on one thread: spawning a thread costs about
/// as much as computing this many values.
const MIN_VALUES_PER_SPLIT: usize = 32 * 1024;

thread_local! {
    static THREADS: Cell<usize> = const { Cell::new(1) };
}

/// Runs `f` with layers split over up to `threads` threads (the calling thread included).
pub(crate) fn with_threads<R>(threads: usize, f: impl FnOnce() -> R) -> R {
    struct Restore(usize);
    impl Drop for Restore {
        fn drop(&mut self) {
            THREADS.with(|t| t.set(self.0));
        }
    }
    let _restore = Restore(THREADS.with(|t| t.replace(threads.max(1))));
    f()
}

/// Calls `f(first_row, band)` for bands of consecutive output rows covering `output`, on up to
/// the current thread count (scoped threads, joined before it returns; the first band runs on
/// the calling thread).
pub(crate) fn for_row_bands<'a>(
    output: BlobViewMut<'a>,
    f: impl Fn(usize, BlobViewMut<'_>) + Sync,
) {
    let threads = THREADS.with(Cell::get);
    let rows = output.rows();
    let values = rows * output.cols() * output.channel_step();
    let bands = threads.min(rows).min(values / MIN_VALUES_PER_SPLIT).max(1);
    if bands <= 1 {
        f(0, output);
        return;
    }
    let band_rows = rows.div_ceil(bands);
    let mut parts = output.into_row_bands(band_rows).into_iter();
    let first = parts.next();
    std::thread::scope(|scope| {
        for (index, band) in parts.enumerate() {
            let f = &f;
            scope.spawn(move || f((index + 1) * band_rows, band));
        }
        if let Some(band) = first {
            f(0, band);
        }
    });
}
