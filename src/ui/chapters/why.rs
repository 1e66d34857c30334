//! Chapter 1, "Why quantize?": smaller (model sizes computed from the architectures, with the
//! scale/zero-point overhead of each granularity) and faster (int8 vs f32 matrix multiplication
//! benchmarked live in the reader's browser with the engine's SIMD128 kernels).

use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue};

use super::quant_common::fmt_bytes;
use crate::ui::dom;
use crate::ui::job::Job;
use crate::ui::kernels::{build_info, w8_choice};
use crate::ui::state::use_app;
use crate::ui::widgets::chart::{Area, ChartTheme};
use crate::ui::widgets::plot::bar_chart;
use crate::ui::widgets::{Chart, Segmented};
use quantlab_app::bench::{
    runs_per_sample, timer_resolution, Spread, MIN_SAMPLE_MS, SAMPLES, WARM_UP_MS,
};
use quantlab_app::i18n::Msg;
use quantlab_app::models::{model_bytes, overhead_bits_per_weight, Model, ScaleGranularity};
use quantlab_app::urlstate::KernelChoice;
use quantlab_engine::kernels::{
    self, gemm_f32, gemm_i8, ActGranularity, Layout, PackedF32, PackedI8, QLinear,
};
use quantlab_engine::synth::Pcg32;

/// (M, K, N, label): a real layer, a square one, and matrix–vector (one token at a time).
pub const SHAPES: [(usize, usize, usize, &str); 3] = [
    (128, 384, 1536, "MiniLM FFN"),
    (256, 768, 768, "768²"),
    (1, 2048, 2048, "GEMV"),
];

/// What is timed on each shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    F32,
    /// int8 × int8 → int32, 8-bit weights.
    I8,
    /// The quantized linear layer (quantize, GEMM, dequantize), 8-bit weights.
    W8A8,
    /// The same with 4-bit weights (codes within ±7).
    W4A8,
}

impl Op {
    const ALL: [Op; 4] = [Op::F32, Op::I8, Op::W8A8, Op::W4A8];
    fn name(self) -> &'static str {
        match self {
            Op::F32 => "f32 GEMM",
            Op::I8 => "int8 GEMM (i8·i8→i32)",
            Op::W8A8 => "int8 linear W8A8 (quantize + GEMM + dequantize)",
            Op::W4A8 => "int8 linear W4A8",
        }
    }
}

/// Which kernel reads the int8 weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Path {
    /// SIMD128: weights widened to 16 bits, `i32x4.dot_i16x8_s` (f32: `f32x4.mul` + `add`).
    Simd128,
    /// Relaxed SIMD's 8-bit dot product (relaxed build only).
    Relaxed,
}

impl Path {
    fn name(self) -> &'static str {
        match self {
            Path::Simd128 => "SIMD128",
            Path::Relaxed => "relaxed SIMD",
        }
    }

    /// The packing its kernel reads, for weights of `op`.
    fn layout(self, op: Op) -> Layout {
        match (self, op) {
            (Path::Simd128, _) | (Path::Relaxed, Op::F32) => Layout::Pairs,
            (Path::Relaxed, Op::W4A8) => Layout::Offset64,
            (Path::Relaxed, _) => Layout::Quads,
        }
    }

    /// The path this build uses for `op` (what the rest of the app runs).
    fn used_for(op: Op) -> Path {
        let w8_relaxed = kernels::prefer_relaxed_w8();
        match op {
            _ if !kernels::relaxed_available() => Path::Simd128,
            Op::F32 => Path::Simd128,
            Op::W4A8 => Path::Relaxed,
            Op::I8 | Op::W8A8 if w8_relaxed => Path::Relaxed,
            Op::I8 | Op::W8A8 => Path::Simd128,
        }
    }
}

