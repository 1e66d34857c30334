//! Which of the engine's two builds runs, and — in the relaxed-SIMD build — which kernel gets
//! 8-bit weights on this machine.
//!
//! assets/kernels.js chooses the build before any wasm loads and leaves its findings in
//! `window.quantlabBuild`; this module reads them for the page. The kernels themselves decide
//! per matrix (`quantlab_kernels::Layout`): in the relaxed build weights of up to 7 bits always
//! take the 8-bit dot product (one dot per 16 multiply-adds instead of two 16-bit ones), while
//! 8-bit weights need the activation's sign moved onto them first, which only pays where the
//! engine's dot product is fast (AVX-VNNI, ARM's dot-product instructions). So
//! [`choose_w8_kernel`] times both kernels on a small GEMM at start-up and keeps the faster.

use leptos::prelude::*;
use wasm_bindgen::JsValue;

use super::dom;
use quantlab_app::bench::{runs_per_sample, Spread};
use quantlab_engine::kernels::{self, set_prefer_relaxed_w8, W8Probe};

/// What the page knows about the build it runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BuildInfo {
    /// This module's int8 kernels use relaxed SIMD.
    pub relaxed_running: bool,
    /// The browser's engine computes relaxed SIMD's 8-bit dot product exactly.
    pub relaxed_supported: bool,
    /// The link asked for SIMD128 (`kernels=simd128`).
    pub forced_simd128: bool,
    /// The relaxed build was chosen but did not start, so SIMD128 runs.
    pub relaxed_failed: bool,
}

fn flag(obj: &JsValue, key: &str) -> bool {
    js_sys::Reflect::get(obj, &JsValue::from_str(key))
        .ok()
        .and_then(|v| v.as_bool())
        .unwrap_or(false)
}

pub fn build_info() -> BuildInfo {
    let relaxed_running = kernels::relaxed_available();
    let Some(obj) = dom::window()
        .and_then(|w| js_sys::Reflect::get(&w, &JsValue::from_str("quantlabBuild")).ok())
        .filter(|v| v.is_object())
    else {
        return BuildInfo {
            relaxed_running,
            relaxed_supported: relaxed_running,
            ..BuildInfo::default()
        };
    };
    let fallback = js_sys::Reflect::get(&obj, &JsValue::from_str("fallbackError"))
        .ok()
        .is_some_and(|v| v.is_string());
    BuildInfo {
        relaxed_running,
        relaxed_supported: relaxed_running || flag(&obj, "relaxed"),
        forced_simd128: flag(&obj, "forced"),
        relaxed_failed: fallback,
    }
}

/// The start-up timing of the two kernels for 8-bit weights (ms per run, median of batches).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct W8Choice {
    pub simd128_ms: f64,
    pub relaxed_ms: f64,
    pub relaxed: bool,
}

thread_local! {
    // A signal, so the page shows the choice once the start-up timing is done.
    static W8: ArcRwSignal<Option<W8Choice>> = ArcRwSignal::new(None);
}

/// The choice [`choose_w8_kernel`] made, once it ran (never in the SIMD128 build); tracked.
pub fn w8_choice() -> Option<W8Choice> {
    W8.with(|w| w.get())
}

/// How much faster the relaxed kernel must be to take 8-bit weights (noise is not a reason).
const W8_MARGIN: f64 = 0.95;

/// Times an int8 GEMM of MiniLM's attention shape (64×384×384) with 8-bit weights packed for
/// each kernel, alternating, in batches of ≥ 5 ms, and packs 8-bit weights for relaxed SIMD from
/// now on only if its median is clearly lower. Runs once, ~50 ms, in the relaxed build only.
pub fn choose_w8_kernel() {
    if !kernels::relaxed_available() || W8.with(|w| w.get_untracked().is_some()) {
        return;
    }
    let Ok(mut probe) = W8Probe::new() else {
        return;
    };
    let mut run = |quads: bool| probe.run(quads).is_ok();
    // Warm-up (baseline compiler → optimized code) and a per-run estimate.
    let mut fastest = f64::INFINITY;
    for _ in 0..4 {
        for quads in [false, true] {
            let t0 = dom::now_ms();
            if !run(quads) {
                return;
            }
            fastest = fastest.min(dom::now_ms() - t0);
        }
    }
    let batch = runs_per_sample(fastest, 0.1);
    let (mut t_pairs, mut t_quads) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        for (quads, times) in [(false, &mut t_pairs), (true, &mut t_quads)] {
            let t0 = dom::now_ms();
            for _ in 0..batch {
                run(quads);
            }
            times.push((dom::now_ms() - t0) / batch as f64);
        }
    }
    let (Some(sp), Some(sq)) = (Spread::of(&t_pairs), Spread::of(&t_quads)) else {
        return;
    };
    let relaxed = sq.median < W8_MARGIN * sp.median;
    set_prefer_relaxed_w8(relaxed);
    W8.with(|w| {
        w.set(Some(W8Choice {
            simd128_ms: sp.median,
            relaxed_ms: sq.median,
            relaxed,
        }))
    });
}
