//! The developer overlay (key D): how long the last update took in the engine and in each
//! chart's redraw. Timings go into a plain thread-local log, not signals, so measuring never
//! triggers more work; the overlay polls it while it is open.

use std::cell::RefCell;
use std::time::Duration;

use leptos::prelude::*;

use super::dom;

#[derive(Default)]
struct Log {
    engine: Vec<(&'static str, f64, f64)>,
    draws: Vec<(&'static str, f64, f64)>,
}

thread_local! {
    static LOG: RefCell<Log> = RefCell::new(Log::default());
}

fn push(list: &mut Vec<(&'static str, f64, f64)>, what: &'static str, ms: f64) {
    let now = dom::now_ms();
    match list.iter_mut().find(|e| e.0 == what) {
        Some(e) => {
            e.1 = ms;
            e.2 = now;
        }
        None => list.push((what, ms, now)),
    }
}

/// Records an engine computation (call with the elapsed milliseconds).
pub fn record_engine(what: &'static str, ms: f64) {
    LOG.with(|l| push(&mut l.borrow_mut().engine, what, ms));
}

pub fn record_draw(chart: &'static str, ms: f64) {
    LOG.with(|l| push(&mut l.borrow_mut().draws, chart, ms));
}

/// Runs `f`, records its duration under `what`, returns its result.
pub fn time<T>(what: &'static str, f: impl FnOnce() -> T) -> T {
    let t0 = dom::now_ms();
    let out = f();
    record_engine(what, dom::now_ms() - t0);
    out
}

fn snapshot() -> String {
    LOG.with(|l| {
        let l = l.borrow();
        let newest = l
            .engine
            .iter()
            .chain(l.draws.iter())
            .map(|e| e.2)
            .fold(0.0, f64::max);
        // "The last update": everything recorded within 50 ms of the newest entry.
        let recent = |e: &&(&str, f64, f64)| newest - e.2 < 50.0;
        let mut out = String::new();
        let mut total = 0.0;
        for (kind, list) in [("engine", &l.engine), ("draw", &l.draws)] {
            for e in list.iter().filter(recent) {
                out.push_str(&format!("{kind} {:<22} {:>7.2} ms\n", e.0, e.1));
                total += e.1;
            }
        }
        out.push_str(&format!("last update total      {total:>7.2} ms"));
        out
    })
}

/// The timings as text for the measurement script (`scripts/perf.mjs`): every entry ever
/// recorded, "kind name ms" per line.
#[wasm_bindgen::prelude::wasm_bindgen(js_name = quantlabPerfLog)]
pub fn perf_log() -> String {
    LOG.with(|l| {
        let l = l.borrow();
        let mut out = String::new();
        for (kind, list) in [("engine", &l.engine), ("draw", &l.draws)] {
            for e in list {
                out.push_str(&format!("{kind}\t{}\t{}\n", e.0, e.1));
            }
        }
        out
    })
}

#[component]
pub fn PerfOverlay(open: RwSignal<bool>) -> impl IntoView {
    let text = RwSignal::new(String::new());
    let handle = set_interval_with_handle(
        move || {
            if open.get_untracked() {
                text.set(snapshot());
            }
        },
        Duration::from_millis(250),
    )
    .ok();
    on_cleanup(move || {
        if let Some(h) = handle {
            h.clear();
        }
    });
    view! {
        <Show when=move || open.get()>
            <pre class="perf-overlay" data-testid="perf-overlay">{move || text.get()}</pre>
        </Show>
    }
}
