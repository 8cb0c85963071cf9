//! Shared by the hand-written benchmarks (`threads`, `detectors`).

use std::time::Instant;

/// Median wall time of `runs` calls of `f`, milliseconds.
pub fn median_ms(mut f: impl FnMut(), runs: usize) -> f64 {
    let mut t: Vec<f64> = (0..runs)
        .map(|_| {
            let t0 = Instant::now();
            f();
            t0.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[runs / 2]
}
