//! Long computations (curves over many ranges, sweeps, training, benchmarks) run in slices of a
//! few milliseconds between frames, so the page never freezes. A [`Job`] is cancellable:
//! starting it again, calling [`Job::cancel`], or leaving the chapter (the owner is disposed)
//! stops the previous run before its next slice — never two runs at once.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use leptos::prelude::*;
use wasm_bindgen::prelude::*;

use super::dom;

type Task = Box<dyn FnOnce()>;
type Queue = Rc<std::cell::RefCell<std::collections::VecDeque<Task>>>;

thread_local! {
    /// Callbacks waiting for their macrotask, and the channel that wakes them.
    static SOON: std::cell::RefCell<Option<(web_sys::MessagePort, Queue)>> =
        const { std::cell::RefCell::new(None) };
}

/// Runs `f` on a later macrotask, as `setTimeout(f, 0)` would but without the browser's 4 ms
/// clamp for nested timers: a job of 20 slices otherwise waits 80 ms between them. A message
/// to a `MessageChannel` port is a plain task; input events still go first. Falls back to a
/// timer where there is no channel.
pub fn soon(f: impl FnOnce() + 'static) {
    let f: Box<dyn FnOnce()> = Box::new(f);
    let leftover = SOON.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            let Ok(channel) = web_sys::MessageChannel::new() else {
                return Some(f);
            };
            let queue: Queue = Rc::default();
            let q = queue.clone();
            let wake = Closure::<dyn FnMut()>::new(move || {
                let next = q.borrow_mut().pop_front();
                if let Some(f) = next {
                    f();
                }
            });
            channel
                .port1()
                .set_onmessage(Some(wake.as_ref().unchecked_ref()));
            wake.forget(); // lives as long as the page
            *slot = Some((channel.port2(), queue));
        }
        let Some((port, queue)) = slot.as_ref() else {
            return Some(f);
        };
        queue.borrow_mut().push_back(f);
        // A failed post leaves the callback queued for the next message.
        let _ = port.post_message(&JsValue::NULL);
        None
    });
    if let Some(f) = leftover {
        set_timeout(f, Duration::from_millis(0));
    }
}

/// Work per slice: leaves most of a 16 ms frame for input handling and drawing.
pub const SLICE_MS: f64 = 8.0;

/// The longest stretch of back-to-back slices before the browser gets a frame. Slices follow
/// each other as plain tasks ([`soon`]), and Chrome lets a steady stream of tasks delay
/// rendering by up to ~100 ms; a long run (8 sentences of 256 tokens, the methods table)
/// would then update the screen a few times a second.
const FRAME_GAP_MS: f64 = 40.0;

thread_local! {
    /// When slices began running without a frame in between (`None`: a frame came since).
    static BUSY_SINCE: Cell<Option<f64>> = const { Cell::new(None) };
}

/// Schedules the next slice: right away (a task), or after the next frame when slices have
/// kept the main thread for [`FRAME_GAP_MS`]. A hidden tab gets no frames; a timer then
/// continues the work after 100 ms.
fn next_slice(run: impl FnOnce() + 'static) {
    let now = dom::now_ms();
    let since = BUSY_SINCE.with(|b| match b.get() {
        Some(t) => t,
        None => {
            b.set(Some(now));
            // The next frame, whenever it comes, ends the busy stretch.
            request_animation_frame(|| BUSY_SINCE.with(|b| b.set(None)));
            now
        }
    });
    if now - since < FRAME_GAP_MS {
        soon(run);
        return;
    }
    let once: Rc<Cell<Option<Task>>> = Rc::new(Cell::new(Some(Box::new(run))));
    let after_frame = once.clone();
    request_animation_frame(move || {
        BUSY_SINCE.with(|b| b.set(None));
        if let Some(f) = after_frame.take() {
            soon(f);
        }
    });
    set_timeout(
        move || {
            if let Some(f) = once.take() {
                f();
            }
        },
        Duration::from_millis(100),
    );
}

#[derive(Clone, Copy)]
pub struct Job {
    generation: StoredValue<u64>,
    /// `Some((done, total))` while running.
    pub progress: RwSignal<Option<(usize, usize)>>,
    /// A job whose slices go first: while it runs, this one waits.
    yield_to: StoredValue<Option<Job>>,
}

impl Job {
    pub fn new() -> Self {
        Job {
            generation: StoredValue::new(0),
            progress: RwSignal::new(None),
            yield_to: StoredValue::new(None),
        }
    }

    /// A background job that pauses while `first` runs (the model chapter's table of every
    /// method waits for the reader's current setting, so a control change is never queued
    /// behind the table's work).
    pub fn yielding_to(first: Job) -> Self {
        let job = Job::new();
        job.yield_to.set_value(Some(first));
        job
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
            if job.yield_to.try_get_value().flatten().is_some_and(|first| {
                first.progress.try_with_untracked(|p| p.is_some()) == Some(true)
            }) {
                set_timeout(
                    move || tick(job, my_gen, total, next, step, finish),
                    Duration::from_millis(20),
                );
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
                next_slice(move || tick(job, my_gen, total, next, step, finish));
            }
        }
        let step: Rc<std::cell::RefCell<dyn FnMut(usize)>> = Rc::new(std::cell::RefCell::new(step));
        if defer {
            soon(move || tick(job, my_gen, total, next, step, finish));
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