/// The (op, path) cases of one shape: both paths where this build has both.
fn cases() -> Vec<(Op, Path)> {
    let relaxed = kernels::relaxed_available();
    Op::ALL
        .into_iter()
        .flat_map(|op| {
            let both = relaxed && op != Op::F32;
            [(op, Path::Simd128)]
                .into_iter()
                .chain(both.then_some((op, Path::Relaxed)))
        })
        .collect()
}

#[derive(Clone, Debug, PartialEq)]
pub struct BenchRow {
    shape: usize,
    op: Op,
    path: Path,
    spread: Spread,
    /// Runs per timed batch.
    batch: usize,
}

impl BenchRow {
    fn ops_per_run(&self) -> f64 {
        SHAPES
            .get(self.shape)
            .map(|&(m, k, n, _)| 2.0 * (m * k * n) as f64)
            .unwrap_or(f64::NAN)
    }

    /// GOPS at the median, the slowest and the fastest sample.
    fn gops(&self) -> (f64, f64, f64) {
        self.spread.gops(self.ops_per_run())
    }
}

/// One shape's int8 weights packed for one kernel.
struct Int8Weights {
    path: Path,
    b8: PackedI8,
    w8: QLinear,
    w4: QLinear,
}

/// The prepared operands of one shape (freed when the shape is done), the int8 weights packed
/// for each kernel this build has.
struct Operands {
    m: usize,
    k: usize,
    a: Vec<f32>,
    a8: Vec<i8>,
    bf: PackedF32,
    int8: Vec<Int8Weights>,
    cf: Vec<f32>,
    c32: Vec<i32>,
}

