//! Long computations (curves over many ranges, sweeps, training, benchmarks) run in slices of a
//! few milliseconds between frames, so the page never freezes. A [`Job`] is cancellable:
//! starting it again, calling [`Job::cancel`], or leaving the chapter (the owner is disposed)
//! stops the previous run before its next slice — never two runs at once.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use leptos::prelude::*;

use super::dom;

/// Work per slice: leaves most of a 16 ms frame for input handling and drawing.
pub const SLICE_MS: f64 = 8.0;

#[derive(Clone, Copy)]
pub struct Job {
    generation: StoredValue<u64>,
    /// `Some((done, total))` while running.
    pub progress: RwSignal<Option<(usize, usize)>>,
}

impl Job {
    pub fn new() -> Self {
        Job {
            generation: StoredValue::new(0),
            progress: RwSignal::new(None),
        }
    }

    pub fn running(&self) -> bool {
        self.progress.with(|p| p.is_some())
    }

    pub fn cancel(&self) {
        self.generation.update_value(|g| *g += 1);
        self.progress.set(None);
    }

    /// Runs `step(i)` for i in 0..total, a slice of at most [`SLICE_MS`] per macrotask, then
    /// `finish()`. A newer `start` or `cancel` stops this run between steps.
    pub fn start(
        &self,
        total: usize,
        step: impl FnMut(usize) + 'static,
        finish: impl FnOnce() + 'static,
    ) {
        self.run(total, step, finish, false);
    }

    fn run(
        &self,
        total: usize,
        step: impl FnMut(usize) + 'static,
        finish: impl FnOnce() + 'static,
        defer: bool,
    ) {
        self.generation.update_value(|g| *g += 1);
        let my_gen = self.generation.get_value();
        let job = *self;
        job.progress.set(Some((0, total)));
        let next = Rc::new(Cell::new(0usize));
        let finish = Rc::new(Cell::new(Some(finish)));
        fn tick(
            job: Job,
            my_gen: u64,
            total: usize,
            next: Rc<Cell<usize>>,
            step: Rc<std::cell::RefCell<dyn FnMut(usize)>>,
            finish: Rc<Cell<Option<impl FnOnce() + 'static>>>,
        ) {
            // A disposed owner (chapter left) or a newer run ends this one.
            if job.generation.try_get_value() != Some(my_gen) {
                return;
            }
            let t0 = dom::now_ms();
            while next.get() < total {
                let i = next.get();
                (step.borrow_mut())(i);
                next.set(i + 1);
                if dom::now_ms() - t0 > SLICE_MS {
                    break;
                }
            }
            if next.get() >= total {
                job.progress.try_set(None);
                if let Some(f) = finish.take() {
                    f();
                }
            } else {
                job.progress.try_set(Some((next.get(), total)));
                set_timeout(
                    move || tick(job, my_gen, total, next, step, finish),
                    Duration::from_millis(0),
                );
            }
        }
        let step: Rc<std::cell::RefCell<dyn FnMut(usize)>> = Rc::new(std::cell::RefCell::new(step));
        if defer {
            set_timeout(
                move || tick(job, my_gen, total, next, step, finish),
                Duration::from_millis(0),
            );
        } else {
            // The first slice runs right away: short jobs then finish within the same update.
            tick(job, my_gen, total, next, step, finish);
        }
    }
}

impl Job {
    /// A sliced computation that carries a state between its steps: `step(&mut state, i)` for
    /// i in 0..total, then `finish(state)` once. The state lives in the job, so a chapter needs
    /// no `Rc<RefCell<…>>` of its own; a newer run or a cancel drops it unfinished.
    pub fn fold<S: 'static>(
        &self,
        init: S,
        total: usize,
        step: impl FnMut(&mut S, usize) + 'static,
        finish: impl FnOnce(S) + 'static,
    ) {
        self.fold_with(init, total, step, finish, false);
    }

    /// As [`Job::fold`], but even the first slice waits for a later macrotask: when every
    /// input event of a slider drag restarts heavy work, the events already queued cancel it
    /// before it begins, and only the newest position is computed.
    pub fn fold_deferred<S: 'static>(
        &self,
        init: S,
        total: usize,
        step: impl FnMut(&mut S, usize) + 'static,
        finish: impl FnOnce(S) + 'static,
    ) {
        self.fold_with(init, total, step, finish, true);
    }

    fn fold_with<S: 'static>(
        &self,
        init: S,
        total: usize,
        mut step: impl FnMut(&mut S, usize) + 'static,
        finish: impl FnOnce(S) + 'static,
        defer: bool,
    ) {
        let state = Rc::new(std::cell::RefCell::new(Some(init)));
        let into = state.clone();
        self.run(
            total,
            move |i| {
                if let Some(s) = into.borrow_mut().as_mut() {
                    step(s, i);
                }
            },
            move || {
                if let Some(s) = state.take() {
                    finish(s);
                }
            },
            defer,
        );
    }

    /// The common shape of a sliced computation: `out` is emptied, `step(i)` runs for each i in
    /// slices, its `Some` results are kept in order, and `out` is set once at the end, so a chart
    /// of the results redraws once rather than once per point. A newer run or a cancel drops
    /// the unfinished results.
    pub fn collect<T: Clone + Send + Sync + 'static>(
        &self,
        total: usize,
        mut step: impl FnMut(usize) -> Option<T> + 'static,
        out: RwSignal<Vec<T>>,
    ) {
        out.set(Vec::new());
        self.fold(
            Vec::with_capacity(total),
            total,
            move |acc, i| acc.extend(step(i)),
            move |acc| {
                out.try_set(acc);
            },
        );
    }
}

/// Runs `slice` now, then again on later macrotasks for as long as it returns `true`: for
/// engines that budget their own slices (the QAT trainer's `run_for`, one learning step).
/// `slice` reads its own stop signal with `try_get` (a left chapter ends it) and returns
/// `false` when done, paused or failed.
pub fn repeat(slice: impl FnMut() -> bool + 'static) {
    fn go(mut slice: Box<dyn FnMut() -> bool>) {
        if slice() {
            set_timeout(move || go(slice), Duration::from_millis(0));
        }
    }
    go(Box::new(slice));
}

impl Default for Job {
    fn default() -> Self {
        Self::new()
    }
}
