//! `--jobs`: work on several files at once and hand the results back in input order.
//!
//! Worker threads take item indices from a shared queue; the calling thread feeds that queue,
//! puts finished results back in order and emits them. Memory stays bounded whatever the number
//! of items: at most `2 * jobs` items are started and not yet emitted (the ones being worked on
//! plus the finished ones waiting for a slower predecessor), so a folder of a million images
//! holds a handful of decoded images, not all of them.

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::sync::mpsc;
use std::sync::{Mutex, PoisonError};

/// The number of jobs `--jobs` asks for: 0 means one per available core.
pub fn resolve(jobs: usize) -> usize {
    if jobs == 0 {
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    } else {
        jobs
    }
}

/// Runs `work(i)` for every `i` in `0..count` on `jobs` threads and calls `emit(i, result)` on
/// the calling thread in increasing `i`. `finished()` is called by the worker as soon as an item
/// is done (for a progress bar counting finished items, whatever their order). `emit` returning
/// `Break` stops the run: no new item starts, and the items already started are discarded.
pub fn run_ordered<R, W, E>(count: usize, jobs: usize, work: W, finished: impl Fn() + Sync, mut emit: E)
where
    R: Send,
    W: Fn(usize) -> R + Sync,
    E: FnMut(usize, R) -> ControlFlow<()>,
{
    let jobs = jobs.clamp(1, count.max(1));
    // Items started and not yet emitted; twice the jobs keeps every worker busy while one
    // slow item holds back the output.
    let window = 2 * jobs;
    let (task_tx, task_rx) = mpsc::channel::<usize>();
    let task_rx = Mutex::new(task_rx);
    let (done_tx, done_rx) = mpsc::channel::<(usize, R)>();
    std::thread::scope(|s| {
        for _ in 0..jobs {
            let (task_rx, done_tx, work, finished) = (&task_rx, done_tx.clone(), &work, &finished);
            s.spawn(move || loop {
                // The lock is held only while waiting for the next index, never during work.
                let next = task_rx.lock().unwrap_or_else(PoisonError::into_inner).recv();
                let Ok(i) = next else { break };
                let result = work(i);
                finished();
                if done_tx.send((i, result)).is_err() {
                    break; // the run was stopped
                }
            });
        }
        drop(done_tx);

        let mut task_tx = Some(task_tx);
        let (mut next_start, mut next_emit) = (0, 0);
        let mut waiting = BTreeMap::new();
        'run: while next_emit < count {
            while next_start < count && next_start < next_emit + window {
                if let Some(tx) = &task_tx {
                    // Cannot fail: the workers hold the receiver until the queue is closed.
                    let _ = tx.send(next_start);
                }
                next_start += 1;
            }
            if next_start == count {
                task_tx = None; // lets idle workers exit
            }
            // Err only if every worker is gone, which only a panic in `work` can cause; the
            // scope then re-raises that panic.
            let Ok((i, result)) = done_rx.recv() else { break };
            waiting.insert(i, result);
            while let Some(result) = waiting.remove(&next_emit) {
                let flow = emit(next_emit, result);
                next_emit += 1;
                if flow.is_break() {
                    break 'run;
                }
            }
        }
        // Stop: workers see the closed queue or, after their current item, the closed results.
        drop(task_tx);
        drop(done_rx);
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[test]
    fn emits_in_input_order_whatever_the_finishing_order() {
        for jobs in [1, 2, 3, 8] {
            let mut seen = Vec::new();
            // Early items are the slowest, so they finish after later ones.
            let work = |i: usize| {
                std::thread::sleep(Duration::from_millis(((20 - i % 20) / 4) as u64));
                i * 10
            };
            run_ordered(50, jobs, work, || {}, |i, r| {
                assert_eq!(r, i * 10);
                seen.push(i);
                ControlFlow::Continue(())
            });
            assert_eq!(seen, (0..50).collect::<Vec<_>>(), "jobs = {jobs}");
        }
    }

    #[test]
    fn at_most_two_items_per_job_are_in_flight() {
        let started = AtomicUsize::new(0);
        let emitted = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        let work = |i: usize| {
            let in_flight = started.fetch_add(1, Ordering::SeqCst) + 1 - emitted.load(Ordering::SeqCst);
            most.fetch_max(in_flight, Ordering::SeqCst);
            // Item 0 is slow: everything after it must wait in the reorder buffer.
            std::thread::sleep(Duration::from_millis(if i == 0 { 50 } else { 1 }));
        };
        run_ordered(200, 3, work, || {}, |_, ()| {
            emitted.fetch_add(1, Ordering::SeqCst);
            ControlFlow::Continue(())
        });
        assert_eq!(started.load(Ordering::SeqCst), 200);
        assert!(most.load(Ordering::SeqCst) <= 6, "{} items in flight", most.load(Ordering::SeqCst));
    }

    #[test]
    fn counts_every_finished_item_and_stops_on_break() {
        let finished = AtomicUsize::new(0);
        run_ordered(30, 2, |i| i, || { finished.fetch_add(1, Ordering::SeqCst); }, |_, _| ControlFlow::Continue(()));
        assert_eq!(finished.load(Ordering::SeqCst), 30);

        let started = AtomicUsize::new(0);
        let mut emitted = 0;
        run_ordered(1000, 2, |_| { started.fetch_add(1, Ordering::SeqCst); }, || {}, |i, ()| {
            emitted += 1;
            if i == 4 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
        });
        assert_eq!(emitted, 5);
        assert!(started.load(Ordering::SeqCst) <= 5 + 4 + 2, "{} started after the stop", started.load(Ordering::SeqCst));
    }

    #[test]
    fn no_items_and_more_jobs_than_items() {
        run_ordered(0, 4, |_| unreachable!(), || {}, |_, ()| unreachable!());
        let mut seen = Vec::new();
        run_ordered(2, 16, |i| i, || {}, |i, r| { seen.push((i, r)); ControlFlow::Continue(()) });
        assert_eq!(seen, [(0, 0), (1, 1)]);
    }

    #[test]
    fn zero_means_every_core() {
        assert!(resolve(0) >= 1);
        assert_eq!(resolve(3), 3);
    }
}