fn prepare(m: usize, k: usize, n: usize, seed: u64) -> Result<Operands, String> {
    let mut r = Pcg32::new(seed);
    let a: Vec<f32> = (0..m * k).map(|_| r.normal() as f32).collect();
    let w: Vec<f32> = (0..k * n).map(|_| (r.normal() * 0.05) as f32).collect();
    // Full 8-bit codes without −128 (symmetric int8, as the quantizer makes them).
    let mut i8s = |len: usize| -> Vec<i8> {
        (0..len)
            .map(|_| ((r.next_u32() % 255) as i32 - 127) as i8)
            .collect()
    };
    let (a8, b8) = (i8s(m * k), i8s(k * n));
    let e = |e: quantlab_engine::kernels::KernelError| e.to_string();
    let (w8, w4) = (
        QLinear::new(&w, k, n, None, 8).map_err(e)?,
        QLinear::new(&w, k, n, None, 4).map_err(e)?,
    );
    let paths: &[Path] = if kernels::relaxed_available() {
        &[Path::Simd128, Path::Relaxed]
    } else {
        &[Path::Simd128]
    };
    let int8 = paths
        .iter()
        .map(|&path| {
            Ok(Int8Weights {
                path,
                b8: PackedI8::pack_with(&b8, k, n, path.layout(Op::I8)).map_err(e)?,
                w8: w8.repacked(path.layout(Op::W8A8)).map_err(e)?,
                w4: w4.repacked(path.layout(Op::W4A8)).map_err(e)?,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(Operands {
        m,
        k,
        bf: PackedF32::pack(&w, k, n).map_err(e)?,
        int8,
        a,
        a8,
        cf: vec![0.0; m * n],
        c32: vec![0; m * n],
    })
}

fn run_case(op: &mut Operands, (what, path): (Op, Path)) -> Result<(), String> {
    let e = |e: quantlab_engine::kernels::KernelError| e.to_string();
    if what == Op::F32 {
        return gemm_f32(&op.a, op.m, op.k, &op.bf, &mut op.cf).map_err(e);
    }
    let Some(w) = op.int8.iter().find(|w| w.path == path) else {
        return Err(format!("this build has no {} kernel", path.name()));
    };
    match what {
        Op::I8 => gemm_i8(&op.a8, op.m, op.k, &w.b8, &mut op.c32).map_err(e),
        _ => {
            let lin = if what == Op::W8A8 { &w.w8 } else { &w.w4 };
            lin.forward(&op.a, op.m, ActGranularity::PerToken, 8, &mut op.cf)
                .map_err(e)
        }
    }
}

/// One step of a benchmark run.
#[derive(Clone, Copy, Debug)]
enum Step {
    /// Make a shape's operands (and free the previous shape's).
    Prepare(usize),
    /// Warm a case up on the current shape and size its batches.
    WarmUp((Op, Path)),
    /// Time one batch.
    Sample(usize, (Op, Path)),
}

fn plan() -> Vec<Step> {
    let cases = cases();
    let mut steps = Vec::new();
    for shape in 0..SHAPES.len() {
        steps.push(Step::Prepare(shape));
        for &case in &cases {
            steps.push(Step::WarmUp(case));
            steps.extend(std::iter::repeat_n(Step::Sample(shape, case), SAMPLES));
        }
    }
    steps
}

/// The clock's resolution here: the smallest step between readings, within ~2 ms of trying.
fn measure_timer_resolution() -> Option<f64> {
    let t0 = dom::now_ms();
    let mut readings = vec![t0];
    while readings.len() < 20_000 && dom::now_ms() - t0 < 2.0 {
        readings.push(dom::now_ms());
    }
    timer_resolution(&readings)
}

fn fmt_gops(v: f64) -> String {
    format!("{v:.1}")
}

fn markdown(rows: &[BenchRow], resolution: Option<f64>) -> String {
    let mut s = String::from(
        "| shape (M×K×N) | operation | kernel | median ms | GOPS (median, slowest–fastest sample) | runs per sample | used |\n|---|---|---|---|---|---|---|\n",
    );
    for r in rows {
        let Some(&(m, k, n, label)) = SHAPES.get(r.shape) else {
            continue;
        };
        let (g, lo, hi) = r.gops();
        s.push_str(&format!(
            "| {m}×{k}×{n} ({label}) | {} | {} | {:.3} | {} ({}–{}) | {} | {} |\n",
            r.op.name(),
            r.path.name(),
            r.spread.median,
            fmt_gops(g),
            fmt_gops(lo),
            fmt_gops(hi),
            r.batch,
            if Path::used_for(r.op) == r.path {
                "yes"
            } else {
                ""
            },
        ));
    }
    s.push_str(&format!(
        "\nkernels: {}; timer resolution {}; {} samples of ≥ {} ms each; measured in {}\n",
        kernels::path_label(),
        resolution
            .map(|r| format!("{r:.3} ms"))
            .unwrap_or_else(|| "unknown".into()),
        SAMPLES,
        MIN_SAMPLE_MS,
        dom::window()
            .and_then(|w| w.navigator().user_agent().ok())
            .unwrap_or_default()
    ));
    s
}

fn copy_to_clipboard(text: &str) -> bool {
    let Some(w) = dom::window() else { return false };
    let Ok(clip) = js_sys::Reflect::get(&w.navigator(), &JsValue::from_str("clipboard")) else {
        return false;
    };
    let Ok(f) = js_sys::Reflect::get(&clip, &JsValue::from_str("writeText")) else {
        return false;
    };
    let Some(f) = f.dyn_ref::<js_sys::Function>() else {
        return false;
    };
    match f
        .call1(&clip, &JsValue::from_str(text))
        .ok()
        .and_then(|p| p.dyn_into::<js_sys::Promise>().ok())
    {
        Some(p) => {
            let ignore = wasm_bindgen::closure::Closure::<dyn FnMut(JsValue)>::new(|_| {});
            let _ = p.catch(&ignore);
            ignore.forget();
            true
        }
        None => false,
    }
}

/// What one benchmark run carries between its slices.
#[derive(Default)]
struct BenchState {
    /// The current shape's matrices, freed before the next shape.
    operands: Option<Operands>,
    /// Runs per batch of the current case, from its warm-up.
    batch: usize,
    /// Per-run times of the current case's samples (ms).
    times: Vec<f64>,
    /// The first error: the run stops there.
    failed: Option<String>,
}

impl BenchState {
    /// One step of the plan; `Some(row)` when a case is complete.
    fn step(&mut self, step: Step, resolution: f64) -> Result<Option<BenchRow>, String> {
        match step {
            Step::Prepare(shape) => {
                self.operands = None; // the previous shape's matrices go first
                let &(m, k, n, _) = SHAPES.get(shape).ok_or("no such shape")?;
                self.operands = Some(prepare(m, k, n, shape as u64 + 1)?);
                Ok(None)
            }
            Step::WarmUp(case) => {
                let op = self.operands.as_mut().ok_or("no operands")?;
                let (t0, mut fastest, mut runs) = (dom::now_ms(), f64::INFINITY, 0);
                while runs < 2 || dom::now_ms() - t0 < WARM_UP_MS {
                    let t = dom::now_ms();
                    run_case(op, case)?;
                    fastest = fastest.min(dom::now_ms() - t);
                    runs += 1;
                }
                self.batch = runs_per_sample(fastest, resolution);
                self.times.clear();
                Ok(None)
            }
            Step::Sample(shape, (op_kind, path)) => {
                let op = self.operands.as_mut().ok_or("no operands")?;
                let t0 = dom::now_ms();
                for _ in 0..self.batch {
                    run_case(op, (op_kind, path))?;
                }
                self.times
                    .push((dom::now_ms() - t0) / self.batch.max(1) as f64);
                if self.times.len() < SAMPLES {
                    return Ok(None);
                }
                let spread = Spread::of(&self.times).ok_or("no valid timing")?;
                self.times.clear();
                Ok(Some(BenchRow {
                    shape,
                    op: op_kind,
                    path,
                    spread,
                    batch: self.batch,
                }))
            }
        }
    }
}

#[component]
pub fn WhyChapter() -> impl IntoView {
    let app = use_app();
    view! {
        <section class="card intro">
            <ul class="bullets">
                <li>{move || app.t(Msg::WhyPoint1)}</li>
                <li>{move || app.t(Msg::WhyPoint2)}</li>
                <li>{move || app.t(Msg::WhyPoint3)}</li>
            </ul>
        </section>
        <SmallerSection/>
        <FasterSection/>
    }
}

/// Model sizes at each precision, and what the scales cost per granularity.
#[component]
fn SmallerSection() -> impl IntoView {
    let app = use_app();
    let model = Memo::new(move |_| Model::of(app.ctl(|c| c.why.model)));
    let draw_sizes = move |area: &Area, th: &ChartTheme| {
        let m = model.get();
        let gb = m.params() > 1_000_000_000;
        let unit = if gb { 1e9 } else { 1e6 };
        let vals: Vec<f64> = [
            (32, ScaleGranularity::PerChannel),
            (16, ScaleGranularity::PerChannel),
            (8, ScaleGranularity::PerChannel),
            (4, ScaleGranularity::PerGroup(128)),
            (4, ScaleGranularity::Mx),
            (4, ScaleGranularity::Nvfp4),
        ]
        .iter()
        .map(|&(b, g)| model_bytes(&m, b, g) as f64 / unit)
        .collect();
        let labels: Vec<String> = ["FP32", "FP16", "INT8", "INT4 (g128)", "MXFP4", "NVFP4"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let unit_name = if gb { "GB" } else { "MB" };
        bar_chart(
            area,
            th,
            &labels,
            &vals,
            &format!("{} ({unit_name})", app.t(Msg::ModelSize)),
            &|v| format!("{v:.1} {unit_name}"),
        )
    };

    let overhead_rows = move || {
        let m = model.get();
        [
            ("per-tensor", ScaleGranularity::PerTensor),
            ("per-channel", ScaleGranularity::PerChannel),
            ("per-group 128", ScaleGranularity::PerGroup(128)),
            ("per-group 32", ScaleGranularity::PerGroup(32)),
            ("MX: E8M0 / 32", ScaleGranularity::Mx),
            ("NVFP4: E4M3 / 16 + FP32", ScaleGranularity::Nvfp4),
        ]
        .into_iter()
        .map(|(name, g)| {
            let ov = overhead_bits_per_weight(&m, g);
            // MX blocks hold 8-bit (MXFP8) or 4-bit (MXFP4) elements; NVFP4 only 4-bit ones.
            let (eight, four) = match g {
                ScaleGranularity::Mx => ("MXFP8", "MXFP4"),
                ScaleGranularity::Nvfp4 => ("", "NVFP4"),
                _ => ("INT8", "INT4"),
            };
            // The format's name, then its size kept on one line (a phone wraps between them).
            let cell = |name: &'static str, bits: u32| {
                view! {
                    <td><span class="fmt-name">{name}</span>" "<span class="nowrap">{fmt_bytes(model_bytes(&m, bits, g) as usize)}</span></td>
                }
            };
            view! {
                <tr data-scales=name>
                    <td>{name}</td>
                    <td>{format!("{ov:.4}")}</td>
                    {if g == ScaleGranularity::Nvfp4 { view! { <td>"—"</td> }.into_any() } else { cell(eight, 8).into_any() }}
                    {cell(four, 4)}
                </tr>
            }
        })
        .collect_view()
    };

    view! {
        <section class="card">
            <h2>{move || app.t(Msg::SmallerTitle)}</h2>
            <Segmented label=Signal::derive(move || app.t(Msg::ModelLabel).to_string())
                value=Signal::derive(move || app.ctl(|c| c.why.model))
                on_change=Callback::new(move |v| app.set_ctl(|c| c.why.model = v))
                testid="model-toggle"/>
            <Chart id="sizes-chart" caption=Signal::derive(move || Msg::SizesCaption.fill(app.lang(), &[model.get().name, &model.get().params().to_string()])) aspect=0.4 draw=draw_sizes/>
            <p class="muted small">{move || app.t(Msg::SizesNote)}</p>
            <div class="table-scroll">
                <table class="data" data-testid="overhead-table">
                    <thead><tr><th>{move || app.t(Msg::Granularity)}</th><th>{move || app.t(Msg::OverheadBits)}</th><th>{move || app.t(Msg::EightBit)}</th><th>{move || app.t(Msg::FourBit)}</th></tr></thead>
                    <tbody>{overhead_rows}</tbody>
                </table>
            </div>
        </section>
    }
}

/// Which kernel path runs, why, and a link to the other one.
#[component]
fn KernelPath() -> impl IntoView {
    let app = use_app();
    let info = build_info();
    let reason = move || {
        let lang = app.lang();
        if info.relaxed_running {
            match w8_choice() {
                Some(c) => Msg::KernelW8Choice.fill(
                    lang,
                    &[
                        &format!("{:.3}", c.relaxed_ms),
                        &format!("{:.3}", c.simd128_ms),
                        if c.relaxed {
                            Msg::KernelW8Relaxed.text(lang)
                        } else {
                            Msg::KernelW8Simd128.text(lang)
                        },
                    ],
                ),
                None => Msg::KernelW8Pending.text(lang).to_string(),
            }
        } else if info.relaxed_failed {
            Msg::KernelWhyFailed.text(lang).to_string()
        } else if info.forced_simd128 && info.relaxed_supported {
            Msg::KernelWhyForced.text(lang).to_string()
        } else {
            Msg::KernelWhyNoRelaxed.text(lang).to_string()
        }
    };
    // A link to the same view on the other path (a new page load: the build is chosen before
    // the app starts).
    let other = move || {
        let mut view = app.view.get();
        let (kernels, label) = if info.relaxed_running {
            (KernelChoice::Simd128, Msg::KernelReloadSimd128)
        } else if info.forced_simd128 && info.relaxed_supported {
            (KernelChoice::Auto, Msg::KernelReloadAuto)
        } else {
            return None;
        };
        view.kernels = kernels;
        Some(view! {
            <a href=view.to_query() data-testid="kernel-switch">{app.t(label)}</a>
        })
    };
    let path = if info.relaxed_running {
        "relaxed"
    } else {
        "simd128"
    };
    view! {
        <p class="kernel-path">
            <strong data-testid="why-kernel-path" data-path=path>
                {move || app.t(if info.relaxed_running { Msg::KernelPathRelaxed } else { Msg::KernelPathSimd128 })}
            </strong>
            " "
            <span class="muted small" data-testid="kernel-reason">{reason}</span>
            " "
            {other}
        </p>
    }
}

/// int8 against f32 matrix products on this machine, on both kernel paths where both run, in
/// slices, with the table to copy.
/// Runs the benchmark's plan, one timed kernel per slice of `job`, a table row per result.
fn run_bench(
    job: Job,
    rows: RwSignal<Vec<BenchRow>>,
    resolution: RwSignal<Option<f64>>,
    copied: RwSignal<Option<bool>>,
    bench_error: RwSignal<Option<String>>,
) {
    rows.set(Vec::new());
    copied.set(None);
    bench_error.set(None);
    let res = measure_timer_resolution();
    resolution.set(res);
    let tick = res.unwrap_or(0.1);
    let steps = plan();
    job.fold(
        BenchState::default(),
        steps.len(),
        move |st, i| {
            let Some(&step) = steps.get(i) else { return };
            if st.failed.is_some() {
                return;
            }
            match st.step(step, tick) {
                Ok(Some(row)) => rows.update(|r| r.push(row)),
                Ok(None) => {}
                Err(e) => {
                    bench_error.set(Some(e.clone()));
                    st.failed = Some(e);
                    st.operands = None;
                }
            }
        },
        |_| {},
    );
}

#[component]
fn FasterSection() -> impl IntoView {
    let app = use_app();
    let rows = RwSignal::new(Vec::<BenchRow>::new());
    let resolution = RwSignal::new(None::<f64>);
    let job = Job::new();
    let copied = RwSignal::new(None::<bool>);
    let bench_error = RwSignal::new(None::<String>);
    let both = kernels::relaxed_available();
    let run = move |_| {
        if job.running() {
            job.cancel();
        } else {
            run_bench(job, rows, resolution, copied, bench_error);
        }
    };

    // One table row per (shape, op), a column per path.
    let table = move || {
        let all = rows.get();
        let mut keys: Vec<(usize, Op)> = Vec::new();
        for r in &all {
            if !keys.contains(&(r.shape, r.op)) {
                keys.push((r.shape, r.op));
            }
        }
        let find = |shape: usize, op: Op, path: Path| {
            all.iter()
                .find(|r| r.shape == shape && r.op == op && r.path == path)
                .cloned()
        };
        keys.into_iter()
            .filter_map(|(shape, op)| {
                let &(m, k, n, label) = SHAPES.get(shape)?;
                let used = Path::used_for(op);
                let f32_ms = find(shape, Op::F32, Path::Simd128).map(|r| r.spread.median);
                let cell = |path: Path| {
                    let r = find(shape, op, path);
                    let class = if r.is_some() && used == path { "gops used" } else { "gops" };
                    let text = r.as_ref().map(|r| {
                        let (g, _, _) = r.gops();
                        format!("{} ±{:.0} %", fmt_gops(g), 100.0 * r.spread.relative_half_range())
                    });
                    let ms = r.map(|r| format!("{:.3} ms", r.spread.median));
                    // No relaxed f32 kernel (relaxed SIMD's fused multiply-add is not deterministic).
                    let pending = if op == Op::F32 && path == Path::Relaxed { "—" } else { "…" };
                    view! {
                        <td class=class data-path=path.name()>
                            {text.unwrap_or_else(|| pending.into())}
                            <span class="cell-sub">{ms}</span>
                        </td>
                    }
                };
                let simd = find(shape, op, Path::Simd128);
                let relaxed = find(shape, op, Path::Relaxed);
                let ratio = match (&simd, &relaxed) {
                    (Some(s), Some(r)) => format!("{:.2}×", s.spread.median / r.spread.median),
                    _ => String::new(),
                };
                let used_ms = find(shape, op, used).map(|r| r.spread.median);
                let speed = match (f32_ms, used_ms) {
                    (Some(f), Some(u)) if op != Op::F32 => format!("{:.2}×", f / u),
                    _ => String::new(),
                };
                Some(view! {
                    <tr>
                        <td>{format!("{m}×{k}×{n} ({label})")}</td>
                        <td>{op.name()}</td>
                        {cell(Path::Simd128)}
                        {both.then(|| view! { {cell(Path::Relaxed)} <td class="ratio">{ratio}</td> })}
                        <td class="speed">{speed}</td>
                    </tr>
                })
            })
            .collect_view()
    };

    view! {
        <section class="card">
            <h2>{move || app.t(Msg::FasterTitle)}</h2>
            <p>{move || app.t(Msg::FasterIntro)}</p>
            <KernelPath/>
            <div class="controls">
                <button type="button" class="tool accent" data-testid="bench-run" on:click=run>
                    {move || if job.running() { app.t(Msg::BenchStop) } else { app.t(Msg::BenchRun) }}
                </button>
                <Show when=move || job.running()>
                    <progress data-testid="bench-progress" max=move || job.progress.get().map(|p| p.1).unwrap_or(1) value=move || job.progress.get().map(|p| p.0).unwrap_or(0)></progress>
                </Show>
                <Show when=move || !rows.with(|r| r.is_empty())>
                    <button type="button" class="tool" data-testid="bench-copy" on:click=move |_| copied.set(Some(copy_to_clipboard(&markdown(&rows.get_untracked(), resolution.get_untracked())))) >
                        {move || app.t(Msg::CopyTable)}
                    </button>
                </Show>
            </div>
            <Show when=move || !rows.with(|r| r.is_empty())>
                <div class="table-scroll">
                    <table class="data bench" data-testid="bench-table">
                        <thead><tr>
                            <th>{move || app.t(Msg::Shape)}</th>
                            <th>{move || app.t(Msg::Operation)}</th>
                            <th>{move || app.t(Msg::ColSimd128)}</th>
                            {both.then(|| view! {
                                <th>{move || app.t(Msg::ColRelaxed)}</th>
                                <th>{move || app.t(Msg::ColRelaxedRatio)}</th>
                            })}
                            <th>{move || app.t(Msg::VsF32)}</th>
                        </tr></thead>
                        <tbody>{table}</tbody>
                    </table>
                </div>
                <p class="muted small" data-testid="bench-timer">{move || {
                    let lang = app.lang();
                    // Browsers keep a fine clock only for cross-origin-isolated pages.
                    let isolated = dom::cross_origin_isolated();
                    let why = if isolated { Msg::BenchTimerIsolated } else { Msg::BenchTimerCoarse };
                    Msg::BenchTimerNote.fill(lang, &[
                        &resolution.get().map(|r| format!("{r:.3}")).unwrap_or_else(|| "?".into()),
                        why.text(lang),
                        &SAMPLES.to_string(),
                        &MIN_SAMPLE_MS.to_string(),
                    ])
                }}</p>
            </Show>
            <Show when=move || copied.get() == Some(false)>
                <textarea class="copy-fallback" readonly rows="8">{move || markdown(&rows.get(), resolution.get())}</textarea>
            </Show>
            <Show when=move || bench_error.with(|e| e.is_some())>
                <p class="control-error" role="alert">{move || bench_error.get().unwrap_or_default()}</p>
            </Show>
            <p class="muted">{move || app.t(Msg::BenchHonest)}</p>
        </section>
    }
}
